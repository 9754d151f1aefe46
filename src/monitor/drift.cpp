#include "monitor/drift.hpp"

#include "core/error.hpp"

namespace amlops::monitor {

std::string_view outcome_name(Outcome o) {
  switch (o) {
    case Outcome::drift:
      return "drift";
    case Outcome::too_few_rows:
      return "too_few_rows";
    case Outcome::no_drift:
      break;
  }
  return "no_drift";
}

DriftCheck check_drift(const stats::Profile& reference, const stats::Profile& current, stats::DriftOptions options,
                       const std::optional<std::string>& prediction, int64_t min_rows, stats::QualityOptions quality) {
  if (min_rows < 1) throw UsageError("--min-rows must be at least 1");
  DriftCheck c;
  for (const auto* side : {&reference, &current}) {
    if (side->rows >= min_rows) continue;
    c.outcome = Outcome::too_few_rows;
    c.reason = std::string(side == &reference ? "the reference" : "the current data") + " (" + side->source + ") has " +
               std::to_string(side->rows) + (side->rows == 1 ? " row" : " rows") + ", fewer than " +
               std::to_string(min_rows) + " (--min-rows)";
    return c;
  }
  quality.exclude.insert(quality.exclude.end(), options.exclude.begin(), options.exclude.end());
  if (quality.only.empty() && !options.only.empty()) {
    quality.only = options.only;
    if (prediction) quality.only.push_back(*prediction);
  }
  c.quality = stats::compute_quality(reference, current, quality);
  if (prediction) {
    const auto* rc = reference.find(*prediction);
    const auto* cc = current.find(*prediction);
    if (!rc || !cc) throw UsageError("prediction column '" + *prediction + "' is not in both data sets");
    c.prediction = stats::feature_drift(*rc, *cc, options);
    options.exclude.push_back(*prediction);
  }
  c.result = stats::compute_drift(reference, current, options);
  const bool drifted = c.result.dataset.drifted || (c.prediction && c.prediction->drifted);
  c.outcome = drifted ? Outcome::drift : Outcome::no_drift;
  return c;
}

}  // namespace amlops::monitor
