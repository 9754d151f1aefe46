#include "tools/amlops/registry.hpp"
#include "tools/common/cli.hpp"

namespace amlops {

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
  return cli::dispatch(ctx, "amlops: MLOps CI/CD for Azure Machine Learning.", commands, args);
}

}  // namespace amlops
