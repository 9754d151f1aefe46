// Online endpoints and deployments on the ARM client (azureml-rest.md §4 #20-#30), and scoring
// requests to an endpoint's scoring URI (endpoints-and-scoring.md §1.1). Traffic is changed only
// by a full PUT of the endpoint built from what the service answered (a PATCH carries tags only).
#pragma once
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "azure/workspace.hpp"
#include "deploy/traffic.hpp"
#include "net/http.hpp"

namespace amlops::deploy {

class Endpoints {
 public:
  // `entra` gives an Entra token for https://ml.azure.com (aad_token endpoints); unset: none.
  explicit Endpoints(azure::Workspace& ws, std::function<std::string()> entra = {})
      : ws_(ws), entra_(std::move(entra)) {}
  [[nodiscard]] std::string path(const std::string& endpoint, const std::string& deployment = {}) const;

  std::optional<json::Document> get(const std::string& endpoint);
  json::Document require(const std::string& endpoint);  // UsageError when absent
  json::Document put(const std::string& endpoint, const json::Value& body);
  // A full PUT of `current` (a GET answer) with this traffic, mirror traffic and tags changed.
  json::Document set_traffic(const std::string& endpoint, const json::Value& current, const Traffic& traffic,
                             const Traffic& mirror, const std::map<std::string, std::string>& tags);

  std::vector<json::Document> deployments(const std::string& endpoint);
  std::optional<json::Document> get_deployment(const std::string& endpoint, const std::string& name);
  json::Document put_deployment(const std::string& endpoint, const std::string& name, const json::Value& body);
  void delete_deployment(const std::string& endpoint, const std::string& name);
  // The last `tail` lines of the deployment's inference server log; empty when unavailable.
  std::string logs(const std::string& endpoint, const std::string& name, int tail = 50);

  // The secret for Authorization: Bearer: the primary key (Key), an aml_token (AMLToken) or an
  // Entra token for https://ml.azure.com (AADToken).
  std::string secret(const std::string& endpoint, const json::Value& ep);

  azure::Workspace& workspace() { return ws_; }

 private:
  azure::Workspace& ws_;
  std::function<std::string()> entra_;
};

// The PUT body of an endpoint from a GET answer: location, identity, kind, tags and the writable
// properties (authMode, description, traffic, mirrorTraffic, publicNetworkAccess); read-only
// fields (scoringUri, provisioningState, id, systemData, ...) left out.
json::Document endpoint_put_body(const json::Value& got);

std::string provisioning_state(const json::Value& resource);  // "Unknown" when absent
Traffic traffic_of_endpoint(const json::Value& ep);
Traffic mirror_of_endpoint(const json::Value& ep);
std::map<std::string, std::string> tags_of(const json::Value& resource);

// Sends scoring requests. A request is made once (no retry: an error is data for the health
// check) with the given timeout.
class Scorer {
 public:
  Scorer(net::Client& http, std::string scoring_uri, std::string secret)
      : http_(http), uri_(std::move(scoring_uri)), secret_(std::move(secret)) {}
  // POST the body; `deployment` non-empty sets azureml-model-deployment (header routing).
  Sample score(const std::string& body, const std::string& deployment = {}, std::string* response = nullptr);
  [[nodiscard]] const std::string& uri() const { return uri_; }

 private:
  net::Client& http_;
  std::string uri_;
  std::string secret_;
};

}  // namespace amlops::deploy
