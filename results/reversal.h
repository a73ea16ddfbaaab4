#pragma once
// Price reversals (METHODS.md §1): does the cheaper-listed model really cost less on this work?
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "results/store.h"

namespace reckon {

enum class CostDefinition {
  kPaper,  // prompt × input + completion × output (thinking inside completion), listed rates only
  kReal,   // reckon's real cost: cache, tiers, batch; the provider's billed cost when it reported one
};

struct ModelTaskCost {
  std::string model;
  double listed_price = 0;           // input + output per MTok
  double cost = 0;                   // over the task's compared items (repeats averaged per item)
  double cost_without_thinking = 0;  // the same with thinking tokens removed
  double correct = 0;                // sum of scores over the compared items (repeats averaged)
  int64_t scored_items = 0;
  bool reasoning_unknown = false;    // some rows did not say how many tokens were thinking
  int64_t answers = 0;               // successful requests of this model on the task
  int64_t cut_off = 0;               // finish reason length/max_tokens, or all output was thinking:
                                     // truncated answers look cheap, so the report shows them
  int listed_rank = 0, cost_rank = 0, cost_rank_without_thinking = 0;  // 1 = cheapest
  std::optional<double> cost_per_correct() const {
    return correct > 0 ? std::optional<double>(cost / correct) : std::nullopt;
  }
};

// One unordered pair of models on one task, oriented cheaper-listed first.
struct PairComparison {
  std::string task, cheaper_listed, pricier_listed;
  double listed_cheaper = 0, listed_pricier = 0;
  double cost_cheaper = 0, cost_pricier = 0;
  double cost_cheaper_without_thinking = 0, cost_pricier_without_thinking = 0;
  bool listed_tie = false;  // equal listed prices: never a reversal
  bool reversed = false;    // the cheaper-listed model cost strictly more
  bool reversed_without_thinking = false;
  double magnitude() const { return cost_pricier > 0 ? cost_cheaper / cost_pricier : 0; }
  double price_ratio() const { return listed_cheaper > 0 ? listed_pricier / listed_cheaper : 0; }
};

struct TaskReversal {
  std::string task;
  int64_t items = 0;            // items every model of the task answered (the compared set)
  int64_t items_dropped = 0;    // items left out because some model lacks them or their cost is unknown
  std::vector<ModelTaskCost> models;  // ordered by listed price
  std::vector<PairComparison> pairs;
  int64_t comparisons = 0, reversals = 0, reversals_without_thinking = 0;
  std::optional<double> kendall_tau, kendall_tau_without_thinking;
};

struct ReversalReport {
  CostDefinition definition = CostDefinition::kPaper;
  std::vector<TaskReversal> tasks;
  // Summed over tasks (a pair on each task is one comparison).
  int64_t comparisons = 0, reversals = 0, reversals_without_thinking = 0;
  std::optional<double> kendall_tau_mean, kendall_tau_mean_without_thinking;  // unweighted over tasks with τ
  std::optional<PairComparison> max_magnitude_pair;
  // Models present in every task, with costs summed over tasks (the paper's "total cost").
  std::vector<ModelTaskCost> overall;
  std::vector<std::string> warnings;

  double reversal_rate() const { return comparisons ? static_cast<double>(reversals) / comparisons : 0; }
  // Share of reversals that disappear when thinking tokens are removed.
  std::optional<double> thinking_explained() const {
    return reversals ? std::optional<double>(1.0 - static_cast<double>(reversals_without_thinking) / reversals)
                     : std::nullopt;
  }
};

ReversalReport analyze_reversals(Store& store, const std::optional<std::string>& run_id, CostDefinition def);

// Renderings. `without_thinking` makes the thinking-free costs the primary columns of the text.
std::string render_reversal(const ReversalReport& r, bool without_thinking);
nlohmann::json reversal_json(const ReversalReport& r);
std::string reversal_pairs_csv(const ReversalReport& r);

}  // namespace reckon
