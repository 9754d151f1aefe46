#include "stats/measures.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>

#include "stats/special.hpp"

namespace amlops::stats {
namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

uint64_t key_of(double d) {
  uint64_t u;
  std::memcpy(&u, &d, sizeof u);
  return (u & 0x8000000000000000ULL) ? ~u : (u | 0x8000000000000000ULL);
}
double value_of(uint64_t k) {
  uint64_t u = (k & 0x8000000000000000ULL) ? (k & ~0x8000000000000000ULL) : ~k;
  double d;
  std::memcpy(&d, &u, sizeof d);
  return d;
}

// rel_entr(x, y) as scipy defines it.
double rel_entr(double x, double y) {
  if (std::isnan(x) || std::isnan(y)) return kNaN;
  if (x > 0 && y > 0) return x * std::log(x / y);
  if (x == 0 && y >= 0) return 0;
  return std::numeric_limits<double>::infinity();
}
}  // namespace

void sort_values(std::vector<double>& v) {
  const size_t n = v.size();
  if (n < 4096) {
    std::sort(v.begin(), v.end());
    return;
  }
  std::vector<uint64_t> a(n), b(n);
  for (size_t i = 0; i < n; ++i) a[i] = key_of(v[i]);
  constexpr int kBits = 11, kBuckets = 1 << kBits;
  std::vector<size_t> count(kBuckets);
  for (int shift = 0; shift < 64; shift += kBits) {
    std::fill(count.begin(), count.end(), 0);
    for (uint64_t k : a) ++count[(k >> shift) & (kBuckets - 1)];
    if (count[(a[0] >> shift) & (kBuckets - 1)] == n) continue;  // every key has this digit
    size_t sum = 0;
    for (auto& c : count) {
      size_t t = c;
      c = sum;
      sum += t;
    }
    for (uint64_t k : a) b[count[(k >> shift) & (kBuckets - 1)]++] = k;
    a.swap(b);
  }
  for (size_t i = 0; i < n; ++i) v[i] = value_of(a[i]);
}

KsResult ks_2samp(std::span<const double> a, std::span<const double> b) {
  KsResult r;
  const size_t n1 = a.size(), n2 = b.size();
  if (n1 == 0 || n2 == 0) return {kNaN, kNaN};
  const double d1 = static_cast<double>(n1), d2 = static_cast<double>(n2);
  double maxS = -std::numeric_limits<double>::infinity(), minS = std::numeric_limits<double>::infinity();
  size_t i = 0, j = 0;
  while (i < n1 || j < n2) {
    double x = (j >= n2 || (i < n1 && a[i] <= b[j])) ? a[i] : b[j];
    while (i < n1 && a[i] <= x) ++i;
    while (j < n2 && b[j] <= x) ++j;
    const double diff = static_cast<double>(i) / d1 - static_cast<double>(j) / d2;
    maxS = std::max(maxS, diff);
    minS = std::min(minS, diff);
  }
  const double neg = std::clamp(-minS, 0.0, 1.0);
  double d = neg > maxS ? neg : maxS;
  const auto N1 = static_cast<int64_t>(n1), N2 = static_cast<int64_t>(n2);
  if (std::max(N1, N2) <= 10000) {
    const int64_t g = std::gcd(N1, N2);
    const int64_t lcm = (N1 / g) * N2;
    const double h = std::nearbyint(d * static_cast<double>(lcm));
    const double exact = ks_2samp_exact(d, N1, N2);
    if (exact >= 0) {
      r.statistic = h / static_cast<double>(lcm);
      r.pvalue = std::clamp(exact, 0.0, 1.0);
      return r;
    }
    d = h / static_cast<double>(lcm);
  }
  r.statistic = d;
  const double m = static_cast<double>(std::max(N1, N2)), nn = static_cast<double>(std::min(N1, N2));
  const auto en = static_cast<int64_t>(std::nearbyint(m * nn / (m + nn)));
  r.pvalue = d >= 1.0 ? 0.0 : std::clamp(kolmogn(en, d, false), 0.0, 1.0);
  return r;
}

double wasserstein(std::span<const double> a, std::span<const double> b) {
  const size_t n1 = a.size(), n2 = b.size();
  if (n1 == 0 || n2 == 0) return kNaN;
  const double d1 = static_cast<double>(n1), d2 = static_cast<double>(n2);
  long double sum = 0;
  size_t i = 0, j = 0;
  while (i < n1 || j < n2) {
    double x = (j >= n2 || (i < n1 && a[i] <= b[j])) ? a[i] : b[j];
    while (i < n1 && a[i] <= x) ++i;
    while (j < n2 && b[j] <= x) ++j;
    if (i >= n1 && j >= n2) break;
    double next = (j >= n2 || (i < n1 && a[i] <= b[j])) ? a[i] : b[j];
    const double diff = std::abs(static_cast<double>(i) / d1 - static_cast<double>(j) / d2);
    sum += static_cast<long double>(diff * (next - x));
  }
  return static_cast<double>(sum);
}

double mean(std::span<const double> v) {
  if (v.empty()) return kNaN;
  long double s = 0;
  for (double x : v) s += x;
  return static_cast<double>(s / static_cast<long double>(v.size()));
}

double stddev(std::span<const double> v, int ddof) {
  if (v.size() <= static_cast<size_t>(ddof)) return kNaN;
  long double s = 0;
  for (double x : v) s += x;
  const long double m = s / static_cast<long double>(v.size());
  long double ss = 0;
  for (double x : v) ss += (x - m) * (x - m);
  return static_cast<double>(std::sqrt(ss / static_cast<long double>(v.size() - static_cast<size_t>(ddof))));
}

std::vector<double> linspace(double lo, double hi, size_t num) {
  std::vector<double> y(num);
  if (num == 0) return y;
  if (num == 1) return {lo};
  const double div = static_cast<double>(num - 1);
  const double delta = hi - lo;
  const double step = delta / div;
  for (size_t i = 0; i < num; ++i) {
    y[i] = step == 0 ? (static_cast<double>(i) / div) * delta : static_cast<double>(i) * step;
    y[i] += lo;
  }
  y[num - 1] = hi;
  return y;
}

std::vector<double> histogram_sorted(std::span<const double> a, std::span<const double> edges) {
  std::vector<double> out;
  if (edges.size() < 2) return out;
  std::vector<size_t> cum(edges.size());
  for (size_t i = 0; i + 1 < edges.size(); ++i)
    cum[i] = static_cast<size_t>(std::lower_bound(a.begin(), a.end(), edges[i]) - a.begin());
  cum.back() = static_cast<size_t>(std::upper_bound(a.begin(), a.end(), edges.back()) - a.begin());
  out.resize(edges.size() - 1);
  for (size_t i = 0; i + 1 < edges.size(); ++i) out[i] = static_cast<double>(cum[i + 1] - cum[i]);
  return out;
}

std::vector<double> sturges_edges_numpy(double lo, double hi, size_t n) {
  double first = lo, last = hi;
  if (first == last) {
    first -= 0.5;
    last += 0.5;
  }
  size_t bins = 1;
  const double ptp = hi - lo;
  if (n > 0) {
    const double width = ptp / (std::log2(static_cast<double>(n)) + 1.0);
    if (width > 0) bins = static_cast<size_t>(std::ceil((last - first) / width));
  }
  return linspace(first, last, bins + 1);
}

std::vector<double> azure_edges(double lo, double hi, size_t n_small) {
  if (lo == hi) {
    const double d = lo == 0 ? 0.005 : std::abs(lo) * 0.005;
    return {lo - d, lo + d};
  }
  const auto k = static_cast<size_t>(std::ceil(std::log2(static_cast<double>(std::max<size_t>(n_small, 1))) + 1));
  return linspace(lo, hi, k + 1);
}

double jensen_shannon(std::span<const double> p, std::span<const double> q, double base) {
  double sp = 0, sq = 0;
  for (double x : p) sp += x;
  for (double x : q) sq += x;
  double left = 0, right = 0;
  for (size_t i = 0; i < p.size(); ++i) {
    const double pi = p[i] / sp, qi = q[i] / sq;
    const double m = (pi + qi) / 2.0;
    left += rel_entr(pi, m);
    right += rel_entr(qi, m);
  }
  double js = left + right;
  if (base > 0) js /= std::log(base);
  return std::sqrt(js / 2.0);
}

double psi_laplace(std::span<const double> ref, std::span<const double> cur) {
  double nr = 0, nc = 0;
  for (double x : ref) nr += x;
  for (double x : cur) nc += x;
  const double k = static_cast<double>(ref.size());
  double s = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    const double b = (ref[i] + 1) / (nr + k), p = (cur[i] + 1) / (nc + k);
    s += (p - b) * std::log(p / b);
  }
  return s;
}

double psi_epsilon(std::vector<double> r, std::vector<double> c) {
  auto fix = [](std::vector<double>& v) {
    double mn = std::numeric_limits<double>::infinity();
    for (double x : v)
      if (x > 0) mn = std::min(mn, x);
    const double eps = mn <= 1e-4 ? mn / 1e6 : 1e-4;
    for (double& x : v)
      if (x == 0) x = eps;
  };
  fix(r);
  fix(c);
  double s = 0;
  for (size_t i = 0; i < r.size(); ++i) s += (r[i] - c[i]) * std::log(r[i] / c[i]);
  return s;
}

Chi2Result chi2_contingency(std::span<const double> ref, std::span<const double> cur, bool correction) {
  Chi2Result r;
  const size_t k = ref.size();
  double R = 0, C = 0;
  for (double x : ref) R += x;
  for (double x : cur) C += x;
  const double N = R + C;
  r.dof = static_cast<double>(k) - 1;
  if (k <= 1 || R == 0 || C == 0) {
    r.dof = std::max(0.0, r.dof);
    if (R == 0 || C == 0) r.dof = 0;
    return {0.0, 1.0, r.dof};
  }
  long double stat = 0;
  for (size_t j = 0; j < k; ++j) {
    const double col = ref[j] + cur[j];
    const double obs[2] = {ref[j], cur[j]};
    const double exp[2] = {R * col / N, C * col / N};
    for (int i = 0; i < 2; ++i) {
      double o = obs[i];
      if (correction && r.dof == 1) {
        const double diff = exp[i] - o;
        const double dir = diff > 0 ? 1.0 : (diff < 0 ? -1.0 : 0.0);
        o = o + std::min(0.5, std::abs(diff)) * dir;
      }
      stat += static_cast<long double>((o - exp[i]) * (o - exp[i]) / exp[i]);
    }
  }
  r.statistic = static_cast<double>(stat);
  r.pvalue = chi2_sf(r.statistic, r.dof);
  return r;
}

Chi2Result chisquare(std::span<const double> obs, std::span<const double> exp) {
  Chi2Result r;
  r.dof = static_cast<double>(obs.size()) - 1;
  long double stat = 0;
  bool inf = false;
  for (size_t i = 0; i < obs.size(); ++i) {
    if (exp[i] == 0) {
      if (obs[i] != 0) inf = true;
      continue;
    }
    stat += static_cast<long double>((obs[i] - exp[i]) * (obs[i] - exp[i]) / exp[i]);
  }
  r.statistic = inf ? std::numeric_limits<double>::infinity() : static_cast<double>(stat);
  r.pvalue = r.dof > 0 ? chi2_sf(r.statistic, r.dof) : kNaN;
  return r;
}

double proportion_ztest(double ref_ones, double ref_n, double cur_ones, double cur_n) {
  const double p1 = ref_ones / ref_n, p2 = cur_ones / cur_n;
  const double P = (p1 * ref_n + p2 * cur_n) / (ref_n + cur_n);
  const double se = std::sqrt(P * (1 - P) * (1 / ref_n + 1 / cur_n));
  if (se == 0) return p1 == p2 ? 1.0 : 0.0;
  const double z = (p1 - p2) / se;
  return 2 * (1 - normal_cdf(std::abs(z)));
}

}  // namespace amlops::stats
