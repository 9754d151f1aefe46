// Distribution functions that the drift tests need, ported to agree with scipy 1.10 to ~1e-12:
// the two-sample Kolmogorov-Smirnov p-value (exact lattice-path counts below scipy's size limit,
// the one-sample Kolmogorov distribution kstwo above it), chi-squared and normal tails.
#pragma once
#include <cstdint>

namespace amlops::stats {

// scipy.stats.ks_2samp(..., method="auto") two-sided p-value for statistic d of samples of size
// n1 and n2: exact when max(n1, n2) <= 10000 (falling back to asymptotic when the exact
// computation fails), else kstwo.sf(d, round(n1 n2 / (n1 + n2))). Clipped to [0, 1].
double ks_2samp_pvalue(double d, int64_t n1, int64_t n2);
// The exact two-sided p-value (Hodges; Viehmann's recursion for n1 != n2). Returns a negative
// value when the computation is not possible (scipy then switches to asymptotic).
double ks_2samp_exact(double d, int64_t n1, int64_t n2);
// scipy.stats.kstwo: distribution of the one-sample two-sided statistic D_n (Simard & L'Ecuyer).
double kolmogn(int64_t n, double x, bool cdf);
// scipy.special.smirnov: Pr(D+_n >= x), one-sided.
double smirnov(int64_t n, double x);
// scipy.stats.chi2.sf(x, dof).
double chi2_sf(double x, double dof);
// Standard normal CDF.
double normal_cdf(double x);

}  // namespace amlops::stats
