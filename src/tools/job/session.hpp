// What amlops-job and amlops-model share: the connection options (workspace, ARM endpoint,
// api-version, credential), the authenticated clients, provenance tags and job waiting.
#pragma once
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "azure/arm.hpp"
#include "azure/auth.hpp"
#include "azure/workspace.hpp"
#include "spec/code_asset.hpp"
#include "tools/common/cli.hpp"

namespace amlops::jobtool {

void add_connection_options(cli::Command& cmd);
azure::WorkspaceRef workspace_ref(const cli::Command& cmd);

struct Session {
  std::unique_ptr<net::Client> http;
  std::shared_ptr<azure::TokenCache> tokens;
  std::unique_ptr<azure::ArmClient> arm;
  std::unique_ptr<azure::Workspace> ws;
};
Session connect(Context& ctx, const cli::Command& cmd);

// amlops.git_commit, amlops.git_ref, amlops.git_repository, amlops.git_dirty, amlops.ci_run_url.
std::map<std::string, std::string> provenance_tags(Context& ctx);

std::string studio_url(const json::Value& job);

struct WaitOptions {
  std::optional<Duration> timeout;
  bool stream = false;
  bool cancel_on_timeout = true;
  bool cancel_on_interrupt = true;
  Duration poll_min = std::chrono::milliseconds(500);
  Duration poll_max = std::chrono::seconds(10);
};

struct JobResult {
  std::string name;
  std::string status;
  std::string studio_url;
  std::map<std::string, double> metrics;
  double duration_s = 0;
};

// Polls until the job is terminal, streaming logs when asked. Timeout: cancels (unless told not
// to) and throws TimeoutError; SIGINT/SIGTERM: cancels and throws InterruptedError.
JobResult wait_job(Context& ctx, azure::Workspace& ws, const std::string& name, const WaitOptions& opts);
// Prints the job's logs once (or follows them until the job ends).
void print_logs(Context& ctx, azure::Workspace& ws, const std::string& name, bool follow);
JobResult describe_job(azure::Workspace& ws, const std::string& name, const json::Value& job);

struct UploadStats {
  int assets = 0;
  int reused = 0;
  size_t files = 0;
  uint64_t bytes = 0;
};
// Uploads files (4 in parallel) under `prefix` of the container.
void upload_files(azure::BlobContainer& container, const std::string& prefix, const std::vector<spec::CodeFile>& files);
// A local folder uploaded to the default datastore under LocalUpload/<hash>/<folder>/ as the SDK
// does (skipped when the indicator blob says a previous upload completed). Returns its
// azureml://datastores/workspaceblobstore/paths/... URI.
std::string ensure_input(azure::Workspace& ws, const std::filesystem::path& dir, UploadStats& stats);

// The path of blob `blob` relative to `prefix` (a datastore path naming a folder or one file),
// or nullopt when the blob is not inside it: "models/v1" holds "models/v1" and "models/v1/x",
// not "models/v10/x" (which a List Blobs by that prefix also returns).
std::optional<std::string> blob_relative_name(const std::string& prefix, const std::string& blob);

// The body of a model version PUT (azureml-rest.md §4.1, Workspace/ModelVersion/createOrUpdate).
json::Document model_version_body(const std::string& type, const std::string& uri, const std::string& description,
                                  const std::map<std::string, std::string>& tags,
                                  const std::map<std::string, std::string>& properties);

// Emits a JobResult (stdout text/json) and sets the CI step outputs; returns the exit code.
int emit_result(Context& ctx, const JobResult& r);

}  // namespace amlops::jobtool
