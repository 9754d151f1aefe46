// One drift check of current data against a reference: features, dataset rule, prediction
// drift, and the outcome. Too few rows on either side is an outcome of its own, never "no drift".
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "stats/drift.hpp"
#include "stats/profile.hpp"
#include "stats/quality.hpp"

namespace amlops::monitor {

enum class Outcome { no_drift, drift, too_few_rows };
// "no_drift", "drift", "too_few_rows"
std::string_view outcome_name(Outcome o);

// Fewer rows than this on either side: too few to judge drift (--min-rows).
constexpr int64_t kDefaultMinRows = 30;

struct DriftCheck {
  Outcome outcome = Outcome::no_drift;
  std::string reason;  // too_few_rows: which side has how many rows
  stats::DriftResult result;
  std::optional<stats::FeatureDrift> prediction;
  // Data quality of the current data against the reference (absent with too few rows). It is
  // reported beside drift and does not change the outcome.
  std::optional<stats::QualityResult> quality;
  [[nodiscard]] bool drifted() const { return outcome == Outcome::drift; }
  [[nodiscard]] bool quality_breached() const { return quality && quality->breached; }
};

// Compares every common column (minus options.exclude, or only options.only) and, when given, the
// prediction column apart from the features. Drift = dataset drift or prediction drift. When a
// side has fewer than min_rows rows nothing is compared and the outcome is too_few_rows.
// UsageError when the prediction column is not in both data sets or min_rows < 1. Data quality is
// checked over the same columns (options.only / exclude) and the prediction.
DriftCheck check_drift(const stats::Profile& reference, const stats::Profile& current, stats::DriftOptions options,
                       const std::optional<std::string>& prediction, int64_t min_rows = kDefaultMinRows,
                       stats::QualityOptions quality = {});

}  // namespace amlops::monitor
