// Asset containers (codes, environments, components, models, data) of a workspace or registry:
// a container exists through its versions or through its own PUT, which stores its description,
// tags, properties and (data) dataType. DELETE removes the container with every version. The list
// filters by tag (?tags=k or k=v), like version lists.
#include "core/strings.hpp"
#include "local/app.hpp"
#include "local/resources.hpp"

namespace amlops::local {

namespace {

struct VersionRow {
  std::string version;
  int64_t created, modified;
};

// The container resource from its versions and its stored PUT (either may be missing).
json::Document render_container(const std::string& id, const std::string& name, const std::string& type,
                                const std::vector<VersionRow>& rows, const std::optional<ResourceRecord>& rec,
                                const std::string& who) {
  json::Document d(rapidjson::kObjectType);
  json::Builder b(d.GetAllocator());
  b.set(d, "id", id);
  b.set(d, "name", rec ? rec->name : name);
  b.set(d, "type", type);
  json::Value p = b.obj();
  int64_t max_num = 0;
  std::string latest;
  for (auto& r : rows) {
    latest = r.version;
    if (auto n = str::parse_int(r.version)) max_num = std::max(max_num, *n);
  }
  if (!latest.empty()) b.set(p, "latestVersion", latest);
  b.set(p, "nextVersion", std::to_string(max_num + 1));
  b.set(p, "isArchived", false);
  b.set(p, "description", "");
  b.set(p, "tags", b.obj());
  b.set(p, "properties", b.obj());
  if (rec) {
    auto stored = json::parse(rec->body);
    for (auto& mem : stored.GetObject()) {
      std::string k = mem.name.GetString();
      if (k == "latestVersion" || k == "nextVersion" || k == "provisioningState") continue;
      if ((k == "tags" || k == "properties") && !mem.value.IsObject()) continue;
      b.set(p, k, b.copy(mem.value));
    }
  }
  b.set(d, "properties", std::move(p));
  int64_t created = rec ? rec->created : rows.empty() ? now_ms() : rows.front().created;
  if (!rows.empty()) created = std::min(created, rows.front().created);
  int64_t modified = rec ? rec->modified : created;
  if (!rows.empty()) modified = std::max(modified, rows.back().modified);
  b.set(d, "systemData", system_data(b, ms_iso(created), ms_iso(modified), who));
  return d;
}

}  // namespace

net::ServerResponse App::list_containers(const net::ServerRequest& req, const std::string& scope,
                                         const std::string& kind, const std::string& type) {
  std::map<std::string, std::vector<VersionRow>> names;
  for (auto& r : store_->query(
           "SELECT name, version, created, modified FROM assets WHERE kind=? AND scope=? ORDER BY seq", {kind, scope}))
    names[r.str(0)].push_back({r.str(1), r.i64(2), r.i64(3)});
  std::map<std::string, ResourceRecord> stored;
  for (auto& rec : list_resources(*store_, "container:" + kind, scope)) {
    names.try_emplace(rec.name);
    stored.emplace(rec.name, rec);
  }
  std::string base_id = scope_id(scope) + "/" + kind;
  std::vector<std::string> items;
  for (auto& [name, rows] : names) {
    std::optional<ResourceRecord> rec;
    if (auto it = stored.find(name); it != stored.end()) rec = it->second;
    auto d = render_container(base_id + "/" + name, name, type, rows, rec, id_.client_id);
    if (!matches_filter(json::find(d, "/properties/tags"), req.param("tags").value_or(""))) continue;
    items.push_back(json::dump(d));
  }
  return paged(*this, req, items, cfg_.page_size, [&](size_t n) { return page_link(req, n); });
}

net::ServerResponse App::route_container(const net::ServerRequest& req, const std::string& scope,
                                         const std::string& kind, const std::string& name, const std::string& type,
                                         const std::string& singular) {
  const std::string& m = req.method;
  const std::string ckind = "container:" + kind;
  if (m == "DELETE") {
    auto n = store_->exec("DELETE FROM assets WHERE kind=? AND scope=? AND name=?", {kind, scope, name});
    bool had = delete_resource(*store_, ckind, scope, name);
    net::ServerResponse r;
    r.status = (n || had) ? 200 : 204;
    return r;
  }
  if (m != "GET" && m != "PUT")
    throw ArmError(405, "MethodNotAllowed", "Unsupported method on " + kind + "/" + name + ".");
  auto rec = load_resource(*store_, ckind, scope, name);
  bool existed = rec.has_value();
  if (m == "PUT") {
    auto body = parse_body(req);
    const auto* props = json::find(body, "/properties");
    if (!props || !props->IsObject())
      throw ArmError(400, "UserError", "The request body must have a 'properties' object.", "RequestInvalid");
    int64_t now = now_ms();
    ResourceRecord r{
        existed ? rec->name : name, json::dump(*props), "", existed ? rec->created : now, now, now, std::nullopt};
    save_resource(*store_, ckind, scope, r);
    rec = r;
  }
  std::vector<VersionRow> rows;
  for (auto& r : store_->query("SELECT version, created, modified FROM assets WHERE kind=? AND scope=? AND name=? "
                               "ORDER BY seq",
                               {kind, scope, name}))
    rows.push_back({r.str(0), r.i64(1), r.i64(2)});
  if (m == "GET" && rows.empty() && !rec)
    throw ArmError(404, "UserError", singular + " container with name: " + name + " not found.", singular + "NotFound");
  auto d = render_container(scope_id(scope) + "/" + kind + "/" + name, name, type, rows, rec, id_.client_id);
  return json_response(m == "PUT" && !existed && rows.empty() ? 201 : 200, d);
}

}  // namespace amlops::local
