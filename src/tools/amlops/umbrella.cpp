#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <optional>

#include "cli/cli.hpp"
#include "cli/completion.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "core/process.hpp"
#include "core/strings.hpp"
#include "tools/amlops/registry.hpp"

namespace amlops {
namespace {
namespace fs = std::filesystem;

// amlops-<tool> where it was found, else the places searched.
struct ToolBinary {
  std::optional<fs::path> path;
  std::vector<std::string> searched;
};

// amlops-<name> beside the running umbrella (symlinks resolved: the release archive and actions/setup
// put every binary in one folder), else on PATH.
ToolBinary find_tool(const Context& ctx, const std::string& name) {
  const std::string binary = "amlops-" + name;
  ToolBinary out;
  std::error_code ec;
  fs::path self = fs::canonical("/proc/self/exe", ec);
  if (!ec) {
    fs::path beside = self.parent_path() / binary;
    if (::access(beside.c_str(), X_OK) == 0 && !fs::is_directory(beside, ec)) {
      out.path = beside;
      return out;
    }
    out.searched.push_back(self.parent_path().string() + " (beside " + self.filename().string() + ")");
  }
  std::string path = ctx.env.get("PATH").value_or("");
  if (auto found = process::which(binary, path)) {
    out.path = *found;
    return out;
  }
  out.searched.push_back(path.empty() ? "PATH (empty)" : "PATH=" + path);
  return out;
}

std::string not_found(const std::string& name, const ToolBinary& b) {
  return "amlops-" + name + " is not installed: not in " + str::join(b.searched, " nor on ");
}

// `amlops NAME ARGS...` becomes `amlops-NAME ARGS...` in this process (execv): exit code, signals,
// stdin/stdout/stderr and the CI host's behaviour are the tool's own. Returns only by throwing.
int exec_tool(Context& ctx, const std::string& name, const std::vector<std::string>& args) {
  ToolBinary b = find_tool(ctx, name);
  if (!b.path)
    throw UsageError(not_found(name, b) + ". `" + ctx.tool + " " + name +
                     "` runs that binary: the release archive (amlops-<os>-<arch>.tar.gz) holds amlops and every "
                     "amlops-<tool> side by side, and actions/setup puts them all on PATH; a source build puts them "
                     "in build/bin");
  std::vector<std::string> argv{b.path->string()};
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<char*> cargv;
  for (auto& a : argv) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  // The tool shows the program as typed ("amlops job") and starts with the default signal
  // dispositions, as when run directly (its tool_main installs its own handlers).
  ::setenv(kProgEnv, (ctx.tool + " " + name).c_str(), 1);
  std::signal(SIGPIPE, SIG_DFL);
  ctx.out.flush();
  std::cout.flush();
  std::cerr.flush();
  std::fflush(nullptr);
  ::execv(cargv[0], cargv.data());
  int e = errno;
  ::unsetenv(kProgEnv);
  std::signal(SIGPIPE, SIG_IGN);
  throw UsageError("cannot run " + argv[0] + ": " + std::strerror(e));
}

// Describe mode (completion): the tool's command tree from `amlops-NAME --amlops-describe`. A tool
// that is missing or cannot describe itself is completed by its name only, with a note on stderr.
void describe_tool(Context& ctx, const std::string& name) {
  cli::CommandSpec& me = *ctx.describing;
  std::string why;
  try {
    ToolBinary b = find_tool(ctx, name);
    if (!b.path) throw UsageError(not_found(name, b));
    const std::string command = b.path->string() + " " + cli::kDescribeFlag;
    process::SpawnOptions opts;
    opts.env_add[kProgEnv] = ctx.tool + " " + name;
    process::RunResult r = process::run_capture({b.path->string(), cli::kDescribeFlag}, opts, std::chrono::seconds(60));
    if (r.timed_out) throw TimeoutError(command + " timed out");
    if (r.exit_code != 0)
      throw UsageError(command + " exited " + std::to_string(r.exit_code) + ": " + std::string(str::trim(r.err)));
    cli::CommandSpec spec = cli::spec_from_json(r.out, command);
    if (me.summary.empty()) me.summary = spec.summary;
    me.options = std::move(spec.options);
    me.commands = std::move(spec.commands);
    return;
  } catch (const std::exception& e) {
    why = e.what();
  }
  log::warn(ctx.tool, " completion: ", why, "; '", name, "' is completed by name only");
}

}  // namespace

int run_completion(Context& ctx, const std::vector<std::string>& args) {
  cli::Command cmd(ctx, "completion",
                   "Prints a completion script for amlops and the amlops-<tool> binaries, generated from the tools, "
                   "their subcommands and options (each amlops-<tool> describes itself; a missing one is completed "
                   "by name only).\n"
                   "bash: source <(amlops completion bash)   zsh (after compinit): source <(amlops completion zsh)",
                   "bash|zsh");
  cmd.options()("shell", cli::po::value<std::string>(), "bash or zsh");
  cmd.positional("shell");
  if (!cmd.parse(args)) return 0;
  if (!cmd.has("shell")) throw UsageError("which shell? amlops completion bash|zsh");
  std::vector<std::string> names;
  for (const ToolInfo& t : tools()) names.emplace_back(t.name);
  cli::CommandSpec root = cli::describe(ctx, "amlops", run_umbrella);
  ctx.out << cli::completion_script(root, names, cmd.str("shell"));
  return 0;
}

int run_umbrella(Context& ctx, const std::vector<std::string>& args) {
  std::vector<cli::Subcommand> commands;
  for (const ToolInfo& t : tools()) {
    std::string name = t.name;
    commands.push_back({name, t.summary, [name](Context& c, const std::vector<std::string>& rest) {
                          if (c.describing) {
                            describe_tool(c, name);
                            return 0;
                          }
                          return exec_tool(c, name, rest);
                        }});
  }
  commands.push_back(
      {"doctor", "report CI host detection, git metadata and which credentials would be used", &run_doctor});
  commands.push_back({"init", "write the starter repository with GitHub workflows or Azure Pipelines", &run_init});
  commands.push_back({"completion", "print a bash or zsh completion script", &run_completion});
  return cli::dispatch(ctx, "amlops: MLOps CI/CD for Azure Machine Learning.", commands, args);
}

}  // namespace amlops
