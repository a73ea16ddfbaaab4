#pragma once
// Statistics shared by reports and analyses.
#include <optional>
#include <vector>

namespace reckon {

double mean(const std::vector<double>& v);
// Linear-interpolated quantile (q in [0,1]) of an unsorted sample; nullopt when empty.
std::optional<double> quantile(std::vector<double> v, double q);
// Coefficient of variation (sample std / mean); nullopt for n < 2 or mean 0.
std::optional<double> coefficient_of_variation(const std::vector<double>& v);

// Kendall's tau-b between two paired samples (ties in either handled as in scipy's
// kendalltau). nullopt when fewer than 2 pairs or when either side is all ties.
std::optional<double> kendall_tau_b(const std::vector<double>& x, const std::vector<double>& y);

// The unbiased pass@k estimator (Chen et al. 2021): 1 - C(n-c, k) / C(n, k) for n samples, c correct.
double pass_at_k(int n, int c, int k);

// EllieSQL's Token Elasticity of Performance of a method against a base B (METHODS.md §3):
// ((EX − EX_B) / EX_B) / ((T − T_B) / T_B); undefined (nullopt) when EX_B or T_B is 0 or T = T_B.
std::optional<double> token_elasticity(double ex, double t, double ex_base, double t_base);

struct Interval {
  double low = 0, high = 0;
};
// Wilson score 95% interval for a proportion of k successes in n trials (n > 0).
Interval wilson_interval(double k, double n, double z = 1.959963984540054);

}  // namespace reckon
