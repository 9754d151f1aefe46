// Model performance from scored data (labels, predictions, optional scores) and the
// concept-drift detectors over the error stream.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "core/json.hpp"
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

}  // namespace amlops::monitor
