// azureml:// URIs and asset references as the tools meet them: NAME:VERSION, datastore paths,
// job outputs, and the blobs under a datastore path.
#pragma once
#include <optional>
#include <string>

namespace amlops::aml {

struct NameVersion {
  std::string name;
  std::string version;
};
// "NAME:VERSION" or "azureml:NAME:VERSION"; UsageError otherwise.
NameVersion parse_name_version(const std::string& text);

struct DatastorePath {
  std::string datastore;
  std::string path;  // inside the datastore's container, without a leading '/'
};
// azureml://datastores/<ds>/paths/<p>, or the same after the workspace prefix
// azureml://subscriptions/<s>/resourcegroups/<rg>/[providers/Microsoft.MachineLearningServices/]workspaces/<w>/.
std::optional<DatastorePath> parse_datastore_uri(const std::string& uri);
std::string datastore_uri(const std::string& datastore, const std::string& path);

struct JobOutputRef {
  std::string job;
  std::string output;
  std::string path;  // after /paths/, empty when absent
};
// azureml://jobs/<job>/outputs/<output>[/paths/<p>].
std::optional<JobOutputRef> parse_job_output_uri(const std::string& uri);
std::string job_output_uri(const std::string& job, const std::string& output);

// A workspace asset by label: "azureml:<name>@<label>" (e.g. azureml:myenv@latest).
struct LabelRef {
  std::string name;
  std::string label;
};
std::optional<LabelRef> parse_label_ref(const std::string& ref);

// The path of blob `blob` relative to `prefix` (a datastore path naming a folder or one file),
// or nullopt when the blob is not inside it: "models/v1" holds "models/v1" and "models/v1/x",
// not "models/v10/x" (which a List Blobs by that prefix also returns).
std::optional<std::string> blob_relative_name(const std::string& prefix, const std::string& blob);

}  // namespace amlops::aml
