// ARM control plane: workspace, datastores, assets (codes, environments, components, models,
// data) in workspaces and registries, jobs, long-running operations.
#include <algorithm>
#include <regex>

#include "core/error.hpp"
#include "core/files.hpp"
#include "core/hash.hpp"
#include "core/strings.hpp"
#include "local/app.hpp"
#include "local/endpoints.hpp"
#include "local/external.hpp"
#include "local/resources.hpp"
#include "local/runner.hpp"

namespace amlops::local {

namespace fs = std::filesystem;

json::Value system_data(json::Builder& b, const std::string& created, const std::string& modified,
                        const std::string& who) {
  json::Value s = b.obj();
  b.set(s, "createdAt", created);
  b.set(s, "createdBy", who);
  b.set(s, "createdByType", "Application");
  b.set(s, "lastModifiedAt", modified);
  b.set(s, "lastModifiedBy", who);
  b.set(s, "lastModifiedByType", "Application");
  return s;
}

std::string ms_iso(int64_t ms) {
  return iso8601_utc(std::chrono::system_clock::time_point(std::chrono::milliseconds(ms)), true);
}

json::Document parse_body(const net::ServerRequest& req) {
  if (str::trim(req.body).empty()) throw ArmError(400, "UserError", "The request body is empty.", "RequestInvalid");
  try {
    auto d = json::parse(req.body, "request body");
    if (!d.IsObject()) throw ArmError(400, "UserError", "The request body must be a JSON object.", "RequestInvalid");
    return d;
  } catch (const ConfigError& e) {
    throw ArmError(400, "UserError", e.what(), "RequestInvalid");
  }
}

void require_name(const std::string& what, const std::string& name) {
  if (!valid_name(name))
    throw ArmError(400, "UserError",
                   "Invalid " + what + " '" + name +
                       "': names start with a letter or digit and contain only letters, digits, '-', '_' and '.'.",
                   "InvalidName");
}

// Tag/property filter "k1,k2=v": every listed key must be present (with the value when given).
bool matches_filter(const json::Value* map, const std::string& filter) {
  if (filter.empty()) return true;
  for (auto& item : str::split(filter, ',')) {
    auto t = std::string(str::trim(item));
    if (t.empty()) continue;
    auto kv = str::split_key_value(t);
    std::string key = kv ? kv->first : t;
    if (!map || !map->IsObject() || !map->HasMember(key.c_str())) return false;
    if (kv && json::scalar_text((*map)[key.c_str()]) != kv->second) return false;
  }
  return true;
}

namespace {

const char* kProvider = "Microsoft.MachineLearningServices";

// Accepted api-versions: stable 2022-10-01 .. 2025-12-01, previews of 2022 .. 2026.
bool api_version_ok(const std::string& v) {
  static const std::regex re(R"(^(\d{4}-\d{2}-\d{2})(-preview|-dataplanepreview)?$)");
  std::smatch m;
  if (!std::regex_match(v, m, re)) return false;
  std::string date = m[1];
  if (m[2].matched) return date >= "2021-01-01" && date <= "2026-12-31";
  return date >= "2022-10-01" && date <= "2025-12-01";
}

const char* asset_type(const std::string& scope, const std::string& kind, bool version) {
  static const std::map<std::string, std::pair<const char*, const char*>> ws = {
      {"codes",
       {"Microsoft.MachineLearningServices/workspaces/codes",
        "Microsoft.MachineLearningServices/workspaces/codes/versions"}},
      {"environments",
       {"Microsoft.MachineLearningServices/workspaces/environments",
        "Microsoft.MachineLearningServices/workspaces/environments/versions"}},
      {"components",
       {"Microsoft.MachineLearningServices/workspaces/components",
        "Microsoft.MachineLearningServices/workspaces/components/versions"}},
      {"models",
       {"Microsoft.MachineLearningServices/workspaces/models",
        "Microsoft.MachineLearningServices/workspaces/models/versions"}},
      {"data",
       {"Microsoft.MachineLearningServices/workspaces/data",
        "Microsoft.MachineLearningServices/workspaces/data/versions"}}};
  static const std::map<std::string, std::pair<const char*, const char*>> reg = {
      {"codes",
       {"Microsoft.MachineLearningServices/registries/codes",
        "Microsoft.MachineLearningServices/registries/codes/versions"}},
      {"environments",
       {"Microsoft.MachineLearningServices/registries/environments",
        "Microsoft.MachineLearningServices/registries/environments/versions"}},
      {"components",
       {"Microsoft.MachineLearningServices/registries/components",
        "Microsoft.MachineLearningServices/registries/components/versions"}},
      {"models",
       {"Microsoft.MachineLearningServices/registries/models",
        "Microsoft.MachineLearningServices/registries/models/versions"}},
      {"data",
       {"Microsoft.MachineLearningServices/registries/data",
        "Microsoft.MachineLearningServices/registries/data/versions"}}};
  auto& m = scope.rfind("reg/", 0) == 0 ? reg : ws;
  auto it = m.find(kind);
  if (it == m.end()) return "";
  return version ? it->second.second : it->second.first;
}

// Fields that make a version what it is: a PUT may not change them.
std::vector<const char*> content_fields(const std::string& kind) {
  if (kind == "codes") return {"codeUri"};
  if (kind == "environments") return {"image", "condaFile", "build"};
  if (kind == "models") return {"modelUri"};
  if (kind == "data") return {"dataUri"};
  if (kind == "components") return {"componentSpec"};
  return {};
}

std::string singular(const std::string& kind) {
  if (kind == "codes") return "Code";
  if (kind == "environments") return "Environment";
  if (kind == "components") return "Component";
  if (kind == "models") return "Model";
  return "Data";
}

void copy_tree(const fs::path& from, const fs::path& to) {
  std::error_code ec;
  if (fs::is_directory(from)) {
    fs::create_directories(to);
    fs::copy(from, to, fs::copy_options::recursive | fs::copy_options::overwrite_existing, ec);
  } else if (fs::exists(from)) {
    fs::create_directories(to.parent_path());
    fs::copy_file(from, to, fs::copy_options::overwrite_existing, ec);
  } else {
    throw ArmError(400, "UserError", "The source data does not exist: " + from.filename().string(), "DataNotFound");
  }
  if (ec) throw std::runtime_error("copy failed: " + ec.message());
}

}  // namespace

std::string App::page_link(const net::ServerRequest& req, size_t next_skip) const {
  std::string path = req.target.substr(0, req.target.find('?'));
  std::string q;
  for (auto& [k, v] : req.query) {
    if (k == "$skip" || k == "$skipToken") continue;
    q += (q.empty() ? "" : "&") + str::url_encode(k) + "=" + str::url_encode(v);
  }
  q += (q.empty() ? "" : "&") + std::string("$skip=") + std::to_string(next_skip);
  return base_url_ + path + "?" + q;
}

// Pages a list of rendered items: {"value":[...],"nextLink":...}.
net::ServerResponse paged(App& app, const net::ServerRequest& req, std::vector<std::string> items, int page_size,
                          const std::function<std::string(size_t)>& link) {
  size_t skip = 0;
  if (auto s = req.param("$skip")) skip = static_cast<size_t>(std::max<int64_t>(0, str::parse_int(*s).value_or(0)));
  if (auto s = req.param("$skipToken"))
    skip = static_cast<size_t>(std::max<int64_t>(0, str::parse_int(*s).value_or(0)));
  size_t total = items.size();
  if (auto t = req.param("$top")) {
    auto n = str::parse_int(*t);
    if (!n || *n < 0) throw ArmError(400, "UserError", "$top must be a non-negative integer.", "RequestInvalid");
    total = std::min(total, static_cast<size_t>(*n));
  }
  size_t end = std::min(total, skip + static_cast<size_t>(page_size));
  std::string out = "{\"value\":[";
  for (size_t i = skip; i < end; ++i) {
    if (i > skip) out += ",";
    out += items[i];
  }
  out += "]";
  if (end < total) {
    json::Document d;
    json::Builder b(d.GetAllocator());
    out += ",\"nextLink\":" + json::dump(b.str(link(end)));
  }
  out += "}";
  (void)app;
  return net::ServerResponse::json(200, out);
}

std::string App::create_operation(const std::string& resource) {
  std::string id = new_guid();
  store_->exec("INSERT INTO operations(id, status, resource, created, ready_at) VALUES(?, 'Succeeded', ?, ?, ?)",
               {id, resource, now_ms(), now_ms() + cfg_.lro_delay.count()});
  return id;
}

net::ServerResponse App::lro_accepted(int status, const std::string& op_id, const std::string& body,
                                      bool async_header) {
  std::string base =
      base_url_ + "/subscriptions/" + id_.subscription + "/providers/" + kProvider + "/locations/" + cfg_.location;
  std::string q = "?api-version=2025-12-01";
  net::ServerResponse r = body.empty() ? net::ServerResponse{} : net::ServerResponse::json(status, body);
  r.status = status;
  r.header("Location", base + "/mfeOperationResults/" + op_id + q);
  if (async_header) {
    r.header("Azure-AsyncOperation", base + "/mfeOperationsStatus/" + op_id + q);
    r.header("x-ms-async-operation-timeout", "PT30M");
  }
  r.header("Retry-After", "1");
  return r;
}

net::ServerResponse App::route_operation(const net::ServerRequest& req, const std::string& kind,
                                         const std::string& id) {
  auto row = store_->one("SELECT status, resource, created, ready_at, error FROM operations WHERE id=?", {id});
  if (!row) throw ArmError(404, "NotFound", "Operation " + id + " not found.");
  std::string resource = row->str(1);
  bool done = now_ms() >= row->i64(3);
  // A cancel operation finishes when its job reaches a terminal status.
  if (resource.rfind("job:", 0) == 0) {
    auto slash = resource.find('/', 4);
    auto j = store_->one("SELECT status FROM jobs WHERE ws=? AND name=?",
                         {resource.substr(4, slash - 4), resource.substr(slash + 1)});
    done = done && (!j || Runner::terminal(j->str(0)));
  }
  if (kind == "mfeOperationsStatus") {
    json::Document d(rapidjson::kObjectType);
    json::Builder b(d.GetAllocator());
    b.set(d, "id",
          "/subscriptions/" + id_.subscription + "/providers/" + kProvider + "/locations/" + cfg_.location +
              "/mfeOperationsStatus/" + id);
    b.set(d, "name", id);
    b.set(d, "status", done ? row->str(0) : std::string("InProgress"));
    b.set(d, "startTime", ms_iso(row->i64(2)));
    if (done) b.set(d, "endTime", ms_iso(row->i64(3)));
    if (done && !row->is_null(4)) {  // a failed operation says why (online deployments)
      json::Value err = b.obj();
      b.set(err, "code", row->str(0) == "Canceled" ? "Canceled" : "DeploymentFailed");
      b.set(err, "message", row->str(4));
      b.set(d, "error", std::move(err));
    }
    b.set(d, "percentComplete", done ? 100.0 : 0.0);
    return json_response(200, d);
  }
  if (!done) return lro_accepted(202, id, "", false);
  if (resource.rfind("asset:", 0) == 0) {
    // asset:<kind>|<scope>|<name>|<version>
    auto parts = str::split(resource.substr(6), '|');
    auto a = store_->one("SELECT body FROM assets WHERE kind=? AND scope=? AND name=? AND version=?",
                         {parts[0], parts[1], parts[2], parts[3]});
    if (a) return net::ServerResponse::json(200, a->str(0));
  }
  (void)req;
  net::ServerResponse r;
  r.status = 200;
  return r;
}

net::ServerResponse App::route_arm(const net::ServerRequest& req, const std::vector<std::string>& seg) {
  auto v = req.param("api-version");
  if (!v)
    throw ArmError(400, "MissingApiVersionParameter",
                   "The api-version query parameter (?api-version=) is required for all requests.");
  if (!api_version_ok(*v))
    throw ArmError(400, "InvalidApiVersionParameter",
                   "The api-version '" + *v +
                       "' is invalid. The supported versions are '2022-10-01' to '2025-12-01' and previews.");
  if (seg.size() < 2 || seg[1] != id_.subscription)
    throw ArmError(404, "SubscriptionNotFound",
                   "The subscription '" + (seg.size() > 1 ? seg[1] : "") + "' could not be found.");
  auto found = arm_routes_.find(req.method, seg);
  if (!found.handler && found.path_known)
    throw ArmError(405, "MethodNotAllowed", req.method + " is not supported on " + req.path + ".");
  if (!found.handler) throw ArmError(404, "NotFound", "No route for " + req.path + ".");
  return (*found.handler)(req, found.match);
}

RouteTable App::arm_routes() {
  using Req = net::ServerRequest;
  const std::string rg_path = "subscriptions/{sub}/resourceGroups/{rg}";
  auto check_rg = [this](const RouteMatch& m) {
    if (!str::iequals(m["rg"], cfg_.resource_group))
      throw ArmError(404, "ResourceGroupNotFound", "Resource group '" + m["rg"] + "' could not be found.");
  };
  auto not_found = [](const std::string& type, const RouteMatch& m) {
    return ArmError(404, "ResourceNotFound",
                    "The Resource '" + std::string(kProvider) + "/" + type + "/" + m["name"] +
                        "' under resource group '" + m["rg"] + "' was not found.");
  };
  auto ws_of = [this, check_rg, not_found](const RouteMatch& m) {
    check_rg(m);
    auto ws = workspace_named(m["name"]);
    if (!ws) throw not_found("workspaces", m);
    return *ws;
  };
  auto reg_of = [this, check_rg, not_found](const RouteMatch& m) {
    check_rg(m);
    auto reg = registry_named(m["name"]);
    if (!reg) throw not_found("registries", m);
    return *reg;
  };
  // route_assets and route_jobs take the path from the collection on.
  auto from = [](const std::string& coll, const RouteMatch& m) {
    std::vector<std::string> rest = {coll};
    rest.insert(rest.end(), m.rest.begin(), m.rest.end());
    return rest;
  };
  const std::string ws_path = rg_path + "/providers/" + kProvider + "/workspaces/{name}";
  const std::string reg_path = rg_path + "/providers/" + kProvider + "/registries/{name}";
  RouteTable t;
  // Long-running operation status: /subscriptions/S/providers/P/locations/L/mfeOperation*/ID
  t.add("*", std::string("subscriptions/{sub}/providers/") + kProvider + "/locations/{location}/{kind}/{id}",
        [this](const Req& req, const RouteMatch& m) { return route_operation(req, m["kind"], m["id"]); });
  // Azure Monitor metrics of online endpoints (metrics.cpp); before any broader onlineEndpoints route.
  const std::string metrics = "/providers/Microsoft.Insights/metrics";
  t.add("GET", ws_path + "/onlineEndpoints/{ep}" + metrics,
        [this, ws_of](const Req& req, const RouteMatch& m) { return route_metrics(req, ws_of(m), m["ep"], ""); })
      .add("GET", ws_path + "/onlineEndpoints/{ep}/deployments/{dep}" + metrics,
           [this, ws_of](const Req& req, const RouteMatch& m) { return route_metrics(req, ws_of(m), m["ep"], m["dep"]); });
  t.add("GET", ws_path, [this, ws_of](const Req&, const RouteMatch& m) { return workspace_resource(ws_of(m)); })
      .add("GET", ws_path + "/datastores",
           [this, ws_of](const Req& req, const RouteMatch& m) {
             auto ws = ws_of(m);
             std::vector<std::string> items = {datastore_resource(ws, "workspaceartifactstore"),
                                               datastore_resource(ws, "workspaceblobstore")};
             for (auto& r : list_resources(*store_, "datastore", ws)) items.push_back(r.body);
             return paged(*this, req, items, cfg_.page_size, [&](size_t n) { return page_link(req, n); });
           })
      .add("GET", ws_path + "/datastores/{ds}",
           [this, ws_of](const Req&, const RouteMatch& m) {
             return net::ServerResponse::json(200, datastore_resource(ws_of(m), m["ds"]));
           })
      .add("POST", ws_path + "/datastores/{ds}/listSecrets",
           [this, ws_of](const Req& req, const RouteMatch& m) { return datastore_secrets(req, ws_of(m), m["ds"]); })
      .add("*", ws_path + "/jobs/{rest*}", [this, ws_of, from](const Req& req, const RouteMatch& m) {
        return route_jobs(req, ws_of(m), from("jobs", m), 0);
      });
  t.add("GET", reg_path, [this, reg_of](const Req&, const RouteMatch& m) { return registry_resource(reg_of(m)); });
  for (const char* kind : {"codes", "environments", "components", "models", "data"}) {
    t.add("*", ws_path + "/" + kind + "/{rest*}", [this, ws_of, from, kind](const Req& req, const RouteMatch& m) {
      return route_assets(req, "ws/" + ws_of(m), kind, from(kind, m), 0);
    });
    t.add("*", reg_path + "/" + kind + "/{rest*}", [this, reg_of, from, kind](const Req& req, const RouteMatch& m) {
      return route_assets(req, "reg/" + reg_of(m), kind, from(kind, m), 0);
    });
  }
  endpoints_->add_arm_routes(t, ws_path, ws_of);
  add_compute_routes(t, ws_path, ws_of);
  add_datastore_routes(t, ws_path, ws_of);
  add_schedule_routes(t, ws_path, ws_of);
  // Anything else below a workspace or registry that exists: not implemented.
  t.add("*", ws_path + "/{first}/{rest*}", [ws_of](const Req& req, const RouteMatch& m) -> net::ServerResponse {
    ws_of(m);
    throw ArmError(404, "NotFound", "amlops-local does not implement " + req.method + " " + req.path + ".");
  });
  t.add("*", reg_path + "/{first}/{rest*}", [reg_of](const Req& req, const RouteMatch& m) -> net::ServerResponse {
    reg_of(m);
    throw ArmError(404, "NotFound", "amlops-local does not implement " + req.method + " " + req.path + ".");
  });
  t.add("*", rg_path + "/{rest*}", [check_rg](const Req& req, const RouteMatch& m) -> net::ServerResponse {
    check_rg(m);
    throw ArmError(404, "NotFound", "No route for " + req.path + ".");
  });
  return t;
}

net::ServerResponse App::workspace_resource(const std::string& ws) {
  json::Document d(rapidjson::kObjectType);
  json::Builder b(d.GetAllocator());
  b.set(d, "id", workspace_id(ws));
  b.set(d, "name", ws);
  b.set(d, "type", "Microsoft.MachineLearningServices/workspaces");
  b.set(d, "location", cfg_.location);
  b.set(d, "kind", "Default");
  json::Value ident = b.obj();
  b.set(ident, "type", "SystemAssigned");
  b.set(ident, "principalId", guid_from("principal:" + ws));
  b.set(ident, "tenantId", id_.tenant);
  b.set(ident, "userAssignedIdentities", b.obj());
  b.set(d, "identity", std::move(ident));
  json::Value sku = b.obj();
  b.set(sku, "name", "Basic");
  b.set(sku, "tier", "Basic");
  b.set(d, "sku", std::move(sku));
  b.set(d, "tags", b.obj());
  json::Value p = b.obj();
  std::string rgid = "/subscriptions/" + id_.subscription + "/resourceGroups/" + cfg_.resource_group + "/providers/";
  b.set(p, "workspaceId", workspace_guid(ws));
  b.set(p, "description", "amlops-local workspace");
  b.set(p, "friendlyName", ws);
  b.set(p, "discoveryUrl", base_url_ + "/discovery");
  std::string host = base_url_.substr(base_url_.find("://") + 3);
  b.set(p, "mlFlowTrackingUri",
        "azureml://" + host + "/mlflow/v1.0/subscriptions/" + id_.subscription + "/resourceGroups/" +
            cfg_.resource_group + "/providers/Microsoft.MachineLearningServices/workspaces/" + ws);
  b.set(p, "storageAccount", rgid + "Microsoft.Storage/storageAccounts/" + id_.account);
  b.set(p, "keyVault", rgid + "Microsoft.KeyVault/vaults/amlopslocal");
  b.set(p, "applicationInsights", rgid + "microsoft.insights/components/amlopslocal");
  b.set(p, "containerRegistry", rgid + "Microsoft.ContainerRegistry/registries/amlopslocal");
  b.set(p, "provisioningState", "Succeeded");
  b.set(p, "publicNetworkAccess", "Enabled");
  b.set(p, "allowPublicAccessWhenBehindVnet", false);
  b.set(p, "hbiWorkspace", false);
  b.set(p, "imageBuildCompute", "");
  b.set(p, "privateLinkCount", 0);
  b.set(p, "privateEndpointConnections", b.arr());
  b.set(p, "sharedPrivateLinkResources", b.arr());
  b.set(p, "serviceProvisionedResourceGroup", ws + "_" + workspace_guid(ws).substr(0, 16));
  b.set(p, "systemDatastoresAuthMode", "accesskey");
  json::Value enc = b.obj();
  b.set(enc, "status", "Disabled");
  json::Value kvp = b.obj();
  b.set(kvp, "keyVaultArmId", rgid + "Microsoft.KeyVault/vaults/amlopslocal");
  b.set(kvp, "keyIdentifier", "");
  b.set(kvp, "identityClientId", "");
  b.set(enc, "keyVaultProperties", std::move(kvp));
  json::Value eid = b.obj();
  b.set(eid, "userAssignedIdentity", "");
  b.set(enc, "identity", std::move(eid));
  b.set(p, "encryption", std::move(enc));
  json::Value mn = b.obj();
  b.set(mn, "isolationMode", "Disabled");
  b.set(mn, "networkId", guid_from("network:" + ws));
  b.set(mn, "outboundRules", b.obj());
  json::Value mns = b.obj();
  b.set(mns, "sparkReady", false);
  b.set(mns, "status", "Inactive");
  b.set(mn, "status", std::move(mns));
  b.set(p, "managedNetwork", std::move(mn));
  b.set(d, "properties", std::move(p));
  b.set(d, "systemData", system_data(b, "2026-01-01T00:00:00.000Z", "2026-01-01T00:00:00.000Z", id_.client_id));
  return json_response(200, d);
}

std::string App::datastore_resource(const std::string& ws, const std::string& name) {
  if (name != "workspaceblobstore" && name != "workspaceartifactstore") {
    if (auto user = user_datastore_body(*store_, ws, name)) return *user;
    throw ArmError(404, "UserError", "Datastore " + name + " not found.", "DatastoreNotFound");
  }
  json::Document d(rapidjson::kObjectType);
  json::Builder b(d.GetAllocator());
  b.set(d, "id", workspace_id(ws) + "/datastores/" + name);
  b.set(d, "name", name);
  b.set(d, "type", "Microsoft.MachineLearningServices/workspaces/datastores");
  json::Value p = b.obj();
  b.set(p, "description",
        name == "workspaceblobstore" ? "Default blob store (amlops-local)" : "Artifact store (amlops-local)");
  b.set(p, "tags", b.obj());
  b.set(p, "properties", b.obj());
  b.set(p, "isDefault", name == "workspaceblobstore");
  json::Value cred = b.obj();
  b.set(cred, "credentialsType", "AccountKey");
  json::Value sec = b.obj();
  b.set(sec, "secretsType", "AccountKey");
  b.set(cred, "secrets", std::move(sec));
  b.set(p, "credentials", std::move(cred));
  b.set(p, "datastoreType", "AzureBlob");
  const auto& ext = cfg_.storage;
  b.set(p, "accountName", ext ? ext->account : id_.account);
  b.set(p, "containerName", name == "workspaceblobstore" ? blobstore_container(ws) : artifact_container(ws));
  b.set(p, "endpoint", "core.windows.net");
  b.set(p, "protocol", "https");
  b.set(p, "serviceDataAccessAuthIdentity", "WorkspaceSystemAssignedIdentity");
  // Not in Azure: the blob service base URL, since a loopback account has no DNS name.
  // With `storage:` (config.yml), the external account's endpoint.
  b.set(p, "blobServiceUri", ext ? ext->endpoint : base_url_ + "/" + id_.account);
  b.set(d, "properties", std::move(p));
  b.set(d, "systemData", system_data(b, "2026-01-01T00:00:00.000Z", "2026-01-01T00:00:00.000Z", id_.client_id));
  return json::dump(d);
}

net::ServerResponse App::datastore_secrets(const net::ServerRequest& req, const std::string& ws,
                                           const std::string& name) {
  if (auto user = user_datastore_secrets(*store_, ws, name)) return net::ServerResponse::json(200, *user);
  datastore_resource(ws, name);  // 404 for another datastore
  json::Document d(rapidjson::kObjectType);
  json::Builder b(d.GetAllocator());
  bool sas = false;
  if (!str::trim(req.body).empty()) {
    try {
      auto body = json::parse(req.body);
      sas = json::opt_bool(body, "/expirableSecret").value_or(false);
    } catch (const std::exception&) {
    }
  }
  if (sas) {
    b.set(d, "secretsType", "Sas");
    std::string c = name == "workspaceblobstore" ? blobstore_container(ws) : artifact_container(ws);
    b.set(d, "sasToken",
          "?" + (cfg_.storage
                     ? service_sas(cfg_.storage->account, cfg_.storage->key, c, "", "racwdl", std::chrono::hours(1))
                     : make_sas(c, "", "racwdl", std::chrono::hours(1))));
  } else {
    b.set(d, "secretsType", "AccountKey");
    b.set(d, "key", cfg_.storage ? cfg_.storage->key : id_.account_key);
  }
  return json_response(200, d);
}

net::ServerResponse App::registry_resource(const std::string& reg) {
  json::Document d(rapidjson::kObjectType);
  json::Builder b(d.GetAllocator());
  b.set(d, "id", scope_id("reg/" + reg));
  b.set(d, "name", reg);
  b.set(d, "type", "Microsoft.MachineLearningServices/registries");
  b.set(d, "location", cfg_.location);
  b.set(d, "tags", b.obj());
  json::Value p = b.obj();
  b.set(p, "discoveryUrl", base_url_ + "/registrymanagement/v1.0/registries/" + reg + "/discovery");
  std::string host = base_url_.substr(base_url_.find("://") + 3);
  b.set(p, "mlFlowRegistryUri",
        "azureml://" + host + "/mlflow/v1.0/subscriptions/" + id_.subscription + "/resourceGroups/" +
            cfg_.resource_group + "/providers/Microsoft.MachineLearningServices/registries/" + reg);
  b.set(p, "publicNetworkAccess", "Enabled");
  b.set(p, "intellectualPropertyPublisher", "");
  json::Value regions = b.arr();
  json::Value r0 = b.obj();
  b.set(r0, "location", cfg_.location);
  b.push(regions, std::move(r0));
  b.set(p, "regionDetails", std::move(regions));
  b.set(d, "properties", std::move(p));
  return json_response(200, d);
}

std::string App::render_asset_json(const std::string& body) { return body; }

net::ServerResponse App::route_assets(const net::ServerRequest& req, const std::string& scope, const std::string& kind,
                                      const std::vector<std::string>& rest, size_t i) {
  const std::string& m = req.method;
  bool registry = scope.rfind("reg/", 0) == 0;
  std::string base_id = scope_id(scope) + "/" + kind;
  std::string who = id_.client_id;

  // Container list.
  if (rest.size() == i + 1) {
    if (m != "GET") throw ArmError(405, "MethodNotAllowed", "Unsupported method on " + kind + ".");
    return list_containers(req, scope, kind, asset_type(scope, kind, false));
  }
  const std::string& name = rest[i + 1];
  require_name(singular(kind) + " name", name);

  // Container get (latestVersion / nextVersion), PUT, DELETE.
  if (rest.size() == i + 2)
    return route_container(req, scope, kind, name, asset_type(scope, kind, false), singular(kind));
  if (rest[i + 2] != "versions") throw ArmError(404, "NotFound", "No route for " + req.path + ".");

  // Version list.
  if (rest.size() == i + 3) {
    if (m != "GET") throw ArmError(405, "MethodNotAllowed", "Unsupported method on versions.");
    std::vector<SqlRow> rows;
    auto hash = req.param("hash");
    if (kind == "codes" && hash)
      rows = store_->query("SELECT body, created, version FROM assets WHERE kind=? AND scope=? ORDER BY seq",
                           {kind, scope});
    else
      rows = store_->query("SELECT body, created, version FROM assets WHERE kind=? AND scope=? AND name=? ORDER BY seq",
                           {kind, scope, name});
    struct Item {
      std::string body;
      int64_t created;
      std::string version;
    };
    std::vector<Item> items;
    std::string view = req.param("listViewType").value_or("ActiveOnly");
    for (auto& r : rows) {
      auto d = json::parse(r.str(0));
      const auto* props = json::find(d, "/properties");
      if (hash) {
        auto h = json::opt_string(d, "/properties/properties/hash_sha256");
        if (!h || *h != *hash) continue;
        if (auto hv = req.param("hashVersion")) {
          auto v = json::opt_string(d, "/properties/properties/hash_version");
          if (v && *v != *hv) continue;
        }
      }
      if (!matches_filter(props ? json::find(*props, "/tags") : nullptr, req.param("tags").value_or(""))) continue;
      if (!matches_filter(props ? json::find(*props, "/properties") : nullptr, req.param("properties").value_or("")))
        continue;
      if (auto v = req.param("version"); v && r.str(2) != *v) continue;
      if (auto desc = req.param("description");
          desc && json::opt_string(d, "/properties/description").value_or("") != *desc)
        continue;
      bool archived = json::opt_bool(d, "/properties/isArchived").value_or(false);
      if (view == "ActiveOnly" && archived) continue;
      if (view == "ArchivedOnly" && !archived) continue;
      items.push_back({r.str(0), r.i64(1), r.str(2)});
    }
    std::string order = str::to_lower(std::string(str::trim(req.param("$orderBy").value_or("createdtime desc"))));
    bool desc = order.find("asc") == std::string::npos;
    if (order.rfind("version", 0) == 0) {
      std::stable_sort(items.begin(), items.end(), [&](const Item& a, const Item& b) {
        auto na = str::parse_int(a.version), nb = str::parse_int(b.version);
        bool less = (na && nb) ? *na < *nb : a.version < b.version;
        bool greater = (na && nb) ? *na > *nb : a.version > b.version;
        return desc ? greater : less;
      });
    } else if (desc) {
      // Rows come in insertion order, which is creation order.
      std::reverse(items.begin(), items.end());
    }
    std::vector<std::string> bodies;
    for (auto& it : items) bodies.push_back(it.body);
    return paged(*this, req, bodies, cfg_.page_size, [&](size_t n) { return page_link(req, n); });
  }

  std::string version = rest[i + 3];
  require_name(singular(kind) + " version", version);
  std::string id = base_id + "/" + name + "/versions/" + version;

  if (rest.size() == i + 5 && m == "POST" && rest[i + 4] == "startPendingUpload") {
    std::string type = "TemporaryBlobReference", upload_id;
    if (!str::trim(req.body).empty()) {
      auto body = parse_body(req);
      type = json::opt_string(body, "/pendingUploadType").value_or(type);
      upload_id = json::opt_string(body, "/pendingUploadId").value_or("");
    }
    if (upload_id.empty()) upload_id = new_guid();
    std::string blob_uri, sas_uri, account = id_.account;
    if (cfg_.storage && !registry) {
      // External storage (config.yml `storage:`): a fresh folder in the workspace's blob container there.
      const auto& ext = *cfg_.storage;
      std::string container = blobstore_container(scope.substr(3));
      blob_uri = ext.endpoint + "/" + container + "/LocalUpload/" + str::random_hex(16);
      sas_uri = ext.endpoint + "/" + container + "?" +
                service_sas(ext.account, ext.key, container, "", "racwdl", std::chrono::hours(24));
      account = ext.account;
    } else {
      std::string container =
          (registry ? registry_container(scope.substr(4)).substr(0, 24) : workspace_guid(scope.substr(3))) + "-" +
          str::random_hex(5);
      fs::create_directories(blob_root() / container);
      blob_uri = blob_url({container, ""});
      sas_uri = blob_uri + "?" + make_sas(container, "", "racwdl", std::chrono::hours(24));
    }
    json::Document d(rapidjson::kObjectType);
    json::Builder b(d.GetAllocator());
    json::Value ref = b.obj();
    b.set(ref, "blobUri", blob_uri);
    b.set(ref, "storageAccountArmId",
          "/subscriptions/" + id_.subscription + "/resourceGroups/" + cfg_.resource_group +
              "/providers/Microsoft.Storage/storageAccounts/" + account);
    json::Value cred = b.obj();
    b.set(cred, "credentialType", "SAS");
    b.set(cred, "sasUri", sas_uri);
    b.set(ref, "credential", std::move(cred));
    b.set(d, "blobReferenceForConsumption", std::move(ref));
    b.set(d, "pendingUploadId", upload_id);
    b.set(d, "pendingUploadType", type);
    return json_response(200, d);
  }

  if (rest.size() == i + 5 && m == "POST" && rest[i + 4] == "publish" && !registry) {
    auto body = parse_body(req);
    auto reg = json::opt_string(body, "/registryName");
    auto dname = json::opt_string(body, "/destinationName").value_or(name);
    auto dver = json::opt_string(body, "/destinationVersion").value_or(version);
    if (!reg || !has_registry(*reg))
      throw ArmError(404, "UserError", "Registry " + reg.value_or("") + " not found.", "RegistryNotFound");
    reg = registry_named(*reg);
    require_name("destination name", dname);
    require_name("destination version", dver);
    auto src = store_->one("SELECT body FROM assets WHERE kind=? AND scope=? AND name=? AND version=?",
                           {kind, scope, name, version});
    if (!src)
      throw ArmError(404, "UserError", singular(kind) + " " + name + ":" + version + " not found.",
                     singular(kind) + "NotFound");
    std::string dscope = "reg/" + *reg;
    if (store_->one("SELECT 1 FROM assets WHERE kind=? AND scope=? AND name=? AND version=?",
                    {kind, dscope, dname, dver}))
      throw ArmError(409, "UserError",
                     singular(kind) + " " + dname + ":" + dver + " already exists in registry " + *reg + ".",
                     "Conflict");
    auto doc = json::parse(src->str(0));
    json::Builder b(doc.GetAllocator());
    // Copy the files into the registry's storage.
    const char* uri_field = kind == "models"  ? "modelUri"
                            : kind == "codes" ? "codeUri"
                            : kind == "data"  ? "dataUri"
                                              : nullptr;
    if (uri_field) {
      if (auto u = json::opt_string(doc, std::string("/properties/") + uri_field)) {
        auto res = resolve_uri(scope.substr(3), *u);
        // Files in this server's storage are copied; any other URI is kept as it is.
        if (res.loc) {
          BlobLocation dst{registry_container(*reg), kind + "/" + dname + "/" + dver};
          fs::path from = blob_path(*res.loc);
          fs::path to = blob_path(dst);
          if (fs::is_directory(from))
            copy_tree(from, to);
          else {
            dst.path += "/" + from.filename().string();
            copy_tree(from, blob_path(dst));
          }
          b.set(doc["properties"], uri_field, blob_url(dst) + (fs::is_directory(from) ? "/" : ""));
        }
      }
    }
    std::string did = scope_id(dscope) + "/" + kind + "/" + dname + "/versions/" + dver;
    b.set(doc, "id", did);
    b.set(doc, "name", dver);
    b.set(doc, "type", asset_type(dscope, kind, true));
    int64_t now = now_ms();
    b.set(doc, "systemData", system_data(b, ms_iso(now), ms_iso(now), who));
    store_->exec("INSERT INTO assets(kind, scope, name, version, body, created, modified) VALUES(?, ?, ?, ?, ?, ?, ?)",
                 {kind, dscope, dname, dver, json::dump(doc), now, now});
    std::string op = create_operation("asset:" + kind + "|" + dscope + "|" + dname + "|" + dver);
    return lro_accepted(202, op, "", false);
  }

  if (rest.size() != i + 4) throw ArmError(404, "NotFound", "No route for " + req.method + " " + req.path + ".");

  if (m == "GET") {
    auto row = store_->one("SELECT body FROM assets WHERE kind=? AND scope=? AND name=? AND version=?",
                           {kind, scope, name, version});
    if (!row)
      throw ArmError(404, "UserError",
                     singular(kind) + " container with name: " + name + " version: " + version + " not found.",
                     singular(kind) + "NotFound");
    return net::ServerResponse::json(200, row->str(0));
  }
  if (m == "DELETE") {
    auto n = store_->exec("DELETE FROM assets WHERE kind=? AND scope=? AND name=? AND version=?",
                          {kind, scope, name, version});
    net::ServerResponse r;
    r.status = n ? 200 : 204;
    return r;
  }
  if (m != "PUT") throw ArmError(405, "MethodNotAllowed", "Unsupported method " + m + ".");

  auto body = parse_body(req);
  const auto* props = json::find(body, "/properties");
  if (!props || !props->IsObject())
    throw ArmError(400, "UserError", "The request body must have a 'properties' object.", "RequestInvalid");
  std::string v = version;
  std::string n = name;
  if (kind == "components" &&
      (name == "azureml_anonymous" || json::opt_bool(body, "/properties/isAnonymous").value_or(false))) {
    // Anonymous components get a server-assigned version derived from the spec, so equal specs share it.
    const auto* spec = json::find(body, "/properties/componentSpec");
    v = guid_from("component:" + (spec ? json::dump(*spec) : std::string()));
    id = base_id + "/" + name + "/versions/" + v;
  }
  if (kind == "models" && !registry) {
    // A model from a job output must name a job that exists.
    if (auto mu = json::opt_string(body, "/properties/modelUri"); mu && mu->rfind("azureml://jobs/", 0) == 0) {
      auto res = resolve_uri(scope.substr(3), *mu);
      if (!res.loc) throw ArmError(400, "UserError", "Invalid modelUri: " + res.error, "InvalidModelUri");
    }
  }
  int64_t now = now_ms();
  int status = 201;
  std::string out;
  store_->transaction([&] {
    auto existing = store_->one("SELECT body, created FROM assets WHERE kind=? AND scope=? AND name=? AND version=?",
                                {kind, scope, n, v});
    json::Document doc(rapidjson::kObjectType);
    json::Builder b(doc.GetAllocator());
    int64_t created = now;
    if (existing) {
      auto old = json::parse(existing->str(0));
      for (const char* f : content_fields(kind)) {
        const auto* a = json::find(old, std::string("/properties/") + f);
        const auto* c = json::find(body, std::string("/properties/") + f);
        if (c && (!a || json::dump(*a) != json::dump(*c)) && kind != "components")
          throw ArmError(409, "UserError",
                         singular(kind) + " " + n + ":" + v + " already exists with a different " + f +
                             "; versions are immutable.",
                         "Conflict");
      }
      created = existing->i64(1);
      status = 200;
    }
    b.set(doc, "id", id);
    b.set(doc, "name", v);
    b.set(doc, "type", asset_type(scope, kind, true));
    json::Value p = b.copy(*props);
    if (!p.HasMember("description")) b.set(p, "description", "");
    if (!p.HasMember("tags")) b.set(p, "tags", b.obj());
    if (!p.HasMember("properties")) b.set(p, "properties", b.obj());
    if (!p.HasMember("isAnonymous")) b.set(p, "isAnonymous", false);
    if (!p.HasMember("isArchived")) b.set(p, "isArchived", false);
    if (kind == "environments" && !p.HasMember("environmentType")) b.set(p, "environmentType", "UserCreated");
    if (kind == "models" && !p.HasMember("stage")) b.set(p, "stage", "Development");
    if (kind == "models" && !p.HasMember("flavors")) b.set(p, "flavors", b.obj());
    b.set(p, "provisioningState", "Succeeded");
    b.set(doc, "properties", std::move(p));
    b.set(doc, "systemData", system_data(b, ms_iso(created), ms_iso(now), who));
    out = json::dump(doc);
    if (existing)
      store_->exec("UPDATE assets SET body=?, modified=? WHERE kind=? AND scope=? AND name=? AND version=?",
                   {out, now, kind, scope, n, v});
    else
      store_->exec(
          "INSERT INTO assets(kind, scope, name, version, body, created, modified) VALUES(?, ?, ?, ?, ?, ?, ?)",
          {kind, scope, n, v, out, now, now});
  });
  if (registry) {
    // Registry assets are long-running operations: 201 + Azure-AsyncOperation.
    std::string op = create_operation("asset:" + kind + "|" + scope + "|" + n + "|" + v);
    return lro_accepted(status, op, out, true);
  }
  return net::ServerResponse::json(status, out);
}

// ---------------------------------------------------------------------------------------------
// Jobs

json::Document App::render_job(const SqlRow& row) {
  // row: body, status
  auto d = json::parse(row.str(0));
  json::Builder b(d.GetAllocator());
  b.set(d["properties"], "status", row.str(1));
  return d;
}

net::ServerResponse App::route_jobs(const net::ServerRequest& req, const std::string& ws,
                                    const std::vector<std::string>& rest, size_t i) {
  const std::string& m = req.method;
  if (rest.size() == i + 1) {
    if (m != "GET") throw ArmError(405, "MethodNotAllowed", "Unsupported method on jobs.");
    auto rows =
        store_->query("SELECT body, status, job_type FROM jobs WHERE ws=? AND parent IS NULL ORDER BY seq DESC", {ws});
    std::vector<std::string> items;
    std::string view = req.param("listViewType").value_or("ActiveOnly");
    for (auto& r : rows) {
      auto d = render_job(r);
      if (auto jt = req.param("jobType"); jt && !str::iequals(*jt, r.str(2))) continue;
      const auto* props = json::find(d, "/properties");
      if (!matches_filter(props ? json::find(*props, "/tags") : nullptr, req.param("tag").value_or(""))) continue;
      if (!matches_filter(props ? json::find(*props, "/properties") : nullptr, req.param("properties").value_or("")))
        continue;
      bool archived = json::opt_bool(d, "/properties/isArchived").value_or(false);
      if (view == "ActiveOnly" && archived) continue;
      if (view == "ArchivedOnly" && !archived) continue;
      items.push_back(json::dump(d));
    }
    return paged(*this, req, items, cfg_.page_size, [&](size_t n) { return page_link(req, n); });
  }
  const std::string& name = rest[i + 1];
  require_name("job name", name);
  std::string job_url = base_url_ + workspace_id(ws) + "/jobs/" + name +
                        "?api-version=" + req.param("api-version").value_or("2025-12-01");

  if (rest.size() == i + 3 && rest[i + 2] == "cancel") {
    if (m != "POST") throw ArmError(405, "MethodNotAllowed", "cancel is a POST.");
    auto row = store_->one("SELECT status FROM jobs WHERE ws=? AND name=?", {ws, name});
    if (!row) throw ArmError(404, "UserError", "Job " + name + " not found.", "JobNotFound");
    runner_->request_cancel(ws, name);
    std::string op = create_operation("job:" + ws + "/" + name);
    return lro_accepted(202, op, "", false);
  }
  if (rest.size() != i + 2) throw ArmError(404, "NotFound", "No route for " + req.method + " " + req.path + ".");

  if (m == "GET") {
    auto row = store_->one("SELECT body, status FROM jobs WHERE ws=? AND name=?", {ws, name});
    if (!row) throw ArmError(404, "UserError", "The specified resource was not found.", "JobNotFound");
    return json_response(200, render_job(*row));
  }
  if (m == "DELETE") {
    auto row = store_->one("SELECT body, status FROM jobs WHERE ws=? AND name=?", {ws, name});
    if (!row) {
      net::ServerResponse r;
      r.status = 204;
      return r;
    }
    if (!Runner::terminal(row->str(1))) runner_->request_cancel(ws, name);
    store_->transaction([&] {
      auto d = json::parse(store_->one("SELECT body FROM jobs WHERE ws=? AND name=?", {ws, name})->str(0));
      json::Builder b(d.GetAllocator());
      b.set(d["properties"], "isArchived", true);
      store_->exec("UPDATE jobs SET body=? WHERE ws=? AND name=?", {json::dump(d), ws, name});
    });
    return lro_accepted(202, create_operation("job:" + ws + "/" + name), "", false);
  }
  if (m != "PUT") throw ArmError(405, "MethodNotAllowed", "Unsupported method " + m + " on a job.");

  auto body = parse_body(req);
  const auto* props = json::find(body, "/properties");
  if (!props || !props->IsObject())
    throw ArmError(400, "UserError", "The request body must have a 'properties' object.", "RequestInvalid");
  auto type = json::opt_string(body, "/properties/jobType");
  if (!type) throw ArmError(400, "UserError", "properties.jobType is required.", "RequestInvalid");
  std::string jt = *type;
  if (jt != "Command" && jt != "Pipeline" && jt != "Sweep")
    throw ArmError(400, "UserError",
                   "Job type '" + jt + "' is not supported by amlops-local (Command, Pipeline and Sweep are).",
                   "RequestInvalid");
  if (jt == "Command" && !json::opt_string(body, "/properties/command"))
    throw ArmError(400, "UserError", "A command job needs properties.command.", "RequestInvalid");
  if (jt == "Sweep" && (!json::find(body, "/properties/trial") || !json::find(body, "/properties/searchSpace") ||
                        !json::find(body, "/properties/objective")))
    throw ArmError(400, "UserError",
                   "A sweep job needs properties.trial, properties.searchSpace and properties.objective.",
                   "RequestInvalid");

  check_job_computes(ws, *props);
  int status = 201;
  std::string out;
  store_->transaction([&] {
    auto existing = store_->one("SELECT body, status FROM jobs WHERE ws=? AND name=?", {ws, name});
    if (existing) {
      // Only the mutable fields of an existing job change.
      auto d = json::parse(existing->str(0));
      json::Builder b(d.GetAllocator());
      for (const char* f : {"tags", "description", "displayName"})
        if (const auto* v = json::find(body, std::string("/properties/") + f)) b.set(d["properties"], f, b.copy(*v));
      if (auto oldt = json::opt_string(d, "/properties/jobType"); oldt && *oldt != jt)
        throw ArmError(400, "UserError", "Job " + name + " already exists with type " + *oldt + ".", "RequestInvalid");
      store_->exec("UPDATE jobs SET body=? WHERE ws=? AND name=?", {json::dump(d), ws, name});
      status = 200;
      SqlRow r;
      r.cols = {json::dump(d), existing->str(1)};
      out = json::dump(render_job(r));
      return;
    }
    out = runner_->create_job(ws, name, body, std::nullopt);
  });
  auto r = net::ServerResponse::json(status, out);
  r.header("Location", job_url);
  return r;
}

}  // namespace amlops::local
