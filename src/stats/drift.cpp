#include "stats/drift.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <exception>
#include <limits>
#include <map>
#include <set>
#include <thread>

#include "core/error.hpp"
#include "core/log.hpp"
#include "stats/measures.hpp"

namespace amlops::stats {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

bool is_pvalue_method(const std::string& m) {
  return m == "ks_pvalue" || m == "chi2_pvalue" || m == "ks" || m == "chisquare" || m == "z";
}

double default_threshold(const std::string& m) {
  if (m == "ks_pvalue" || m == "chi2_pvalue" || m == "ks" || m == "chisquare" || m == "z") return 0.05;
  if (m == "psi") return 0.2;
  return 0.1;  // wasserstein_norm, jensen_shannon, wasserstein, ks_statistic, jensenshannon
}

std::string comparator_for(Compat compat, const std::string& m) {
  if (compat == Compat::evidently) {
    if (m == "ks") return "<=";
    if (m == "chisquare" || m == "z") return "<";
    return ">=";
  }
  return is_pvalue_method(m) ? "<" : ">";
}

bool breach(const std::string& cmp, double v, double t) {
  if (std::isnan(v)) return false;
  if (cmp == "<") return v < t;
  if (cmp == "<=") return v <= t;
  if (cmp == ">=") return v >= t;
  return v > t;
}

const std::set<std::string> kAzureNumeric = {"wasserstein_norm", "wasserstein", "jensen_shannon", "psi",
                                             "ks_pvalue",        "ks_statistic"};
const std::set<std::string> kAzureCategorical = {"jensen_shannon", "psi", "chi2_pvalue", "chi2_statistic"};
const std::set<std::string> kEvidently = {"ks", "chisquare", "z", "wasserstein", "jensenshannon", "psi"};

// Values of a numeric column as category counts (label = shortest number text).
std::vector<std::pair<std::string, int64_t>> value_counts(const std::vector<double>& sorted) {
  std::vector<std::pair<double, int64_t>> vc;
  for (double v : sorted) {
    if (vc.empty() || vc.back().first != v) vc.emplace_back(v, 0);
    ++vc.back().second;
  }
  std::vector<std::pair<std::string, int64_t>> out;
  out.reserve(vc.size());
  for (auto& [v, n] : vc) out.emplace_back(format_number(v), n);
  std::sort(out.begin(), out.end());
  return out;
}

// Aligns two count lists on the sorted union of their keys.
void align(const std::vector<std::pair<std::string, int64_t>>& a, const std::vector<std::pair<std::string, int64_t>>& b,
           std::vector<std::string>& keys, std::vector<double>& ca, std::vector<double>& cb) {
  size_t i = 0, j = 0;
  while (i < a.size() || j < b.size()) {
    if (j >= b.size() || (i < a.size() && a[i].first < b[j].first)) {
      keys.push_back(a[i].first);
      ca.push_back(static_cast<double>(a[i].second));
      cb.push_back(0);
      ++i;
    } else if (i >= a.size() || b[j].first < a[i].first) {
      keys.push_back(b[j].first);
      ca.push_back(0);
      cb.push_back(static_cast<double>(b[j].second));
      ++j;
    } else {
      keys.push_back(a[i].first);
      ca.push_back(static_cast<double>(a[i].second));
      cb.push_back(static_cast<double>(b[j].second));
      ++i;
      ++j;
    }
  }
}

std::vector<double> proportions(std::vector<double> c) {
  double s = 0;
  for (double x : c) s += x;
  for (double& x : c) x = s > 0 ? x / s : 0;
  return c;
}

int64_t distinct_union(const std::vector<double>& a, const std::vector<double>& b) {
  int64_t d = 0;
  size_t i = 0, j = 0;
  while (i < a.size() || j < b.size()) {
    double x = (j >= b.size() || (i < a.size() && a[i] <= b[j])) ? a[i] : b[j];
    while (i < a.size() && a[i] <= x) ++i;
    while (j < b.size() && b[j] <= x) ++j;
    ++d;
  }
  return d;
}

void categorical_metrics(FeatureDrift& f, const std::vector<std::pair<std::string, int64_t>>& rc,
                         const std::vector<std::pair<std::string, int64_t>>& cc, const DriftOptions& o,
                         const std::string& method, int64_t ref_n, int64_t cur_n) {
  std::vector<std::string> keys;
  std::vector<double> r, c;
  align(rc, cc, keys, r, c);
  const bool all = o.all_metrics;
  if (all || method == "jensen_shannon") f.metrics["jensen_shannon"] = jensen_shannon(r, c, 2.0);
  if (all || method == "psi") f.metrics["psi"] = psi_laplace(r, c);
  if (all || method == "chi2_pvalue" || method == "chi2_statistic") {
    auto x = chi2_contingency(r, c, true);
    f.metrics["chi2_statistic"] = x.statistic;
    f.metrics["chi2_pvalue"] = x.pvalue;
  }
  if (o.compat == Compat::evidently) {
    const auto rp = proportions(r), cp = proportions(c);
    if (method == "jensenshannon")
      f.value = jensen_shannon(rp, cp, 0);
    else if (method == "psi")
      f.value = psi_epsilon(rp, cp);
    else if (method == "chisquare") {
      std::vector<double> exp(r.size());
      const double k = static_cast<double>(cur_n) / static_cast<double>(ref_n);
      for (size_t i = 0; i < r.size(); ++i) exp[i] = r[i] * k;
      f.value = chisquare(c, exp).pvalue;
    } else if (method == "z") {
      if (keys.size() <= 1)
        f.value = 1.0;
      else
        f.value = proportion_ztest(r[1], static_cast<double>(ref_n), c[1], static_cast<double>(cur_n));
    } else {
      throw UsageError("feature '" + f.name + "': method '" + method + "' does not apply to a categorical feature");
    }
  } else {
    f.value = f.metrics.at(method);
  }
  // Chart: the 20 most frequent categories.
  std::vector<size_t> idx(keys.size());
  for (size_t i = 0; i < idx.size(); ++i) idx[i] = i;
  std::stable_sort(idx.begin(), idx.end(), [&](size_t a, size_t b) { return r[a] + c[a] > r[b] + c[b]; });
  if (idx.size() > 20) idx.resize(20);
  const auto rp = proportions(r), cp = proportions(c);
  for (size_t i : idx) {
    f.histogram.labels.push_back(keys[i]);
    f.histogram.reference.push_back(rp[i]);
    f.histogram.current.push_back(cp[i]);
  }
}

// A feature reported without being measured: its name and counts.
FeatureDrift unmeasured(const ColumnProfile& ref, const ColumnProfile& cur) {
  FeatureDrift f;
  f.name = ref.name;
  f.count = cur.count;
  f.missing = cur.missing;
  f.reference_count = ref.count;
  f.reference_missing = ref.missing;
  return f;
}

// np.quantile(a, q) (method "linear") on sorted a, with numpy's interpolation formula.
double numpy_quantile(const std::vector<double>& a, double q) {
  const double pos = q * static_cast<double>(a.size() - 1);
  const double prev = std::floor(pos);
  const auto i = static_cast<size_t>(prev);
  const size_t j = std::min(i + 1, a.size() - 1);
  const double g = pos - prev, x = a[i], y = a[j], d = y - x;
  return g >= 0.5 ? y - d * (1 - g) : x + d * g;
}

// A timestamp column as the counts of one calendar field, as a categorical column of that name.
ColumnProfile calendar_profile(const ColumnProfile& c, bool hours) {
  ColumnProfile out;
  out.name = c.name + (hours ? ".hour_of_day" : ".day_of_week");
  out.type = ColumnType::categorical;
  out.count = c.count;
  out.missing = c.missing;
  ColumnProfile tmp;
  const ColumnProfile* src = &c;
  if (c.hours.size() != 24 || c.weekdays.size() != 7) {
    count_calendar(tmp, c.sorted);
    src = &tmp;
  }
  static const char* const kDays[] = {"1-Mon", "2-Tue", "3-Wed", "4-Thu", "5-Fri", "6-Sat", "7-Sun"};
  const auto& v = hours ? src->hours : src->weekdays;
  for (size_t i = 0; i < v.size(); ++i) {
    if (v[i] == 0) continue;
    const std::string hour{static_cast<char>('0' + i / 10 % 10), static_cast<char>('0' + i % 10)};
    out.counts.emplace_back(hours ? hour : std::string(kDays[i % 7]), v[i]);
  }
  std::sort(out.counts.begin(), out.counts.end());
  return out;
}

}  // namespace

std::vector<double> quantile_edges(const std::vector<double>& ref, double lo, double hi, size_t bins) {
  std::vector<double> e;
  if (ref.empty() || bins < 1) return e;
  // np.linspace(0, 1, bins + 1): i * step, the last exactly 1.
  const double step = 1.0 / static_cast<double>(bins);
  for (size_t i = 0; i <= bins; ++i) e.push_back(numpy_quantile(ref, i == bins ? 1.0 : static_cast<double>(i) * step));
  e.erase(std::unique(e.begin(), e.end()), e.end());
  if (e.size() < 2) return {};
  e.front() = std::min(e.front(), lo);
  e.back() = std::max(e.back(), hi);
  return e;
}

std::optional<PsiBins> parse_psi_bins(std::string_view s) {
  if (s == "uniform") return PsiBins::uniform;
  if (s == "quantile") return PsiBins::quantile;
  return std::nullopt;
}

std::optional<Compat> parse_compat(std::string_view s) {
  if (s == "azure" || s == "azureml" || s == "default") return Compat::azure;
  if (s == "evidently") return Compat::evidently;
  return std::nullopt;
}

FeatureDrift feature_drift(const ColumnProfile& ref, const ColumnProfile& cur, const DriftOptions& o) {
  FeatureDrift f = unmeasured(ref, cur);
  FeatureRule rule;
  if (auto it = o.features.find(ref.name); it != o.features.end()) rule = it->second;

  bool numeric = ref.numeric() && cur.numeric();
  if (rule.type)
    numeric = *rule.type == ColumnType::numeric || *rule.type == ColumnType::datetime;
  else if (numeric && o.compat == Compat::azure && ref.integral && cur.integral && ref.count > 0 &&
           static_cast<double>(ref.distinct()) / static_cast<double>(ref.count) < 0.05)
    numeric = false;  // Azure: integer columns with few distinct values are categorical
  if (numeric && (!ref.numeric() || !cur.numeric()))
    throw UsageError("feature '" + f.name + "' is declared numeric but is not numeric in both data sets");
  f.type = numeric ? "numeric" : "categorical";

  // Method.
  std::string method;
  if (rule.method)
    method = *rule.method;
  else if (numeric && o.numeric_method)
    method = *o.numeric_method;
  else if (!numeric && o.categorical_method)
    method = *o.categorical_method;
  const int64_t n_ref = ref.count, n_cur = cur.count;
  if (n_ref == 0 || n_cur == 0) {
    f.method = method.empty() ? (numeric ? "wasserstein_norm" : "jensen_shannon") : method;
    f.value = kNaN;
    f.threshold = rule.threshold.value_or(default_threshold(f.method));
    f.comparator = comparator_for(o.compat, f.method);
    f.note = n_ref == 0 ? "no reference values" : "no current values";
    return f;
  }
  const std::vector<double>* a = numeric ? &ref.sorted : nullptr;
  const std::vector<double>* b = numeric ? &cur.sorted : nullptr;
  std::vector<std::pair<std::string, int64_t>> rc, cc;
  if (!numeric) {
    rc = ref.numeric() ? value_counts(ref.sorted) : ref.counts;
    cc = cur.numeric() ? value_counts(cur.sorted) : cur.counts;
  }
  if (method.empty()) {
    if (o.compat == Compat::azure) {
      method = numeric ? "wasserstein_norm" : "jensen_shannon";
    } else {
      int64_t n_values;
      if (numeric)
        n_values = distinct_union(*a, *b);
      else {
        std::set<std::string> u;
        for (auto& [k, n] : rc) u.insert(k);
        for (auto& [k, n] : cc) u.insert(k);
        n_values = static_cast<int64_t>(u.size());
      }
      if (n_ref <= 1000) {
        if (numeric && n_values > 5)
          method = "ks";
        else if (n_values > 2)
          method = "chisquare";
        else
          method = "z";
      } else {
        method = numeric && n_values > 5 ? "wasserstein" : "jensenshannon";
      }
    }
  }
  const auto& valid = o.compat == Compat::evidently ? kEvidently : (numeric ? kAzureNumeric : kAzureCategorical);
  if (!valid.count(method))
    throw UsageError("feature '" + f.name + "': unknown " + std::string(numeric ? "numeric" : "categorical") +
                     " method '" + method + "' for --compat " +
                     (o.compat == Compat::evidently ? "evidently" : "azure"));
  f.method = method;
  f.threshold = rule.threshold
                    ? *rule.threshold
                    : (numeric ? o.numeric_threshold : o.categorical_threshold).value_or(default_threshold(method));
  f.comparator = comparator_for(o.compat, method);

  if (!numeric) {
    categorical_metrics(f, rc, cc, o, method, n_ref, n_cur);
  } else if (o.compat == Compat::evidently && (method == "chisquare" || method == "z")) {
    auto vr = value_counts(*a), vc = value_counts(*b);
    DriftOptions sub;
    sub.compat = o.compat;
    categorical_metrics(f, vr, vc, sub, method, n_ref, n_cur);
    f.histogram = {};
  }
  if (numeric) {
    const bool all = o.all_metrics;
    const std::string m = method;
    const bool want_ks = all || m == "ks_pvalue" || m == "ks_statistic" || m == "ks";
    const bool want_w = all || m == "wasserstein" || m == "wasserstein_norm";
    double w = kNaN;
    if (want_ks) {
      auto ks = want_w ? ks_2samp_and_wasserstein(*a, *b, w) : ks_2samp(*a, *b);
      f.metrics["ks_statistic"] = ks.statistic;
      f.metrics["ks_pvalue"] = ks.pvalue;
    } else if (want_w) {
      w = wasserstein(*a, *b);
    }
    if (want_w) {
      f.metrics["wasserstein"] = w;
      f.metrics["wasserstein_norm"] = w / std::max(ref.std_sample, 0.001);
    }
    const double lo = std::min(a->front(), b->front()), hi = std::max(a->back(), b->back());
    auto edges = azure_edges(lo, hi, static_cast<size_t>(std::min(a->size(), b->size())));
    auto hr = histogram_sorted(*a, edges), hc = histogram_sorted(*b, edges);
    if (all || m == "jensen_shannon") f.metrics["jensen_shannon"] = jensen_shannon(hr, hc, 2.0);
    if (all || m == "psi") {
      auto qe =
          o.psi_bins == PsiBins::quantile ? quantile_edges(*a, lo, hi, o.psi_quantile_bins) : std::vector<double>{};
      f.metrics["psi"] =
          qe.empty() ? psi_laplace(hr, hc) : psi_laplace(histogram_sorted(*a, qe), histogram_sorted(*b, qe));
    }
    f.histogram.edges = edges;
    f.histogram.reference = proportions(hr);
    f.histogram.current = proportions(hc);
    if (o.compat == Compat::azure) {
      f.value = f.metrics.at(m);
    } else if (m == "ks") {
      f.value = f.metrics.at("ks_pvalue");
    } else if (m == "wasserstein") {
      if (std::isnan(w)) w = wasserstein(*a, *b);
      f.value = w / std::max(ref.std_pop, 0.001);
    } else if (m == "jensenshannon" || m == "psi") {
      std::vector<double> rp, cp;
      if (ref.distinct() > 20) {
        auto e = sturges_edges_numpy(lo, hi, a->size() + b->size());
        rp = histogram_sorted(*a, e);
        cp = histogram_sorted(*b, e);
        for (double& x : rp) x /= static_cast<double>(a->size());
        for (double& x : cp) x /= static_cast<double>(b->size());
      } else {
        std::vector<std::string> keys;
        align(value_counts(*a), value_counts(*b), keys, rp, cp);
        rp = proportions(rp);
        cp = proportions(cp);
      }
      f.value = m == "psi" ? psi_epsilon(rp, cp) : jensen_shannon(rp, cp, 0);
    }
  }
  f.drifted = breach(f.comparator, f.value, f.threshold);
  return f;
}

DriftResult compute_drift(const Profile& reference, const Profile& current, const DriftOptions& o) {
  DriftResult r;
  auto wanted = [&](const std::string& name) {
    if (std::find(o.exclude.begin(), o.exclude.end(), name) != o.exclude.end()) return false;
    return o.only.empty() || std::find(o.only.begin(), o.only.end(), name) != o.only.end();
  };
  for (const auto& name : o.only)
    if (!reference.find(name) || !current.find(name))
      throw UsageError("column '" + name + "' is not in both the reference (" + reference.source +
                       ") and the current (" + current.source + ") data");
  std::vector<std::pair<const ColumnProfile*, const ColumnProfile*>> pairs;
  std::vector<FeatureDrift> empty;  // not measured: a side without values, or a changed type
  std::vector<std::pair<ColumnProfile, ColumnProfile>> calendar;  // timestamps' hour / weekday counts
  for (const auto& rc : reference.columns) {
    if (!wanted(rc.name)) continue;
    const auto* cc = current.find(rc.name);
    if (!cc) {
      log::warn("column '", rc.name, "' is missing from the current data; not compared");
      continue;
    }
    auto rule = o.features.find(rc.name);
    const bool forced = rule != o.features.end() && rule->second.type;
    const bool ref_dt = rc.type == ColumnType::datetime, cur_dt = cc->type == ColumnType::datetime;
    const bool empty_side = rc.count == 0 || cc->count == 0;
    if (!forced && ref_dt && cur_dt && !empty_side) {
      // Timestamps are compared by their hour-of-day and day-of-week distributions (UTC), each
      // as a categorical feature.
      for (bool hours : {true, false}) {
        calendar.emplace_back(calendar_profile(rc, hours), calendar_profile(*cc, hours));
      }
      continue;
    }
    if (!forced && (ref_dt || cur_dt) && (ref_dt == cur_dt || empty_side)) {
      log::debug("column '", rc.name, "' holds timestamps without values on one side; not compared");
      continue;
    }
    if (!forced && rc.numeric() != cc->numeric() && empty_side) {
      // A column with no values has no type of its own: report it as empty, not as a mismatch.
      FeatureDrift f = unmeasured(rc, *cc);
      f.type = (rc.count ? rc.numeric() : cc->numeric()) ? "numeric" : "categorical";
      f.method = f.type == "numeric" ? (o.numeric_method ? *o.numeric_method : std::string("wasserstein_norm"))
                                     : (o.categorical_method ? *o.categorical_method : std::string("jensen_shannon"));
      f.threshold = default_threshold(f.method);
      f.comparator = comparator_for(o.compat, f.method);
      f.value = kNaN;
      f.note = rc.count == 0 ? "no reference values" : "no current values";
      empty.push_back(std::move(f));
      continue;
    }
    if (!forced && (rc.numeric() != cc->numeric() || ref_dt != cur_dt)) {
      // The type itself changed (e.g. one value that is not a number makes a numeric column
      // categorical): that is drift of the feature.
      FeatureDrift f = unmeasured(rc, *cc);
      f.type = std::string(type_name(cc->type));
      f.method = "type_change";
      f.value = 1;
      f.threshold = 0;
      f.comparator = ">";
      f.drifted = true;
      f.note = std::string(type_name(rc.type)) + " in the reference, " + std::string(type_name(cc->type)) +
               " in the current data";
      empty.push_back(std::move(f));
      continue;
    }
    pairs.emplace_back(&rc, cc);
  }
  for (const auto& [rp, cp] : calendar) pairs.emplace_back(&rp, &cp);
  // Features are independent: compute them in parallel.
  r.features.resize(pairs.size());
  std::vector<std::exception_ptr> errors(pairs.size());
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i; (i = next++) < pairs.size();) {
      try {
        r.features[i] = feature_drift(*pairs[i].first, *pairs[i].second, o);
      } catch (...) {
        errors[i] = std::current_exception();
      }
    }
  };
  const unsigned threads = std::min<unsigned>(std::max(1u, std::thread::hardware_concurrency()),
                                              static_cast<unsigned>(std::max<size_t>(1, pairs.size())));
  std::vector<std::thread> pool;
  for (unsigned k = 1; k < threads; ++k) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
  for (auto& e : errors)
    if (e) std::rethrow_exception(e);
  for (size_t i = pairs.size() - calendar.size(); i < pairs.size(); ++i) {
    auto& f = r.features[i];
    f.type = "datetime";
    f.note = f.name.ends_with(".hour_of_day") ? "hour-of-day distribution (UTC)" : "day-of-week distribution (UTC)";
  }
  for (auto& f : empty) r.features.push_back(std::move(f));
  auto& d = r.dataset;
  d.features = static_cast<int>(r.features.size());
  for (const auto& f : r.features) d.drifted_features += f.drifted ? 1 : 0;
  d.share = d.features ? static_cast<double>(d.drifted_features) / d.features : 0.0;
  if (o.drift_share) {
    d.drift_share = *o.drift_share;
    d.drifted = d.features > 0 && d.share >= *o.drift_share && d.drifted_features > 0;
  } else if (o.compat == Compat::evidently) {
    d.drift_share = 0.5;
    d.drifted = d.features > 0 && d.share >= 0.5;
  } else {
    d.drift_share = 0.0;
    d.drifted = d.drifted_features > 0;
  }
  return r;
}

}  // namespace amlops::stats
