// The builtin backend: the routers' linear policy over query features, SFT on cheapest-correct
// labels, then DPO on preference pairs with the SFT policy (or, with no SFT, the base) as reference.
#include <algorithm>
#include <memory>

#include "common/error.h"
#include "routers/evaluate.h"
#include "routers/features.h"
#include "routers/policy.h"
#include "sweeps/backend.h"

namespace reckon {

std::function<PointResult(const SweepPoint&)> prepare_builtin_backend(const SweepContext& c) {
  struct State {
    TextFeaturizer features;
    std::vector<SparseVec> x_pool, x_test;
    std::vector<int> labels;
    std::vector<PreferencePair> pairs;
  };
  auto st = std::make_shared<State>();
  const RoutingSet& s = c.s;
  std::vector<std::string> texts;
  for (size_t r : c.pool) texts.push_back(s.texts[r]);
  st->features.fit(texts);  // unlabelled text costs nothing: IDF from the whole pool
  for (size_t r : c.pool) st->x_pool.push_back(st->features.transform(s.texts[r]));
  for (size_t r : c.held_out) st->x_test.push_back(st->features.transform(s.texts[r]));
  st->labels = cheapest_correct_labels(s, c.pool, false);
  st->pairs = preference_pairs(s, c.pool);
  const int k = static_cast<int>(s.candidates.size());
  return [st, &c, k](const SweepPoint& p) {
    const RoutingSet& s = c.s;
    const auto sample = sample_point(p, st->x_pool.size(), st->pairs);
    std::vector<SparseVec> x;
    std::vector<int> y;
    for (size_t i : sample.sft) x.push_back(st->x_pool[i]), y.push_back(st->labels[i]);
    TrainOptions to;
    to.epochs = c.grid.epochs;
    to.beta = c.grid.beta;
    to.seed = static_cast<uint64_t>(p.seed);
    LinearPolicy policy(k, st->features.dim());
    if (!x.empty()) train_sft(policy, x, y, to);
    const LinearPolicy reference = policy;  // the SFT result, or the base when there is no SFT
    if (!sample.pairs.empty()) train_dpo(policy, reference, st->x_pool, sample.pairs, to);
    PointResult r;
    std::vector<double> escalation;
    double weak = 0, strong = 0;
    const double n = static_cast<double>(c.held_out.size());
    for (size_t i = 0; i < c.held_out.size(); ++i) {
      const auto probs = policy.probs(st->x_test[i]);
      const auto choice = static_cast<size_t>(std::max_element(probs.begin(), probs.end()) - probs.begin());
      const auto& ok = s.correct[c.held_out[i]];
      r.accuracy += ok[choice] / n;
      escalation.push_back(1 - probs[0]);
      weak += ok.front() / n;
      strong += ok.back() / n;
    }
    if (k == 2) {
      std::optional<double> apgr, cpt;
      gap_recovered(escalation_curve(s, c.held_out, escalation), weak, strong, apgr, cpt);
      if (!apgr) throw InputError("the held-out split has no accuracy gap between the candidates: APGR is undefined");
      r.score = *apgr;
    } else {
      r.score = r.accuracy;
    }
    return r;
  };
}

}  // namespace reckon
