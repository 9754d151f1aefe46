// Drift results as JSON, text, markdown (CI summaries) and a self-contained HTML report.
#pragma once
#include <ostream>
#include <string>

#include "core/json.hpp"
#include "monitor/drift.hpp"
#include "stats/drift.hpp"

namespace amlops::monitor {

json::Value feature_json(const stats::FeatureDrift& f, json::Builder& b);
json::Value dataset_json(const stats::DatasetDrift& d, json::Builder& b);
// Sets outcome, features, dataset (absent with too few rows), prediction and drifted (null with
// too few rows) on `doc`.
void check_json(const DriftCheck& c, json::Value& doc, json::Builder& b);

// value / threshold for distances, threshold / value for p-values: > 1 means drift.
double severity(const stats::FeatureDrift& f);

std::string drift_markdown(const DriftCheck& c, const std::string& title);
std::string drift_html(const DriftCheck& c, const std::string& reference, const std::string& current,
                       const std::string& compat);
void drift_text(std::ostream& os, const DriftCheck& c);

}  // namespace amlops::monitor
