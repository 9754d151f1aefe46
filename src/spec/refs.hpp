// What a value in Azure ML YAML refers to, in one place for the job loader (spec) and the linter
// (lint): gitignore-style globs over repository paths (.amlignore, lint excludes), whether a value
// is a local path or something remote (azureml: asset, URL, ${{ }} binding), and ${{ }} bindings.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace amlops::spec {

// gitwildmatch-style glob over '/'-separated relative paths. '*', '?' and [...] stay within one
// segment (fnmatch), a '**' segment spans any number of directories (a trailing '/**' matches
// everything inside, not the folder itself), a leading '/' or a '/' inside anchors the pattern at
// the root, and a pattern without one matches at any depth. A trailing '/' is dropped (callers
// that need "directories only" check that themselves).
class Glob {
 public:
  explicit Glob(std::string_view pattern);
  // The path itself matches.
  [[nodiscard]] bool matches(std::string_view path) const;
  // The path or one of its parent folders matches ("data", "data/" and "data/**" cover data/x.csv).
  [[nodiscard]] bool covers(std::string_view path) const;
  [[nodiscard]] bool empty() const { return segments_.empty(); }

 private:
  std::vector<std::string> segments_;
};

// Glob(pattern).covers(path): how lint excludes and ignores read their patterns.
bool glob_match(std::string_view pattern, std::string_view path);

// The local path a YAML value names (a "file:" prefix removed), or nullopt when it names something
// else: an asset (azureml:...), a URL (http:, https:, git+..., any scheme://), a ${{ }} binding, or
// nothing (empty).
std::optional<std::string> local_path(std::string_view value);
inline bool is_local_path(std::string_view value) { return local_path(value).has_value(); }

// An Azure ML asset name or version (data, model, environment, ...): a letter or digit, then
// letters, digits, '-', '_' or '.', at most 255 characters.
bool valid_asset_name(std::string_view name);

// One ${{ ... }} binding in a text.
struct Binding {
  enum class Kind {
    input,              // inputs.<name>
    output,             // outputs.<name>
    search_space,       // search_space.<name>
    parent_input,       // parent.inputs.<name>
    parent_output,      // parent.outputs.<name>
    parent_job_output,  // parent.jobs.<job>.outputs.<name>
    other,              // anything else (not supported by amlops)
  };
  size_t offset = 0;   // of "${{" in the text
  size_t length = 0;   // through "}}" (to the end of the text when unterminated)
  bool closed = true;  // false when no "}}" follows
  std::string expr;    // the inner text, trimmed: "parent.jobs.prep.outputs.clean"
  Kind kind = Kind::other;
  std::string job;   // parent_job_output: the pipeline step
  std::string name;  // the input, output or search_space parameter
  // parent.* (whatever follows): only valid inside a pipeline.
  [[nodiscard]] bool refers_to_parent() const { return expr == "parent" || expr.rfind("parent.", 0) == 0; }
};

// Classifies an expression's inner text (offset and length left 0).
Binding parse_binding(std::string_view expr);
// Every ${{ ... }} in a text, in order.
std::vector<Binding> find_bindings(std::string_view text);

}  // namespace amlops::spec
