// amlops-deploy: safe rollout of managed online deployments (0 % -> smoke test -> canary steps ->
// 100 %, automatic rollback), smoke tests, rollback and status. Command-line wiring only: the
// logic is in src/deploy.
#include <filesystem>

#include "cli/cli.hpp"
#include "cli/connection.hpp"
#include "cli/result.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "core/process.hpp"
#include "core/redact.hpp"
#include "core/strings.hpp"
#include "deploy/rollout.hpp"
#include "report/markdown.hpp"

namespace amlops {
namespace {
namespace fs = std::filesystem;
using namespace deploy;

// --endpoint NAME, or an endpoint YAML whose name is taken.
std::string endpoint_name(const cli::Command& cmd) {
  std::string e = cmd.required("endpoint");
  if ((str::to_lower(e).ends_with(".yml") || str::to_lower(e).ends_with(".yaml")) && fs::is_regular_file(e))
    return load_endpoint(e).name;
  return e;
}

// The endpoint client; aad_token endpoints get an Entra token for the scoring audience.
Endpoints endpoints(aml::Connection& conn) {
  auto tokens = conn.tokens;
  return Endpoints(*conn.ws, [tokens] { return tokens->token("https://ml.azure.com/.default"); });
}

Thresholds thresholds(const cli::Command& cmd) {
  Thresholds t;
  t.max_error_rate = cmd.get<double>("max-error-rate");
  if (t.max_error_rate < 0 || t.max_error_rate > 1) throw UsageError("--max-error-rate must be from 0 to 1");
  if (cmd.has("max-p95-ms")) {
    t.max_p95_ms = cmd.get<double>("max-p95-ms");
    if (*t.max_p95_ms <= 0) throw UsageError("--max-p95-ms must be positive");
  }
  return t;
}

void add_check_options(cli::Command& cmd) {
  cmd.options()("expect", cli::po::value<std::vector<std::string>>()->composing(),
                "JSON the answer must contain (members, array items, numbers within 1e-6); one for all requests "
                "or one per request")("schema", cli::po::value<std::string>(),
                                      "a JSON Schema (draft 4) every answer must satisfy")(
      "max-p95-ms", cli::po::value<double>(), "fail when the p95 latency is above this (ms)")(
      "max-error-rate", cli::po::value<double>()->default_value(0.0),
      "fail when more than this fraction of the health requests fails (0 to 1)")(
      "count", cli::po::value<int>()->default_value(20), "requests sent per check");
  cli::add_markdown_option(cmd);
}

std::string health_line(const Health& h) {
  std::string s = std::to_string(h.requests) + " requests, " + std::to_string(h.errors) + " errors, p50 " +
                  num(h.p50_ms) + " ms, p95 " + num(h.p95_ms) + " ms";
  if (!h.by_deployment.empty()) {
    std::vector<std::string> parts;
    for (auto& [k, v] : h.by_deployment) parts.push_back(k + ":" + std::to_string(v));
    s += " (served by " + str::join(parts, ", ") + ")";
  }
  return s;
}

json::Value health_json(const Health& h, json::Builder& b) {
  json::Value o = b.obj();
  b.set(o, "requests", static_cast<uint64_t>(h.requests));
  b.set(o, "errors", static_cast<uint64_t>(h.errors));
  b.set(o, "error_rate", h.error_rate);
  b.set(o, "p50_ms", h.p50_ms);
  b.set(o, "p95_ms", h.p95_ms);
  json::Value by = b.obj();
  for (auto& [k, v] : h.by_deployment) b.set(by, k, static_cast<uint64_t>(v));
  b.set(o, "by_deployment", std::move(by));
  b.set(o, "ok", h.ok);
  return o;
}

// The --check command after each step: its environment carries the step; its output goes to
// stderr as untrusted text; a non-zero exit is the failure reason.
std::string run_check(Context& ctx, const std::string& command, const std::string& endpoint,
                      const std::string& deployment, const StepResult& st, const std::string& uri,
                      const std::string& secret) {
  process::SpawnOptions so;
  so.use_shell = true;
  so.forward_signals = true;
  so.env_add = {{"AMLOPS_ENDPOINT", endpoint},
                {"AMLOPS_DEPLOYMENT", deployment},
                {"AMLOPS_STEP", std::to_string(st.percent)},
                {"AMLOPS_TRAFFIC", traffic_text(st.traffic)},
                {"AMLOPS_SCORING_URI", uri},
                {"AMLOPS_SCORING_KEY", secret}};
  auto r = process::run_capture({command}, so);
  {
    ci::UntrustedOutput out(ctx.host, ctx.err);
    for (auto& line : str::split(r.out + r.err, '\n'))
      if (!line.empty()) out.line("  [check] " + redact::text(line));
  }
  if (r.exit_code == 0) return {};
  return "--check exited " + std::to_string(r.exit_code);
}

report::Fragment rollout_fragment(const Outcome& o) {
  report::Fragment f;
  f.title = "Deployment " + o.endpoint + "/" + o.deployment;
  f.order = report::section_order::deploy;
  bool ok = o.state == Outcome::State::done || o.state == Outcome::State::unchanged;
  f.status = ok ? report::FragmentStatus::pass : report::FragmentStatus::fail;
  if (o.state == Outcome::State::unchanged)
    f.verdict = o.deployment + " already serves 100 %: nothing changed";
  else if (ok)
    f.verdict = o.deployment + " rolled out: traffic " + traffic_text(o.final_traffic);
  else
    f.verdict = "rolled back to " + traffic_text(o.final_traffic) + ": " + o.reason;
  std::string& b = f.body;
  b += "Traffic before: `" + traffic_text(o.previous) + "`, after: `" + traffic_text(o.final_traffic) + "`\n\n";
  report::MdTable t;
  t.headers = {"phase", "traffic", "requests", "errors", "p95 ms", "result"};
  if (o.smoke)
    t.rows.push_back({"smoke (direct)", o.deployment + "=0 (header)", std::to_string(o.smoke->health.requests),
                      std::to_string(o.smoke->health.errors), num(o.smoke->health.p95_ms),
                      o.smoke->ok() ? "pass" : "fail"});
  for (auto& s : o.steps)
    t.rows.push_back({"step " + std::to_string(s.percent) + " %", traffic_text(s.traffic),
                      std::to_string(s.health.requests), std::to_string(s.health.errors), num(s.health.p95_ms),
                      s.ok ? "pass" : "fail: " + s.reason});
  if (!t.rows.empty()) b += t.render() + "\n";
  if (o.smoke)
    for (auto& fl : o.smoke->failures) b += "- " + report::md_cell(fl) + "\n";
  if (!o.log_tail.empty())
    b += "\n<details><summary>Log tail of " + o.deployment + "</summary>\n\n" +
         report::md_code_block(redact::text(o.log_tail)) + "\n</details>\n";
  if (!o.cleaned.empty()) b += "\nDeleted (0 % traffic): " + str::join(o.cleaned, ", ") + "\n";
  return f;
}

int cmd_rollout(Context& ctx, const std::vector<std::string>& args) {
  cli::Command cmd(ctx, "rollout",
                   "Creates the endpoint when absent, the deployment at 0 %, smoke-tests it directly, then shifts "
                   "traffic step by step with a soak and a health check after each step; any failure restores the "
                   "traffic as it was.",
                   "--endpoint E.yml --deployment D.yml --smoke-request F [--steps 10,50,100] [--soak 5m]");
  cmd.options()("endpoint", cli::po::value<std::string>(),
                "rollout: the online endpoint YAML (CLI v2); the other commands: its name (or the YAML)")(
      "deployment", cli::po::value<std::string>(),
      "rollout: the managed online deployment YAML (CLI v2); smoke: a deployment to call directly")(
      "model", cli::po::value<std::string>(),
      "model to deploy instead of the YAML's: NAME:VERSION or a registry model id")(
      "steps", cli::po::value<std::string>()->default_value("10,50,100"), "traffic percents of the new deployment")(
      "soak", cli::po::value<std::string>()->default_value("1m"), "wait after each step before its health check")(
      "smoke-request", cli::po::value<std::vector<std::string>>()->composing(),
      "a request body file for the smoke test and the health checks (repeatable)")(
      "mirror", cli::po::value<int>()->default_value(0),
      "mirror this percent of live traffic to the new deployment first (1-50; 0: no mirror phase)")(
      "check", cli::po::value<std::string>(),
      "shell command run after each step's health check (AMLOPS_STEP, AMLOPS_TRAFFIC, AMLOPS_SCORING_URI, "
      "AMLOPS_SCORING_KEY in its environment); non-zero exit rolls back")(
      "delete-failed", cli::po::bool_switch(), "delete a deployment that failed instead of keeping it at 0 %")(
      "cleanup", cli::po::bool_switch(), "after success, delete the deployments left at 0 %");
  add_check_options(cmd);
  cli::add_connection_options(cmd);
  if (!cmd.parse(args)) return 0;

  // Everything the user gave is checked before the first request.
  RolloutOptions o;
  o.steps = parse_steps(cmd.str("steps", "10,50,100"));
  o.soak = parse_duration(cmd.str("soak", "1m"));
  o.thresholds = thresholds(cmd);
  o.count = cmd.get<int>("count");
  if (o.count < 1) throw UsageError("--count must be at least 1");
  o.mirror = cmd.get<int>("mirror");
  if (o.mirror < 0 || o.mirror > 50) throw UsageError("--mirror must be from 0 to 50 (the service's limit)");
  o.delete_failed = cmd.flag("delete-failed");
  o.cleanup = cmd.flag("cleanup");
  o.requests = load_requests(cmd.list("smoke-request"), cmd.list("expect"), cmd.str("schema"));
  aml::ConnectOptions co = cli::connection_options(ctx, cmd);
  azure::WorkspaceRef ref = aml::workspace_ref(co.workspace);
  EndpointSpec e = load_endpoint(cmd.required("endpoint"));
  DeploymentSpec d = load_deployment(cmd.required("deployment"), ref.arm_id());
  if (d.endpoint_name != e.name)
    throw ConfigError(d.endpoint_name_at,
                      "endpoint_name '" + d.endpoint_name + "' is not the endpoint '" + e.name + "' of " + e.file);
  if (d.model.empty() && !cmd.has("model"))
    throw ConfigError(d.file + ": the deployment names no 'model' (add one, or give --model)");
  if (cmd.has("model")) (void)model_id(ref.arm_id(), cmd.str("model"));
  if (o.requests.empty()) throw UsageError("--smoke-request is required: a rollout is never shifted untested");

  o.progress = [](const std::string& s) { log::info(s); };
  o.mask = [&ctx](const std::string& s) { ctx.host.mask(s); };
  if (std::string check = cmd.str("check"); !check.empty())
    o.check = [&ctx, check, &e, &d](const StepResult& st, const std::string& uri, const std::string& secret) {
      return run_check(ctx, check, e.name, d.name, st, uri, secret);
    };

  aml::Connection conn = aml::connect(co, ctx.env, ctx.clock);
  resolve_deployment(*conn.ws, d, cmd.str("model"));
  Endpoints eps = endpoints(conn);
  Outcome out = rollout(eps, *conn.http, ctx.clock, e, d, o);

  ctx.host.set_output("scoring_uri", out.scoring_uri);
  ctx.host.set_output("deployment", out.deployment);
  ctx.host.set_output("traffic", traffic_text(out.final_traffic));
  ctx.host.set_output("state", state_name(out.state));
  json::Document doc;
  doc.SetObject();
  json::Builder b(doc.GetAllocator());
  b.set(doc, "endpoint", out.endpoint);
  b.set(doc, "deployment", out.deployment);
  b.set(doc, "state", state_name(out.state));
  b.set(doc, "scoring_uri", out.scoring_uri);
  b.set(doc, "reason", out.reason);
  b.set(doc, "previous_traffic", traffic_json(out.previous, doc.GetAllocator()));
  b.set(doc, "traffic", traffic_json(out.final_traffic, doc.GetAllocator()));
  b.set(doc, "endpoint_created", out.endpoint_created);
  b.set(doc, "deployment_updated", out.deployment_updated);
  b.set(doc, "deleted_failed", out.deleted_failed);
  b.set(doc, "changes", out.puts);
  if (out.smoke) {
    json::Value s = health_json(out.smoke->health, b);
    json::Value fl = b.arr();
    for (auto& f : out.smoke->failures) b.push(fl, f);
    b.set(s, "failures", std::move(fl));
    b.set(doc, "smoke", std::move(s));
  }
  json::Value steps = b.arr();
  for (auto& st : out.steps) {
    json::Value s = b.obj();
    b.set(s, "percent", st.percent);
    b.set(s, "traffic", traffic_json(st.traffic, doc.GetAllocator()));
    b.set(s, "changed", st.changed);
    b.set(s, "ok", st.ok);
    b.set(s, "reason", st.reason);
    b.set(s, "health", health_json(st.health, b));
    b.push(steps, std::move(s));
  }
  ctx.host.set_output("steps", json::dump(steps));
  b.set(doc, "steps", std::move(steps));
  json::Value cleaned = b.arr();
  for (auto& c : out.cleaned) b.push(cleaned, c);
  b.set(doc, "cleaned", std::move(cleaned));
  cli::publish_result(ctx, rollout_fragment(out), cmd);

  bool ok = out.state == Outcome::State::done || out.state == Outcome::State::unchanged;
  if (!ok) {
    if (out.smoke)
      for (auto& f : out.smoke->failures) log::error("smoke: ", f);
    if (!out.log_tail.empty()) {
      ctx.err << "log tail of deployment " << out.deployment << ":\n";
      ci::UntrustedOutput untrusted(ctx.host, ctx.err);
      for (auto& line : str::split(out.log_tail, '\n')) untrusted.line("  " + redact::text(line));
    }
  }
  ctx.emit(doc, [&](std::ostream& os) {
    os << "endpoint:    " << out.endpoint << "\ndeployment:  " << out.deployment
       << "\nstate:       " << state_name(out.state) << "\nscoring_uri: " << out.scoring_uri
       << "\ntraffic:     " << traffic_text(out.final_traffic) << " (before: " << traffic_text(out.previous) << ")\n";
    if (out.smoke)
      os << "smoke:       " << (out.smoke->ok() ? "pass" : "fail") << ", " << health_line(out.smoke->health) << "\n";
    for (auto& st : out.steps)
      os << "step " << st.percent << " %:  " << traffic_text(st.traffic) << ", " << health_line(st.health)
         << (st.ok ? "" : ", FAILED: " + st.reason) << "\n";
    if (!out.reason.empty()) os << "reason:      " << ctx.safe_for_host(out.reason) << "\n";
    for (auto& c : out.cleaned) os << "deleted:     " << c << " (0 % traffic)\n";
  });
  if (ok) return 0;
  std::string why = "rollout of " + out.deployment + " rolled back: " + out.reason;
  log::error(why);
  ci::Annotation a;
  a.title = "Rollout rolled back";
  a.message = why;
  ctx.host.annotate(a);
  ctx.host.fail(why);
  return 1;
}

int cmd_smoke(Context& ctx, const std::vector<std::string>& args) {
  cli::Command cmd(
      ctx, "smoke", "Sends requests to an endpoint (or one deployment directly) and checks the answers.",
      "--endpoint NAME --request F... [--deployment D] [--expect F|--schema F] [--max-p95-ms N] [--count N]");
  cmd.options()("endpoint", cli::po::value<std::string>(), "endpoint name (or its YAML)")(
      "deployment", cli::po::value<std::string>(), "send to this deployment directly (azureml-model-deployment)")(
      "request", cli::po::value<std::vector<std::string>>()->composing(), "a request body file (repeatable)");
  add_check_options(cmd);
  cli::add_connection_options(cmd);
  if (!cmd.parse(args)) return 0;
  std::string name = endpoint_name(cmd);
  auto requests = load_requests(cmd.list("request"), cmd.list("expect"), cmd.str("schema"));
  if (requests.empty()) throw UsageError("--request is required");
  Thresholds t = thresholds(cmd);
  int count = cmd.get<int>("count");
  if (count < 1) throw UsageError("--count must be at least 1");
  aml::Connection conn = cli::connect(ctx, cmd);
  Endpoints eps = endpoints(conn);
  json::Document ep = eps.require(name);
  std::string uri = json::get_string(ep, "/properties/scoringUri", "endpoint " + name);
  std::string secret = eps.secret(name, ep);
  ctx.host.mask(secret);
  Scorer scorer(*conn.http, uri, secret);
  SmokeResult res = smoke(scorer, requests, cmd.str("deployment"), count, t);
  const Health& h = res.health;
  bool ok = res.ok();
  ctx.host.set_output("scoring_uri", uri);
  ctx.host.set_output("passed", ok ? "true" : "false");
  ctx.host.set_output("p95_ms", num(h.p95_ms));
  report::Fragment f;
  f.title = "Smoke test of " + name + (cmd.str("deployment").empty() ? "" : "/" + cmd.str("deployment"));
  f.order = report::section_order::deploy;
  f.status = ok ? report::FragmentStatus::pass : report::FragmentStatus::fail;
  f.verdict = (ok ? "passed: " : "failed: ") + health_line(h);
  for (auto& fl : res.failures) f.body += "- " + report::md_cell(fl) + "\n";
  for (auto& r : h.reasons) f.body += "- " + report::md_cell(r) + "\n";
  cli::publish_result(ctx, f, cmd);
  json::Document doc;
  doc.SetObject();
  json::Builder b(doc.GetAllocator());
  b.set(doc, "endpoint", name);
  b.set(doc, "deployment", cmd.str("deployment"));
  b.set(doc, "scoring_uri", uri);
  b.set(doc, "passed", ok);
  b.set(doc, "health", health_json(h, b));
  json::Value fl = b.arr();
  for (auto& x : res.failures) b.push(fl, x);
  b.set(doc, "failures", std::move(fl));
  ctx.emit(doc, [&](std::ostream& os) {
    os << (ok ? "passed: " : "FAILED: ") << health_line(h) << "\n";
    for (auto& x : res.failures) os << "  " << ctx.safe_for_host(x) << "\n";
    for (auto& r : h.reasons) os << "  " << r << "\n";
  });
  return ok ? 0 : 1;
}

int cmd_rollback(Context& ctx, const std::vector<std::string>& args) {
  cli::Command cmd(ctx, "rollback", "Restores the traffic recorded on the endpoint before the last rollout.",
                   "--endpoint NAME");
  cmd.options()("endpoint", cli::po::value<std::string>(), "endpoint name (or its YAML)");
  cli::add_markdown_option(cmd);
  cli::add_connection_options(cmd);
  if (!cmd.parse(args)) return 0;
  std::string name = endpoint_name(cmd);
  aml::Connection conn = cli::connect(ctx, cmd);
  Endpoints eps = endpoints(conn);
  RollbackResult r = rollback(eps, name, "amlops-deploy rollback");
  ctx.host.set_output("traffic", traffic_text(r.after));
  ctx.host.set_output("changed", r.changed ? "true" : "false");
  report::Fragment f;
  f.title = "Rollback of " + name;
  f.order = report::section_order::deploy;
  f.status = report::FragmentStatus::pass;
  f.verdict = r.changed ? "traffic restored to " + traffic_text(r.after) + " (was " + traffic_text(r.before) + ")"
                        : "traffic is " + traffic_text(r.after) + " already: nothing changed";
  cli::publish_result(ctx, f, cmd);
  json::Document doc;
  doc.SetObject();
  json::Builder b(doc.GetAllocator());
  b.set(doc, "endpoint", name);
  b.set(doc, "changed", r.changed);
  b.set(doc, "before", traffic_json(r.before, doc.GetAllocator()));
  b.set(doc, "traffic", traffic_json(r.after, doc.GetAllocator()));
  b.set(doc, "rolled_back_deployment", r.record.deployment);
  ctx.emit(doc, [&](std::ostream& os) { os << f.verdict << "\n"; });
  return 0;
}

int cmd_status(Context& ctx, const std::vector<std::string>& args) {
  cli::Command cmd(ctx, "status", "Shows an endpoint: scoring URI, deployments, provisioning states, traffic, mirror.",
                   "--endpoint NAME [--output json]");
  cmd.options()("endpoint", cli::po::value<std::string>(), "endpoint name (or its YAML)");
  cli::add_connection_options(cmd);
  if (!cmd.parse(args)) return 0;
  std::string name = endpoint_name(cmd);
  aml::Connection conn = cli::connect(ctx, cmd);
  Endpoints eps = endpoints(conn);
  json::Document ep = eps.require(name);
  Traffic traffic = traffic_of_endpoint(ep), mirror = mirror_of_endpoint(ep);
  auto deps = eps.deployments(name);
  std::string uri = json::opt_string(ep, "/properties/scoringUri").value_or("");
  auto tags = tags_of(ep);
  std::optional<RolloutRecord> rec;
  if (auto it = tags.find(kRolloutTag); it != tags.end()) rec = parse_record(it->second);
  ctx.host.set_output("scoring_uri", uri);
  ctx.host.set_output("traffic", traffic_text(traffic));
  json::Document doc;
  doc.SetObject();
  json::Builder b(doc.GetAllocator());
  b.set(doc, "endpoint", name);
  b.set(doc, "scoring_uri", uri);
  b.set(doc, "auth_mode", json::opt_string(ep, "/properties/authMode").value_or(""));
  b.set(doc, "provisioning_state", provisioning_state(ep));
  b.set(doc, "traffic", traffic_json(traffic, doc.GetAllocator()));
  b.set(doc, "mirror_traffic", traffic_json(mirror, doc.GetAllocator()));
  json::Value list = b.arr();
  for (auto& d : deps) {
    json::Value o = b.obj();
    std::string dn = json::opt_string(d, "/name").value_or("");
    b.set(o, "name", dn);
    b.set(o, "provisioning_state", provisioning_state(d));
    b.set(o, "model", json::opt_string(d, "/properties/model").value_or(""));
    b.set(o, "instance_type", json::opt_string(d, "/properties/instanceType").value_or(""));
    b.set(o, "instance_count", json::opt_int(d, "/sku/capacity").value_or(0));
    b.set(o, "traffic", traffic.count(dn) ? traffic.at(dn) : 0);
    b.set(o, "mirror", mirror.count(dn) ? mirror.at(dn) : 0);
    b.push(list, std::move(o));
  }
  b.set(doc, "deployments", std::move(list));
  if (rec) {
    json::Value r = b.obj();
    b.set(r, "deployment", rec->deployment);
    b.set(r, "state", rec->state);
    b.set(r, "previous_traffic", traffic_json(rec->previous, doc.GetAllocator()));
    b.set(r, "reason", rec->reason);
    b.set(doc, "last_rollout", std::move(r));
  }
  ctx.emit(doc, [&](std::ostream& os) {
    os << "endpoint:    " << name << " (" << provisioning_state(ep) << ")\nscoring_uri: " << uri
       << "\ntraffic:     " << traffic_text(traffic) << "\nmirror:      " << traffic_text(mirror) << "\n";
    for (auto& d : deps) {
      std::string dn = json::opt_string(d, "/name").value_or("");
      os << "deployment " << dn << ": " << provisioning_state(d) << ", " << (traffic.count(dn) ? traffic.at(dn) : 0)
         << " %, model " << json::opt_string(d, "/properties/model").value_or("-") << "\n";
    }
    if (rec)
      os << "last rollout: " << rec->deployment << " " << rec->state
         << " (traffic before: " << traffic_text(rec->previous) << ")\n";
  });
  return 0;
}

}  // namespace

int run_deploy(Context& ctx, const std::vector<std::string>& args) {
  return cli::dispatch(ctx, "Managed online endpoints: safe rollout, smoke tests, rollback, status.",
                       {{"rollout",
                         "roll a deployment out: 0 %, smoke test, canary steps with health checks, rollback "
                         "on failure",
                         cmd_rollout},
                        {"smoke", "send requests to an endpoint or a deployment and check the answers", cmd_smoke},
                        {"rollback", "restore the traffic recorded before the last rollout", cmd_rollback},
                        {"status", "endpoint, scoring URI, deployments, traffic and mirror traffic", cmd_status}},
                       args);
}

}  // namespace amlops
