// Shared pieces of amlops-monitor: reading data, the amlops.yml `monitor:` section, rendering
// drift results (JSON, text, markdown, HTML) and evaluating model performance.
#pragma once
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/json.hpp"
#include "stats/detectors.hpp"
#include "stats/drift.hpp"
#include "stats/metrics.hpp"
#include "stats/profile.hpp"
#include "stats/table.hpp"
#include "tools/common/cli.hpp"

namespace amlops::monitor {

// --delimiter, --type COL=TYPE (repeatable), --threads, --max-values.
void add_read_options(cli::Command& cmd);
stats::ReadOptions read_options(const cli::Command& cmd);
stats::ProfileOptions profile_options(const cli::Command& cmd);

// A data set given as CSV/JSON Lines (table + profile) or as a stored profile (profile only).
struct Source {
  std::string path;
  std::optional<stats::Table> table;
  stats::Profile profile;
};
// keep_table = false profiles the table in place and drops it (drift needs only the profile).
Source load_source(const std::string& path, const stats::ReadOptions& ro, const stats::ProfileOptions& po,
                   bool keep_table = true);

// The `monitor:` section of amlops.yml (docs/monitor.md).
struct PerformanceSignal {
  std::string metric = "accuracy";
  std::optional<double> min, max, max_drop;
};
struct MonitorConfig {
  std::string file;
  std::optional<std::string> reference, current, timestamp, label, prediction, score, task;
  stats::DriftOptions drift;
  std::string window = "daily";  // daily | weekly | N (rows)
  bool data_drift = true, prediction_drift = true;
  std::optional<PerformanceSignal> performance;
  std::optional<std::string> concept_detector;
  int debounce_breaches = 1, debounce_windows = 1;
  std::optional<double> concept_max_drop;  // the "performance dropped while inputs did not drift" rule
};
MonitorConfig load_config(const std::filesystem::path& path);
// A data path from amlops.yml is relative to the file's folder (unless it exists as given);
// paths from the command line are used as given.
std::string resolve_config_path(const std::string& config_file, const std::string& path, bool from_config);

// Drift options from the command line (--compat, --metrics, --columns, --method COL=M, ...).
void add_drift_options(cli::Command& cmd);
void apply_drift_options(const cli::Command& cmd, stats::DriftOptions& o);

json::Value feature_json(const stats::FeatureDrift& f, json::Builder& b);
json::Value dataset_json(const stats::DatasetDrift& d, json::Builder& b);
// value / threshold for distances, threshold / value for p-values: > 1 means drift.
double severity(const stats::FeatureDrift& f);
std::string drift_markdown(const stats::DriftResult& r, const stats::FeatureDrift* prediction,
                           const std::string& title);
std::string drift_html(const stats::DriftResult& r, const stats::FeatureDrift* prediction, const std::string& reference,
                       const std::string& current, const std::string& compat);
void drift_text(std::ostream& os, const stats::DriftResult& r, const stats::FeatureDrift* prediction);

// Performance.
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
PerfResult evaluate(const stats::Table& t, const PerfSpec& spec, const std::vector<size_t>* rows = nullptr);
// accuracy, precision|recall|f1[_macro|_micro|_weighted], roc_auc, log_loss, mae, mse, rmse, r2, mape.
std::optional<double> metric_value(const PerfResult& p, const std::string& name);
bool higher_is_better(const std::string& metric);
json::Value perf_json(const PerfResult& p, json::Builder& b);

// Rows in time order (stable; rows without a timestamp last). Identity order without a column.
std::vector<size_t> time_order(const stats::Table& t, const std::optional<std::string>& timestamp);

std::string bool_text(bool b);

}  // namespace amlops::monitor
