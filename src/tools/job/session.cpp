#include "tools/job/session.hpp"

#include <atomic>
#include <csignal>
#include <filesystem>
#include <mutex>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "core/error.hpp"
#include "core/log.hpp"
#include "core/signals.hpp"
#include "core/strings.hpp"
#include "git/repo.hpp"

namespace amlops::jobtool {

void add_connection_options(cli::Command& cmd) {
  cmd.options()("workspace", cli::po::value<std::string>(),
                "azureml://subscriptions/S/resourcegroups/RG/workspaces/W or a workspace ARM id")(
      "arm-endpoint", cli::po::value<std::string>()->default_value(azure::kDefaultArmEndpoint),
      "Azure Resource Manager endpoint")(
      "api-version", cli::po::value<std::string>()->default_value(azure::kDefaultApiVersion), "ARM api-version")(
      "auth", cli::po::value<std::string>(),
      "credential to use: client-secret, workload-identity, github-oidc, azure-devops-oidc, managed-identity, "
      "azure-cli (default: the first available)");
}

azure::WorkspaceRef workspace_ref(const cli::Command& cmd) {
  std::string ws = cmd.str("workspace");
  if (ws.empty()) throw UsageError("--workspace is required (or AMLOPS_WORKSPACE / the CI input 'workspace')");
  return azure::WorkspaceRef::parse(ws);
}

Session connect(Context& ctx, const cli::Command& cmd) {
  Session s;
  azure::WorkspaceRef ref = workspace_ref(cmd);
  std::optional<azure::CredentialKind> only;
  if (cmd.has("auth") || !cmd.str("auth").empty()) {
    only = azure::parse_credential_kind(cmd.str("auth"));
    if (!only) throw UsageError("--auth: unknown credential '" + cmd.str("auth") + "'");
  }
  net::ClientOptions co;
  co.clock = &ctx.clock;
  co.user_agent = "amlops/" + ctx.tool;
  s.http = std::make_unique<net::Client>(co);
  s.tokens = std::make_shared<azure::TokenCache>(azure::make_credential(ctx.env, *s.http, ctx.clock, only), ctx.clock);
  azure::ArmOptions ao;
  ao.endpoint = cmd.str("arm-endpoint", azure::kDefaultArmEndpoint);
  ao.api_version = cmd.str("api-version", azure::kDefaultApiVersion);
  auto tokens = s.tokens;
  s.arm = std::make_unique<azure::ArmClient>(
      *s.http, [tokens] { return tokens->token(azure::kArmScope); }, ctx.clock, ao);
  s.ws = std::make_unique<azure::Workspace>(*s.arm, ref);
  return s;
}

std::map<std::string, std::string> provenance_tags(Context& ctx) {
  std::map<std::string, std::string> tags;
  git::Provenance p = git::provenance(ctx.env, std::filesystem::current_path(), ctx.host.run_url());
  if (p.commit) tags["amlops.git_commit"] = *p.commit;
  if (p.ref) tags["amlops.git_ref"] = *p.ref;
  if (p.repository) tags["amlops.git_repository"] = *p.repository;
  tags["amlops.git_dirty"] = p.dirty ? "true" : "false";
  if (p.run_url) tags["amlops.ci_run_url"] = *p.run_url;
  return tags;
}

std::string studio_url(const json::Value& job) {
  if (auto s = json::opt_string(job, "/properties/services/Studio/endpoint")) return *s;
  return {};
}

JobResult describe_job(azure::Workspace& ws, const std::string& name, const json::Value& job) {
  JobResult r;
  r.name = name;
  r.status = json::opt_string(job, "/properties/status").value_or("Unknown");
  r.studio_url = studio_url(job);
  try {
    r.metrics = ws.metrics(name);
  } catch (const HttpError& e) {
    log::warn("metrics of ", name, ": ", e.what());
  }
  try {
    auto d = ws.run_details(name);
    auto start = json::opt_string(d, "/startTimeUtc");
    auto end = json::opt_string(d, "/endTimeUtc");
    if (start && end) r.duration_s = std::chrono::duration<double>(parse_iso8601(*end) - parse_iso8601(*start)).count();
  } catch (const std::exception& e) {
    log::debug("run details of ", name, ": ", e.what());
  }
  return r;
}

namespace {

// Logs the service streams (azureml-rest.md §5.2).
const std::regex kLogName(
    R"((^|/)user_logs/std_log[^0-9]*0*(_ps)?\.txt$|^azureml-logs/[0-9]{2}.+\.txt$|^logs/azureml/executionlogs\.txt$|^azureml-logs/hyperdrive\.txt$)");

struct LogCursor {
  std::map<std::string, uint64_t> offsets;  // key: run/log name
  std::map<std::string, std::string> partial;
};

// Prints new log bytes of `run` (prefix for pipeline children); true when something was printed.
bool stream_run_logs(Context& ctx, azure::Workspace& ws, const std::string& run, const std::string& prefix,
                     LogCursor& cur) {
  json::Document d;
  try {
    d = ws.run_details(run);
  } catch (const HttpError& e) {
    if (e.status() == 404) return false;
    throw;
  }
  const json::Value* files = json::find(d, "/logFiles");
  if (!files || !files->IsObject()) return false;
  bool printed = false;
  for (auto& m : files->GetObject()) {
    std::string name = m.name.GetString();
    if (!m.value.IsString() || !std::regex_search(name, kLogName)) continue;
    std::string key = run + "/" + name;
    uint64_t& off = cur.offsets[key];
    auto r = ws.read_url(m.value.GetString(), off);
    if (r.status == 416 || r.status == 404) continue;
    if (!r.ok()) continue;
    std::string chunk = r.body;
    if (off > 0 && r.status == 200) {
      // The server ignored the range: skip what was already printed.
      chunk = chunk.size() > off ? chunk.substr(off) : std::string();
    }
    off += chunk.size();
    if (chunk.empty()) continue;
    std::string text = cur.partial[key] + chunk;
    auto last_nl = text.rfind('\n');
    if (last_nl == std::string::npos) {
      cur.partial[key] = text;
      continue;
    }
    cur.partial[key] = text.substr(last_nl + 1);
    std::istringstream lines(text.substr(0, last_nl));
    std::string line;
    while (std::getline(lines, line)) ctx.err << prefix << line << "\n";
    ctx.err.flush();
    printed = true;
  }
  return printed;
}

bool stream_logs(Context& ctx, azure::Workspace& ws, const std::string& name, bool pipeline, LogCursor& cur) {
  bool printed = stream_run_logs(ctx, ws, name, "", cur);
  if (pipeline) {
    for (auto& child : ws.run_children(name)) printed |= stream_run_logs(ctx, ws, child, "[" + child + "] ", cur);
  }
  return printed;
}

void flush_partial(Context& ctx, LogCursor& cur) {
  for (auto& [k, v] : cur.partial)
    if (!v.empty()) ctx.err << v << "\n";
  cur.partial.clear();
}

std::string poll_status(azure::Workspace& ws, const std::string& name, json::Document* out = nullptr) {
  auto job = ws.get_job(name);
  if (!job) throw UsageError("job " + name + " not found in workspace " + ws.ref().name);
  std::string s = json::opt_string(*job, "/properties/status").value_or("Unknown");
  if (out) *out = std::move(*job);
  return s;
}

// Cancels and waits (bounded) for Canceled.
void cancel_and_settle(Context& ctx, azure::Workspace& ws, const std::string& name) {
  try {
    ws.cancel_job(name);
  } catch (const HttpError& e) {
    log::warn("cancel ", name, ": ", e.what());
    return;
  }
  auto until = ctx.clock.now() + std::chrono::seconds(60);
  while (ctx.clock.now() < until) {
    std::string s = poll_status(ws, name);
    if (azure::job_terminal(s)) {
      log::info(name, ": ", s);
      return;
    }
    ctx.clock.sleep(std::chrono::milliseconds(500));
    if (signals::interrupted()) return;
  }
}

}  // namespace

void print_logs(Context& ctx, azure::Workspace& ws, const std::string& name, bool follow) {
  LogCursor cur;
  json::Document job;
  std::string status = poll_status(ws, name, &job);
  std::string jt = json::opt_string(job, "/properties/jobType").value_or("");
  bool pipeline = jt == "Pipeline" || jt == "Sweep";  // jobs with child runs
  Duration delay = std::chrono::milliseconds(500);
  for (;;) {
    bool printed = stream_logs(ctx, ws, name, pipeline, cur);
    if (!follow || azure::job_terminal(status)) break;
    signals::check();
    ctx.clock.sleep(delay);
    delay = printed ? std::chrono::milliseconds(500) : std::min<Duration>(delay * 2, std::chrono::seconds(5));
    status = poll_status(ws, name);
    if (azure::job_terminal(status)) stream_logs(ctx, ws, name, pipeline, cur), status = "done";
    if (status == "done") break;
  }
  flush_partial(ctx, cur);
}

JobResult wait_job(Context& ctx, azure::Workspace& ws, const std::string& name, const WaitOptions& opts) {
  auto start = ctx.clock.now();
  LogCursor cur;
  json::Document job;
  std::string last;
  Duration delay = opts.poll_min;
  bool pipeline = false;
  bool group_open = false;
  if (opts.stream) {
    ctx.host.group_begin("logs of " + name);
    group_open = true;
  }
  auto close_group = [&] {
    if (group_open) ctx.host.group_end();
    group_open = false;
  };
  // SIGINT/SIGTERM: cancel the job (the flag is cleared so that the cancel requests go out).
  auto on_interrupt = [&] {
    int sig = signals::last_signal();
    ctx.host.status_clear();
    close_group();
    if (opts.cancel_on_interrupt) {
      log::warn("interrupted: canceling job ", name);
      signals::clear();
      cancel_and_settle(ctx, ws, name);
    }
    throw InterruptedError(std::string(sig == SIGTERM ? "terminated (SIGTERM)" : "interrupted (SIGINT)") +
                           " while waiting for job " + name +
                           (opts.cancel_on_interrupt ? "; the job was canceled" : ""));
  };
  try {
    for (;;) {
      if (signals::interrupted()) on_interrupt();
      auto elapsed = std::chrono::duration_cast<Duration>(ctx.clock.now() - start);
      if (opts.timeout && elapsed >= *opts.timeout) {
        ctx.host.status_clear();
        close_group();
        if (opts.cancel_on_timeout) {
          log::warn("timeout after ", format_duration(*opts.timeout), ": canceling job ", name);
          cancel_and_settle(ctx, ws, name);
        }
        throw TimeoutError("job " + name + " did not finish within " + format_duration(*opts.timeout) +
                           (opts.cancel_on_timeout ? "; the job was canceled" : ""));
      }
      std::string status = poll_status(ws, name, &job);
      std::string jt = json::opt_string(job, "/properties/jobType").value_or("");
      pipeline = jt == "Pipeline" || jt == "Sweep";
      bool changed = status != last;
      ctx.host.status_clear();
      if (changed) {
        log::info(name, ": ", status, " (", format_duration(elapsed), ")");
        last = status;
      }
      bool printed = opts.stream && stream_logs(ctx, ws, name, pipeline, cur);
      if (azure::job_terminal(status)) {
        if (opts.stream) stream_logs(ctx, ws, name, pipeline, cur);
        flush_partial(ctx, cur);
        break;
      }
      ctx.host.status(name + ": " + status + " " + format_duration(elapsed));
      delay = (changed || printed)
                  ? opts.poll_min
                  : std::min<Duration>(std::chrono::duration_cast<Duration>(delay * 3 / 2), opts.poll_max);
      Duration sleep_for = delay;
      if (opts.timeout) sleep_for = std::min(sleep_for, std::max<Duration>(*opts.timeout - elapsed, Duration(1)));
      ctx.clock.sleep(sleep_for);
    }
  } catch (const InterruptedError&) {
    ctx.host.status_clear();
    // The signal arrived during a request (the client stops at once): same handling.
    if (signals::interrupted()) on_interrupt();
    close_group();
    throw;
  } catch (...) {
    ctx.host.status_clear();
    close_group();
    throw;
  }
  ctx.host.status_clear();
  close_group();
  JobResult r = describe_job(ws, name, job);
  if (r.duration_s == 0) r.duration_s = std::chrono::duration<double>(ctx.clock.now() - start).count();
  return r;
}

void upload_files(azure::BlobContainer& container, const std::string& prefix,
                  const std::vector<spec::CodeFile>& files) {
  std::atomic<size_t> next{0};
  std::mutex mu;
  std::exception_ptr error;
  auto worker = [&] {
    for (;;) {
      size_t i = next.fetch_add(1);
      if (i >= files.size()) return;
      {
        std::lock_guard<std::mutex> lock(mu);
        if (error) return;
      }
      try {
        container.upload_file(prefix + files[i].rel, files[i].path);
      } catch (...) {
        std::lock_guard<std::mutex> lock(mu);
        if (!error) error = std::current_exception();
      }
    }
  };
  std::vector<std::thread> threads;
  int n = static_cast<int>(std::min<size_t>(4, files.size()));
  for (int t = 0; t < n; ++t) threads.emplace_back(worker);
  for (auto& t : threads) t.join();
  if (error) std::rethrow_exception(error);
}

std::string ensure_input(azure::Workspace& ws, const std::filesystem::path& path, UploadStats& stats) {
  namespace fs = std::filesystem;
  auto files = spec::collect_code_files(path);
  if (files.empty()) throw ConfigError("input folder " + path.string() + " has no files");
  bool single = fs::is_regular_file(path);
  std::string hash = spec::content_hash(files).substr(0, 32);
  std::string folder = fs::absolute(path).lexically_normal().filename().string();
  std::string prefix = "LocalUpload/" + hash + "/" + (single ? "" : folder + "/");
  auto container = ws.datastore_container("workspaceblobstore");
  ++stats.assets;
  auto head = container.head(prefix + files.front().rel);
  if (head && head->metadata.count("upload_status") && head->metadata["upload_status"] == "completed") {
    ++stats.reused;
  } else {
    upload_files(container, prefix, files);
    container.set_metadata(prefix + files.front().rel,
                           {{"upload_status", "completed"}, {"name", folder}, {"version", "1"}});
    stats.files += files.size();
    for (auto& f : files) stats.bytes += f.size;
  }
  return "azureml://datastores/workspaceblobstore/paths/" + prefix + (single ? files.front().rel : "");
}

std::optional<std::string> blob_relative_name(const std::string& prefix, const std::string& blob) {
  std::string p = prefix;
  while (!p.empty() && p.back() == '/') p.pop_back();
  std::string rel;
  if (p.empty()) {
    rel = blob;
  } else if (blob == p) {
    rel = std::filesystem::path(blob).filename().string();
  } else if (blob.size() > p.size() && blob.compare(0, p.size(), p) == 0 && blob[p.size()] == '/') {
    rel = blob.substr(p.size() + 1);
  } else {
    return std::nullopt;
  }
  while (!rel.empty() && rel.front() == '/') rel.erase(0, 1);
  if (rel.empty() || rel.back() == '/') return std::nullopt;  // folder marker blobs
  return rel;
}

json::Document model_version_body(const std::string& type, const std::string& uri, const std::string& description,
                                  const std::map<std::string, std::string>& tags,
                                  const std::map<std::string, std::string>& properties) {
  json::Document body(rapidjson::kObjectType);
  json::Builder b(body.GetAllocator());
  json::Value p = b.obj(), t = b.obj(), pp = b.obj();
  b.set(p, "modelType", type);
  b.set(p, "modelUri", uri);
  if (!description.empty()) b.set(p, "description", description);
  b.set(p, "isAnonymous", false);
  for (auto& [k, v] : tags) b.set(t, k, v);
  for (auto& [k, v] : properties) b.set(pp, k, v);
  b.set(p, "tags", std::move(t));
  b.set(p, "properties", std::move(pp));
  b.set(body, "properties", std::move(p));
  return body;
}

int emit_result(Context& ctx, const JobResult& r) {
  json::Document doc(rapidjson::kObjectType);
  json::Builder b(doc.GetAllocator());
  b.set(doc, "name", r.name);
  b.set(doc, "status", r.status);
  b.set(doc, "studio_url", r.studio_url);
  json::Value m = b.obj();
  for (auto& [k, v] : r.metrics) b.set(m, k, v);
  b.set(doc, "metrics", std::move(m));
  b.set(doc, "duration_s", r.duration_s);
  ctx.host.set_output("name", r.name);
  ctx.host.set_output("status", r.status);
  ctx.host.set_output("studio_url", r.studio_url);
  ctx.host.set_output("metrics", json::dump(*json::find(doc, "/metrics")));
  char dur[32];
  std::snprintf(dur, sizeof dur, "%.1f", r.duration_s);
  ctx.host.set_output("duration_s", dur);
  std::ostringstream md;
  md << "### Azure ML job `" << r.name << "`: " << r.status << "\n\n";
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
    for (auto& [k, v] : r.metrics) os << "metric " << k << " = " << v << "\n";
  });
  if (r.status == "Completed") return 0;
  if (azure::job_terminal(r.status)) {
    log::error("job ", r.name, " ended ", r.status);
    ctx.host.fail("job " + r.name + " ended " + r.status);
    return 1;
  }
  return 0;
}

}  // namespace amlops::jobtool
