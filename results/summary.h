#pragma once
// Per model x task summary of a store: what `make demo` and `reckon summary` print.
#include <optional>
#include <string>
#include <vector>

#include "results/store.h"

namespace reckon {

struct ModelTaskSummary {
  std::string model, task;
  int64_t requests = 0, errors = 0, scored = 0;
  double correct = 0;  // sum of scores
  std::optional<double> accuracy, ci_low, ci_high;  // Wilson 95% for 0/1 scores
  int64_t input_tokens = 0, output_tokens = 0;
  int64_t reasoning_tokens = 0;         // sum over rows where it is known
  int64_t reasoning_unknown_rows = 0;   // rows whose provider did not say
  int64_t truncated = 0;                // finish reason length / max_tokens
  double cost_usd = 0;                  // what the answers cost (a cached answer at its original price)
  double spent_usd = 0;                 // what was paid in these runs: answers not from the cache, pipeline calls
  int64_t cache_hits = 0;               // answers served from the response cache (paid earlier, 0 here)
  int64_t unknown_cost_rows = 0;
  std::optional<double> listed_price;   // input + output per MTok of the price entry used
  std::optional<double> latency_p50_ms, latency_p90_ms;
  // With several 0/1-scored answers per item: the unbiased pass@k estimator (Chen et al. 2021),
  // k = the fewest answers any item has, averaged over items.
  int pass_k = 0;
  std::optional<double> pass_at_k;
  std::optional<double> cost_per_correct() const {
    return correct > 0 ? std::optional<double>(cost_usd / correct) : std::nullopt;
  }
};

// One run (`run_id`), or by default the latest run of each campaign plus every run of no campaign
// (imports) — so a campaign rerun with a changed plan is not counted beside its earlier run — grouped
// by model and task, ordered by task then listed price.
std::vector<ModelTaskSummary> summarize(Store& store, const std::optional<std::string>& run_id);
// The runs the default scope covers that are a campaign's latest, as "campaign (run id)", and how many
// earlier runs of those campaigns it leaves out.
struct SummaryScope {
  std::vector<std::string> latest;
  int64_t earlier = 0;
};
SummaryScope default_scope(Store& store);
// The scope as an SQL condition on `r.run_id` (requests aliased r), with the run id bound as ?1 — what
// answers and reports share with the summary. With a run, its rows by the (run_id, ...) index; without
// (?1 bound NULL), the default scope.
std::string run_scope_sql(bool one_run);
std::string render_summary(const std::vector<ModelTaskSummary>& rows);

}  // namespace reckon
