// Two-sample statistics with scipy's conventions. Numeric inputs are sorted arrays without NaN
// (a profile stores them that way); categorical inputs are aligned count vectors.
#pragma once
#include <cstdint>
#include <span>
#include <vector>

namespace amlops::stats {

// Sorts doubles (no NaN) ascending: LSD radix sort (8-bit digits) on the order-preserving bit
// pattern, the keys held in v itself plus one scratch array (8 bytes per value).
void sort_values(std::vector<double>& v);
// The same with a caller's scratch array (grown to v.size() when shorter), so that a thread
// sorting column after column allocates it once.
void sort_values(std::vector<double>& v, std::vector<uint64_t>& scratch);

struct KsResult {
  double statistic = 0;  // as scipy reports it (snapped to h/lcm(n1, n2) on the exact path)
  double pvalue = 1;
};
// scipy.stats.ks_2samp(a, b) two-sided, method "auto".
KsResult ks_2samp(std::span<const double> a_sorted, std::span<const double> b_sorted);
// scipy.stats.wasserstein_distance(a, b) (1-D, unweighted).
double wasserstein(std::span<const double> a_sorted, std::span<const double> b_sorted);
// Both in one merge walk over the sorted samples.
KsResult ks_2samp_and_wasserstein(std::span<const double> a_sorted, std::span<const double> b_sorted, double& w);

double mean(std::span<const double> v);
// Standard deviation with ddof (0 = population, numpy's default; 1 = sample, Spark's stddev).
double stddev(std::span<const double> v, int ddof);

// np.linspace(lo, hi, num) (endpoint included).
std::vector<double> linspace(double lo, double hi, size_t num);
// np.histogram(a, bins=edges)[0] for sorted a: bins half-open, the last one closed; values
// outside [edges.front(), edges.back()] are not counted.
std::vector<double> histogram_sorted(std::span<const double> a_sorted, std::span<const double> edges);
// np.histogram_bin_edges(data, bins="sturges") for data = concat(a, b) given min, max and size.
std::vector<double> sturges_edges_numpy(double lo, double hi, size_t n);
// Azure ML model monitoring's bins: ceil(log2(n_small) + 1) equal-width bins over [lo, hi];
// a constant column gets one bin [m - d, m + d], d = 0.005 |m| (0.005 when m = 0).
std::vector<double> azure_edges(double lo, double hi, size_t n_small);

// scipy.spatial.distance.jensenshannon(p, q, base): p and q are normalised first (counts are fine).
double jensen_shannon(std::span<const double> p, std::span<const double> q, double base);
// PSI with Laplace smoothing (Azure): (c + 1) / (n + k) on both sides.
double psi_laplace(std::span<const double> ref_counts, std::span<const double> cur_counts);
// PSI on proportions with Evidently's empty-bin epsilon (min_nonzero/1e6 if <= 1e-4, else 1e-4).
double psi_epsilon(std::vector<double> ref_prop, std::vector<double> cur_prop);

struct Chi2Result {
  double statistic = 0;
  double pvalue = 1;
  double dof = 0;
};
// scipy.stats.chi2_contingency on the 2 x k table [ref; cur] (Yates' correction when dof = 1).
// Categories with zero count on both sides must be left out by the caller.
Chi2Result chi2_contingency(std::span<const double> ref_counts, std::span<const double> cur_counts,
                            bool correction = true);
// scipy.stats.chisquare(f_obs, f_exp): goodness of fit, dof = k - 1. f_exp = 0 with f_obs > 0 -> inf, p 0.
Chi2Result chisquare(std::span<const double> f_obs, std::span<const double> f_exp);
// Evidently's two-proportion z-test p-value: successes are the count of the "1" category.
double proportion_ztest(double ref_ones, double ref_n, double cur_ones, double cur_n);

}  // namespace amlops::stats
