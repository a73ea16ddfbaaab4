// Subset-selection speed: `select eval` over 5 seeds × 4 budgets on a 5,000 × 500 matrix (target:
// under 30 s on 2 cores), and IRT fitting time per matrix entry as the matrix grows (linear scaling
// shows as a flat ratio). Synthetic 2PL data, fixed seeds.
#include <chrono>
#include <cstdio>
#include <random>

#include "selectors/evaluate.h"
#include "selectors/irt.h"

using namespace reckon;
using Clock = std::chrono::steady_clock;

namespace {

ResponseMatrix synthetic(int models, int items, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> n01(0, 1);
  std::uniform_real_distribution<double> u(0, 1);
  std::vector<double> theta(models), a(items), b(items);
  for (auto& t : theta) t = n01(rng);
  for (int j = 0; j < items; ++j) a[j] = 0.5 + 1.5 * u(rng), b[j] = 1.5 * n01(rng);
  ResponseMatrix m;
  m.y.resize(models, items);
  for (int i = 0; i < models; ++i) {
    m.models.push_back("m" + std::to_string(i));
    for (int j = 0; j < items; ++j) m.y(i, j) = u(rng) < 1 / (1 + std::exp(-(a[j] * theta[i] - b[j]))) ? 1 : 0;
  }
  for (int j = 0; j < items; ++j) m.items.push_back("i" + std::to_string(j));
  return m;
}

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

}  // namespace

int main() {
  {
    const ResponseMatrix m = synthetic(5000, 500, 1);
    SelectEvalOptions o;
    o.methods = {"random", "anchor", "irt", "gp-irt"};
    o.budgets = {10, 25, 50, 100};
    o.seeds = 5;
    const auto t0 = Clock::now();
    auto rows = evaluate_selection(m, nullptr, o);
    const double s = seconds_since(t0);
    std::printf("select eval, 5,000 x 500, 4 methods x 5 seeds x 4 budgets: %.1f s (target < 30 s: %s)\n", s,
                s < 30 ? "met" : "MISSED");
  }
  std::printf("\nIRT fit (3 dims, 250 epochs): seconds per million entries, ratio to the smallest\n");
  std::printf("%10s %10s %12s %10s %8s\n", "models", "items", "entries", "s/M", "ratio");
  double base = 0;
  for (auto [models, items] : {std::pair{500, 200}, std::pair{1000, 400}, std::pair{2000, 500}, std::pair{4000, 500}}) {
    const ResponseMatrix m = synthetic(models, items, 2);
    const auto t0 = Clock::now();
    fit_irt(m.y, IrtOptions{});
    const double per_m = seconds_since(t0) / (static_cast<double>(m.y.size()) / 1e6);
    if (base == 0) base = per_m;
    std::printf("%10d %10d %12lld %10.3f %8.2f\n", models, items, static_cast<long long>(m.y.size()), per_m, per_m / base);
  }
  return 0;
}
