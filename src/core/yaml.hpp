// YAML on yaml-cpp, keeping file:line:col for every error a user can act on.
#pragma once
#include <yaml-cpp/yaml.h>

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

// Syntax errors become ConfigError with file:line:col.
Document load_file(const std::filesystem::path& path);
Document load_string(const std::string& text, const std::string& source);

// Converts a scalar node to text without throwing (empty for non-scalars).
std::string scalar(const YAML::Node& node);

}  // namespace amlops::yaml
