// Pieces shared by the rule files of amlops_lint (not part of the library's interface).
#pragma once
#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "lint/lint.hpp"

namespace amlops::lint::detail {

// Line index over a text: offsets <-> 1-based line:col.
class Text {
 public:
  explicit Text(std::string_view data);
  [[nodiscard]] std::string_view data() const { return data_; }
  [[nodiscard]] int line_of(size_t offset) const;
  [[nodiscard]] int col_of(size_t offset) const;
  [[nodiscard]] std::string_view line(int n) const;  // without the newline; empty when out of range
  [[nodiscard]] int lines() const { return static_cast<int>(starts_.size()); }
  [[nodiscard]] size_t offset(int line) const;  // start of line n

 private:
  std::string_view data_;
  std::vector<size_t> starts_;
};

// PCRE2 (JIT) regular expression. Matching is byte-wise.
class Regex {
 public:
  explicit Regex(std::string_view pattern, bool caseless = false);
  ~Regex();
  Regex(const Regex&) = delete;
  Regex& operator=(const Regex&) = delete;
  struct Match {
    size_t begin = 0, end = 0;        // whole match
    size_t g1_begin = 0, g1_end = 0;  // group 1 (or the whole match when there is none)
  };
  // First match at or after `start`.
  bool search(std::string_view text, size_t start, Match& m) const;
  // Every non-overlapping match.
  void each(std::string_view text, const std::function<void(const Match&)>& fn) const;

 private:
  void* code_ = nullptr;
};

// Where findings go while a scan runs.
struct Sink {
  std::vector<Finding>& out;
  std::string commit;  // set while scanning history
  void add(std::string_view rule, const std::string& path, int line, int col, std::string message, int end_col = 0,
           std::optional<Fix> fix = std::nullopt);
};

// What the cross-file rules need: the root and the text of the files read.
struct Workspace {
  std::filesystem::path root;
  std::map<std::string, std::string> texts;  // relative path -> content (text files only)
  std::vector<std::string> files;            // every scanned relative path
  [[nodiscard]] const std::string* text(const std::string& rel) const;
  [[nodiscard]] std::string rel(const std::filesystem::path& abs) const;  // '/'-separated, lexically normal
  [[nodiscard]] bool exists(const std::filesystem::path& abs) const;
};

// Python sources.
struct ArgparseInfo {
  bool argparse = false;      // add_argument seen
  bool other_parser = false;  // click, typer, hydra, fire, sys.argv...: flags not checkable
  bool subparsers = false;
  bool allow_abbrev = true;
  int known_args_line = 0;  // parse_known_args(
  int known_args_col = 0;
  std::vector<std::string> flags;     // every option string ("--lr", "-l")
  std::vector<std::string> required;  // first option string of required=True options
  [[nodiscard]] bool parses_arguments() const { return argparse || other_parser; }
  // Does `flag` name an option (exactly, or as an unambiguous prefix when abbreviations are allowed)?
  [[nodiscard]] bool accepts(const std::string& flag) const;
};
ArgparseInfo scan_argparse(std::string_view python);

// Maps a notebook's code cells to a Python text whose line i comes from raw line map[i-1].
struct NotebookCode {
  std::string python;
  std::vector<int> raw_line;  // 1-based raw .ipynb line of each python line
};
std::optional<NotebookCode> notebook_code(std::string_view ipynb);

// Python code checks. For a notebook, `line_map` maps python lines to raw lines and `raw` is the .ipynb text
// (columns are then found in the raw line).
void check_python_code(const std::string& path, std::string_view python, const std::vector<int>* line_map, Sink& sink,
                       const Text* raw = nullptr);

// Secrets in any text.
void scan_secrets(const std::string& path, std::string_view content, Sink& sink);

// Repository hygiene.
void check_requirements(const std::string& path, std::string_view content, Sink& sink);
bool looks_like_conda(const YAML::Node& root);
void check_conda(const std::string& path, const YAML::Node& root, Sink& sink);

// Azure ML YAML. Returns false when the document is not Azure ML YAML.
struct AmlState {
  std::vector<std::string> entry_scripts;            // relative paths of scripts run by job commands
  std::vector<std::string> entry_scripts_with_args;  // ... whose command passes arguments
  std::vector<std::string> conda_files;              // relative paths referenced by environments
  std::set<std::string> known_args_reported;         // scripts already reported for parse_known_args
};
// Text that may be Azure ML YAML (to report syntax errors only for those files).
bool looks_like_aml_text(std::string_view text);
bool check_aml(Workspace& ws, const std::string& path, const YAML::Node& root, const Text& text, Sink& sink,
               AmlState& state);
// A notebook or script named in a shell command, for pipelines.
void check_command_notebooks(const std::string& path, const Text& text, int line, std::string_view command, Sink& sink);

// CI pipelines. Return false when the document is not of that kind.
bool check_github_workflow(const std::string& path, const YAML::Node& root, const Text& text, Sink& sink);
bool check_azure_pipeline(const std::string& path, const YAML::Node& root, const Text& text, Sink& sink);

// Helpers.
int line_of(const YAML::Node& n);  // 1-based, 1 when unknown
int col_of(const YAML::Node& n);
bool ends_with(std::string_view s, std::string_view suffix);
bool starts_with(std::string_view s, std::string_view prefix);
// Finds `needle` in the text from line `from` on (at most `span` lines); returns line, col.
std::optional<std::pair<int, int>> find_from(const Text& text, int from, std::string_view needle, int span = 400);
std::string truthy_string(const YAML::Node& n);  // lower-cased scalar or ""

}  // namespace amlops::lint::detail
