#include "aml/wait.hpp"

#include <csignal>
#include <ostream>
#include <regex>

#include "core/error.hpp"
#include "core/log.hpp"
#include "core/signals.hpp"

namespace amlops::aml {

json::Document require_job(azure::Workspace& ws, const std::string& name) {
  auto job = ws.get_job(name);
  if (!job) throw UsageError("job " + name + " not found in workspace " + ws.ref().name);
  return std::move(*job);
}

std::string studio_url(const json::Value& job) {
  if (auto s = json::opt_string(job, "/properties/services/Studio/endpoint")) return *s;
  return {};
}

std::string job_status(const json::Value& job) {
  return json::opt_string(job, "/properties/status").value_or("Unknown");
}

std::string run_error(const json::Value& details) {
  const json::Value* e = json::find(details, "/error/error");
  if (!e || !e->IsObject()) e = json::find(details, "/error");
  if (!e || !e->IsObject()) return {};
  std::string code = json::opt_string(*e, "/code").value_or("");
  std::string message = json::opt_string(*e, "/message").value_or("");
  if (message.empty()) return code;
  return code.empty() ? message : code + ": " + message;
}

JobResult describe_job(azure::Workspace& ws, const std::string& name, const json::Value& job) {
  JobResult r;
  r.name = name;
  r.status = job_status(job);
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
    r.error = run_error(d);
  } catch (const std::exception& e) {
    log::debug("run details of ", name, ": ", e.what());
  }
  return r;
}

bool is_streamed_log(const std::string& log_name) {
  static const std::regex kLogName(
      R"((^|/)user_logs/std_log[^0-9]*0*(_ps)?\.txt$|^azureml-logs/[0-9]{2}.+\.txt$|^logs/azureml/executionlogs\.txt$|^azureml-logs/hyperdrive\.txt$)");
  return std::regex_search(log_name, kLogName);
}

uint64_t LogCursor::offset(const std::string& key) const {
  auto it = offsets_.find(key);
  return it == offsets_.end() ? 0 : it->second;
}

std::vector<std::string> LogCursor::feed(const std::string& key, int status, const std::string& body) {
  std::vector<std::string> lines;
  uint64_t& off = offsets_[key];
  std::string chunk = body;
  // The server ignored the range: skip what was already read.
  if (off > 0 && status == 200) chunk = chunk.size() > off ? chunk.substr(off) : std::string();
  off += chunk.size();
  if (chunk.empty()) return lines;
  std::string text = partial_[key] + chunk;
  auto last_nl = text.rfind('\n');
  if (last_nl == std::string::npos) {
    partial_[key] = text;
    return lines;
  }
  partial_[key] = text.substr(last_nl + 1);
  size_t start = 0;
  while (start <= last_nl) {
    size_t nl = text.find('\n', start);
    lines.push_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  return lines;
}

std::vector<std::string> LogCursor::flush() {
  std::vector<std::string> lines;
  for (auto& [k, v] : partial_)
    if (!v.empty()) lines.push_back(v);
  partial_.clear();
  return lines;
}

namespace {

// Prints new log lines of `run` (prefix for pipeline children); true when something was printed.
bool stream_run_logs(Reporter& rep, azure::Workspace& ws, const std::string& run, const std::string& prefix,
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
    if (!m.value.IsString() || !is_streamed_log(name)) continue;
    std::string key = run + "/" + name;
    auto r = ws.read_url(m.value.GetString(), cur.offset(key));
    if (!r.ok()) continue;  // 416 (nothing new), 404 (not yet written), ...
    auto lines = cur.feed(key, r.status, r.body);
    for (auto& line : lines) rep.logs << prefix << line << "\n";
    if (!lines.empty()) {
      rep.logs.flush();
      printed = true;
    }
  }
  return printed;
}

bool stream_logs(Reporter& rep, azure::Workspace& ws, const std::string& name, bool pipeline, LogCursor& cur) {
  bool printed = stream_run_logs(rep, ws, name, "", cur);
  if (pipeline) {
    for (auto& child : ws.run_children(name)) printed |= stream_run_logs(rep, ws, child, "[" + child + "] ", cur);
  }
  return printed;
}

void flush_partial(Reporter& rep, LogCursor& cur) {
  for (auto& line : cur.flush()) rep.logs << line << "\n";
  rep.logs.flush();
}

bool has_children(const json::Value& job) {
  std::string jt = json::opt_string(job, "/properties/jobType").value_or("");
  return jt == "Pipeline" || jt == "Sweep";
}

}  // namespace

void cancel_and_settle(Clock& clock, azure::Workspace& ws, const std::string& name) {
  try {
    ws.cancel_job(name);
  } catch (const HttpError& e) {
    log::warn("cancel ", name, ": ", e.what());
    return;
  }
  auto until = clock.now() + std::chrono::seconds(60);
  while (clock.now() < until) {
    std::string s = job_status(require_job(ws, name));
    if (azure::job_terminal(s)) {
      log::info(name, ": ", s);
      return;
    }
    clock.sleep(std::chrono::milliseconds(500));
    if (signals::interrupted()) return;
  }
}

void print_logs(Reporter& rep, azure::Workspace& ws, const std::string& name, bool follow) {
  LogCursor cur;
  json::Document job = require_job(ws, name);
  std::string status = job_status(job);
  bool pipeline = has_children(job);
  Duration delay = std::chrono::milliseconds(500);
  for (;;) {
    bool printed = stream_logs(rep, ws, name, pipeline, cur);
    if (!follow || azure::job_terminal(status)) break;
    signals::check();
    rep.clock.sleep(delay);
    delay = printed ? std::chrono::milliseconds(500) : std::min<Duration>(delay * 2, std::chrono::seconds(5));
    status = job_status(require_job(ws, name));
    if (azure::job_terminal(status)) {
      stream_logs(rep, ws, name, pipeline, cur);
      break;
    }
  }
  flush_partial(rep, cur);
}

JobResult wait_job(Reporter& rep, azure::Workspace& ws, const std::string& name, const WaitOptions& opts) {
  auto start = rep.clock.now();
  LogCursor cur;
  json::Document job;
  std::string last;
  Duration delay = opts.poll_min;
  bool group_open = false;
  if (opts.stream) {
    rep.host.group_begin("logs of " + name);
    group_open = true;
  }
  auto close_group = [&] {
    if (group_open) rep.host.group_end();
    group_open = false;
  };
  // SIGINT/SIGTERM: cancel the job (the flag is cleared so that the cancel requests go out).
  auto on_interrupt = [&] {
    int sig = signals::last_signal();
    rep.host.status_clear();
    close_group();
    if (opts.cancel_on_interrupt) {
      log::warn("interrupted: canceling job ", name);
      signals::clear();
      cancel_and_settle(rep.clock, ws, name);
    }
    throw InterruptedError(std::string(sig == SIGTERM ? "terminated (SIGTERM)" : "interrupted (SIGINT)") +
                           " while waiting for job " + name +
                           (opts.cancel_on_interrupt ? "; the job was canceled" : ""));
  };
  try {
    for (;;) {
      if (signals::interrupted()) on_interrupt();
      auto elapsed = std::chrono::duration_cast<Duration>(rep.clock.now() - start);
      if (opts.timeout && elapsed >= *opts.timeout) {
        rep.host.status_clear();
        close_group();
        if (opts.cancel_on_timeout) {
          log::warn("timeout after ", format_duration(*opts.timeout), ": canceling job ", name);
          cancel_and_settle(rep.clock, ws, name);
        }
        throw TimeoutError("job " + name + " did not finish within " + format_duration(*opts.timeout) +
                           (opts.cancel_on_timeout ? "; the job was canceled" : ""));
      }
      job = require_job(ws, name);
      std::string status = job_status(job);
      bool pipeline = has_children(job);
      bool changed = status != last;
      rep.host.status_clear();
      if (changed) {
        log::info(name, ": ", status, " (", format_duration(elapsed), ")");
        last = status;
      }
      bool printed = opts.stream && stream_logs(rep, ws, name, pipeline, cur);
      if (azure::job_terminal(status)) {
        if (opts.stream) stream_logs(rep, ws, name, pipeline, cur);
        flush_partial(rep, cur);
        break;
      }
      rep.host.status(name + ": " + status + " " + format_duration(elapsed));
      delay = (changed || printed)
                  ? opts.poll_min
                  : std::min<Duration>(std::chrono::duration_cast<Duration>(delay * 3 / 2), opts.poll_max);
      Duration sleep_for = delay;
      if (opts.timeout) sleep_for = std::min(sleep_for, std::max<Duration>(*opts.timeout - elapsed, Duration(1)));
      rep.clock.sleep(sleep_for);
    }
  } catch (const InterruptedError&) {
    rep.host.status_clear();
    // The signal arrived during a request (the client stops at once): same handling.
    if (signals::interrupted()) on_interrupt();
    close_group();
    throw;
  } catch (...) {
    rep.host.status_clear();
    close_group();
    throw;
  }
  rep.host.status_clear();
  close_group();
  JobResult r = describe_job(ws, name, job);
  if (r.duration_s == 0) r.duration_s = std::chrono::duration<double>(rep.clock.now() - start).count();
  return r;
}

}  // namespace amlops::aml
