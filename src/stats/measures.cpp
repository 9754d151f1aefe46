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
  std::vector<uint64_t> scratch;
  sort_values(v, scratch);
}

void sort_values(std::vector<double>& v, std::vector<uint64_t>& scratch) {
  const size_t n = v.size();
  if (n < 4096) {
    std::sort(v.begin(), v.end());
    return;
  }
  constexpr int kBits = 8, kBuckets = 1 << kBits, kPasses = (64 + kBits - 1) / kBits;
  // The keys live in v's own storage (bit patterns copied in place) and one scratch array: 8
  // bytes of extra memory per value.
  double* const vp = v.data();
  if (scratch.size() < n) scratch.resize(n);
  uint64_t* const bp = scratch.data();
  std::vector<size_t> count(static_cast<size_t>(kPasses) * kBuckets, 0);
  // One pass builds the keys and every digit's histogram.
  for (size_t i = 0; i < n; ++i) {
    const uint64_t k = key_of(vp[i]);
    std::memcpy(vp + i, &k, sizeof k);
    for (int p = 0; p < kPasses; ++p)
      ++count[static_cast<size_t>(p) * kBuckets + ((k >> (p * kBits)) & (kBuckets - 1))];
  }
  auto key_in_v = [&](size_t i) {
    uint64_t k;
    std::memcpy(&k, vp + i, sizeof k);
    return k;
  };
  bool in_v = true;  // where the keys are now
  for (int p = 0; p < kPasses; ++p) {
    size_t* c = &count[static_cast<size_t>(p) * kBuckets];
    const int shift = p * kBits;
    const uint64_t first = in_v ? key_in_v(0) : bp[0];
    if (c[(first >> shift) & (kBuckets - 1)] == n) continue;  // every key has this digit
    size_t sum = 0;
    for (int d = 0; d < kBuckets; ++d) {
      const size_t t = c[d];
      c[d] = sum;
      sum += t;
    }
    if (in_v) {
      for (size_t i = 0; i < n; ++i) {
        const uint64_t k = key_in_v(i);
        bp[c[(k >> shift) & (kBuckets - 1)]++] = k;
      }
    } else {
      for (size_t i = 0; i < n; ++i) {
        const uint64_t k = bp[i];
        std::memcpy(vp + c[(k >> shift) & (kBuckets - 1)]++, &k, sizeof k);
      }
    }
    in_v = !in_v;
  }
  for (size_t i = 0; i < n; ++i) vp[i] = value_of(in_v ? key_in_v(i) : bp[i]);
}

namespace {
// One merge walk: the ECDF difference at every distinct pooled value gives the KS extremes and
// (times the gap to the next value) the Wasserstein-1 integral, exactly as scipy evaluates them.
void walk(std::span<const double> a, std::span<const double> b, double& maxS, double& minS, double* w) {
  const size_t n1 = a.size(), n2 = b.size();
  const double d1 = static_cast<double>(n1), d2 = static_cast<double>(n2);
  maxS = -std::numeric_limits<double>::infinity();
  minS = std::numeric_limits<double>::infinity();
  long double sum = 0;
  constexpr double kInf = std::numeric_limits<double>::infinity();
  auto at_a = [&](size_t k) { return k < n1 ? a[k] : kInf; };
  auto at_b = [&](size_t k) { return k < n2 ? b[k] : kInf; };
  size_t i = 0, j = 0;
  double x = std::min(a[0], b[0]);
  while (true) {
    // Consume the values equal to x without data-dependent branches (ties are rare: a loop).
    i += at_a(i) == x;
    j += at_b(j) == x;
    double na = at_a(i), nb = at_b(j);
    if (na == x || nb == x) [[unlikely]] {
      while (at_a(i) == x) ++i;
      while (at_b(j) == x) ++j;
      na = at_a(i);
      nb = at_b(j);
    }
    const double diff = static_cast<double>(i) / d1 - static_cast<double>(j) / d2;
    maxS = std::max(maxS, diff);
    minS = std::min(minS, diff);
    if (i >= n1 && j >= n2) break;
    const double next = na < nb ? na : nb;
    if (w) sum += static_cast<long double>(std::abs(diff) * (next - x));
    x = next;
  }
  if (w) *w = static_cast<double>(sum);
}

KsResult ks_from(double maxS, double minS, size_t n1, size_t n2) {
  KsResult r;
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
}  // namespace

KsResult ks_2samp(std::span<const double> a, std::span<const double> b) {
  if (a.empty() || b.empty()) return {kNaN, kNaN};
  double maxS, minS;
  walk(a, b, maxS, minS, nullptr);
  return ks_from(maxS, minS, a.size(), b.size());
}

KsResult ks_2samp_and_wasserstein(std::span<const double> a, std::span<const double> b, double& w) {
  if (a.empty() || b.empty()) {
    w = kNaN;
    return {kNaN, kNaN};
  }
  double maxS, minS;
  walk(a, b, maxS, minS, &w);
  return ks_from(maxS, minS, a.size(), b.size());
}

double wasserstein(std::span<const double> a, std::span<const double> b) {
  if (a.empty() || b.empty()) return kNaN;
  double maxS, minS, w;
  walk(a, b, maxS, minS, &w);
  return w;
}

namespace {
// numpy's pairwise summation (blocks of 128 with 8 accumulators): error O(log n) ulp.
template <typename F>
double pairwise(const double* a, size_t n, F f) {
  if (n < 8) {
    double s = 0;
    for (size_t i = 0; i < n; ++i) s += f(a[i]);
    return s;
  }
  if (n <= 128) {
    double r[8];
    for (int k = 0; k < 8; ++k) r[k] = f(a[k]);
    size_t i = 8;
    for (; i + 8 <= n; i += 8)
      for (int k = 0; k < 8; ++k) r[k] += f(a[i + static_cast<size_t>(k)]);
    double s = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    for (; i < n; ++i) s += f(a[i]);
    return s;
  }
  size_t half = n / 2;
  half -= half % 8;
  return pairwise(a, half, f) + pairwise(a + half, n - half, f);
}
}  // namespace

double mean(std::span<const double> v) {
  if (v.empty()) return kNaN;
  return pairwise(v.data(), v.size(), [](double x) { return x; }) / static_cast<double>(v.size());
}

double stddev(std::span<const double> v, int ddof) {
  if (v.size() <= static_cast<size_t>(ddof)) return kNaN;
  const double m = mean(v);
  const double ss = pairwise(v.data(), v.size(), [m](double x) { return (x - m) * (x - m); });
  return std::sqrt(ss / static_cast<double>(v.size() - static_cast<size_t>(ddof)));
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
