#include "monitor/endpoint_health.hpp"

#include <cmath>

#include "core/error.hpp"
#include "core/json.hpp"
#include "core/strings.hpp"
#include "core/time.hpp"
#include "report/markdown.hpp"

namespace amlops::monitor {

namespace {

using SysTime = std::chrono::system_clock::time_point;

std::string filter_text(const std::string& deployment, bool by_class) {
  std::string f;
  if (by_class) f = "statusCodeClass eq '*'";
  if (!deployment.empty()) f += std::string(f.empty() ? "" : " and ") + "deployment eq '" + deployment + "'";
  return f;
}

// GET {resource}/providers/Microsoft.Insights/metrics?... -> the answer's "value" list.
json::Document get_metrics(azure::ArmClient& arm, const std::string& resource, const std::string& names,
                           const std::string& aggregation, const std::string& filter, SysTime from, SysTime to,
                           const std::string& interval) {
  std::string path = resource + "/providers/Microsoft.Insights/metrics?api-version=" + kMetricsApiVersion +
                     "&metricnames=" + str::url_encode(names) + "&aggregation=" + aggregation +
                     "&timespan=" + str::url_encode(iso8601_utc(from) + "/" + iso8601_utc(to)) +
                     "&interval=" + interval;
  if (!filter.empty()) path += "&%24filter=" + str::url_encode(filter);
  return arm.get(path);
}

// Calls fn(metric name, dimension value (status class) or "", timestamp, value) for each point.
template <typename Fn>
void each_point(const json::Document& d, const std::string& aggregation, Fn&& fn) {
  const auto* value = json::find(d, "/value");
  if (!value || !value->IsArray()) throw HttpError(200, "Azure Monitor metrics: the answer has no 'value' list");
  const std::string agg = str::to_lower(aggregation);
  for (const auto& m : value->GetArray()) {
    const std::string name = json::opt_string(m, "/name/value").value_or("");
    const auto* series = json::find(m, "/timeseries");
    if (!series || !series->IsArray()) continue;
    for (const auto& s : series->GetArray()) {
      std::string dim;
      if (const auto* md = json::find(s, "/metadatavalues"); md && md->IsArray())
        for (const auto& kv : md->GetArray())
          if (str::iequals(json::opt_string(kv, "/name/value").value_or(""), "statuscodeclass"))
            dim = json::opt_string(kv, "/value").value_or("");
      const auto* data = json::find(s, "/data");
      if (!data || !data->IsArray()) continue;
      for (const auto& p : data->GetArray()) {
        auto ts = json::opt_string(p, "/timeStamp");
        if (!ts) continue;
        auto it = p.FindMember(agg.c_str());
        if (it == p.MemberEnd() || !it->value.IsNumber()) continue;
        fn(name, dim, parse_iso8601(*ts), it->value.GetDouble());
      }
    }
  }
}

void add_count(HealthWindow& w, const std::string& cls, double v) {
  const auto n = static_cast<int64_t>(std::llround(v));
  w.requests += n;
  const std::string c = str::to_lower(cls);
  if (c == "2xx")
    w.c2xx += n;
  else if (c == "4xx")
    w.c4xx += n;
  else if (c == "5xx")
    w.c5xx += n;
  else
    w.other += n;
}

void set_latency(HealthWindow& w, const std::string& metric, double v) {
  if (metric == "RequestLatency_P50") w.p50 = v;
  if (metric == "RequestLatency_P95") w.p95 = v;
  if (metric == "RequestLatency_P99") w.p99 = v;
}

}  // namespace

Health read_health(azure::ArmClient& arm, const std::string& workspace_id, const HealthQuery& query) {
  if (query.endpoint.empty()) throw UsageError("--endpoint is required");
  if (query.interval.count() <= 0) throw UsageError("--interval must be at least one minute");
  // The timespan is sent in whole seconds: widen it so that no request of the span is cut off.
  HealthQuery q = query;
  q.from = std::chrono::floor<std::chrono::seconds>(q.from);
  q.to = std::chrono::ceil<std::chrono::seconds>(q.to);
  Health h;
  h.resource_id = workspace_id + "/onlineEndpoints/" + q.endpoint;
  for (auto t = q.from; t < q.to; t += q.interval) h.windows.push_back({t, std::min(t + q.interval, q.to)});
  h.total.start = q.from;
  h.total.end = q.to;
  // A point belongs to the window whose start is nearest (the service may align time stamps to
  // whole seconds or to the interval's grain), within one interval.
  auto window_of = [&](SysTime ts) -> HealthWindow* {
    if (h.windows.empty()) return nullptr;
    const double pos = std::chrono::duration<double>(ts - q.from) / std::chrono::duration<double>(q.interval);
    const auto i = static_cast<long long>(std::llround(pos));
    if (i < 0 || i >= static_cast<long long>(h.windows.size()) || std::abs(pos - double(i)) >= 1.0) return nullptr;
    return &h.windows[static_cast<size_t>(i)];
  };
  const std::string interval = iso_interval(q.interval);
  auto counts = get_metrics(arm, h.resource_id, "RequestsPerMinute", "Total", filter_text(q.deployment, true), q.from,
                            q.to, interval);
  each_point(counts, "Total", [&](const std::string&, const std::string& cls, SysTime ts, double v) {
    if (auto* w = window_of(ts)) add_count(*w, cls, v);
  });
  const std::string latency = "RequestLatency_P50,RequestLatency_P95,RequestLatency_P99";
  auto lat =
      get_metrics(arm, h.resource_id, latency, "Average", filter_text(q.deployment, false), q.from, q.to, interval);
  each_point(lat, "Average", [&](const std::string& metric, const std::string&, SysTime ts, double v) {
    if (auto* w = window_of(ts)) set_latency(*w, metric, v);
  });
  for (const auto& w : h.windows) {
    h.total.requests += w.requests;
    h.total.c2xx += w.c2xx;
    h.total.c4xx += w.c4xx;
    h.total.c5xx += w.c5xx;
    h.total.other += w.other;
  }
  // The percentiles of the whole window: one interval spanning it.
  if (h.windows.size() == 1) {
    h.total.p50 = h.windows[0].p50;
    h.total.p95 = h.windows[0].p95;
    h.total.p99 = h.windows[0].p99;
  } else if (h.total.requests) {
    const auto span = std::chrono::ceil<std::chrono::minutes>(q.to - q.from);
    auto all = get_metrics(arm, h.resource_id, latency, "Average", filter_text(q.deployment, false), q.from, q.to,
                           iso_interval(span));
    each_point(all, "Average", [&](const std::string& metric, const std::string&, SysTime, double v) {
      set_latency(h.total, metric, v);
    });
  }
  return h;
}

}  // namespace amlops::monitor
