// Data quality of current data against a reference profile, with the metrics of Azure ML's
// data_quality monitoring signal: per feature null_value_rate, data_type_error_rate (values that
// do not read as the reference column's type) and out_of_bounds_rate (numbers outside the
// reference's [min, max], categories the reference never had). All three are shares of the
// current rows; a metric breaches when it exceeds the reference's own rate plus its threshold.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "stats/profile.hpp"

namespace amlops::stats {

// The metric names, in the order results list them.
inline constexpr std::string_view kQualityMetrics[] = {"null_value_rate", "data_type_error_rate", "out_of_bounds_rate"};

struct QualityThresholds {
  double null_value_rate = 0.05;
  double data_type_error_rate = 0.0;
  double out_of_bounds_rate = 0.05;
  // Sets a metric by name; false for an unknown name.
  bool set(std::string_view metric, double value);
  [[nodiscard]] double get(std::string_view metric) const;
};

struct QualityOptions {
  QualityThresholds numerical, categorical;  // by the reference column's kind (datetime is numerical)
  std::vector<std::string> only;             // check only these columns (empty = all common columns)
  std::vector<std::string> exclude;          // never these
};

struct QualityMetric {
  std::string name;
  int64_t rows = 0;      // current rows with the problem
  double value = 0;      // share of the current rows
  double reference = 0;  // the reference's own rate (nulls; 0 for the others by definition)
  double threshold = 0;
  bool breached = false;  // value > reference + threshold
};

struct FeatureQuality {
  std::string name;
  std::string type;  // the reference column's type name
  int64_t rows = 0;  // current rows
  std::vector<QualityMetric> metrics;
  // Current categories absent from the reference, most frequent first (at most 20), and how many
  // distinct ones there are in all.
  std::vector<std::pair<std::string, int64_t>> new_categories;
  int64_t new_category_count = 0;
  std::string note;
  bool breached = false;
  [[nodiscard]] const QualityMetric* metric(std::string_view name) const;
};

struct QualityResult {
  std::vector<FeatureQuality> features;
  int breached_features = 0;
  bool breached = false;
};

// Every column of the reference that the current data also has (minus exclude / only).
QualityResult compute_quality(const Profile& reference, const Profile& current, const QualityOptions& options);
FeatureQuality feature_quality(const ColumnProfile& reference, const ColumnProfile& current,
                               const QualityThresholds& thresholds);

}  // namespace amlops::stats
