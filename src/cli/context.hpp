// What every tool command receives: environment, CI host, clock, output stream and format.
#pragma once
#include <functional>
#include <iosfwd>
#include <string>
#include <vector>

#include "ci/host.hpp"
#include "core/env.hpp"
#include "core/json.hpp"
#include "core/time.hpp"

namespace amlops {

namespace cli {
struct CommandSpec;
}

enum class OutputFormat { text, json };

struct Context {
  const Env& env;
  ci::Host& host;
  Clock& clock;
  std::ostream& out;  // results only; messages go to the log (stderr)
  std::ostream& err;
  std::string tool;  // "amlops-job", or "amlops job" under the umbrella
  OutputFormat format = OutputFormat::text;
  // Set by cli::describe(): commands record their subcommands and options here instead of running.
  cli::CommandSpec* describing = nullptr;

  // Prints a result: JSON (pretty) with --output json, else the text renderer's output.
  void emit(const json::Value& result, const std::function<void(std::ostream&)>& text) const;
  // `text` made inert for the CI host's command parser (see emit).
  [[nodiscard]] std::string safe_for_host(std::string text) const;
};

using ToolEntry = int (*)(Context&, const std::vector<std::string>&);

// The entry of a tool: runs fn, maps every error to its message and exit code (the one catch).
int run_tool(Context& ctx, const std::function<int(Context&, const std::vector<std::string>&)>& fn,
             const std::vector<std::string>& args);
// The program name a tool shows in its usage and messages when the umbrella runs it: `amlops job ...`
// execs amlops-job with AMLOPS_PROG="amlops job". tool_main reads it and removes it from the
// environment (jobs and other children never see it).
inline constexpr const char* kProgEnv = "AMLOPS_PROG";

// main() of a binary: sets up signals, the process environment, the CI host and the context.
// `TOOL --amlops-describe` prints the command tree as JSON instead (cli::kDescribeFlag).
int tool_main(const char* tool, int argc, char** argv, ToolEntry fn);

}  // namespace amlops
