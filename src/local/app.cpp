#include "local/app.hpp"

#include <csignal>
#include <regex>

#include "core/error.hpp"
#include "core/files.hpp"
#include "core/hash.hpp"
#include "core/log.hpp"
#include "core/strings.hpp"
#include "core/yaml.hpp"
#include "local/runner.hpp"

namespace amlops::local {

namespace fs = std::filesystem;

// ---------------------------------------------------------------------------------------------
// Helpers

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string guid_from(const std::string& seed) {
  std::string h = hash::sha256_hex(seed);
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-4" + h.substr(13, 3) + "-8" + h.substr(17, 3) + "-" +
         h.substr(20, 12);
}

std::string new_guid() { return guid_from(str::random_hex(16)); }

bool valid_name(const std::string& name) {
  static const std::regex re("^[A-Za-z0-9][A-Za-z0-9_.-]{0,254}$");
  return std::regex_match(name, re) && name.find("..") == std::string::npos;
}

net::ServerResponse json_response(int status, const json::Value& v) {
  return net::ServerResponse::json(status, json::dump(v));
}

net::ServerResponse arm_error(int status, const std::string& code, const std::string& message,
                              const std::string& detail_code) {
  json::Document d(rapidjson::kObjectType);
  json::Builder b(d.GetAllocator());
  json::Value e = b.obj();
  b.set(e, "code", code);
  b.set(e, "message", message);
  json::Value details = b.arr();
  if (!detail_code.empty()) {
    json::Value dd = b.obj();
    b.set(dd, "code", detail_code);
    b.set(dd, "message", message);
    b.set(dd, "details", b.arr());
    b.set(dd, "additionalInfo", b.arr());
    b.push(details, std::move(dd));
  }
  b.set(e, "details", std::move(details));
  json::Value info = b.arr();
  json::Value comp = b.obj();
  b.set(comp, "type", "ComponentName");
  json::Value cv = b.obj();
  b.set(cv, "value", "amlops-local");
  b.set(comp, "info", std::move(cv));
  b.push(info, std::move(comp));
  b.set(e, "additionalInfo", std::move(info));
  b.set(d, "error", std::move(e));
  auto r = json_response(status, d);
  r.header("x-ms-response-type", "error");
  return r;
}

void load_config_file(const fs::path& file, Config& cfg) {
  auto doc = yaml::load_file(file);
  auto envs = doc.root["environments"];
  if (!envs) return;
  if (!envs.IsMap()) doc.fail(envs, "environments: expected a mapping of environment name -> {path, python}");
  for (auto it = envs.begin(); it != envs.end(); ++it) {
    EnvironmentMapping m;
    std::string name = yaml::scalar(it->first);
    auto v = it->second;
    if (v.IsScalar()) {
      m.python = yaml::scalar(v);
    } else if (v.IsMap()) {
      for (auto f = v.begin(); f != v.end(); ++f) {
        auto key = yaml::scalar(f->first);
        if (key == "path")
          m.path_prefix = yaml::scalar(f->second);
        else if (key == "python")
          m.python = yaml::scalar(f->second);
        else
          doc.fail(f->first, "environments." + name + ": unknown key '" + key + "' (expected path, python)");
      }
    } else {
      doc.fail(v, "environments." + name + ": expected {path: DIR, python: FILE}");
    }
    cfg.environments[name] = m;
  }
}

// ---------------------------------------------------------------------------------------------
// App

App::App(Config cfg) : cfg_(std::move(cfg)), faults_(cfg_.faults, cfg_.fault_seed) {
  cfg_.data_dir = fs::absolute(cfg_.data_dir).lexically_normal();
  store_ = std::make_unique<Store>(cfg_.data_dir);
  auto& s = *store_;
  id_.subscription = cfg_.subscription ? *cfg_.subscription : s.setting_or("subscription", new_guid);
  id_.tenant = cfg_.tenant ? *cfg_.tenant : s.setting_or("tenant", new_guid);
  id_.client_id = cfg_.client_id ? *cfg_.client_id : s.setting_or("client_id", new_guid);
  id_.client_secret = s.setting_or("client_secret", [] { return "amlops-local~" + str::random_hex(20); });
  id_.account_key = s.setting_or("account_key", [] {
    return hash::base64_encode(hash::md5_raw(str::random_hex(32)) + hash::md5_raw(str::random_hex(32)));
  });
  id_.signing_key = s.setting_or("signing_key", [] { return str::random_hex(32); });
  for (auto& ws : cfg_.workspaces) {
    if (!valid_name(ws)) throw UsageError("invalid workspace name '" + ws + "'");
    fs::create_directories(blob_root() / blobstore_container(ws));
    fs::create_directories(blob_root() / artifact_container(ws));
  }
  for (auto& reg : cfg_.registries) {
    if (!valid_name(reg)) throw UsageError("invalid registry name '" + reg + "'");
    fs::create_directories(blob_root() / registry_container(reg));
  }
  runner_ = std::make_unique<Runner>(*this);
  if (cfg_.recover) runner_->recover();
}

App::~App() {
  if (runner_) runner_->stop("amlops-local stopped while the job was running");
}

void App::set_base_url(std::string url) { base_url_ = std::move(url); }

void App::start_runner() {
  if (cfg_.run_jobs) runner_->start();
}

void App::stop_runner(const std::string& reason) { runner_->stop(reason); }

std::string App::workspace_id(const std::string& ws) const {
  return "/subscriptions/" + id_.subscription + "/resourceGroups/" + cfg_.resource_group +
         "/providers/Microsoft.MachineLearningServices/workspaces/" + ws;
}

std::string App::scope_id(const std::string& scope) const {
  if (scope.rfind("reg/", 0) == 0)
    return "/subscriptions/" + id_.subscription + "/resourceGroups/" + cfg_.resource_group +
           "/providers/Microsoft.MachineLearningServices/registries/" + scope.substr(4);
  return workspace_id(scope.substr(3));
}

std::string App::workspace_guid(const std::string& ws) const {
  return guid_from("workspace:" + id_.subscription + ":" + ws);
}
std::string App::blobstore_container(const std::string& ws) const { return "azureml-blobstore-" + workspace_guid(ws); }
std::string App::artifact_container(const std::string& ws) const {
  return "azureml-" + workspace_guid(ws).substr(0, 8);
}
std::string App::registry_container(const std::string& reg) const {
  return "registry-" + hash::sha256_hex(reg).substr(0, 16);
}

fs::path App::blob_path(const BlobLocation& loc) const {
  fs::path p = blob_root() / loc.container;
  std::string rel = loc.path;
  while (!rel.empty() && rel.back() == '/') rel.pop_back();
  if (!rel.empty()) p /= rel;
  return p;
}

namespace {
std::string encode_path(const std::string& p) {
  std::vector<std::string> parts;
  for (auto& s : str::split(p, '/')) parts.push_back(str::url_encode(s));
  return str::join(parts, "/");
}
}  // namespace

std::string App::blob_url(const BlobLocation& loc) const {
  std::string u = base_url_ + "/" + id_.account + "/" + loc.container;
  if (!loc.path.empty()) u += "/" + encode_path(loc.path);
  return u;
}

std::string App::make_sas(const std::string& container, const std::string& blob, const std::string& perms,
                          Duration lifetime) const {
  auto now = std::chrono::system_clock::now();
  std::string st = iso8601_utc(now - std::chrono::minutes(5));
  std::string se = iso8601_utc(now + lifetime);
  std::string sv = "2021-08-06";
  std::string sr = blob.empty() ? "c" : "b";
  std::string resource = "/blob/" + id_.account + "/" + container + (blob.empty() ? "" : "/" + blob);
  std::string to_sign =
      perms + "\n" + st + "\n" + se + "\n" + resource + "\n\n\nhttp,https\n" + sv + "\n" + sr + "\n\n\n\n\n\n\n";
  std::string sig = hash::base64_encode(hash::hmac_sha256(hash::base64_decode(id_.account_key), to_sign));
  return "sv=" + sv + "&sr=" + sr + "&sp=" + perms + "&st=" + str::url_encode(st) + "&se=" + str::url_encode(se) +
         "&spr=" + str::url_encode("http,https") + "&sig=" + str::url_encode(sig);
}

std::string App::mlflow_base(const std::string& ws) const {
  return base_url_ + "/mlflow/v1.0/subscriptions/" + id_.subscription + "/resourceGroups/" + cfg_.resource_group +
         "/providers/Microsoft.MachineLearningServices/workspaces/" + ws;
}

std::optional<std::string> App::workspace_named(const std::string& ws) const {
  for (auto& w : cfg_.workspaces)
    if (str::iequals(w, ws)) return w;
  return std::nullopt;
}

std::optional<std::string> App::registry_named(const std::string& reg) const {
  for (auto& r : cfg_.registries)
    if (str::iequals(r, reg)) return r;
  return std::nullopt;
}

bool App::has_workspace(const std::string& ws) const { return workspace_named(ws).has_value(); }

bool App::has_registry(const std::string& reg) const { return registry_named(reg).has_value(); }

fs::path App::job_dir(const std::string& ws, const std::string& job) const { return cfg_.data_dir / "jobs" / ws / job; }

BlobLocation App::job_log(const std::string& ws, const std::string& job) const {
  return {artifact_container(ws), "ExperimentRun/dcid." + job + "/user_logs/std_log.txt"};
}

// ---------------------------------------------------------------------------------------------
// URI resolution

Resolved App::resolve_uri(const std::string& ws, const std::string& uri_in, int depth) {
  if (depth > 8) return {std::nullopt, "too many indirections resolving " + uri_in};
  std::string uri = uri_in;
  auto q = uri.find('?');
  if (q != std::string::npos && uri.rfind("http", 0) == 0) uri = uri.substr(0, q);
  auto safe = [&](BlobLocation loc) -> Resolved {
    if (!valid_container(loc.container))
      return {std::nullopt, "container '" + loc.container + "' in " + uri_in + " is not allowed"};
    std::string p = loc.path;
    while (!p.empty() && p.back() == '/') p.pop_back();
    if (!p.empty() && !files::is_safe_relative(p))
      return {std::nullopt, "path '" + loc.path + "' in " + uri_in + " is not allowed"};
    for (auto& part : str::split(p, '/'))
      if (part == ".") return {std::nullopt, "path '" + loc.path + "' in " + uri_in + " is not allowed"};
    loc.path = p;
    return {loc, ""};
  };
  auto datastore_container = [&](const std::string& w, const std::string& ds) -> std::optional<std::string> {
    if (!has_workspace(w)) return std::nullopt;
    if (ds == "workspaceblobstore") return blobstore_container(w);
    if (ds == "workspaceartifactstore") return artifact_container(w);
    return std::nullopt;
  };
  const std::string pfx = "azureml://";
  if (uri.rfind(pfx, 0) == 0) {
    std::string rest = uri.substr(pfx.size());
    auto seg = str::split(rest, '/');
    std::string w = ws;
    size_t i = 0;
    if (seg.size() >= 6 && str::iequals(seg[0], "subscriptions") && str::iequals(seg[2], "resourcegroups") &&
        str::iequals(seg[4], "workspaces")) {
      w = workspace_named(seg[5]).value_or(seg[5]);
      i = 6;
    }
    if (seg.size() >= i + 3 && seg[i] == "datastores" && seg[i + 2] == "paths") {
      auto c = datastore_container(w, seg[i + 1]);
      if (!c) return {std::nullopt, "datastore '" + seg[i + 1] + "' not found in workspace " + w};
      std::vector<std::string> tail(seg.begin() + static_cast<long>(i) + 3, seg.end());
      return safe({*c, str::join(tail, "/")});
    }
    if (seg.size() >= i + 3 && seg[i] == "jobs" && seg[i + 2] == "outputs") {
      const std::string& job = seg[i + 1];
      auto row = store_->one("SELECT body FROM jobs WHERE ws=? AND name=?", {w, job});
      if (!row) return {std::nullopt, "job '" + job + "' not found"};
      if (seg.size() >= i + 4 && (seg[i + 3] == "artifacts")) {
        std::vector<std::string> tail;
        if (seg.size() > i + 5 && seg[i + 4] == "paths")
          tail.assign(seg.begin() + static_cast<long>(i) + 5, seg.end());
        else if (seg.size() > i + 4)
          tail.assign(seg.begin() + static_cast<long>(i) + 4, seg.end());
        std::string p = "ExperimentRun/dcid." + job;
        if (!tail.empty()) p += "/" + str::join(tail, "/");
        return safe({artifact_container(w), p});
      }
      if (seg.size() < i + 4) return {std::nullopt, "expected azureml://jobs/<job>/outputs/<output> in " + uri_in};
      const std::string& out = seg[i + 3];
      auto body = json::parse(row->str(0));
      auto out_uri = json::opt_string(body, "/properties/outputs/" + out + "/uri");
      if (!out_uri) return {std::nullopt, "job '" + job + "' has no output '" + out + "'"};
      auto base = resolve_uri(w, *out_uri, depth + 1);
      if (!base.loc) return base;
      if (seg.size() > i + 5 && seg[i + 4] == "paths") {
        std::vector<std::string> tail(seg.begin() + static_cast<long>(i) + 5, seg.end());
        base.loc->path += (base.loc->path.empty() ? "" : "/") + str::join(tail, "/");
        return safe(*base.loc);
      }
      return base;
    }
    if (seg.size() >= 6 && seg[0] == "registries" && seg[2] == "models" && seg[4] == "versions") {
      auto row = store_->one("SELECT body FROM assets WHERE kind='models' AND scope=? AND name=? AND version=?",
                             {"reg/" + seg[1], seg[3], seg[5]});
      if (!row) return {std::nullopt, "model " + seg[3] + ":" + seg[5] + " not found in registry " + seg[1]};
      auto body = json::parse(row->str(0));
      auto mu = json::opt_string(body, "/properties/modelUri");
      if (!mu) return {std::nullopt, "model has no modelUri"};
      return resolve_uri(ws, *mu, depth + 1);
    }
    return {std::nullopt, "unsupported URI " + uri_in};
  }
  if (uri.rfind("azureml:", 0) == 0) {
    // Data or model asset: azureml:name:version, azureml:name@latest or an ARM id.
    std::string ref = uri.substr(8);
    std::string name, version, scope = "ws/" + ws;
    std::vector<std::string> kinds = {"data", "models"};
    if (ref.find('/') != std::string::npos) {
      auto seg = str::split(ref, '/');
      for (size_t k = 0; k + 1 < seg.size(); ++k) {
        if (seg[k] == "data" || seg[k] == "models") {
          name = seg[k + 1];
          kinds = {seg[k]};
        }
        if (seg[k] == "workspaces") scope = "ws/" + seg[k + 1];
        if (seg[k] == "versions") version = seg[k + 1];
      }
    } else if (auto at = ref.find('@'); at != std::string::npos) {
      name = ref.substr(0, at);
    } else if (auto colon = ref.rfind(':'); colon != std::string::npos) {
      name = ref.substr(0, colon);
      version = ref.substr(colon + 1);
    } else {
      name = ref;
    }
    for (auto& kind : kinds) {
      std::optional<SqlRow> row;
      if (version.empty())
        row = store_->one("SELECT body FROM assets WHERE kind=? AND scope=? AND name=? ORDER BY seq DESC LIMIT 1",
                          {kind, scope, name});
      else
        row = store_->one("SELECT body FROM assets WHERE kind=? AND scope=? AND name=? AND version=?",
                          {kind, scope, name, version});
      if (!row) continue;
      auto body = json::parse(row->str(0));
      const char* field = kind == "data" ? "/properties/dataUri" : "/properties/modelUri";
      auto u = json::opt_string(body, field);
      if (!u) return {std::nullopt, "asset '" + ref + "' has no " + std::string(field + 12)};
      return resolve_uri(ws, *u, depth + 1);
    }
    return {std::nullopt, "data or model asset '" + ref + "' not found"};
  }
  if (uri.rfind("http://", 0) == 0 || uri.rfind("https://", 0) == 0) {
    auto scheme_end = uri.find("://") + 3;
    auto slash = uri.find('/', scheme_end);
    if (slash == std::string::npos) return {std::nullopt, "not a blob URL of this server: " + uri_in};
    auto seg = str::split(uri.substr(slash + 1), '/');
    if (seg.size() < 2 || seg[0] != id_.account) return {std::nullopt, "not a blob URL of this server: " + uri_in};
    std::vector<std::string> tail;
    for (size_t k = 2; k < seg.size(); ++k) tail.push_back(str::url_decode(seg[k]));
    return safe({seg[1], str::join(tail, "/")});
  }
  return {std::nullopt, "unsupported URI " + uri_in};
}

// ---------------------------------------------------------------------------------------------
// Tokens

std::string App::issue_token(const std::string& subject, Duration lifetime, const std::string& audience) {
  json::Document h(rapidjson::kObjectType);
  json::Builder hb(h.GetAllocator());
  hb.set(h, "alg", "HS256");
  hb.set(h, "typ", "JWT");
  hb.set(h, "kid", "amlops-local");
  json::Document p(rapidjson::kObjectType);
  json::Builder b(p.GetAllocator());
  int64_t now = unix_seconds(std::chrono::system_clock::now());
  b.set(p, "aud", audience);
  b.set(p, "iss", base_url_ + "/" + id_.tenant + "/v2.0");
  b.set(p, "iat", now);
  b.set(p, "nbf", now - 60);
  b.set(p, "exp", now + std::chrono::duration_cast<std::chrono::seconds>(lifetime).count());
  b.set(p, "appid", id_.client_id);
  b.set(p, "azp", id_.client_id);
  b.set(p, "oid", guid_from("oid:" + subject));
  b.set(p, "sub", subject);
  b.set(p, "tid", id_.tenant);
  b.set(p, "idtyp", "app");
  b.set(p, "ver", "2.0");
  std::string signing_input = hash::base64url_encode(json::dump(h)) + "." + hash::base64url_encode(json::dump(p));
  return signing_input + "." + hash::base64url_encode(hash::hmac_sha256(id_.signing_key, signing_input));
}

std::string App::check_token(const std::string& token) const {
  auto parts = str::split(token, '.');
  if (parts.size() != 3) return "the access token is malformed";
  std::string signing_input = parts[0] + "." + parts[1];
  if (hash::base64url_encode(hash::hmac_sha256(id_.signing_key, signing_input)) != parts[2])
    return "the access token signature is invalid";
  try {
    auto payload = json::parse(hash::base64url_decode(parts[1]), "token");
    auto exp = json::opt_int(payload, "/exp");
    if (!exp || *exp <= unix_seconds(std::chrono::system_clock::now())) return "expired";
  } catch (const std::exception&) {
    return "the access token is malformed";
  }
  return {};
}

// ---------------------------------------------------------------------------------------------
// MLflow bookkeeping

int64_t App::ensure_experiment(const std::string& ws, const std::string& name) {
  int64_t id = 0;
  store_->transaction([&] {
    if (auto r = store_->one("SELECT id FROM experiments WHERE ws=? AND name=?", {ws, name})) {
      id = r->i64(0);
      return;
    }
    store_->exec("INSERT INTO experiments(ws, name, artifact_location, created) VALUES(?, ?, '', ?)",
                 {ws, name, now_ms()});
    id = store_->one("SELECT id FROM experiments WHERE ws=? AND name=?", {ws, name})->i64(0);
    store_->exec("UPDATE experiments SET artifact_location=? WHERE id=?",
                 {"azureml://datastores/workspaceartifactstore/paths/ExperimentRun/" + std::to_string(id), id});
  });
  return id;
}

void App::create_run(const std::string& ws, const std::string& run_id, int64_t experiment_id,
                     const std::string& run_name, const std::string& status) {
  std::string artifact_uri = "file://" + (blob_path({artifact_container(ws), "ExperimentRun/dcid." + run_id})).string();
  store_->exec(
      "INSERT OR IGNORE INTO runs(ws, run_id, experiment_id, status, start_time, run_name, artifact_uri) VALUES(?, ?, "
      "?, ?, ?, ?, ?)",
      {ws, run_id, experiment_id, status, now_ms(), run_name, artifact_uri});
}

void App::set_run_status(const std::string& ws, const std::string& run_id, const std::string& status, bool ended) {
  if (ended)
    store_->exec("UPDATE runs SET status=?, end_time=? WHERE ws=? AND run_id=?", {status, now_ms(), ws, run_id});
  else
    store_->exec("UPDATE runs SET status=? WHERE ws=? AND run_id=?", {status, ws, run_id});
}

std::optional<double> App::last_metric(const std::string& ws, const std::string& run_id, const std::string& key) {
  auto r = store_->one(
      "SELECT value FROM metrics WHERE ws=? AND run_id=? AND key=? ORDER BY step DESC, timestamp DESC, seq DESC LIMIT "
      "1",
      {ws, run_id, key});
  if (!r || r->is_null(0)) return std::nullopt;
  return r->num(0);
}

// ---------------------------------------------------------------------------------------------
// Request handling

void App::log_request(const net::ServerRequest& req, int status, const char* fault) {
  json::Document d(rapidjson::kObjectType);
  json::Builder b(d.GetAllocator());
  b.set(d, "time", iso8601_utc(std::chrono::system_clock::now(), true));
  b.set(d, "method", req.method);
  b.set(d, "path", req.path);
  if (auto c = req.param("comp")) b.set(d, "comp", *c);
  b.set(d, "status", status);
  if (fault) b.set(d, "fault", fault);
  std::string line = json::dump(d);
  std::lock_guard lock(log_mu_);
  request_log_.push_back(line);
  try {
    files::append(cfg_.data_dir / "requests.jsonl", line + "\n");
  } catch (const std::exception& e) {
    log::warn("request log: ", e.what());
  }
}

std::string App::request_log_json(size_t since) const {
  std::lock_guard lock(log_mu_);
  std::string out = "{\"next\":" + std::to_string(request_log_.size()) + ",\"requests\":[";
  for (size_t i = since; i < request_log_.size(); ++i) {
    if (i > since) out += ",";
    out += request_log_[i];
  }
  return out + "]}";
}

net::ServerResponse App::handle(const net::ServerRequest& req) {
  // Segments of the raw path, each decoded on its own (an encoded '/' stays inside its segment).
  std::string raw = req.target.substr(0, req.target.find('?'));
  std::vector<std::string> seg;
  for (auto& s : str::split(raw, '/'))
    if (!s.empty()) seg.push_back(str::url_decode(s));

  bool debug_route = !seg.empty() && seg[0] == "_amlops";
  const char* fault_name = nullptr;
  FaultKind fault = debug_route ? FaultKind::none : faults_.draw();
  net::ServerResponse resp;
  if (fault == FaultKind::too_many) {
    resp = arm_error(429, "TooManyRequests",
                     "The request was throttled (injected fault). Retry after the delay in Retry-After.");
    resp.header("Retry-After", "1");
    fault_name = "429";
  } else if (fault == FaultKind::unavailable) {
    resp = arm_error(503, "ServiceUnavailable", "The service is temporarily unavailable (injected fault).");
    fault_name = "503";
  } else if (fault == FaultKind::reset) {
    resp.fault = net::ServerResponse::Fault::reset;
    resp.status = 0;
    fault_name = "reset";
  } else {
    try {
      resp = dispatch(req, seg);
    } catch (const ArmError& e) {
      resp = arm_error(e.status, e.code, e.what(), e.detail_code);
    } catch (const ConfigError& e) {
      resp = arm_error(400, "UserError", e.what(), "RequestInvalid");
    } catch (const std::exception& e) {
      log::error("amlops-local: ", req.method, " ", req.path, ": ", e.what());
      resp = arm_error(500, "InternalServerError", std::string("internal error: ") + e.what());
    }
    if (fault == FaultKind::slow) {
      resp.fault = net::ServerResponse::Fault::slow;
      resp.slow_for = cfg_.slow_for;
      fault_name = "slow";
    }
  }
  std::string rid = new_guid();
  resp.header("x-ms-request-id", rid);
  resp.header("x-ms-correlation-request-id", rid);
  if (!debug_route) log_request(req, resp.status, fault_name);
  return resp;
}

namespace {

// 401 in ARM's shape with the challenge header.
net::ServerResponse unauthorized(const std::string& code, const std::string& message, const std::string& authority) {
  auto r = arm_error(401, code, message);
  r.header("WWW-Authenticate", "Bearer authorization_uri=\"" + authority +
                                   "\", error=\"invalid_token\", error_description=\"" + message + "\"");
  return r;
}

}  // namespace

net::ServerResponse App::dispatch(const net::ServerRequest& req, const std::vector<std::string>& seg) {
  // Unauthenticated routes.
  if (seg.size() == 2 && seg[0] == "_amlops" && seg[1] == "health")
    return net::ServerResponse::json(200, R"({"status":"ok"})");
  if (seg.size() == 2 && seg[0] == "_amlops" && seg[1] == "requests") {
    size_t since = 0;
    if (auto s = req.param("since")) since = static_cast<size_t>(str::parse_int(*s).value_or(0));
    return net::ServerResponse::json(200, request_log_json(since));
  }
  if (seg.size() == 1 && seg[0] == "discovery") {
    json::Document d(rapidjson::kObjectType);
    json::Builder b(d.GetAllocator());
    for (const char* k : {"api", "catalog", "experimentation", "gallery", "history", "hyperdrive", "labeling",
                          "modelmanagement", "pipelines"})
      b.set(d, k, base_url_);
    b.set(d, "studio", base_url_);
    return json_response(200, d);
  }
  if (seg.size() >= 3 && seg[1] == "oauth2" && req.method == "POST") {
    if (seg.size() == 4 && seg[2] == "v2.0" && seg[3] == "token") return route_token(req, seg[0], true);
    if (seg.size() == 3 && seg[2] == "token") return route_token(req, seg[0], false);
  }
  if (!seg.empty() && seg[0] == id_.account) return route_blob(req, seg);

  // Everything else needs a bearer token.
  std::string authority = base_url_ + "/" + id_.tenant;
  auto auth = req.header("authorization");
  if (!auth)
    return unauthorized("AuthenticationFailed", "Authentication failed. The 'Authorization' header is missing.",
                        authority);
  if (auth->size() < 7 || !str::iequals(auth->substr(0, 7), "bearer "))
    return unauthorized("AuthenticationFailed",
                        "Authentication failed. The 'Authorization' header is provided in an invalid format.",
                        authority);
  std::string why = check_token(std::string(str::trim(auth->substr(7))));
  if (why == "expired")
    return unauthorized("ExpiredAuthenticationToken",
                        "The access token expiry UTC time is earlier than current UTC time.", authority);
  if (!why.empty())
    return unauthorized("InvalidAuthenticationToken", "The access token is invalid: " + why + ".", authority);

  if (!seg.empty() && seg[0] == "subscriptions") return route_arm(req, seg);
  if (seg.size() >= 3 && seg[0] == "mlflow" && seg[1] == "v1.0") {
    // /mlflow/v1.0/subscriptions/S/resourceGroups/RG/providers/Microsoft.MachineLearningServices/workspaces/W/api/2.0/mlflow/...
    if (seg.size() >= 10 && seg[2] == "subscriptions" && str::iequals(seg[6], "providers") && seg[8] == "workspaces") {
      auto w = workspace_named(seg[9]);
      if (seg[3] != id_.subscription || !str::iequals(seg[5], cfg_.resource_group) || !w)
        throw ArmError(404, "ResourceNotFound", "The workspace was not found.", "WorkspaceNotFound");
      return route_mlflow(req, *w, seg, 10);
    }
  }
  if (seg.size() >= 3 && seg[0] == "history" && seg[1] == "v1.0") {
    if (seg.size() >= 10 && seg[2] == "subscriptions" && str::iequals(seg[6], "providers") && seg[8] == "workspaces") {
      auto w = workspace_named(seg[9]);
      if (seg[3] != id_.subscription || !str::iequals(seg[5], cfg_.resource_group) || !w)
        throw ArmError(404, "ResourceNotFound", "The workspace was not found.", "WorkspaceNotFound");
      return route_history(req, *w, seg, 10);
    }
  }
  if (seg.size() == 5 && seg[0] == "registrymanagement" && seg[2] == "registries" && seg[4] == "discovery") {
    if (!has_registry(seg[3]))
      throw ArmError(404, "UserError", "Registry " + seg[3] + " not found.", "RegistryNotFound");
    json::Document d(rapidjson::kObjectType);
    json::Builder b(d.GetAllocator());
    b.set(d, "registryId", guid_from("registry:" + seg[3]));
    b.set(d, "registryName", seg[3]);
    b.set(d, "subscriptionId", id_.subscription);
    b.set(d, "resourceGroup", cfg_.resource_group);
    b.set(d, "primaryRegion", cfg_.location);
    b.set(d, "primaryRegionResourceProviderUri", base_url_);
    json::Value fq = b.arr();
    b.push(fq, base_url_);
    b.set(d, "registryFqdns", std::move(fq));
    return json_response(200, d);
  }
  throw ArmError(404, "NotFound", "No route for " + req.method + " " + req.path + ".");
}

net::ServerResponse App::route_token(const net::ServerRequest& req, const std::string& tenant, bool v2) {
  auto oauth_error = [&](int status, const std::string& error, const std::string& code, const std::string& desc) {
    json::Document d(rapidjson::kObjectType);
    json::Builder b(d.GetAllocator());
    b.set(d, "error", error);
    b.set(d, "error_description", "AADSTS" + code + ": " + desc);
    json::Value codes = b.arr();
    codes.PushBack(static_cast<int64_t>(std::stoll(code)), d.GetAllocator());
    b.set(d, "error_codes", std::move(codes));
    b.set(d, "timestamp", iso8601_utc(std::chrono::system_clock::now()));
    b.set(d, "trace_id", new_guid());
    b.set(d, "correlation_id", new_guid());
    return json_response(status, d);
  };
  if (tenant != id_.tenant && tenant != "organizations")
    return oauth_error(400, "invalid_request", "90002", "Tenant '" + tenant + "' not found.");
  std::map<std::string, std::string> form;
  for (auto& part : str::split(req.body, '&')) {
    if (part.empty()) continue;
    auto eq = part.find('=');
    form[str::url_decode(part.substr(0, eq), true)] =
        eq == std::string::npos ? "" : str::url_decode(part.substr(eq + 1), true);
  }
  if (form["grant_type"] != "client_credentials")
    return oauth_error(400, "unsupported_grant_type", "70003",
                       "The app requested an unsupported grant type '" + form["grant_type"] + "'.");
  if (form["client_id"].empty())
    return oauth_error(400, "invalid_request", "900144",
                       "The request body must contain the following parameter: 'client_id'.");
  if (form["client_id"] != id_.client_id)
    return oauth_error(400, "unauthorized_client", "700016",
                       "Application with identifier '" + form["client_id"] + "' was not found in the directory.");
  std::string audience = "https://management.azure.com";
  if (v2) {
    std::string scope = form["scope"];
    if (scope.empty())
      return oauth_error(400, "invalid_request", "900144",
                         "The request body must contain the following parameter: 'scope'.");
    if (scope.size() < 9 || scope.substr(scope.size() - 9) != "/.default")
      return oauth_error(400, "invalid_scope", "1002012",
                         "The provided value for scope " + scope +
                             " is not valid. Client credential flows must have a scope value with /.default suffixed "
                             "to the resource identifier.");
    audience = scope.substr(0, scope.size() - 9);
  } else if (!form["resource"].empty()) {
    audience = form["resource"];
  }
  if (!form["client_secret"].empty()) {
    if (form["client_secret"] != id_.client_secret)
      return oauth_error(401, "invalid_client", "7000215",
                         "Invalid client secret provided. Ensure the secret being sent in the request is the client "
                         "secret value, not the client secret ID.");
  } else if (!form["client_assertion"].empty()) {
    if (form["client_assertion_type"] != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
      return oauth_error(400, "invalid_request", "700010", "Invalid client_assertion_type.");
    auto parts = str::split(form["client_assertion"], '.');
    if (parts.size() != 3) return oauth_error(400, "invalid_client", "50027", "JWT token is invalid or malformed.");
    try {
      json::parse(hash::base64url_decode(parts[0]), "assertion header");
      auto payload = json::parse(hash::base64url_decode(parts[1]), "assertion payload");
      auto now = unix_seconds(std::chrono::system_clock::now());
      auto exp = json::opt_int(payload, "/exp");
      if (!exp || *exp <= now)
        return oauth_error(400, "invalid_client", "700024", "Client assertion is not within its valid time range.");
      if (auto nbf = json::opt_int(payload, "/nbf"); nbf && *nbf > now + 300)
        return oauth_error(400, "invalid_client", "700024", "Client assertion is not within its valid time range.");
      bool aud_ok = false;
      if (const auto* aud = json::find(payload, "/aud")) {
        if (aud->IsString()) aud_ok = std::string(aud->GetString()) == "api://AzureADTokenExchange";
        if (aud->IsArray())
          for (auto& a : aud->GetArray())
            if (a.IsString() && std::string(a.GetString()) == "api://AzureADTokenExchange") aud_ok = true;
      }
      if (!aud_ok)
        return oauth_error(400, "invalid_client", "700212",
                           "No matching federated identity record found for presented assertion audience (expected "
                           "api://AzureADTokenExchange).");
    } catch (const std::exception&) {
      return oauth_error(400, "invalid_client", "50027", "JWT token is invalid or malformed.");
    }
  } else {
    return oauth_error(401, "invalid_client", "7000218",
                       "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.");
  }
  auto lifetime = std::chrono::duration_cast<std::chrono::seconds>(cfg_.token_lifetime).count();
  std::string token = issue_token(id_.client_id, cfg_.token_lifetime, audience);
  json::Document d(rapidjson::kObjectType);
  json::Builder b(d.GetAllocator());
  b.set(d, "token_type", "Bearer");
  if (v2) {
    b.set(d, "expires_in", static_cast<int64_t>(lifetime));
    b.set(d, "ext_expires_in", static_cast<int64_t>(lifetime));
  } else {
    b.set(d, "expires_in", std::to_string(lifetime));
    b.set(d, "ext_expires_in", std::to_string(lifetime));
    b.set(d, "expires_on", std::to_string(unix_seconds(std::chrono::system_clock::now()) + lifetime));
    b.set(d, "resource", audience);
  }
  b.set(d, "access_token", token);
  auto r = json_response(200, d);
  r.header("Cache-Control", "no-store, no-cache");
  return r;
}

}  // namespace amlops::local
