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
};

using ToolEntry = int (*)(Context&, const std::vector<std::string>&);

// The entry of a tool: runs fn, maps every error to its message and exit code (the one catch).
int run_tool(Context& ctx, ToolEntry fn, const std::vector<std::string>& args);
// main() of a binary: sets up signals, the process environment, the CI host and the context.
int tool_main(const char* tool, int argc, char** argv, ToolEntry fn);

}  // namespace amlops
