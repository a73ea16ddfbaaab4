#include "harness/commands.h"

#include <iostream>

#include "common/error.h"

namespace reckon {

const std::vector<Command>& command_table() {
  static const std::vector<Command> table = {
      {"run", "Run a campaign file: models x tasks x items x repeats, resumable, cached, spend-capped", define_run},
      {"eval", "One model on one task: reckon eval --model M --task T [--limit N]", define_eval},
      {"tasks", "Built-in tasks and scorers: list, show", define_tasks},
      {"import", "Import request logs (CSV, JSONL, price-reversal JSON) into a store, priced on the way in",
       define_import},
      {"merge", "Fold stores (e.g. shards) into one without duplicating a request", define_merge},
      {"export", "Write a stable view (v_requests, v_model_task, v_costs) as CSV or JSON Lines, or a task's response matrix", define_export},
      {"summary", "Per model x task: accuracy, tokens (thinking apart), listed price, real cost", define_summary},
      {"reversal", "Price reversals: is the cheaper-listed model really cheaper? (pairs, Kendall tau, thinking's share)",
       define_reversal},
      {"thinking", "Thinking-token economics: share of output and cost, cross-model ratios, repeat-run noise",
       define_thinking},
      {"costs", "Spend by model, task, run or day, broken out by part, provider-billed vs computed", define_costs},
      {"gate", "CI gate: baseline vs candidate on shared items (paired); exit 1 when a threshold is crossed", define_gate},
      {"select", "Small trustworthy evals: choose a subset (random, stratified, anchor, irt, gp-irt, scales, scales-lite, text); `select eval` measures methods",
       define_select},
      {"scales", "Scales++ demand levels: annotate items on 16 cognitive scales with a model (resumable), show a task's profile",
       define_scales},
      {"estimate", "A run's full-benchmark score estimated from a stored selection, with a 95 % interval", define_estimate},
      {"pipelines", "Multi-step solvers (EllieSQL's sql-basic / intermediate / advanced): list, report (accuracy, calls, cost, TEP)",
       define_pipelines},
      {"route", "Routers learned from results (rule, knn, softmax, dpo, mlp, cascade): train, eval (APGR, CPT, TEP), apply",
       define_route},
      {"sweep", "Budget sweeps: SFT vs preference data over budgets x shares x seeds (plan, run, report)", define_sweep},
      {"report", "One self-contained HTML report: reversals, leaderboards with CIs, Pareto front, spend, thinking",
       define_report},
      {"serve", "Local read-only dashboard: the report, live, plus JSON endpoints (/api/model-task, /api/costs, ...)",
       define_serve},
      {"providers", "Providers reckon speaks: wire formats, default endpoints, key variables", define_providers},
      {"call", "One request to a model: the answer, usage, thinking tokens and cost", define_call},
      {"price", "Price catalog: list, show, quote, import (LiteLLM, price-reversal model_info)", define_price},
      {"data", "Public datasets: list, pull (SHA-256 verified, cached), path", define_data},
  };
  return table;
}

int run_cli(int argc, char** argv) {
  // "reckon", not the path it was started by, in every Usage line.
  CLI::App app{"reckon — LLM evaluation and cost accounting: what each answer really cost, thinking included", "reckon"};
  app.set_version_flag("--version", std::string("reckon ") + RECKON_VERSION);
  app.require_subcommand(1);
  std::vector<std::pair<CLI::App*, Action>> actions;
  for (const auto& c : command_table()) {
    CLI::App* sub = app.add_subcommand(c.name, c.help);
    actions.emplace_back(sub, c.define(*sub));
  }
  try {
    std::vector<std::string> args;
    for (int i = argc - 1; i > 0; --i) args.emplace_back(argv[i]);  // CLI11 takes them in reverse
    app.parse(args);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? kExitOk : kExitUsage;
  }
  try {
    for (auto& [sub, action] : actions)
      if (sub->parsed()) return action();
  } catch (const InputError& e) {
    std::cerr << "reckon: error: " << e.what() << "\n";
    return kExitUsage;
  } catch (const std::exception& e) {
    std::cerr << "reckon: internal error: " << e.what() << "\n";
    return kExitFailure;
  }
  return kExitUsage;
}

}  // namespace reckon
