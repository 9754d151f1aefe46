// Computes: AmlCompute records (vmSize, scale settings, identity) with ARM long-running-operation
// semantics. amlops-local runs every job on this machine; a compute's maxNodeCount bounds how many
// jobs naming it run at once (the runner queues the rest).
#include "core/error.hpp"
#include "core/strings.hpp"
#include "core/vm_sizes.hpp"
#include "local/app.hpp"
#include "local/resources.hpp"
#include "local/setup.hpp"

namespace amlops::local {

// ---------------------------------------------------------------------------------------------
// The resources table

namespace {

ResourceRecord record_of(const SqlRow& r) {
  ResourceRecord rec{r.str(0), r.str(1), r.str(2), r.i64(3), r.i64(4), r.i64(5), std::nullopt};
  if (!r.is_null(6)) rec.next_fire = r.i64(6);
  return rec;
}

const char* kColumns = "SELECT name, body, secrets, created, modified, ready_at, next_fire FROM resources ";

}  // namespace

std::optional<ResourceRecord> load_resource(Store& st, const std::string& kind, const std::string& ws,
                                            const std::string& name) {
  auto r = st.one(std::string(kColumns) + "WHERE kind=? AND ws=? AND name=? COLLATE NOCASE", {kind, ws, name});
  if (!r) return std::nullopt;
  return record_of(*r);
}

std::vector<ResourceRecord> list_resources(Store& st, const std::string& kind, const std::string& ws) {
  std::vector<ResourceRecord> out;
  for (auto& r : st.query(std::string(kColumns) + "WHERE kind=? AND ws=? ORDER BY name", {kind, ws}))
    out.push_back(record_of(r));
  return out;
}

void save_resource(Store& st, const std::string& kind, const std::string& ws, const ResourceRecord& r) {
  st.exec(
      "INSERT INTO resources(kind, ws, name, body, secrets, created, modified, ready_at, next_fire) "
      "VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(kind, ws, name) DO UPDATE SET body=excluded.body, "
      "secrets=excluded.secrets, modified=excluded.modified, ready_at=excluded.ready_at, next_fire=excluded.next_fire",
      {kind, ws, r.name, r.body, r.secrets.empty() ? SqlValue{} : SqlValue{r.secrets}, r.created, r.modified,
       r.ready_at, r.next_fire ? SqlValue{*r.next_fire} : SqlValue{}});
}

bool delete_resource(Store& st, const std::string& kind, const std::string& ws, const std::string& name) {
  return st.exec("DELETE FROM resources WHERE kind=? AND ws=? AND name=? COLLATE NOCASE", {kind, ws, name}) > 0;
}

int64_t App::clock_ms() const { return now_ms() + clock_offset_ms_.load(); }

// ---------------------------------------------------------------------------------------------
// Computes

namespace {

const char* kComputeType = "Microsoft.MachineLearningServices/workspaces/computes";
const char* kDefaultVmSize = "Standard_DS3_v2";

int int_field(const json::Value& o, const char* key, int fallback, int min, const std::string& what) {
  if (!o.IsObject() || !o.HasMember(key) || o[key].IsNull()) return fallback;
  const auto& v = o[key];
  std::optional<int64_t> n;
  if (v.IsInt64()) n = v.GetInt64();
  if (v.IsString()) n = str::parse_int(v.GetString());
  if (!n || *n < min || *n > 10000)
    throw ArmError(400, "BadRequest",
                   what + " must be an integer from " + std::to_string(min) + " to 10000, not " + json::dump(v) + ".",
                   "InvalidScaleSettings");
  return static_cast<int>(*n);
}

// The stored compute resource made from a PUT body (validated); `old` is the existing one on update.
json::Document compute_body(const json::Value& req, const json::Document* old, const std::string& id,
                            const std::string& name, const std::string& location) {
  const auto* props = json::find(req, "/properties");
  if (!props || !props->IsObject())
    throw ArmError(400, "BadRequest", "The request body must have a 'properties' object.", "RequestInvalid");
  std::string type = json::opt_string(*props, "/computeType").value_or("");
  if (type != "AmlCompute")
    throw ArmError(400, "BadRequest",
                   "computeType '" + type + "' is not supported by amlops-local (it serves AmlCompute clusters).",
                   "ComputeTypeNotSupported");
  const json::Value empty(rapidjson::kObjectType);
  const json::Value* inner = json::find(*props, "/properties");
  if (!inner || !inner->IsObject()) inner = &empty;
  std::string vm_in = json::opt_string(*inner, "/vmSize").value_or(kDefaultVmSize);
  std::string vm = canonical_vm_size(vm_in);
  if (vm.empty())
    throw ArmError(400, "BadRequest",
                   "The VM size '" + vm_in +
                       "' is not a known Azure VM size (for example Standard_DS3_v2, Standard_D4s_v3, "
                       "Standard_E4s_v3, Standard_NC6s_v3).",
                   "InvalidVmSize");
  if (old)
    if (auto was = json::opt_string(*old, "/properties/properties/vmSize"); was && !str::iequals(*was, vm))
      throw ArmError(400, "BadRequest",
                     "The vmSize of compute '" + name + "' cannot be changed from " + *was + " to " + vm +
                         "; delete the compute and create it again.",
                     "PropertyChangeNotAllowed");
  const json::Value* scale = json::find(*inner, "/scaleSettings");
  if (!scale || !scale->IsObject()) scale = &empty;
  int max_nodes = int_field(*scale, "maxNodeCount", 1, 1, "scaleSettings.maxNodeCount");
  int min_nodes = int_field(*scale, "minNodeCount", 0, 0, "scaleSettings.minNodeCount");
  if (min_nodes > max_nodes)
    throw ArmError(400, "BadRequest",
                   "scaleSettings.minNodeCount (" + std::to_string(min_nodes) + ") is larger than maxNodeCount (" +
                       std::to_string(max_nodes) + ").",
                   "InvalidScaleSettings");
  std::string idle = json::opt_string(*scale, "/nodeIdleTimeBeforeScaleDown").value_or("PT2M");
  try {
    (void)parse_duration(idle);
  } catch (const std::exception&) {
    throw ArmError(400, "BadRequest",
                   "scaleSettings.nodeIdleTimeBeforeScaleDown '" + idle + "' is not an ISO 8601 duration (e.g. PT5M).",
                   "InvalidScaleSettings");
  }
  std::string priority = json::opt_string(*inner, "/vmPriority").value_or("Dedicated");
  if (priority != "Dedicated" && priority != "LowPriority")
    throw ArmError(400, "BadRequest", "vmPriority must be Dedicated or LowPriority, not '" + priority + "'.",
                   "RequestInvalid");

  json::Document d(rapidjson::kObjectType);
  json::Builder b(d.GetAllocator());
  b.set(d, "id", id);
  b.set(d, "name", name);
  b.set(d, "type", kComputeType);
  b.set(d, "location", json::opt_string(req, "/location").value_or(location));
  if (const auto* tags = json::find(req, "/tags"); tags && tags->IsObject())
    b.set(d, "tags", b.copy(*tags));
  else
    b.set(d, "tags", b.obj());
  if (const auto* ident = json::find(req, "/identity"); ident && ident->IsObject()) {
    json::Value i = b.copy(*ident);
    if (json::opt_string(*ident, "/type").value_or("") == "SystemAssigned" && !i.HasMember("principalId"))
      b.set(i, "principalId", guid_from("compute-principal:" + id));
    b.set(d, "identity", std::move(i));
  }
  json::Value p = b.obj();
  b.set(p, "computeType", "AmlCompute");
  b.set(p, "description", json::opt_string(*props, "/description").value_or(""));
  b.set(p, "computeLocation", json::opt_string(req, "/location").value_or(location));
  b.set(p, "disableLocalAuth", json::opt_bool(*props, "/disableLocalAuth").value_or(true));
  b.set(p, "isAttachedCompute", false);
  json::Value ip = b.copy(*inner);
  b.set(ip, "vmSize", vm);
  b.set(ip, "vmPriority", priority);
  if (!ip.HasMember("osType")) b.set(ip, "osType", "Linux");
  json::Value sc = b.obj();
  b.set(sc, "maxNodeCount", max_nodes);
  b.set(sc, "minNodeCount", min_nodes);
  b.set(sc, "nodeIdleTimeBeforeScaleDown", idle);
  b.set(ip, "scaleSettings", std::move(sc));
  if (!ip.HasMember("remoteLoginPortPublicAccess")) b.set(ip, "remoteLoginPortPublicAccess", "Disabled");
  if (!ip.HasMember("enableNodePublicIp")) b.set(ip, "enableNodePublicIp", true);
  if (!ip.HasMember("isolatedNetwork")) b.set(ip, "isolatedNetwork", false);
  b.set(ip, "allocationState", "Steady");
  b.set(ip, "allocationStateTransitionTime", "2026-01-01T00:00:00.000Z");
  json::Value counts = b.obj();
  for (const char* k : {"preparingNodeCount", "runningNodeCount", "idleNodeCount", "unusableNodeCount",
                        "leavingNodeCount", "preemptedNodeCount"})
    b.set(counts, k, 0);
  b.set(ip, "nodeStateCounts", std::move(counts));
  b.set(ip, "currentNodeCount", 0);
  b.set(ip, "targetNodeCount", min_nodes);
  b.set_null(ip, "errors");
  b.set(p, "properties", std::move(ip));
  b.set(d, "properties", std::move(p));
  return d;
}

}  // namespace

void App::seed_computes() {
  // Every workspace starts with one cluster, `cpu-cluster` (the starter project's compute), once:
  // deleting it keeps it deleted.
  for (auto& ws : cfg_.workspaces) {
    store_->setting_or("seeded_compute:" + ws, [&] {
      if (!load_resource(*store_, "compute", ws, "cpu-cluster")) {
        json::Document req(rapidjson::kObjectType);
        json::Builder b(req.GetAllocator());
        json::Value p = b.obj();
        b.set(p, "computeType", "AmlCompute");
        b.set(p, "description", "Built-in cluster of amlops-local (jobs run on this machine)");
        json::Value ip = b.obj();
        b.set(ip, "vmSize", kDefaultVmSize);
        json::Value sc = b.obj();
        b.set(sc, "maxNodeCount", cfg_.max_running_jobs);
        b.set(sc, "minNodeCount", 0);
        b.set(ip, "scaleSettings", std::move(sc));
        b.set(p, "properties", std::move(ip));
        b.set(req, "properties", std::move(p));
        std::string id = workspace_id(ws) + "/computes/cpu-cluster";
        auto d = compute_body(req, nullptr, id, "cpu-cluster", cfg_.location);
        int64_t now = now_ms();
        json::Builder db(d.GetAllocator());
        db.set(d["properties"], "createdOn", ms_iso(now));
        db.set(d["properties"], "modifiedOn", ms_iso(now));
        db.set(d["properties"], "provisioningState", "Succeeded");
        save_resource(*store_, "compute", ws, {"cpu-cluster", json::dump(d), "", now, now, now, std::nullopt});
      }
      return std::string("1");
    });
  }
}

std::optional<int> App::compute_max_nodes(const std::string& ws, const std::string& compute) {
  auto rec = load_resource(*store_, "compute", ws, compute_name(compute));
  if (!rec) return std::nullopt;
  auto d = json::parse(rec->body);
  return static_cast<int>(json::opt_int(d, "/properties/properties/scaleSettings/maxNodeCount").value_or(1));
}

std::string App::job_compute(const std::string& ws, const std::string& body, const std::string& parent) {
  auto d = json::parse(body);
  if (auto c = json::opt_string(d, "/properties/computeId"); c && !c->empty()) return str::to_lower(compute_name(*c));
  if (parent.empty()) return {};
  auto row = store_->one("SELECT body FROM jobs WHERE ws=? AND name=?", {ws, parent});
  if (!row) return {};
  auto pd = json::parse(row->str(0));
  auto c = json::opt_string(pd, "/properties/settings/default_compute");
  if (!c || c->empty()) c = json::opt_string(pd, "/properties/computeId");
  return str::to_lower(compute_name(c.value_or("")));
}

void App::check_job_computes(const std::string& ws, const json::Value& props) {
  auto check = [&](const json::Value& o, const char* pointer) {
    auto c = json::opt_string(o, pointer);
    if (!c || c->empty()) return;
    if (!compute_max_nodes(ws, *c))
      throw ArmError(400, "UserError",
                     "Compute " + compute_name(*c) + " not found in workspace " + ws +
                         ". Create it first (PUT .../computes/" + compute_name(*c) + ").",
                     "ComputeNotFound");
  };
  check(props, "/computeId");
  check(props, "/settings/default_compute");
  if (const auto* jobs = json::find(props, "/jobs"); jobs && jobs->IsObject())
    for (auto& s : jobs->GetObject())
      if (s.value.IsObject()) check(s.value, "/computeId");
}

void App::add_compute_routes(RouteTable& t, const std::string& ws_path, const WsOf& ws_of) {
  using Req = net::ServerRequest;
  t.add("GET", ws_path + "/computes", [this, ws_of](const Req& req, const RouteMatch& m) {
    auto ws = ws_of(m);
    std::vector<std::string> items;
    for (auto& r : list_resources(*store_, "compute", ws)) items.push_back(r.body);
    return paged(*this, req, items, cfg_.page_size, [&](size_t n) { return page_link(req, n); });
  });
  t.add("GET", ws_path + "/computes/{compute}", [this, ws_of](const Req&, const RouteMatch& m) {
    auto ws = ws_of(m);
    auto rec = load_resource(*store_, "compute", ws, m["compute"]);
    if (!rec)
      throw ArmError(404, "NotFound", "Compute " + m["compute"] + " not found in workspace " + ws + ".",
                     "ComputeNotFound");
    auto d = json::parse(rec->body);
    json::Builder b(d.GetAllocator());
    if (now_ms() < rec->ready_at) b.set(d["properties"], "provisioningState", "Creating");
    // Its nodes are the command processes running on it now.
    int64_t running = 0;
    for (auto& j : store_->query("SELECT body, parent FROM jobs WHERE ws=? AND job_type='Command' AND status IN "
                                 "('Preparing', 'Running', 'Finalizing', 'CancelRequested')",
                                 {ws}))
      running += job_compute(ws, j.str(0), j.str(1)) == str::to_lower(rec->name);
    auto& ip = d["properties"]["properties"];
    b.set(ip, "currentNodeCount", running);
    b.set(ip["nodeStateCounts"], "runningNodeCount", running);
    if (running) b.set(ip, "targetNodeCount", running);
    return json_response(200, d);
  });
  auto put = [this, ws_of](const Req& req, const RouteMatch& m) {
    auto ws = ws_of(m);
    const std::string name = m["compute"];
    require_name("compute name", name);
    if (name.size() < 2 || name.size() > 32)
      throw ArmError(400, "BadRequest", "Compute names are 2 to 32 characters long: '" + name + "'.", "InvalidName");
    auto body = parse_body(req);
    auto existing = load_resource(*store_, "compute", ws, name);
    std::optional<json::Document> old;
    if (existing) old = json::parse(existing->body);
    if (req.method == "PATCH") {
      // ComputeUpdate: {"properties":{"scaleSettings":{...}}} on an existing compute.
      if (!old)
        throw ArmError(404, "NotFound", "Compute " + name + " not found in workspace " + ws + ".", "ComputeNotFound");
      json::Document merged;
      merged.CopyFrom(*old, merged.GetAllocator());
      json::Builder mb(merged.GetAllocator());
      if (const auto* sc = json::find(body, "/properties/scaleSettings"); sc && sc->IsObject())
        mb.set(merged["properties"]["properties"], "scaleSettings", mb.copy(*sc));
      if (const auto* tags = json::find(body, "/tags"); tags && tags->IsObject())
        mb.set(merged, "tags", mb.copy(*tags));
      body.CopyFrom(merged, body.GetAllocator());
    }
    std::string id = workspace_id(ws) + "/computes/" + (existing ? existing->name : name);
    auto d = compute_body(body, old ? &*old : nullptr, id, existing ? existing->name : name, cfg_.location);
    int64_t now = now_ms();
    int64_t created = existing ? existing->created : now;
    json::Builder b(d.GetAllocator());
    b.set(d["properties"], "createdOn", ms_iso(created));
    b.set(d["properties"], "modifiedOn", ms_iso(now));
    b.set(d["properties"], "provisioningState", "Succeeded");
    b.set(d, "systemData", system_data(b, ms_iso(created), ms_iso(now), id_.client_id));
    ResourceRecord rec{existing ? existing->name : name, json::dump(d), "", created, now,
                       now + cfg_.lro_delay.count(),     std::nullopt};
    save_resource(*store_, "compute", ws, rec);
    b.set(d["properties"], "provisioningState", existing ? "Updating" : "Creating");
    std::string op = create_operation("compute:" + ws + "/" + rec.name);
    return lro_accepted(existing ? 200 : 201, op, json::dump(d), true);
  };
  t.add("PUT", ws_path + "/computes/{compute}", put);
  t.add("PATCH", ws_path + "/computes/{compute}", put);
  t.add("DELETE", ws_path + "/computes/{compute}", [this, ws_of](const Req& req, const RouteMatch& m) {
    auto ws = ws_of(m);
    auto action = req.param("underlyingResourceAction").value_or("Delete");
    if (action != "Delete" && action != "Detach")
      throw ArmError(400, "BadRequest", "underlyingResourceAction must be Delete or Detach.", "RequestInvalid");
    if (!delete_resource(*store_, "compute", ws, m["compute"])) {
      net::ServerResponse r;
      r.status = 204;
      return r;
    }
    return lro_accepted(202, create_operation("compute:" + ws + "/" + m["compute"]), "", true);
  });
}

}  // namespace amlops::local
