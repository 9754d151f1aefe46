#include "ci/format.hpp"

#include <algorithm>
#include <initializer_list>

#include "core/strings.hpp"

namespace amlops::ci {
namespace {

constexpr size_t kMaxMessage = 4096;

// Replaces each character found in `table` by its escape; '%' is in every table, so escapes
// cannot be confused with literal text.
std::string escape(std::string_view s, std::initializer_list<std::pair<char, std::string_view>> table) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    auto it = std::find_if(table.begin(), table.end(), [c](const auto& e) { return e.first == c; });
    if (it == table.end())
      out += c;
    else
      out += it->second;
  }
  return out;
}

const char* severity_word(Severity s) {
  switch (s) {
    case Severity::error:
      return "error";
    case Severity::warning:
      return "warning";
    case Severity::notice:
      return "notice";
  }
  return "error";
}

}  // namespace

namespace github {

std::string escape_data(std::string_view s) { return escape(s, {{'%', "%25"}, {'\r', "%0D"}, {'\n', "%0A"}}); }

std::string escape_property(std::string_view s) {
  return escape(s, {{'%', "%25"}, {'\r', "%0D"}, {'\n', "%0A"}, {':', "%3A"}, {',', "%2C"}});
}

std::string annotation(const Annotation& a) {
  std::vector<std::string> props;
  if (!a.file.empty()) props.push_back("file=" + escape_property(a.file));
  int line = a.line, end_line = a.end_line, col = a.col, end_col = a.end_col;
  if (line <= 0) {
    line = end_line = 0;
    col = end_col = 0;  // the runner drops columns without a line
  }
  if (end_line > 0 && end_line < line) end_line = 0;
  if (end_line > 0 && end_line != line) col = end_col = 0;  // columns only within one line
  if (end_col > 0 && end_col < col) end_col = 0;
  if (line > 0) props.push_back("line=" + std::to_string(line));
  if (end_line > 0) props.push_back("endLine=" + std::to_string(end_line));
  if (col > 0) props.push_back("col=" + std::to_string(col));
  if (end_col > 0) props.push_back("endColumn=" + std::to_string(end_col));
  std::string title = a.title.empty() ? a.code : a.title;
  if (!title.empty()) props.push_back("title=" + escape_property(title));
  std::string msg = a.message.size() > kMaxMessage ? a.message.substr(0, kMaxMessage) : a.message;
  std::string out = "::";
  out += severity_word(a.severity);
  if (!props.empty()) out += " " + str::join(props, ",");
  return out + "::" + escape_data(msg);
}

std::string file_entry(std::string_view name, std::string_view value, std::string delimiter) {
  if (delimiter.empty()) delimiter = "ghadelimiter_" + str::random_hex(16);
  while (value.find(delimiter) != std::string_view::npos || name.find(delimiter) != std::string_view::npos) {
    delimiter = "ghadelimiter_" + str::random_hex(16);
  }
  std::string out(name);
  out += "<<" + delimiter + "\n";
  out += value;
  out += "\n" + delimiter + "\n";
  return out;
}

std::string mask(std::string_view secret) { return "::add-mask::" + escape_data(secret); }
std::string group_begin(std::string_view title) { return "::group::" + escape_data(title); }
std::string group_end() { return "::endgroup::"; }

}  // namespace github

namespace azure {

std::string escape_data(std::string_view s) { return escape(s, {{'%', "%AZP25"}, {'\r', "%0D"}, {'\n', "%0A"}}); }

std::string escape_property(std::string_view s) {
  return escape(s, {{'%', "%AZP25"}, {'\r', "%0D"}, {'\n', "%0A"}, {';', "%3B"}, {']', "%5D"}});
}

std::string logissue(const Annotation& a) {
  std::string type = a.severity == Severity::error ? "error" : "warning";  // Azure has no notice issues
  std::string out = "##vso[task.logissue type=" + type;
  if (!a.file.empty()) out += ";sourcepath=" + escape_property(a.file);
  if (a.line > 0) out += ";linenumber=" + std::to_string(a.line);
  if (a.line > 0 && a.col > 0) out += ";columnnumber=" + std::to_string(a.col);
  if (!a.code.empty()) out += ";code=" + escape_property(a.code);
  std::string msg = a.message.size() > kMaxMessage ? a.message.substr(0, kMaxMessage) : a.message;
  if (!a.title.empty() && a.title != a.code) msg = a.title + ": " + msg;
  return out + "]" + escape_data(msg);
}

std::string set_variable(std::string_view name, std::string_view value, bool is_output, bool is_secret) {
  std::string out = "##vso[task.setvariable variable=" + escape_property(name);
  if (is_output) out += ";isOutput=true";
  if (is_secret) out += ";issecret=true";
  return out + "]" + escape_data(value);
}

std::string set_secret(std::string_view value) { return "##vso[task.setsecret]" + escape_data(value); }
std::string upload_summary(std::string_view path) { return "##vso[task.uploadsummary]" + escape_data(path); }
std::string group_begin(std::string_view title) { return "##[group]" + escape_data(title); }
std::string group_end() { return "##[endgroup]"; }
std::string complete(std::string_view result, std::string_view message) {
  return "##vso[task.complete result=" + escape_property(result) + ";]" + escape_data(message);
}

}  // namespace azure

std::string annotation_path(const Env& env, const std::filesystem::path& file) {
  namespace fs = std::filesystem;
  auto root = env.nonempty("GITHUB_WORKSPACE");
  if (!root) root = env.nonempty("BUILD_SOURCESDIRECTORY");
  if (!root || file.empty()) return file.generic_string();
  std::error_code ec;
  fs::path abs = fs::weakly_canonical(fs::absolute(file, ec), ec);
  fs::path base = fs::weakly_canonical(fs::path(*root), ec);
  if (ec) return file.generic_string();
  fs::path rel = abs.lexically_relative(base);
  if (rel.empty() || *rel.begin() == "..") return file.generic_string();
  return rel.generic_string();
}

std::string input_env_name(Kind kind, std::string_view name) {
  std::string n(name);
  for (char& c : n) {
    if (c == ' ')
      c = '_';
    else if (kind == Kind::azure && c == '.')
      c = '_';
  }
  return "INPUT_" + str::to_upper(n);
}

}  // namespace amlops::ci
