#include "stats/quality.hpp"

#include <algorithm>

#include "core/error.hpp"

namespace amlops::stats {

bool QualityThresholds::set(std::string_view metric, double value) {
  if (metric == "null_value_rate")
    null_value_rate = value;
  else if (metric == "data_type_error_rate")
    data_type_error_rate = value;
  else if (metric == "out_of_bounds_rate")
    out_of_bounds_rate = value;
  else
    return false;
  return true;
}

double QualityThresholds::get(std::string_view metric) const {
  if (metric == "null_value_rate") return null_value_rate;
  if (metric == "data_type_error_rate") return data_type_error_rate;
  return out_of_bounds_rate;
}

const QualityMetric* FeatureQuality::metric(std::string_view name) const {
  for (const auto& m : metrics)
    if (m.name == name) return &m;
  return nullptr;
}

namespace {

double share(int64_t part, int64_t whole) {
  return whole > 0 ? static_cast<double>(part) / static_cast<double>(whole) : 0.0;
}

// Values of sorted `v` outside [lo, hi], scaled to `total` when v is a sample of the values.
int64_t outside(const std::vector<double>& v, double lo, double hi, int64_t total) {
  if (v.empty()) return 0;
  const auto below = std::lower_bound(v.begin(), v.end(), lo) - v.begin();
  const auto above = v.end() - std::upper_bound(v.begin(), v.end(), hi);
  const auto n = below + above;
  if (static_cast<int64_t>(v.size()) == total) return n;
  return static_cast<int64_t>(static_cast<double>(n) * static_cast<double>(total) / static_cast<double>(v.size()) +
                              0.5);
}

bool known_category(const ColumnProfile& ref, const std::string& k) {
  return std::binary_search(ref.counts.begin(), ref.counts.end(), std::make_pair(k, int64_t{0}),
                            [](const auto& a, const auto& b) { return a.first < b.first; });
}

}  // namespace

FeatureQuality feature_quality(const ColumnProfile& ref, const ColumnProfile& cur, const QualityThresholds& t) {
  FeatureQuality f;
  f.name = ref.name;
  f.type = std::string(type_name(ref.type));
  f.rows = cur.count + cur.missing;
  int64_t type_errors = 0, out_of_bounds = 0;
  const bool bounded = ref.type == ColumnType::numeric && ref.count > 0;  // timestamps move on: no bounds
  if (cur.numeric()) {
    if (ref.type == ColumnType::numeric) {
      if (cur.type != ColumnType::numeric) type_errors = cur.count;  // timestamps where numbers were
    } else if (ref.type == ColumnType::datetime) {
      if (cur.type != ColumnType::datetime) type_errors = cur.count;
    } else if (ref.type == ColumnType::boolean) {
      type_errors = cur.count;
    }
    if (bounded && cur.type == ColumnType::numeric) out_of_bounds = outside(cur.sorted, ref.min, ref.max, cur.count);
    if (ref.type == ColumnType::categorical) {
      // Numbers in a categorical column: new categories are the numbers the reference never had.
      std::vector<std::pair<std::string, int64_t>> counts;
      for (size_t i = 0; i < cur.sorted.size();) {
        size_t j = i;
        while (j < cur.sorted.size() && cur.sorted[j] == cur.sorted[i]) ++j;
        counts.emplace_back(format_number(cur.sorted[i]), static_cast<int64_t>(j - i));
        i = j;
      }
      for (auto& [k, n] : counts) {
        if (known_category(ref, k)) continue;
        out_of_bounds += n;
        f.new_categories.emplace_back(k, n);
      }
    }
  } else {
    for (const auto& [k, n] : cur.counts) {
      if (!fits_type(k, ref.type)) {
        type_errors += n;
        continue;
      }
      if (ref.type == ColumnType::numeric) {
        if (bounded) {
          const double x = *parse_number_text(k);
          if (x < ref.min || x > ref.max) out_of_bounds += n;
        }
      } else if (!ref.numeric()) {
        if (!known_category(ref, k)) {
          out_of_bounds += n;
          f.new_categories.emplace_back(k, n);
        }
      }
    }
  }
  f.new_category_count = static_cast<int64_t>(f.new_categories.size());
  std::stable_sort(f.new_categories.begin(), f.new_categories.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  if (f.new_categories.size() > 20) f.new_categories.resize(20);
  if (ref.type == ColumnType::datetime) f.note = "timestamps are not bounded by the reference's range";

  const int64_t counts[] = {cur.missing, type_errors, out_of_bounds};
  const double baseline[] = {share(ref.missing, ref.count + ref.missing), 0.0, 0.0};
  for (size_t i = 0; i < 3; ++i) {
    QualityMetric m;
    m.name = std::string(kQualityMetrics[i]);
    m.rows = counts[i];
    m.value = share(counts[i], f.rows);
    m.reference = baseline[i];
    m.threshold = t.get(m.name);
    // A tolerance of a few ulps so that a rate equal to the reference's (same data) never breaches.
    m.breached = f.rows > 0 && m.value > m.reference + m.threshold + 1e-12;
    f.breached = f.breached || m.breached;
    f.metrics.push_back(std::move(m));
  }
  return f;
}

QualityResult compute_quality(const Profile& reference, const Profile& current, const QualityOptions& o) {
  QualityResult r;
  for (const auto& rc : reference.columns) {
    if (std::find(o.exclude.begin(), o.exclude.end(), rc.name) != o.exclude.end()) continue;
    if (!o.only.empty() && std::find(o.only.begin(), o.only.end(), rc.name) == o.only.end()) continue;
    const auto* cc = current.find(rc.name);
    if (!cc) continue;
    r.features.push_back(feature_quality(rc, *cc, rc.numeric() ? o.numerical : o.categorical));
    if (r.features.back().breached) ++r.breached_features;
  }
  r.breached = r.breached_features > 0;
  return r;
}

}  // namespace amlops::stats
