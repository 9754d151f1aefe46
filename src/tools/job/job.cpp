// amlops-job: submit Azure ML jobs from CLI v2 YAML, wait, stream logs, read metrics, cancel.
#include "spec/job.hpp"

#include <rapidjson/pointer.h>

#include <atomic>
#include <filesystem>
#include <mutex>
#include <thread>

#include "azure/blob.hpp"
#include "core/error.hpp"
#include "core/hash.hpp"
#include "core/log.hpp"
#include "core/strings.hpp"
#include "spec/code_asset.hpp"
#include "tools/job/session.hpp"

namespace amlops {
namespace {
namespace fs = std::filesystem;
using jobtool::Session;

using jobtool::upload_files;
using jobtool::UploadStats;

// A code folder: reuse a code version with the same content hash, else startPendingUpload,
// upload, mark the upload complete, and create the version. Returns the code version's ARM id.
std::string ensure_code(azure::Workspace& ws, const fs::path& dir, UploadStats& stats) {
  auto files = spec::collect_code_files(dir);
  if (files.empty()) throw ConfigError("code folder " + dir.string() + " has no files (after its ignore rules)");
  std::string hash = spec::content_hash(files);
  std::string name = "amlops-code-" + hash.substr(0, 32);
  const std::string version = "1";
  ++stats.assets;
  if (auto id = ws.find_code_by_hash(name, hash, spec::kHashVersion)) {
    log::info("code ", dir.string(), ": unchanged (", hash.substr(0, 12), "), reusing ", *id);
    ++stats.reused;
    return *id;
  }
  auto pending = ws.start_pending_upload("codes", name, version);
  auto container = azure::BlobContainer::from_sas_uri(ws.arm().http(), pending.sas_uri);
  // blobUri may name a folder inside the SAS container.
  std::string blob_uri = pending.blob_uri;
  while (!blob_uri.empty() && blob_uri.back() == '/') blob_uri.pop_back();
  std::string prefix;
  std::string base = container.url();
  if (blob_uri.size() > base.size() && blob_uri.compare(0, base.size(), base) == 0)
    prefix = blob_uri.substr(base.size() + 1) + "/";
  std::string folder = fs::absolute(dir).lexically_normal().filename().string();
  if (folder.empty()) folder = "code";
  prefix += folder + "/";
  uint64_t bytes = 0;
  for (auto& f : files) bytes += f.size;
  log::info("code ", dir.string(), ": uploading ", files.size(), " files (", bytes, " bytes)");
  upload_files(container, prefix, files);
  container.set_metadata(prefix + files.front().rel,
                         {{"upload_status", "completed"}, {"name", name}, {"version", version}});
  stats.files += files.size();
  stats.bytes += bytes;
  auto doc = ws.put_code_version(name, version, blob_uri + "/" + folder, hash, spec::kHashVersion);
  return json::opt_string(doc, "/id").value_or(ws.path("/codes/" + name + "/versions/" + version));
}

void set_target(spec::JobSpec& spec, const spec::Target& t, const std::string& id) {
  json::Document& doc = t.component < 0 ? spec.body : spec.components.at(static_cast<size_t>(t.component)).body;
  std::string v = t.prefix + id + t.suffix;
  rapidjson::Pointer(t.pointer.c_str())
      .Set(doc, json::Value(v.c_str(), static_cast<rapidjson::SizeType>(v.size()), doc.GetAllocator()),
           doc.GetAllocator());
}

std::string generate_name(const std::string& file) {
  std::string stem = fs::path(file).stem().string();
  std::string clean;
  for (char c : str::to_lower(stem)) clean += (std::isalnum(static_cast<unsigned char>(c)) ? c : '_');
  if (clean.empty()) clean = "job";
  return clean + "_" + str::random_hex(5);
}

jobtool::WaitOptions wait_options(const cli::Command& cmd) {
  jobtool::WaitOptions w;
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
  jobtool::add_connection_options(cmd);
  if (!cmd.parse(args)) return 0;
  std::string file = cmd.required("file");
  azure::WorkspaceRef ref = jobtool::workspace_ref(cmd);

  // Everything a user can get wrong in the YAML is checked before any request.
  spec::LoadOptions lo;
  lo.workspace_id = ref.arm_id();
  lo.overrides = cli::key_values(cmd.list("set"), "--set");
  spec::JobSpec spec = spec::load_job(file, lo);
  auto extra_tags = cli::key_values(cmd.list("tag"), "--tag");
  std::optional<jobtool::WaitOptions> wait;
  if (cmd.flag("wait") || cmd.flag("stream") || cmd.has("timeout")) {
    wait = wait_options(cmd);
    wait->stream = cmd.flag("stream");
  }

  Session s = jobtool::connect(ctx, cmd);
  azure::Workspace& ws = *s.ws;
  UploadStats stats;
  std::map<std::string, std::string> done;  // folder -> id (a folder used twice is uploaded once)
  for (auto& up : spec.uploads) {
    std::string key = (up.kind == spec::LocalUpload::Kind::code ? "code:" : "input:") + up.path.string();
    if (!done.count(key))
      done[key] = up.kind == spec::LocalUpload::Kind::code ? ensure_code(ws, up.path, stats)
                                                           : jobtool::ensure_input(ws, up.path, stats);
    set_target(spec, up.target, done[key]);
  }
  for (auto& e : spec.environments) {
    std::string id = ws.ensure_environment(e.env.name, e.env.version, e.env.body);
    set_target(spec, e.target, id);
  }
  for (size_t i = 0; i < spec.components.size(); ++i) {
    auto& c = spec.components[i];
    std::string version = hash::sha256_hex(json::dump(c.body)).substr(0, 32);
    std::string id = ws.put_component("azureml_anonymous", version, c.body);
    rapidjson::Pointer(("/properties/jobs/" + spec::pointer_token(c.step) + "/componentId").c_str())
        .Set(spec.body, json::Value(id.c_str(), static_cast<rapidjson::SizeType>(id.size()), spec.body.GetAllocator()),
             spec.body.GetAllocator());
  }

  std::string name = cmd.str("name", spec.name.value_or(""));
  if (name.empty()) name = generate_name(file);
  json::Builder b(spec.body.GetAllocator());
  json::Value& props = spec.body["properties"];
  std::string experiment = cmd.str("experiment", spec.experiment_name.value_or(""));
  if (experiment.empty()) experiment = fs::current_path().filename().string();
  b.set(props, "experimentName", experiment);
  if (!props.HasMember("tags")) b.set(props, "tags", b.obj());
  std::string submission = str::random_hex(8);
  for (auto& [k, v] : jobtool::provenance_tags(ctx)) b.set(props["tags"], k, v);
  for (auto& [k, v] : extra_tags) b.set(props["tags"], k, v);
  b.set(props["tags"], "amlops.submission", submission);

  log::debug("job body: ", json::dump(spec.body));
  json::Document job;
  try {
    job = ws.put_job(name, spec.body);
  } catch (const HttpError& e) {
    // A retried PUT whose first attempt reached the service may be refused as a change of an
    // existing job: that job is ours when it carries our submission tag.
    auto existing = e.status() >= 400 && e.status() < 500 ? ws.get_job(name) : std::nullopt;
    if (!existing || json::opt_string(*existing, "/properties/tags/amlops.submission").value_or("") != submission)
      throw;
    job = std::move(*existing);
  }
  std::string url = jobtool::studio_url(job);
  log::info("submitted ", name, " (", json::opt_string(job, "/properties/status").value_or("?"), ")",
            url.empty() ? "" : " " + url, "; code assets: ", stats.assets, ", reused: ", stats.reused,
            ", uploaded files: ", stats.files);
  ctx.host.set_output("name", name);
  if (!wait) {
    jobtool::JobResult r;
    r.name = name;
    r.status = json::opt_string(job, "/properties/status").value_or("NotStarted");
    r.studio_url = url;
    return jobtool::emit_result(ctx, r);
  }
  return jobtool::emit_result(ctx, jobtool::wait_job(ctx, ws, name, *wait));
}

// NAME (positional) and the connection options: the arguments of every command on one job.
void add_job_arguments(cli::Command& cmd) {
  cmd.options()("name", cli::po::value<std::string>(), "job name");
  cmd.positional("name");
  jobtool::add_connection_options(cmd);
}

json::Document require_job(Session& s, const std::string& name) {
  auto job = s.ws->get_job(name);
  if (!job) throw UsageError("job " + name + " not found in workspace " + s.ws->ref().name);
  return std::move(*job);
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
  Session s = jobtool::connect(ctx, cmd);
  return jobtool::emit_result(ctx, jobtool::wait_job(ctx, *s.ws, name, w));
}

int cmd_logs(Context& ctx, const std::vector<std::string>& args) {
  cli::Command cmd(ctx, "logs", "Prints a job's logs (user_logs/std_log*.txt; pipelines: every step).", "NAME");
  add_job_arguments(cmd);
  cmd.options()("follow,f", cli::po::bool_switch(), "keep printing until the job ends");
  if (!cmd.parse(args)) return 0;
  std::string name = cmd.required("name");
  Session s = jobtool::connect(ctx, cmd);
  // Logs are the result of this command: they go to stdout.
  Context out_ctx{ctx.env, ctx.host, ctx.clock, ctx.out, ctx.out, ctx.tool, ctx.format};
  jobtool::print_logs(out_ctx, *s.ws, name, cmd.flag("follow"));
  return 0;
}

int cmd_metrics(Context& ctx, const std::vector<std::string>& args) {
  cli::Command cmd(ctx, "metrics", "Prints the latest value of each metric of a job (MLflow).", "NAME");
  add_job_arguments(cmd);
  if (!cmd.parse(args)) return 0;
  std::string name = cmd.required("name");
  Session s = jobtool::connect(ctx, cmd);
  require_job(s, name);
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
  Session s = jobtool::connect(ctx, cmd);
  return jobtool::emit_result(ctx, jobtool::describe_job(*s.ws, name, require_job(s, name)));
}

int cmd_cancel(Context& ctx, const std::vector<std::string>& args) {
  cli::Command cmd(ctx, "cancel", "Cancels a job.", "NAME");
  add_job_arguments(cmd);
  if (!cmd.parse(args)) return 0;
  std::string name = cmd.required("name");
  Session s = jobtool::connect(ctx, cmd);
  require_job(s, name);
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
