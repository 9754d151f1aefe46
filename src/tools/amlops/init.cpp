// `amlops init [DIR]`: the starter repository, with the chosen CI host's workflows or pipelines.
#include "cli/cli.hpp"
#include "core/error.hpp"
#include "core/json.hpp"
#include "scaffold/scaffold.hpp"
#include "tools/amlops/registry.hpp"

namespace amlops {

int run_init(Context& ctx, const std::vector<std::string>& args) {
  cli::Command cmd(ctx, "init",
                   "Writes the starter repository (a scikit-learn project wired with every amlops tool) into DIR, "
                   "new or existing, with the CI host's workflows or pipelines and the project name filled in. "
                   "An existing file is kept unless --force; then prints what is left to set by hand.",
                   "[DIR] [--host github|azure-devops|both] [--name NAME] [--force]");
  cmd.options()("dir", cli::po::value<std::string>()->default_value("."), "the repository folder (created if absent)")(
      "host", cli::po::value<std::string>()->default_value("github"),
      "CI host whose files are written: github, azure-devops or both")(
      "name", cli::po::value<std::string>()->default_value("churn"),
      "project name: the model's name and the prefix of the endpoint and other resources")(
      "force", cli::po::bool_switch(), "overwrite files that exist with other content");
  cmd.positional("dir");
  if (!cmd.parse(args)) return 0;

  scaffold::Options o;
  o.dir = cmd.str("dir", ".");
  o.host = scaffold::parse_host(cmd.str("host", "github"));
  o.name = cmd.str("name", "churn");
  o.force = cmd.flag("force");
  scaffold::validate_name(o.name);
  scaffold::Result r = scaffold::write_starter(o, scaffold::starter_files());

  json::Document doc(rapidjson::kObjectType);
  json::Builder b(doc.GetAllocator());
  b.set(doc, "dir", o.dir.string());
  b.set(doc, "name", o.name);
  b.set(doc, "host", cmd.str("host", "github"));
  json::Value list = b.arr();
  for (const auto& e : r.files) {
    json::Value f = b.obj();
    b.set(f, "path", e.path);
    b.set(f, "action", std::string(scaffold::action_name(e.action)));
    b.push(list, std::move(f));
  }
  b.set(doc, "files", std::move(list));
  std::string steps = scaffold::next_steps(o.host, o.name);
  b.set(doc, "next_steps", steps);
  ctx.emit(doc, [&](std::ostream& os) {
    for (const auto& e : r.files) {
      if (e.action == scaffold::Action::unchanged) continue;
      os << scaffold::action_name(e.action) << "  " << e.path
         << (e.action == scaffold::Action::kept ? "  (exists with other content; --force overwrites it)" : "") << "\n";
    }
    os << "\n"
       << r.count(scaffold::Action::wrote) << " written, " << r.count(scaffold::Action::overwrote) << " overwritten, "
       << r.count(scaffold::Action::kept) << " kept, " << r.count(scaffold::Action::unchanged) << " unchanged in "
       << o.dir.string() << "\n\n"
       << steps;
  });
  return 0;
}

}  // namespace amlops
