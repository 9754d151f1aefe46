// amlops-lint: code-quality and MLOps-readiness checks of an ML repository. Rules with stable
// ids, an engine that walks the working tree (and optionally the git history), suppression
// (config, per-path globs, per-line comments, a baseline) and the findings it returns.
#pragma once
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace amlops::lint {

enum class Level { note = 0, warning = 1, error = 2 };
std::string_view level_name(Level l);
// "error", "warning", "note"; throws ConfigError otherwise.
Level parse_level(std::string_view s);

struct Rule {
  std::string_view id;           // stable: AML005
  std::string_view name;         // kebab-case: aml-missing-path
  std::string_view category;     // aml, code, secrets, repo, pipelines
  Level level;                   // default severity
  std::string_view description;  // one line
  std::string_view help;         // what to do about it
  bool security = false;         // a credential rule (SARIF security-severity)
};

const std::vector<Rule>& rules();
const Rule* find_rule(std::string_view id);

// A suggested edit: replace [line:col, end_line:end_col) with `text` (insertion when empty range).
struct Fix {
  std::string description;
  int line = 0, col = 1, end_line = 0, end_col = 1;
  std::string text;
};

struct Finding {
  std::string rule;
  Level level = Level::warning;
  std::string path;  // relative to the repository root, '/'-separated
  int line = 1;
  int col = 1;
  int end_col = 0;  // 0 = unknown
  std::string message;
  std::string commit;       // set for findings in git history
  std::string fingerprint;  // stable across line moves: hash of rule, path and the line's content
  std::optional<Fix> fix;
};

// The `lint:` section of amlops.yml.
struct PathIgnore {
  std::string glob;
  std::set<std::string> rules;  // empty = every rule
};
struct Config {
  std::set<std::string> disabled;            // rule ids
  std::vector<PathIgnore> ignore;            // per-path suppression
  std::vector<std::string> exclude;          // globs never scanned (spec::Glob, covering folders)
  std::map<std::string, Level> severity;     // overrides
  uint64_t max_file_size = 5 * 1024 * 1024;  // REPO001/REPO002
  std::optional<bool> history;               // scan git history (default on)
  size_t max_commits = 0;                    // history depth in commits (--history-depth); 0 = all
  std::optional<std::string> fail_on;
  std::optional<std::string> baseline;
  std::string source;  // where it came from (for messages)
};

// Reads the `lint:` section of an amlops.yml; a missing section gives defaults. Bad values throw
// ConfigError with file:line:col.
Config load_config(const std::filesystem::path& file);
Config parse_config(const std::string& yaml_text, const std::string& source);

struct Options {
  std::filesystem::path path = ".";
  Config config;
  bool history = true;
  std::optional<std::filesystem::path> baseline;
};

// Something a reader of the results must know that is not a finding, reported once in every
// output (text, JSON, SARIF toolExecutionNotifications, CI summary): history this clone does not
// have, a history that could not be read. Notes never change the exit code.
struct Note {
  std::string id;  // stable: history-partial-clone, history-shallow, history-depth, history-unreadable
  Level level = Level::note;
  std::string message;
};

// How much of the git history the scan covered.
struct HistoryScan {
  std::string mode = "none";       // full, depth (--history-depth N), none (--no-history, or not a git repository)
  size_t depth = 0;                // the --history-depth limit
  bool complete = false;           // every commit reachable from HEAD and every blob they add was scanned
  bool shallow = false;            // a shallow clone: older history than its boundary is not there
  bool partial = false;            // a partial clone (--filter)
  std::string filter;              // its filter, when known ("blob:none")
  size_t blobs_not_scanned = 0;    // blobs of checked paths the partial clone does not have
  size_t commits_not_scanned = 0;  // commits with such blobs, or whose trees are missing
};

struct Report {
  std::vector<Finding> findings;  // sorted by path, line, col, rule
  std::vector<Note> notes;
  HistoryScan history;
  std::filesystem::path root;  // the repository root paths are relative to
  size_t files_scanned = 0;
  size_t commits_scanned = 0;  // commits of history walked
  size_t blobs_scanned = 0;
  size_t suppressed = 0;  // by inline comments, config or baseline
  size_t baselined = 0;
  bool git = false;
  double seconds = 0;
};

Report check(const Options& options);

// Baseline: a JSON file of fingerprints; findings in it are not reported.
std::set<std::string> load_baseline(const std::filesystem::path& file);
void write_baseline(const std::filesystem::path& file, const std::vector<Finding>& findings);

// "AccountKey=Eby8…(88 chars)": enough to find the value, never the value.
std::string redact_value(std::string_view value);

}  // namespace amlops::lint
