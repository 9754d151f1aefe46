#include "tools/common/context.hpp"

#include <iostream>
#include <sstream>

#include "core/error.hpp"
#include "core/log.hpp"
#include "core/redact.hpp"
#include "core/signals.hpp"

namespace amlops {

void Context::emit(const json::Value& result, const std::function<void(std::ostream&)>& text) const {
  if (format == OutputFormat::json) {
    out << redact::secrets(json::dump(result, true)) << '\n';
  } else {
    // Rendered first, so that no registered secret reaches stdout in either format.
    std::ostringstream rendered;
    text(rendered);
    out << redact::secrets(rendered.str());
  }
  out.flush();
}

int run_tool(Context& ctx, ToolEntry fn, const std::vector<std::string>& args) {
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
  const Env& env = process_env();
  // Workflow commands go to stderr: both hosts read commands from either stream, and stdout
  // stays clean for results (--output json | jq).
  auto host = ci::detect(env, std::cerr);
  redact::on_secret([h = host.get()](const std::string& s) { h->mask(s); });
  Context ctx{env, *host, system_clock(), std::cout, std::cerr, tool, OutputFormat::text};
  std::vector<std::string> args(argv + 1, argv + argc);
  return run_tool(ctx, fn, args);
}

}  // namespace amlops
