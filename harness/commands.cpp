#include "harness/commands.h"

#include <iostream>

#include "common/error.h"

namespace reckon {

const std::vector<Command>& command_table() {
  static const std::vector<Command> table = {
      {"run", "Run a campaign file: models x tasks x items x repeats, resumable, cached, spend-capped", define_run,
       "reckon run campaign.json --db results.db --max-cost 5"},
      {"eval", "One model on one task: reckon eval --model M --task T [--limit N]", define_eval,
       "reckon eval --model openai:gpt-5-mini --task gsm8k --limit 50 --db results.db"},
      {"tasks", "Built-in tasks and scorers: list, show", define_tasks,
       "reckon tasks show gsm8k"},
      {"import", "Import request logs (CSV, JSONL, price-reversal JSON) into a store, priced on the way in",
       define_import,
       "reckon import logs.csv --db results.db --allow-unpriced"},
      {"merge", "Fold stores (e.g. shards) into one without duplicating a request", define_merge,
       "reckon merge -o all.db shard-1.db shard-2.db"},
      {"export", "Write a stable view (v_requests, v_model_task, v_costs) as CSV or JSON Lines, or a task's response matrix", define_export,
       "reckon export --db results.db --view v_costs --format csv --out costs.csv"},
      {"summary", "Per model x task: accuracy, tokens (thinking apart), listed price, real cost", define_summary,
       "reckon summary --db results.db --json"},
      {"reversal", "Price reversals: is the cheaper-listed model really cheaper? (pairs, Kendall tau, thinking's share)",
       define_reversal,
       "reckon reversal --db results.db --csv pairs.csv"},
      {"thinking", "Thinking-token economics: share of output and cost, cross-model ratios, repeat-run noise",
       define_thinking,
       "reckon thinking --db results.db --json"},
      {"costs", "Spend by model, task, run or day, broken out by part, provider-billed vs computed", define_costs,
       "reckon costs --db results.db --by model,day"},
      {"gate", "CI gate: baseline vs candidate on shared items (paired); exit 1 when a threshold is crossed", define_gate,
       "reckon gate --baseline main.db --candidate pr.db --max-accuracy-drop 2 --junit gate.xml"},
      {"select", "Small trustworthy evals: choose a subset (random, stratified, anchor, irt, gp-irt, scales, scales-cold, scales-medoids, scales-lite, text); `select eval` measures them and adaptive testing",
       define_select,
       "reckon select --db results.db --task gsm8k --method irt --budget 100 --name gsm8k-100"},
      {"scales", "Scales++ demand levels on ADeLe's 18 scales: annotate items with a model (resumable), import published levels, show a task's profile",
       define_scales,
       "reckon scales import --db results.db --task cse --levels CSE_capabilities.csv"},
      {"estimate", "A run's full-benchmark score estimated from a stored selection, with a 95 % interval", define_estimate,
       "reckon estimate --db results.db --selection gsm8k-100 --model openai:gpt-5-mini"},
      {"pipelines", "Multi-step solvers (EllieSQL's sql-basic / intermediate / advanced): list, report (accuracy, calls, cost, TEP)",
       define_pipelines,
       "reckon pipelines report --db results.db --json"},
      {"route", "Routers learned from results (rule, knn, softmax, dpo, mlp, cascade, logit): train, eval (APGR, CPT, TEP), apply",
       define_route,
       "reckon route eval --db results.db --name sql-router --json"},
      {"sweep", "Budget sweeps: SFT vs preference data over budgets x shares x seeds (plan, run, report)", define_sweep,
       "reckon sweep report --db results.db --name mmlu-budgets"},
      {"report", "One self-contained HTML report: reversals, leaderboards with CIs, Pareto front, spend, thinking",
       define_report,
       "reckon report --db results.db --html report.html"},
      {"serve", "Local read-only dashboard: the report, live, plus JSON endpoints (/api/model-task, /api/costs, ...)",
       define_serve,
       "reckon serve --db results.db --port 8080"},
      {"providers", "Providers reckon speaks: wire formats, default endpoints, key variables", define_providers,
       "reckon providers list"},
      {"call", "One request to a model: the answer, usage, thinking tokens and cost", define_call,
       "reckon call openai:gpt-5-mini \"What is 6 times 7?\" --max-tokens 200 --json"},
      {"price", "Price catalog: list, show, quote, import (LiteLLM, price-reversal model_info)", define_price,
       "reckon price quote gpt-5-mini --input 1200 --output 350 --tier batch"},
      {"data", "Public datasets: list, pull (SHA-256 verified, cached), path", define_data,
       "reckon data pull gsm8k --cache ~/.cache/reckon"},
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
    const std::string footer = sub->get_footer();
    sub->footer((footer.empty() ? "" : footer + "\n\n") + "Example:\n  " + c.example);
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
