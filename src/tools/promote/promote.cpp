// amlops-promote: decide from the written policy (candidate vs champion, thresholds, required
// tags), fail closed, explain every rule; promote exactly the version that passed.
#include <filesystem>

#include "cli/cli.hpp"
#include "cli/connection.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "core/time.hpp"
#include "promote/promotion.hpp"
#include "report/fragment.hpp"

namespace amlops {
namespace {
namespace fs = std::filesystem;
using namespace promote;

void add_options(cli::Command& cmd) {
  cmd.options()("candidate", cli::po::value<std::string>(), "the candidate model NAME:VERSION")(
      "policy", cli::po::value<std::string>(), "YAML file whose 'promotion:' section is the policy")(
      "config", cli::po::value<std::string>(), "amlops.yml (environments, and the policy unless --policy)")(
      "from", cli::po::value<std::string>(), "environment holding the candidate when --workspace is not given (dev)")(
      "markdown", cli::po::value<std::string>(), "write the decision as a markdown fragment to this file");
  cli::add_connection_options(cmd);  // --workspace: the candidate's workspace
}

// The clients, connected to the candidate's workspace (--workspace, or the --from environment's).
aml::Connection connect(Context& ctx, const cli::Command& cmd, const azure::WorkspaceRef& source) {
  aml::ConnectOptions o = cli::connection_options(ctx, cmd);
  o.workspace = source.arm_id();
  return aml::connect(o, ctx.env, ctx.clock);
}

// The policy (from --policy, else the config) and the environments (config, else the policy file).
Config load(const cli::Command& cmd) {
  std::string config_path = cmd.str("config");
  if (config_path.empty() && fs::exists("amlops.yml")) config_path = "amlops.yml";
  Config c;
  if (!config_path.empty()) {
    if (!fs::exists(config_path)) throw UsageError("--config " + config_path + " does not exist");
    c = load_config(config_path);
  }
  if (std::string p = cmd.str("policy"); !p.empty()) {
    if (!fs::exists(p)) throw UsageError("--policy " + p + " does not exist");
    Config pc = load_config(p);
    if (!pc.has_promotion) throw ConfigError(p + ": no 'promotion:' section");
    c.policy = pc.policy;
    c.has_promotion = true;
    for (auto& [k, v] : pc.environments) c.environments.emplace(k, v);
  }
  if (!c.has_promotion)
    throw UsageError("no promotion policy: give --policy FILE or a 'promotion:' section in amlops.yml (--config)");
  return c;
}

const Environment& environment(const Config& c, const std::string& name) {
  auto it = c.environments.find(name);
  if (it == c.environments.end()) {
    std::string known;
    for (auto& [k, v] : c.environments) known += (known.empty() ? "" : ", ") + k;
    throw UsageError("environment '" + name + "' is not in the configuration's 'environments:' (" +
                     (known.empty() ? "none" : known) + ")");
  }
  return it->second;
}

azure::WorkspaceRef source_workspace(const cli::Command& cmd, const Config& c) {
  if (std::string ws = cmd.str("workspace"); !ws.empty()) return azure::WorkspaceRef::parse(ws);
  std::string from = cmd.str("from", "dev");
  if (c.environments.count(from)) return azure::WorkspaceRef::parse(environment(c, from).workspace);
  throw UsageError("--workspace is required (or AMLOPS_WORKSPACE, or an environment '" + from + "' in amlops.yml)");
}

ModelRef candidate_of(const cli::Command& cmd, const Policy& p) {
  ModelRef m = ModelRef::parse(cmd.required("candidate"));
  if (!p.model.empty() && p.model != m.name)
    throw UsageError("--candidate " + m.str() + " is not the policy's model '" + p.model + "'");
  return m;
}

// Step summary, --markdown fragment and step outputs of a decision.
void report(Context& ctx, const cli::Command& cmd, const Decision& d, const ModelFacts& cand,
            const std::optional<ModelFacts>& champ, const std::string& extra = {}) {
  std::string body = decision_markdown(d, cand, champ) + extra;
  ctx.host.summary("### Promotion of `" + d.candidate + "`\n\n" + body);
  if (std::string md = cmd.str("markdown"); !md.empty()) {
    report::Fragment f;
    f.title = "Promotion";
    f.verdict = d.summary();
    f.status = d.promote ? report::FragmentStatus::pass : report::FragmentStatus::fail;
    f.order = 60;
    f.body = body;
    report::write_fragment(md, f);
  }
  ctx.host.set_output("decision", d.promote ? "promote" : "block");
}

// A service error after retries blocks: the outputs say so before the error (exit 4) surfaces.
template <typename F>
int guarded(Context& ctx, const std::string& candidate, F&& fn) {
  try {
    return fn();
  } catch (const HttpError& e) {
    ctx.host.set_output("decision", "block");
    ctx.host.summary("### Promotion of `" + candidate +
                     "`\n\n**Blocked**: service error after retries: " + std::string(e.what()) + "\n");
    log::error("blocked: a service error leaves no complete data to decide on");
    throw;
  }
}

int cmd_evaluate(Context& ctx, const std::vector<std::string>& args) {
  cli::Command cmd(ctx, "evaluate", "Evaluates a candidate against the champion and the policy's thresholds.",
                   "--candidate NAME:VERSION [--champion NAME:VERSION|auto] [--env ENV]");
  add_options(cmd);
  cmd.options()("champion", cli::po::value<std::string>()->default_value("auto"),
                "the champion NAME:VERSION, or auto (the policy's selector)")(
      "env", cli::po::value<std::string>(), "environment whose registry/workspace holds the champion");
  if (!cmd.parse(args)) return 0;
  Config c = load(cmd);
  ModelRef cand = candidate_of(cmd, c.policy);
  azure::WorkspaceRef src_ref = source_workspace(cmd, c);
  std::optional<ModelRef> explicit_champion;
  if (std::string ch = cmd.str("champion", "auto"); ch != "auto") explicit_champion = ModelRef::parse(ch);
  Scope target =
      cmd.str("env").empty() ? Scope::of_workspace(src_ref) : Scope::of_environment(environment(c, cmd.str("env")));
  return guarded(ctx, cand.str(), [&] {
    aml::Connection conn = connect(ctx, cmd, src_ref);
    azure::Workspace& src = *conn.ws;
    Models models(*conn.arm, target);
    auto cand_doc = src.get_model_version(cand.name, cand.version);
    if (!cand_doc) throw UsageError("candidate " + cand.str() + " not found in workspace " + src_ref.name);
    ModelFacts cf = facts_of(*cand_doc, cand.str(), &src);
    bool same_scope = target.registry.empty() && target.base == src_ref.arm_id();
    ChampionLookup champ = find_champion(models, c.policy, cand.name, explicit_champion, cand.version);
    std::optional<ModelFacts> hf;
    if (champ.ref && champ.doc) hf = facts_of(*champ.doc, champ.ref->str(), &src, same_scope);
    Decision d = decide(c.policy, cf, hf, champ.error);
    report(ctx, cmd, d, cf, hf);
    ctx.emit(decision_json(d), [&](std::ostream& os) { os << decision_text(d); });
    return d.promote ? 0 : 1;
  });
}

int cmd_promote(Context& ctx, const std::vector<std::string>& args) {
  cli::Command cmd(ctx, "promote",
                   "Evaluates the candidate against the champion of ENV and, when it passes, publishes that exact "
                   "version there, tags it champion and archives the previous one.",
                   "--candidate NAME:VERSION --to ENV [--dry-run]");
  add_options(cmd);
  cmd.options()("to", cli::po::value<std::string>(), "target environment (from amlops.yml)")(
      "dry-run", cli::po::bool_switch(), "print the plan and change nothing");
  if (!cmd.parse(args)) return 0;
  Config c = load(cmd);
  ModelRef cand = candidate_of(cmd, c.policy);
  azure::WorkspaceRef src_ref = source_workspace(cmd, c);
  Scope target = Scope::of_environment(environment(c, cmd.required("to")));
  PromoteOptions po;
  po.dry_run = cmd.flag("dry-run");
  po.promoted_at = iso8601_utc(ctx.clock.wall());
  return guarded(ctx, cand.str(), [&] {
    aml::Connection conn = connect(ctx, cmd, src_ref);
    azure::Workspace& src = *conn.ws;
    Models models(*conn.arm, target);
    Outcome o = promote::promote(src, models, c.policy, cand, po);
    std::string extra;
    if (o.already) extra = "\n" + o.decision.reasons.front() + "\n";
    if (o.decision.promote && (!o.already || !o.plan.empty())) {
      extra += std::string("\n") + (po.dry_run ? "Plan (dry run, nothing changed):" : "Done:") + "\n\n";
      for (auto& s : o.plan) extra += "- " + s + "\n";
    }
    // The data that travels with the model, as the target's monitoring reads it (azureml:NAME:VERSION).
    std::string data_ids;
    for (auto& d : o.data) data_ids += (data_ids.empty() ? "" : ",") + ("azureml:" + d.name + ":" + d.target_version);
    if (!o.data.empty()) {
      extra += "\nData of `" + cand.str() + "` in workspace " + target.workspace.name + ":\n\n";
      for (auto& d : o.data)
        extra += "- `" + d.name + ":" + d.target_version + "` (" + d.status + ", from `" + d.name + ":" +
                 d.source_version + "` of workspace " + src_ref.name + ")\n";
    }
    if (o.already) {
      ctx.host.summary("### Promotion of `" + cand.str() + "`\n\n" + extra);
      ctx.host.set_output("decision", "promote");
    } else {
      report(ctx, cmd, o.decision, o.candidate, o.champion, extra);
    }
    if (o.decision.promote) ctx.host.set_output("model_id", o.model_id);
    ctx.host.set_output("previous_champion", o.previous);
    if (o.decision.promote) ctx.host.set_output("data", data_ids);
    json::Document doc = decision_json(o.decision);
    json::Builder b(doc.GetAllocator());
    b.set(doc, "target", target.label);
    b.set(doc, "model_id", o.decision.promote ? o.model_id : std::string());
    b.set(doc, "previous_champion", o.previous);
    b.set(doc, "dry_run", po.dry_run);
    b.set(doc, "already_promoted", o.already);
    b.set(doc, "changed", o.changed);
    json::Value plan = b.arr();
    for (auto& s : o.plan) b.push(plan, s);
    b.set(doc, "plan", std::move(plan));
    json::Value data = b.arr();
    for (auto& d : o.data) {
      json::Value e = b.obj();
      b.set(e, "name", d.name);
      b.set(e, "source_version", d.source_version);
      b.set(e, "version", d.target_version);
      b.set(e, "uri", d.target_uri);
      b.set(e, "status", d.status);
      b.set(e, "files", static_cast<int64_t>(d.blobs.size()));
      b.set(e, "bytes", static_cast<int64_t>(d.bytes));
      b.push(data, std::move(e));
    }
    b.set(doc, "data", std::move(data));
    ctx.emit(doc, [&](std::ostream& os) {
      if (o.already) {
        os << o.decision.reasons.front() << "\n";
      } else {
        os << decision_text(o.decision);
      }
      if (!o.decision.promote) return;
      if (!o.already || !o.plan.empty()) {
        os << "\n" << (po.dry_run ? "plan (dry run, nothing changed):" : "done:") << "\n";
        for (auto& s : o.plan) os << "  - " << s << "\n";
      }
      if (!o.already) os << "model id in target: " << o.model_id << "\n";
      for (auto& d : o.data)
        os << "data in workspace " << target.workspace.name << ": azureml:" << d.name << ":" << d.target_version << " ("
           << d.status << ")\n";
    });
    return o.decision.promote ? 0 : 1;
  });
}

}  // namespace

int run_promote(Context& ctx, const std::vector<std::string>& args) {
  return cli::dispatch(
      ctx, "Gated promotion: candidate vs champion and thresholds from a policy.",
      {{"evaluate", "evaluate a candidate against the champion and the policy", cmd_evaluate},
       {"promote", "promote a candidate that passes to an environment's registry or workspace", cmd_promote}},
      args);
}

}  // namespace amlops
