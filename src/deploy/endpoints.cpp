#include "deploy/endpoints.hpp"

#include <chrono>

#include "core/error.hpp"
#include "core/log.hpp"
#include "core/strings.hpp"

namespace amlops::deploy {

std::string Endpoints::path(const std::string& endpoint, const std::string& deployment) const {
  std::string p = ws_.path("/onlineEndpoints/" + str::url_encode(endpoint));
  if (!deployment.empty()) p += "/deployments/" + str::url_encode(deployment);
  return p;
}

std::optional<json::Document> Endpoints::get(const std::string& endpoint) {
  return ws_.arm().get_if_exists(path(endpoint));
}

json::Document Endpoints::require(const std::string& endpoint) {
  auto ep = get(endpoint);
  if (!ep) throw UsageError("endpoint " + endpoint + " not found in workspace " + ws_.ref().name);
  return std::move(*ep);
}

json::Document Endpoints::put(const std::string& endpoint, const json::Value& body) {
  return ws_.arm().put(path(endpoint), body);
}

json::Document endpoint_put_body(const json::Value& got) {
  json::Document b;
  b.SetObject();
  json::Builder jb(b.GetAllocator());
  for (const char* k : {"location", "identity", "kind", "tags", "sku"})
    if (const json::Value* v = json::find(got, std::string("/") + k); v && !v->IsNull()) jb.set(b, k, jb.copy(*v));
  json::Value props = jb.obj();
  for (const char* k : {"authMode", "description", "traffic", "mirrorTraffic", "publicNetworkAccess", "compute"})
    if (const json::Value* v = json::find(got, std::string("/properties/") + k); v && !v->IsNull())
      jb.set(props, k, jb.copy(*v));
  jb.set(b, "properties", std::move(props));
  // The system-assigned identity's ids are read-only: only its type is sent.
  if (b.HasMember("identity") && b["identity"].IsObject()) {
    b["identity"].RemoveMember("principalId");
    b["identity"].RemoveMember("tenantId");
  }
  return b;
}

json::Document Endpoints::set_traffic(const std::string& endpoint, const json::Value& current, const Traffic& traffic,
                                      const Traffic& mirror, const std::map<std::string, std::string>& tags) {
  json::Document body = endpoint_put_body(current);
  json::Builder b(body.GetAllocator());
  b.set(body["properties"], "traffic", traffic_json(normalized(traffic), body.GetAllocator()));
  b.set(body["properties"], "mirrorTraffic", traffic_json(normalized(mirror), body.GetAllocator()));
  if (!body.HasMember("tags") || !body["tags"].IsObject()) b.set(body, "tags", b.obj());
  for (auto& [k, v] : tags) b.set(body["tags"], k, v);
  log::debug("PUT endpoint ", endpoint, ": traffic ", traffic_text(traffic), ", mirror ", traffic_text(mirror));
  return put(endpoint, body);
}

std::vector<json::Document> Endpoints::deployments(const std::string& endpoint) {
  return ws_.arm().list(path(endpoint) + "/deployments");
}

std::optional<json::Document> Endpoints::get_deployment(const std::string& endpoint, const std::string& name) {
  return ws_.arm().get_if_exists(path(endpoint, name));
}

json::Document Endpoints::put_deployment(const std::string& endpoint, const std::string& name,
                                         const json::Value& body) {
  return ws_.arm().put(path(endpoint, name), body);
}

void Endpoints::delete_deployment(const std::string& endpoint, const std::string& name) {
  ws_.arm().del(path(endpoint, name));
}

std::string Endpoints::logs(const std::string& endpoint, const std::string& name, int tail) {
  try {
    auto doc = ws_.arm().post(path(endpoint, name) + "/getLogs",
                              R"({"containerType":"InferenceServer","tail":)" + std::to_string(tail) + "}", true);
    return json::opt_string(doc, "/content").value_or("");
  } catch (const Error& e) {
    log::warn("logs of deployment ", name, ": ", e.what());
    return {};
  }
}

std::string Endpoints::secret(const std::string& endpoint, const json::Value& ep) {
  std::string mode = json::opt_string(ep, "/properties/authMode").value_or("Key");
  if (str::iequals(mode, "AMLToken")) {
    auto doc = ws_.arm().post(path(endpoint) + "/token", "", true);
    return json::get_string(doc, "/accessToken", "token of endpoint " + endpoint);
  }
  if (str::iequals(mode, "AADToken")) {
    if (!entra_) throw UsageError("endpoint " + endpoint + " uses aad_token auth, which needs an Entra credential");
    return entra_();
  }
  auto doc = ws_.arm().post(path(endpoint) + "/listKeys", "", true);
  return json::get_string(doc, "/primaryKey", "keys of endpoint " + endpoint);
}

std::string provisioning_state(const json::Value& resource) {
  return json::opt_string(resource, "/properties/provisioningState").value_or("Unknown");
}

Traffic traffic_of_endpoint(const json::Value& ep) {
  return normalized(traffic_of(json::find(ep, "/properties/traffic"), "properties.traffic of the endpoint"));
}

Traffic mirror_of_endpoint(const json::Value& ep) {
  return normalized(
      traffic_of(json::find(ep, "/properties/mirrorTraffic"), "properties.mirrorTraffic of the endpoint"));
}

std::map<std::string, std::string> tags_of(const json::Value& resource) { return json::string_map(resource, "/tags"); }

Sample Scorer::score(const std::string& body, const std::string& deployment, std::string* response) {
  net::Request req;
  req.method = "POST";
  req.url = uri_;
  req.body = body;
  req.idempotent = false;
  req.headers.emplace_back("Authorization", "Bearer " + secret_);
  req.headers.emplace_back("Content-Type", "application/json");
  if (!deployment.empty()) req.headers.emplace_back("azureml-model-deployment", deployment);
  net::RetryPolicy p = http_.policy();
  p.max_attempts = 1;
  p.deadline = std::chrono::seconds(60);
  req.policy = p;
  Sample s;
  auto start = std::chrono::steady_clock::now();
  try {
    net::Response r = http_.send(std::move(req));
    s.status = r.status;
    s.deployment = r.header("azureml-model-deployment").value_or("");
    if (r.status != 200) s.error = "HTTP " + std::to_string(r.status) + ": " + r.body.substr(0, 200);
    if (response) *response = std::move(r.body);
  } catch (const HttpError& e) {
    s.status = 0;
    s.error = e.what();
  }
  s.ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  return s;
}

}  // namespace amlops::deploy
