// YAML on yaml-cpp, keeping file:line:col for every error a user can act on.
#pragma once
#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "core/error.hpp"

namespace amlops::yaml {

// A parsed YAML document and the file it came from.
struct Document {
  std::string file;
  YAML::Node root;

  // 1-based location of a node (its mark).
  [[nodiscard]] SourceLocation at(const YAML::Node& node) const;
  [[noreturn]] void fail(const YAML::Node& node, const std::string& message) const;
  // Typed access to map members; wrong types fail at the member's location.
  [[nodiscard]] std::optional<std::string> opt_string(const YAML::Node& map, const std::string& key) const;
  [[nodiscard]] std::string get_string(const YAML::Node& map, const std::string& key) const;
  [[nodiscard]] std::optional<double> opt_number(const YAML::Node& map, const std::string& key) const;
  [[nodiscard]] std::optional<bool> opt_bool(const YAML::Node& map, const std::string& key) const;
};

// Limits of every YAML document we read (a user's file is untrusted input).
inline constexpr size_t kMaxDocumentBytes = 16 * 1024 * 1024;  // 16 MiB
// Nodes that aliases may add when the document is expanded (each "*a" counts the nodes of the
// anchored node): "billion laughs" documents stop here instead of growing to gigabytes.
inline constexpr uint64_t kMaxAliasNodes = 1'000'000;

struct LoadOptions {
  size_t max_bytes = kMaxDocumentBytes;
  uint64_t max_alias_nodes = kMaxAliasNodes;
  bool unique_keys = false;  // a key repeated in one mapping is an error (at the second one)
};

// Syntax errors, documents over the limits and recursive aliases become ConfigError with
// file:line:col. Reading and parsing stop with InterruptedError on SIGINT/SIGTERM
// (signals::install). The time taken is linear in the document's size.
Document load_file(const std::filesystem::path& path, const LoadOptions& opts = {});
Document load_string(const std::string& text, const std::string& source, const LoadOptions& opts = {});

// Converts a scalar node to text without throwing (empty for non-scalars).
std::string scalar(const YAML::Node& node);

}  // namespace amlops::yaml
