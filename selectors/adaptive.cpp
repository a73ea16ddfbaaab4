#include "selectors/adaptive.h"

#include <algorithm>
#include <cmath>

#include "common/error.h"

namespace reckon {
namespace {

double sigmoid(double z) { return 1 / (1 + std::exp(-z)); }

// The score over every item: answered ones as answered, the rest predicted at θ.
double full_score(const IrtItems& items, const std::vector<bool>& asked, double answered_sum, double theta) {
  double total = answered_sum;
  for (Eigen::Index j = 0; j < items.b.size(); ++j)
    if (!asked[static_cast<size_t>(j)]) total += sigmoid(items.a(j, 0) * theta - items.b(j));
  return total / static_cast<double>(items.b.size());
}

}  // namespace

IrtItems adaptive_items(const Eigen::MatrixXd& source, uint64_t seed) {
  if (source.rows() < 2) throw InputError("adaptive testing needs at least 2 source models to fit its item parameters");
  IrtOptions o;
  o.dims = 1;
  o.seed = seed;
  return fit_irt(source, o).items;
}

AdaptiveResult run_adaptive(const IrtItems& items, const AdaptiveOptions& opt, const std::function<double(int)>& answer) {
  if (items.dims() != 1) throw InputError("adaptive testing uses a one-dimensional IRT model");
  const int n = static_cast<int>(items.b.size());
  if (opt.budget < 1 || opt.budget > n) throw InputError("adaptive budget " + std::to_string(opt.budget) + " is not between 1 and " + std::to_string(n));
  AdaptiveResult r;
  std::vector<bool> asked(static_cast<size_t>(n), false);
  double answered_sum = 0;
  auto information = [&](double theta) {  // prior precision 1 (θ ~ N(0, 1)) plus the items asked
    double info = 1;
    for (int j : r.asked) {
      const double p = sigmoid(items.a(j, 0) * theta - items.b(j));
      info += items.a(j, 0) * items.a(j, 0) * p * (1 - p);
    }
    return info;
  };
  while (static_cast<int>(r.asked.size()) < opt.budget) {
    // The unasked item with the most Fisher information a²·P(1−P) at the current ability; ties to
    // the lower index, so a test is reproducible.
    int best = -1;
    double best_info = -1;
    for (int j = 0; j < n; ++j) {
      if (asked[static_cast<size_t>(j)]) continue;
      const double p = sigmoid(items.a(j, 0) * r.theta - items.b(j));
      const double info = items.a(j, 0) * items.a(j, 0) * p * (1 - p);
      if (info > best_info) best_info = info, best = j;
    }
    const double y = answer(best);
    if (!(y >= 0 && y <= 1)) throw InputError("adaptive testing: item " + std::to_string(best) + " scored outside [0, 1]");
    asked[static_cast<size_t>(best)] = true;
    r.asked.push_back(best);
    r.answers.push_back(y);
    answered_sum += y;
    r.theta = fit_ability(items, r.asked, r.answers)(0);
    r.se = 1 / std::sqrt(information(r.theta));
    if (opt.target_se > 0 && static_cast<int>(r.asked.size()) >= opt.min_items && r.se <= opt.target_se) break;
  }
  r.se = 1 / std::sqrt(information(r.theta));
  r.estimate = full_score(items, asked, answered_sum, r.theta);
  // The score rises with θ when discriminations are positive; the interval's ends are taken in
  // whichever order they come.
  const double a = full_score(items, asked, answered_sum, r.theta - 1.96 * r.se);
  const double b = full_score(items, asked, answered_sum, r.theta + 1.96 * r.se);
  r.low = std::min(a, b), r.high = std::max(a, b);
  return r;
}

}  // namespace reckon
