// `reckon route train | eval`: routers learned from results, saved in a store, judged on held-out
// queries only.
#include <filesystem>
#include <fstream>
#include <set>
#include <iostream>

#include "common/atomic_file.h"
#include "common/error.h"
#include "common/jsonl.h"
#include "common/text.h"
#include "harness/commands.h"
#include "common/json_parse.h"
#include "routers/evaluate.h"
#include "routers/lm_router.h"
#include "sweeps/backend.h"
#include "sweeps/datasets.h"
#include "tasks/task.h"
#include "routers/router.h"
#include "routers/saved.h"

namespace reckon {
namespace {

std::string config_field(const nlohmann::json& cfg, const std::string& path, const std::string& key, bool required) {
  if (!cfg.contains(key)) {
    if (required) throw InputError(path + ": field '" + key + "' is required");
    return "";
  }
  if (!cfg[key].is_string() || cfg[key].get<std::string>().empty()) throw InputError(path + ": field '" + key + "' must be a non-empty string");
  return cfg[key].get<std::string>();
}

// `--router lm`: the training rows as "which candidate?" chats (the cheapest correct one as the answer,
// every tenth row kept aside as the command's eval set), one SFT stage run as the config's command,
// and the model it produced, to be asked through a provider.
std::function<LmTrained(const RoutingSet&, const std::vector<size_t>&)> lm_fine_tuner(const std::string& config_path, const std::string& dir,
                                                                                     int epochs, uint64_t seed) {
  if (config_path.empty()) throw InputError("route train --router lm needs --backend-config FILE.json (see route train --help)");
  std::ifstream in(config_path);
  if (!in) throw InputError(config_path + ": cannot open the backend config");
  const nlohmann::json cfg = parse_json(in, false);
  if (!cfg.is_object()) throw InputError(config_path + ": not a JSON object");
  static const std::set<std::string> known = {"base_model", "sft", "model", "base_url", "api_key_env", "style", "timeout_s"};
  for (const auto& [key, value] : cfg.items())
    if (!known.count(key)) throw InputError(config_path + ": unknown field '" + key + "'");
  LmTrained out;
  const std::string base = config_field(cfg, config_path, "base_model", true), sft = config_field(cfg, config_path, "sft", true),
                    model = config_field(cfg, config_path, "model", true);
  out.base_url = config_field(cfg, config_path, "base_url", false);
  out.api_key_env = config_field(cfg, config_path, "api_key_env", false);
  const std::string style_text = config_field(cfg, config_path, "style", false);
  const TrainingStyle style = parse_training_style(style_text.empty() ? "trl" : style_text);
  const double timeout_s = cfg.value("timeout_s", 3600.0);
  if (!(timeout_s > 0)) throw InputError(config_path + ": field 'timeout_s' must be positive");
  parse_model_ref(render_template(model, {{"model", "x"}}, config_path + ": field 'model'"));  // fail before training
  return [=](const RoutingSet& s, const std::vector<size_t>& rows) {
    const auto labels = cheapest_correct_labels(s, rows, false);
    std::vector<SftRecord> train, eval;
    for (size_t i = 0; i < rows.size(); ++i)
      (i % 10 == 9 ? eval : train).push_back({route_prompt(s.candidates, s.texts[rows[i]]), s.candidates[static_cast<size_t>(labels[i])]});
    const std::string out_dir = dir + "/sft";
    std::error_code ec;
    std::filesystem::remove_all(out_dir, ec);
    std::filesystem::create_directories(out_dir, ec);
    write_dataset(out_dir + "/train.jsonl", train, style);
    write_dataset(out_dir + "/eval.jsonl", eval, style);
    const std::map<std::string, std::string> fields = {{"train", shell_quote(out_dir + "/train.jsonl")}, {"eval", shell_quote(out_dir + "/eval.jsonl")},
                                                       {"out", shell_quote(out_dir)}, {"base", shell_quote(base)},
                                                       {"epochs", std::to_string(epochs)}, {"seed", std::to_string(seed)},
                                                       {"beta", "0"}, {"stage", "sft"}};
    const std::string trained = run_training_stage(render_template(sft, fields, config_path + ": field 'sft'"), out_dir, timeout_s, "sft");
    LmTrained t = out;
    t.model = render_template(model, {{"model", trained}}, config_path + ": field 'model'");
    return t;
  };
}

}  // namespace

Action define_route(CLI::App& sub) {
  struct Args {
    RoutingSource src;
    std::string costs_from, cost_models, cost_task;
    std::string candidates, costs, router = "dpo", name, save_db, curve, lambda_curve, feature_columns, backend_config, work_dir;
    double lambda = -1;
    std::string rule_feature = "length";
    int epochs = 4;
    double beta = 0.1, threshold = 0.6;
    bool unsolved_class = false, json = false;
  };
  auto a = std::make_shared<Args>();
  sub.require_subcommand(1);
  CLI::App* train = sub.add_subcommand("train", "Train a router on results and save it in a store");
  train->add_option("--outcomes", a->src.outcomes, "Outcomes CSV: <candidate>_correct columns and the query text");
  train->add_option("--db", a->src.db, "Store whose results to train on (with --task)");
  train->add_option("--task", a->src.task, "Task of the store's results");
  train->add_option("--candidates", a->candidates, "Candidates, cheapest first for outcomes files (models in a store)")->required();
  train->add_option("--costs", a->costs, "Cost per query of each candidate (outcomes files without <candidate>_cost)");
  train->add_option("--costs-from", a->costs_from,
                    "Store whose answers give each candidate's cost per answer (e.g. a campaign of the pipelines the candidates stand for)");
  train->add_option("--cost-models", a->cost_models,
                    "With --costs-from: the stored model standing for each candidate, e.g. basic=pipeline:sql-basic@openai:gpt-5-mini,...");
  train->add_option("--cost-task", a->cost_task, "With --costs-from: measure on this task's answers only");
  train->add_option("--text-column", a->src.text_column, "Outcomes: column(s) with the query text, e.g. question,evidence")
      ->capture_default_str();
  train->add_option("--id-column", a->src.id_column, "Outcomes: column with the query id")->capture_default_str();
  train->add_option("--skip-column", a->src.skip_column, "Outcomes: leave out rows where this column is 1 (e.g. contaminated)");
  train->add_option("--feature-columns", a->feature_columns, "Outcomes: numeric columns given to the router beside the text");
  train->add_option("--split-column", a->src.split_column, "Outcomes: column of train / test per row (else a random split)");
  train->add_option("--router", a->router, "rule | knn | softmax | dpo | mlp | cascade | logit | lm")->capture_default_str();
  train->add_option("--train-fraction", a->src.train_fraction, "Share of queries to train on")->capture_default_str();
  train->add_option("--seed", a->src.seed, "Seed of the split and the training order")->capture_default_str();
  train->add_option("--epochs", a->epochs, "Training epochs")->capture_default_str();
  train->add_option("--beta", a->beta, "DPO β")->capture_default_str();
  train->add_option("--threshold", a->threshold, "Cascade: escalate below this P(enough)")->capture_default_str();
  train->add_option("--rule-feature", a->rule_feature, "Rule: length | tables | columns (of a text-to-SQL prompt's schema) | a feature column")
      ->capture_default_str();
  train->add_option("--backend-config", a->backend_config,
                    "lm: JSON with base_model, sft (a command: {train} {eval} {out} {base} {epochs} {seed}), model (e.g. vllm:{model}), "
                    "optional base_url, api_key_env, style, timeout_s");
  train->add_option("--work-dir", a->work_dir, "lm: folder for the training data and the command's output (default: next to the store)");
  train->add_flag("--unsolved-class", a->unsolved_class, "Label queries nobody solved as their own class (else: the most capable)");
  train->add_option("--name", a->name, "Name to save the router under")->required();
  train->add_option("--save-db", a->save_db, "Store to save into (default: --db)");
  struct ApplyArgs {
    std::string db, name, input, text_field = "prompt";
    double lambda = -1;
  };
  auto ap = std::make_shared<ApplyArgs>();
  CLI::App* apply = sub.add_subcommand("apply", "Route new queries with a saved router: one decision per JSON line");
  apply->add_option("--db", ap->db, "Store holding the router")->required();
  apply->add_option("--name", ap->name, "Router name")->required();
  apply->add_option("--input", ap->input, "JSON Lines of queries")->required();
  apply->add_option("--text-field", ap->text_field, "Field holding the query text")->capture_default_str();
  apply->add_option("--lambda", ap->lambda, "Cost-aware mode: maximize P(correct) − λ · cost / costliest cost")->check(CLI::NonNegativeNumber);
  CLI::App* eval = sub.add_subcommand("eval", "Judge a saved router on its held-out queries");
  eval->add_option("--db", a->save_db, "Store holding the router")->required();
  eval->add_option("--name", a->name, "Router name")->required();
  eval->add_option("--curve", a->curve, "Write the cost–accuracy curve (two candidates) as CSV");
  eval->add_option("--lambda", a->lambda, "Judge the cost-aware mode at this λ: maximize P(correct) − λ · cost / costliest cost")
      ->check(CLI::NonNegativeNumber);
  eval->add_option("--lambda-curve", a->lambda_curve, "Write the cost-aware mode's curve over λ (0 to 2) as CSV");
  eval->add_flag("--json", a->json, "{accuracy, mean_tokens, cost_per_query, tep, apgr, cpt50, calls, ...}");

  return [a, train, apply, ap]() -> int {
    if (apply->parsed()) {
      Store store(ap->db, Store::Mode::kReadOnly);
      const SavedRouter saved = load_saved_router(store, ap->name);
      const auto& router = saved.router;
      const auto candidates = saved.params["candidates"].get<std::vector<std::string>>();
      auto records = read_jsonl(ap->input);
      // Features the router was trained with beside the text come from fields of the same names.
      const auto given = saved.params.contains("source")
                             ? saved.params["source"].value("feature_columns", std::vector<std::string>())
                             : std::vector<std::string>();
      std::vector<std::string> texts;
      std::vector<std::vector<double>> features;
      for (size_t line = 0; line < records.size(); ++line) {
        const auto& j = records[line];
        const std::string where = ap->input + ": record " + std::to_string(line + 1);
        if (!j.contains(ap->text_field) || !j[ap->text_field].is_string() || trim(j[ap->text_field].get<std::string>()).empty())
          throw InputError(where + ": no text in field '" + ap->text_field + "'");
        texts.push_back(j[ap->text_field].get<std::string>());
        std::vector<double> f;
        for (const auto& name : given) {
          if (!j.contains(name) || !j[name].is_number())
            throw InputError(where + ": the router needs the number '" + name + "' (a feature it was trained with)");
          f.push_back(j[name].get<double>());
        }
        features.push_back(std::move(f));
      }
      std::vector<Query> queries;
      for (size_t i = 0; i < texts.size(); ++i) queries.emplace_back(texts[i], features[i]);
      std::vector<int> chosen;
      if (ap->lambda >= 0) {
        const auto costs = saved.params["costs"].get<std::vector<double>>();
        for (const auto& q : queries) chosen.push_back(choose_with_lambda(router->p_correct(q), costs, ap->lambda));
      } else {
        chosen = choose_batch(*router, queries);  // every core
      }
      for (size_t i = 0; i < records.size(); ++i) {
        auto& j = records[i];
        j["route"] = candidates.at(static_cast<size_t>(chosen[i]));
        if (candidates.size() == 2) j["escalation"] = router->escalation(queries[i]);
        std::cout << j.dump() << "\n";
      }
      return kExitOk;
    }
    if (train->parsed()) {
      RoutingSource& src = a->src;
      src.candidates = parse_candidates(a->candidates);
      src.costs = parse_costs(a->costs);
      if (!a->costs_from.empty()) {
        if (!a->costs.empty()) throw InputError("route train: give --costs or --costs-from, not both");
        std::vector<int64_t> answers;
        src.costs = measured_costs(a->costs_from, src.candidates, parse_assignments(a->cost_models, "--cost-models"), a->cost_task, &answers);
        std::cout << "costs per answer measured in " << a->costs_from << ":";
        for (size_t k = 0; k < src.candidates.size(); ++k)
          std::cout << (k ? "," : "") << " " << src.candidates[k] << " " << fmt_usd(src.costs[k]) << " (" << answers[k] << " answers)";
        std::cout << "\n";
      } else if (!a->cost_models.empty() || !a->cost_task.empty()) {
        throw InputError("route train: --cost-models and --cost-task go with --costs-from");
      }
      if (!a->feature_columns.empty()) src.feature_columns = parse_candidates(a->feature_columns);
      const std::string save = a->save_db.empty() ? src.db : a->save_db;
      if (save.empty()) throw InputError("route train: where to save? give --save-db DB (or --db)");
      const RoutingSet s = src.load();
      std::vector<size_t> tr, te;
      split_set(s, src.train_fraction, src.seed, tr, te);
      const auto& kind = find_router(a->router);
      auto router = kind.make(s.candidates, s.cost);
      RouterOptions ro;
      ro.train.epochs = a->epochs;
      ro.train.beta = a->beta;
      ro.train.seed = src.seed;
      ro.cascade_threshold = a->threshold;
      ro.unsolved_class = a->unsolved_class;
      ro.rule_feature = a->rule_feature;
      if (a->router == "lm") ro.fine_tune = lm_fine_tuner(a->backend_config, a->work_dir.empty() ? save + ".route-" + a->name : a->work_dir,
                                                          a->epochs, src.seed);
      router->train(s, tr, ro);
      Store store(save, Store::Mode::kReadWrite);
      nlohmann::json params = router->params();
      params["source"] = src.to_json();
      params["source"]["candidates"] = s.candidates;  // cheapest first, as trained
      // The held-out judgement and its curve travel with the router, for the report and dashboards.
      const RouteEval held_out = evaluate_router(*router, s, te);
      params["eval"] = held_out.to_json();
      nlohmann::json curve = nlohmann::json::array();
      const size_t stride = std::max<size_t>(1, held_out.curve.size() / 100);
      for (size_t i = 0; i < held_out.curve.size(); i += stride)
        curve.push_back({held_out.curve[i].costly_share, held_out.curve[i].accuracy});
      if (!held_out.curve.empty() && (held_out.curve.size() - 1) % stride != 0)
        curve.push_back({held_out.curve.back().costly_share, held_out.curve.back().accuracy});
      params["curve"] = curve;
      save_router(store, a->name, a->router, *router, params);
      std::cout << "router '" << a->name << "' (" << a->router << "): trained on " << tr.size() << " queries, " << te.size()
                << " held out (APGR " << (held_out.apgr ? fmt_fixed(*held_out.apgr, 3) : std::string("–"))
                << ", held-out accuracy " << fmt_fixed(100 * held_out.accuracy, 2) << "%); candidates (cheapest first)";
      for (const auto& c : s.candidates) std::cout << ' ' << c;
      std::cout << "\n";
      return kExitOk;
    }
    Store store(a->save_db, Store::Mode::kReadOnly);
    const SavedRouter saved = load_saved_router(store, a->name);
    const auto& router = saved.router;
    const RoutingSource src = RoutingSource::from_json(saved.params["source"]);
    const RoutingSet s = src.load();
    std::vector<size_t> tr, te;
    split_set(s, src.train_fraction, src.seed, tr, te);
    const RouteEval e = evaluate_router(*router, s, te, a->lambda >= 0 ? std::optional<double>(a->lambda) : std::nullopt);
    if (!a->lambda_curve.empty()) {
      std::vector<double> lambdas;
      for (int i = 0; i <= 80; ++i) lambdas.push_back(i / 40.0);
      AtomicFile file(a->lambda_curve);
      file.out() << "lambda,accuracy,cost_per_query\n";
      for (const auto& p : lambda_curve(*router, s, te, lambdas))
        file.out() << p.lambda << ',' << p.accuracy << ',' << p.cost_per_query << '\n';
      file.commit();
    }
    if (!a->curve.empty()) {
      AtomicFile file(a->curve);
      file.out() << "costly_share,accuracy,cost_per_query\n";
      for (const auto& p : e.curve) file.out() << p.costly_share << ',' << p.accuracy << ',' << p.cost_per_query << '\n';
      file.commit();
    }
    if (a->json) std::cout << e.to_json().dump(2) << "\n";
    else std::cout << render_route_eval(e, s.candidates);
    return kExitOk;
  };
}

}  // namespace reckon
