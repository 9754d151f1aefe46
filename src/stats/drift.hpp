// Per-feature and dataset drift between a reference and a current profile.
// Default conventions follow Azure ML model monitoring; `Compat::evidently` follows Evidently's
// size-dependent test choice and its 50 % dataset rule (see docs/monitor.md).
#pragma once
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "stats/profile.hpp"

namespace amlops::stats {

enum class Compat { azure, evidently };

// Bins of the numeric PSI (Azure conventions): uniform = Azure ML's equal-width bins over both
// samples; quantile = `psi_quantile_bins` bins at the reference's quantiles (numpy's linear
// quantiles, repeated edges dropped), the outer edges stretched to cover both samples.
enum class PsiBins { uniform, quantile };
std::optional<PsiBins> parse_psi_bins(std::string_view s);
std::optional<Compat> parse_compat(std::string_view s);

struct FeatureRule {
  std::optional<std::string> method;  // a metric key (azure) or an Evidently test name
  std::optional<double> threshold;
  std::optional<ColumnType> type;  // force numeric/categorical comparison
};

struct DriftOptions {
  Compat compat = Compat::azure;
  bool all_metrics = false;
  std::vector<std::string> only;     // compare only these columns (empty = all common columns)
  std::vector<std::string> exclude;  // never compare these
  std::map<std::string, FeatureRule> features;
  std::optional<std::string> numeric_method, categorical_method;
  std::optional<double> numeric_threshold, categorical_threshold;
  // Dataset drift when share of drifted features >= drift_share; unset: azure = any feature,
  // evidently = 0.5.
  std::optional<double> drift_share;
  PsiBins psi_bins = PsiBins::uniform;
  size_t psi_quantile_bins = 10;
};

// The quantile bin edges described at PsiBins (empty when the reference has a single value).
std::vector<double> quantile_edges(const std::vector<double>& ref_sorted, double lo, double hi, size_t bins);

struct Histogram {
  std::vector<std::string> labels;  // categories (categorical)
  std::vector<double> edges;        // bin edges (numeric)
  std::vector<double> reference;    // proportions
  std::vector<double> current;
};

struct FeatureDrift {
  std::string name;
  std::string type;                                    // "numeric" | "categorical"
  int64_t count = 0, missing = 0;                      // current
  int64_t reference_count = 0, reference_missing = 0;  // reference
  bool drifted = false;
  std::string method;
  std::string comparator;  // ">", ">=", "<", "<="
  double value = 0, threshold = 0;
  std::map<std::string, double> metrics;  // NaN = not defined
  std::string note;
  Histogram histogram;
};

struct DatasetDrift {
  int drifted_features = 0;
  int features = 0;
  double share = 0;
  double drift_share = 0;
  bool drifted = false;
};

struct DriftResult {
  std::vector<FeatureDrift> features;
  DatasetDrift dataset;
};

DriftResult compute_drift(const Profile& reference, const Profile& current, const DriftOptions& options);
FeatureDrift feature_drift(const ColumnProfile& ref, const ColumnProfile& cur, const DriftOptions& options);

}  // namespace amlops::stats
