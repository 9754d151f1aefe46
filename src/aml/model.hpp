// Model versions: the next version number, registration that is safe to repeat (the same job
// output or content registered again returns the existing version), and download.
#pragma once
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "azure/workspace.hpp"
#include "core/json.hpp"

namespace amlops::aml {

// The body of a model version PUT (azureml-rest.md §4.1, Workspace/ModelVersion/createOrUpdate).
json::Document model_version_body(const std::string& type, const std::string& uri, const std::string& description,
                                  const std::map<std::string, std::string>& tags,
                                  const std::map<std::string, std::string>& properties);

// The next version of a model from its container (nextVersion, else latestVersion + 1) and its
// versions (one above the highest numeric one): the larger; 1 for a new model.
int64_t next_version(const json::Value* container, const std::vector<json::Document>& versions);
std::string next_model_version(azure::Workspace& ws, const std::string& name);

// The property amlops.source: what a version was registered from (a hash of its URI).
std::string model_source(const std::string& model_uri);

struct RegisterRequest {
  std::string name;
  std::string type = "custom_model";  // custom_model, mlflow_model, triton_model
  std::string from_job;               // a Completed job whose output is the model, or
  std::string output_name = "model";
  std::string path;     // a local folder/file (uploaded) or an azureml:// / https:// URI
  std::string version;  // default: the next one
  std::string description;
  std::map<std::string, std::string> tags;  // the user's; they win over the computed ones
  // The provenance of the checkout; called only when the job has none.
  std::function<std::map<std::string, std::string>()> provenance;
};

struct Registered {
  json::Document version;  // the service's model version
  std::string version_name;
  std::string model_uri;
  bool existing = false;  // already registered from the same source
};

// Errors: UsageError (job or output not found), CheckFailed (job not Completed), HttpError.
Registered register_model(azure::Workspace& ws, const RegisterRequest& req);

// A model's versions, newest first, with every tag filter ("k=v": tag k is v; "k": tag k is set),
// sent to the service and checked again here. A model without versions lists none; a 404 from a
// workspace that does not exist is an HttpError (exit 4), not an empty list.
std::vector<json::Document> list_models(azure::Workspace& ws, const std::string& name,
                                        const std::vector<std::string>& tag_filters = {});

// The model version's own storage URI: azureml://jobs/<j>/outputs/<o>[/paths/<p>] resolved to the
// job output's URI; others unchanged.
std::string resolve_model_uri(azure::Workspace& ws, const std::string& uri);

struct Downloaded {
  size_t files = 0;
  uint64_t bytes = 0;
};
// Downloads the files of model version name:version (a datastore folder or file) under `to`.
Downloaded download_model(azure::Workspace& ws, const std::string& name, const std::string& version,
                          const std::filesystem::path& to);

}  // namespace amlops::aml
