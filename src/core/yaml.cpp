#include "core/yaml.hpp"

#include "core/files.hpp"
#include "core/strings.hpp"

namespace amlops::yaml {

SourceLocation Document::at(const YAML::Node& node) const {
  auto m = node.Mark();
  if (m.is_null()) return {file, 0, 0};
  return {file, m.line + 1, m.column + 1};
}

void Document::fail(const YAML::Node& node, const std::string& message) const { throw ConfigError(at(node), message); }

std::optional<std::string> Document::opt_string(const YAML::Node& map, const std::string& key) const {
  if (!map.IsMap()) return std::nullopt;
  YAML::Node v = map[key];
  if (!v || v.IsNull()) return std::nullopt;
  if (!v.IsScalar()) fail(v, "'" + key + "' must be a string");
  return v.Scalar();
}

std::string Document::get_string(const YAML::Node& map, const std::string& key) const {
  auto v = opt_string(map, key);
  if (!v) fail(map, "missing required key '" + key + "'");
  return *v;
}

std::optional<double> Document::opt_number(const YAML::Node& map, const std::string& key) const {
  auto s = opt_string(map, key);
  if (!s) return std::nullopt;
  auto d = str::parse_double(*s);
  if (!d) fail(map[key], "'" + key + "' must be a number, got '" + *s + "'");
  return d;
}

std::optional<bool> Document::opt_bool(const YAML::Node& map, const std::string& key) const {
  auto s = opt_string(map, key);
  if (!s) return std::nullopt;
  std::string l = str::to_lower(*s);
  if (l == "true" || l == "yes" || l == "on") return true;
  if (l == "false" || l == "no" || l == "off") return false;
  fail(map[key], "'" + key + "' must be true or false, got '" + *s + "'");
}

Document load_string(const std::string& text, const std::string& source) {
  try {
    return {source, YAML::Load(text)};
  } catch (const YAML::Exception& e) {
    SourceLocation where{source, e.mark.is_null() ? 0 : e.mark.line + 1, e.mark.is_null() ? 0 : e.mark.column + 1};
    throw ConfigError(where, "YAML syntax error: " + e.msg);
  }
}

Document load_file(const std::filesystem::path& path) { return load_string(files::read(path), path.string()); }

std::string scalar(const YAML::Node& node) {
  if (!node || !node.IsScalar()) return {};
  return node.Scalar();
}

}  // namespace amlops::yaml
