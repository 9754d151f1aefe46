// Azure ML workspace operations on the ARM client: discovery of the data-plane hosts (never built
// by hand), codes, environments, components, jobs (with run history and MLflow metrics),
// models, datastores. Each method is one documented REST operation (azureml-rest.md §4-§6).
#pragma once
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "azure/arm.hpp"
#include "azure/blob.hpp"
#include "core/json.hpp"

namespace amlops::azure {

struct PendingUpload {
  std::string blob_uri;  // folder/container URI to upload under
  std::string sas_uri;   // container SAS URI
};

// Terminal job states, and whether a state means success.
bool job_terminal(const std::string& status);
bool job_succeeded(const std::string& status);

class Workspace {
 public:
  Workspace(ArmClient& arm, WorkspaceRef ref);
  [[nodiscard]] const WorkspaceRef& ref() const { return ref_; }
  [[nodiscard]] std::string id() const { return ref_.arm_id(); }
  [[nodiscard]] std::string path(const std::string& sub) const { return ref_.arm_id() + sub; }
  ArmClient& arm() { return arm_; }

  // GET WS (cached).
  const json::Document& info();
  // The data-plane base from discoveryUrl ("api"), e.g. https://westus.api.azureml.ms.
  std::string api_base();
  std::string history_base();  // {api}/history/v1.0{ws id}
  std::string mlflow_base();   // from mlFlowTrackingUri + /api/2.0/mlflow

  // Codes
  std::optional<std::string> find_code_by_hash(const std::string& name, const std::string& hash,
                                               const std::string& hash_version);
  PendingUpload start_pending_upload(const std::string& asset, const std::string& name, const std::string& version);
  json::Document put_code_version(const std::string& name, const std::string& version, const std::string& code_uri,
                                  const std::string& hash, const std::string& hash_version);

  // Environments: GET, PUT only when absent. Returns the version's ARM id.
  std::string ensure_environment(const std::string& name, const std::string& version, const json::Value& body);
  // Components (anonymous pipeline steps). Returns the id the service answers with.
  std::string put_component(const std::string& name, const std::string& version, const json::Value& body);

  // Jobs
  json::Document put_job(const std::string& name, const json::Value& body);
  std::optional<json::Document> get_job(const std::string& name);
  void cancel_job(const std::string& name);
  json::Document run_details(const std::string& name);
  std::vector<std::string> run_children(const std::string& name);
  // Latest value of every metric of a run (MLflow runs/get).
  std::map<std::string, double> metrics(const std::string& run);
  // A URL under the data plane or a SAS URL, read with the right auth (logs). Range from `offset`.
  net::Response read_url(const std::string& url, uint64_t offset);

  // Models
  std::optional<json::Document> get_model_container(const std::string& name);
  std::vector<json::Document> list_model_versions(const std::string& name, const std::string& tags_filter = {},
                                                  const std::string& properties_filter = {}, size_t top = 0);
  std::optional<json::Document> get_model_version(const std::string& name, const std::string& version);
  json::Document put_model_version(const std::string& name, const std::string& version, const json::Value& body);

  // Datastores: a blob container client with the datastore's credentials.
  BlobContainer datastore_container(const std::string& name);

 private:
  ArmClient& arm_;
  WorkspaceRef ref_;
  std::optional<json::Document> info_;
  std::string api_;
  std::map<std::string, std::string> secrets_cache_;
};

// "azureml://host/path" -> "https://host/path" ("http://" for loopback hosts, as amlops-local serves).
std::string azureml_to_http(const std::string& uri);

}  // namespace amlops::azure
