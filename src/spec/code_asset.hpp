// Code snapshots as the Azure ML SDK makes them: the ignore file (.amlignore, else .gitignore,
// gitwildmatch semantics), the file list, and the content hash (hash version 202208) that lets
// the service find an identical code version instead of uploading it again.
#pragma once
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

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
};

// Files under `dir` not excluded by its ignore rules (symlinks followed; .git never included),
// sorted by lower-cased relative path as the hash orders them. Throws ConfigError when `dir` is
// not a directory (a single file is accepted and listed alone).
std::vector<CodeFile> collect_code_files(const std::filesystem::path& dir);

// SHA-256 (hex) over: the file count; for each file "#rel#" and its size in decimal; then every
// file's bytes, in the order of collect_code_files. Hash version 202208.
std::string content_hash(const std::vector<CodeFile>& files);

}  // namespace amlops::spec
