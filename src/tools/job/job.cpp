// amlops-job: submit Azure ML jobs from CLI v2 YAML, wait, stream logs, read metrics, cancel.
#include "spec/job.hpp"

#include <filesystem>
#include <sstream>

#include "aml/submit.hpp"
#include "aml/wait.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "core/strings.hpp"
#include "tools/common/connection.hpp"

namespace amlops {
namespace {
namespace fs = std::filesystem;

// Emits a job's result (stdout text/json) and sets the CI step outputs; returns the exit code.
int emit_result(Context& ctx, const aml::JobResult& r) {
  json::Document doc(rapidjson::kObjectType);
  json::Builder b(doc.GetAllocator());
  b.set(doc, "name", r.name);
  b.set(doc, "status", r.status);
  b.set(doc, "studio_url", r.studio_url);
  json::Value m = b.obj();
  for (auto& [k, v] : r.metrics) b.set(m, k, v);
  b.set(doc, "metrics", std::move(m));
  b.set(doc, "duration_s", r.duration_s);
  if (!r.error.empty()) b.set(doc, "error", r.error);
  ctx.host.set_output("name", r.name);
  ctx.host.set_output("status", r.status);
  ctx.host.set_output("studio_url", r.studio_url);
  ctx.host.set_output("metrics", json::dump(*json::find(doc, "/metrics")));
  char dur[32];
  std::snprintf(dur, sizeof dur, "%.1f", r.duration_s);
  ctx.host.set_output("duration_s", dur);
  std::ostringstream md;
  md << "### Azure ML job `" << r.name << "`: " << r.status << "\n\n";
  if (!r.error.empty()) md << "Error: `" << r.error << "`\n\n";
  if (!r.studio_url.empty()) md << "[Open in Azure ML studio](" << r.studio_url << ")\n\n";
  if (!r.metrics.empty()) {
    md << "| metric | value |\n|---|---|\n";
    for (auto& [k, v] : r.metrics) md << "| " << k << " | " << v << " |\n";
  }
  ctx.host.summary(md.str());
  ctx.emit(doc, [&](std::ostream& os) {
    os << "name:       " << r.name << "\nstatus:     " << r.status << "\n";
    if (!r.studio_url.empty()) os << "studio_url: " << r.studio_url << "\n";
    os << "duration_s: " << dur << "\n";
    if (!r.error.empty()) os << "error:      " << r.error << "\n";
    for (auto& [k, v] : r.metrics) os << "metric " << k << " = " << v << "\n";
  });
  if (r.status == "Completed") return 0;
  if (azure::job_terminal(r.status)) {
    std::string why = r.error.empty() ? "" : ": " + r.error;
    log::error("job ", r.name, " ended ", r.status, why);
    ctx.host.fail("job " + r.name + " ended " + r.status + why);
    return 1;
  }
  return 0;
}

aml::Reporter reporter(Context& ctx) { return {ctx.clock, ctx.host, ctx.err}; }

aml::WaitOptions wait_options(const cli::Command& cmd) {
  aml::WaitOptions w;
  if (!cmd.str("timeout").empty()) w.timeout = parse_duration(cmd.str("timeout"));
  w.cancel_on_interrupt = !cmd.flag("no-cancel-on-interrupt");
  w.cancel_on_timeout = !cmd.flag("no-cancel-on-timeout");
  return w;
}

void add_wait_options(cli::Command& cmd) {
  cmd.options()("timeout", cli::po::value<std::string>(),
                "stop waiting after this long (e.g. 90m, 2h); exit 3 and cancel the job")(
      "no-cancel-on-timeout", cli::po::bool_switch(), "leave the job running when the timeout passes")(
      "no-cancel-on-interrupt", cli::po::bool_switch(), "leave the job running on SIGINT/SIGTERM");
}

int cmd_submit(Context& ctx, const std::vector<std::string>& args) {
  cli::Command cmd(ctx, "submit", "Submits a job from an Azure ML CLI v2 YAML (command, pipeline or sweep).",
                   "-f JOB.yml");
  cmd.options()("file,f", cli::po::value<std::string>(), "the job YAML")(
      "set", cli::po::value<std::vector<std::string>>()->composing(),
      "override a YAML value: --set inputs.lr=0.1 (repeatable)")("name", cli::po::value<std::string>(),
                                                                 "job name (default: the YAML's name, else generated)")(
      "experiment", cli::po::value<std::string>(),
      "experiment name (default: the YAML's, else the current folder's name)")(
      "tag", cli::po::value<std::vector<std::string>>()->composing(), "extra tag k=v (repeatable)")(
      "wait", cli::po::bool_switch(), "wait until the job ends (exit 0 Completed, 1 Failed/Canceled)")(
      "stream", cli::po::bool_switch(), "wait and stream the job's logs");
  add_wait_options(cmd);
  cli::add_connection_options(cmd);
  if (!cmd.parse(args)) return 0;
  std::string file = cmd.required("file");
  azure::WorkspaceRef ref = aml::workspace_ref(cmd.str("workspace"));

  // Everything a user can get wrong in the YAML is checked before any request.
  spec::LoadOptions lo;
  lo.workspace_id = ref.arm_id();
  lo.overrides = cli::key_values(cmd.list("set"), "--set");
  spec::JobSpec spec = spec::load_job(file, lo);
  auto extra_tags = cli::key_values(cmd.list("tag"), "--tag");
  std::optional<aml::WaitOptions> wait;
  if (cmd.flag("wait") || cmd.flag("stream") || cmd.has("timeout")) {
    wait = wait_options(cmd);
    wait->stream = cmd.flag("stream");
  }

  aml::Connection s = cli::connect(ctx, cmd);
  aml::SubmitOptions so;
  so.name = cmd.str("name");
  so.experiment = cmd.str("experiment");
  so.default_experiment = fs::current_path().filename().string();
  so.tags = aml::provenance_tags(ctx.env, ctx.host);
  for (auto& [k, v] : extra_tags) so.tags[k] = v;
  aml::Submitted sub = aml::submit_job(*s.ws, spec, so);
  std::string url = aml::studio_url(sub.job);
  log::info(sub.existing ? "already submitted " : "submitted ", sub.name, " (",
            json::opt_string(sub.job, "/properties/status").value_or("?"), ")", url.empty() ? "" : " " + url,
            "; code assets: ", sub.stats.assets, ", reused: ", sub.stats.reused, ", uploaded files: ", sub.stats.files);
  if (!wait) {
    aml::JobResult r;
    r.name = sub.name;
    r.status = json::opt_string(sub.job, "/properties/status").value_or("NotStarted");
    r.studio_url = url;
    return emit_result(ctx, r);
  }
  auto rep = reporter(ctx);
  return emit_result(ctx, aml::wait_job(rep, *s.ws, sub.name, *wait));
}

// NAME (positional) and the connection options: the arguments of every command on one job.
void add_job_arguments(cli::Command& cmd) {
  cmd.options()("name", cli::po::value<std::string>(), "job name");
  cmd.positional("name");
  cli::add_connection_options(cmd);
}

int cmd_wait(Context& ctx, const std::vector<std::string>& args) {
  cli::Command cmd(ctx, "wait", "Waits for a job to end, optionally streaming its logs.", "NAME");
  add_job_arguments(cmd);
  cmd.options()("stream", cli::po::bool_switch(), "stream the job's logs");
  add_wait_options(cmd);
  if (!cmd.parse(args)) return 0;
  std::string name = cmd.required("name");
  auto w = wait_options(cmd);
  w.stream = cmd.flag("stream");
  aml::Connection s = cli::connect(ctx, cmd);
  auto rep = reporter(ctx);
  return emit_result(ctx, aml::wait_job(rep, *s.ws, name, w));
}

int cmd_logs(Context& ctx, const std::vector<std::string>& args) {
  cli::Command cmd(ctx, "logs", "Prints a job's logs (user_logs/std_log*.txt; pipelines: every step).", "NAME");
  add_job_arguments(cmd);
  cmd.options()("follow", cli::po::bool_switch(), "keep printing until the job ends");
  if (!cmd.parse(args)) return 0;
  std::string name = cmd.required("name");
  aml::Connection s = cli::connect(ctx, cmd);
  // Logs are the result of this command: they go to stdout.
  aml::Reporter rep{ctx.clock, ctx.host, ctx.out};
  aml::print_logs(rep, *s.ws, name, cmd.flag("follow"));
  return 0;
}

int cmd_metrics(Context& ctx, const std::vector<std::string>& args) {
  cli::Command cmd(ctx, "metrics", "Prints the latest value of each metric of a job (MLflow).", "NAME");
  add_job_arguments(cmd);
  if (!cmd.parse(args)) return 0;
  std::string name = cmd.required("name");
  aml::Connection s = cli::connect(ctx, cmd);
  aml::require_job(*s.ws, name);
  auto m = s.ws->metrics(name);
  json::Document doc(rapidjson::kObjectType);
  json::Builder b(doc.GetAllocator());
  for (auto& [k, v] : m) b.set(doc, k, v);
  ctx.host.set_output("metrics", json::dump(doc));
  ctx.emit(doc, [&](std::ostream& os) {
    for (auto& [k, v] : m) os << k << "\t" << v << "\n";
  });
  return 0;
}

int cmd_show(Context& ctx, const std::vector<std::string>& args) {
  cli::Command cmd(ctx, "show", "Shows a job's status, studio URL, metrics and duration.", "NAME");
  add_job_arguments(cmd);
  if (!cmd.parse(args)) return 0;
  std::string name = cmd.required("name");
  aml::Connection s = cli::connect(ctx, cmd);
  return emit_result(ctx, aml::describe_job(*s.ws, name, aml::require_job(*s.ws, name)));
}

int cmd_cancel(Context& ctx, const std::vector<std::string>& args) {
  cli::Command cmd(ctx, "cancel", "Cancels a job.", "NAME");
  add_job_arguments(cmd);
  if (!cmd.parse(args)) return 0;
  std::string name = cmd.required("name");
  aml::Connection s = cli::connect(ctx, cmd);
  aml::require_job(*s.ws, name);
  s.ws->cancel_job(name);
  auto job = s.ws->get_job(name);
  std::string status = job ? json::opt_string(*job, "/properties/status").value_or("?") : "?";
  json::Document doc(rapidjson::kObjectType);
  json::Builder b(doc.GetAllocator());
  b.set(doc, "name", name);
  b.set(doc, "status", status);
  ctx.host.set_output("status", status);
  ctx.emit(doc, [&](std::ostream& os) { os << name << ": " << status << "\n"; });
  return 0;
}

}  // namespace

int run_job(Context& ctx, const std::vector<std::string>& args) {
  return cli::dispatch(ctx, "Azure ML jobs from CLI v2 YAML: submit, wait, stream logs, read metrics, cancel.",
                       {{"submit", "submit a job from YAML (optionally wait and stream)", cmd_submit},
                        {"wait", "wait for a job to end", cmd_wait},
                        {"logs", "print a job's logs", cmd_logs},
                        {"metrics", "print a job's metrics", cmd_metrics},
                        {"show", "show a job", cmd_show},
                        {"cancel", "cancel a job", cmd_cancel}},
                       args);
}

}  // namespace amlops
