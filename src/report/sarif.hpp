// SARIF 2.1.0 writer for GitHub code scanning (and any SARIF viewer): tool and rules, results
// with locations, partialFingerprints and fixes. Independent of any one tool's types.
#pragma once
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace amlops::report::sarif {

struct Rule {
  std::string id;                 // stable: alerts are keyed on it
  std::string name;               // PascalCase or kebab-case identifier
  std::string short_description;  // one line
  std::string full_description;
  std::string help_text;          // what to do
  std::string help_markdown;      // optional; help_text when empty
  std::string level = "warning";  // error | warning | note
  std::vector<std::string> tags;
  std::string precision = "high";           // very-high | high | medium | low
  std::optional<double> security_severity;  // 0.1-10: makes it a security alert
  std::string help_uri;
};

struct Region {
  int start_line = 1;
  int start_column = 0;  // 0 = omit
  int end_line = 0;      // 0 = omit
  int end_column = 0;    // 0 = omit
};

struct Replacement {
  Region deleted;  // empty range = insertion
  std::string inserted;
};

struct Fix {
  std::string description;
  std::string uri;
  std::vector<Replacement> replacements;
};

struct Result {
  std::string rule_id;
  std::string level;  // empty = the rule's default
  std::string message;
  std::string uri;  // repository-relative, '/'-separated
  Region region;
  std::map<std::string, std::string> partial_fingerprints;  // e.g. primaryLocationLineHash
  std::vector<Fix> fixes;
  std::map<std::string, std::string> properties;
};

// Something about the run rather than a result (e.g. history a shallow clone does not have):
// written as a toolExecutionNotification of the run's invocation.
struct Notification {
  std::string id;              // descriptor.id
  std::string level = "note";  // error | warning | note
  std::string message;
};

struct Run {
  std::string tool_name;
  std::string tool_version;
  std::string information_uri;
  std::vector<Rule> rules;
  std::vector<Result> results;
  std::string automation_id;  // runAutomationDetails.id ("category/run-id"); empty = omit
  std::string source_root;    // absolute directory URI for %SRCROOT%; empty = omit
  // Non-empty: written as one invocation (executionSuccessful) carrying them.
  std::vector<Notification> notifications;
};

// The SARIF log (one run) as pretty JSON. Results whose rule_id is not in rules throw std::invalid_argument.
std::string write(const Run& run);

// ---------------------------------------------------------------------------------------------
// A checker's rules and findings (e.g. amlops-lint) as a run for GitHub code scanning.

struct CheckerRule {
  std::string id;
  std::string name;
  std::string description;        // one line, without a final period
  std::string help;               // what to do
  std::string level = "warning";  // error | warning | note
  std::vector<std::string> tags;
  std::string precision = "high";
  bool security = false;  // a credential rule: tag "security", security-severity 8.0, precision high
};

struct CheckerFix {
  std::string description;
  Region deleted;  // empty range = insertion
  std::string text;
};

struct Finding {
  std::string rule;
  std::string level;  // error | warning | note
  std::string message;
  std::string path;  // repository-relative, '/'-separated
  int line = 1;
  int col = 0;
  int end_col = 0;          // 0 = unknown
  std::string fingerprint;  // partialFingerprints.primaryLocationLineHash
  std::string commit;       // properties.commit (findings in git history)
  std::optional<CheckerFix> fix;
};

struct Checker {
  std::string name, version, information_uri;
  std::string root;  // absolute directory the paths are relative to (%SRCROOT%)
};

// Code scanning accepts at most 25,000 results per run.
constexpr size_t kMaxResults = 25000;

// Rules in the given order; results most severe first (stable), at most max_results (the rest
// is dropped with a warning on stderr).
Run checker_run(const Checker& checker, const std::vector<CheckerRule>& rules, const std::vector<Finding>& findings,
                size_t max_results = kMaxResults);

// file:///abs/path/ for a directory (percent-encoded, trailing slash).
std::string directory_uri(const std::string& absolute_path);
// A repository-relative path as a URI reference (percent-encodes what URIs do not allow).
std::string relative_uri(const std::string& path);

}  // namespace amlops::report::sarif
