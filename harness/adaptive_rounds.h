#pragma once
// Adaptive campaigns ("selection": {"adaptive": {...}}; selectors/adaptive.h): each model is asked a
// round of items at a time, the most informative at its current ability, until its budget or its
// standard-error target. The item parameters (a 1-D 2PL on the source models) are fitted once and
// kept in the store (item_features, feature set "irt2pl:<run id>"), so every later run and every
// runner steers by the same ones. Which round comes next is rebuilt from the run's answers in the
// store, in lockstep: round r of every test, then round r + 1 — a rerun after a kill, or a second
// runner, computes the same round, and the engine skips what is answered already.
#include <optional>
#include <string>
#include <vector>

#include "harness/plan.h"
#include "results/store.h"
#include "selectors/adaptive.h"
#include "selectors/matrix.h"

namespace reckon {

// Refuses what adaptive rounds cannot do (batches, --shard), before anything is written.
void check_adaptive_ready(const Campaign& c, const RunOptions& opts);

class AdaptiveRounds {
 public:
  // Reads each task's item ids and the item parameters: from the store when an earlier run kept them,
  // else fitted on the source models (the `responses` matrix, or the store's results of models this
  // campaign does not measure) and, with `keep`, written to the store. InputError naming the campaign
  // field when a task has no usable source.
  AdaptiveRounds(const Campaign& c, const RunOptions& opts, const std::string& run_id, Store* store, bool keep);

  // The round to run now: per task, per model, the items of its current round (answered ones
  // included: the engine skips them). Empty sets everywhere when every test is over.
  ItemsPerModel current(Store& store);
  // What a dry run prices: each test's first `budget` items in the order the prior ranks them.
  ItemsPerModel for_dry_run() const;
  // The round's 1-based number, as of the last current().
  int round() const { return round_; }
  // A key naming a round's content (its claims are kept apart from other rounds').
  static std::string key(const ItemsPerModel& round);
  static bool empty(const ItemsPerModel& round);

  struct Estimate {
    std::string task, model;
    AdaptiveResult result;
    int items = 0;     // items with item parameters (the benchmark the estimate is of)
    bool finished = false;
  };
  // Each test as its answered rounds leave it (call after current()).
  std::vector<Estimate> estimates() const;
  // The estimates as a table: items asked, ability, estimate and 95 % interval, finished or not.
  std::string render() const;

 private:
  struct TaskItems {
    std::vector<std::string> ids;  // in the parameters' order
    IrtItems params;                 // the 1-D fit that steers
    std::optional<IrtItems> estimate;  // the multidimensional fit averaged into the estimate (absent in
                                       // parameters kept by a version that stored only the 1-D fit)
  };
  std::vector<std::vector<AdaptiveTest>> fresh_tests() const;
  void load_or_fit(size_t t, Store* store, bool keep);
  ResponseMatrix source_results(const std::string& task, Store* store, const std::string& at) const;

  const Campaign& c_;
  const RunOptions& opts_;
  std::string run_id_;
  AdaptiveOptions opt_;
  std::vector<TaskItems> tasks_;
  std::vector<std::vector<AdaptiveTest>> tests_;  // [task][model], as the last current() left them (answered rounds)
  int round_ = 0;
};

}  // namespace reckon
