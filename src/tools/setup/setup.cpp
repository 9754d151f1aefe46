// amlops-setup: the workspace's assets as code. `plan` shows what `apply` would change; `apply`
// changes exactly that, in dependency order, and says what was done when a step fails.
#include "setup/setup.hpp"

#include <filesystem>
#include <sstream>

#include "cli/cli.hpp"
#include "cli/connection.hpp"
#include "cli/result.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "core/strings.hpp"

namespace amlops {
namespace {
namespace fs = std::filesystem;

void add_options(cli::Command& cmd) {
  cmd.options()("file,f", cli::po::value<std::vector<std::string>>()->composing(),
                "a YAML file or a folder of them (repeatable)")(
      "env", cli::po::value<std::string>(), "take the workspace from this environment of amlops.yml (dev, prod, ...)")(
      "config", cli::po::value<std::string>(), "amlops.yml for --env (default: ./amlops.yml)")(
      "prune", cli::po::bool_switch(),
      "also delete what amlops-setup created (tagged amlops.managed) and the files no longer declare");
  cli::add_connection_options(cmd);
  cli::add_markdown_option(cmd);
}

std::string workspace_of(const cli::Command& cmd) {
  if (std::string ws = cmd.str("workspace"); !ws.empty()) return ws;
  std::string env = cmd.str("env");
  if (env.empty()) throw UsageError("--workspace is required (or --env ENV with amlops.yml, or AMLOPS_WORKSPACE)");
  std::string config = cmd.str("config", "amlops.yml");
  if (!fs::exists(config)) throw UsageError("--env " + env + ": " + config + " does not exist (give --config)");
  return setup::environment_workspace(config, env);
}

std::string markdown(const setup::Plan& plan, bool applied) {
  std::ostringstream os;
  os << "| kind | name | action | changed fields |\n|---|---|---|---|\n";
  for (auto& c : plan.changes) {
    os << "| " << setup::kind_name(c.kind) << " | `" << c.name << (c.version.empty() ? "" : ":" + c.version) << "` | "
       << setup::action_name(c.action) << " | ";
    for (size_t i = 0; i < c.fields.size(); ++i) os << (i ? ", " : "") << "`" << c.fields[i] << "`";
    os << " |\n";
  }
  if (applied) os << "\nApplied.\n";
  return os.str();
}

void report(Context& ctx, const cli::Command& cmd, const setup::Plan& plan, bool applied) {
  report::Fragment f;
  f.title = "Workspace setup";
  std::ostringstream v;
  v << (applied ? "applied: " : "plan: ") << plan.count(setup::Action::create) << " create, "
    << plan.count(setup::Action::update) << " update, " << plan.count(setup::Action::remove) << " delete, "
    << plan.count(setup::Action::unchanged) << " unchanged";
  f.verdict = plan.empty() ? "no changes" : v.str();
  f.status = report::FragmentStatus::pass;
  f.order = 20;
  f.body = markdown(plan, applied);
  cli::publish_result(ctx, f, cmd);
  ctx.host.set_output("changes", std::to_string(plan.changes.size() - plan.count(setup::Action::unchanged)));
}

int run(Context& ctx, const std::vector<std::string>& args, bool do_apply) {
  cli::Command cmd(ctx, do_apply ? "apply" : "plan",
                   do_apply ? "Applies the YAML files to the workspace: creates and updates what differs (and with "
                              "--prune deletes what amlops-setup created and the files no longer declare), in order "
                              "datastores, data, environments, components, computes, schedules."
                            : "Compares the YAML files with the workspace and lists what apply would create, update "
                              "(with the changed fields), leave unchanged or delete. Makes only GET requests.",
                   "-f PATH... [--workspace W | --env ENV] [--prune]");
  add_options(cmd);
  if (!cmd.parse(args)) return 0;
  std::vector<fs::path> paths;
  for (auto& p : cmd.list("file")) paths.emplace_back(p);
  aml::ConnectOptions o = cli::connection_options(ctx, cmd);
  o.workspace = workspace_of(cmd);
  setup::LoadOptions lo;
  lo.workspace_id = aml::workspace_ref(o.workspace).arm_id();
  lo.require_secrets = do_apply;
  // Every file is read and validated before the first request.
  std::vector<setup::Resource> resources = setup::load(paths, ctx.env, lo);
  if (resources.empty()) throw UsageError("no compute, datastore, data, environment, component or schedule YAML found");
  for (auto& r : resources)
    for (auto& s : r.secrets)
      if (auto v = ctx.env.nonempty(s.env_var)) ctx.host.mask(*v);
  aml::Connection conn = aml::connect(o, ctx.env, ctx.clock);
  setup::Plan plan = setup::make_plan(*conn.ws, resources, cmd.flag("prune"));
  if (!do_apply) {
    report(ctx, cmd, plan, false);
    ctx.emit(setup::plan_json(plan, false), [&](std::ostream& os) { os << setup::plan_text(plan, false); });
    return 0;
  }
  std::vector<std::string> done;
  setup::apply(
      *conn.ws, plan, resources, ctx.env,
      [&](const setup::Change& c) {
        if (c.action != setup::Action::unchanged)
          done.push_back(std::string(setup::action_name(c.action)) + " " + setup::kind_name(c.kind) + " " + c.name +
                         (c.version.empty() ? "" : ":" + c.version));
      },
      [&](const setup::Change& c) {
        log::error("failed at ", setup::action_name(c.action), " ", setup::kind_name(c.kind), " ", c.name,
                   c.version.empty() ? "" : ":" + c.version, "; nothing after it was applied");
        if (done.empty())
          log::error("done before it: nothing");
        else
          log::error("done before it: ", str::join(done, "; "));
      });
  report(ctx, cmd, plan, true);
  ctx.emit(setup::plan_json(plan, true), [&](std::ostream& os) { os << setup::plan_text(plan, true); });
  return 0;
}

int cmd_plan(Context& ctx, const std::vector<std::string>& args) { return run(ctx, args, false); }
int cmd_apply(Context& ctx, const std::vector<std::string>& args) { return run(ctx, args, true); }

}  // namespace

int run_setup(Context& ctx, const std::vector<std::string>& args) {
  return cli::dispatch(ctx,
                       "The workspace's assets as code: plan and apply computes, datastores, data assets, "
                       "environments, components and schedules from Azure ML CLI v2 YAML.",
                       {{"plan", "show what apply would change (GET requests only)", cmd_plan},
                        {"apply", "create and update what differs, in dependency order", cmd_apply}},
                       args);
}

}  // namespace amlops
