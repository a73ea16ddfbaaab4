#pragma once
// `reckon gate`: may a change ship? Baseline vs candidate on the items both answered (paired):
// accuracy difference with a paired bootstrap 95% CI and McNemar's exact test, cost and p90
// latency changes on the same pairing, each checked against the user's thresholds.
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace reckon {

// "DB", "DB:run-id" or "DB:campaign-name". A bare DB means its latest run.
struct RunRef {
  std::string db, selector;
};
RunRef parse_run_ref(const std::string& text);

struct GateOptions {
  std::optional<std::string> task;
  std::optional<double> max_accuracy_drop_pp;   // percentage points
  std::optional<double> max_cost_increase_pct;
  std::optional<double> max_latency_p90_increase_pct;
  size_t min_items = 1;
  bool significant_only = false;  // an accuracy drop fails only when p < 0.05 (McNemar, or the CI excludes 0)
  int bootstrap = 2000;
  uint64_t seed = 1;
};

struct GateCheck {
  std::string name;    // accuracy, cost, latency_p90
  bool checked = false;  // a threshold was given
  bool passed = true;
  std::string detail;
};

struct GateRow {
  std::string model, task;
  size_t items = 0;
  double base_accuracy = 0, cand_accuracy = 0, diff = 0, ci_low = 0, ci_high = 0;
  std::optional<double> mcnemar_p;  // 0/1 scores only
  double base_cost = 0, cand_cost = 0;
  std::optional<double> base_p90_ms, cand_p90_ms;
  std::vector<GateCheck> checks;
  bool passed() const;
};

struct GateReport {
  std::string baseline_run, candidate_run;
  std::vector<GateRow> rows;
  std::vector<std::string> notes;
  bool passed() const;
};

// InputError for data errors (missing run, no shared items, fewer than min_items).
GateReport run_gate(const RunRef& baseline, const RunRef& candidate, const GateOptions& opts);

std::string render_gate(const GateReport& r);
std::string gate_markdown(const GateReport& r);
std::string gate_junit(const GateReport& r);
nlohmann::json gate_json(const GateReport& r);

// McNemar's exact (binomial) two-sided p for b and c discordant pairs.
double mcnemar_exact(int b, int c);

}  // namespace reckon
