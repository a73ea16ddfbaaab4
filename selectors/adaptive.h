#pragma once
// Adaptive testing (issue #25; tinyBenchmarks' IRT, "Fluid Language Model Benchmarking"): items are
// asked one at a time, each the most informative at the model's current ability estimate under a
// one-dimensional 2PL fitted on source models, until an item budget or a standard error is reached;
// the full-benchmark score is the answered items plus the IRT prediction of the rest, with a 95 %
// interval from the ability's posterior. Given a multidimensional 2PL fitted on the same source models, the
// prediction of the rest is the mean of the two models' (the 1-D one steers: its information is well
// defined; the other places models whose skills one ability cannot — MMLU's mix, ADeLe's benchmarks). Given a multidimensional 2PL fitted on the same source models, the
// prediction of the rest is the mean of the two models' (the 1-D one steers: its information is well
// defined; the other places models whose skills one ability cannot — MMLU's mix, ADeLe's benchmarks).
#include <functional>
#include <vector>

#include "selectors/irt.h"

namespace reckon {

struct AdaptiveOptions {
  int budget = 20;        // items asked at most
  double target_se = 0;   // stop once the ability's standard error is at most this (0: budget only)
  int min_items = 3;      // asked before the standard error may stop the test
};

struct AdaptiveResult {
  std::vector<int> asked;        // items in the order asked
  std::vector<double> answers;   // the model's score on each
  double theta = 0, se = 0;      // MAP ability and its posterior standard error
  double estimate = 0, low = 0, high = 0;  // full-benchmark score and its 95 % interval
};

// One model's test, a round at a time: the `k` most informative unasked items at the current ability,
// then their answers (in any order: the ability is the MAP over the answered set). A campaign
// rebuilds a test from the answers in its store, so the rounds a rerun asks are the ones a killed
// run would have asked.
class AdaptiveTest {
 public:
  // `items` must be one-dimensional; `estimate_items`, when given, are the same items under a
  // multidimensional fit (see above) and must outlive the test.
  AdaptiveTest(const IrtItems& items, const AdaptiveOptions& opt, const IrtItems* estimate_items = nullptr);
  // The next round: up to `k` items (fewer at the budget), most informative first, ties to the lower
  // index; empty once the test is over.
  std::vector<int> next_round(int k) const;
  // Records item j's score in [0, 1] and updates the ability.
  void record(int j, double score);
  // The budget is spent, or the standard error reached its target after min_items.
  bool done() const;
  AdaptiveResult result() const;
  const std::vector<int>& asked() const { return r_.asked; }

 private:
  double information(double theta) const;
  double full_score(double theta) const;
  const IrtItems& items_;
  const IrtItems* estimate_items_;
  AdaptiveOptions opt_;
  AdaptiveResult r_;
  std::vector<bool> asked_;
  double answered_sum_ = 0;
};

// `items` must be one-dimensional. `answer(j)` asks the model item j and returns its score in [0, 1].
AdaptiveResult run_adaptive(const IrtItems& items, const AdaptiveOptions& opt, const std::function<double(int)>& answer,
                            const IrtItems* estimate_items = nullptr);

// The 1-D 2PL the adaptive test steers by, fitted on source models (models × items).
IrtItems adaptive_items(const Eigen::MatrixXd& source, uint64_t seed);
// The multidimensional 2PL (IrtOptions' default dimensions) whose prediction it averages in.
IrtItems adaptive_estimate_items(const Eigen::MatrixXd& source, uint64_t seed);

}  // namespace reckon
