// Resolution of the URIs jobs and assets name (datastore paths, job outputs, data and model
// assets, blob URLs of this server) to a place in the local blob store.
#include "core/files.hpp"
#include "core/strings.hpp"
#include "local/app.hpp"

namespace amlops::local {

namespace fs = std::filesystem;

// ---------------------------------------------------------------------------------------------
// URI resolution

Resolved App::resolve_uri(const std::string& ws, const std::string& uri_in, int depth) {
  if (depth > 8) return {std::nullopt, "too many indirections resolving " + uri_in};
  std::string uri = uri_in;
  auto q = uri.find('?');
  if (q != std::string::npos && uri.rfind("http", 0) == 0) uri = uri.substr(0, q);
  auto safe = [&](BlobLocation loc) -> Resolved {
    if (!valid_container(loc.container))
      return {std::nullopt, "container '" + loc.container + "' in " + uri_in + " is not allowed"};
    std::string p = loc.path;
    while (!p.empty() && p.back() == '/') p.pop_back();
    if (!p.empty() && !files::is_safe_relative(p))
      return {std::nullopt, "path '" + loc.path + "' in " + uri_in + " is not allowed"};
    for (auto& part : str::split(p, '/'))
      if (part == ".") return {std::nullopt, "path '" + loc.path + "' in " + uri_in + " is not allowed"};
    loc.path = p;
    return {loc, ""};
  };
  auto datastore_container = [&](const std::string& w, const std::string& ds) -> std::optional<std::string> {
    if (!has_workspace(w)) return std::nullopt;
    if (ds == "workspaceblobstore") return blobstore_container(w);
    if (ds == "workspaceartifactstore") return artifact_container(w);
    return user_datastore_container(w, ds);
  };
  const std::string pfx = "azureml://";
  if (uri.rfind(pfx, 0) == 0) {
    std::string rest = uri.substr(pfx.size());
    auto seg = str::split(rest, '/');
    std::string w = ws;
    size_t i = 0;
    if (seg.size() >= 6 && str::iequals(seg[0], "subscriptions") && str::iequals(seg[2], "resourcegroups") &&
        str::iequals(seg[4], "workspaces")) {
      w = workspace_named(seg[5]).value_or(seg[5]);
      i = 6;
    }
    if (seg.size() >= i + 3 && seg[i] == "datastores" && seg[i + 2] == "paths") {
      auto c = datastore_container(w, seg[i + 1]);
      if (!c) return {std::nullopt, "datastore '" + seg[i + 1] + "' not found in workspace " + w};
      std::vector<std::string> tail(seg.begin() + static_cast<long>(i) + 3, seg.end());
      return safe({*c, str::join(tail, "/")});
    }
    if (seg.size() >= i + 3 && seg[i] == "jobs" && seg[i + 2] == "outputs") {
      const std::string& job = seg[i + 1];
      auto row = store_->one("SELECT body FROM jobs WHERE ws=? AND name=?", {w, job});
      if (!row) return {std::nullopt, "job '" + job + "' not found"};
      if (seg.size() >= i + 4 && (seg[i + 3] == "artifacts")) {
        std::vector<std::string> tail;
        if (seg.size() > i + 5 && seg[i + 4] == "paths")
          tail.assign(seg.begin() + static_cast<long>(i) + 5, seg.end());
        else if (seg.size() > i + 4)
          tail.assign(seg.begin() + static_cast<long>(i) + 4, seg.end());
        std::string p = "ExperimentRun/dcid." + job;
        if (!tail.empty()) p += "/" + str::join(tail, "/");
        return safe({artifact_container(w), p});
      }
      if (seg.size() < i + 4) return {std::nullopt, "expected azureml://jobs/<job>/outputs/<output> in " + uri_in};
      const std::string& out = seg[i + 3];
      auto body = json::parse(row->str(0));
      auto out_uri = json::opt_string(body, "/properties/outputs/" + out + "/uri");
      if (!out_uri) return {std::nullopt, "job '" + job + "' has no output '" + out + "'"};
      auto base = resolve_uri(w, *out_uri, depth + 1);
      if (!base.loc) return base;
      if (seg.size() > i + 5 && seg[i + 4] == "paths") {
        std::vector<std::string> tail(seg.begin() + static_cast<long>(i) + 5, seg.end());
        base.loc->path += (base.loc->path.empty() ? "" : "/") + str::join(tail, "/");
        return safe(*base.loc);
      }
      return base;
    }
    if (seg.size() >= 6 && seg[0] == "registries" && seg[2] == "models" && seg[4] == "versions") {
      auto row = store_->one("SELECT body FROM assets WHERE kind='models' AND scope=? AND name=? AND version=?",
                             {"reg/" + seg[1], seg[3], seg[5]});
      if (!row) return {std::nullopt, "model " + seg[3] + ":" + seg[5] + " not found in registry " + seg[1]};
      auto body = json::parse(row->str(0));
      auto mu = json::opt_string(body, "/properties/modelUri");
      if (!mu) return {std::nullopt, "model has no modelUri"};
      return resolve_uri(ws, *mu, depth + 1);
    }
    return {std::nullopt, "unsupported URI " + uri_in};
  }
  if (uri.rfind("azureml:", 0) == 0) {
    // Data or model asset: azureml:name:version, azureml:name@latest or an ARM id.
    std::string ref = uri.substr(8);
    std::string name, version, scope = "ws/" + ws;
    std::vector<std::string> kinds = {"data", "models"};
    if (ref.find('/') != std::string::npos) {
      auto seg = str::split(ref, '/');
      for (size_t k = 0; k + 1 < seg.size(); ++k) {
        if (seg[k] == "data" || seg[k] == "models") {
          name = seg[k + 1];
          kinds = {seg[k]};
        }
        if (seg[k] == "workspaces") scope = "ws/" + seg[k + 1];
        if (seg[k] == "versions") version = seg[k + 1];
      }
    } else if (auto at = ref.find('@'); at != std::string::npos) {
      name = ref.substr(0, at);
    } else if (auto colon = ref.rfind(':'); colon != std::string::npos) {
      name = ref.substr(0, colon);
      version = ref.substr(colon + 1);
    } else {
      name = ref;
    }
    for (auto& kind : kinds) {
      std::optional<SqlRow> row;
      if (version.empty())
        row = store_->one("SELECT body FROM assets WHERE kind=? AND scope=? AND name=? ORDER BY seq DESC LIMIT 1",
                          {kind, scope, name});
      else
        row = store_->one("SELECT body FROM assets WHERE kind=? AND scope=? AND name=? AND version=?",
                          {kind, scope, name, version});
      if (!row) continue;
      auto body = json::parse(row->str(0));
      const char* field = kind == "data" ? "/properties/dataUri" : "/properties/modelUri";
      auto u = json::opt_string(body, field);
      if (!u) return {std::nullopt, "asset '" + ref + "' has no " + std::string(field + 12)};
      return resolve_uri(ws, *u, depth + 1);
    }
    return {std::nullopt, "data or model asset '" + ref + "' not found"};
  }
  if (uri.rfind("http://", 0) == 0 || uri.rfind("https://", 0) == 0) {
    auto scheme_end = uri.find("://") + 3;
    auto slash = uri.find('/', scheme_end);
    if (slash == std::string::npos) return {std::nullopt, "not a blob URL of this server: " + uri_in};
    auto seg = str::split(uri.substr(slash + 1), '/');
    if (seg.size() < 2 || seg[0] != id_.account) return {std::nullopt, "not a blob URL of this server: " + uri_in};
    std::vector<std::string> tail;
    for (size_t k = 2; k < seg.size(); ++k) tail.push_back(str::url_decode(seg[k]));
    return safe({seg[1], str::join(tail, "/")});
  }
  return {std::nullopt, "unsupported URI " + uri_in};
}

}  // namespace amlops::local
