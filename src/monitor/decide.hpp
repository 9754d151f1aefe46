// The retrain decision: per window, the signals data drift, prediction drift, performance and
// concept drift; a signal triggers when it breaches in at least k of the last n windows.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "core/json.hpp"
#include "monitor/config.hpp"
#include "monitor/data.hpp"
#include "monitor/windows.hpp"
#include "report/fragment.hpp"
#include "stats/drift.hpp"
#include "stats/profile.hpp"
#include "stats/table.hpp"

namespace amlops::monitor {

// One signal over the windows (same order as the windows).
struct SignalSeries {
  std::string name;  // data_drift | prediction_drift | data_quality | performance | concept_drift
  std::vector<bool> breached;
  std::vector<std::string> detail;  // why it breached (or the measured value)
  // For trend charts: the measured value per window (NaN = not measured), in the unit of
  // `measure`, and the threshold in that unit (absent: a yes/no signal).
  std::vector<double> values;
  std::optional<double> threshold;
  std::string measure;
};

struct Trigger {
  std::string signal;
  int breaches = 0;    // in the last `considered` windows
  int considered = 0;  // min(n, number of windows)
  bool triggered = false;
  std::string reason;  // "<signal> breached in 2 of the last 3 windows (<window>: <detail>; ...)"
};

// Debounce: each signal triggers when it breaches in at least `breaches` of the last `windows`
// windows. `labels` names the windows in the reasons.
std::vector<Trigger> debounce(const std::vector<SignalSeries>& signals, const std::vector<std::string>& labels,
                              int breaches, int windows);

// What one window measured, per signal (absent when the signal is off or cannot be measured).
struct WindowResult {
  std::string label;
  size_t rows = 0;
  std::optional<stats::DatasetDrift> data_drift;
  std::vector<std::string> drifted_features;
  std::optional<stats::FeatureDrift> prediction_drift;
  std::optional<stats::QualityResult> data_quality;
  struct Performance {
    bool evaluated = false;  // false: no labelled rows in the window
    std::string metric;
    double value = 0;
    std::optional<double> drop;  // against the reference's value (max_drop)
    bool breached = false;
  };
  std::optional<Performance> performance;
  bool concept_drift = false;  // present when the concept_drift signal exists
};

struct Decision {
  bool retrain = false;              // from the data and model signals only
  std::vector<std::string> reasons;  // one per triggered signal
  // Endpoint health (add_health_signal): an operational outcome of its own (scale out, roll back),
  // never a reason to retrain.
  bool health_breached = false;
  std::vector<std::string> health_reasons;
  int breaches = 1, windows = 1;  // the debounce rule
  std::vector<WindowResult> window_results;
  std::vector<SignalSeries> signals;
  std::vector<Trigger> triggers;
  Target target;
  stats::Profile latest;  // the last window's profile (descriptive statistics in the report)
};

// Evaluates the signals of `c` on `current` (split into windows) against `reference` (whose table,
// when present and scored, gives the performance baseline). CheckFailed when there is no row.
Decision decide(const MonitorConfig& c, const Source& reference, const stats::Table& current,
                const stats::ProfileOptions& po);

// The decision as JSON (retrain, reasons, debounce, signals, windows) into `doc`.
void decision_json(const Decision& d, json::Document& doc);
// The summary body (no heading): the reasons, the window x signal table and the debounce rule.
std::string decision_markdown(const Decision& d);
// A self-contained HTML page: the target, the verdict, each signal over the windows as a line
// chart with its threshold, the window table, and the reference against the last window
// (descriptive statistics, data quality with new categories highlighted).
std::string decision_html(const Decision& d, const stats::Profile& reference);
// One line: "retrain: true — data_drift breached in 2 of the last 3 windows" or "retrain: false —
// no signal breached in 2 of the last 3 windows", then "; endpoint health: breached — ..." when
// the endpoint's health breached.
std::string decision_verdict(const Decision& d);
// "endpoint health: breached — endpoint_health breached in 2 of the last 3 intervals (...)"; empty
// when the health did not breach.
std::string health_verdict(const Decision& d);
// The report section "Retrain decision": fail when `fail_on_retrain` and the decision is to
// retrain or `fail_on_breach` and the endpoint's health breached, warn for either without its
// flag, else pass.
report::Fragment decision_fragment(const Decision& d, bool fail_on_retrain, bool fail_on_breach = false);

}  // namespace amlops::monitor
