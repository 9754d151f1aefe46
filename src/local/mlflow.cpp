// Data plane: MLflow REST (/mlflow/v1.0/.../api/2.0/mlflow/...) and run history
// (/history/v1.0/.../runs/{id}/details, /children).
#include <cmath>
#include <functional>
#include <map>
#include <set>

#include "core/error.hpp"
#include "core/strings.hpp"
#include "local/app.hpp"
#include "local/runner.hpp"

namespace amlops::local {

namespace {

struct MlflowError : std::runtime_error {
  MlflowError(int status, std::string code, const std::string& msg)
      : std::runtime_error(msg), status(status), code(std::move(code)) {}
  int status;
  std::string code;
};

net::ServerResponse mlflow_error(int status, const std::string& code, const std::string& message) {
  json::Document d(rapidjson::kObjectType);
  json::Builder b(d.GetAllocator());
  b.set(d, "error_code", code);
  b.set(d, "message", message);
  return json_response(status, d);
}

json::Document body_of(const net::ServerRequest& req) {
  if (str::trim(req.body).empty()) return json::Document(rapidjson::kObjectType);
  try {
    auto d = json::parse(req.body, "request body");
    if (!d.IsObject()) throw MlflowError(400, "INVALID_PARAMETER_VALUE", "The request body must be a JSON object.");
    return d;
  } catch (const ConfigError& e) {
    throw MlflowError(400, "MALFORMED_REQUEST", e.what());
  }
}

// A field from the JSON body or, for GET, the query string.
std::optional<std::string> field(const net::ServerRequest& req, const json::Value& body, const char* name) {
  if (body.IsObject() && body.HasMember(name) && !body[name].IsNull()) return json::scalar_text(body[name]);
  return req.param(name);
}

std::string require(const net::ServerRequest& req, const json::Value& body, const char* name) {
  auto v = field(req, body, name);
  if (!v || v->empty())
    throw MlflowError(400, "INVALID_PARAMETER_VALUE",
                      std::string("Missing value for required parameter '") + name + "'.");
  return *v;
}

double metric_value(const json::Value& v, const std::string& key) {
  if (v.IsNumber()) return v.GetDouble();
  if (v.IsString()) {
    std::string s = v.GetString();
    if (s == "NaN") return std::nan("");
    if (s == "Infinity") return INFINITY;
    if (s == "-Infinity") return -INFINITY;
    if (auto d = str::parse_double(s)) return *d;
  }
  throw MlflowError(400, "INVALID_PARAMETER_VALUE", "Got invalid value for metric '" + key + "' (expected a number).");
}

int64_t int_or(const json::Value& o, const char* k, int64_t fallback) {
  if (!o.IsObject() || !o.HasMember(k) || o[k].IsNull()) return fallback;
  if (o[k].IsInt64()) return o[k].GetInt64();
  if (o[k].IsNumber()) return static_cast<int64_t>(o[k].GetDouble());
  if (o[k].IsString()) return str::parse_int(o[k].GetString()).value_or(fallback);
  return fallback;
}

}  // namespace

net::ServerResponse App::route_mlflow(const net::ServerRequest& req, const std::string& ws,
                                      const std::vector<std::string>& seg, size_t i) {
  try {
    if (seg.size() < i + 5 || (seg[i] != "api" && seg[i] != "ajax-api") || seg[i + 1] != "2.0" ||
        seg[i + 2] != "mlflow")
      throw MlflowError(404, "ENDPOINT_NOT_FOUND", "No MLflow endpoint at " + req.path + ".");
    std::string ep = seg[i + 3] + "/" + seg[i + 4];
    auto body = body_of(req);
    auto& st = *store_;

    auto experiment_json = [&](json::Builder& b, const SqlRow& r) {
      // r: id, name, artifact_location, lifecycle, created, tags
      json::Value e = b.obj();
      b.set(e, "experiment_id", std::to_string(r.i64(0)));
      b.set(e, "name", r.str(1));
      b.set(e, "artifact_location", r.str(2));
      b.set(e, "lifecycle_stage", r.str(3));
      b.set(e, "creation_time", r.i64(4));
      b.set(e, "last_update_time", r.i64(4));
      json::Value tags = b.arr();
      auto t = json::parse(r.str(5).empty() ? "{}" : r.str(5));
      for (auto& kv : t.GetObject()) {
        json::Value tv = b.obj();
        b.set(tv, "key", kv.name.GetString());
        b.set(tv, "value", json::scalar_text(kv.value));
        b.push(tags, std::move(tv));
      }
      b.set(e, "tags", std::move(tags));
      return e;
    };
    const char* exp_cols = "SELECT id, name, artifact_location, lifecycle, created, tags FROM experiments";

    auto run_info = [&](json::Builder& b, const std::string& run_id) {
      auto r = st.one(
          "SELECT run_id, experiment_id, status, start_time, end_time, run_name, lifecycle, artifact_uri FROM runs "
          "WHERE ws=? AND run_id=?",
          {ws, run_id});
      if (!r) throw MlflowError(404, "RESOURCE_DOES_NOT_EXIST", "Run '" + run_id + "' not found.");
      json::Value info = b.obj();
      b.set(info, "run_id", r->str(0));
      b.set(info, "run_uuid", r->str(0));
      b.set(info, "run_name", r->str(5));
      b.set(info, "experiment_id", std::to_string(r->i64(1)));
      b.set(info, "user_id", id_.client_id);
      b.set(info, "status", r->str(2));
      if (!r->is_null(3)) b.set(info, "start_time", r->i64(3));
      if (!r->is_null(4)) b.set(info, "end_time", r->i64(4));
      b.set(info, "artifact_uri", r->str(7));
      b.set(info, "lifecycle_stage", r->str(6));
      return info;
    };
    auto run_json = [&](json::Builder& b, const std::string& run_id) {
      json::Value run = b.obj();
      b.set(run, "info", run_info(b, run_id));
      json::Value data = b.obj();
      json::Value metrics = b.arr();
      for (auto& m : st.query("SELECT key, value, timestamp, step FROM metrics WHERE ws=? AND run_id=? ORDER BY key, "
                              "step, timestamp, seq",
                              {ws, run_id})) {
        // Keep the latest per key: rows are sorted, so the last of each key wins.
        if (!metrics.Empty() && std::string(metrics[metrics.Size() - 1]["key"].GetString()) == m.str(0))
          metrics.PopBack();
        json::Value mv = b.obj();
        b.set(mv, "key", m.str(0));
        b.set(mv, "value", m.is_null(1) ? std::nan("") : m.num(1));
        b.set(mv, "timestamp", m.i64(2));
        b.set(mv, "step", m.i64(3));
        b.push(metrics, std::move(mv));
      }
      b.set(data, "metrics", std::move(metrics));
      for (const char* table : {"run_params", "run_tags"}) {
        json::Value arr = b.arr();
        for (auto& p :
             st.query(std::string("SELECT key, value FROM ") + table + " WHERE ws=? AND run_id=? ORDER BY key",
                      {ws, run_id})) {
          json::Value kv = b.obj();
          b.set(kv, "key", p.str(0));
          b.set(kv, "value", p.str(1));
          b.push(arr, std::move(kv));
        }
        b.set(data, table == std::string("run_params") ? "params" : "tags", std::move(arr));
      }
      b.set(run, "data", std::move(data));
      return run;
    };
    auto require_run = [&](const std::string& run_id) {
      if (!st.one("SELECT 1 FROM runs WHERE ws=? AND run_id=?", {ws, run_id}))
        throw MlflowError(404, "RESOURCE_DOES_NOT_EXIST", "Run '" + run_id + "' not found.");
    };
    auto log_param = [&](const std::string& run_id, const std::string& key, const std::string& value) {
      auto old = st.one("SELECT value FROM run_params WHERE ws=? AND run_id=? AND key=?", {ws, run_id, key});
      if (old && old->str(0) != value)
        throw MlflowError(400, "INVALID_PARAMETER_VALUE",
                          "Changing param values is not allowed. Param with key='" + key +
                              "' was already logged with value='" + old->str(0) + "'.");
      st.exec("INSERT OR REPLACE INTO run_params(ws, run_id, key, value) VALUES(?, ?, ?, ?)", {ws, run_id, key, value});
    };
    auto log_metric = [&](const std::string& run_id, const json::Value& m) {
      std::string key = m.HasMember("key") && m["key"].IsString() ? m["key"].GetString() : "";
      if (key.empty()) throw MlflowError(400, "INVALID_PARAMETER_VALUE", "Missing value for required parameter 'key'.");
      if (!m.HasMember("value"))
        throw MlflowError(400, "INVALID_PARAMETER_VALUE", "Missing value for required parameter 'value'.");
      double v = metric_value(m["value"], key);
      st.exec("INSERT INTO metrics(ws, run_id, key, value, timestamp, step) VALUES(?, ?, ?, ?, ?, ?)",
              {ws, run_id, key, std::isnan(v) ? SqlValue{} : SqlValue{v}, int_or(m, "timestamp", now_ms()),
               int_or(m, "step", 0)});
    };

    json::Document out(rapidjson::kObjectType);
    json::Builder b(out.GetAllocator());

    // The endpoints, by "<group>/<verb>" of /api/2.0/mlflow/<group>/<verb>.
    std::map<std::string, std::function<void()>> endpoints = {
        {"experiments/create",
         [&] {
           std::string name = require(req, body, "name");
           if (st.one("SELECT 1 FROM experiments WHERE ws=? AND name=?", {ws, name}))
             throw MlflowError(400, "RESOURCE_ALREADY_EXISTS", "Experiment '" + name + "' already exists.");
           int64_t id = ensure_experiment(ws, name);
           if (body.HasMember("tags") && body["tags"].IsArray()) {
             json::Document t(rapidjson::kObjectType);
             json::Builder tb(t.GetAllocator());
             for (auto& tag : body["tags"].GetArray())
               if (tag.IsObject() && tag.HasMember("key"))
                 tb.set(t, json::scalar_text(tag["key"]),
                        tag.HasMember("value") ? json::scalar_text(tag["value"]) : "");
             st.exec("UPDATE experiments SET tags=? WHERE id=?", {json::dump(t), id});
           }
           b.set(out, "experiment_id", std::to_string(id));
         }},
        {"experiments/get-by-name",
         [&] {
           std::string name = require(req, body, "experiment_name");
           auto r = st.one(std::string(exp_cols) + " WHERE ws=? AND name=?", {ws, name});
           if (!r)
             throw MlflowError(404, "RESOURCE_DOES_NOT_EXIST", "Could not find experiment with name '" + name + "'.");
           b.set(out, "experiment", experiment_json(b, *r));
         }},
        {"experiments/get",
         [&] {
           std::string id = require(req, body, "experiment_id");
           auto n = str::parse_int(id);
           auto r = n ? st.one(std::string(exp_cols) + " WHERE ws=? AND id=?", {ws, *n}) : std::nullopt;
           if (!r) throw MlflowError(404, "RESOURCE_DOES_NOT_EXIST", "Could not find experiment with id '" + id + "'.");
           b.set(out, "experiment", experiment_json(b, *r));
         }},
        {"experiments/search",
         [&] {
           json::Value arr = b.arr();
           for (auto& r : st.query(std::string(exp_cols) + " WHERE ws=? ORDER BY id", {ws}))
             b.push(arr, experiment_json(b, r));
           b.set(out, "experiments", std::move(arr));
         }},
        {"runs/create",
         [&] {
           std::string exp = field(req, body, "experiment_id").value_or("");
           int64_t exp_id = 0;
           if (exp.empty()) {
             exp_id = ensure_experiment(ws, "Default");
           } else {
             auto n = str::parse_int(exp);
             if (!n || !st.one("SELECT 1 FROM experiments WHERE ws=? AND id=?", {ws, *n}))
               throw MlflowError(404, "RESOURCE_DOES_NOT_EXIST", "Could not find experiment with id '" + exp + "'.");
             exp_id = *n;
           }
           std::string run_id = str::random_hex(16);
           std::string name = field(req, body, "run_name").value_or(run_id);
           create_run(ws, run_id, exp_id, name, "RUNNING");
           if (body.HasMember("start_time"))
             st.exec("UPDATE runs SET start_time=? WHERE ws=? AND run_id=?",
                     {int_or(body, "start_time", now_ms()), ws, run_id});
           if (body.HasMember("tags") && body["tags"].IsArray())
             for (auto& t : body["tags"].GetArray())
               if (t.IsObject() && t.HasMember("key"))
                 st.exec("INSERT OR REPLACE INTO run_tags(ws, run_id, key, value) VALUES(?, ?, ?, ?)",
                         {ws, run_id, json::scalar_text(t["key"]),
                          t.HasMember("value") ? json::scalar_text(t["value"]) : ""});
           b.set(out, "run", run_json(b, run_id));
         }},
        {"runs/get",
         [&] {
           auto id = field(req, body, "run_id");
           if (!id) id = field(req, body, "run_uuid");
           if (!id) throw MlflowError(400, "INVALID_PARAMETER_VALUE", "Missing value for required parameter 'run_id'.");
           b.set(out, "run", run_json(b, *id));
         }},
        {"runs/update",
         [&] {
           std::string id = field(req, body, "run_id").value_or(field(req, body, "run_uuid").value_or(""));
           require_run(id);
           if (auto s = field(req, body, "status")) {
             static const std::set<std::string> ok = {"RUNNING", "SCHEDULED", "FINISHED", "FAILED", "KILLED"};
             if (!ok.count(*s)) throw MlflowError(400, "INVALID_PARAMETER_VALUE", "Invalid run status '" + *s + "'.");
             st.exec("UPDATE runs SET status=? WHERE ws=? AND run_id=?", {*s, ws, id});
           }
           if (body.HasMember("end_time"))
             st.exec("UPDATE runs SET end_time=? WHERE ws=? AND run_id=?",
                     {int_or(body, "end_time", now_ms()), ws, id});
           if (auto n = field(req, body, "run_name"))
             st.exec("UPDATE runs SET run_name=? WHERE ws=? AND run_id=?", {*n, ws, id});
           b.set(out, "run_info", run_info(b, id));
         }},
        {"runs/log-metric",
         [&] {
           std::string id = field(req, body, "run_id").value_or(field(req, body, "run_uuid").value_or(""));
           require_run(id);
           log_metric(id, body);
         }},
        {"runs/log-parameter",
         [&] {
           std::string id = field(req, body, "run_id").value_or(field(req, body, "run_uuid").value_or(""));
           require_run(id);
           log_param(id, require(req, body, "key"), field(req, body, "value").value_or(""));
         }},
        {"runs/set-tag",
         [&] {
           std::string id = field(req, body, "run_id").value_or(field(req, body, "run_uuid").value_or(""));
           require_run(id);
           st.exec("INSERT OR REPLACE INTO run_tags(ws, run_id, key, value) VALUES(?, ?, ?, ?)",
                   {ws, id, require(req, body, "key"), field(req, body, "value").value_or("")});
         }},
        {"runs/log-batch",
         [&] {
           std::string id = require(req, body, "run_id");
           require_run(id);
           st.transaction([&] {
             if (body.HasMember("metrics") && body["metrics"].IsArray())
               for (auto& m : body["metrics"].GetArray()) log_metric(id, m);
             if (body.HasMember("params") && body["params"].IsArray())
               for (auto& p : body["params"].GetArray())
                 if (p.IsObject() && p.HasMember("key"))
                   log_param(id, json::scalar_text(p["key"]),
                             p.HasMember("value") ? json::scalar_text(p["value"]) : "");
             if (body.HasMember("tags") && body["tags"].IsArray())
               for (auto& t : body["tags"].GetArray())
                 if (t.IsObject() && t.HasMember("key"))
                   st.exec("INSERT OR REPLACE INTO run_tags(ws, run_id, key, value) VALUES(?, ?, ?, ?)",
                           {ws, id, json::scalar_text(t["key"]),
                            t.HasMember("value") ? json::scalar_text(t["value"]) : ""});
           });
         }},
        {"metrics/get-history",
         [&] {
           std::string id = field(req, body, "run_id").value_or(field(req, body, "run_uuid").value_or(""));
           std::string key = require(req, body, "metric_key");
           require_run(id);
           int64_t max =
               std::max<int64_t>(1, str::parse_int(field(req, body, "max_results").value_or("25000")).value_or(25000));
           int64_t offset = str::parse_int(field(req, body, "page_token").value_or("0")).value_or(0);
           auto rows = st.query(
               "SELECT key, value, timestamp, step FROM metrics WHERE ws=? AND run_id=? AND key=? ORDER BY step, "
               "timestamp, "
               "seq LIMIT ? OFFSET ?",
               {ws, id, key, max + 1, offset});
           json::Value arr = b.arr();
           for (size_t k = 0; k < rows.size() && static_cast<int64_t>(k) < max; ++k) {
             json::Value mv = b.obj();
             b.set(mv, "key", rows[k].str(0));
             b.set(mv, "value", rows[k].is_null(1) ? std::nan("") : rows[k].num(1));
             b.set(mv, "timestamp", rows[k].i64(2));
             b.set(mv, "step", rows[k].i64(3));
             b.push(arr, std::move(mv));
           }
           b.set(out, "metrics", std::move(arr));
           if (static_cast<int64_t>(rows.size()) > max) b.set(out, "next_page_token", std::to_string(offset + max));
         }},
        {"runs/search",
         [&] {
           if (auto f = field(req, body, "filter"); f && !str::trim(*f).empty())
             throw MlflowError(400, "INVALID_PARAMETER_VALUE",
                               "amlops-local does not support run filters in runs/search.");
           std::vector<int64_t> exps;
           if (body.HasMember("experiment_ids") && body["experiment_ids"].IsArray())
             for (auto& e : body["experiment_ids"].GetArray())
               if (auto n = str::parse_int(json::scalar_text(e))) exps.push_back(*n);
           int64_t max = std::max<int64_t>(1, int_or(body, "max_results", 1000));
           json::Value arr = b.arr();
           for (auto& r :
                st.query("SELECT run_id, experiment_id FROM runs WHERE ws=? ORDER BY start_time DESC", {ws})) {
             if (!exps.empty() && std::find(exps.begin(), exps.end(), r.i64(1)) == exps.end()) continue;
             if (static_cast<int64_t>(arr.Size()) >= max) break;
             b.push(arr, run_json(b, r.str(0)));
           }
           b.set(out, "runs", std::move(arr));
         }},
    };
    endpoints["experiments/list"] = endpoints["experiments/search"];
    auto endpoint = endpoints.find(ep);
    if (endpoint == endpoints.end())
      throw MlflowError(404, "ENDPOINT_NOT_FOUND", "amlops-local does not implement MLflow " + ep + ".");
    endpoint->second();
    return json_response(200, out);
  } catch (const MlflowError& e) {
    return mlflow_error(e.status, e.code, e.what());
  }
}

net::ServerResponse App::route_history(const net::ServerRequest& req, const std::string& ws,
                                       const std::vector<std::string>& seg, size_t i) {
  // Also accept .../experimentids/{id}/runs/... and .../experiments/{name}/runs/...
  if (seg.size() > i + 2 && (seg[i] == "experimentids" || seg[i] == "experiments")) i += 2;
  if (seg.size() < i + 2 || seg[i] != "runs")
    throw ArmError(404, "NotFound", "No run history route for " + req.path + ".");
  std::string run_id = seg[i + 1];
  std::string what = seg.size() > i + 2 ? seg[i + 2] : "";
  if (req.method != "GET") throw ArmError(405, "MethodNotAllowed", "Only GET is supported on run history.");

  auto run_doc = [&](json::Builder& b, const SqlRow& r, bool details) {
    // r: name, parent, job_type, status, body, error, created, started, ended
    json::Value o = b.obj();
    std::string name = r.str(0);
    auto body = json::parse(r.str(4));
    b.set(o, "runId", name);
    b.set(o, "runUuid", guid_from("run:" + ws + "/" + name));
    b.set(o, "rootRunId", r.is_null(1) ? name : r.str(1));
    if (!r.is_null(1))
      b.set(o, "parentRunId", r.str(1));
    else
      b.set_null(o, "parentRunId");
    auto exp = store_->one("SELECT experiment_id FROM runs WHERE ws=? AND run_id=?", {ws, name});
    b.set(o, "experimentId", exp ? std::to_string(exp->i64(0)) : std::string());
    b.set(o, "status", r.str(3));
    b.set(o, "runType",
          r.str(2) == "Pipeline" ? "azureml.PipelineRun"
          : r.str(2) == "Sweep"  ? "hyperdrive"
                                 : "azureml.scriptrun");
    b.set(o, "displayName", json::opt_string(body, "/properties/displayName").value_or(name));
    b.set(o, "createdUtc", ms_iso(r.i64(6)));
    if (!r.is_null(7))
      b.set(o, "startTimeUtc", ms_iso(r.i64(7)));
    else
      b.set_null(o, "startTimeUtc");
    if (!r.is_null(8))
      b.set(o, "endTimeUtc", ms_iso(r.i64(8)));
    else
      b.set_null(o, "endTimeUtc");
    b.set(o, "target", "local");
    if (const auto* p = json::find(body, "/properties/properties")) b.set(o, "properties", b.copy(*p));
    if (const auto* t = json::find(body, "/properties/tags")) b.set(o, "tags", b.copy(*t));
    if (!r.str(5).empty()) {
      auto err = json::parse(r.str(5));
      json::Value e = b.obj();
      json::Value inner = b.obj();
      b.set(inner, "code", json::opt_string(err, "/code").value_or("SystemError"));
      b.set(inner, "message", json::opt_string(err, "/message").value_or(""));
      b.set(inner, "messageFormat", json::opt_string(err, "/message").value_or(""));
      b.set(inner, "details", b.arr());
      b.set(e, "error", std::move(inner));
      b.set(e, "time", !r.is_null(8) ? ms_iso(r.i64(8)) : ms_iso(now_ms()));
      b.set(e, "componentName", "amlops-local");
      b.set(o, "error", std::move(e));
    }
    if (details) {
      json::Value logs = b.obj();
      std::vector<std::string> names = {"user_logs/std_log.txt"};
      if (r.str(2) == "Pipeline") names = {"logs/azureml/executionlogs.txt"};
      if (r.str(2) == "Sweep") names = {"azureml-logs/hyperdrive.txt"};
      for (auto& n : names) {
        BlobLocation loc{artifact_container(ws), "ExperimentRun/dcid." + name + "/" + n};
        if (!std::filesystem::exists(blob_path(loc))) continue;
        b.set(logs, n, blob_url(loc) + "?" + make_sas(loc.container, loc.path, "r", std::chrono::hours(24)));
      }
      b.set(o, "logFiles", std::move(logs));
      b.set(o, "warnings", b.arr());
      b.set(o, "inputDatasets", b.arr());
      b.set(o, "outputDatasets", b.arr());
      b.set(o, "services", b.obj());
    }
    return o;
  };
  const char* cols = "SELECT name, parent, job_type, status, body, error, created, started, ended FROM jobs";
  auto row = store_->one(std::string(cols) + " WHERE ws=? AND name=?", {ws, run_id});
  json::Document d(rapidjson::kObjectType);
  json::Builder b(d.GetAllocator());
  if (!row) {
    // A run created through MLflow only (no job).
    auto r = store_->one("SELECT status, start_time, end_time FROM runs WHERE ws=? AND run_id=?", {ws, run_id});
    if (!r) throw ArmError(404, "UserError", "Run " + run_id + " was not found.", "RunNotFound");
    if (what == "children")
      return net::ServerResponse::json(200, R"({"value":[],"continuationToken":null,"nextLink":null})");
    b.set(d, "runId", run_id);
    b.set(d, "status", r->str(0));
    if (what == "details") b.set(d, "logFiles", b.obj());
    return json_response(200, d);
  }
  if (what == "children") {
    json::Value arr = b.arr();
    for (auto& c : store_->query(std::string(cols) + " WHERE ws=? AND parent=? ORDER BY seq", {ws, run_id}))
      b.push(arr, run_doc(b, c, false));
    b.set(d, "value", std::move(arr));
    b.set_null(d, "continuationToken");
    b.set_null(d, "nextLink");
    return json_response(200, d);
  }
  if (what == "details" || what.empty()) {
    json::Value o = run_doc(b, *row, what == "details");
    return json_response(200, o);
  }
  throw ArmError(404, "NotFound", "No run history route for " + req.path + ".");
}

}  // namespace amlops::local
