#include "cli/cli.hpp"
#include "cli/completion.hpp"
#include "core/error.hpp"
#include "tools/amlops/registry.hpp"

namespace amlops {

int run_completion(Context& ctx, const std::vector<std::string>& args) {
  cli::Command cmd(ctx, "completion",
                   "Prints a completion script for amlops and the amlops-<tool> binaries, generated from the tools, "
                   "their subcommands and options.\n"
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
    ToolEntry entry = t.run;
    std::string name = t.name;
    commands.push_back({name, t.summary, [entry, name](Context& c, const std::vector<std::string>& rest) {
                          // `amlops job submit ...` runs the same code as `amlops-job submit ...`.
                          std::string saved = c.tool;
                          c.tool = "amlops " + name;
                          int rc = entry(c, rest);
                          c.tool = saved;
                          return rc;
                        }});
  }
  commands.push_back(
      {"doctor", "report CI host detection, git metadata and which credentials would be used", &run_doctor});
  commands.push_back({"init", "write the starter repository with GitHub workflows or Azure Pipelines", &run_init});
  commands.push_back({"completion", "print a bash or zsh completion script", &run_completion});
  return cli::dispatch(ctx, "amlops: MLOps CI/CD for Azure Machine Learning.", commands, args);
}

}  // namespace amlops
