#include "local/runner.hpp"

#include <unistd.h>

#include <algorithm>
#include <csignal>

#include "core/env.hpp"
#include "core/error.hpp"
#include "core/files.hpp"
#include "core/log.hpp"
#include "core/strings.hpp"
#include "local/app.hpp"
#include "local/external.hpp"
#include "local/job_util.hpp"
#include "local/shims.hpp"

namespace amlops::local {

namespace fs = std::filesystem;
using steady = std::chrono::steady_clock;
namespace {

// An input in the workspace's blob container that is not in the local store: with external
// storage (config.yml `storage:`) it was uploaded there; download it (a blob, else a folder).
void fetch_external_input(App& app, const std::string& ws, const BlobLocation& loc, const std::string& type,
                          const fs::path& path) {
  const auto& ext = app.config().storage;
  std::error_code ec;
  if (!ext || loc.container != app.blobstore_container(ws) || loc.path.empty() || fs::exists(path, ec)) return;
  try {
    if (type != "uri_folder" && fetch_external_blob(*ext, loc.container, loc.path, path)) return;
    if (type != "uri_file") fetch_external_folder(*ext, loc.container, loc.path, path);
  } catch (const std::exception& e) {
    throw JobFailure("SystemError", "input from external storage: " + std::string(e.what()));
  }
}

// The code of a job in the external storage account (config.yml `storage:`), downloaded into wd.
void fetch_external_code(const ExternalStorage& ext, const std::string& uri, const fs::path& wd) {
  std::string rest = uri.substr(ext.endpoint.size() + 1);
  auto slash = rest.find('/');
  if (slash == std::string::npos) throw JobFailure("UserError", "code snapshot " + uri + " names no folder");
  size_t n = 0;
  try {
    n = fetch_external_folder(ext, rest.substr(0, slash), rest.substr(slash + 1), wd);
  } catch (const std::exception& e) {
    throw JobFailure("SystemError", "code snapshot from external storage: " + std::string(e.what()));
  }
  if (n == 0) throw JobFailure("UserError", "the code snapshot " + uri + " has no uploaded files");
}

const Duration kKillGrace = std::chrono::seconds(3);

std::string mlflow_status(const std::string& s) {
  if (s == "Completed") return "FINISHED";
  if (s == "Failed") return "FAILED";
  if (s == "Canceled") return "KILLED";
  if (s == "Running" || s == "Finalizing" || s == "CancelRequested") return "RUNNING";
  return "SCHEDULED";
}

std::string environment_name(const std::string& ws, const std::string& env_id) {
  if (env_id.empty()) return {};
  auto r = parse_asset_ref(ws, "environments", env_id);
  return r ? r->name : env_id;
}

void copy_into(const fs::path& from, const fs::path& to_dir) {
  std::error_code ec;
  if (fs::is_directory(from))
    fs::copy(from, to_dir, fs::copy_options::recursive | fs::copy_options::overwrite_existing, ec);
  else
    fs::copy_file(from, to_dir / from.filename(), fs::copy_options::overwrite_existing, ec);
  if (ec) throw JobFailure("SystemError", "cannot copy " + from.string() + ": " + ec.message());
}

std::string tail_of(const fs::path& file, size_t max_bytes) {
  std::error_code ec;
  if (!fs::exists(file, ec)) return {};
  std::string all = files::read(file);
  if (all.size() > max_bytes) all = all.substr(all.size() - max_bytes);
  return std::string(str::trim(all));
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Runner

Runner::Runner(App& app) : app_(app) {}

Runner::~Runner() { stop("amlops-local stopped while the job was running"); }

bool Runner::terminal(const std::string& s) { return s == "Completed" || s == "Failed" || s == "Canceled"; }

namespace {

// Kills what is left of a job's process group after the server died: every process whose group
// is `pgid` and whose environment names the job (so a reused pid is never hit).
void kill_orphans(pid_t pgid, const std::string& job) {
  std::error_code ec;
  std::string marker = "AZUREML_RUN_ID=" + job;
  for (auto& e : fs::directory_iterator("/proc", ec)) {
    std::string name = e.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::string stat, environ;
    try {
      stat = files::read(e.path() / "stat");
      environ = files::read(e.path() / "environ");
    } catch (const std::exception&) {
      continue;
    }
    auto close = stat.rfind(')');
    if (close == std::string::npos || close + 2 > stat.size()) continue;
    auto fields = str::split(std::string_view(stat).substr(close + 2), ' ');  // state ppid pgrp ...
    if (fields.size() < 3 || fields[2] != std::to_string(pgid)) continue;
    for (auto& var : str::split(environ, '\0'))
      if (var == marker) ::kill(static_cast<pid_t>(std::stol(name)), SIGKILL);
  }
}

}  // namespace

void Runner::recover() {
  auto& st = app_.store();
  auto rows =
      st.query("SELECT ws, name, status, pid FROM jobs WHERE status NOT IN ('Completed', 'Failed', 'Canceled')");
  for (auto& r : rows) {
    if (!r.is_null(3) && r.i64(3) > 1) kill_orphans(static_cast<pid_t>(r.i64(3)), r.str(1));
    std::string msg = "amlops-local stopped (or was killed) while this job was " + r.str(2) +
                      "; its processes were stopped and it cannot resume. Submit the job again.";
    append_log(r.str(0), r.str(1), "amlops-local: " + msg);
    finish(r.str(0), r.str(1), "Failed", "ServiceRestarted", msg);
  }
}

void Runner::start() {
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] {
    while (!stopping_) {
      try {
        tick();
      } catch (const std::exception& e) {
        log::error("amlops-local runner: ", e.what());
      }
      // Sleep one tick, or less when a job was submitted or a process ended.
      std::unique_lock lock(wake_mu_);
      wake_cv_.wait_for(lock, app_.config().tick, [this] { return stopping_.load() || woken_; });
      woken_ = false;
    }
  });
}

void Runner::wake() {
  {
    std::lock_guard lock(wake_mu_);
    woken_ = true;
  }
  wake_cv_.notify_all();
}

void Runner::stop(const std::string& reason) {
  stopping_ = true;
  wake();
  if (thread_.joinable()) thread_.join();
  std::lock_guard lock(tick_mu_);
  for (auto& [key, p] : procs_) {
    pid_t pid = p.child.pid();
    if (pid > 0) ::kill(-pid, SIGKILL);
    p.child.wait();
    auto slash = key.find('/');
    append_log(key.substr(0, slash), key.substr(slash + 1), "amlops-local: " + reason);
    finish(key.substr(0, slash), key.substr(slash + 1), "Failed", "ServiceStopped", reason);
  }
  procs_.clear();
}

void Runner::append_log(const std::string& ws, const std::string& name, const std::string& line,
                        const std::string& file) {
  BlobLocation loc = app_.job_log(ws, name);
  if (!file.empty()) loc.path = "ExperimentRun/dcid." + name + "/" + file;
  auto path = app_.blob_path(loc);
  std::error_code ec;
  fs::create_directories(path.parent_path(), ec);
  try {
    files::append(path, line + "\n");
  } catch (const std::exception&) {
  }
}

void Runner::update_body(const std::string& ws, const std::string& name,
                         const std::function<void(json::Document&)>& fn) {
  auto& st = app_.store();
  st.transaction([&] {
    auto row = st.one("SELECT body FROM jobs WHERE ws=? AND name=?", {ws, name});
    if (!row) return;
    auto d = json::parse(row->str(0));
    fn(d);
    st.exec("UPDATE jobs SET body=? WHERE ws=? AND name=?", {json::dump(d), ws, name});
  });
}

void Runner::set_status(const JobRow& j, const std::string& status) {
  auto& st = app_.store();
  if (status == "Running")
    st.exec("UPDATE jobs SET status=?, started=COALESCE(started, ?) WHERE ws=? AND name=? AND cancel_requested=0",
            {status, now_ms(), j.ws, j.name});
  else
    st.exec("UPDATE jobs SET status=? WHERE ws=? AND name=? AND cancel_requested=0", {status, j.ws, j.name});
  app_.set_run_status(j.ws, j.name, mlflow_status(status), false);
}

void Runner::finish(const std::string& ws, const std::string& name, const std::string& status, const std::string& code,
                    const std::string& message) {
  auto& st = app_.store();
  // Before the status: a client that sees Completed finds the outputs' assets.
  if (status == "Completed") register_output_assets(ws, name);
  std::string err;
  if (!code.empty()) {
    json::Document d(rapidjson::kObjectType);
    json::Builder b(d.GetAllocator());
    b.set(d, "code", code);
    b.set(d, "message", message);
    err = json::dump(d);
  }
  st.exec("UPDATE jobs SET status=?, ended=?, error=? WHERE ws=? AND name=?",
          {status, now_ms(), err.empty() ? SqlValue{} : SqlValue{err}, ws, name});
  app_.set_run_status(ws, name, mlflow_status(status), true);
}

std::vector<Runner::JobRow> Runner::children(const std::string& ws, const std::string& parent) {
  std::vector<JobRow> out;
  for (auto& r : app_.store().query("SELECT ws, name, parent, job_type, status, body, cancel_requested, started FROM "
                                    "jobs WHERE ws=? AND parent=? ORDER BY seq",
                                    {ws, parent}))
    out.push_back({r.str(0), r.str(1), r.str(2), r.str(3), r.str(4), r.str(5), r.i64(6) != 0, r.i64(7)});
  return out;
}

void Runner::request_cancel(const std::string& ws, const std::string& name) {
  app_.store().exec(
      "UPDATE jobs SET cancel_requested=1, status=CASE WHEN status IN ('Completed','Failed','Canceled') THEN status "
      "ELSE 'CancelRequested' END "
      "WHERE ws=? AND name=?",
      {ws, name});
  wake();
}

std::string Runner::create_job(const std::string& ws, const std::string& name, const json::Value& body,
                               const std::optional<std::string>& parent) {
  json::Document doc(rapidjson::kObjectType);
  json::Builder b(doc.GetAllocator());
  const json::Value& req_props = body["properties"];
  std::string type = req_props["jobType"].GetString();
  b.set(doc, "id", app_.workspace_id(ws) + "/jobs/" + name);
  b.set(doc, "name", name);
  b.set(doc, "type", "Microsoft.MachineLearningServices/workspaces/jobs");
  json::Value p = b.copy(req_props);
  std::string experiment = member_text(p, "experimentName").value_or("Default");
  b.set(p, "experimentName", experiment);
  if (!p.HasMember("displayName") || p["displayName"].IsNull()) b.set(p, "displayName", name);
  if (!p.HasMember("tags") || !p["tags"].IsObject()) b.set(p, "tags", b.obj());
  if (!p.HasMember("properties") || !p["properties"].IsObject()) b.set(p, "properties", b.obj());
  if (!p.HasMember("isArchived")) b.set(p, "isArchived", false);
  if (parent) b.set(p, "parentJobName", *parent);
  if (!p.HasMember("computeId")) b.set_null(p, "computeId");
  // Services: Tracking (MLflow) and Studio, next to whatever the client sent.
  if (!p.HasMember("services") || !p["services"].IsObject()) b.set(p, "services", b.obj());
  std::string host = app_.base_url().substr(app_.base_url().find("://") + 3);
  json::Value tracking = b.obj();
  b.set(tracking, "jobServiceType", "Tracking");
  b.set(tracking, "endpoint",
        "azureml://" + host + "/mlflow/v1.0/subscriptions/" + app_.identity().subscription + "/resourceGroups/" +
            app_.config().resource_group + "/providers/Microsoft.MachineLearningServices/workspaces/" + ws + "?");
  b.set(tracking, "status", "");
  b.set(p["services"], "Tracking", std::move(tracking));
  json::Value studio = b.obj();
  b.set(studio, "jobServiceType", "Studio");
  b.set(studio, "endpoint", app_.base_url() + "/runs/" + name + "?wsid=" + app_.workspace_id(ws));
  b.set(studio, "status", "");
  b.set(p["services"], "Studio", std::move(studio));
  for (auto& s : p["services"].GetObject())
    if (s.value.IsObject()) {
      if (!s.value.HasMember("status")) b.set(s.value, "status", "");
      if (!s.value.HasMember("errorMessage")) b.set(s.value, "errorMessage", "");
    }
  if (type == "Command") {
    if (!p.HasMember("parameters")) b.set(p, "parameters", b.obj());
    if (!p.HasMember("outputs") || !p["outputs"].IsObject()) b.set(p, "outputs", b.obj());
    // Named outputs without a uri get the default location now, so that it is known on submit.
    for (auto& o : p["outputs"].GetObject()) {
      if (!o.value.IsObject()) continue;
      std::string oname = o.name.GetString();
      if (oname == "default") continue;
      std::string t = output_type(o.value);
      if (t == "literal") continue;
      if (!member_text(o.value, "uri")) {
        std::string uri = "azureml://datastores/workspaceblobstore/paths/azureml/" + name + "/" + oname + "/";
        if (t == "uri_file") uri += oname;
        b.set(o.value, "uri", uri);
      }
      if (!o.value.HasMember("jobOutputType")) b.set(o.value, "jobOutputType", t);
      if (!o.value.HasMember("mode")) b.set(o.value, "mode", "ReadWriteMount");
    }
    json::Value def = b.obj();
    b.set(def, "jobOutputType", "uri_folder");
    b.set(def, "mode", "ReadWriteMount");
    b.set(def, "uri", "azureml://datastores/workspaceartifactstore/ExperimentRun/dcid." + name);
    b.set(p["outputs"], "default", std::move(def));
  }
  b.set(doc, "properties", std::move(p));
  auto now = now_ms();
  json::Value sd = b.obj();
  std::string t = iso8601_utc(std::chrono::system_clock::time_point(std::chrono::milliseconds(now)), true);
  b.set(sd, "createdAt", t);
  b.set(sd, "createdBy", app_.identity().client_id);
  b.set(sd, "createdByType", "Application");
  b.set(sd, "lastModifiedAt", t);
  b.set(sd, "lastModifiedBy", app_.identity().client_id);
  b.set(sd, "lastModifiedByType", "Application");
  b.set(doc, "systemData", std::move(sd));
  auto& st = app_.store();
  st.transaction([&] {
    st.exec(
        "INSERT INTO jobs(ws, name, parent, job_type, status, body, created) VALUES(?, ?, ?, ?, 'NotStarted', ?, ?)",
        {ws, name, parent ? SqlValue{*parent} : SqlValue{}, type, json::dump(doc), now});
    int64_t exp = app_.ensure_experiment(ws, experiment);
    app_.create_run(ws, name, exp, name, "SCHEDULED");
  });
  json::Builder b2(doc.GetAllocator());
  b2.set(doc["properties"], "status", "NotStarted");
  wake();
  return json::dump(doc);
}

void Runner::tick() {
  std::lock_guard lock(tick_mu_);
  try {
    app_.fire_schedules();
  } catch (const std::exception& e) {
    log::error("amlops-local schedules: ", e.what());
  }
  auto rows = app_.store().query(
      "SELECT ws, name, parent, job_type, status, body, cancel_requested, started FROM jobs "
      "WHERE status NOT IN ('Completed', 'Failed', 'Canceled') ORDER BY seq");
  for (auto& r : rows) {
    if (stopping_) return;
    JobRow j{r.str(0), r.str(1), r.str(2), r.str(3), r.str(4), r.str(5), r.i64(6) != 0, r.i64(7)};
    try {
      if (j.type == "Command")
        step_command(j);
      else if (j.type == "Pipeline")
        step_pipeline(j);
      else if (j.type == "Sweep")
        step_sweep(j);
      else
        finish(j.ws, j.name, "Failed", "UserError", "job type " + j.type + " is not supported");
    } catch (const JobFailure& e) {
      append_log(j.ws, j.name, "amlops-local: " + std::string(e.what()));
      finish(j.ws, j.name, "Failed", e.code, e.what());
    } catch (const std::exception& e) {
      append_log(j.ws, j.name, "amlops-local: " + std::string(e.what()));
      finish(j.ws, j.name, "Failed", "SystemError", e.what());
    }
  }
}

void Runner::step_command(const JobRow& j) {
  std::string key = j.ws + "/" + j.name;
  auto it = procs_.find(key);
  if (j.cancel) {
    if (it == procs_.end()) {
      finish(j.ws, j.name, "Canceled");
      return;
    }
    auto& p = it->second;
    if (!p.canceled) {
      p.canceled = true;
      append_log(j.ws, j.name, "amlops-local: cancel requested; stopping the process tree");
      p.child.signal_tree(SIGTERM);
      if (!p.kill_at) p.kill_at = steady::now() + kKillGrace;
    }
  }
  if (it == procs_.end()) {
    if (j.status == "NotStarted") set_status(j, "Queued");
    if (j.status == "NotStarted" || j.status == "Queued") {
      if (running_processes() >= app_.config().max_running_jobs) return;
      // A job on a compute waits while maxNodeCount jobs run there.
      std::string compute = app_.job_compute(j.ws, j.body, j.parent);  // names match case-insensitively
      if (!compute.empty()) {
        auto max_nodes = app_.compute_max_nodes(j.ws, compute);
        if (!max_nodes) throw JobFailure("UserError", "Compute " + compute + " not found in workspace " + j.ws + ".");
        auto on_it =
            std::count_if(procs_.begin(), procs_.end(), [&](auto& kv) { return kv.second.compute == compute; });
        if (on_it >= *max_nodes) return;
      }
      launch(j);
      if (auto started = procs_.find(key); started != procs_.end()) started->second.compute = compute;
      return;
    }
    throw JobFailure("SystemError", "the job's process is not known to this amlops-local (status " + j.status + ")");
  }
  auto& p = it->second;
  if (auto code = p.child.poll()) {
    ::kill(-p.child.pid(), SIGKILL);  // whatever the script left behind in its group
    finalize(j, p, *code);
    procs_.erase(it);
    return;
  }
  auto now = steady::now();
  if (!p.timed_out && now >= p.deadline) {
    p.timed_out = true;
    append_log(j.ws, j.name,
               "amlops-local: the job exceeded its timeout of " + p.timeout_text + "; stopping the process tree");
    p.child.signal_tree(SIGTERM);
    p.kill_at = now + kKillGrace;
  }
  if (p.kill_at && now >= *p.kill_at) ::kill(-p.child.pid(), SIGKILL);
}

void Runner::launch(const JobRow& j) {
  set_status(j, "Preparing");
  auto body = json::parse(j.body);
  const json::Value& props = body["properties"];
  fs::path dir = app_.job_dir(j.ws, j.name);
  fs::path wd = dir / "wd";
  std::error_code ec;
  fs::remove_all(wd, ec);
  fs::create_directories(wd);

  // Code snapshot.
  if (auto code_id = member_text(props, "codeId"); code_id && !code_id->empty()) {
    auto ref = parse_asset_ref(j.ws, "codes", *code_id);
    auto code = ref ? load_asset(app_.store(), "codes", *ref) : std::nullopt;
    if (!code) throw JobFailure("UserError", "code asset '" + *code_id + "' was not found");
    auto uri = json::opt_string(*code, "/properties/codeUri");
    if (!uri) throw JobFailure("UserError", "code asset '" + *code_id + "' has no codeUri");
    const auto& ext = app_.config().storage;
    if (ext && uri->rfind(ext->endpoint + "/", 0) == 0) {
      fetch_external_code(*ext, *uri, wd);
    } else {
      auto res = app_.resolve_uri(j.ws, *uri);
      if (!res.loc) throw JobFailure("UserError", "code snapshot: " + res.error);
      auto src = app_.blob_path(*res.loc);
      if (!fs::exists(src)) throw JobFailure("UserError", "the code snapshot " + *uri + " has no uploaded files");
      copy_into(src, wd);
    }
  }

  // Inputs.
  std::map<std::string, std::string> values;  // "inputs.x" / "outputs.y" -> value
  std::map<std::string, std::string> env;
  if (props.HasMember("inputs") && props["inputs"].IsObject()) {
    for (auto& in : props["inputs"].GetObject()) {
      std::string name = in.name.GetString();
      const json::Value& v = in.value;
      if (!v.IsObject()) continue;
      std::string t = input_type(v);
      std::string value;
      if (t == "literal") {
        value = member_text(v, "value").value_or("");
      } else {
        auto uri = member_text(v, "uri").value_or(member_text(v, "path").value_or(""));
        if (uri.empty()) throw JobFailure("UserError", "input '" + name + "' has no uri");
        auto res = app_.resolve_uri(j.ws, uri);
        if (!res.loc) throw JobFailure("UserError", "input '" + name + "': " + res.error);
        auto path = app_.blob_path(*res.loc);
        fetch_external_input(app_, j.ws, *res.loc, t, path);
        if (t == "uri_file" && !fs::is_regular_file(path))
          throw JobFailure("UserError", "input '" + name + "': no file at " + uri);
        if (t == "uri_folder" && !fs::is_directory(path))
          throw JobFailure("UserError", "input '" + name + "': no folder at " + uri);
        if (!fs::exists(path)) throw JobFailure("UserError", "input '" + name + "': nothing at " + uri);
        value = path.string();
      }
      values["inputs." + name] = value;
      env["AZURE_ML_INPUT_" + name] = value;
    }
  }
  // Outputs.
  if (props.HasMember("outputs") && props["outputs"].IsObject()) {
    for (auto& out : props["outputs"].GetObject()) {
      std::string name = out.name.GetString();
      if (name == "default" || !out.value.IsObject()) continue;
      std::string t = output_type(out.value);
      auto uri = member_text(out.value, "uri");
      if (!uri) continue;
      auto res = app_.resolve_uri(j.ws, *uri);
      if (!res.loc) throw JobFailure("UserError", "output '" + name + "': " + res.error);
      auto path = app_.blob_path(*res.loc);
      if (t == "uri_file")
        fs::create_directories(path.parent_path());
      else
        fs::create_directories(path);
      values["outputs." + name] = path.string();
      env["AZURE_ML_OUTPUT_" + name] = path.string();
    }
  }
  // Values reach the shell through the environment only (see substitute.hpp).
  Substituted command;
  try {
    command = substitute_command(member_text(props, "command").value_or(""),
                                 [&](const std::string& ref) -> std::optional<std::string> {
                                   auto f = values.find(ref);
                                   if (f != values.end()) return f->second;
                                   return std::nullopt;
                                 });
  } catch (const std::runtime_error& e) {
    throw JobFailure("UserError", e.what());
  }

  // Environment: a minimal, reproducible set plus the job's variables.
  std::map<std::string, std::string> base;
  for (const char* k : {"PATH", "HOME", "USER", "LANG", "LC_ALL", "TZ", "TMPDIR", "LOGNAME"})
    if (auto v = process_env().get(k)) base[k] = *v;
  if (!base.count("PATH")) base["PATH"] = "/usr/local/bin:/usr/bin:/bin";
  std::string env_name = environment_name(j.ws, member_text(props, "environmentId").value_or(""));
  const auto& envs = app_.config().environments;
  auto mit = envs.find(env_name);
  if (mit == envs.end()) mit = envs.find("*");
  base["PATH"] = job_path(dir / "bin", mit != envs.end() ? &mit->second : nullptr, base["PATH"]);
  if (props.HasMember("environmentVariables") && props["environmentVariables"].IsObject())
    for (auto& e : props["environmentVariables"].GetObject()) base[e.name.GetString()] = json::scalar_text(e.value);
  for (auto& [k, v] : env) base[k] = v;
  for (auto& [k, v] : command.env) base[k] = v;
  auto exp = app_.store().one("SELECT experiment_id FROM runs WHERE ws=? AND run_id=?", {j.ws, j.name});
  base["MLFLOW_TRACKING_URI"] = app_.mlflow_base(j.ws);
  base["MLFLOW_TRACKING_TOKEN"] = app_.issue_token("job:" + j.name, std::chrono::hours(24 * 7));
  base["MLFLOW_RUN_ID"] = j.name;
  base["MLFLOW_EXPERIMENT_NAME"] = member_text(props, "experimentName").value_or("Default");
  if (exp) base["MLFLOW_EXPERIMENT_ID"] = std::to_string(exp->i64(0));
  base["AZUREML_RUN_ID"] = j.name;
  base["AZUREML_ARM_SUBSCRIPTION"] = app_.identity().subscription;
  base["AZUREML_ARM_RESOURCEGROUP"] = app_.config().resource_group;
  base["AZUREML_ARM_WORKSPACE_NAME"] = j.ws;
  base["AZUREML_EXPERIMENT_NAME"] = base["MLFLOW_EXPERIMENT_NAME"];
  base["PWD"] = wd.string();
  if (!base.count("PYTHONUNBUFFERED")) base["PYTHONUNBUFFERED"] = "1";  // live logs

  auto log_path = app_.blob_path(app_.job_log(j.ws, j.name));
  fs::create_directories(log_path.parent_path());
  process::SpawnOptions so;
  so.cwd = wd;
  so.env = base;
  so.stdout_file = log_path;
  so.merge_stderr = true;
  so.new_process_group = true;
  Proc p;
  if (props.HasMember("limits") && props["limits"].IsObject()) {
    if (auto t = member_text(props["limits"], "timeout"); t && !t->empty()) {
      try {
        p.deadline = steady::now() + parse_duration(*t);
        p.timeout_text = *t;
      } catch (const std::exception&) {
        throw JobFailure("UserError", "limits.timeout '" + *t + "' is not a duration");
      }
    }
  }
  try {
    p.child = process::spawn({"/bin/sh", "-c", command.command}, so);
  } catch (const std::exception& e) {
    throw JobFailure("SystemError", std::string("cannot start the job: ") + e.what());
  }
  app_.store().exec("UPDATE jobs SET pid=? WHERE ws=? AND name=?", {static_cast<int64_t>(p.child.pid()), j.ws, j.name});
  set_status(j, "Running");
  procs_.emplace(j.ws + "/" + j.name, std::move(p));
}

void Runner::finalize(const JobRow& j, Proc& p, int exit_code) {
  if (!p.canceled) set_status(j, "Finalizing");
  // ./outputs of the working directory become the run's artifacts.
  fs::path wd = app_.job_dir(j.ws, j.name) / "wd";
  fs::path outputs = wd / "outputs";
  std::error_code ec;
  if (fs::is_directory(outputs)) {
    auto dst = app_.blob_path({app_.artifact_container(j.ws), "ExperimentRun/dcid." + j.name + "/outputs"});
    fs::create_directories(dst);
    fs::copy(outputs, dst, fs::copy_options::recursive | fs::copy_options::overwrite_existing, ec);
    if (ec) log::warn("amlops-local: copying outputs of ", j.name, ": ", ec.message());
  }
  auto log_path = app_.blob_path(app_.job_log(j.ws, j.name));
  if (p.canceled) {
    finish(j.ws, j.name, "Canceled");
  } else if (p.timed_out) {
    std::string msg = "The job exceeded its timeout of " + p.timeout_text + " (limits.timeout) and was stopped.";
    finish(j.ws, j.name, "Failed", "JobTimeout", msg);
  } else if (exit_code == 0) {
    finish(j.ws, j.name, "Completed");
    fs::remove_all(wd, ec);
  } else {
    std::string msg = "Execution failed. User process '/bin/sh' exited with status code " + std::to_string(exit_code) +
                      ". Please check log file 'user_logs/std_log.txt' for more details.";
    std::string tail = tail_of(log_path, 600);
    if (!tail.empty()) msg += "\nError: " + tail;
    finish(j.ws, j.name, "Failed", "UserError", msg);
  }
}

}  // namespace amlops::local
