// CI host adapters: GitHub Actions, Azure Pipelines and a plain terminal. Inputs, outputs,
// annotations, masks, groups, summaries. Formatting is in pure functions (format.hpp) that
// return strings; the adapters only decide where the strings go.
#pragma once
#include <filesystem>
#include <memory>
#include <optional>
#include <ostream>
#include <string>

#include "core/env.hpp"

namespace amlops::ci {

enum class Kind { terminal, github, azure };
enum class Severity { error, warning, notice };

struct Annotation {
  Severity severity = Severity::error;
  std::string message;
  std::string file;  // relative to the workspace
  int line = 0;
  int col = 0;
  int end_line = 0;
  int end_col = 0;
  std::string title;
  std::string code;  // rule id (Azure: code=)
};

class Host {
 public:
  virtual ~Host() = default;
  [[nodiscard]] virtual Kind kind() const = 0;
  [[nodiscard]] virtual std::string name() const = 0;
  // The CI input `name` (INPUT_<NAME> with this host's mangling; both spellings tried).
  [[nodiscard]] virtual std::optional<std::string> input(const std::string& name) const;
  // A step output (GitHub: $GITHUB_OUTPUT; Azure: an output variable; terminal: nothing).
  virtual void set_output(const std::string& name, const std::string& value) = 0;
  // Inline annotation. Hosts show 10 per severity per step: callers pass the most important first;
  // the adapter stops at the cap and counts the rest.
  virtual void annotate(const Annotation& a) = 0;
  virtual void mask(const std::string& secret) = 0;
  virtual void group_begin(const std::string& title) = 0;
  virtual void group_end() = 0;
  // Appends markdown to the job summary.
  virtual void summary(const std::string& markdown) = 0;
  // A live status line for long waits: redrawn in place on an interactive terminal; nothing on
  // CI hosts, whose logs get plain lines. Clear it before writing anything else to stderr.
  virtual void status(const std::string& /*text*/) {}
  virtual void status_clear() {}
  // Marks the task failed in the way the host reads (Azure: task.complete); no-op elsewhere.
  virtual void fail(const std::string& /*message*/) {}
  // URL of this CI run, for provenance; nullopt on a terminal.
  [[nodiscard]] virtual std::optional<std::string> run_url() const { return std::nullopt; }
  [[nodiscard]] int annotations_dropped() const { return dropped_; }

 protected:
  Host(const Env& env, std::ostream& commands) : env_(env), cmd_(commands) {}
  bool take_annotation_slot(Severity s);
  const Env& env_;
  std::ostream& cmd_;  // where workflow commands are written (stderr by default: stdout carries results)

 private:
  int counts_[3] = {0, 0, 0};
  int dropped_ = 0;
};

inline constexpr int kAnnotationCap = 10;

// Chooses the adapter: GITHUB_ACTIONS=true -> GitHub, TF_BUILD=True -> Azure, else terminal.
Kind detect_kind(const Env& env);
std::unique_ptr<Host> make_host(Kind kind, const Env& env, std::ostream& commands);
std::unique_ptr<Host> detect(const Env& env, std::ostream& commands);

}  // namespace amlops::ci
