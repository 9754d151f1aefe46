#include "local/runner.hpp"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <csignal>
#include <random>
#include <regex>
#include <set>

#include "core/env.hpp"
#include "core/error.hpp"
#include "core/files.hpp"
#include "core/log.hpp"
#include "core/strings.hpp"
#include "local/app.hpp"
#include "local/shims.hpp"

namespace amlops::local {

namespace fs = std::filesystem;
using steady = std::chrono::steady_clock;

namespace {

const Duration kKillGrace = std::chrono::seconds(3);

struct JobFailure : std::runtime_error {
  JobFailure(std::string code, const std::string& msg) : std::runtime_error(msg), code(std::move(code)) {}
  std::string code;
};

std::string mlflow_status(const std::string& s) {
  if (s == "Completed") return "FINISHED";
  if (s == "Failed") return "FAILED";
  if (s == "Canceled") return "KILLED";
  if (s == "Running" || s == "Finalizing" || s == "CancelRequested") return "RUNNING";
  return "SCHEDULED";
}

// "k" in object o as a string (numbers and bools as text).
std::optional<std::string> member_text(const json::Value& o, const char* k) {
  if (!o.IsObject() || !o.HasMember(k) || o[k].IsNull()) return std::nullopt;
  return json::scalar_text(o[k]);
}

std::optional<std::string> either(const json::Value& o, const char* a, const char* b) {
  if (auto v = member_text(o, a)) return v;
  return member_text(o, b);
}

struct AssetRef {
  std::string scope, name, version;  // version empty = latest
};

// ARM ids, azureml:/subscriptions/..., azureml:name:version, azureml:name@latest,
// azureml://registries/R/<kind>/N/versions/V.
std::optional<AssetRef> parse_asset_ref(const std::string& ws, const std::string& kind, std::string ref) {
  if (ref.rfind("azureml://registries/", 0) == 0) {
    auto seg = str::split(ref.substr(10), '/');
    // registries R kind N versions V
    if (seg.size() >= 4 && seg[2] == kind) return AssetRef{"reg/" + seg[1], seg[3], seg.size() >= 6 ? seg[5] : ""};
    return std::nullopt;
  }
  if (ref.rfind("azureml:", 0) == 0) ref = ref.substr(8);
  if (ref.find('/') != std::string::npos) {
    auto seg = str::split(ref, '/');
    AssetRef r;
    r.scope = "ws/" + ws;
    for (size_t i = 0; i + 1 < seg.size(); ++i) {
      if (seg[i] == "workspaces") r.scope = "ws/" + seg[i + 1];
      if (seg[i] == "registries") r.scope = "reg/" + seg[i + 1];
      if (seg[i] == kind) r.name = seg[i + 1];
      if (seg[i] == "versions") r.version = seg[i + 1];
    }
    if (r.name.empty()) return std::nullopt;
    return r;
  }
  if (auto at = ref.find('@'); at != std::string::npos) return AssetRef{"ws/" + ws, ref.substr(0, at), ""};
  if (auto c = ref.rfind(':'); c != std::string::npos) return AssetRef{"ws/" + ws, ref.substr(0, c), ref.substr(c + 1)};
  return AssetRef{"ws/" + ws, ref, ""};
}

std::optional<json::Document> load_asset(Store& store, const std::string& kind, const AssetRef& r) {
  std::optional<SqlRow> row;
  if (r.version.empty())
    row = store.one("SELECT body FROM assets WHERE kind=? AND scope=? AND name=? ORDER BY seq DESC LIMIT 1",
                    {kind, r.scope, r.name});
  else
    row = store.one("SELECT body FROM assets WHERE kind=? AND scope=? AND name=? AND version=?",
                    {kind, r.scope, r.name, r.version});
  if (!row) return std::nullopt;
  return json::parse(row->str(0));
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

// The properties.inputs/outputs keys clients send in camelCase (REST) or snake_case (pipeline steps).
std::string input_type(const json::Value& in) {
  return either(in, "jobInputType", "job_input_type").value_or(either(in, "type", "type").value_or("literal"));
}
std::string output_type(const json::Value& out) {
  return either(out, "jobOutputType", "job_output_type").value_or(either(out, "type", "type").value_or("uri_folder"));
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Command substitution and sweep sampling (pure)

namespace {

// Where a placeholder sits in /bin/sh's quoting: outside quotes, inside '...' or inside "...".
enum class Quote { none, single, dbl };

// The quoting state after `text`, starting from `q` (backslash escapes outside single quotes).
Quote advance_quote(Quote q, std::string_view text) {
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (q == Quote::single) {
      if (c == '\'') q = Quote::none;
    } else if (c == '\\') {
      ++i;
    } else if (q == Quote::dbl) {
      if (c == '"') q = Quote::none;
    } else if (c == '\'') {
      q = Quote::single;
    } else if (c == '"') {
      q = Quote::dbl;
    }
  }
  return q;
}

}  // namespace

std::string substitute_command(const std::string& command,
                               const std::function<std::optional<std::string>(const std::string&)>& lookup) {
  static const std::regex placeholder(R"(\$\{\{\s*([A-Za-z_][A-Za-z0-9_.\-]*)\s*\}\})");
  static const std::regex optional_block(R"(\$\[\[([\s\S]*?)\]\])");
  // The value goes in as one single-quoted word. Inside "..." or '...' the surrounding quote is
  // closed before it and reopened after it, so nothing in the value is ever seen by the shell
  // (a placeholder wrapped in its own quotes, "${{...}}", loses them). `q` carries the quoting
  // state from one piece of the command to the next.
  auto replace_all = [&](const std::string& text, Quote& q, bool strict, bool& missing) {
    std::string out;
    size_t last = 0;
    for (auto it = std::sregex_iterator(text.begin(), text.end(), placeholder); it != std::sregex_iterator(); ++it) {
      const auto& m = *it;
      std::string ref = m[1];
      auto value = lookup(ref);
      if (!value) {
        if (strict) throw std::runtime_error("the command refers to ${{" + ref + "}}, which is not defined");
        missing = true;
        return std::string();
      }
      auto pos = static_cast<size_t>(m.position(0));
      auto end = pos + static_cast<size_t>(m.length(0));
      std::string word = str::shell_quote(*value);
      if (pos > last) {
        Quote before = advance_quote(q, std::string_view(text).substr(last, pos - 1 - last));
        Quote at = advance_quote(q, std::string_view(text).substr(last, pos - last));
        char open = text[pos - 1];
        bool opened =
            before == Quote::none && ((open == '"' && at == Quote::dbl) || (open == '\'' && at == Quote::single));
        if (opened && end < text.size() && text[end] == open) {
          out += text.substr(last, pos - 1 - last) + word;
          q = Quote::none;
          last = end + 1;
          continue;
        }
        q = at;
      }
      out += text.substr(last, pos - last);
      if (q == Quote::single)
        out += "'" + word + "'";
      else if (q == Quote::dbl)
        out += "\"" + word + "\"";
      else
        out += word;
      last = end;
    }
    q = advance_quote(q, std::string_view(text).substr(last));
    out += text.substr(last);
    return out;
  };
  // Text outside $[[ ]] must resolve; a block is dropped when a reference inside does not.
  std::string out;
  size_t last = 0;
  bool missing = false;
  Quote q = Quote::none;
  for (auto it = std::sregex_iterator(command.begin(), command.end(), optional_block); it != std::sregex_iterator();
       ++it) {
    out += replace_all(command.substr(last, static_cast<size_t>(it->position(0)) - last), q, true, missing);
    bool block_missing = false;
    Quote inner_q = q;
    std::string inner = replace_all((*it)[1], inner_q, false, block_missing);
    if (!block_missing) {
      out += inner;
      q = inner_q;
    }
    last = static_cast<size_t>(it->position(0) + it->length(0));
  }
  out += replace_all(command.substr(last), q, true, missing);
  return out;
}

namespace {

struct Param {
  std::string name, type;
  std::vector<double> args;
  std::vector<std::string> choices;  // choice values as text
};

Param parse_param(const std::string& name, const json::Value& v) {
  Param p;
  p.name = name;
  auto numbers = [&](const json::Value& a) {
    for (auto& x : a.GetArray()) {
      if (!x.IsNumber()) throw std::runtime_error("search_space." + name + ": expected numbers");
      p.args.push_back(x.GetDouble());
    }
  };
  if (v.IsArray() && v.Size() >= 1 && v[0].IsString()) {
    p.type = str::to_lower(v[0].GetString());
    const json::Value* args = v.Size() > 1 ? &v[1] : nullptr;
    if (p.type == "choice") {
      if (!args || !args->IsArray())
        throw std::runtime_error("search_space." + name + ": choice needs a list of values");
      const json::Value* vals = args;
      if (args->Size() == 1 && (*args)[0].IsArray()) vals = &(*args)[0];
      for (auto& x : vals->GetArray()) p.choices.push_back(x.IsString() ? std::string(x.GetString()) : json::dump(x));
    } else {
      if (!args || !args->IsArray())
        throw std::runtime_error("search_space." + name + ": " + p.type + " needs arguments");
      numbers(*args);
    }
  } else if (v.IsObject()) {
    p.type = str::to_lower(member_text(v, "type").value_or(""));
    if (p.type == "choice") {
      if (!v.HasMember("values") || !v["values"].IsArray())
        throw std::runtime_error("search_space." + name + ": choice needs values");
      for (auto& x : v["values"].GetArray())
        p.choices.push_back(x.IsString() ? std::string(x.GetString()) : json::dump(x));
    } else {
      auto num = [&](const char* k) {
        if (!v.HasMember(k) || !v[k].IsNumber())
          throw std::runtime_error("search_space." + name + ": " + p.type + " needs " + k);
        p.args.push_back(v[k].GetDouble());
      };
      if (p.type == "uniform" || p.type == "loguniform")
        num("min_value"), num("max_value");
      else if (p.type == "quniform" || p.type == "qloguniform")
        num("min_value"), num("max_value"), num("q");
      else if (p.type == "randint")
        num("upper");
      else if (p.type == "normal" || p.type == "lognormal")
        num("mu"), num("sigma");
      else if (p.type == "qnormal" || p.type == "qlognormal")
        num("mu"), num("sigma"), num("q");
    }
  } else {
    throw std::runtime_error("search_space." + name + ": expected [\"choice\", [[...]]] or {type: ..., ...}");
  }
  static const std::map<std::string, size_t> arity = {{"uniform", 2},     {"loguniform", 2}, {"quniform", 3},
                                                      {"qloguniform", 3}, {"randint", 1},    {"normal", 2},
                                                      {"lognormal", 2},   {"qnormal", 3},    {"qlognormal", 3}};
  if (p.type == "choice") {
    if (p.choices.empty()) throw std::runtime_error("search_space." + name + ": choice has no values");
  } else {
    auto a = arity.find(p.type);
    if (a == arity.end()) throw std::runtime_error("search_space." + name + ": unknown distribution '" + p.type + "'");
    if (p.args.size() < a->second)
      throw std::runtime_error("search_space." + name + ": " + p.type + " needs " + std::to_string(a->second) +
                               " arguments");
  }
  return p;
}

std::string num_text(double d) {
  json::Document doc;
  json::Value v(d);
  return json::scalar_text(v);
}

}  // namespace

std::vector<Trial> sweep_trials(const json::Value& space, const std::string& algorithm, size_t count, uint64_t seed) {
  if (!space.IsObject() || space.MemberCount() == 0) throw std::runtime_error("the search space is empty");
  std::vector<Param> params;
  for (auto& m : space.GetObject()) params.push_back(parse_param(m.name.GetString(), m.value));
  std::sort(params.begin(), params.end(), [](const Param& a, const Param& b) { return a.name < b.name; });
  std::vector<Trial> out;
  std::string alg = str::to_lower(algorithm);
  if (alg == "grid") {
    for (auto& p : params)
      if (p.type != "choice")
        throw std::runtime_error("grid sampling supports only choice parameters; search_space." + p.name + " is " +
                                 p.type);
    std::vector<size_t> idx(params.size(), 0);
    while (out.size() < count) {
      Trial t;
      for (size_t i = 0; i < params.size(); ++i) t[params[i].name] = params[i].choices[idx[i]];
      out.push_back(std::move(t));
      // Odometer: the last parameter varies fastest.
      size_t k = params.size();
      while (k > 0) {
        --k;
        if (++idx[k] < params[k].choices.size()) break;
        idx[k] = 0;
        if (k == 0) return out;
      }
    }
    return out;
  }
  if (alg != "random" && alg != "bayesian")
    throw std::runtime_error("sampling algorithm '" + algorithm + "' is not supported (grid, random)");
  std::mt19937_64 rng(seed);
  for (size_t i = 0; i < count; ++i) {
    Trial t;
    for (auto& p : params) {
      auto U = [&](double lo, double hi) { return std::uniform_real_distribution<double>(lo, hi)(rng); };
      auto N = [&](double mu, double s) { return std::normal_distribution<double>(mu, s)(rng); };
      auto q = [&](double v, double step) { return std::round(v / step) * step; };
      const auto& a = p.args;
      std::string v;
      if (p.type == "choice")
        v = p.choices[std::uniform_int_distribution<size_t>(0, p.choices.size() - 1)(rng)];
      else if (p.type == "uniform")
        v = num_text(U(a[0], a[1]));
      else if (p.type == "loguniform")
        v = num_text(std::exp(U(a[0], a[1])));
      else if (p.type == "quniform")
        v = num_text(q(U(a[0], a[1]), a[2]));
      else if (p.type == "qloguniform")
        v = num_text(q(std::exp(U(a[0], a[1])), a[2]));
      else if (p.type == "randint")
        v = std::to_string(
            std::uniform_int_distribution<int64_t>(0, std::max<int64_t>(0, static_cast<int64_t>(a[0]) - 1))(rng));
      else if (p.type == "normal")
        v = num_text(N(a[0], a[1]));
      else if (p.type == "lognormal")
        v = num_text(std::exp(N(a[0], a[1])));
      else if (p.type == "qnormal")
        v = num_text(q(N(a[0], a[1]), a[2]));
      else
        v = num_text(q(std::exp(N(a[0], a[1])), a[2]));
      t[p.name] = v;
    }
    out.push_back(std::move(t));
  }
  return out;
}

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
      launch(j);
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
    auto res = app_.resolve_uri(j.ws, *uri);
    if (!res.loc) throw JobFailure("UserError", "code snapshot: " + res.error);
    auto src = app_.blob_path(*res.loc);
    if (!fs::exists(src)) throw JobFailure("UserError", "the code snapshot " + *uri + " has no uploaded files");
    copy_into(src, wd);
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
  std::string command = member_text(props, "command").value_or("");
  try {
    command = substitute_command(command, [&](const std::string& ref) -> std::optional<std::string> {
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
    p.child = process::spawn({"/bin/sh", "-c", command}, so);
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

// ---------------------------------------------------------------------------------------------
// Pipelines

namespace {

const std::regex kStepRef(R"(\$\{\{\s*parent\.jobs\.([A-Za-z0-9_\-]+)\.outputs\.([A-Za-z0-9_\-]+)\s*\}\})");
const std::regex kParentInput(R"(^\s*\$\{\{\s*parent\.inputs\.([A-Za-z0-9_\-]+)\s*\}\}\s*$)");
const std::regex kParentOutput(R"(^\s*\$\{\{\s*parent\.outputs\.([A-Za-z0-9_\-]+)\s*\}\}\s*$)");

std::set<std::string> step_deps(const json::Value& step) {
  std::set<std::string> deps;
  if (!step.IsObject() || !step.HasMember("inputs") || !step["inputs"].IsObject()) return deps;
  for (auto& in : step["inputs"].GetObject()) {
    std::string text =
        in.value.IsString()
            ? in.value.GetString()
            : (in.value.IsObject()
                   ? either(in.value, "value", "path").value_or(either(in.value, "uri", "uri").value_or(""))
                   : "");
    for (auto it = std::sregex_iterator(text.begin(), text.end(), kStepRef); it != std::sregex_iterator(); ++it)
      deps.insert((*it)[1]);
  }
  return deps;
}

}  // namespace

void Runner::step_pipeline(const JobRow& j) {
  auto body = json::parse(j.body);
  const json::Value& props = body["properties"];
  auto kids = children(j.ws, j.name);
  std::map<std::string, JobRow> by_step;  // step -> child
  for (auto& k : kids) {
    auto cb = json::parse(k.body);
    if (auto s = json::opt_string(cb, "/properties/properties/azureml.pipeline.step")) by_step[*s] = k;
  }
  auto log = [&](const std::string& line) {
    append_log(j.ws, j.name, iso8601_utc(std::chrono::system_clock::now()) + " " + line,
               "logs/azureml/executionlogs.txt");
  };
  int active = 0;
  for (auto& k : kids)
    if (!terminal(k.status)) ++active;
  if (j.cancel) {
    for (auto& k : kids)
      if (!terminal(k.status) && !k.cancel) request_cancel(k.ws, k.name);
    if (active == 0) {
      log("pipeline canceled");
      finish(j.ws, j.name, "Canceled");
    }
    return;
  }
  const json::Value* steps = props.HasMember("jobs") && props["jobs"].IsObject() ? &props["jobs"] : nullptr;
  if (j.status == "NotStarted") {
    // Validate the graph once: unknown steps and cycles fail the pipeline before any step runs.
    if (steps) {
      std::map<std::string, std::set<std::string>> graph;
      for (auto& s : steps->GetObject()) {
        std::string sname = s.name.GetString();
        // The step name becomes part of its child job's name, and so of paths under DATA.
        if (!valid_name(sname))
          throw JobFailure("UserError",
                           "step name '" + sname + "' is not allowed (letters, digits, '_', '-' and '.', no '..')");
        graph[sname] = step_deps(s.value);
      }
      for (auto& [s, deps] : graph)
        for (auto& d : deps)
          if (!graph.count(d)) throw JobFailure("UserError", "step '" + s + "' refers to unknown step '" + d + "'");
      std::map<std::string, int> state;
      std::function<void(const std::string&)> visit = [&](const std::string& s) {
        if (state[s] == 2) return;
        if (state[s] == 1) throw JobFailure("UserError", "the pipeline's steps form a cycle through '" + s + "'");
        state[s] = 1;
        for (auto& d : graph[s]) visit(d);
        state[s] = 2;
      };
      for (auto& [s, deps] : graph) visit(s);
    }
    log("pipeline started");
    set_status(j, "Running");
    return;
  }
  bool continue_on_failure = false;
  if (const auto* set = json::find(props, "/settings"); set && set->IsObject())
    continue_on_failure = either(*set, "continue_on_step_failure", "continueOnStepFailure").value_or("false") == "true";
  int limit = app_.config().pipeline_concurrency;
  if (const auto* set = json::find(props, "/settings"); set && set->IsObject())
    if (auto mc = either(*set, "max_concurrency", "maxConcurrency"))
      if (auto n = str::parse_int(*mc); n && *n > 0) limit = static_cast<int>(*n);

  bool failed = false;
  for (auto& [s, k] : by_step)
    if (k.status == "Failed" || k.status == "Canceled") failed = true;
  bool stop_new = failed && !continue_on_failure;
  if (stop_new)
    for (auto& k : kids)
      if (!terminal(k.status) && !k.cancel) request_cancel(k.ws, k.name);

  bool blocked_forever = true;
  size_t total = steps ? steps->MemberCount() : 0;
  if (steps && !stop_new) {
    for (auto& s : steps->GetObject()) {
      std::string sname = s.name.GetString();
      if (by_step.count(sname)) continue;
      auto deps = step_deps(s.value);
      bool ready = true, dead = false;
      for (auto& d : deps) {
        auto f = by_step.find(d);
        if (f == by_step.end() || f->second.status != "Completed") ready = false;
        if (f != by_step.end() && (f->second.status == "Failed" || f->second.status == "Canceled")) dead = true;
      }
      if (dead) continue;
      blocked_forever = false;
      if (!ready || active >= limit) continue;
      // Build the child command job.
      const json::Value& step = s.value;
      json::Document child(rapidjson::kObjectType);
      json::Builder b(child.GetAllocator());
      json::Value cp = b.obj();
      b.set(cp, "jobType", "Command");
      json::Value spec_holder;
      std::optional<json::Document> comp;
      if (auto cid = either(step, "componentId", "component_id")) {
        auto ref = parse_asset_ref(j.ws, "components", *cid);
        comp = ref ? load_asset(app_.store(), "components", *ref) : std::nullopt;
        if (!comp) throw JobFailure("UserError", "step '" + sname + "': component '" + *cid + "' was not found");
      }
      const json::Value* spec = comp ? json::find(*comp, "/properties/componentSpec") : nullptr;
      auto field = [&](const char* camel, const char* snake) -> std::optional<std::string> {
        if (auto v = either(step, camel, snake)) return v;
        if (spec) return either(*spec, camel, snake);
        return std::nullopt;
      };
      std::string stype = str::to_lower(
          member_text(step, "type").value_or(spec ? member_text(*spec, "type").value_or("command") : "command"));
      if (stype != "command")
        throw JobFailure("UserError",
                         "step '" + sname + "' has type " + stype + "; amlops-local runs command steps only");
      auto cmd = field("command", "command");
      if (!cmd) throw JobFailure("UserError", "step '" + sname + "' has no command");
      b.set(cp, "command", *cmd);
      if (auto code = field("codeId", "code")) b.set(cp, "codeId", *code);
      if (auto envid = field("environmentId", "environment")) b.set(cp, "environmentId", *envid);
      b.set(cp, "experimentName", member_text(props, "experimentName").value_or("Default"));
      b.set(cp, "displayName", sname);
      json::Value cprops = b.obj();
      b.set(cprops, "azureml.pipeline.step", sname);
      b.set(cp, "properties", std::move(cprops));
      json::Value envv = b.obj();
      for (const json::Value* src : {spec, &step}) {
        if (!src) continue;
        for (const char* k : {"environmentVariables", "environment_variables"})
          if (src->HasMember(k) && (*src)[k].IsObject())
            for (auto& e : (*src)[k].GetObject()) b.set(envv, e.name.GetString(), json::scalar_text(e.value));
      }
      b.set(cp, "environmentVariables", std::move(envv));
      if (step.HasMember("limits") && step["limits"].IsObject()) b.set(cp, "limits", b.copy(step["limits"]));
      // Inputs: component defaults, then the step's bindings.
      json::Value ins = b.obj();
      if (spec && spec->HasMember("inputs") && (*spec)["inputs"].IsObject())
        for (auto& in : (*spec)["inputs"].GetObject())
          if (in.value.IsObject() && in.value.HasMember("default")) {
            json::Value lit = b.obj();
            b.set(lit, "jobInputType", "literal");
            b.set(lit, "value", json::scalar_text(in.value["default"]));
            b.set(ins, in.name.GetString(), std::move(lit));
          }
      if (step.HasMember("inputs") && step["inputs"].IsObject()) {
        for (auto& in : step["inputs"].GetObject()) {
          std::string iname = in.name.GetString();
          std::string text = in.value.IsString() ? in.value.GetString()
                                                 : (in.value.IsObject() ? member_text(in.value, "value").value_or("")
                                                                        : json::scalar_text(in.value));
          std::smatch m;
          json::Value bound;
          if (std::regex_match(text, m, kParentInput)) {
            const json::Value* pin = json::find(props, "/inputs/" + m[1].str());
            if (!pin)
              throw JobFailure("UserError", "step '" + sname + "' binds ${{parent.inputs." + m[1].str() +
                                                "}}, which the pipeline does not define");
            bound = b.copy(*pin);
          } else if (
              std::regex_match(
                  text, m,
                  std::regex(
                      R"(^\s*\$\{\{\s*parent\.jobs\.([A-Za-z0-9_\-]+)\.outputs\.([A-Za-z0-9_\-]+)\s*\}\}\s*$)"))) {
            auto& up = by_step.at(m[1].str());
            auto ub = json::parse(up.body);
            auto uri = json::opt_string(ub, "/properties/outputs/" + m[2].str() + "/uri");
            if (!uri)
              throw JobFailure("UserError", "step '" + sname + "' binds ${{parent.jobs." + m[1].str() + ".outputs." +
                                                m[2].str() + "}}, which that step does not produce");
            std::string ut =
                json::opt_string(ub, "/properties/outputs/" + m[2].str() + "/jobOutputType").value_or("uri_folder");
            bound = b.obj();
            b.set(bound, "jobInputType", ut == "uri_file" ? "uri_file" : "uri_folder");
            b.set(bound, "uri", *uri);
          } else if (in.value.IsObject()) {
            bound = b.copy(in.value);
            if (!bound.HasMember("jobInputType")) b.set(bound, "jobInputType", input_type(in.value));
          } else {
            bound = b.obj();
            b.set(bound, "jobInputType", "literal");
            b.set(bound, "value", text);
          }
          b.set(ins, iname, std::move(bound));
        }
      }
      b.set(cp, "inputs", std::move(ins));
      // Outputs: declared by the component and/or the step; parent bindings share the parent's output.
      json::Value outs = b.obj();
      std::vector<std::pair<std::string, std::string>> parent_bindings;  // child output -> parent output
      auto add_output = [&](const std::string& oname, const json::Value* decl) {
        json::Value o = b.obj();
        std::string text = decl && decl->IsObject() ? member_text(*decl, "value").value_or("")
                                                    : (decl && decl->IsString() ? decl->GetString() : "");
        std::smatch m;
        if (std::regex_match(text, m, kParentOutput)) {
          const json::Value* pout = json::find(props, "/outputs/" + m[1].str());
          b.set(o, "jobOutputType", pout ? output_type(*pout) : std::string("uri_folder"));
          if (pout)
            if (auto u = member_text(*pout, "uri")) b.set(o, "uri", *u);
          parent_bindings.emplace_back(oname, m[1].str());
        } else if (decl && decl->IsObject()) {
          b.set(o, "jobOutputType", output_type(*decl));
          if (auto u = member_text(*decl, "uri")) b.set(o, "uri", *u);
        } else {
          b.set(o, "jobOutputType", "uri_folder");
        }
        b.set(o, "mode", "ReadWriteMount");
        b.set(outs, oname, std::move(o));
      };
      if (spec && spec->HasMember("outputs") && (*spec)["outputs"].IsObject())
        for (auto& o : (*spec)["outputs"].GetObject()) add_output(o.name.GetString(), &o.value);
      if (step.HasMember("outputs") && step["outputs"].IsObject())
        for (auto& o : step["outputs"].GetObject()) add_output(o.name.GetString(), &o.value);
      b.set(cp, "outputs", std::move(outs));
      b.set(child, "properties", std::move(cp));
      std::string cname = j.name + "_" + sname;
      create_job(j.ws, cname, child, j.name);
      log("step " + sname + " submitted as " + cname);
      if (!parent_bindings.empty()) {
        auto cb = json::parse(app_.store().one("SELECT body FROM jobs WHERE ws=? AND name=?", {j.ws, cname})->str(0));
        update_body(j.ws, j.name, [&](json::Document& d) {
          json::Builder pb(d.GetAllocator());
          if (!d["properties"].HasMember("outputs") || !d["properties"]["outputs"].IsObject())
            pb.set(d["properties"], "outputs", pb.obj());
          for (auto& [co, po] : parent_bindings) {
            auto uri = json::opt_string(cb, "/properties/outputs/" + co + "/uri");
            if (!uri) continue;
            auto& pouts = d["properties"]["outputs"];
            if (!pouts.HasMember(po.c_str()) || !pouts[po.c_str()].IsObject()) {
              json::Value o = pb.obj();
              pb.set(o, "jobOutputType", "uri_folder");
              pb.set(o, "mode", "ReadWriteMount");
              pb.set(pouts, po, std::move(o));
            }
            pb.set(pouts[po.c_str()], "uri", *uri);
          }
        });
      }
      ++active;
    }
  }
  // Done?
  kids = children(j.ws, j.name);
  active = 0;
  int completed = 0;
  bool any_failed = false;
  for (auto& k : kids) {
    if (!terminal(k.status)) ++active;
    if (k.status == "Completed") ++completed;
    if (k.status == "Failed" || k.status == "Canceled") any_failed = true;
  }
  if (active > 0) return;
  if (static_cast<size_t>(completed) == total) {
    log("pipeline completed");
    finish(j.ws, j.name, "Completed");
  } else if (any_failed && (stop_new || blocked_forever)) {
    std::string failed_steps;
    for (auto& k : kids)
      if (k.status == "Failed" || k.status == "Canceled") failed_steps += (failed_steps.empty() ? "" : ", ") + k.name;
    log("pipeline failed: " + failed_steps);
    finish(j.ws, j.name, "Failed", "UserError", "Pipeline step(s) failed: " + failed_steps + ".");
  }
}

// ---------------------------------------------------------------------------------------------
// Sweeps

void Runner::step_sweep(const JobRow& j) {
  auto body = json::parse(j.body);
  const json::Value& props = body["properties"];
  auto kids = children(j.ws, j.name);
  auto log = [&](const std::string& line) {
    append_log(j.ws, j.name, iso8601_utc(std::chrono::system_clock::now()) + " " + line, "azureml-logs/hyperdrive.txt");
  };
  int active = 0;
  for (auto& k : kids)
    if (!terminal(k.status)) ++active;
  if (j.cancel) {
    for (auto& k : kids)
      if (!terminal(k.status) && !k.cancel) request_cancel(k.ws, k.name);
    if (active == 0) finish(j.ws, j.name, "Canceled");
    return;
  }
  const json::Value* limits = json::find(props, "/limits");
  auto limit_int = [&](const char* k) -> std::optional<int64_t> {
    if (!limits || !limits->IsObject()) return std::nullopt;
    if (auto v = member_text(*limits, k)) return str::parse_int(*v);
    return std::nullopt;
  };
  std::string algorithm = json::opt_string(props, "/samplingAlgorithm/samplingAlgorithmType").value_or("Random");
  uint64_t seed =
      static_cast<uint64_t>(json::opt_int(props, "/samplingAlgorithm/seed")
                                .value_or(static_cast<int64_t>(std::hash<std::string>{}(j.name) & 0xffffffff)));
  int64_t max_total = limit_int("maxTotalTrials").value_or(algorithm == "Grid" ? 1000 : 20);
  int64_t max_conc = limit_int("maxConcurrentTrials").value_or(std::min<int64_t>(max_total, 4));
  std::vector<Trial> trials;
  try {
    trials = sweep_trials(props["searchSpace"], algorithm, static_cast<size_t>(std::max<int64_t>(max_total, 0)), seed);
  } catch (const std::runtime_error& e) {
    throw JobFailure("UserError", e.what());
  }
  if (j.status == "NotStarted") {
    log("sweep started: " + std::to_string(trials.size()) + " trials, " + algorithm + " sampling");
    set_status(j, "Running");
    return;
  }
  bool timed_out = false;
  if (limits && limits->IsObject())
    if (auto t = member_text(*limits, "timeout"); t && !t->empty() && j.started > 0)
      if (now_ms() - j.started > parse_duration(*t).count()) timed_out = true;
  if (timed_out) {
    for (auto& k : kids)
      if (!terminal(k.status) && !k.cancel) request_cancel(k.ws, k.name);
  }
  const json::Value& trial = props["trial"];
  while (!timed_out && kids.size() < trials.size() && active < max_conc) {
    size_t i = kids.size();
    const Trial& t = trials[i];
    json::Document child(rapidjson::kObjectType);
    json::Builder b(child.GetAllocator());
    json::Value cp = b.obj();
    b.set(cp, "jobType", "Command");
    std::string cmd = member_text(trial, "command").value_or("");
    try {
      cmd = substitute_command(cmd, [&](const std::string& ref) -> std::optional<std::string> {
        if (ref.rfind("search_space.", 0) == 0) {
          auto f = t.find(ref.substr(13));
          if (f != t.end()) return f->second;
          return std::nullopt;
        }
        return "${{" + ref + "}}";  // left for the trial's own substitution
      });
    } catch (const std::runtime_error& e) {
      throw JobFailure("UserError", e.what());
    }
    // Placeholders other than search_space were quoted as text above; restore them.
    cmd = std::regex_replace(cmd, std::regex(R"('\$\{\{([^}]*)\}\}')"), "$${{$1}}");
    b.set(cp, "command", cmd);
    for (const char* k : {"codeId", "environmentId"})
      if (auto v = member_text(trial, k)) b.set(cp, k, *v);
    for (const char* k : {"environmentVariables", "resources", "distribution"})
      if (trial.HasMember(k)) b.set(cp, k, b.copy(trial[k]));
    if (props.HasMember("inputs")) b.set(cp, "inputs", b.copy(props["inputs"]));
    json::Value outs = b.obj();
    if (props.HasMember("outputs") && props["outputs"].IsObject())
      for (auto& o : props["outputs"].GetObject()) {
        json::Value oo = b.obj();
        b.set(oo, "jobOutputType", output_type(o.value));
        b.set(oo, "mode", "ReadWriteMount");
        b.set(outs, o.name.GetString(), std::move(oo));
      }
    b.set(cp, "outputs", std::move(outs));
    if (limits && limits->IsObject())
      if (auto tt = member_text(*limits, "trialTimeout")) {
        json::Value l = b.obj();
        b.set(l, "jobLimitsType", "Command");
        b.set(l, "timeout", *tt);
        b.set(cp, "limits", std::move(l));
      }
    b.set(cp, "experimentName", member_text(props, "experimentName").value_or("Default"));
    json::Document hp(rapidjson::kObjectType);
    json::Builder hb(hp.GetAllocator());
    for (auto& [k, v] : t) hb.set(hp, k, v);
    json::Value cprops = b.obj();
    b.set(cprops, "hyperparameters", json::dump(hp));
    b.set(cp, "properties", std::move(cprops));
    b.set(child, "properties", std::move(cp));
    std::string cname = j.name + "_" + std::to_string(i);
    create_job(j.ws, cname, child, j.name);
    for (auto& [k, v] : t)
      app_.store().exec("INSERT OR REPLACE INTO run_params(ws, run_id, key, value) VALUES(?, ?, ?, ?)",
                        {j.ws, cname, k, v});
    log("trial " + cname + " submitted: " + json::dump(hp));
    kids = children(j.ws, j.name);
    ++active;
  }
  kids = children(j.ws, j.name);
  active = 0;
  for (auto& k : kids)
    if (!terminal(k.status)) ++active;
  if (active > 0 || (!timed_out && kids.size() < trials.size())) return;
  // All trials ended: the best by the objective.
  std::string metric = json::opt_string(props, "/objective/primaryMetric").value_or("");
  bool maximize = str::iequals(json::opt_string(props, "/objective/goal").value_or("Maximize"), "Maximize");
  std::optional<std::pair<std::string, double>> best;
  int completed = 0;
  for (auto& k : kids) {
    if (k.status != "Completed") continue;
    ++completed;
    auto v = app_.last_metric(j.ws, k.name, metric);
    if (!v || std::isnan(*v)) continue;
    if (!best || (maximize ? *v > best->second : *v < best->second)) best = std::make_pair(k.name, *v);
  }
  if (best) {
    update_body(j.ws, j.name, [&](json::Document& d) {
      json::Builder b(d.GetAllocator());
      b.set(d["properties"]["properties"], "best_child_run_id", best->first);
      b.set(d["properties"]["properties"], "score", num_text(best->second));
      b.set(d["properties"]["properties"], "primary_metric", metric);
    });
    app_.store().exec("INSERT INTO metrics(ws, run_id, key, value, timestamp, step) VALUES(?, ?, ?, ?, ?, 0)",
                      {j.ws, j.name, metric, best->second, now_ms()});
    log("best trial " + best->first + ": " + metric + " = " + num_text(best->second));
  }
  if (timed_out && completed == 0) {
    finish(j.ws, j.name, "Failed", "JobTimeout", "The sweep exceeded its timeout before any trial completed.");
  } else if (completed == 0) {
    finish(j.ws, j.name, "Failed", "UserError", "No trial of the sweep completed.");
  } else {
    log("sweep completed");
    finish(j.ws, j.name, "Completed");
  }
}

}  // namespace amlops::local
