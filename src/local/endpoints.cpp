// Managed online endpoints: ARM resources, deployment instances, scoring, data collection.
#include "local/endpoints.hpp"

#include <openssl/crypto.h>
#include <signal.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <set>

#include "core/env.hpp"
#include "core/error.hpp"
#include "core/files.hpp"
#include "core/hash.hpp"
#include "core/log.hpp"
#include "core/process.hpp"
#include "core/strings.hpp"
#include "core/time.hpp"
#include "local/app.hpp"
#include "local/external.hpp"
#include "local/inference.hpp"
#include "local/job_util.hpp"
#include "local/shims.hpp"

namespace amlops::local {

namespace fs = std::filesystem;
using steady = std::chrono::steady_clock;

namespace {

const char* kEndpointType = "Microsoft.MachineLearningServices/workspaces/onlineEndpoints";
const char* kDeploymentType = "Microsoft.MachineLearningServices/workspaces/onlineEndpoints/deployments";
const int64_t kPending = INT64_MAX / 2;  // ready_at of an operation still running

void check_name(const std::string& what, const std::string& name) {
  // Azure: 3-32 characters, a letter first, then letters, digits and '-'.
  bool ok = name.size() >= 3 && name.size() <= 32 && std::isalpha(static_cast<unsigned char>(name[0]));
  for (char c : name) ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '-');
  if (!ok)
    throw ArmError(400, "UserError",
                   "Invalid " + what + " name '" + name +
                       "': 3 to 32 characters, starting with a letter, then letters, digits and '-'.",
                   "InvalidName");
}

json::Value system_data(json::Builder& b, int64_t created, int64_t modified) {
  return local::system_data(b, ms_iso(created), ms_iso(modified), "amlops-local");
}

// A deployment -> percent map from properties.traffic / mirrorTraffic.
std::map<std::string, int64_t> percent_map(const json::Value& props, const char* key) {
  std::map<std::string, int64_t> out;
  const auto* t = json::find(props, std::string("/") + key);
  if (!t || t->IsNull()) return out;
  if (!t->IsObject())
    throw ArmError(400, "UserError", std::string("properties.") + key + " must be an object.", "RequestInvalid");
  for (auto& m : t->GetObject()) {
    if (!m.value.IsInt64() || m.value.GetInt64() < 0 || m.value.GetInt64() > 100)
      throw ArmError(400, "UserError",
                     std::string("properties.") + key + "." + m.name.GetString() +
                         " must be an integer percentage between 0 and 100.",
                     "InvalidTraffic");
    out[m.name.GetString()] = m.value.GetInt64();
  }
  return out;
}

std::string tail_lines(const fs::path& file, int64_t lines) {
  std::error_code ec;
  if (!fs::exists(file, ec)) return {};
  std::string text = files::read_bounded(file, 4 * 1024 * 1024);
  if (lines <= 0) return text;
  size_t pos = text.size();
  if (pos > 0 && text[pos - 1] == '\n') --pos;
  int64_t n = 0;
  while (pos > 0) {
    if (text[pos - 1] == '\n' && ++n == lines) break;
    --pos;
  }
  return text.substr(pos);
}

Duration probe_seconds(const json::Value& props, const char* probe, const char* field, Duration dflt) {
  auto v = json::opt_string(props, std::string("/") + probe + "/" + field);
  if (!v) return dflt;
  try {
    return parse_duration(*v);
  } catch (const std::exception&) {
    return dflt;
  }
}

// A constant-time comparison of two secrets.
bool same_secret(const std::string& a, const std::string& b) {
  return !a.empty() && a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

// Whether a record with this correlation id is kept at `rate` (the same decision for every
// collection of one request, so inputs and outputs stay paired).
bool sampled(const std::string& correlation, double rate) {
  if (rate >= 1.0) return true;
  if (rate <= 0.0) return false;
  std::string h = hash::sha256_hex(correlation).substr(0, 13);
  double x = static_cast<double>(std::stoull(h, nullptr, 16)) / static_cast<double>(1ULL << 52);
  return x < rate;
}

net::ServerResponse score_error(int status, const std::string& message) {
  json::Document d(rapidjson::kObjectType);
  json::Builder b(d.GetAllocator());
  b.set(d, "message", message);
  return net::ServerResponse::json(status, json::dump(d));
}

}  // namespace

// One instance: an inference host process.
struct Instance {
  process::Child child;
  int port = 0;          // 0 until the host is ready
  bool running = false;  // a process was started and has not been seen exiting
  steady::time_point down_since{};
  steady::time_point next_probe{};  // the next liveness probe (GET /)
  int probe_failures = 0;           // consecutive failed probes
  std::string id;                   // instance id in collected file names
  fs::path log, port_file;
};

// How a deployment's instances run (replaced as a whole when an update is ready).
struct DeploySettings {
  std::vector<std::string> argv;  // the host; the last item is replaced by each instance's port file
  process::SpawnOptions spawn;
  long timeout_ms = 5000;
  int max_concurrent = 1;
  Duration liveness_period = std::chrono::seconds(10);
  Duration liveness_timeout = std::chrono::seconds(2);
  int64_t liveness_failures = 30;             // failureThreshold
  std::map<std::string, double> collections;  // enabled collection -> sampling rate
  std::string source;                         // ARM id (data collector records)
};

struct Deployment {
  std::string ws, ep, name, key;
  fs::path dir;
  std::mutex mu;                                // everything below
  std::vector<std::shared_ptr<Instance>> inst;  // shared: a request in flight keeps its instance alive
  std::string state = "Creating";
  uint64_t generation = 0;
  std::thread provisioner;
  DeploySettings cfg;  // of the instances in `inst`
  std::string op;      // the operation of the provisioning under way ("" when none)
  std::atomic<int> in_flight{0};
  std::atomic<uint64_t> rr{0};
};

Endpoints::Endpoints(App& app) : app_(app), rng_(std::random_device{}()) {
  auto& s = app_.store();
  s.exec(
      "CREATE TABLE IF NOT EXISTS online_endpoints(ws TEXT NOT NULL, name TEXT NOT NULL, body TEXT NOT NULL, "
      "primary_key TEXT NOT NULL, secondary_key TEXT NOT NULL, op TEXT, pending TEXT, created INTEGER NOT NULL, "
      "modified INTEGER NOT NULL, PRIMARY KEY(ws, name))");
  s.exec(
      "CREATE TABLE IF NOT EXISTS online_deployments(ws TEXT NOT NULL, endpoint TEXT NOT NULL, name TEXT NOT NULL, "
      "body TEXT NOT NULL, state TEXT NOT NULL, created INTEGER NOT NULL, modified INTEGER NOT NULL, "
      "PRIMARY KEY(ws, endpoint, name))");
  // Read by amlops-monitor (w26): one row per scoring request, mirrored copies included.
  s.exec(
      "CREATE TABLE IF NOT EXISTS endpoint_requests(ws TEXT, endpoint TEXT, deployment TEXT, at_ms INTEGER, "
      "status INTEGER, latency_ms REAL)");
  s.exec("CREATE INDEX IF NOT EXISTS endpoint_requests_at ON endpoint_requests(ws, endpoint, at_ms)");
}

Endpoints::~Endpoints() { stop(); }

std::string Endpoints::scoring_uri(const std::string& ws, const std::string& endpoint) const {
  return app_.base_url() + "/_endpoints/" + ws + "/" + endpoint + "/score";
}

// ---------------------------------------------------------------------------------------------
// Operations

std::string Endpoints::open_operation(const std::string& resource) {
  std::string id = new_guid();
  app_.store().exec("INSERT INTO operations(id, status, resource, created, ready_at) VALUES(?, 'InProgress', ?, ?, ?)",
                    {id, resource, now_ms(), kPending});
  return id;
}

void Endpoints::finish_operation(const std::string& id, const std::string& status, const std::string& error) {
  if (id.empty()) return;
  int64_t ready = now_ms() + app_.config().lro_delay.count();
  app_.store().exec("UPDATE operations SET status=?, ready_at=?, error=? WHERE id=? AND status='InProgress'",
                    {status, ready, error.empty() ? SqlValue{} : SqlValue{error}, id});
}

net::ServerResponse Endpoints::accepted(int status, const std::string& op, const std::string& body, bool async_header) {
  return app_.lro_accepted(status, op, body, async_header);
}

// ---------------------------------------------------------------------------------------------
// Routes

void Endpoints::add_arm_routes(RouteTable& t, const std::string& ws_path,
                               const std::function<std::string(const RouteMatch&)>& ws_of) {
  using Req = net::ServerRequest;
  const std::string eps = ws_path + "/onlineEndpoints";
  const std::string ep = eps + "/{ep}";
  const std::string dep = ep + "/deployments/{dep}";
  t.add("GET", eps, [this, ws_of](const Req& r, const RouteMatch& m) { return endpoint_list(r, ws_of(m)); });
  t.add("GET", ep, [this, ws_of](const Req&, const RouteMatch& m) { return endpoint_get(ws_of(m), m["ep"]); })
      .add("PUT", ep, [this, ws_of](const Req& r, const RouteMatch& m) { return endpoint_put(r, ws_of(m), m["ep"]); })
      .add("PATCH", ep,
           [this, ws_of](const Req& r, const RouteMatch& m) { return endpoint_patch(r, ws_of(m), m["ep"]); })
      .add("DELETE", ep, [this, ws_of](const Req&, const RouteMatch& m) { return endpoint_delete(ws_of(m), m["ep"]); });
  t.add("POST", ep + "/listKeys",
        [this, ws_of](const Req&, const RouteMatch& m) { return endpoint_keys(ws_of(m), m["ep"]); });
  t.add("POST", ep + "/regenerateKeys",
        [this, ws_of](const Req& r, const RouteMatch& m) { return endpoint_regenerate(r, ws_of(m), m["ep"]); });
  t.add("POST", ep + "/token",
        [this, ws_of](const Req&, const RouteMatch& m) { return endpoint_token(ws_of(m), m["ep"]); });
  t.add("GET", ep + "/deployments",
        [this, ws_of](const Req& r, const RouteMatch& m) { return deployment_list(r, ws_of(m), m["ep"]); });
  t.add("GET", dep,
        [this, ws_of](const Req&, const RouteMatch& m) { return deployment_get(ws_of(m), m["ep"], m["dep"]); })
      .add("PUT", dep,
           [this, ws_of](const Req& r, const RouteMatch& m) { return deployment_put(r, ws_of(m), m["ep"], m["dep"]); })
      .add(
          "PATCH", dep,
          [this, ws_of](const Req& r, const RouteMatch& m) { return deployment_patch(r, ws_of(m), m["ep"], m["dep"]); })
      .add("DELETE", dep,
           [this, ws_of](const Req&, const RouteMatch& m) { return deployment_delete(ws_of(m), m["ep"], m["dep"]); });
  t.add("POST", dep + "/getLogs",
        [this, ws_of](const Req& r, const RouteMatch& m) { return deployment_logs(r, ws_of(m), m["ep"], m["dep"]); });
  t.add("GET", dep + "/skus",
        [this, ws_of](const Req& r, const RouteMatch& m) { return deployment_skus(r, ws_of(m), m["ep"], m["dep"]); });
}

void Endpoints::add_public_routes(RouteTable& t) {
  using Req = net::ServerRequest;
  t.add("POST", "_endpoints/{ws}/{ep}/score",
        [this](const Req& r, const RouteMatch& m) { return score(r, m["ws"], m["ep"]); });
  // As azmlinfsrv for a scoring script without inference-schema decorators.
  t.add("GET", "_endpoints/{ws}/{ep}/swagger.json", [](const Req&, const RouteMatch&) {
    return score_error(404, "Swagger not available: the scoring script declares no input/output schema.");
  });
}

// ---------------------------------------------------------------------------------------------
// Endpoints (ARM)

void Endpoints::require_endpoint(const std::string& ws, const std::string& name) {
  if (!app_.store().one("SELECT 1 FROM online_endpoints WHERE ws=? AND name=?", {ws, name}))
    throw ArmError(404, "UserError", "Could not find online endpoint '" + name + "' in workspace '" + ws + "'.",
                   "EndpointNotFound");
}

json::Value Endpoints::identity(json::Builder& b, const json::Value& body, const std::string& seed) {
  json::Value ident = b.obj();
  b.set(ident, "type", json::opt_string(body, "/identity/type").value_or("SystemAssigned"));
  b.set(ident, "principalId", guid_from(seed));
  b.set(ident, "tenantId", app_.identity().tenant);
  if (const auto* u = json::find(body, "/identity/userAssignedIdentities"); u && u->IsObject()) {
    json::Value ids = b.obj();
    for (auto& m : u->GetObject()) {
      json::Value one = b.obj();
      b.set(one, "principalId", guid_from(seed + ":principal:" + m.name.GetString()));
      b.set(one, "clientId", guid_from(seed + ":client:" + m.name.GetString()));
      b.set(ids, m.name.GetString(), std::move(one));
    }
    b.set(ident, "userAssignedIdentities", std::move(ids));
  }
  return ident;
}

std::string Endpoints::render_endpoint(const std::string& ws, const std::string& name) {
  auto row = app_.store().one("SELECT body, op, pending FROM online_endpoints WHERE ws=? AND name=?", {ws, name});
  if (!row)
    throw ArmError(404, "UserError", "Could not find online endpoint '" + name + "' in workspace '" + ws + "'.",
                   "EndpointNotFound");
  auto d = json::parse(row->str(0));
  json::Builder b(d.GetAllocator());
  std::string state = "Succeeded";
  if (!row->str(1).empty()) {
    auto op = app_.store().one("SELECT ready_at FROM operations WHERE id=?", {row->str(1)});
    if (op && now_ms() < op->i64(0)) state = row->str(2);
  }
  auto& p = d["properties"];
  b.set(p, "provisioningState", state);
  b.set(p, "scoringUri", scoring_uri(ws, name));
  b.set(p, "swaggerUri", app_.base_url() + "/_endpoints/" + ws + "/" + name + "/swagger.json");
  return json::dump(d);
}

net::ServerResponse Endpoints::endpoint_get(const std::string& ws, const std::string& name) {
  return net::ServerResponse::json(200, render_endpoint(ws, name));
}

namespace {

// Pages rendered items as ARM lists do ($skip / $skipToken, $top, nextLink).
net::ServerResponse page(const net::ServerRequest& req, const std::vector<std::string>& items, size_t page_size,
                         const std::function<std::string(size_t)>& link) {
  size_t skip = 0;
  for (const char* k : {"$skip", "$skipToken"})
    if (auto s = req.param(k)) skip = static_cast<size_t>(std::max<int64_t>(0, str::parse_int(*s).value_or(0)));
  size_t total = items.size();
  if (auto t = req.param("$top")) {
    auto n = str::parse_int(*t);
    if (!n || *n < 0) throw ArmError(400, "UserError", "$top must be a non-negative integer.", "RequestInvalid");
    total = std::min(total, static_cast<size_t>(*n));
  }
  size_t end = std::min(total, skip + page_size);
  std::string out = "{\"value\":[";
  for (size_t i = skip; i < end; ++i) out += (i > skip ? "," : "") + items[i];
  out += "]";
  if (end < total) {
    json::Document d;
    json::Builder b(d.GetAllocator());
    out += ",\"nextLink\":" + json::dump(b.str(link(end)));
  }
  return net::ServerResponse::json(200, out + "}");
}

}  // namespace

net::ServerResponse Endpoints::endpoint_list(const net::ServerRequest& req, const std::string& ws) {
  std::vector<std::string> items;
  for (auto& r : app_.store().query("SELECT name FROM online_endpoints WHERE ws=? ORDER BY created", {ws}))
    items.push_back(render_endpoint(ws, r.str(0)));
  return page(req, items, static_cast<size_t>(app_.config().page_size),
              [&](size_t n) { return app_.page_link(req, n); });
}

net::ServerResponse Endpoints::endpoint_put(const net::ServerRequest& req, const std::string& ws,
                                            const std::string& name) {
  check_name("endpoint", name);
  auto body = parse_body(req);
  const auto* props = json::find(body, "/properties");
  if (!props || !props->IsObject())
    throw ArmError(400, "UserError", "The request body must have a 'properties' object.", "RequestInvalid");
  auto auth = json::opt_string(body, "/properties/authMode");
  if (!auth)
    throw ArmError(400, "UserError", "properties.authMode is required (Key, AMLToken or AADToken).", "RequestInvalid");
  std::string mode;
  for (const char* m : {"Key", "AMLToken", "AADToken"})
    if (str::iequals(*auth, m)) mode = m;
  if (mode.empty())
    throw ArmError(400, "UserError", "properties.authMode '" + *auth + "' is not one of Key, AMLToken, AADToken.",
                   "RequestInvalid");
  auto traffic = percent_map(*props, "traffic");
  auto mirror = percent_map(*props, "mirrorTraffic");
  std::set<std::string> deployments;
  for (auto& r : app_.store().query("SELECT name FROM online_deployments WHERE ws=? AND endpoint=?", {ws, name}))
    deployments.insert(r.str(0));
  int64_t sum = 0;
  for (auto& [d, pct] : traffic) {
    if (!deployments.count(d))
      throw ArmError(400, "UserError",
                     "Traffic is set for deployment '" + d + "', which does not exist in endpoint '" + name + "'.",
                     "InvalidTraffic");
    sum += pct;
  }
  if (sum != 0 && sum != 100)
    throw ArmError(400, "UserError",
                   "The traffic of endpoint '" + name + "' adds up to " + std::to_string(sum) +
                       "%; it must add up to 100% (or 0%).",
                   "InvalidTraffic");
  int mirrored = 0;
  for (auto& [d, pct] : mirror) {
    if (pct == 0) continue;
    ++mirrored;
    if (!deployments.count(d))
      throw ArmError(
          400, "UserError",
          "Mirror traffic is set for deployment '" + d + "', which does not exist in endpoint '" + name + "'.",
          "InvalidTraffic");
    if (pct > 50)
      throw ArmError(
          400, "UserError",
          "Mirror traffic of deployment '" + d + "' is " + std::to_string(pct) + "%; at most 50% can be mirrored.",
          "InvalidTraffic");
    if (traffic.count(d) && traffic[d] > 0)
      throw ArmError(400, "UserError", "Deployment '" + d + "' cannot receive both live and mirrored traffic.",
                     "InvalidTraffic");
  }
  if (mirrored > 1)
    throw ArmError(400, "UserError", "Only one deployment can receive mirrored traffic.", "InvalidTraffic");

  auto& s = app_.store();
  int status = 201;
  std::string op = open_operation("onlineEndpoint:" + ws + "/" + name);
  s.transaction([&] {
    auto existing = s.one("SELECT created FROM online_endpoints WHERE ws=? AND name=?", {ws, name});
    int64_t now = now_ms();
    int64_t created = existing ? existing->i64(0) : now;
    if (existing) status = 200;
    json::Document d(rapidjson::kObjectType);
    json::Builder b(d.GetAllocator());
    b.set(d, "id", app_.workspace_id(ws) + "/onlineEndpoints/" + name);
    b.set(d, "name", name);
    b.set(d, "type", kEndpointType);
    b.set(d, "location", json::opt_string(body, "/location").value_or(app_.config().location));
    if (auto k = json::opt_string(body, "/kind")) b.set(d, "kind", *k);
    const auto* tags = json::find(body, "/tags");
    b.set(d, "tags", tags && tags->IsObject() ? b.copy(*tags) : b.obj());
    b.set(d, "identity", identity(b, body, "endpoint-principal:" + ws + "/" + name));
    if (const auto* sku = json::find(body, "/sku"); sku && sku->IsObject()) b.set(d, "sku", b.copy(*sku));
    json::Value p = b.copy(*props);
    b.set(p, "authMode", mode);
    json::Value tv = b.obj();
    for (auto& [k, v] : traffic) b.set(tv, k, v);
    b.set(p, "traffic", std::move(tv));
    json::Value mv = b.obj();
    for (auto& [k, v] : mirror) b.set(mv, k, v);
    b.set(p, "mirrorTraffic", std::move(mv));
    if (!p.HasMember("description")) b.set(p, "description", "");
    if (!p.HasMember("properties")) b.set(p, "properties", b.obj());
    if (!p.HasMember("publicNetworkAccess")) b.set(p, "publicNetworkAccess", "Enabled");
    b.set(d, "properties", std::move(p));
    b.set(d, "systemData", system_data(b, created, now));
    std::string text = json::dump(d);
    if (existing)
      s.exec("UPDATE online_endpoints SET body=?, op=?, pending='Updating', modified=? WHERE ws=? AND name=?",
             {text, op, now, ws, name});
    else
      s.exec(
          "INSERT INTO online_endpoints(ws, name, body, primary_key, secondary_key, op, pending, created, modified) "
          "VALUES(?, ?, ?, ?, ?, ?, 'Creating', ?, ?)",
          {ws, name, text, str::random_hex(16), str::random_hex(16), op, now, now});
  });
  finish_operation(op, "Succeeded");
  return accepted(status, op, render_endpoint(ws, name), true);
}

net::ServerResponse Endpoints::endpoint_patch(const net::ServerRequest& req, const std::string& ws,
                                              const std::string& name) {
  auto body = parse_body(req);
  auto& s = app_.store();
  std::string op = open_operation("onlineEndpoint:" + ws + "/" + name);
  s.transaction([&] {
    auto row = s.one("SELECT body FROM online_endpoints WHERE ws=? AND name=?", {ws, name});
    if (!row)
      throw ArmError(404, "UserError", "Could not find online endpoint '" + name + "' in workspace '" + ws + "'.",
                     "EndpointNotFound");
    auto d = json::parse(row->str(0));
    json::Builder b(d.GetAllocator());
    // PATCH carries tags, identity, kind and sku only: traffic changes need a PUT (as in Azure).
    for (const char* f : {"tags", "identity", "sku"})
      if (const auto* v = json::find(body, std::string("/") + f); v && v->IsObject()) b.set(d, f, b.copy(*v));
    if (auto k = json::opt_string(body, "/kind")) b.set(d, "kind", *k);
    s.exec("UPDATE online_endpoints SET body=?, op=?, pending='Updating', modified=? WHERE ws=? AND name=?",
           {json::dump(d), op, now_ms(), ws, name});
  });
  finish_operation(op, "Succeeded");
  return accepted(202, op, "", false);
}

net::ServerResponse Endpoints::endpoint_delete(const std::string& ws, const std::string& name) {
  auto& s = app_.store();
  if (!s.one("SELECT 1 FROM online_endpoints WHERE ws=? AND name=?", {ws, name})) {
    net::ServerResponse r;
    r.status = 204;
    return r;
  }
  std::string op = open_operation("onlineEndpoint:" + ws + "/" + name);
  for (auto& r : s.query("SELECT name FROM online_deployments WHERE ws=? AND endpoint=?", {ws, name}))
    stop_deployment(ws + "/" + name + "/" + r.str(0));
  s.transaction([&] {
    s.exec("DELETE FROM online_deployments WHERE ws=? AND endpoint=?", {ws, name});
    s.exec("DELETE FROM online_endpoints WHERE ws=? AND name=?", {ws, name});
  });
  finish_operation(op, "Succeeded");
  return accepted(202, op, "", true);
}

net::ServerResponse Endpoints::endpoint_keys(const std::string& ws, const std::string& name) {
  auto row = app_.store().one("SELECT primary_key, secondary_key, body FROM online_endpoints WHERE ws=? AND name=?",
                              {ws, name});
  if (!row)
    throw ArmError(404, "UserError", "Could not find online endpoint '" + name + "' in workspace '" + ws + "'.",
                   "EndpointNotFound");
  if (json::opt_string(json::parse(row->str(2)), "/properties/authMode").value_or("") != "Key")
    throw ArmError(400, "UserError", "Keys are only available for endpoints with authMode Key.", "BadArgument");
  json::Document d(rapidjson::kObjectType);
  json::Builder b(d.GetAllocator());
  b.set(d, "primaryKey", row->str(0));
  b.set(d, "secondaryKey", row->str(1));
  return json_response(200, d);
}

net::ServerResponse Endpoints::endpoint_regenerate(const net::ServerRequest& req, const std::string& ws,
                                                   const std::string& name) {
  require_endpoint(ws, name);
  auto body = parse_body(req);
  auto type = json::opt_string(body, "/keyType");
  const char* column = nullptr;
  if (type && str::iequals(*type, "Primary")) column = "primary_key";
  if (type && str::iequals(*type, "Secondary")) column = "secondary_key";
  if (!column) throw ArmError(400, "UserError", "keyType must be Primary or Secondary.", "RequestInvalid");
  std::string value = json::opt_string(body, "/keyValue").value_or(str::random_hex(16));
  if (value.empty()) throw ArmError(400, "UserError", "keyValue must not be empty.", "RequestInvalid");
  std::string op = open_operation("onlineEndpoint:" + ws + "/" + name);
  app_.store().exec(std::string("UPDATE online_endpoints SET ") + column + "=? WHERE ws=? AND name=?",
                    {value, ws, name});
  finish_operation(op, "Succeeded");
  return accepted(202, op, "", true);
}

net::ServerResponse Endpoints::endpoint_token(const std::string& ws, const std::string& name) {
  auto row = app_.store().one("SELECT body FROM online_endpoints WHERE ws=? AND name=?", {ws, name});
  if (!row)
    throw ArmError(404, "UserError", "Could not find online endpoint '" + name + "' in workspace '" + ws + "'.",
                   "EndpointNotFound");
  if (json::opt_string(json::parse(row->str(0)), "/properties/authMode").value_or("") != "AMLToken")
    throw ArmError(400, "UserError", "Tokens are only available for endpoints with authMode AMLToken.", "BadArgument");
  Duration life = app_.config().token_lifetime;
  int64_t now = unix_seconds(std::chrono::system_clock::now());
  int64_t secs = std::chrono::duration_cast<std::chrono::seconds>(life).count();
  json::Document d(rapidjson::kObjectType);
  json::Builder b(d.GetAllocator());
  b.set(d, "accessToken",
        app_.issue_token("endpoint:" + ws + "/" + name, life, "amlops-local:endpoint:" + ws + "/" + name));
  b.set(d, "tokenType", "Bearer");
  b.set(d, "expiryTimeUtc", now + secs);
  b.set(d, "refreshAfterTimeUtc", now + secs / 2);
  return json_response(200, d);
}

// ---------------------------------------------------------------------------------------------
// Deployments (ARM)

std::string Endpoints::render_deployment(const std::string& ws, const std::string& ep, const std::string& name) {
  auto row = app_.store().one("SELECT body, state FROM online_deployments WHERE ws=? AND endpoint=? AND name=?",
                              {ws, ep, name});
  if (!row)
    throw ArmError(404, "UserError", "Could not find deployment '" + name + "' in online endpoint '" + ep + "'.",
                   "DeploymentNotFound");
  auto d = json::parse(row->str(0));
  json::Builder b(d.GetAllocator());
  b.set(d["properties"], "provisioningState", row->str(1));
  return json::dump(d);
}

net::ServerResponse Endpoints::deployment_get(const std::string& ws, const std::string& ep, const std::string& name) {
  require_endpoint(ws, ep);
  return net::ServerResponse::json(200, render_deployment(ws, ep, name));
}

net::ServerResponse Endpoints::deployment_list(const net::ServerRequest& req, const std::string& ws,
                                               const std::string& ep) {
  require_endpoint(ws, ep);
  std::vector<std::string> items;
  for (auto& r :
       app_.store().query("SELECT name FROM online_deployments WHERE ws=? AND endpoint=? ORDER BY created", {ws, ep}))
    items.push_back(render_deployment(ws, ep, r.str(0)));
  return page(req, items, static_cast<size_t>(app_.config().page_size),
              [&](size_t n) { return app_.page_link(req, n); });
}

net::ServerResponse Endpoints::deployment_put(const net::ServerRequest& req, const std::string& ws,
                                              const std::string& ep, const std::string& name) {
  check_name("deployment", name);
  require_endpoint(ws, ep);
  auto body = parse_body(req);
  const auto* props = json::find(body, "/properties");
  if (!props || !props->IsObject())
    throw ArmError(400, "UserError", "The request body must have a 'properties' object.", "RequestInvalid");
  auto type = json::opt_string(body, "/properties/endpointComputeType");
  if (!type)
    throw ArmError(400, "UserError", "properties.endpointComputeType is required (Managed).", "RequestInvalid");
  if (!json::opt_string(body, "/properties/model"))
    throw ArmError(400, "UserError", "properties.model is required.", "RequestInvalid");
  if (!json::opt_string(body, "/properties/codeConfiguration/codeId") ||
      !json::opt_string(body, "/properties/codeConfiguration/scoringScript"))
    throw ArmError(400, "UserError",
                   "amlops-local needs properties.codeConfiguration (codeId and scoringScript): deployments "
                   "without a scoring script (MLflow no-code) are not supported.",
                   "RequestInvalid");
  auto cap = json::opt_int(body, "/sku/capacity").value_or(1);
  if (cap < 1 || cap > 20)
    throw ArmError(400, "UserError", "sku.capacity (instance count) must be between 1 and 20.", "RequestInvalid");

  auto& s = app_.store();
  int status = 201;
  bool unchanged = false;  // the same model, code, settings and sku as the running deployment
  std::string op = open_operation("onlineDeployment:" + ws + "/" + ep + "/" + name);
  s.transaction([&] {
    auto existing =
        s.one("SELECT created FROM online_deployments WHERE ws=? AND endpoint=? AND name=?", {ws, ep, name});
    int64_t now = now_ms();
    int64_t created = existing ? existing->i64(0) : now;
    if (existing) status = 200;
    json::Document d(rapidjson::kObjectType);
    json::Builder b(d.GetAllocator());
    b.set(d, "id", app_.workspace_id(ws) + "/onlineEndpoints/" + ep + "/deployments/" + name);
    b.set(d, "name", name);
    b.set(d, "type", kDeploymentType);
    b.set(d, "location", json::opt_string(body, "/location").value_or(app_.config().location));
    if (auto k = json::opt_string(body, "/kind")) b.set(d, "kind", *k);
    const auto* tags = json::find(body, "/tags");
    b.set(d, "tags", tags && tags->IsObject() ? b.copy(*tags) : b.obj());
    const auto* sent = json::find(body, "/sku");
    json::Value sku = sent && sent->IsObject() ? b.copy(*sent) : b.obj();
    if (!sku.HasMember("name")) b.set(sku, "name", "Default");
    b.set(sku, "capacity", cap);
    b.set(d, "sku", std::move(sku));
    b.set(d, "identity", identity(b, body, "deployment-principal:" + ws + "/" + ep + "/" + name));
    json::Value p = b.copy(*props);
    if (!p.HasMember("description")) b.set(p, "description", "");
    if (!p.HasMember("properties")) b.set(p, "properties", b.obj());
    if (!p.HasMember("environmentVariables")) b.set(p, "environmentVariables", b.obj());
    if (!p.HasMember("appInsightsEnabled")) b.set(p, "appInsightsEnabled", false);
    if (!p.HasMember("scaleSettings")) {
      json::Value ss = b.obj();
      b.set(ss, "scaleType", "Default");
      b.set(p, "scaleSettings", std::move(ss));
    }
    json::Value rs =
        p.HasMember("requestSettings") && p["requestSettings"].IsObject() ? b.copy(p["requestSettings"]) : b.obj();
    if (!rs.HasMember("requestTimeout")) b.set(rs, "requestTimeout", "PT5S");
    if (!rs.HasMember("maxConcurrentRequestsPerInstance")) b.set(rs, "maxConcurrentRequestsPerInstance", 1);
    b.set(p, "requestSettings", std::move(rs));
    for (const char* probe : {"livenessProbe", "readinessProbe"}) {
      json::Value pr = p.HasMember(probe) && p[probe].IsObject() ? b.copy(p[probe]) : b.obj();
      if (!pr.HasMember("initialDelay")) b.set(pr, "initialDelay", "PT10S");
      if (!pr.HasMember("period")) b.set(pr, "period", "PT10S");
      if (!pr.HasMember("timeout")) b.set(pr, "timeout", "PT2S");
      if (!pr.HasMember("successThreshold")) b.set(pr, "successThreshold", 1);
      if (!pr.HasMember("failureThreshold")) b.set(pr, "failureThreshold", 30);
      b.set(p, probe, std::move(pr));
    }
    b.set(d, "properties", std::move(p));
    b.set(d, "systemData", system_data(b, created, now));
    std::string text = json::dump(d);
    std::string state = existing ? "Updating" : "Creating";
    if (existing) {
      auto old =
          s.one("SELECT body, state FROM online_deployments WHERE ws=? AND endpoint=? AND name=?", {ws, ep, name});
      auto before = json::parse(old->str(0));
      unchanged = old->str(1) == "Succeeded" && deployment(ws + "/" + ep + "/" + name) &&
                  json::dump(before["properties"]) == json::dump(d["properties"]) &&
                  json::dump(before["sku"]) == json::dump(d["sku"]);
      if (unchanged) state = "Succeeded";  // re-applying a deployment does not restart it
    }
    if (existing)
      s.exec("UPDATE online_deployments SET body=?, state=?, modified=? WHERE ws=? AND endpoint=? AND name=?",
             {text, state, now, ws, ep, name});
    else
      s.exec(
          "INSERT INTO online_deployments(ws, endpoint, name, body, state, created, modified) VALUES(?, ?, ?, ?, ?, ?, "
          "?)",
          {ws, ep, name, text, state, now, now});
  });
  std::string out = render_deployment(ws, ep, name);  // Creating/Updating, before provisioning moves on
  if (unchanged)
    finish_operation(op, "Succeeded");
  else
    provision(ws, ep, name, op);
  return accepted(status, op, out, true);
}

net::ServerResponse Endpoints::deployment_patch(const net::ServerRequest& req, const std::string& ws,
                                                const std::string& ep, const std::string& name) {
  require_endpoint(ws, ep);
  auto body = parse_body(req);
  auto& s = app_.store();
  bool reprovision = false;
  std::string op = open_operation("onlineDeployment:" + ws + "/" + ep + "/" + name);
  s.transaction([&] {
    auto row = s.one("SELECT body FROM online_deployments WHERE ws=? AND endpoint=? AND name=?", {ws, ep, name});
    if (!row)
      throw ArmError(404, "UserError", "Could not find deployment '" + name + "' in online endpoint '" + ep + "'.",
                     "DeploymentNotFound");
    auto d = json::parse(row->str(0));
    json::Builder b(d.GetAllocator());
    if (const auto* v = json::find(body, "/tags"); v && v->IsObject()) b.set(d, "tags", b.copy(*v));
    if (auto cap = json::opt_int(body, "/sku/capacity")) {
      if (*cap < 1 || *cap > 20)
        throw ArmError(400, "UserError", "sku.capacity (instance count) must be between 1 and 20.", "RequestInvalid");
      b.set(d["sku"], "capacity", *cap);
      reprovision = true;
    }
    if (const auto* p = json::find(body, "/properties"); p && p->IsObject())
      for (auto& m : p->GetObject()) {
        b.set(d["properties"], m.name.GetString(), b.copy(m.value));
        reprovision = true;
      }
    s.exec("UPDATE online_deployments SET body=?, modified=? WHERE ws=? AND endpoint=? AND name=?",
           {json::dump(d), now_ms(), ws, ep, name});
    if (reprovision)
      s.exec("UPDATE online_deployments SET state='Updating' WHERE ws=? AND endpoint=? AND name=?", {ws, ep, name});
  });
  if (reprovision)
    provision(ws, ep, name, op);
  else
    finish_operation(op, "Succeeded");
  return accepted(202, op, "", false);
}

net::ServerResponse Endpoints::deployment_delete(const std::string& ws, const std::string& ep,
                                                 const std::string& name) {
  require_endpoint(ws, ep);
  auto& s = app_.store();
  if (!s.one("SELECT 1 FROM online_deployments WHERE ws=? AND endpoint=? AND name=?", {ws, ep, name})) {
    net::ServerResponse r;
    r.status = 204;
    return r;
  }
  auto eb = json::parse(s.one("SELECT body FROM online_endpoints WHERE ws=? AND name=?", {ws, ep})->str(0));
  for (const char* k : {"traffic", "mirrorTraffic"}) {
    auto t = percent_map(eb["properties"], k);
    if (t.count(name) && t[name] > 0)
      throw ArmError(400, "UserError",
                     "Deployment '" + name + "' has " + std::to_string(t[name]) + "% " +
                         (std::string(k) == "traffic" ? "traffic" : "mirror traffic") +
                         "; set it to 0% before deleting the deployment.",
                     "DeploymentHasTraffic");
  }
  std::string op = open_operation("onlineDeployment:" + ws + "/" + ep + "/" + name);
  s.exec("UPDATE online_deployments SET state='Deleting' WHERE ws=? AND endpoint=? AND name=?", {ws, ep, name});
  stop_deployment(ws + "/" + ep + "/" + name);
  s.exec("DELETE FROM online_deployments WHERE ws=? AND endpoint=? AND name=?", {ws, ep, name});
  {
    // Traffic entries at 0 % for it are dropped.
    json::Builder b(eb.GetAllocator());
    for (const char* k : {"traffic", "mirrorTraffic"})
      if (eb["properties"].HasMember(k) && eb["properties"][k].IsObject())
        eb["properties"][k].RemoveMember(name.c_str());
    s.exec("UPDATE online_endpoints SET body=? WHERE ws=? AND name=?", {json::dump(eb), ws, ep});
  }
  finish_operation(op, "Succeeded");
  return accepted(202, op, "", true);
}

net::ServerResponse Endpoints::deployment_logs(const net::ServerRequest& req, const std::string& ws,
                                               const std::string& ep, const std::string& name) {
  require_endpoint(ws, ep);
  render_deployment(ws, ep, name);  // 404 when absent
  std::string container = "InferenceServer";
  int64_t tail = 0;
  if (!str::trim(req.body).empty()) {
    auto body = parse_body(req);
    container = json::opt_string(body, "/containerType").value_or(container);
    tail = json::opt_int(body, "/tail").value_or(0);
  }
  fs::path dir = app_.config().data_dir / "endpoints" / ws / ep / name / "logs";
  fs::path file;
  if (str::iequals(container, "InferenceServer"))
    file = dir / "instance-0.log";
  else if (str::iequals(container, "StorageInitializer"))
    file = dir / "storage-initializer.log";
  else if (str::iequals(container, "ModelDataCollector"))
    file = dir / "model-data-collector.log";
  else
    throw ArmError(400, "UserError",
                   "containerType '" + container + "' is not one of InferenceServer, StorageInitializer.",
                   "RequestInvalid");
  json::Document d(rapidjson::kObjectType);
  json::Builder b(d.GetAllocator());
  b.set(d, "content", tail_lines(file, tail));
  return json_response(200, d);
}

net::ServerResponse Endpoints::deployment_skus(const net::ServerRequest& req, const std::string& ws,
                                               const std::string& ep, const std::string& name) {
  require_endpoint(ws, ep);
  render_deployment(ws, ep, name);
  std::string item =
      R"({"resourceType":"Microsoft.MachineLearningServices/workspaces/onlineEndpoints/deployments",)"
      R"("sku":{"name":"Default","tier":"Standard"},"capacity":{"minimum":1,"maximum":20,"default":1,"scaleType":"Manual"}})";
  return page(req, {item}, static_cast<size_t>(app_.config().page_size),
              [&](size_t n) { return app_.page_link(req, n); });
}

// ---------------------------------------------------------------------------------------------
// Instances

std::shared_ptr<Deployment> Endpoints::deployment(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = deployments_.find(key);
  return it == deployments_.end() ? nullptr : it->second;
}

namespace {

void kill_instances(Deployment& d) {
  for (auto& i : d.inst) {
    if (i->child.pid() > 0 && !i->child.poll()) {
      ::kill(-i->child.pid(), SIGKILL);
      i->child.wait();
    }
    i->running = false;
    i->port = 0;
  }
}

// Starts (or restarts) an instance: the host writes its port to port_file once init() is done.
void start_instance(const DeploySettings& d, Instance& i) {
  std::error_code ec;
  fs::remove(i.port_file, ec);
  i.port = 0;
  auto argv = d.argv;
  argv.back() = i.port_file.string();
  auto so = d.spawn;
  so.stdout_file = i.log;
  i.child = process::spawn(argv, so);
  i.running = true;
  i.probe_failures = 0;
}

void log_line(const fs::path& file, const std::string& line) {
  fs::create_directories(file.parent_path());
  files::append(file, iso8601_utc(std::chrono::system_clock::now()) + " " + line + "\n");
}

}  // namespace

void Endpoints::stop_deployment(const std::string& key) {
  std::shared_ptr<Deployment> d;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = deployments_.find(key);
    if (it == deployments_.end()) return;
    d = it->second;
    deployments_.erase(it);
  }
  std::thread old;
  {
    std::lock_guard<std::mutex> lock(d->mu);
    ++d->generation;
    old = std::move(d->provisioner);
  }
  if (old.joinable()) old.join();
  std::lock_guard<std::mutex> lock(d->mu);
  kill_instances(*d);
  d->state = "Deleted";
}

void Endpoints::set_state(const std::string& ws, const std::string& ep, const std::string& name,
                          const std::string& state) {
  app_.store().exec("UPDATE online_deployments SET state=? WHERE ws=? AND endpoint=? AND name=?",
                    {state, ws, ep, name});
}

void Endpoints::provision(const std::string& ws, const std::string& ep, const std::string& name,
                          const std::string& op) {
  if (!app_.config().run_jobs) return;  // router tests: deployments stay Creating, nothing runs
  std::string key = ws + "/" + ep + "/" + name;
  std::shared_ptr<Deployment> d;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto& slot = deployments_[key];
    if (!slot) {
      slot = std::make_shared<Deployment>();
      slot->ws = ws;
      slot->ep = ep;
      slot->name = name;
      slot->key = key;
      slot->dir = app_.config().data_dir / "endpoints" / ws / ep / name;
    }
    d = slot;
  }
  std::thread old;
  uint64_t gen;
  {
    std::lock_guard<std::mutex> lock(d->mu);
    gen = ++d->generation;
    old = std::move(d->provisioner);
    // A PUT or PATCH during provisioning supersedes it: its operation ends Canceled.
    if (!d->op.empty()) finish_operation(d->op, "Canceled", "superseded by a later update of the deployment");
    d->op = op;
  }
  if (old.joinable()) old.join();
  std::lock_guard<std::mutex> lock(d->mu);
  d->provisioner = std::thread([this, d, op, gen] { provision_thread(d, op, gen); });
}

void Endpoints::provision_thread(std::shared_ptr<Deployment> d, std::string op, uint64_t generation) {
  auto current = [&] {
    std::lock_guard<std::mutex> lock(d->mu);
    return d->generation == generation && !stopping_;
  };
  fs::path logs = d->dir / "logs";
  fs::path init_log = logs / "storage-initializer.log";
  // This provisioning's files (model, code, host, port files): the running instances keep theirs
  // until the new ones are ready (a rolling update).
  fs::path gen_dir = d->dir / ("g" + std::to_string(generation));
  std::vector<std::shared_ptr<Instance>>
      fresh;  // killed when the last holder lets go (an old instance drains its requests)
  DeploySettings next;
  auto fail = [&](const std::string& message) {
    log_line(init_log, "failed: " + message);
    {
      std::lock_guard<std::mutex> lock(d->mu);
      if (d->generation != generation) return;
      kill_instances(*d);
      d->state = "Failed";
    }
    set_state(d->ws, d->ep, d->name, "Failed");
    finish_operation(op, "Failed", message);
  };
  try {
    auto row = app_.store().one("SELECT body FROM online_deployments WHERE ws=? AND endpoint=? AND name=?",
                                {d->ws, d->ep, d->name});
    if (!row) return;
    auto body = json::parse(row->str(0));
    const json::Value& props = body["properties"];
    {
      std::lock_guard<std::mutex> lock(d->mu);
      bool serving = std::any_of(d->inst.begin(), d->inst.end(), [](auto& i) { return i->port > 0; });
      d->state = serving ? "Updating" : "Creating";
    }
    std::error_code gone;
    fs::remove_all(gen_dir, gone);
    fs::create_directories(gen_dir);
    fs::create_directories(logs);
    log_line(init_log, "provisioning deployment " + d->name + " of endpoint " + d->ep);

    // The model, materialised as azureml-models/{name}/{version}.
    std::string model = json::opt_string(props, "/model").value_or("");
    auto mref = parse_asset_ref(d->ws, "models", model);
    auto masset = mref ? load_asset(app_.store(), "models", *mref) : std::nullopt;
    if (!masset) return fail("model '" + model + "' was not found");
    auto muri = json::opt_string(*masset, "/properties/modelUri");
    if (!muri) return fail("model '" + model + "' has no modelUri");
    auto mres = app_.resolve_uri(d->ws, *muri);
    if (!mres.loc) return fail("model '" + model + "': " + mres.error);
    fs::path msrc = app_.blob_path(*mres.loc);
    std::string mversion = mref->version.empty() ? json::opt_string(*masset, "/name").value_or("1") : mref->version;
    fs::path model_dir = gen_dir / "azureml-models" / mref->name / mversion;
    std::error_code ec;
    fs::remove_all(model_dir, ec);
    fs::create_directories(model_dir);
    if (fs::is_directory(msrc))
      fs::copy(msrc, model_dir / msrc.filename(), fs::copy_options::recursive, ec);
    else if (fs::exists(msrc))
      fs::copy_file(msrc, model_dir / msrc.filename(), ec);
    else
      return fail("model '" + model + "' has no files at " + *muri);
    if (ec) return fail("cannot copy the model: " + ec.message());
    log_line(init_log, "model " + mref->name + ":" + mversion + " -> " + model_dir.string());

    // The code.
    std::string code_id = json::opt_string(props, "/codeConfiguration/codeId").value_or("");
    std::string script = json::opt_string(props, "/codeConfiguration/scoringScript").value_or("");
    auto cref = parse_asset_ref(d->ws, "codes", code_id);
    auto casset = cref ? load_asset(app_.store(), "codes", *cref) : std::nullopt;
    if (!casset) return fail("code '" + code_id + "' was not found");
    auto curi = json::opt_string(*casset, "/properties/codeUri");
    if (!curi) return fail("code '" + code_id + "' has no codeUri");
    fs::path code_dir = gen_dir / "code";
    fs::remove_all(code_dir, ec);
    fs::create_directories(code_dir);
    const auto& ext = app_.config().storage;
    if (ext && curi->rfind(ext->endpoint + "/", 0) == 0) {
      // Code uploaded to the external storage account (config.yml `storage:`): downloaded.
      std::string rest = curi->substr(ext->endpoint.size() + 1);
      auto slash = rest.find('/');
      if (slash == std::string::npos ||
          fetch_external_folder(*ext, rest.substr(0, slash), rest.substr(slash + 1), code_dir) == 0)
        return fail("the code " + *curi + " has no uploaded files");
    } else {
      auto cres = app_.resolve_uri(d->ws, *curi);
      if (!cres.loc) return fail("code '" + code_id + "': " + cres.error);
      fs::path csrc = app_.blob_path(*cres.loc);
      if (fs::is_directory(csrc))
        fs::copy(csrc, code_dir, fs::copy_options::recursive | fs::copy_options::overwrite_existing, ec);
      else if (fs::exists(csrc))
        fs::copy_file(csrc, code_dir / csrc.filename(), ec);
      if (ec) return fail("cannot copy the code: " + ec.message());
    }
    fs::path entry = code_dir / script;
    if (!files::is_safe_relative(script) || !fs::is_regular_file(entry))
      return fail("the scoring script '" + script + "' is not in code '" + code_id + "'");
    files::write_atomic(gen_dir / "host.py", std::string(inference_host_script()));

    // Environment: as for jobs (PATH with the python shims), plus the inference server's variables.
    std::map<std::string, std::string> env;
    for (const char* k : {"PATH", "HOME", "USER", "LANG", "LC_ALL", "TZ", "TMPDIR", "LOGNAME"})
      if (auto v = process_env().get(k)) env[k] = *v;
    if (!env.count("PATH")) env["PATH"] = "/usr/local/bin:/usr/bin:/bin";
    std::string env_id = json::opt_string(props, "/environmentId").value_or("");
    auto eref = env_id.empty() ? std::nullopt : parse_asset_ref(d->ws, "environments", env_id);
    const auto& envs = app_.config().environments;
    auto mit = envs.find(eref ? eref->name : env_id);
    if (mit == envs.end()) mit = envs.find("*");
    env["PATH"] = job_path(d->dir / "bin", mit != envs.end() ? &mit->second : nullptr, env["PATH"]);
    if (props.HasMember("environmentVariables") && props["environmentVariables"].IsObject())
      for (auto& e : props["environmentVariables"].GetObject()) env[e.name.GetString()] = json::scalar_text(e.value);
    env["AZUREML_MODEL_DIR"] = model_dir.string();
    env["AML_APP_ROOT"] = code_dir.string();
    env["AZUREML_ENTRY_SCRIPT"] = entry.string();
    env["AZUREML_SOURCE_DIRECTORY"] = code_dir.string();
    env["SERVICE_NAME"] = d->ep;
    env["WORKSPACE_NAME"] = d->ws;
    env["PYTHONUNBUFFERED"] = "1";
    auto python = process::which("python3", env["PATH"]);
    if (!python) return fail("no python3 on the deployment's PATH");

    next.argv = {python->string(), (gen_dir / "host.py").string(), "--entry", entry.string(), "--port-file", ""};
    next.spawn = process::SpawnOptions{};
    next.spawn.cwd = code_dir;
    next.spawn.env = env;
    next.spawn.merge_stderr = true;
    next.spawn.new_process_group = true;
    next.timeout_ms = 5000;
    if (auto t = json::opt_string(props, "/requestSettings/requestTimeout")) try {
        next.timeout_ms =
            static_cast<long>(std::chrono::duration_cast<std::chrono::milliseconds>(parse_duration(*t)).count());
      } catch (const std::exception&) {
      }
    next.max_concurrent = static_cast<int>(
        std::max<int64_t>(1, json::opt_int(props, "/requestSettings/maxConcurrentRequestsPerInstance").value_or(1)));
    next.liveness_period = probe_seconds(props, "livenessProbe", "period", std::chrono::seconds(10));
    next.liveness_timeout = probe_seconds(props, "livenessProbe", "timeout", std::chrono::seconds(2));
    next.liveness_failures = std::max<int64_t>(1, json::opt_int(props, "/livenessProbe/failureThreshold").value_or(30));
    next.collections.clear();
    if (const auto* cols = json::find(props, "/dataCollector/collections"); cols && cols->IsObject())
      for (auto& c : cols->GetObject()) {
        auto mode = json::opt_string(c.value, "/dataCollectionMode").value_or("Enabled");
        if (!str::iequals(mode, "Enabled")) continue;
        next.collections[c.name.GetString()] = json::opt_number(c.value, "/samplingRate").value_or(1.0);
      }
    next.source = app_.workspace_id(d->ws) + "/onlineEndpoints/" + d->ep + "/deployments/" + d->name;
    int64_t cap = json::opt_int(body, "/sku/capacity").value_or(1);
    for (int64_t n = 0; n < cap; ++n) {
      auto i = std::make_shared<Instance>();
      i->id = d->name + "-" + guid_from(d->key + "/" + std::to_string(n)).substr(0, 8) + "-" + std::to_string(n);
      i->log = logs / ("instance-" + std::to_string(n) + ".log");
      i->port_file = gen_dir / ("instance-" + std::to_string(n) + ".port");
      std::error_code rm;
      fs::remove(i->log, rm);
      fresh.push_back(std::move(i));
    }
  } catch (const std::exception& e) {
    return fail(e.what());
  }

  // Start every instance and wait for each to be ready (init() done) or to exit (init() failed).
  {
    std::lock_guard<std::mutex> lock(d->mu);
    if (d->generation != generation) return;
    try {
      for (auto& i : fresh) start_instance(next, *i);
    } catch (const std::exception& e) {
      fresh.clear();
      kill_instances(*d);
      d->state = "Failed";
      set_state(d->ws, d->ep, d->name, "Failed");
      finish_operation(op, "Failed", std::string("cannot start the inference host: ") + e.what());
      return;
    }
  }
  auto deadline = steady::now() + std::chrono::minutes(5);
  while (current()) {
    bool all_ready = true;
    std::string failed;
    {
      for (size_t n = 0; n < fresh.size(); ++n) {
        auto& i = *fresh[n];
        if (i.port > 0) continue;
        if (auto code = i.child.poll()) {
          i.running = false;
          failed = "instance " + std::to_string(n) + " exited with code " + std::to_string(*code) +
                   " before it was ready (init() failed?); see getLogs";
          break;
        }
        std::error_code ec;
        if (fs::exists(i.port_file, ec)) {
          auto p = str::parse_int(str::trim(files::read(i.port_file)));
          if (p && *p > 0) {
            i.port = static_cast<int>(*p);
            continue;
          }
        }
        all_ready = false;
      }
    }
    if (!failed.empty()) return fail(failed);
    if (all_ready) {
      {
        std::lock_guard<std::mutex> lock(d->mu);
        if (d->generation != generation) return;
        std::swap(d->inst, fresh);  // `fresh` now holds the old instances, stopped below
        d->cfg = std::move(next);
        d->state = "Succeeded";
      }
      fresh.clear();
      std::error_code it_ec;
      for (auto& e : fs::directory_iterator(d->dir, it_ec)) {  // files of earlier provisionings
        std::string n = e.path().filename().string();
        std::error_code rm;
        if (n.size() > 1 && n[0] == 'g' && n != gen_dir.filename().string()) fs::remove_all(e.path(), rm);
      }
      set_state(d->ws, d->ep, d->name, "Succeeded");
      log_line(init_log, "deployment " + d->name + " is ready");
      finish_operation(op, "Succeeded");
      return;
    }
    if (steady::now() > deadline) return fail("the instances were not ready within 5 minutes");
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

void Endpoints::start() {
  // Deployments kept in the store start again (a restarted server serves them again).
  for (auto& r : app_.store().query("SELECT ws, endpoint, name FROM online_deployments WHERE state != 'Deleting'")) {
    set_state(r.str(0), r.str(1), r.str(2), "Updating");
    provision(r.str(0), r.str(1), r.str(2), "");
  }
  if (!supervisor_.joinable()) supervisor_ = std::thread([this] { supervise(); });
}

void Endpoints::stop() {
  stopping_ = true;
  wake_cv_.notify_all();
  if (supervisor_.joinable()) supervisor_.join();
  std::vector<std::string> keys;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& [k, v] : deployments_) keys.push_back(k);
  }
  for (auto& k : keys) stop_deployment(k);
}

// Liveness: an instance whose process ended is down (requests routed to it get 502/503); one
// liveness period later it is started again. Mirrored copies of requests are sent from here.
void Endpoints::supervise() {
  while (!stopping_) {
    std::deque<Mirror> work;
    {
      std::unique_lock<std::mutex> lock(wake_mu_);
      wake_cv_.wait_for(lock, std::chrono::milliseconds(100), [this] { return stopping_ || !mirrors_.empty(); });
      work.swap(mirrors_);
    }
    if (stopping_) return;
    for (auto& m : work) {
      int port = 0;
      long timeout = 5000;
      {
        std::lock_guard<std::mutex> lock(m.d->mu);
        if ((m.d->state == "Succeeded" || m.d->state == "Updating") && !m.d->inst.empty()) {
          auto& i = *m.d->inst[m.d->rr++ % m.d->inst.size()];
          port = i.port;
        }
        timeout = m.d->cfg.timeout_ms;
      }
      auto t0 = steady::now();
      int status = 503;
      if (port > 0) {
        auto r = call_host(port, "POST", "/score", m.body, m.headers, timeout);
        status = r.failure == HostReply::Failure::timeout   ? 408
                 : r.failure == HostReply::Failure::refused ? 503
                 : r.failure != HostReply::Failure::none    ? 502
                 : r.status == 200                          ? 200
                                                            : 424;
      }
      double ms = std::chrono::duration<double, std::milli>(steady::now() - t0).count();
      record(m.d->ws, m.d->ep, m.d->name, now_ms(), status, ms);
    }
    std::vector<std::shared_ptr<Deployment>> all;
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (auto& [k, v] : deployments_) all.push_back(v);
    }
    auto now = steady::now();
    struct Probe {
      std::shared_ptr<Deployment> d;
      size_t index;
      int port;
      Duration timeout;
    };
    std::vector<Probe> probes;
    for (auto& d : all) {
      std::lock_guard<std::mutex> lock(d->mu);
      if (d->state != "Succeeded") continue;
      for (size_t n = 0; n < d->inst.size(); ++n) {
        auto& i = *d->inst[n];
        if (i.running) {
          if (auto code = i.child.poll()) {
            i.running = false;
            i.port = 0;
            i.down_since = now;
            ::kill(-i.child.pid(), SIGKILL);
            log_line(i.log, "amlops-local: the instance process ended (exit code " + std::to_string(*code) +
                                "); the liveness probe restarts it");
            continue;
          }
          if (i.port == 0) {
            std::error_code ec;
            if (fs::exists(i.port_file, ec)) {
              auto p = str::parse_int(str::trim(files::read(i.port_file)));
              if (p && *p > 0) i.port = static_cast<int>(*p);
            }
          } else if (now >= i.next_probe) {
            i.next_probe = now + d->cfg.liveness_period;
            probes.push_back({d, n, i.port, d->cfg.liveness_timeout});
          }
        } else if (now - i.down_since >= d->cfg.liveness_period) {
          try {
            start_instance(d->cfg, i);
          } catch (const std::exception& e) {
            i.down_since = now;
            log::warn("amlops-local: cannot restart an instance of ", d->key, ": ", e.what());
          }
        }
      }
    }
    // Liveness probes (GET /) outside the locks: failureThreshold failures in a row restart the instance.
    for (auto& p : probes) {
      auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(p.timeout).count();
      auto r = call_host(p.port, "GET", "/", "", {}, static_cast<long>(std::max<int64_t>(100, ms)));
      bool ok = r.failure == HostReply::Failure::none && r.status == 200;
      std::lock_guard<std::mutex> lock(p.d->mu);
      if (p.index >= p.d->inst.size() || p.d->inst[p.index]->port != p.port) continue;  // replaced meanwhile
      auto& i = *p.d->inst[p.index];
      i.probe_failures = ok ? 0 : i.probe_failures + 1;
      if (i.probe_failures < p.d->cfg.liveness_failures) continue;
      log_line(i.log, "amlops-local: the liveness probe failed " + std::to_string(i.probe_failures) +
                          " times in a row; restarting the instance");
      ::kill(-i.child.pid(), SIGKILL);
      i.child.wait();
      i.running = false;
      i.port = 0;
      i.probe_failures = 0;
      i.down_since = steady::now() - p.d->cfg.liveness_period;  // started again at the next pass
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Scoring

void Endpoints::record(const std::string& ws, const std::string& ep, const std::string& dep, int64_t at_ms, int status,
                       double latency_ms) {
  try {
    app_.store().exec(
        "INSERT INTO endpoint_requests(ws, endpoint, deployment, at_ms, status, latency_ms) VALUES(?, ?, ?, ?, ?, ?)",
        {ws, ep, dep, at_ms, static_cast<int64_t>(status), latency_ms});
  } catch (const std::exception& e) {
    log::warn("amlops-local: cannot record a scoring request: ", e.what());
  }
}

void Endpoints::collect(const std::shared_ptr<Deployment>& d, size_t instance, const std::string& request_id,
                        const std::string& request_body, const json::Value* envelope,
                        const std::string& response_body) {
  std::map<std::string, double> cols;
  std::string source, instance_id;
  {
    std::lock_guard<std::mutex> lock(d->mu);
    cols = d->cfg.collections;
    source = d->cfg.source;
    if (instance < d->inst.size()) instance_id = d->inst[instance]->id;
  }
  if (cols.empty()) return;
  auto now = std::chrono::system_clock::now();
  std::string time = iso8601_utc(now);
  std::string hour = time.substr(0, 4) + "/" + time.substr(5, 2) + "/" + time.substr(8, 2) + "/" + time.substr(11, 2);
  std::map<std::string, std::string> lines;  // collection -> JSON lines
  auto add = [&](const std::string& collection, const std::string& type, json::Value& data,
                 const std::string& correlation, const std::string& datatype, json::Builder& b, json::Document& doc) {
    auto it = cols.find(collection);
    if (it == cols.end() || !sampled(correlation, it->second)) return;
    json::Value r = b.obj();
    b.set(r, "specversion", "1.0");
    b.set(r, "id", new_guid());
    b.set(r, "source", source);
    b.set(r, "type", "azureml.inference." + type);
    b.set(r, "datacontenttype", "application/json");
    b.set(r, "time", time);
    b.set(r, "data", std::move(data));
    b.set(r, "correlationid", correlation);
    b.set(r, "xrequestid", request_id);
    b.set(r, "modelversion", "default");
    if (!datatype.empty()) b.set(r, "collectdatatype", datatype);
    b.set(r, "agent", "amlops-local");
    (void)doc;
    lines[collection] += json::dump(r) + "\n";
  };
  json::Document doc(rapidjson::kObjectType);
  json::Builder b(doc.GetAllocator());
  if (envelope && envelope->HasMember("collected") && (*envelope)["collected"].IsArray())
    for (auto& c : (*envelope)["collected"].GetArray()) {
      auto name = json::opt_string(c, "/collection");
      if (!name || !c.HasMember("data")) continue;
      json::Value data = b.copy(c["data"]);
      add(*name, *name, data, json::opt_string(c, "/correlationid").value_or(request_id),
          json::opt_string(c, "/collectdatatype").value_or(""), b, doc);
    }
  // Payload logging: the reserved collections `request` and `response`.
  auto payload = [&](const std::string& text) {
    try {
      auto p = json::parse(text);
      return json::Value(p, b.allocator());
    } catch (const std::exception&) {
      return b.str(text);
    }
  };
  if (cols.count("request")) {
    json::Value data = payload(request_body);
    add("request", "request", data, request_id, "", b, doc);
  }
  if (cols.count("response")) {
    json::Value data = payload(response_body);
    add("response", "response", data, request_id, "", b, doc);
  }
  std::lock_guard<std::mutex> lock(collect_mu_);
  for (auto& [collection, text] : lines) {
    BlobLocation loc{app_.blobstore_container(d->ws), "modelDataCollector/" + d->ep + "/" + d->name + "/" + collection +
                                                          "/" + hour + "/" + instance_id + ".jsonl"};
    try {
      app_.append_blob(loc, text, "application/jsonl");
    } catch (const std::exception& e) {
      log_line(d->dir / "logs" / "model-data-collector.log", "cannot write " + loc.path + ": " + e.what());
    }
  }
}

net::ServerResponse Endpoints::score(const net::ServerRequest& req, const std::string& ws, const std::string& ep) {
  auto t0 = steady::now();
  int64_t at = now_ms();
  std::string rid = new_guid();
  auto finish = [&](net::ServerResponse r, const std::string& dep) {
    r.header("x-ms-request-id", rid);
    r.header("x-request-id", rid);
    if (auto c = req.header("x-ms-client-request-id")) r.header("x-ms-client-request-id", c->substr(0, 40));
    if (!dep.empty()) r.header("azureml-model-deployment", dep);
    double ms = std::chrono::duration<double, std::milli>(steady::now() - t0).count();
    record(ws, ep, dep, at, r.status, ms);
    return r;
  };
  auto row =
      app_.store().one("SELECT body, primary_key, secondary_key FROM online_endpoints WHERE ws=? AND name=?", {ws, ep});
  if (!row) return finish(score_error(404, "Endpoint '" + ep + "' not found."), "");
  auto body = json::parse(row->str(0));
  const auto& props = body["properties"];

  // Authentication: Authorization: Bearer <key | token>.
  std::string mode = json::opt_string(props, "/authMode").value_or("Key");
  std::string cred;
  if (auto a = req.header("authorization"); a && a->size() > 7 && str::iequals(a->substr(0, 7), "bearer "))
    cred = std::string(str::trim(a->substr(7)));
  bool ok = false;
  if (!cred.empty()) {
    if (mode == "Key")
      ok = same_secret(cred, row->str(1)) || same_secret(cred, row->str(2));
    else if (mode == "AMLToken")
      ok = app_.check_token(cred, {"amlops-local:endpoint:" + ws + "/" + ep}).empty();
    else
      ok = app_.check_token(cred, {"https://ml.azure.com"}).empty();
  }
  if (!ok) {
    auto r = score_error(401, cred.empty() ? "Authorization header is missing or not 'Bearer <key or token>'."
                                           : "The key or token is not valid for this endpoint.");
    r.header("WWW-Authenticate", "Bearer");
    return finish(std::move(r), "");
  }

  // Routing.
  auto traffic = percent_map(props, "traffic");
  std::string dep;
  bool direct = false;
  if (auto h = req.header("azureml-model-deployment"); h && !h->empty()) {
    dep = std::string(str::trim(*h));
    direct = true;
    if (!app_.store().one("SELECT 1 FROM online_deployments WHERE ws=? AND endpoint=? AND name=?", {ws, ep, dep}))
      return finish(score_error(404, "Deployment '" + dep + "' was not found in endpoint '" + ep + "'."), "");
  } else {
    int64_t total = 0;
    for (auto& [k, v] : traffic) total += v;
    if (total <= 0)
      return finish(score_error(404, "The endpoint doesn't have any valid deployment with positive weight."), "");
    int64_t draw;
    {
      std::lock_guard<std::mutex> lock(rng_mu_);
      draw = std::uniform_int_distribution<int64_t>(0, total - 1)(rng_);
    }
    for (auto& [k, v] : traffic) {
      if (draw < v) {
        dep = k;
        break;
      }
      draw -= v;
    }
  }
  auto d = deployment(ws + "/" + ep + "/" + dep);
  std::map<std::string, std::string> fwd = {
      {"x-amlops-envelope", "1"}, {"x-request-id", rid}, {"x-ms-request-id", rid}};
  if (auto ct = req.header("content-type")) fwd["Content-Type"] = *ct;
  // Mirror a share of the calls without the deployment header (responses discarded).
  if (!direct) {
    for (auto& [k, v] : percent_map(props, "mirrorTraffic")) {
      if (v <= 0) continue;
      int64_t draw;
      {
        std::lock_guard<std::mutex> lock(rng_mu_);
        draw = std::uniform_int_distribution<int64_t>(0, 99)(rng_);
      }
      if (draw >= v) continue;
      if (auto md = deployment(ws + "/" + ep + "/" + k)) {
        std::lock_guard<std::mutex> lock(wake_mu_);
        if (mirrors_.size() < 1000) {
          auto mh = fwd;
          mh.erase("x-amlops-envelope");
          mirrors_.push_back({md, req.body, mh});
        }
      }
      wake_cv_.notify_all();
    }
  }
  if (!d) return finish(score_error(503, "Deployment '" + dep + "' is not running."), dep);
  int port = 0;
  size_t index = 0;
  std::shared_ptr<Instance> held;  // a rolling update retires this instance only once the request is answered
  long timeout = 5000;
  int limit = 1;
  {
    std::lock_guard<std::mutex> lock(d->mu);
    if ((d->state != "Succeeded" && d->state != "Updating") || d->inst.empty()) {
      auto r = score_error(503, "Deployment '" + dep + "' is not ready (provisioning state " + d->state + ").");
      r.header("ms-azureml-model-error-reason", "model_not_ready");
      return finish(std::move(r), dep);
    }
    index = d->rr++ % d->inst.size();
    held = d->inst[index];
    port = held->port;
    timeout = d->cfg.timeout_ms;
    limit = 2 * d->cfg.max_concurrent * static_cast<int>(d->inst.size());
  }
  if (port <= 0) {
    auto r = score_error(503, "The instance of deployment '" + dep + "' that got this request is down (restarting).");
    r.header("Retry-After", "1");
    return finish(std::move(r), dep);
  }
  if (++d->in_flight > limit) {
    --d->in_flight;
    auto r =
        score_error(429, "Too many pending requests: deployment '" + dep + "' already has " + std::to_string(limit) +
                             " in flight (2 x max_concurrent_requests_per_instance x instance_count).");
    r.header("ms-azureml-model-error-reason", "too_many_pending_request");
    return finish(std::move(r), dep);
  }
  auto reply = call_host(port, req.method, "/score", req.body, fwd, timeout);
  --d->in_flight;
  if (reply.failure == HostReply::Failure::timeout)
    return finish(score_error(408, "The model execution took longer than the request timeout (" +
                                       std::to_string(timeout) + " ms, request_settings.request_timeout_ms)."),
                  dep);
  if (reply.failure == HostReply::Failure::refused) {
    auto r = score_error(503, "The instance of deployment '" + dep + "' that got this request is down: " + reply.error);
    r.header("Retry-After", "1");
    return finish(std::move(r), dep);
  }
  if (reply.failure != HostReply::Failure::none || reply.status != 200)
    return finish(score_error(502, "The instance of deployment '" + dep + "' failed to answer: " +
                                       (reply.error.empty() ? "HTTP " + std::to_string(reply.status) : reply.error)),
                  dep);
  json::Document env;
  try {
    env = json::parse(reply.body, "inference host reply");
  } catch (const std::exception& e) {
    return finish(score_error(502, std::string("bad reply from the inference host: ") + e.what()), dep);
  }
  int status = static_cast<int>(json::opt_int(env, "/status").value_or(500));
  net::ServerResponse r;
  r.body = json::opt_string(env, "/body").value_or("");
  if (const auto* h = json::find(env, "/headers"); h && h->IsObject())
    for (auto& m : h->GetObject()) {
      std::string k = m.name.GetString();
      if (str::iequals(k, "content-length") || str::iequals(k, "x-request-id") || str::iequals(k, "x-ms-request-id"))
        continue;
      r.header(k, json::scalar_text(m.value));
    }
  if (status == 200) {
    r.status = 200;
  } else {
    // As Azure's front end: a non-200 answer of the model container becomes 424.
    r.status = 424;
    r.header("ms-azureml-model-error-statuscode", std::to_string(status));
    r.header("ms-azureml-model-error-reason", "model_error");
  }
  collect(d, index, rid, req.body, &env, r.body);
  return finish(std::move(r), dep);
}

}  // namespace amlops::local
