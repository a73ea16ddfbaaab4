#include "selectors/adaptive.h"

#include <algorithm>
#include <cmath>

#include "common/error.h"

namespace reckon {
namespace {

double sigmoid(double z) { return 1 / (1 + std::exp(-z)); }

// The item parameters of a 2PL with `dims` abilities (0: IrtOptions' default), fitted on source models.
IrtItems source_items(const Eigen::MatrixXd& source, uint64_t seed, int dims) {
  if (source.rows() < 2) throw InputError("adaptive testing needs at least 2 source models to fit its item parameters");
  IrtOptions o;
  if (dims > 0) o.dims = dims;
  o.seed = seed;
  return fit_irt(source, o).items;
}

}  // namespace

IrtItems adaptive_items(const Eigen::MatrixXd& source, uint64_t seed) { return source_items(source, seed, 1); }

IrtItems adaptive_estimate_items(const Eigen::MatrixXd& source, uint64_t seed) { return source_items(source, seed, 0); }

AdaptiveTest::AdaptiveTest(const IrtItems& items, const AdaptiveOptions& opt, const IrtItems* estimate_items)
    : items_(items), estimate_items_(estimate_items), opt_(opt), asked_(static_cast<size_t>(items.b.size()), false) {
  if (items.dims() != 1) throw InputError("adaptive testing uses a one-dimensional IRT model");
  if (estimate_items && estimate_items->b.size() != items.b.size())
    throw InputError("adaptive testing: the two item fits cover different items");
  const int n = static_cast<int>(items.b.size());
  if (opt.budget < 1 || opt.budget > n) throw InputError("adaptive budget " + std::to_string(opt.budget) + " is not between 1 and " + std::to_string(n));
  r_.se = 1;  // the prior's
}

// Prior precision 1 (θ ~ N(0, 1)) plus the Fisher information a²·P(1−P) of the items asked.
double AdaptiveTest::information(double theta) const {
  double info = 1;
  for (int j : r_.asked) {
    const double p = sigmoid(items_.a(j, 0) * theta - items_.b(j));
    info += items_.a(j, 0) * items_.a(j, 0) * p * (1 - p);
  }
  return info;
}

// The score over every item: answered ones as answered, the rest predicted at θ.
double AdaptiveTest::full_score(double theta) const {
  double total = answered_sum_;
  for (Eigen::Index j = 0; j < items_.b.size(); ++j)
    if (!asked_[static_cast<size_t>(j)]) total += sigmoid(items_.a(j, 0) * theta - items_.b(j));
  return total / static_cast<double>(items_.b.size());
}

bool AdaptiveTest::done() const {
  const int asked = static_cast<int>(r_.asked.size());
  if (asked >= opt_.budget) return true;  // the budget is at most the number of items
  return opt_.target_se > 0 && asked >= opt_.min_items && r_.se <= opt_.target_se;
}

std::vector<int> AdaptiveTest::next_round(int k) const {
  if (done()) return {};
  const int left = std::min(k, opt_.budget - static_cast<int>(r_.asked.size()));
  std::vector<std::pair<double, int>> ranked;  // (−information, item): most informative first, ties to the lower index
  for (int j = 0; j < static_cast<int>(asked_.size()); ++j) {
    if (asked_[static_cast<size_t>(j)]) continue;
    const double p = sigmoid(items_.a(j, 0) * r_.theta - items_.b(j));
    ranked.emplace_back(-(items_.a(j, 0) * items_.a(j, 0) * p * (1 - p)), j);
  }
  const auto n = std::min(ranked.size(), static_cast<size_t>(std::max(0, left)));
  std::partial_sort(ranked.begin(), ranked.begin() + static_cast<std::ptrdiff_t>(n), ranked.end());
  std::vector<int> out;
  for (size_t i = 0; i < n; ++i) out.push_back(ranked[i].second);
  return out;
}

void AdaptiveTest::record(int j, double y) {
  if (!(y >= 0 && y <= 1)) throw InputError("adaptive testing: item " + std::to_string(j) + " scored outside [0, 1]");
  if (asked_.at(static_cast<size_t>(j))) throw InputError("adaptive testing: item " + std::to_string(j) + " was asked before");
  asked_[static_cast<size_t>(j)] = true;
  r_.asked.push_back(j);
  r_.answers.push_back(y);
  answered_sum_ += y;
  r_.theta = fit_ability(items_, r_.asked, r_.answers)(0);
  r_.se = 1 / std::sqrt(information(r_.theta));
}

AdaptiveResult AdaptiveTest::result() const {
  AdaptiveResult r = r_;
  r.estimate = full_score(r.theta);
  // The score rises with θ when discriminations are positive; the interval's ends are taken in
  // whichever order they come.
  const double a = full_score(r.theta - 1.96 * r.se), b = full_score(r.theta + 1.96 * r.se);
  r.low = std::min(a, b), r.high = std::max(a, b);
  if (estimate_items_) {
    // The rest predicted by both fits, averaged; the interval (the 1-D posterior's width) moves with it.
    std::vector<int> rest;
    for (int j = 0; j < static_cast<int>(asked_.size()); ++j)
      if (!asked_[static_cast<size_t>(j)]) rest.push_back(j);
    double multi = answered_sum_;
    if (!rest.empty())
      multi += predicted_mean(*estimate_items_, fit_ability(*estimate_items_, r.asked, r.answers), rest) *
               static_cast<double>(rest.size());
    multi /= static_cast<double>(asked_.size());
    const double shift = (multi - r.estimate) / 2;
    r.estimate += shift;
    r.low = std::clamp(r.low + shift, 0.0, 1.0), r.high = std::clamp(r.high + shift, 0.0, 1.0);
  }
  return r;
}

AdaptiveResult run_adaptive(const IrtItems& items, const AdaptiveOptions& opt, const std::function<double(int)>& answer,
                            const IrtItems* estimate_items) {
  AdaptiveTest test(items, opt, estimate_items);
  for (auto round = test.next_round(1); !round.empty(); round = test.next_round(1)) test.record(round[0], answer(round[0]));
  return test.result();
}

}  // namespace reckon
