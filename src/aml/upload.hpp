// Local folders into the workspace: code versions (reused by content hash) and input folders
// under the default datastore, as the Azure ML SDK uploads them.
#pragma once
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "azure/blob.hpp"
#include "azure/workspace.hpp"
#include "spec/code_asset.hpp"

namespace amlops::aml {

struct UploadStats {
  int assets = 0;
  int reused = 0;
  int hashes_cached = 0;  // content hashes taken from the hash cache (no file read)
  size_t files = 0;
  uint64_t bytes = 0;
};

// Uploads files under `prefix` of the container, `parallelism` at a time; the first error is
// rethrown once every worker has stopped.
void upload_files(azure::BlobContainer& container, const std::string& prefix, const std::vector<spec::CodeFile>& files,
                  int parallelism = 4);

// ConfigError naming the first symbolic link under `root` through which a file resolves outside
// `root` (such files are never uploaded). A `root` that is a single file is not checked; only files
// reached through a link (CodeFile::linked) are resolved, the others are inside by construction.
void refuse_links_outside(const std::filesystem::path& root, const std::vector<spec::CodeFile>& files);

// A code folder (its links checked by refuse_links_outside; data folders may link to a cache
// elsewhere, as DVC does, code may not): reuses a code version with the same content hash, else
// startPendingUpload, upload, mark the upload complete, and create the version. Returns the code version's ARM id.
// The content hash goes through `cache` (spec::HashCache; default: off).
std::string ensure_code(azure::Workspace& ws, const std::filesystem::path& dir, UploadStats& stats,
                        const spec::HashCache& cache = {});

// A local folder (or file) uploaded to the default datastore under
// LocalUpload/<hash>/<folder>/ as the SDK does (skipped when the indicator blob says a previous upload completed).
// Returns its azureml://datastores/workspaceblobstore/paths/... URI.
std::string ensure_input(azure::Workspace& ws, const std::filesystem::path& path, UploadStats& stats,
                         const spec::HashCache& cache = {});

}  // namespace amlops::aml
