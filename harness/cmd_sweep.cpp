// `reckon sweep plan | run | report`: how to split a labelling budget between SFT and preference data.
#include <iostream>
#include <unistd.h>

#include "common/error.h"
#include "common/jsonl.h"
#include "common/table.h"
#include "common/text.h"
#include "harness/commands.h"
#include "sweeps/sweep.h"

namespace reckon {

Action define_sweep(CLI::App& sub) {
  struct Args {
    RoutingSource src;
    std::string candidates, costs, name, save_db, budgets, fractions = "1,0.75,0.5,0.25,0.1,0.01,0", ratios = "1", backend_config,
        work_dir;
    SweepGrid grid;
    bool json = false;
  };
  auto a = std::make_shared<Args>();
  sub.require_subcommand(1);
  auto grid_options = [a](CLI::App* c) {
    c->add_option("--budgets", a->budgets, "Total budgets in annotation units (an SFT example costs 1)")->required();
    c->add_option("--sft-fractions", a->fractions, "Shares of the budget spent on SFT")->capture_default_str();
    c->add_option("--cost-ratios", a->ratios, "Cost of a preference pair in SFT examples")->capture_default_str();
    c->add_option("--seeds", a->grid.seeds, "Seeds per point")->capture_default_str();
    c->add_option("--epochs", a->grid.epochs, "Training epochs")->capture_default_str();
    c->add_option("--beta", a->grid.beta, "DPO β")->capture_default_str();
    c->add_option("--backend", a->grid.backend, "Trainer: builtin | command | openai")->capture_default_str();
    c->add_option("--backend-config", a->backend_config, "JSON file with the command or openai backend's settings (see README)");
  };
  CLI::App* plan = sub.add_subcommand("plan", "List the grid's points and what each budget buys");
  grid_options(plan);
  CLI::App* run = sub.add_subcommand("run", "Run (or resume) a sweep and record every point in the store");
  grid_options(run);
  run->add_option("--outcomes", a->src.outcomes, "Outcomes CSV: <candidate>_correct columns and the query text");
  run->add_option("--db", a->src.db, "Store whose results to train on (with --task)");
  run->add_option("--task", a->src.task, "Task of the store's results");
  run->add_option("--candidates", a->candidates, "Candidates (cheapest first for outcomes files)")->required();
  run->add_option("--costs", a->costs, "Cost per query of each candidate");
  run->add_option("--skip-column", a->src.skip_column, "Outcomes: leave out rows where this column is 1");
  run->add_option("--train-fraction", a->grid.train_fraction, "Share of queries in the training pool")->capture_default_str();
  run->add_option("--name", a->name, "Sweep name")->required();
  run->add_option("--save-db", a->save_db, "Store to record into (default: --db)");
  run->add_option("--work-dir", a->work_dir, "Folder for the datasets and training output of command/openai points");
  CLI::App* report = sub.add_subcommand("report", "The grid: score per budget × SFT share, best share, cold-start failures");
  report->add_option("--db", a->save_db, "Store holding the sweep")->required();
  report->add_option("--name", a->name, "Sweep name")->required();
  report->add_flag("--json", a->json, "Print JSON");
  return [a, plan, run]() -> int {
    if (plan->parsed() || run->parsed()) {
      a->grid.budgets = parse_number_list(a->budgets, "--budgets");
      a->grid.sft_fractions = parse_number_list(a->fractions, "--sft-fractions");
      a->grid.cost_ratios = parse_number_list(a->ratios, "--cost-ratios");
      if (!a->backend_config.empty()) a->grid.backend_config = read_json_file(a->backend_config, "backend config");
      a->grid.check();
    }
    if (plan->parsed()) {
      const auto points = plan_sweep(a->grid);
      TextTable t({"budget", "pair cost", "SFT share", "SFT examples", "preference pairs"});
      for (const auto& p : points)
        if (p.seed == 1)
          t.add({fmt_fixed(p.budget, 0), fmt_fixed(p.cost_ratio, 2), fmt_fixed(100 * p.sft_fraction, 0) + "%",
                 std::to_string(p.sft_examples), std::to_string(p.preference_pairs)});
      std::cout << points.size() << " points (" << a->grid.seeds << " seeds each)\n" << t.render();
      return kExitOk;
    }
    if (run->parsed()) {
      a->src.candidates = parse_candidates(a->candidates);
      a->src.costs = parse_costs(a->costs);
      a->src.train_fraction = a->grid.train_fraction;
      const std::string save = a->save_db.empty() ? a->src.db : a->save_db;
      if (save.empty()) throw InputError("sweep run: where to record? give --save-db DB (or --db)");
      const RoutingSet s = a->src.load();
      Store store(save, Store::Mode::kReadWrite);
      const bool tty = isatty(2);
      const size_t ran = run_sweep(store, a->name, s, a->grid, a->src.to_json(), [tty](size_t done, size_t total) {
        if (tty) std::cerr << "\rsweep: " << done << "/" << total << " points" << (done == total ? "\n" : "") << std::flush;
      }, a->work_dir);
      std::cerr << "sweep '" << a->name << "': " << ran << " points run\n";
      std::cout << render_sweep_report(sweep_report(store, a->name));
      return kExitOk;
    }
    Store store(a->save_db, Store::Mode::kReadOnly);
    const auto rep = sweep_report(store, a->name);
    std::cout << (a->json ? sweep_report_json(rep).dump(2) + "\n" : render_sweep_report(rep));
    return kExitOk;
  };
}

}  // namespace reckon
