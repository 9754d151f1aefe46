// Endpoint health from the Azure Monitor metrics REST API of an online endpoint: request count,
// error rate by status class and p50/p95/p99 latency, per interval over a window; health rules
// ("p95_ms>300") debounced over the last windows as a signal of the retrain decision.
//
// Requests (api-version 2023-10-01) on the endpoint's ARM id:
//   {endpoint}/providers/Microsoft.Insights/metrics?metricnames=RequestsPerMinute&aggregation=Total
//     &$filter=statusCodeClass eq '*' [and deployment eq 'D']&timespan=F/T&interval=PT1H
//   {endpoint}/providers/Microsoft.Insights/metrics?metricnames=RequestLatency_P50,RequestLatency_P95,
//     RequestLatency_P99&aggregation=Average[&$filter=deployment eq 'D']&timespan=F/T&interval=PT1H
// Assumptions (docs/monitor.md): the Total of RequestsPerMinute over an interval is the number of
// requests in it; the RequestLatency_Pxx series are in milliseconds, and their Average over an
// interval is that interval's percentile (Azure averages per-minute percentiles; amlops-local
// computes the exact percentile of the interval's requests).
#pragma once
#include <chrono>
#include <string>

#include "azure/arm.hpp"
#include "monitor/health.hpp"

namespace amlops::monitor {

inline constexpr const char* kMetricsApiVersion = "2023-10-01";

struct HealthQuery {
  std::string endpoint;
  std::string deployment;  // empty: the whole endpoint
  std::chrono::system_clock::time_point from, to;
  std::chrono::minutes interval{60};
};

// Two or three metrics requests (see above). HttpError on a service error.
Health read_health(azure::ArmClient& arm, const std::string& workspace_id, const HealthQuery& q);

}  // namespace amlops::monitor
