#include "local/job_util.hpp"

#include "core/strings.hpp"

namespace amlops::local {

std::optional<std::string> member_text(const json::Value& o, const char* k) {
  if (!o.IsObject() || !o.HasMember(k) || o[k].IsNull()) return std::nullopt;
  return json::scalar_text(o[k]);
}

std::optional<std::string> either(const json::Value& o, const char* a, const char* b) {
  if (auto v = member_text(o, a)) return v;
  return member_text(o, b);
}

std::optional<AssetRef> parse_asset_ref(const std::string& ws, const std::string& kind, std::string ref) {
  if (ref.rfind("azureml://registries/", 0) == 0) {
    auto seg = str::split(ref.substr(10), '/');
    // registries R kind N versions V
    if (seg.size() >= 4 && seg[2] == kind) return AssetRef{"reg/" + seg[1], seg[3], seg.size() >= 6 ? seg[5] : ""};
    return std::nullopt;
  }
  if (ref.rfind("azureml:", 0) == 0) ref = ref.substr(8);
  if (ref.find('/') != std::string::npos) {
    auto seg = str::split(ref, '/');
    AssetRef r;
    r.scope = "ws/" + ws;
    for (size_t i = 0; i + 1 < seg.size(); ++i) {
      if (seg[i] == "workspaces") r.scope = "ws/" + seg[i + 1];
      if (seg[i] == "registries") r.scope = "reg/" + seg[i + 1];
      if (seg[i] == kind) r.name = seg[i + 1];
      if (seg[i] == "versions") r.version = seg[i + 1];
    }
    if (r.name.empty()) return std::nullopt;
    return r;
  }
  if (auto at = ref.find('@'); at != std::string::npos) return AssetRef{"ws/" + ws, ref.substr(0, at), ""};
  if (auto c = ref.rfind(':'); c != std::string::npos) return AssetRef{"ws/" + ws, ref.substr(0, c), ref.substr(c + 1)};
  return AssetRef{"ws/" + ws, ref, ""};
}

std::optional<json::Document> load_asset(Store& store, const std::string& kind, const AssetRef& r) {
  std::optional<SqlRow> row;
  if (r.version.empty())
    row = store.one("SELECT body FROM assets WHERE kind=? AND scope=? AND name=? ORDER BY seq DESC LIMIT 1",
                    {kind, r.scope, r.name});
  else
    row = store.one("SELECT body FROM assets WHERE kind=? AND scope=? AND name=? AND version=?",
                    {kind, r.scope, r.name, r.version});
  if (!row) return std::nullopt;
  return json::parse(row->str(0));
}

std::string input_type(const json::Value& in) {
  return either(in, "jobInputType", "job_input_type").value_or(either(in, "type", "type").value_or("literal"));
}
std::string output_type(const json::Value& out) {
  return either(out, "jobOutputType", "job_output_type").value_or(either(out, "type", "type").value_or("uri_folder"));
}

std::string num_text(double d) {
  json::Document doc;
  json::Value v(d);
  return json::scalar_text(v);
}

}  // namespace amlops::local
