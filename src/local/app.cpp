#include "local/app.hpp"

#include <csignal>
#include <regex>

#include "core/error.hpp"
#include "core/files.hpp"
#include "core/hash.hpp"
#include "core/log.hpp"
#include "core/strings.hpp"
#include "core/yaml.hpp"
#include "local/endpoints.hpp"
#include "local/external.hpp"
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
    if (cfg_.storage) {  // the workspace's datastores live in the external account
      ensure_external_container(*cfg_.storage, blobstore_container(ws));
      ensure_external_container(*cfg_.storage, artifact_container(ws));
    }
  }
  for (auto& reg : cfg_.registries) {
    if (!valid_name(reg)) throw UsageError("invalid registry name '" + reg + "'");
    fs::create_directories(blob_root() / registry_container(reg));
  }
  endpoints_ = std::make_unique<Endpoints>(*this);
  build_routes();
  runner_ = std::make_unique<Runner>(*this);
  if (cfg_.recover) runner_->recover();
}

App::~App() {
  if (endpoints_) endpoints_->stop();
  if (runner_) runner_->stop("amlops-local stopped while the job was running");
}

void App::set_base_url(std::string url) { base_url_ = std::move(url); }

void App::start_runner() {
  if (cfg_.run_jobs) runner_->start();
  if (cfg_.run_jobs) endpoints_->start();
}

void App::stop_runner(const std::string& reason) {
  endpoints_->stop();
  runner_->stop(reason);
}

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
  return service_sas(id_.account, id_.account_key, container, blob, perms, lifetime);
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

std::vector<std::string> path_segments(const std::string& target) {
  std::string raw = target.substr(0, target.find('?'));
  std::vector<std::string> seg;
  for (auto& s : str::split(raw, '/'))
    if (!s.empty()) seg.push_back(str::url_decode(s));
  return seg;
}

net::ServerResponse App::handle(const net::ServerRequest& req) {
  // Segments of the raw path, each decoded on its own (an encoded '/' stays inside its segment).
  std::vector<std::string> seg = path_segments(req.target);

  bool debug_route = !seg.empty() && seg[0] == "_amlops";
  // Scoring (endpoints.cpp) is a data plane of its own: no injected faults, its own request ids and
  // request records (table endpoint_requests) instead of the request log.
  bool scoring = !seg.empty() && seg[0] == "_endpoints";
  const char* fault_name = nullptr;
  FaultKind fault = debug_route || scoring ? FaultKind::none : faults_.draw();
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
  if (scoring) return resp;
  std::string rid = new_guid();
  resp.header("x-ms-request-id", rid);
  resp.header("x-ms-correlation-request-id", rid);
  if (!debug_route) log_request(req, resp.status, fault_name);
  return resp;
}

}  // namespace amlops::local
