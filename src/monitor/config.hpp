// The `monitor:` section of amlops.yml (docs/monitor.md): data, columns, drift rules, windows,
// signals and the debounce of the retrain decision. Errors carry file:line:col (ConfigError).
#pragma once
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "stats/drift.hpp"
#include "stats/quality.hpp"

namespace amlops::monitor {

struct PerformanceSignal {
  std::string metric = "accuracy";
  std::optional<double> min, max, max_drop;
};

// What is monitored, shown in report headers (monitor.target; like Azure ML's monitoring_target).
struct Target {
  std::optional<std::string> model, version, endpoint, deployment;
  [[nodiscard]] bool empty() const { return !model && !version && !endpoint && !deployment; }
  // "model credit:3 · deployment credit-ep/blue" (empty when nothing is set).
  [[nodiscard]] std::string describe() const;
};

// monitor.health: endpoint health rules over the endpoint's Azure Monitor metrics, the same rules as
// --health (amlops-monitor endpoint; decide with --endpoint). Flags override it key by key: any
// --health replaces `rules` (the file's rules are not added to), --health-debounce replaces
// `debounce`, --interval replaces `interval`.
struct HealthConfig {
  std::vector<std::string> rules;  // "p95_ms>300", each checked by parse_health_rule
  int breaches = 1, windows = 1;   // debounce: a rule holds in `breaches` of the last `windows` intervals
  std::string interval = "1h";
};

// monitor.reference: {endpoint_window: 24h, offset: 7d}: the reference is the monitored endpoint's
// own collected data of an earlier window (drift/decide with --endpoint; the flags
// --reference-window / --reference-offset). An empty offset: the current window's length.
struct ReferenceWindow {
  std::string size, offset;
};

struct MonitorConfig {
  std::string file;
  std::optional<std::string> reference, current, timestamp, label, prediction, score, task;
  // monitor.reference_env: the workspace (environments.<env>.workspace) that holds an azureml:
  // reference from this file, e.g. training's dev workspace when production is monitored.
  std::optional<std::string> reference_workspace;
  std::optional<ReferenceWindow> reference_window;  // monitor.reference as a map (then `reference` is unset)
  stats::DriftOptions drift;
  std::string window = "daily";  // daily | weekly | N (rows)
  bool data_drift = true, prediction_drift = true, data_quality = true;
  stats::QualityOptions quality;  // monitor.data_quality thresholds
  Target target;
  std::optional<PerformanceSignal> performance;
  std::optional<std::string> concept_detector;
  int debounce_breaches = 1, debounce_windows = 1;
  std::optional<double> concept_max_drop;  // the "performance dropped while inputs did not drift" rule
  std::optional<HealthConfig> health;
};

// Reads the file; UsageError when it does not exist.
MonitorConfig load_config(const std::filesystem::path& path);
// Parses YAML text; `source` names it in errors (file:line:col).
MonitorConfig parse_config(const std::string& text, const std::string& source);

// Sets data-quality thresholds from "METRIC=X" (both kinds), "numerical.METRIC=X" or
// "categorical.METRIC=X" (--quality-threshold); UsageError for anything else.
void set_quality_threshold(stats::QualityOptions& o, const std::string& key, double value);

// daily, weekly or a positive number of rows.
bool valid_window(const std::string& window);

// A data path from amlops.yml is relative to the file's folder (unless it exists as given);
// paths from the command line are used as given.
std::string resolve_config_path(const std::string& config_file, const std::string& path, bool from_config);

}  // namespace amlops::monitor
