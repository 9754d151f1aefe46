// User datastores: azure_blob (AzureBlob) and azure_data_lake_gen2 (AzureDataLakeGen2) created by
// PUT, each backed by a container of this server's blob service named as the datastore's
// containerName / filesystem. Credentials (account key, SAS, service principal, or none for
// identity-based access) are stored apart from the resource: GET never returns a secret,
// listSecrets does, as in Azure.
#include "core/strings.hpp"
#include "local/app.hpp"
#include "local/resources.hpp"

namespace amlops::local {

namespace fs = std::filesystem;

namespace {

bool builtin(const std::string& name) { return name == "workspaceblobstore" || name == "workspaceartifactstore"; }

// Checks the credentials of a PUT body; returns the secrets to store ({} for none) and strips them from `cred`.
std::string take_secrets(json::Value& cred, json::Builder& b) {
  std::string type = json::opt_string(cred, "/credentialsType").value_or("");
  json::Document secrets(rapidjson::kObjectType);
  json::Builder sb(secrets.GetAllocator());
  auto need = [&](const char* key, const char* what) {
    auto v = json::opt_string(cred, std::string("/secrets/") + key);
    if (!v || v->empty())
      throw ArmError(400, "UserError", "credentials of type " + type + " need secrets." + key + " (" + what + ").",
                     "RequestInvalid");
    sb.set(secrets, key, *v);
  };
  if (type == "AccountKey") {
    sb.set(secrets, "secretsType", "AccountKey");
    need("key", "the storage account key");
  } else if (type == "Sas") {
    sb.set(secrets, "secretsType", "Sas");
    need("sasToken", "a SAS token");
  } else if (type == "ServicePrincipal") {
    sb.set(secrets, "secretsType", "ServicePrincipal");
    need("clientSecret", "the client secret");
    for (const char* k : {"clientId", "tenantId"})
      if (!json::opt_string(cred, std::string("/") + k))
        throw ArmError(400, "UserError", std::string("ServicePrincipal credentials need ") + k + ".", "RequestInvalid");
  } else if (type == "None") {
    if (cred.HasMember("secrets")) cred.RemoveMember("secrets");
    return {};
  } else {
    throw ArmError(400, "UserError",
                   "credentialsType '" + type + "' is not supported (AccountKey, Sas, ServicePrincipal or None).",
                   "RequestInvalid");
  }
  json::Value kept = b.obj();
  b.set(kept, "secretsType", json::get_string(secrets, "/secretsType"));
  b.set(cred, "secrets", std::move(kept));
  return json::dump(secrets);
}

}  // namespace

std::optional<std::string> App::user_datastore_container(const std::string& ws, const std::string& name) {
  auto rec = load_resource(*store_, "datastore", ws, name);
  if (!rec) return std::nullopt;
  auto d = json::parse(rec->body);
  auto c = json::opt_string(d, "/properties/containerName");
  if (!c) c = json::opt_string(d, "/properties/filesystem");
  return c;
}

void App::add_datastore_routes(RouteTable& t, const std::string& ws_path, const WsOf& ws_of) {
  using Req = net::ServerRequest;
  t.add("PUT", ws_path + "/datastores/{ds}", [this, ws_of](const Req& req, const RouteMatch& m) {
    auto ws = ws_of(m);
    const std::string name = m["ds"];
    require_name("datastore name", name);
    if (builtin(name))
      throw ArmError(400, "UserError", "Datastore " + name + " is built into amlops-local and cannot be replaced.",
                     "RequestInvalid");
    auto body = parse_body(req);
    const auto* props = json::find(body, "/properties");
    if (!props || !props->IsObject())
      throw ArmError(400, "UserError", "The request body must have a 'properties' object.", "RequestInvalid");
    std::string type = json::opt_string(*props, "/datastoreType").value_or("");
    const char* container_key = type == "AzureBlob" ? "containerName" : type == "AzureDataLakeGen2" ? "filesystem" : "";
    if (!*container_key)
      throw ArmError(400, "UserError",
                     "datastoreType '" + type + "' is not supported by amlops-local (AzureBlob, AzureDataLakeGen2).",
                     "RequestInvalid");
    auto account = json::opt_string(*props, "/accountName");
    if (!account || account->empty())
      throw ArmError(400, "UserError", "properties.accountName is required.", "RequestInvalid");
    auto container = json::opt_string(*props, std::string("/") + container_key);
    if (!container || !valid_container(*container))
      throw ArmError(400, "UserError",
                     std::string("properties.") + container_key + " '" + container.value_or("") +
                         "' is not a valid container name (3-63 of a-z, 0-9 and single dashes).",
                     "RequestInvalid");
    if (!json::find(*props, "/credentials") || !(*json::find(*props, "/credentials")).IsObject())
      throw ArmError(400, "UserError", "properties.credentials is required (credentialsType None for identity access).",
                     "RequestInvalid");

    auto existing = load_resource(*store_, "datastore", ws, name);
    int64_t now = now_ms();
    int64_t created = existing ? existing->created : now;
    json::Document d(rapidjson::kObjectType);
    json::Builder b(d.GetAllocator());
    std::string stored_name = existing ? existing->name : name;
    b.set(d, "id", workspace_id(ws) + "/datastores/" + stored_name);
    b.set(d, "name", stored_name);
    b.set(d, "type", "Microsoft.MachineLearningServices/workspaces/datastores");
    json::Value p = b.copy(*props);
    std::string secrets = take_secrets(p["credentials"], b);
    if (!p.HasMember("description")) b.set(p, "description", "");
    for (const char* k : {"tags", "properties"})
      if (!p.HasMember(k) || !p[k].IsObject()) b.set(p, k, b.obj());
    b.set(p, "isDefault", false);
    if (!p.HasMember("endpoint")) b.set(p, "endpoint", "core.windows.net");
    if (!p.HasMember("protocol")) b.set(p, "protocol", "https");
    if (!p.HasMember("serviceDataAccessAuthIdentity")) b.set(p, "serviceDataAccessAuthIdentity", "None");
    // Not in Azure: where the data is, since this server's blob service backs every datastore.
    b.set(p, "blobServiceUri", base_url_ + "/" + id_.account);
    b.set(d, "properties", std::move(p));
    b.set(d, "systemData", system_data(b, ms_iso(created), ms_iso(now), id_.client_id));
    std::error_code ec;
    fs::create_directories(blob_root() / *container, ec);
    std::string out = json::dump(d);
    save_resource(*store_, "datastore", ws, {stored_name, out, secrets, created, now, now, std::nullopt});
    return net::ServerResponse::json(existing ? 200 : 201, out);
  });
  t.add("DELETE", ws_path + "/datastores/{ds}", [this, ws_of](const Req&, const RouteMatch& m) {
    auto ws = ws_of(m);
    if (builtin(m["ds"]))
      throw ArmError(400, "UserError", "Datastore " + m["ds"] + " is built into amlops-local and cannot be deleted.",
                     "RequestInvalid");
    net::ServerResponse r;
    r.status = delete_resource(*store_, "datastore", ws, m["ds"]) ? 200 : 204;
    return r;
  });
}

// A user datastore's resource; nullopt for an unknown one.
std::optional<std::string> user_datastore_body(Store& st, const std::string& ws, const std::string& name) {
  auto rec = load_resource(st, "datastore", ws, name);
  if (!rec) return std::nullopt;
  return rec->body;
}

// listSecrets of a user datastore (the stored secrets), or nullopt when there is no such datastore.
std::optional<std::string> user_datastore_secrets(Store& st, const std::string& ws, const std::string& name) {
  auto rec = load_resource(st, "datastore", ws, name);
  if (!rec) return std::nullopt;
  if (rec->secrets.empty())
    throw ArmError(400, "UserError",
                   "Datastore " + rec->name + " has no secrets: it uses identity-based access (credentialsType None).",
                   "NoSecrets");
  return rec->secrets;
}

}  // namespace amlops::local
