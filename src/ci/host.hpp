// CI host adapters: GitHub Actions, Azure Pipelines and a plain terminal. Inputs, outputs,
// annotations, masks, groups, summaries. Formatting is in pure functions (format.hpp) that
// return strings; the adapters only decide where the strings go.
#pragma once
#include <filesystem>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>

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

  // Untrusted text (job logs, model or scoring output, file contents) must never drive the CI
  // host: printed as is, a line "::add-mask::x" or "##vso[task.setvariable ...]" from it would
  // run as a workflow command. Print such text only between begin_untrusted and end_untrusted
  // (or through UntrustedOutput below), one line per untrusted_line call.
  //   GitHub: the block is wrapped in "::stop-commands::<token>" ... "::<token>::", a fresh
  //     128-bit token from the kernel CSPRNG per block; the runner runs no command in between.
  //     A command of the host's own (mask, annotation, group) issued while a block is open
  //     pauses the block: resume marker, the command, a new stop marker with a new token, all
  //     written to the block's stream so that their order is kept.
  //   Azure: every "##vso[" (any case) and "##[" in the text gets a zero-width space between the
  //     two '#' (azure::neutralize); the agent parses "##vso[" anywhere in a line.
  //   Terminal: the text unchanged.
  // Blocks nest (the inner calls join the outer block); `os` is where the text goes (stderr,
  // where the host writes its commands, keeps the runner's view of the order exact).
  void begin_untrusted(std::ostream& os);
  // One line of untrusted text (a trailing '\n' is added; embedded '\r' and '\n' are safe).
  void untrusted_line(std::string_view text);
  void end_untrusted();
  [[nodiscard]] bool untrusted_open() const { return untrusted_depth_ > 0; }

 protected:
  Host(const Env& env, std::ostream& commands) : env_(env), cmd_(commands) {}
  bool take_annotation_slot(Severity s);
  // Writes one workflow command line of the host's own (see begin_untrusted).
  void command_line(const std::string& s);
  const Env& env_;
  std::ostream& cmd_;  // where workflow commands are written (stderr by default: stdout carries results)

 private:
  int counts_[3] = {0, 0, 0};
  int dropped_ = 0;
  std::ostream* untrusted_ = nullptr;
  int untrusted_depth_ = 0;
  std::string stop_token_;
};

// RAII for Host::begin_untrusted/untrusted_line/end_untrusted:
//   { ci::UntrustedOutput out(ctx.host, ctx.err); for (auto& l : lines) out.line(l); }
class UntrustedOutput {
 public:
  UntrustedOutput(Host& host, std::ostream& os) : host_(host) { host_.begin_untrusted(os); }
  ~UntrustedOutput() { host_.end_untrusted(); }
  UntrustedOutput(const UntrustedOutput&) = delete;
  UntrustedOutput& operator=(const UntrustedOutput&) = delete;
  void line(std::string_view text) { host_.untrusted_line(text); }

 private:
  Host& host_;
};

// 128 bits from the kernel CSPRNG (getrandom), as 32 hex digits.
std::string random_token();

inline constexpr int kAnnotationCap = 10;

// Chooses the adapter: GITHUB_ACTIONS=true -> GitHub, TF_BUILD=True -> Azure, else terminal.
Kind detect_kind(const Env& env);
std::unique_ptr<Host> make_host(Kind kind, const Env& env, std::ostream& commands);
std::unique_ptr<Host> detect(const Env& env, std::ostream& commands);

}  // namespace amlops::ci
