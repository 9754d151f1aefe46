// Git metadata on libgit2 with RAII handles: HEAD, branch, remote, dirty state, tracked files,
// and a walk over the history's blobs. Works when the checkout belongs to another user (a
// container action running as root on the runner's checkout).
#pragma once
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/env.hpp"

struct git_repository;

namespace amlops::git {

struct CommitInfo {
  std::string id;  // full hex
  std::string summary;
  std::string author;
  int64_t time = 0;  // seconds since epoch
};

// One blob reached by the history walk: first seen in `commit` at `path`.
struct HistoryBlob {
  const CommitInfo* commit;
  std::string path;
  std::string blob_id;
  uint64_t size;  // 0 when the clone does not have the blob
  // False when the clone does not have the blob (a partial clone made with --filter): it is not
  // read, and `load` must not be called.
  bool available = true;
  // Loads the content (only when the visitor needs it).
  std::function<std::string()> load;
};

struct HistoryOptions {
  size_t max_commits = 0;  // 0 = all
  // Merge commits add nothing of their own in most histories; skipping them saves a diff each.
  // Each distinct blob is visited once, at the newest commit (the walk's first) that adds it.
  bool skip_merges = false;
};

// What a history walk read and what the clone did not have. The walk reads only the local object
// database and never fetches: libgit2 has no promisor-remote (lazy fetch) support, and the walk
// checks that an object is present before reading it.
struct HistoryCoverage {
  size_t commits = 0;             // commits walked (merges skipped by skip_merges included)
  size_t unreadable_commits = 0;  // walked commits whose tree (or first parent's tree) is missing: not diffed
  size_t boundary_commits = 0;    // walked commits with a parent the clone does not have (shallow boundary)
  size_t missing_blobs = 0;       // distinct blobs added by walked commits that the clone does not have
  bool shallow = false;           // a shallow clone (--depth, fetch-depth: N): .git/shallow grafts
  bool partial = false;           // a partial clone (--filter): a promisor remote
  std::string filter;             // its filter ("blob:none") when the config names one
  bool truncated = false;         // max_commits stopped the walk with older commits left
  [[nodiscard]] bool complete() const {
    return !truncated && !boundary_commits && !missing_blobs && !unreadable_commits;
  }
};
class Repo {
 public:
  // Finds the repository containing `start`; nullopt when there is none.
  static std::optional<Repo> discover(const std::filesystem::path& start);
  // Opens `path` or throws GitError.
  static Repo open(const std::filesystem::path& path);

  Repo(Repo&&) noexcept;
  Repo& operator=(Repo&&) noexcept;
  ~Repo();

  [[nodiscard]] std::filesystem::path workdir() const;
  // Full hex id of HEAD; nullopt in an empty repository.
  [[nodiscard]] std::optional<std::string> head_commit() const;
  // "main" for refs/heads/main; nullopt when HEAD is detached.
  [[nodiscard]] std::optional<std::string> branch() const;
  // "refs/heads/main", or "HEAD" when detached.
  [[nodiscard]] std::string head_ref() const;
  // Remote URL with user:password@ removed.
  [[nodiscard]] std::optional<std::string> remote_url(const std::string& name = "origin") const;
  // Modified, staged, deleted or untracked (not ignored) files exist.
  [[nodiscard]] bool dirty() const;
  // Paths in the index (relative, '/'-separated).
  [[nodiscard]] std::vector<std::string> tracked_files() const;
  // Whether a path is ignored by .gitignore rules.
  [[nodiscard]] bool ignored(const std::string& relative_path) const;
  // Walks commits reachable from HEAD (newest first by commit time); for each commit, each blob it
  // adds or changes versus its first parent (all blobs for a root commit, and for a commit whose
  // first parent a shallow clone does not have). A blob id is visited once. Objects the clone does
  // not have are skipped and counted, never fetched; a corrupt repository still throws GitError.
  HistoryCoverage walk_history(const std::function<void(const HistoryBlob&)>& visit,
                               const HistoryOptions& opts = {}) const;
  // A shallow clone (git clone --depth N).
  [[nodiscard]] bool shallow() const;
  // A partial clone (git clone --filter=...): some remote is a promisor remote. `filter` gets the
  // filter spec when the config names one.
  [[nodiscard]] bool partial(std::string* filter = nullptr) const;

 private:
  explicit Repo(git_repository* r);
  git_repository* repo_ = nullptr;
};

// Strips credentials from a URL ("https://user:tok@host/x" -> "https://host/x").
std::string strip_credentials(const std::string& url);
// "owner/name" from a GitHub/Azure DevOps remote URL, when recognisable.
std::optional<std::string> repository_slug(const std::string& url);

// Provenance of the current checkout, for job tags and model properties. CI variables fill what
// the checkout cannot tell (detached HEAD on CI: GITHUB_REF / BUILD_SOURCEBRANCH).
struct Provenance {
  std::optional<std::string> commit;
  std::optional<std::string> ref;
  std::optional<std::string> repository;  // URL without credentials
  bool dirty = false;
  std::optional<std::string> run_url;
};
Provenance provenance(const Env& env, const std::filesystem::path& start, std::optional<std::string> run_url);

}  // namespace amlops::git
