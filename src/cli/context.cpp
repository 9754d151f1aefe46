#include "cli/context.hpp"

#include <cstdlib>
#include <iostream>
#include <sstream>

#include "ci/format.hpp"
#include "cli/cli.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "core/redact.hpp"
#include "core/signals.hpp"

namespace amlops {

namespace {

// True when a line of `text` would be read as a GitHub workflow command ("::name ...::"), which
// the runner accepts after leading whitespace.
bool has_github_command_line(const std::string& text) {
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    size_t first = text.find_first_not_of(" \t\r", pos);
    if (first < end && text.compare(first, 2, "::") == 0) return true;
    pos = end + 1;
  }
  return false;
}

}  // namespace

std::string Context::safe_for_host(std::string text) const {
  // Results carry text from repositories, jobs and models (paths, messages, tags): on a CI host
  // it must never act as a workflow command. Azure Pipelines finds "##vso[" anywhere in a line;
  // GitHub reads "::" commands at the start of a line. JSON never starts a line with "::", so it
  // stays a clean document for jq; text that would is wrapped in stop-commands markers.
  if (host.kind() == ci::Kind::azure) return ci::azure::neutralize(text);
  if (host.kind() == ci::Kind::github && has_github_command_line(text)) {
    std::string token = ci::random_token();
    return ci::github::stop_commands(token) + "\n" + text + (text.empty() || text.back() == '\n' ? "" : "\n") +
           ci::github::resume_commands(token) + "\n";
  }
  return text;
}

void Context::emit(const json::Value& result, const std::function<void(std::ostream&)>& text) const {
  if (format == OutputFormat::json) {
    out << safe_for_host(redact::secrets(json::dump(result, true))) << '\n';
  } else {
    // Rendered first, so that no registered secret reaches stdout in either format.
    std::ostringstream rendered;
    text(rendered);
    out << safe_for_host(redact::secrets(rendered.str()));
  }
  out.flush();
}

int run_tool(Context& ctx, const std::function<int(Context&, const std::vector<std::string>&)>& fn,
             const std::vector<std::string>& args) {
  try {
    int rc = fn(ctx, args);
    if (signals::interrupted()) return static_cast<int>(ExitCode::interrupted);
    return rc;
  } catch (const std::exception& e) {
    ErrorReport r = describe_error(e);
    log::error(r.message);
    if (r.code != ExitCode::interrupted) ctx.host.fail(r.message);
    return static_cast<int>(r.code);
  }
}

int tool_main(const char* tool, int argc, char** argv, ToolEntry fn) {
  signals::install();
  // Under the umbrella (`amlops job ...` execs amlops-job) usage and messages name "amlops job".
  std::string name = tool;
  if (const char* prog = std::getenv(kProgEnv); prog && *prog) name = prog;
  ::unsetenv(kProgEnv);
  const Env& env = process_env();
  // Workflow commands go to stderr: both hosts read commands from either stream, and stdout
  // stays clean for results (--output json | jq).
  auto host = ci::detect(env, std::cerr);
  redact::on_secret([h = host.get()](const std::string& s) { h->mask(s); });
  Context ctx{env, *host, system_clock(), std::cout, std::cerr, name, OutputFormat::text};
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.size() == 1 && args[0] == cli::kDescribeFlag) {
    return run_tool(ctx,
                    [fn](Context& c, const std::vector<std::string>&) {
                      c.out << cli::spec_to_json(cli::describe(c, c.tool, fn)) << '\n' << std::flush;
                      return 0;
                    },
                    {});
  }
  return run_tool(ctx, fn, args);
}

}  // namespace amlops
