#include "aml/upload.hpp"

#include <atomic>
#include <mutex>
#include <thread>

#include "aml/uri.hpp"
#include "core/error.hpp"
#include "core/log.hpp"

namespace amlops::aml {
namespace fs = std::filesystem;

void upload_files(azure::BlobContainer& container, const std::string& prefix, const std::vector<spec::CodeFile>& files,
                  int parallelism) {
  std::atomic<size_t> next{0};
  std::mutex mu;
  std::exception_ptr error;
  auto worker = [&] {
    for (;;) {
      size_t i = next.fetch_add(1);
      if (i >= files.size()) return;
      {
        std::lock_guard<std::mutex> lock(mu);
        if (error) return;
      }
      try {
        container.upload_file(prefix + files[i].rel, files[i].path);
      } catch (...) {
        std::lock_guard<std::mutex> lock(mu);
        if (!error) error = std::current_exception();
      }
    }
  };
  std::vector<std::thread> threads;
  size_t n = std::min<size_t>(static_cast<size_t>(std::max(1, parallelism)), files.size());
  for (size_t t = 0; t < n; ++t) threads.emplace_back(worker);
  for (auto& t : threads) t.join();
  if (error) std::rethrow_exception(error);
}

namespace {
uint64_t total_bytes(const std::vector<spec::CodeFile>& files) {
  uint64_t bytes = 0;
  for (auto& f : files) bytes += f.size;
  return bytes;
}

std::string folder_name(const fs::path& dir) { return fs::absolute(dir).lexically_normal().filename().string(); }

bool inside(const fs::path& p, const fs::path& base) {
  auto rel = p.lexically_relative(base);
  return !rel.empty() && *rel.begin() != "..";
}
}  // namespace

void refuse_links_outside(const fs::path& root, const std::vector<spec::CodeFile>& files) {
  std::error_code ec;
  if (!fs::is_directory(root, ec)) return;  // a single file named by the user
  fs::path base = fs::weakly_canonical(fs::absolute(root), ec);
  if (ec) return;
  for (auto& f : files) {
    if (!f.linked) continue;  // no link on its way: inside
    fs::path target = fs::weakly_canonical(f.path, ec);
    if (!ec && inside(target, base)) continue;
    // The first symbolic link on the way to the file.
    fs::path link = root;
    for (auto& part : fs::path(f.rel)) {
      link /= part;
      if (fs::is_symlink(link, ec)) break;
    }
    std::string to = fs::is_symlink(link, ec) ? fs::read_symlink(link, ec).string() : target.string();
    throw ConfigError(root.string() + ": " + link.string() + " is a symbolic link to " + to +
                      ", outside the folder; it is not uploaded (copy what it points to into the folder, or remove "
                      "the link)");
  }
}

namespace {
std::string hash_of(const fs::path& root, const std::vector<spec::CodeFile>& files, const spec::HashCache& cache,
                    UploadStats& stats) {
  bool hit = false;
  std::string hash = spec::content_hash(root, files, cache, &hit);
  if (hit) ++stats.hashes_cached;
  return hash;
}
}  // namespace

std::string ensure_code(azure::Workspace& ws, const fs::path& dir, UploadStats& stats, const spec::HashCache& cache) {
  auto files = spec::collect_code_files(dir);
  if (files.empty()) throw ConfigError("code folder " + dir.string() + " has no files (after its ignore rules)");
  refuse_links_outside(dir, files);
  std::string hash = hash_of(dir, files, cache, stats);
  std::string name = "amlops-code-" + hash.substr(0, 32);
  const std::string version = "1";
  ++stats.assets;
  if (auto id = ws.find_code_by_hash(name, hash, spec::kHashVersion)) {
    log::info("code ", dir.string(), ": unchanged (", hash.substr(0, 12), "), reusing ", *id);
    ++stats.reused;
    return *id;
  }
  auto pending = ws.start_pending_upload("codes", name, version);
  auto container = azure::BlobContainer::from_sas_uri(ws.arm().http(), pending.sas_uri);
  // blobUri may name a folder inside the SAS container.
  std::string blob_uri = pending.blob_uri;
  while (!blob_uri.empty() && blob_uri.back() == '/') blob_uri.pop_back();
  std::string prefix;
  const std::string& base = container.url();
  if (blob_uri.size() > base.size() && blob_uri.compare(0, base.size(), base) == 0)
    prefix = blob_uri.substr(base.size() + 1) + "/";
  std::string folder = folder_name(dir);
  if (folder.empty()) folder = "code";
  prefix += folder + "/";
  uint64_t bytes = total_bytes(files);
  log::info("code ", dir.string(), ": uploading ", files.size(), " files (", bytes, " bytes)");
  upload_files(container, prefix, files);
  container.set_metadata(prefix + files.front().rel,
                         {{"upload_status", "completed"}, {"name", name}, {"version", version}});
  stats.files += files.size();
  stats.bytes += bytes;
  auto doc = ws.put_code_version(name, version, blob_uri + "/" + folder, hash, spec::kHashVersion);
  return json::opt_string(doc, "/id").value_or(ws.path("/codes/" + name + "/versions/" + version));
}

std::string ensure_input(azure::Workspace& ws, const fs::path& path, UploadStats& stats, const spec::HashCache& cache) {
  auto files = spec::collect_code_files(path);
  if (files.empty()) throw ConfigError("input folder " + path.string() + " has no files");
  bool single = fs::is_regular_file(path);
  std::string hash = hash_of(path, files, cache, stats).substr(0, 32);
  std::string folder = folder_name(path);
  std::string prefix = "LocalUpload/" + hash + "/" + (single ? "" : folder + "/");
  auto container = ws.datastore_container("workspaceblobstore");
  ++stats.assets;
  auto head = container.head(prefix + files.front().rel);
  if (head && head->metadata.count("upload_status") && head->metadata["upload_status"] == "completed") {
    ++stats.reused;
  } else {
    upload_files(container, prefix, files);
    container.set_metadata(prefix + files.front().rel,
                           {{"upload_status", "completed"}, {"name", folder}, {"version", "1"}});
    stats.files += files.size();
    stats.bytes += total_bytes(files);
  }
  return datastore_uri("workspaceblobstore", prefix + (single ? files.front().rel : ""));
}

}  // namespace amlops::aml
