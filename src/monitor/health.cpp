#include "monitor/health.hpp"

#include "core/error.hpp"
#include "core/strings.hpp"
#include "core/time.hpp"
#include "report/markdown.hpp"

namespace amlops::monitor {

std::string iso_interval(std::chrono::minutes m) {
  if (m.count() % (24 * 60) == 0) return "P" + std::to_string(m.count() / (24 * 60)) + "D";
  if (m.count() % 60 == 0) return "PT" + std::to_string(m.count() / 60) + "H";
  return "PT" + std::to_string(m.count()) + "M";
}

std::optional<double> HealthWindow::metric(const std::string& name) const {
  if (name == "requests") return double(requests);
  if (name == "c2xx") return double(c2xx);
  if (name == "c4xx") return double(c4xx);
  if (name == "c5xx") return double(c5xx);
  if (name == "error_rate") return requests ? std::optional<double>(error_rate()) : std::nullopt;
  if (name == "rate_4xx") return requests ? std::optional<double>(rate_4xx()) : std::nullopt;
  if (name == "rate_5xx") return requests ? std::optional<double>(rate_5xx()) : std::nullopt;
  if (name == "p50_ms") return p50;
  if (name == "p95_ms") return p95;
  if (name == "p99_ms") return p99;
  return std::nullopt;
}

std::string HealthRule::text() const { return metric + op + report::fmt_number(value); }

bool HealthRule::breached(const HealthWindow& w) const {
  auto v = w.metric(metric);
  if (!v) return false;
  if (op == ">") return *v > value;
  if (op == ">=") return *v >= value;
  if (op == "<") return *v < value;
  return *v <= value;
}

HealthRule parse_health_rule(const std::string& text) {
  static const char* const kMetrics[] = {"requests", "c2xx",     "c4xx",   "c5xx",   "error_rate",
                                         "rate_4xx", "rate_5xx", "p50_ms", "p95_ms", "p99_ms"};
  const auto at = text.find_first_of("<>");
  if (at == std::string::npos)
    throw UsageError("health rule '" + text + "': expected METRIC>VALUE (or <, >=, <=), e.g. p95_ms>300");
  HealthRule r;
  r.metric = std::string(str::trim(text.substr(0, at)));
  const bool eq = at + 1 < text.size() && text[at + 1] == '=';
  r.op = text.substr(at, eq ? 2 : 1);
  auto v = str::parse_double(str::trim(text.substr(at + r.op.size())));
  if (!v) throw UsageError("health rule '" + text + "': the value is not a number");
  r.value = *v;
  bool known = false;
  for (const char* m : kMetrics) known = known || r.metric == m;
  if (!known)
    throw UsageError("health rule '" + text + "': unknown metric '" + r.metric +
                     "' (requests, c2xx, c4xx, c5xx, error_rate, rate_4xx, rate_5xx, p50_ms, p95_ms, p99_ms)");
  return r;
}

SignalSeries health_series(const Health& h, const std::vector<HealthRule>& rules) {
  SignalSeries s{"endpoint_health", {}, {}};
  for (const auto& w : h.windows) {
    std::vector<std::string> why;
    for (const auto& r : rules)
      if (r.breached(w))
        why.push_back(r.metric + " " + report::fmt_number(*w.metric(r.metric)) + " " + r.op + " " +
                      report::fmt_number(r.value));
    s.breached.push_back(!why.empty());
    s.detail.push_back(str::join(why, ", "));
  }
  return s;
}

void add_health_signal(Decision& d, const Health& h, const std::vector<HealthRule>& rules, int breaches, int windows) {
  auto s = health_series(h, rules);
  std::vector<std::string> labels;
  for (const auto& w : h.windows) labels.push_back(iso8601_utc(w.start));
  // The series stays out of d.signals: those are per data window, the health intervals are others.
  auto t = debounce({s}, labels, breaches, windows);
  for (auto& x : t) {
    if (x.triggered) {
      // debounce counts "windows"; health's are the endpoint's metric intervals.
      if (auto at = x.reason.find(" windows ("); at != std::string::npos) x.reason.replace(at, 8, " intervals");
      d.health_breached = true;
      d.health_reasons.push_back(x.reason);
    }
    d.triggers.push_back(std::move(x));
  }
}

}  // namespace amlops::monitor
