// Endpoint health rules ("p95_ms>300") over per-interval request counts and latency percentiles,
// debounced as the endpoint_health signal of the retrain decision. Pure: endpoint_health.hpp reads
// the intervals from Azure Monitor; config.cpp checks monitor.health's rules with parse_health_rule.
#pragma once
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "monitor/decide.hpp"

namespace amlops::monitor {

struct HealthWindow {
  std::chrono::system_clock::time_point start, end;
  int64_t requests = 0, c2xx = 0, c4xx = 0, c5xx = 0, other = 0;
  std::optional<double> p50, p95, p99;  // ms; absent without requests
  [[nodiscard]] double error_rate() const { return requests ? double(c4xx + c5xx) / double(requests) : 0.0; }
  [[nodiscard]] double rate_5xx() const { return requests ? double(c5xx) / double(requests) : 0.0; }
  [[nodiscard]] double rate_4xx() const { return requests ? double(c4xx) / double(requests) : 0.0; }
  // requests, c2xx, c4xx, c5xx, error_rate, rate_4xx, rate_5xx, p50_ms, p95_ms, p99_ms.
  [[nodiscard]] std::optional<double> metric(const std::string& name) const;
};

struct Health {
  std::string resource_id;  // the endpoint's ARM id
  std::vector<HealthWindow> windows;
  HealthWindow total;  // over [from, to)
};

// A health rule "METRIC>X" (also <, >=, <=). UsageError for a bad rule or an unknown metric.
struct HealthRule {
  std::string metric;
  std::string op;
  double value = 0;
  [[nodiscard]] std::string text() const;
  [[nodiscard]] bool breached(const HealthWindow& w) const;  // false when the metric is absent
};
HealthRule parse_health_rule(const std::string& text);

// The endpoint_health signal over the windows (labels: the windows' start times).
SignalSeries health_series(const Health& h, const std::vector<HealthRule>& rules);
// Adds the endpoint_health signal to a decision (its trigger, and health_breached with its reason in
// health_reasons; never retrain: slow or failing answers call for scaling out or rolling back, not
// for a new model), debounced `breaches` of the last `windows` intervals; its per-interval series
// is health_series (not in d.signals, whose series follow the data windows).
void add_health_signal(Decision& d, const Health& h, const std::vector<HealthRule>& rules, int breaches, int windows);

// "PT1H", "PT90M", "P1D".
std::string iso_interval(std::chrono::minutes m);

}  // namespace amlops::monitor
