// Trustworthy small evals: `reckon select` (choose and store a subset), `reckon select eval` (how well
// each method predicts full scores on a response matrix) and `reckon estimate` (a run's full-benchmark
// estimate from a stored subset, with a confidence interval).
#include <cmath>
#include <filesystem>
#include <iostream>
#include <unistd.h>

#include "common/error.h"
#include "common/table.h"
#include "common/text.h"
#include "harness/commands.h"
#include "selectors/evaluate.h"
#include "selectors/stored.h"

namespace reckon {
namespace {

std::vector<int> parse_budgets(const std::string& text) {
  std::vector<int> out;
  for (double v : parse_number_list(text, "--budget")) {
    if (v < 1 || v != std::floor(v) || v > 1e9) throw InputError("--budget: " + fmt_fixed(v, 2) + " is not a whole, positive number of items");
    out.push_back(static_cast<int>(v));
  }
  if (out.empty()) throw InputError("--budget needs at least one number of items");
  return out;
}

std::vector<std::string> parse_methods(const std::string& text) {
  std::vector<std::string> out;
  for (const auto& part : split(text, ',')) {
    find_selector(trim(part));  // names the known methods when this is not one
    out.push_back(trim(part));
  }
  return out;
}

}  // namespace

Action define_select(CLI::App& sub) {
  struct Args {
    std::string db, task, method = "anchor", name, responses, items, strata, model_column = "model", item_prefix;
    std::string budgets = "50";
    uint64_t seed = 1;
    int seeds = 5, irt_dims = 3;
    double source_fraction = 0.8;
    bool json = false, items_as_rows = false;
  };
  auto a = std::make_shared<Args>();
  sub.require_subcommand(0, 1);
  sub.add_option("--db", a->db, "Store: source results, and where the selection is saved");
  sub.add_option("--task", a->task, "Task whose items are selected");
  sub.add_option("--method", a->method, "random | stratified | anchor | irt | gp-irt | scales | scales-cold | scales-medoids | scales-lite | text")->capture_default_str();
  sub.add_option("--budget", a->budgets, "Items to select")->capture_default_str();
  sub.add_option("--seed", a->seed, "Seed")->capture_default_str();
  sub.add_option("--name", a->name, "Name of the stored selection (a campaign runs it with \"selection\": {\"stored\": NAME})");
  sub.add_option("--responses", a->responses, "Source results from a response matrix CSV instead of the store");
  sub.add_option("--items", a->items, "Item metadata (JSON Lines with item_id) for --strata");
  sub.add_option("--strata", a->strata, "Item metadata field for the stratified method");
  sub.add_option("--model-column", a->model_column, "Column naming the models in a matrix CSV")->capture_default_str();
  sub.add_option("--item-prefix", a->item_prefix, "Only matrix columns starting with this are items");
  sub.add_flag("--items-as-rows", a->items_as_rows, "The matrix CSV has a row per item and a column per model");
  sub.add_option("--irt-dims", a->irt_dims, "IRT dimensions")->capture_default_str()->check(CLI::Range(1, 8));

  CLI::App* eval = sub.add_subcommand("eval", "Evaluate methods on a response matrix: MAE (pp) and Kendall τ on held-out models");
  eval->add_option("--responses", a->responses, "Response matrix CSV: model,<item ids>; 0/1 or scores in [0,1]")->required();
  eval->add_option("--items", a->items, "Item metadata (JSON Lines with item_id; item text for scales-lite and text)");
  eval->add_option("--db", a->db, "Store with demand levels (reckon scales annotate) for scales and scales-lite");
  eval->add_option("--task", a->task, "Task of those demand levels");
  eval->add_option("--strata", a->strata, "Item metadata field for the stratified method");
  eval->add_option("--method", a->method, "Method(s), comma-separated: those of select, and adaptive")->capture_default_str();
  eval->add_option("--budget", a->budgets, "Budget(s) in items, comma-separated")->capture_default_str();
  eval->add_option("--source-fraction", a->source_fraction, "Share of models to select on")->capture_default_str();
  eval->add_option("--seeds", a->seeds, "Repetitions with different source/target splits")->capture_default_str();
  eval->add_option("--model-column", a->model_column, "Column naming the models")->capture_default_str();
  eval->add_option("--item-prefix", a->item_prefix, "Only columns starting with this are items");
  eval->add_flag("--items-as-rows", a->items_as_rows,
                 "The matrix has a row per item and a column per model (ADeLe's outcome files); --model-column names the item id column");
  eval->add_option("--irt-dims", a->irt_dims, "IRT dimensions")->capture_default_str()->check(CLI::Range(1, 8));
  eval->add_flag("--json", a->json, "One JSON object per method × budget ({method, budget, seeds, mae_pct, mae_pct_sd, kendall_tau})");

  return [a, eval]() -> int {
    std::map<std::string, nlohmann::json> meta;
    if (!a->items.empty()) meta = read_item_table(a->items);
    IrtOptions irt;
    irt.dims = a->irt_dims;
    std::map<std::string, std::vector<double>> levels;
    if (!a->db.empty() && !a->task.empty() && std::filesystem::exists(a->db)) {
      Store levels_store(a->db, Store::Mode::kReadOnly);
      levels = scale_levels_by_item(load_scale_annotations(levels_store, a->task));
    }
    if (eval->parsed()) {
      const ResponseMatrix m = read_response_matrix(a->responses, {a->model_column, a->item_prefix, a->items_as_rows});
      SelectEvalOptions o;
      o.methods = parse_methods(a->method);
      o.budgets = parse_budgets(a->budgets);
      o.seeds = a->seeds;
      o.source_fraction = a->source_fraction;
      o.strata_field = a->strata;
      o.irt = irt;
      o.scale_levels = levels.empty() ? nullptr : &levels;
      const bool tty = isatty(2);
      auto rows = evaluate_selection(m, a->items.empty() ? nullptr : &meta, o, [tty](int done, int total) {
        if (tty) std::cerr << "\rselect eval: " << done << "/" << total << (done == total ? "\n" : "") << std::flush;
      });
      if (a->json) {
        nlohmann::json out = nlohmann::json::array();
        for (const auto& r : rows) out.push_back(r.to_json());
        std::cout << (out.size() == 1 ? out[0] : out).dump(2) << "\n";
      } else {
        std::cout << a->responses << ": " << m.models.size() << " models × " << m.items.size() << " items; "
                  << fmt_fixed(100 * a->source_fraction, 0) << " % of models to select on, the rest held out\n"
                  << render_select_eval(rows);
      }
      return kExitOk;
    }
    if (a->db.empty() || a->task.empty() || a->name.empty())
      throw InputError("select needs --db, --task and --name (or the `eval` subcommand)");
    const auto budgets = parse_budgets(a->budgets);
    if (budgets.size() != 1) throw InputError("--budget: one number of items to store a selection");
    Store store(a->db, Store::Mode::kReadWrite);
    const auto& method = find_selector(a->method);
    ResponseMatrix m;
    if (!a->responses.empty()) {
      m = read_response_matrix(a->responses, {a->model_column, a->item_prefix, a->items_as_rows});
    } else if (method.min_source_models == 0 && !store_has_results(store, a->task)) {
      m = cold_start_items(store, a->task, a->items.empty() ? nullptr : &meta);  // a benchmark nobody has run yet
    } else {
      m = matrix_from_store(store, a->task);
    }
    if (static_cast<int>(m.models.size()) < method.min_source_models)
      throw InputError("method '" + a->method + "' needs results of at least " + std::to_string(method.min_source_models) +
                       " models on '" + a->task + "'; there are " + std::to_string(m.models.size()));
    SelectionContext ctx(m.y, m.items, a->items.empty() ? nullptr : &meta, irt);
    ctx.strata_field = a->strata;
    ctx.scale_levels = &levels;
    const Plan plan = method.select(ctx, budgets[0], a->seed);
    save_selection(store, a->name, a->task, plan, m.items);
    std::cout << "selection '" << a->name << "': " << plan.items.size() << " of " << m.items.size() << " items of "
              << a->task << " by " << plan.method << " (from " << m.models.size() << " models' results)\n";
    return kExitOk;
  };
}

Action define_estimate(CLI::App& sub) {
  struct Args {
    std::string db, run, selection;
    bool json = false;
  };
  auto a = std::make_shared<Args>();
  sub.add_option("--db", a->db, "Store with the run and the selection")->required();
  sub.add_option("--run", a->run, "Run whose results on the selected items are used")->required();
  sub.add_option("--selection", a->selection, "Stored selection (reckon select --name)")->required();
  sub.add_flag("--json", a->json, "Print JSON");
  return [a]() -> int {
    Store store(a->db, Store::Mode::kReadOnly);
    const StoredSelection s = load_selection(store, a->selection);
    auto q = store.db().prepare(
        "SELECT r.model, r.item_id, AVG(sc.value) FROM requests r JOIN scores sc ON sc.request_id = r.id AND sc.is_primary = 1 "
        "WHERE r.run_id = ?1 AND r.task = ?2 AND r.status = 'ok' AND r.step IS NULL GROUP BY r.model, r.item_id");
    q.bind(1, a->run).bind(2, s.task);
    std::map<std::string, std::map<std::string, double>> scores;
    while (q.step()) scores[q.text(0)][q.text(1)] = q.real(2);
    if (scores.empty()) throw InputError(a->db + ": run '" + a->run + "' has no scored results on task '" + s.task + "'");
    nlohmann::json out = nlohmann::json::array();
    TextTable t({"model", "items", "estimate", "95% CI", "subset mean"});
    for (const auto& [model, by_item] : scores) {
      std::vector<double> y;
      std::vector<std::string> missing;
      for (int j : s.plan.items) {
        auto it = by_item.find(s.item_ids[static_cast<size_t>(j)]);
        if (it == by_item.end()) missing.push_back(s.item_ids[static_cast<size_t>(j)]);
        else y.push_back(it->second);
      }
      if (!missing.empty())
        throw InputError("model '" + model + "' in run '" + a->run + "' lacks " + std::to_string(missing.size()) +
                         " selected items (first: '" + missing.front() + "'); run the campaign with \"selection\": {\"stored\": \"" +
                         a->selection + "\"}");
      const double est = std::clamp(s.plan.estimate(y), 0.0, 1.0);
      // Sampling error of a weighted mean of Bernoulli-like scores: Σ w² · p(1 − p), at the estimate.
      double w2 = 0;
      for (double w : s.plan.weights) w2 += w * w;
      const double se = std::sqrt(w2 * est * (1 - est));
      const double lo = std::max(0.0, est - 1.96 * se), hi = std::min(1.0, est + 1.96 * se);
      double plain = 0;
      for (double v : y) plain += v;
      plain /= static_cast<double>(y.size());
      out.push_back({{"model", model}, {"task", s.task}, {"items", y.size()}, {"estimate", est}, {"ci_low", lo}, {"ci_high", hi},
                     {"subset_mean", plain}, {"method", s.plan.method}});
      t.add({model, std::to_string(y.size()), fmt_fixed(100 * est, 1) + "%", fmt_fixed(100 * lo, 1) + "–" + fmt_fixed(100 * hi, 1) + "%",
             fmt_fixed(100 * plain, 1) + "%"});
    }
    if (a->json) std::cout << out.dump(2) << "\n";
    else std::cout << "Full-benchmark estimates for " << s.task << " from selection '" << a->selection << "' (" << s.plan.method
                   << ", " << s.plan.items.size() << " of " << s.plan.total_items << " items)\n" << t.render();
    return kExitOk;
  };
}

}  // namespace reckon
