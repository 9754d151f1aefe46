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
#include "stats/drift.hpp"
#include "stats/profile.hpp"
#include "stats/table.hpp"

namespace amlops::monitor {

// One signal over the windows (same order as the windows).
struct SignalSeries {
  std::string name;  // data_drift | prediction_drift | performance | concept_drift
  std::vector<bool> breached;
  std::vector<std::string> detail;  // why it breached (or the measured value)
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
  bool retrain = false;
  std::vector<std::string> reasons;  // one per triggered signal
  int breaches = 1, windows = 1;     // the debounce rule
  std::vector<WindowResult> window_results;
  std::vector<SignalSeries> signals;
  std::vector<Trigger> triggers;
};

// Evaluates the signals of `c` on `current` (split into windows) against `reference` (whose table,
// when present and scored, gives the performance baseline). CheckFailed when there is no row.
Decision decide(const MonitorConfig& c, const Source& reference, const stats::Table& current,
                const stats::ProfileOptions& po);

// The decision as JSON (retrain, reasons, debounce, signals, windows) into `doc`.
void decision_json(const Decision& d, json::Document& doc);
// The markdown summary: the decision, its reasons and the window x signal table.
std::string decision_markdown(const Decision& d);

}  // namespace amlops::monitor
