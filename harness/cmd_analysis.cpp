// Cost analyses over a store: reversal, thinking, costs.
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/text.h"
#include "harness/commands.h"
#include "results/costs.h"
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
      std::ofstream out(a->csv);
      if (!out) throw InputError(a->csv + ": cannot write");
      out << reversal_pairs_csv(rep);
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
  sub.add_option("--by", a->by, "Group by any of model, task, run, day (comma-separated)")->capture_default_str();
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
