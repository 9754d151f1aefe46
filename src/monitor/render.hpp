// Drift results as JSON, text, markdown (CI summaries) and a self-contained HTML report.
#pragma once
#include <ostream>
#include <string>

#include "core/json.hpp"
#include "monitor/config.hpp"
#include "monitor/drift.hpp"
#include "report/fragment.hpp"
#include "stats/drift.hpp"

namespace amlops::monitor {

json::Value feature_json(const stats::FeatureDrift& f, json::Builder& b);
json::Value dataset_json(const stats::DatasetDrift& d, json::Builder& b);
// Sets outcome, features, dataset (absent with too few rows), prediction and drifted (null with
// too few rows) on `doc`.
void check_json(const DriftCheck& c, json::Value& doc, json::Builder& b);

// value / threshold for distances, threshold / value for p-values: > 1 means drift.
double severity(const stats::FeatureDrift& f);

// The summary body (no heading: the section's title and verdict come with drift_fragment): the
// inputs, the outcome, a chart of the worst features and the table. `reference` and `current`
// name the inputs.
std::string drift_markdown(const DriftCheck& c, const std::string& reference, const std::string& current);
// One line: "drift in 3 of 12 features (worst: psi price 0.31)", "no drift in 12 features",
// "too few rows to judge drift: ...", with the prediction's drift when it is checked.
std::string drift_verdict(const DriftCheck& c);
// The report section "Data drift": status fail when `fail_on_drift` and the run fails for it
// (drift or too few rows), warn for drift or too few rows without it, else pass.
// A data-quality breach alone makes the section warn, or fail with `fail_on_quality`.
report::Fragment drift_fragment(const DriftCheck& c, const std::string& reference, const std::string& current,
                                bool fail_on_drift, bool fail_on_quality = false);
// fail when the check failed and the run fails for it, warn when it failed, else pass.
report::FragmentStatus check_status(bool problem, bool failing_run);
std::string drift_html(const DriftCheck& c, const std::string& reference, const std::string& current,
                       const std::string& compat);
// What the HTML report shows besides the check: the inputs' names, the monitored model and
// deployment, and the profiles for descriptive statistics (optional).
struct DriftReport {
  std::string reference, current, compat;
  Target target;
  const stats::Profile* reference_profile = nullptr;
  const stats::Profile* current_profile = nullptr;
};
std::string drift_html(const DriftCheck& c, const DriftReport& report);

// Data quality: JSON {breached, breached_features, features: [{name, type, rows, breached,
// metrics: {null_value_rate: {value, reference, threshold, rows, breached}, ...},
// new_categories: {category: count}, new_category_count}]}, a text block, a markdown body and
// one line.
json::Value quality_json(const stats::QualityResult& q, json::Builder& b);
void quality_text(std::ostream& os, const stats::QualityResult& q);
std::string quality_markdown(const stats::QualityResult& q);
std::string quality_verdict(const stats::QualityResult& q);
// HTML: the quality table (breached rows marked) and the descriptive statistics of both
// profiles (count, missing, mean, std, quantiles; categories with the new ones highlighted).
std::string quality_html(const stats::QualityResult& q);
std::string statistics_html(const stats::Profile& reference, const stats::Profile& current,
                            const stats::QualityResult* quality);
// The report header line: "Model credit:3 · deployment credit-ep/blue" (escaped), or "".
std::string target_html(const Target& t);
void drift_text(std::ostream& os, const DriftCheck& c);

}  // namespace amlops::monitor
