// The Azure Monitor metrics subset of an online endpoint, served from the endpoint's request
// counters (table endpoint_requests, one row per scoring request):
//   GET {endpoint or deployment ARM id}/providers/Microsoft.Insights/metrics
//       ?api-version=2023-10-01&metricnames=A,B&timespan=F/T&interval=PT1H&aggregation=Total,Average
//       &$filter=deployment eq 'blue' and statusCodeClass eq '*'
// Metrics: RequestsPerMinute (Total: requests in the interval; Average: per minute; Count,
// Maximum, Minimum: the same as Total), RequestLatency (Average: mean ms) and RequestLatency_P50,
// _P90, _P95, _P99 (the interval's percentile of latency, linear interpolation; every
// aggregation gives it). Dimensions: deployment, statusCode, statusCodeClass ('*' splits).
#include <algorithm>
#include <cmath>
#include <map>

#include "core/error.hpp"
#include "core/json.hpp"
#include "core/strings.hpp"
#include "core/time.hpp"
#include "local/app.hpp"

namespace amlops::local {

namespace {

using SysTime = std::chrono::system_clock::time_point;

struct Req {
  std::string deployment;
  int status = 0;
  int64_t at_ms = 0;
  double latency_ms = 0;
};

struct Metric {
  const char* name;
  const char* display;
  const char* unit;
  double percentile;  // < 0: not a percentile
};
constexpr Metric kMetrics[] = {
    {"RequestsPerMinute", "Requests Per Minute", "Count", -1},
    {"RequestLatency", "Request Latency", "Milliseconds", -1},
    {"RequestLatency_P50", "Request Latency P50", "Milliseconds", 0.50},
    {"RequestLatency_P90", "Request Latency P90", "Milliseconds", 0.90},
    {"RequestLatency_P95", "Request Latency P95", "Milliseconds", 0.95},
    {"RequestLatency_P99", "Request Latency P99", "Milliseconds", 0.99},
};

std::string dimension_value(const Req& r, const std::string& dim) {
  if (dim == "deployment") return r.deployment;
  if (dim == "statuscode") return std::to_string(r.status);
  return std::to_string(r.status / 100) + "xx";  // statuscodeclass
}

double quantile(std::vector<double>& v, double q) {
  std::sort(v.begin(), v.end());
  const double pos = q * double(v.size() - 1);
  const auto lo = static_cast<size_t>(std::floor(pos));
  const size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (v[hi] - v[lo]) * (pos - double(lo));
}

ArmError bad_request(const std::string& message) { return ArmError(400, "BadRequest", message); }

}  // namespace

net::ServerResponse App::route_metrics(const net::ServerRequest& req, const std::string& ws,
                                       const std::string& endpoint, const std::string& deployment) {
  store_->exec(
      "CREATE TABLE IF NOT EXISTS endpoint_requests(ws TEXT, endpoint TEXT, deployment TEXT, at_ms INTEGER, status "
      "INTEGER, latency_ms REAL)");
  // timespan=F/T (default: the last hour), interval (default PT1M), aggregation (default: Average).
  SysTime to = std::chrono::system_clock::now(), from = to - std::chrono::hours(1);
  try {
    if (auto ts = req.param("timespan")) {
      auto parts = str::split(*ts, '/');
      if (parts.size() != 2) throw bad_request("timespan must be START/END (ISO 8601)");
      from = parse_iso8601(parts[0]);
      to = parse_iso8601(parts[1]);
    }
  } catch (const ConfigError& e) {
    throw bad_request(std::string("Invalid timespan: ") + e.what());
  }
  if (from >= to) throw bad_request("The timespan's start must be before its end.");
  Duration interval = std::chrono::minutes(1);
  const std::string interval_text = req.param("interval").value_or("PT1M");
  try {
    interval = parse_duration(interval_text);
  } catch (const ConfigError&) {
    throw bad_request("Invalid interval '" + interval_text + "'.");
  }
  if (interval < std::chrono::minutes(1)) throw bad_request("The interval must be at least PT1M.");
  std::vector<std::string> aggregations;
  for (auto& a : str::split(req.param("aggregation").value_or("Average"), ','))
    if (!str::trim(a).empty()) aggregations.push_back(str::to_lower(std::string(str::trim(a))));
  std::vector<const Metric*> metrics;
  for (auto& n : str::split(req.param("metricnames").value_or(""), ',')) {
    const auto name = std::string(str::trim(n));
    if (name.empty()) continue;
    const Metric* found = nullptr;
    for (const auto& m : kMetrics)
      if (str::iequals(m.name, name)) found = &m;
    if (!found)
      throw bad_request(
          "Failed to find metric configuration for provider: Microsoft.MachineLearningServices, resource "
          "Type: workspaces/onlineEndpoints, metric: " +
          name +
          ". Valid metrics: RequestsPerMinute, "
          "RequestLatency, RequestLatency_P50, RequestLatency_P90, RequestLatency_P95, RequestLatency_P99");
    metrics.push_back(found);
  }
  if (metrics.empty()) throw bad_request("metricnames is required.");
  // $filter: "dim eq 'v'" clauses joined by "and"; '*' splits by the dimension.
  std::map<std::string, std::string> equals;
  std::vector<std::string> split_by;
  if (!deployment.empty()) equals["deployment"] = deployment;
  if (auto f = req.param("$filter")) {
    std::string rest = *f;
    for (size_t at; (at = str::to_lower(rest).find(" and ")) != std::string::npos || !rest.empty();) {
      std::string clause = at == std::string::npos ? rest : rest.substr(0, at);
      rest = at == std::string::npos ? "" : rest.substr(at + 5);
      auto words = str::split(std::string(str::trim(clause)), ' ');
      if (words.size() != 3 || !str::iequals(words[1], "eq") || words[2].size() < 2 || words[2].front() != '\'' ||
          words[2].back() != '\'')
        throw bad_request("Unsupported $filter clause '" + clause + "' (expected: dimension eq 'value').");
      const auto dim = str::to_lower(words[0]);
      if (dim != "deployment" && dim != "statuscode" && dim != "statuscodeclass")
        throw bad_request("Unknown dimension '" + words[0] + "' (deployment, statusCode, statusCodeClass).");
      const auto v = words[2].substr(1, words[2].size() - 2);
      if (v == "*")
        split_by.push_back(dim);
      else
        equals[dim] = v;
    }
  }

  const int64_t from_ms = std::chrono::duration_cast<std::chrono::milliseconds>(from.time_since_epoch()).count();
  const int64_t to_ms = std::chrono::duration_cast<std::chrono::milliseconds>(to.time_since_epoch()).count();
  std::vector<Req> rows;
  for (const auto& r : store_->query("SELECT deployment, status, at_ms, latency_ms FROM endpoint_requests WHERE ws = ? "
                                     "AND endpoint = ? AND at_ms "
                                     ">= ? AND at_ms < ?",
                                     {ws, endpoint, from_ms, to_ms})) {
    Req x{r.str(0), static_cast<int>(r.i64(1)), r.i64(2), r.num(3)};
    bool keep = true;
    for (const auto& [dim, v] : equals) keep = keep && str::iequals(dimension_value(x, dim), v);
    if (keep) rows.push_back(std::move(x));
  }
  const int64_t step = std::chrono::duration_cast<std::chrono::milliseconds>(interval).count();
  const size_t buckets = static_cast<size_t>((to_ms - from_ms + step - 1) / step);

  const std::string resource =
      workspace_id(ws) + "/onlineEndpoints/" + endpoint + (deployment.empty() ? "" : "/deployments/" + deployment);
  json::Document d(rapidjson::kObjectType);
  json::Builder b(d.GetAllocator());
  b.set(d, "cost", 0);
  b.set(d, "timespan", iso8601_utc(from) + "/" + iso8601_utc(to));
  b.set(d, "interval", interval_text);
  json::Value values = b.arr();
  for (const auto* m : metrics) {
    // Series key: the split dimensions' values.
    std::map<std::vector<std::string>, std::vector<std::vector<double>>> series;
    for (const auto& r : rows) {
      std::vector<std::string> key;
      for (const auto& dim : split_by) key.push_back(dimension_value(r, dim));
      auto& s = series[key];
      if (s.empty()) s.resize(buckets);
      s[static_cast<size_t>((r.at_ms - from_ms) / step)].push_back(r.latency_ms);
    }
    if (series.empty() && split_by.empty()) series[{}].resize(buckets);
    json::Value mo = b.obj();
    b.set(mo, "id", resource + "/providers/Microsoft.Insights/metrics/" + m->name);
    b.set(mo, "type", "Microsoft.Insights/metrics");
    json::Value name = b.obj();
    b.set(name, "value", m->name);
    b.set(name, "localizedValue", m->display);
    b.set(mo, "name", std::move(name));
    b.set(mo, "unit", m->unit);
    json::Value ts = b.arr();
    for (auto& [key, points] : series) {
      json::Value so = b.obj();
      json::Value md = b.arr();
      for (size_t i = 0; i < split_by.size(); ++i) {
        json::Value kv = b.obj();
        json::Value n = b.obj();
        b.set(n, "value", split_by[i]);
        b.set(n, "localizedValue", split_by[i]);
        b.set(kv, "name", std::move(n));
        b.set(kv, "value", key[i]);
        b.push(md, std::move(kv));
      }
      b.set(so, "metadatavalues", std::move(md));
      json::Value data = b.arr();
      for (size_t i = 0; i < points.size(); ++i) {
        auto& lat = points[i];
        json::Value p = b.obj();
        b.set(p, "timeStamp", iso8601_utc(from + std::chrono::milliseconds(int64_t(i) * step)));
        const double n = double(lat.size());
        for (const auto& a : aggregations) {
          if (std::string(m->name) == "RequestsPerMinute") {
            const double minutes = double(step) / 60000.0;
            b.set(p, a, a == "average" ? n / minutes : n);
          } else if (!lat.empty()) {
            double v;
            if (m->percentile >= 0)
              v = quantile(lat, m->percentile);
            else if (a == "maximum")
              v = *std::max_element(lat.begin(), lat.end());
            else if (a == "minimum")
              v = *std::min_element(lat.begin(), lat.end());
            else if (a == "count")
              v = n;
            else {
              double sum = 0;
              for (double x : lat) sum += x;
              v = a == "total" ? sum : sum / n;
            }
            b.set(p, a, v);
          }
        }
        b.push(data, std::move(p));
      }
      b.set(so, "data", std::move(data));
      b.push(ts, std::move(so));
    }
    b.set(mo, "timeseries", std::move(ts));
    b.set(mo, "errorCode", "Success");
    b.push(values, std::move(mo));
  }
  b.set(d, "value", std::move(values));
  b.set(d, "namespace", "Microsoft.MachineLearningServices/workspaces/onlineEndpoints");
  b.set(d, "resourceregion", cfg_.location);
  return json_response(200, d);
}

}  // namespace amlops::local
