// Cost analyses over a store: reversal, thinking, costs.
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "common/atomic_file.h"
#include "common/error.h"
#include "common/text.h"
#include "harness/commands.h"
#include "results/costs.h"
#include "results/gate.h"
#include "results/reversal.h"
#include "results/thinking.h"

namespace reckon {
namespace {

std::optional<std::string> opt_run(const std::string& run) {
  return run.empty() ? std::nullopt : std::optional<std::string>(run);
}

}  // namespace

Action define_reversal(CLI::App& sub) {
  struct Args {
    std::string db, run, definition = "paper", csv;
    bool without_thinking = false, json = false;
  };
  auto a = std::make_shared<Args>();
  sub.add_option("--db", a->db, "Store to read")->required();
  sub.add_option("--run", a->run, "Only this run");
  sub.add_option("--definition", a->definition, "paper: the published definitions; real: reckon's real cost")
      ->check(CLI::IsMember({"paper", "real"}))
      ->capture_default_str();
  sub.add_flag("--without-thinking", a->without_thinking, "Make the thinking-free costs the primary columns");
  sub.add_flag("--json", a->json, "Print one JSON object (for dashboards and CI)");
  sub.add_option("--csv", a->csv, "Also write every pair comparison to this CSV file");
  return [a] {
    Store store(a->db, Store::Mode::kReadOnly);
    auto rep = analyze_reversals(store, opt_run(a->run), a->definition == "paper" ? CostDefinition::kPaper : CostDefinition::kReal);
    if (rep.tasks.empty()) throw InputError(a->db + ": no priced, successful requests to compare");
    if (!a->csv.empty()) {
      write_file_atomically(a->csv, reversal_pairs_csv(rep));
    }
    std::cout << (a->json ? reversal_json(rep).dump(2) + "\n" : render_reversal(rep, a->without_thinking));
    return kExitOk;
  };
}

Action define_thinking(CLI::App& sub) {
  struct Args {
    std::string db, run;
    bool json = false;
    size_t top = 5;
  };
  auto a = std::make_shared<Args>();
  sub.add_option("--db", a->db, "Store to read")->required();
  sub.add_option("--run", a->run, "Only this run");
  sub.add_option("--top", a->top, "Largest cross-model thinking ratios to list per task")->capture_default_str();
  sub.add_flag("--json", a->json, "Print JSON");
  return [a] {
    Store store(a->db, Store::Mode::kReadOnly);
    auto rep = analyze_thinking(store, opt_run(a->run), a->top);
    if (rep.shares.empty()) throw InputError(a->db + ": no successful requests with usage");
    std::cout << (a->json ? thinking_json(rep).dump(2) + "\n" : render_thinking(rep));
    return kExitOk;
  };
}

Action define_costs(CLI::App& sub) {
  struct Args {
    std::string db, run, by = "model,task";
    bool json = false;
  };
  auto a = std::make_shared<Args>();
  sub.add_option("--db", a->db, "Store to read")->required();
  sub.add_option("--run", a->run, "Only this run");
  sub.add_option("--by", a->by, "Group by any of model, task, run, day, tier (comma-separated; tier breaks batch spend out)")->capture_default_str();
  sub.add_flag("--json", a->json, "Print JSON rows");
  return [a] {
    Store store(a->db, Store::Mode::kReadOnly);
    std::vector<std::string> by;
    for (const auto& d : split(a->by, ','))
      if (!trim(d).empty()) by.push_back(trim(d));
    auto rows = spend(store, by, opt_run(a->run));
    std::cout << (a->json ? spend_json(by, rows).dump(2) + "\n" : render_spend(by, rows));
    return kExitOk;
  };
}

}  // namespace reckon

namespace reckon {

Action define_gate(CLI::App& sub) {
  struct Args {
    std::string baseline, candidate, task, junit, markdown;
    double max_drop = -1, max_cost = -1, max_latency = -1;
    size_t min_items = 1;
    bool significant = false, json = false;
  };
  auto a = std::make_shared<Args>();
  sub.add_option("--baseline", a->baseline, "DB, DB:run-id or DB:campaign-name (a bare DB: its latest run)")->required();
  sub.add_option("--candidate", a->candidate, "DB, DB:run-id or DB:campaign-name")->required();
  sub.add_option("--task", a->task, "Only this task");
  sub.add_option("--max-accuracy-drop", a->max_drop, "Largest allowed accuracy drop, in percentage points");
  sub.add_option("--max-cost-increase", a->max_cost, "Largest allowed cost increase, percent");
  sub.add_option("--max-latency-p90-increase", a->max_latency, "Largest allowed p90 latency increase, percent");
  sub.add_option("--min-items", a->min_items, "Fewest shared items a comparison needs (else exit 2)");
  sub.add_flag("--significant-only", a->significant, "Fail an accuracy drop only when it is significant (p < 0.05)");
  sub.add_option("--junit", a->junit, "Write JUnit XML (one testcase per model x task x check)");
  sub.add_option("--markdown", a->markdown, "Write a Markdown summary for a pull-request comment");
  sub.add_flag("--json", a->json, "Print JSON");
  sub.footer("Exit: 0 pass, 1 a gate failed, 2 usage or data error (missing run, no shared items).");
  return [a]() -> int {
    GateOptions o;
    if (!a->task.empty()) o.task = a->task;
    if (a->max_drop >= 0) o.max_accuracy_drop_pp = a->max_drop;
    if (a->max_cost >= 0) o.max_cost_increase_pct = a->max_cost;
    if (a->max_latency >= 0) o.max_latency_p90_increase_pct = a->max_latency;
    o.min_items = a->min_items;
    o.significant_only = a->significant;
    GateReport r = run_gate(parse_run_ref(a->baseline), parse_run_ref(a->candidate), o);
    if (!a->junit.empty()) write_file_atomically(a->junit, gate_junit(r));
    if (!a->markdown.empty()) write_file_atomically(a->markdown, gate_markdown(r));
    std::cout << (a->json ? gate_json(r).dump(2) + "\n" : render_gate(r));
    return r.passed() ? kExitOk : kExitFailure;
  };
}

}  // namespace reckon
