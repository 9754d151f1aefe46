#include "stats/detectors.hpp"

#include <cmath>
#include <limits>
#include <map>
#include <sstream>

#include "core/error.hpp"

namespace amlops::stats {

void DDM::reset() {
  n_ = 0;
  p_ = 0;
  p_min_ = s_min_ = 0;
  ps_min_ = std::numeric_limits<double>::infinity();
  drift_ = warning_ = false;
}

bool DDM::update(double x) {
  if (drift_) reset();
  ++n_;
  p_ += (x - p_) / static_cast<double>(n_);
  const double s = std::sqrt(p_ * (1 - p_) / static_cast<double>(n_));
  if (n_ > warm_start_) {
    if (p_ + s <= ps_min_) {
      p_min_ = p_;
      s_min_ = s;
      ps_min_ = p_ + s;
    }
    warning_ = p_ + s > p_min_ + warn_t_ * s_min_;
    if (p_ + s > p_min_ + drift_t_ * s_min_) {
      drift_ = true;
      warning_ = false;
    }
  }
  return drift_;
}

void EDDM::reset() {
  n_ = n_errors_ = last_error_ = nd_ = 0;
  mean_ = m2_ = 0;
  m_max_ = -1;
  drift_ = warning_ = false;
}

bool EDDM::update(double x) {
  if (drift_) reset();
  ++n_;
  if (x == 1) {
    ++n_errors_;
    const double d = static_cast<double>(n_ - last_error_);
    ++nd_;
    const double delta = d - mean_;
    mean_ += delta / static_cast<double>(nd_);
    m2_ += delta * (d - mean_);
    if (n_ > warm_start_) {
      const double var = nd_ > 1 ? m2_ / static_cast<double>(nd_ - 1) : 0.0;
      const double m = mean_ + 2 * std::sqrt(var);
      if (m > m_max_) {
        m_max_ = m;
      } else if (n_errors_ > warm_start_) {
        const double r = m / m_max_;
        if (r < beta_)
          drift_ = true;
        else
          warning_ = r < alpha_;
      }
    }
    last_error_ = n_;
  }
  return drift_;
}

void PageHinkley::reset() {
  n_ = 0;
  mean_ = s_inc_ = s_dec_ = 0;
  min_inc_ = std::numeric_limits<double>::infinity();
  max_dec_ = -1;
  drift_ = false;
}

bool PageHinkley::update(double x) {
  if (drift_) reset();
  ++n_;
  mean_ += (x - mean_) / static_cast<double>(n_);
  const double dev = x - mean_;
  s_inc_ = alpha_ * s_inc_ + dev - delta_;
  min_inc_ = std::min(min_inc_, s_inc_);
  s_dec_ = alpha_ * s_dec_ + dev + delta_;
  max_dec_ = std::max(max_dec_, s_dec_);
  if (n_ >= min_instances_) {
    const bool up = s_inc_ - min_inc_ > threshold_;
    const bool down = max_dec_ - s_dec_ > threshold_;
    drift_ = mode_ == Mode::up ? up : mode_ == Mode::down ? down : (up || down);
  }
  return drift_;
}

void ADWIN::insert(double value, double variance) {
  rows_[0].total.push_back(value);
  rows_[0].variance.push_back(variance);
  width_ += 1;
  if (width_ > 1) {
    const double d = value - total_ / (width_ - 1);
    variance_ += (width_ - 1) * d * d / width_;
  }
  total_ += value;
  compress();
}

void ADWIN::compress() {
  for (size_t i = 0; i < rows_.size(); ++i) {
    Row& row = rows_[i];
    if (static_cast<int>(row.total.size()) != max_buckets_ + 1) break;
    if (i + 1 == rows_.size()) rows_.emplace_back();
    Row& r = rows_[i];
    Row& next = rows_[i + 1];
    const double n = std::ldexp(1.0, static_cast<int>(i));
    const double mu1 = r.total[0] / n, mu2 = r.total[1] / n;
    const double t12 = r.total[0] + r.total[1];
    const double v12 = r.variance[0] + r.variance[1] + n * n * (mu1 - mu2) * (mu1 - mu2) / (n + n);
    next.total.push_back(t12);
    next.variance.push_back(v12);
    r.total.erase(r.total.begin(), r.total.begin() + 2);
    r.variance.erase(r.variance.begin(), r.variance.begin() + 2);
    if (static_cast<int>(next.total.size()) <= max_buckets_) break;
  }
}

double ADWIN::remove_oldest() {
  const size_t i = rows_.size() - 1;
  Row& row = rows_[i];
  const double n = std::ldexp(1.0, static_cast<int>(i));
  const double u = row.total.front(), v = row.variance.front();
  const double mu = u / n;
  width_ -= n;
  total_ -= u;
  const double mu_w = width_ > 0 ? total_ / width_ : 0.0;
  variance_ -= v + n * width_ * (mu - mu_w) * (mu - mu_w) / (n + width_);
  row.total.pop_front();
  row.variance.pop_front();
  if (row.total.empty() && rows_.size() > 1) rows_.pop_back();
  return n;
}

bool ADWIN::cut(double n0, double n1, double u0, double u1) const {
  const double dm = std::abs(u0 / n0 - u1 / n1);
  const double dp = std::log(2 * std::log(width_) / delta_);
  const double m = 1 / (n0 - min_len_ + 1) + 1 / (n1 - min_len_ + 1);
  const double eps = std::sqrt(2 * m * variance_ / width_ * dp) + 2.0 / 3.0 * dp * m;
  return dm > eps;
}

bool ADWIN::detect() {
  bool change = false;
  if (tick_ % clock_ != 0 || width_ <= grace_) return false;
  bool reduce = true;
  while (reduce) {
    reduce = false;
    bool exit = false;
    double n0 = 0, n1 = width_, u0 = 0, u1 = total_;
    for (size_t ri = rows_.size(); ri-- > 0 && !exit;) {
      const Row& row = rows_[ri];
      const double n2 = std::ldexp(1.0, static_cast<int>(ri));
      // As river does (issue #1539): the newest bucket of each row is not a cut candidate.
      for (size_t k = 0; k + 1 < row.total.size(); ++k) {
        const double u2 = row.total[k];
        n0 += n2;
        n1 -= n2;
        u0 += u2;
        u1 -= u2;
        if (n1 >= min_len_ && n0 >= min_len_ && cut(n0, n1, u0, u1)) {
          reduce = change = true;
          if (width_ > 0) {
            remove_oldest();
            exit = true;
            break;
          }
        }
      }
    }
  }
  return change;
}

bool ADWIN::update(double x) {
  ++tick_;
  insert(x, 0.0);
  drift_ = detect();
  return drift_;
}

std::unique_ptr<Detector> make_detector(const std::string& spec) {
  // "name" or "name:key=value,key=value" (river's parameter names).
  const auto colon = spec.find(':');
  const std::string name = spec.substr(0, colon);
  std::map<std::string, double> p;
  if (colon != std::string::npos) {
    std::string rest = spec.substr(colon + 1);
    size_t pos = 0;
    while (pos <= rest.size()) {
      size_t comma = rest.find(',', pos);
      if (comma == std::string::npos) comma = rest.size();
      const std::string kv = rest.substr(pos, comma - pos);
      const auto eq = kv.find('=');
      double v = 0;
      if (eq == std::string::npos || !(std::istringstream(kv.substr(eq + 1)) >> v))
        throw UsageError("detector '" + spec + "': expected key=number parameters, got '" + kv + "'");
      p[kv.substr(0, eq)] = v;
      pos = comma + 1;
    }
  }
  auto take = [&](const char* key, double def) {
    auto it = p.find(key);
    if (it == p.end()) return def;
    const double v = it->second;
    p.erase(it);
    return v;
  };
  // Counts are whole numbers from `lo` on; `positive` numbers are > 0; probabilities lie in (0, 1].
  auto take_count = [&](const char* key, int def, int lo) {
    const double v = take(key, def);
    if (!(v >= lo && v <= 1e9 && v == std::floor(v)))
      throw UsageError("detector '" + spec + "': " + key + " must be a whole number >= " + std::to_string(lo));
    return static_cast<int>(v);
  };
  auto take_positive = [&](const char* key, double def, double hi) {
    const double v = take(key, def);
    if (!(v > 0 && v <= hi))
      throw UsageError("detector '" + spec + "': " + key + " must be in (0, " + (hi == 1 ? "1" : "inf") + "]");
    return v;
  };
  constexpr double kInf = std::numeric_limits<double>::max();
  std::unique_ptr<Detector> d;
  if (name == "ddm") {
    d = std::make_unique<DDM>(take_count("warm_start", 30, 0), take_positive("warning_threshold", 2.0, kInf),
                              take_positive("drift_threshold", 3.0, kInf));
  } else if (name == "eddm") {
    d = std::make_unique<EDDM>(take_count("warm_start", 30, 0), take_positive("alpha", 0.95, 1),
                               take_positive("beta", 0.9, 1));
  } else if (name == "page_hinkley" || name == "ph" || name == "page-hinkley") {
    d = std::make_unique<PageHinkley>(take_count("min_instances", 30, 0), take("delta", 0.005),
                                      take_positive("threshold", 50.0, kInf), take_positive("alpha", 1 - 0.0001, 1));
  } else if (name == "adwin") {
    const double delta = take_positive("delta", 0.002, 1);
    if (delta >= 1) throw UsageError("detector '" + spec + "': delta must be in (0, 1)");
    d = std::make_unique<ADWIN>(delta, take_count("clock", 32, 1), take_count("max_buckets", 5, 1),
                                take_count("min_window_length", 5, 1), take_count("grace_period", 10, 0));
  } else {
    throw UsageError("unknown detector '" + name + "' (expected ddm, eddm, page_hinkley or adwin)");
  }
  if (!p.empty()) throw UsageError("detector '" + spec + "': unknown parameter '" + p.begin()->first + "'");
  return d;
}

std::vector<std::string> detector_names() { return {"ddm", "eddm", "page_hinkley", "adwin"}; }

}  // namespace amlops::stats
