// Model performance from scored data (labels, predictions, optional scores) and the
// concept-drift detectors over the error stream.
#pragma once
#include <optional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "core/json.hpp"
#include "stats/drift.hpp"
#include "stats/metrics.hpp"
#include "stats/table.hpp"

namespace amlops::monitor {

struct PerfSpec {
  std::string label, prediction, score, task = "auto";
};
struct PerfResult {
  bool classification = true;
  stats::Classification cls;
  stats::Regression reg;
  std::vector<double> errors;  // per evaluated row: 0/1 (classification) or |y - yhat|
  std::vector<size_t> rows;    // the table rows evaluated (labelled and predicted)
};
// CheckFailed when no row has both a label and a prediction; UsageError for bad columns or task.
PerfResult evaluate(const stats::Table& t, const PerfSpec& spec, const std::vector<size_t>* rows = nullptr);
// accuracy, precision|recall|f1[_macro|_micro|_weighted], roc_auc, log_loss, mae, mse, rmse, r2, mape.
std::optional<double> metric_value(const PerfResult& p, const std::string& name);
bool higher_is_better(const std::string& metric);
json::Value perf_json(const PerfResult& p, json::Builder& b);

struct DetectorRun {
  std::string spec;
  std::vector<size_t> alarms;  // positions in the ordered error stream
};
// One fresh detector per spec over the whole stream; ddm/eddm refuse a regression stream.
std::vector<DetectorRun> run_detectors(const std::vector<std::string>& specs, const std::vector<double>& errors,
                                       bool classification);

// `performance`: thresholds, detectors and the rule "performance dropped while the inputs did not
// drift" against a scored reference.
struct MetricBound {
  std::string metric;
  double value = 0;
};
struct PerformanceRules {
  std::vector<MetricBound> min, max;  // fail when metric < min / > max
  std::vector<MetricBound> max_drop;  // against the reference (needs one)
  std::vector<std::string> detectors;
};
struct PerformanceCheck {
  PerfResult perf;
  std::vector<DetectorRun> detectors;
  std::vector<std::vector<std::string>> alarm_at;  // per detector, per alarm: timestamp or "row N"
  std::optional<PerfResult> reference;
  std::optional<stats::DatasetDrift> input_drift;
  std::vector<std::pair<std::string, double>> drops;  // metric, drop against the reference
  std::vector<std::string> failures;                  // breached bounds, drops with input drift
  bool concept_drift = false;                         // a drop without input drift or a detector alarm
  std::string concept_reason;                         // the drop, when that is the cause
};
// `order` is the data's rows in time order (time_order with `timestamp`). Input drift compares
// every column but label, prediction, score and timestamp with `drift`. UsageError for a metric
// that is unknown or undefined for the task, or max_drop without a reference.
PerformanceCheck check_performance(const stats::Table& data, const PerfSpec& spec, const std::vector<size_t>& order,
                                   const std::optional<std::string>& timestamp, const PerformanceRules& rules,
                                   const stats::Table* reference, stats::DriftOptions drift);

json::Value performance_json(const PerformanceCheck& c, json::Builder& b);  // metrics ... failures
std::string performance_markdown(const PerformanceCheck& c, const std::string& title);
void performance_text(std::ostream& os, const PerformanceCheck& c);

}  // namespace amlops::monitor
