#include "azure/workspace.hpp"

#include "core/error.hpp"
#include "core/log.hpp"
#include "core/redact.hpp"
#include "core/strings.hpp"

namespace amlops::azure {

bool job_terminal(const std::string& s) {
  return s == "Completed" || s == "Failed" || s == "Canceled" || s == "NotResponding" || s == "Paused";
}
bool job_succeeded(const std::string& s) { return s == "Completed"; }

std::string azureml_to_http(const std::string& uri) {
  if (uri.rfind("azureml://", 0) != 0) return uri;
  std::string rest = uri.substr(10);
  std::string host = rest.substr(0, rest.find('/'));
  std::string h = host.substr(0, host.find(':'));
  bool loopback = h == "127.0.0.1" || h == "localhost" || h == "[::1]";
  return (loopback ? "http://" : "https://") + rest;
}

Workspace::Workspace(ArmClient& arm, WorkspaceRef ref) : arm_(arm), ref_(std::move(ref)) {}

const json::Document& Workspace::info() {
  if (!info_) info_ = arm_.get(ref_.arm_id());
  return *info_;
}

std::string Workspace::api_base() {
  if (!api_.empty()) return api_;
  std::string discovery = json::opt_string(info(), "/properties/discoveryUrl").value_or("");
  if (discovery.empty()) throw HttpError(200, "workspace " + ref_.name + " has no discoveryUrl");
  net::Request req;  // discovery is unauthenticated
  req.url = discovery;
  auto r = arm_.http().send(req);
  if (!r.ok()) raise_arm_error(r, "GET " + redact::url(discovery));
  auto doc = json::parse(r.body, "discovery answer");
  api_ = json::get_string(doc, "/api", "discovery answer");
  while (!api_.empty() && api_.back() == '/') api_.pop_back();
  return api_;
}

std::string Workspace::history_base() { return api_base() + "/history/v1.0" + ref_.arm_id(); }

std::string Workspace::mlflow_base() {
  std::string uri = json::opt_string(info(), "/properties/mlFlowTrackingUri").value_or("");
  std::string base = uri.empty() ? api_base() + "/mlflow/v1.0" + ref_.arm_id() : azureml_to_http(uri);
  while (!base.empty() && (base.back() == '/' || base.back() == '?')) base.pop_back();
  return base + "/api/2.0/mlflow";
}

std::optional<std::string> Workspace::find_code_by_hash(const std::string& name, const std::string& hash,
                                                        const std::string& hash_version) {
  // The service returns versions with this content hash regardless of the name in the path.
  auto items = arm_.list(path("/codes/" + name + "/versions?hash=" + hash + "&hashVersion=" + hash_version +
                              "&api-version=" + arm_.options().api_version),
                         1);
  for (auto& it : items) {
    auto h = json::opt_string(it, "/properties/properties/hash_sha256");
    if (h && *h != hash) continue;
    if (auto id = json::opt_string(it, "/id")) return *id;
  }
  return std::nullopt;
}

PendingUpload Workspace::start_pending_upload(const std::string& asset, const std::string& name,
                                              const std::string& version) {
  auto doc = arm_.post(path("/" + asset + "/" + name + "/versions/" + version + "/startPendingUpload"),
                       R"({"pendingUploadType":"TemporaryBlobReference"})", true);
  PendingUpload p;
  p.blob_uri = json::get_string(doc, "/blobReferenceForConsumption/blobUri", "startPendingUpload answer");
  p.sas_uri = json::get_string(doc, "/blobReferenceForConsumption/credential/sasUri", "startPendingUpload answer");
  redact::add_secret(p.sas_uri.substr(p.sas_uri.find('?') == std::string::npos ? 0 : p.sas_uri.find('?') + 1));
  return p;
}

json::Document Workspace::put_code_version(const std::string& name, const std::string& version,
                                           const std::string& code_uri, const std::string& hash,
                                           const std::string& hash_version) {
  json::Document body(rapidjson::kObjectType);
  json::Builder b(body.GetAllocator());
  json::Value props = b.obj(), inner = b.obj();
  b.set(props, "codeUri", code_uri);
  b.set(props, "isAnonymous", true);
  b.set(inner, "hash_sha256", hash);
  b.set(inner, "hash_version", hash_version);
  b.set(props, "properties", std::move(inner));
  b.set(body, "properties", std::move(props));
  return arm_.put(path("/codes/" + name + "/versions/" + version), body);
}

std::string Workspace::ensure_environment(const std::string& name, const std::string& version,
                                          const json::Value& body) {
  std::string p = path("/environments/" + name + "/versions/" + version);
  if (auto existing = arm_.get_if_exists(p)) return json::opt_string(*existing, "/id").value_or(p);
  auto doc = arm_.put(p, body);
  return json::opt_string(doc, "/id").value_or(p);
}

std::string Workspace::put_component(const std::string& name, const std::string& version, const json::Value& body) {
  std::string p = path("/components/" + name + "/versions/" + version);
  auto doc = arm_.put(p, body);
  return json::opt_string(doc, "/id").value_or(p);
}

json::Document Workspace::put_job(const std::string& name, const json::Value& body) {
  return arm_.put(path("/jobs/" + name), body);
}

std::optional<json::Document> Workspace::get_job(const std::string& name) {
  return arm_.get_if_exists(path("/jobs/" + name));
}

void Workspace::cancel_job(const std::string& name) { arm_.post(path("/jobs/" + name + "/cancel"), "", true); }

json::Document Workspace::run_details(const std::string& name) {
  return arm_.get(history_base() + "/runs/" + str::url_encode(name) + "/details");
}

std::vector<std::string> Workspace::run_children(const std::string& name) {
  std::vector<std::string> out;
  auto r = arm_.send("GET", history_base() + "/runs/" + str::url_encode(name) + "/children");
  if (r.status == 404) return out;
  if (!r.ok()) raise_arm_error(r, "GET run children of " + name);
  auto doc = json::parse(r.body, "run children");
  const json::Value* v = json::find(doc, "/value");
  if (v && v->IsArray())
    for (auto& c : v->GetArray())
      if (auto id = json::opt_string(c, "/runId")) out.push_back(*id);
  return out;
}

std::map<std::string, double> Workspace::metrics(const std::string& run) {
  std::map<std::string, double> out;
  auto r = arm_.send("GET", mlflow_base() + "/runs/get?run_id=" + str::url_encode(run));
  if (r.status == 404) return out;
  if (!r.ok()) raise_arm_error(r, "GET MLflow run " + run);
  auto doc = json::parse(r.body, "MLflow run");
  const json::Value* m = json::find(doc, "/run/data/metrics");
  if (m && m->IsArray())
    for (auto& x : m->GetArray()) {
      auto k = json::opt_string(x, "/key");
      auto v = json::opt_number(x, "/value");
      if (k && v) out[*k] = *v;
    }
  return out;
}

net::Response Workspace::read_url(const std::string& url, uint64_t offset) {
  net::Request req;
  req.url = url;
  if (url.find("sig=") == std::string::npos) req.headers.emplace_back("Authorization", "Bearer " + arm_.bearer());
  req.headers.emplace_back("x-ms-version", kBlobApiVersion);
  if (offset > 0) req.range = std::make_pair(offset, std::optional<uint64_t>());
  return arm_.http().send(std::move(req));
}

std::optional<json::Document> Workspace::get_model_container(const std::string& name) {
  return arm_.get_if_exists(path("/models/" + name));
}

std::vector<json::Document> Workspace::list_model_versions(const std::string& name, const std::string& tags,
                                                           const std::string& props, size_t top) {
  std::string p = path("/models/" + name + "/versions?api-version=" + arm_.options().api_version +
                       "&$orderBy=" + str::url_encode("createdtime desc"));
  if (!tags.empty()) p += "&tags=" + str::url_encode(tags);
  if (!props.empty()) p += "&properties=" + str::url_encode(props);
  if (top) p += "&$top=" + std::to_string(top);
  return arm_.list(p);
}

std::optional<json::Document> Workspace::get_model_version(const std::string& name, const std::string& version) {
  return arm_.get_if_exists(path("/models/" + name + "/versions/" + version));
}

json::Document Workspace::put_model_version(const std::string& name, const std::string& version,
                                            const json::Value& body) {
  return arm_.put(path("/models/" + name + "/versions/" + version), body);
}

BlobContainer Workspace::datastore_container(const std::string& name) {
  auto ds = arm_.get(path("/datastores/" + name));
  std::string account = json::get_string(ds, "/properties/accountName", "datastore " + name);
  std::string container = json::get_string(ds, "/properties/containerName", "datastore " + name);
  std::string endpoint = json::opt_string(ds, "/properties/endpoint").value_or("core.windows.net");
  std::string protocol = json::opt_string(ds, "/properties/protocol").value_or("https");
  // Emulators have no DNS name per account: they give the service URL (amlops-local's
  // blobServiceUri, or a full URL as the endpoint, e.g. http://127.0.0.1:PORT/ACCOUNT).
  std::string service = json::opt_string(ds, "/properties/blobServiceUri").value_or("");
  if (service.empty())
    service = endpoint.find("://") != std::string::npos ? endpoint : protocol + "://" + account + ".blob." + endpoint;
  while (!service.empty() && service.back() == '/') service.pop_back();
  std::string url = service + "/" + container;
  auto secrets = arm_.post(path("/datastores/" + name + "/listSecrets"), "", true);
  std::string type = json::opt_string(secrets, "/secretsType").value_or("");
  if (type == "AccountKey")
    return BlobContainer(arm_.http(), url,
                         BlobAuth::with_shared_key(account, json::get_string(secrets, "/key", "listSecrets")));
  if (type == "Sas")
    return BlobContainer(arm_.http(), url, BlobAuth::with_sas(json::get_string(secrets, "/sasToken", "listSecrets")));
  throw HttpError(200, "datastore " + name + ": unsupported secrets type '" + type + "'");
}

}  // namespace amlops::azure
