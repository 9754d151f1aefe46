// Code snapshots as the Azure ML SDK makes them: the ignore file (.amlignore, else .gitignore,
// gitwildmatch semantics), the file list, and the content hash (hash version 202208) that lets
// the service find an identical code version instead of uploading it again.
#pragma once
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "core/env.hpp"
#include "spec/refs.hpp"

namespace amlops::spec {

inline constexpr const char* kHashVersion = "202208";

// gitignore-style rules: '#' comments, '!' negation, trailing '/' for directories, patterns as
// spec::Glob reads them; the last matching rule wins.
class IgnoreRules {
 public:
  IgnoreRules() = default;
  static IgnoreRules parse(const std::string& text);
  // .amlignore in `dir` when present, else .gitignore, else no rules.
  static IgnoreRules load(const std::filesystem::path& dir);
  // `rel` is '/'-separated and relative to the root.
  [[nodiscard]] bool ignored(const std::string& rel, bool is_dir) const;
  [[nodiscard]] const std::string& source() const { return source_; }
  [[nodiscard]] size_t size() const { return rules_.size(); }

 private:
  struct Rule {
    Glob glob;
    bool negate = false;
    bool dir_only = false;
  };
  std::vector<Rule> rules_;
  std::string source_;
};

struct CodeFile {
  std::string rel;             // '/'-separated, relative to the code root
  std::filesystem::path path;  // absolute
  uint64_t size = 0;
  bool linked = false;  // reached through a symbolic link (the file or a folder on its way)
  // State when listed (stat, links followed): what the hash cache compares.
  uint64_t dev = 0, ino = 0;
  int64_t mtime_ns = 0, ctime_ns = 0;
};

// Files under `dir` not excluded by its ignore rules (symlinks followed; .git never included), with
// their state (one stat each),
// sorted by lower-cased relative path as the hash orders them. Throws ConfigError when `dir` is
// not a directory (a single file is accepted and listed alone).
std::vector<CodeFile> collect_code_files(const std::filesystem::path& dir);

// SHA-256 (hex) over: the file count; for each file "#rel#" and its size in decimal; then every
// file's bytes, in the order of collect_code_files. Hash version 202208.
std::string content_hash(const std::vector<CodeFile>& files);

// Content hashes remembered per folder, the way git's index remembers file states: an entry holds
// the hash and a fingerprint of every file's path, size, mtime (ns), ctime (ns), inode and device.
// When every file still has the same fingerprint the hash is reused without reading any content.
// Trade-off (as git's): a change that leaves size, mtime, ctime and inode as they were is not
// seen. Restoring an mtime (touch -d, utimensat) does not hide a change, because the kernel sets
// ctime to the current time on every change and nothing can set it back; what can hide one is a
// file system without reliable timestamps (some network or FUSE mounts) or a clock set back.
// Files modified within `racy` of the hashing (timestamps are coarse: jiffies on ext4, 2 s on FAT)
// could change again with the same timestamps, so a folder holding one is not remembered.
// Concurrent runs are safe (an entry is replaced by rename); an unreadable or corrupt entry is
// ignored and rewritten. `--no-hash-cache` turns it off (dir empty).
struct HashCache {
  std::filesystem::path dir;  // empty: off
  std::chrono::nanoseconds racy = std::chrono::seconds(2);
};

// $AMLOPS_CACHE_DIR, else $XDG_CACHE_HOME/amlops, else $HOME/.cache/amlops; + "/content-hashes".
// Empty (no cache) when none of these is set.
std::filesystem::path default_hash_cache_dir(const Env& env);

// content_hash(files) of the folder (or file) `root`, through `cache`. `hit` (optional) tells
// whether the hash came from the cache.
std::string content_hash(const std::filesystem::path& root, const std::vector<CodeFile>& files, const HashCache& cache,
                         bool* hit = nullptr);

}  // namespace amlops::spec
