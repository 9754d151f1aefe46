// amlops-job: submit Azure ML jobs from CLI v2 YAML, wait, stream logs, read metrics, cancel.
#include "spec/job.hpp"

#include <cmath>
#include <filesystem>
#include <sstream>

#include "aml/submit.hpp"
#include "aml/wait.hpp"
#include "ci/format.hpp"
#include "cli/connection.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "core/redact.hpp"
#include "core/strings.hpp"
#include "report/comment.hpp"
#include "report/fragment.hpp"
#include "report/markdown.hpp"

namespace amlops {
namespace {
namespace fs = std::filesystem;

constexpr size_t kLogTailLines = 20;

// What a failure report shows besides the result: the job's YAML (annotations point at it) and,
// for a job that ended badly, the last lines of its log.
struct Outcome {
  std::string markdown;   // --markdown F; empty: none
  std::string file;       // the job YAML, when submitted from one
  bool streamed = false;  // the log was already printed to stderr
};

// "accuracy 0.91, f1 0.88": the first few metrics, for a one-line verdict.
std::string metrics_brief(const std::map<std::string, double>& metrics) {
  std::vector<std::string> parts;
  for (auto& [k, v] : metrics) {
    if (parts.size() == 4) {
      parts.push_back("…");
      break;
    }
    parts.push_back(k + " " + report::fmt_number(v, 3));
  }
  return str::join(parts, ", ");
}

// A verdict is one line: a service's message may span several, and may be long.
std::string one_line(const std::string& text) {
  constexpr size_t kMax = 300;
  std::string s = str::replace_all(text, "\n", " ");
  if (s.size() <= kMax) return s;
  size_t cut = kMax;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;  // not inside a UTF-8 character
  s = s.substr(0, cut) + "…";
  return s;
}

// A fenced code block that the text cannot close early.
std::string code_block(const std::vector<std::string>& lines) {
  std::string text = str::join(lines, "\n");
  std::string fence = "```";
  while (text.find(fence) != std::string::npos) fence += '`';
  return fence + "text\n" + text + "\n" + fence + "\n";
}

report::Fragment job_fragment(const aml::JobResult& r, const std::vector<std::string>& tail) {
  report::Fragment f;
  f.title = "Training job";
  f.order = 20;
  std::string metrics = metrics_brief(r.metrics);
  if (r.status == "Completed") {
    f.status = report::FragmentStatus::pass;
    f.verdict = "Completed in " + format_duration(std::chrono::milliseconds(std::llround(r.duration_s * 1000)));
    if (!metrics.empty()) f.verdict += " — " + metrics;
  } else if (azure::job_terminal(r.status)) {
    f.status = report::FragmentStatus::fail;
    f.verdict = one_line(r.status + ": " + (r.error.empty() ? "the job ended " + r.status : r.error));
  } else {
    f.verdict = r.status + " (not waited for)";
  }
  std::ostringstream md;
  md << "Job `" << r.name << "`";
  if (!r.studio_url.empty()) md << " · [open in Azure ML studio](" << r.studio_url << ")";
  md << "\n\n";
  if (!r.error.empty()) md << "Error:\n\n" << code_block(str::split(r.error, '\n')) << "\n";
  if (!r.metrics.empty()) {
    report::MdTable t{{"metric", "value"}, {}};
    for (auto& [k, v] : r.metrics) t.rows.push_back({k, report::fmt_number(v, 6)});
    md << t.render() << "\n";
  }
  if (!tail.empty()) md << "Last " << tail.size() << " lines of the job's log:\n\n" << code_block(tail);
  f.body = redact::text(md.str());
  return f;
}

// The fragment goes to the CI step summary and, with --markdown F, to F.
void publish(Context& ctx, const std::string& markdown, const report::Fragment& f) {
  ctx.host.summary(report::render_section(f));
  if (!markdown.empty()) report::write_fragment(markdown, f);
}

// An error before or during the wait (bad YAML, timeout, interrupt, service): an error
// annotation (at the YAML's line for a YAML error) and the fragment, then the caller rethrows.
void report_error(Context& ctx, const Outcome& out, const Error& e) {
  report::Fragment f;
  f.title = "Training job";
  f.order = 20;
  f.status = report::FragmentStatus::fail;
  ci::Annotation a;
  a.title = "Training job";
  a.message = e.what();
  const auto* config = dynamic_cast<const ConfigError*>(&e);
  if (config && config->location()) {
    a.title = "Invalid job YAML";
    a.message = config->message();
    a.file = ci::annotation_path(ctx.env, config->location()->file);
    a.line = config->location()->line;
    a.col = config->location()->col;
    f.verdict = one_line("Invalid job YAML: " + std::string(e.what()));
  } else if (dynamic_cast<const TimeoutError*>(&e)) {
    f.verdict = one_line("Timed out: " + std::string(e.what()));
  } else if (dynamic_cast<const InterruptedError*>(&e)) {
    f.verdict = one_line("Interrupted: " + std::string(e.what()));
  } else {
    f.verdict = one_line("Not run: " + std::string(e.what()));
  }
  if (!dynamic_cast<const InterruptedError*>(&e)) {
    if (a.file.empty() && !out.file.empty()) a.file = ci::annotation_path(ctx.env, out.file);
    ctx.host.annotate(a);
  }
  publish(ctx, out.markdown, f);
}

// Emits a job's result (stdout text/json), the CI step outputs, summary and, for a job that
// ended badly, an error annotation and its last log lines; returns the exit code.
int emit_result(Context& ctx, azure::Workspace* ws, const aml::JobResult& r, const Outcome& out = {}) {
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
  const bool failed = r.status != "Completed" && azure::job_terminal(r.status);
  std::vector<std::string> tail;
  if (failed && ws) tail = aml::last_log_lines(*ws, r.name, kLogTailLines);
  publish(ctx, out.markdown, job_fragment(r, tail));
  ctx.emit(doc, [&](std::ostream& os) {
    os << "name:       " << r.name << "\nstatus:     " << r.status << "\n";
    if (!r.studio_url.empty()) os << "studio_url: " << r.studio_url << "\n";
    os << "duration_s: " << dur << "\n";
    if (!r.error.empty()) os << "error:      " << r.error << "\n";
    for (auto& [k, v] : r.metrics) os << "metric " << k << " = " << v << "\n";
  });
  if (!failed) return 0;
  std::string why = "job " + r.name + " ended " + r.status + (r.error.empty() ? "" : ": " + r.error);
  if (!out.streamed && !tail.empty()) {
    ctx.err << "last " << tail.size() << " lines of the log of " << r.name << ":\n";
    ci::UntrustedOutput untrusted(ctx.host, ctx.err);
    for (auto& line : tail) untrusted.line("  " + redact::text(line));
  }
  log::error(why);
  ci::Annotation a;
  a.title = "Training job " + r.status;
  a.message = why + (r.studio_url.empty() ? "" : "\n" + r.studio_url);
  if (!out.file.empty()) a.file = ci::annotation_path(ctx.env, out.file);
  ctx.host.annotate(a);
  ctx.host.fail(why);
  return 1;
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
  cmd.options()("markdown", cli::po::value<std::string>(),
                "write the result as a report fragment (amlops-report) to this file")(
      "timeout", cli::po::value<std::string>(),
      "stop waiting after this long (e.g. 90m, 2h); exit 3 and cancel the job")(
      "no-cancel-on-timeout", cli::po::bool_switch(), "leave the job running when the timeout passes")(
      "no-cancel-on-interrupt", cli::po::bool_switch(), "leave the job running on SIGINT/SIGTERM");
}

int submit(Context& ctx, cli::Command& cmd, const Outcome& out);

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
      "stream", cli::po::bool_switch(), "wait and stream the job's logs")(
      "no-hash-cache", cli::po::bool_switch(),
      "hash every local folder's content again instead of trusting the hash cache (~/.cache/amlops: a "
      "folder whose files all keep their size, mtime, ctime and inode is not read again)");
  add_wait_options(cmd);
  cli::add_connection_options(cmd);
  if (!cmd.parse(args)) return 0;
  std::string file = cmd.required("file");
  Outcome out{cmd.str("markdown"), file, cmd.flag("stream")};
  try {
    return submit(ctx, cmd, out);
  } catch (const Error& e) {
    report_error(ctx, out, e);
    throw;
  }
}

int submit(Context& ctx, cli::Command& cmd, const Outcome& out) {
  const std::string& file = out.file;
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
  if (!cmd.flag("no-hash-cache")) so.hash_cache.dir = spec::default_hash_cache_dir(ctx.env);
  aml::Submitted sub = aml::submit_job(*s.ws, spec, so);
  std::string url = aml::studio_url(sub.job);
  log::info(sub.existing ? "already submitted " : "submitted ", sub.name, " (",
            json::opt_string(sub.job, "/properties/status").value_or("?"), ")", url.empty() ? "" : " " + url,
            "; code assets: ", sub.stats.assets, ", reused: ", sub.stats.reused, ", uploaded files: ", sub.stats.files,
            ", hashes from the cache: ", sub.stats.hashes_cached);
  if (!wait) {
    aml::JobResult r;
    r.name = sub.name;
    r.status = json::opt_string(sub.job, "/properties/status").value_or("NotStarted");
    r.studio_url = url;
    return emit_result(ctx, s.ws.get(), r, out);
  }
  auto rep = reporter(ctx);
  return emit_result(ctx, s.ws.get(), aml::wait_job(rep, *s.ws, sub.name, *wait), out);
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
  Outcome out{cmd.str("markdown"), "", w.stream};
  try {
    aml::Connection s = cli::connect(ctx, cmd);
    auto rep = reporter(ctx);
    return emit_result(ctx, s.ws.get(), aml::wait_job(rep, *s.ws, name, w), out);
  } catch (const Error& e) {
    report_error(ctx, out, e);
    throw;
  }
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
  return emit_result(ctx, s.ws.get(), aml::describe_job(*s.ws, name, aml::require_job(*s.ws, name)));
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
