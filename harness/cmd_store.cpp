// Verbs over the store itself: import, merge, summary.
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "common/atomic_file.h"
#include "common/error.h"
#include "common/text.h"
#include "harness/commands.h"
#include "selectors/stored.h"
#include "results/export.h"
#include "sweeps/datasets.h"
#include "results/import.h"
#include "results/merge.h"
#include "results/summary.h"

namespace reckon {

Action define_import(CLI::App& sub) {
  struct Args {
    std::string db, map;
    std::vector<std::string> files;
    ImportOptions opts;
  };
  auto a = std::make_shared<Args>();
  sub.add_option("--db", a->db, "Store to import into (created if missing)")->required();
  sub.add_option("files", a->files, "CSV, JSONL or price-reversal JSON files, or folders of JSON logs")->required();
  sub.add_option("--format", a->opts.format, "auto | csv | jsonl | price-reversal")->capture_default_str();
  sub.add_option("--map", a->map, "Rename foreign columns: reckon_column=file_column,...");
  sub.add_option("--run", a->opts.run_id, "Run id to import as (default: derived from the files' contents)");
  sub.add_flag("--allow-unpriced", a->opts.allow_unpriced, "Store unknown cost for models without a price");
  sub.add_option("--catalog", a->opts.catalogs, "Also price with this catalog (reckon JSON; repeatable)");
  sub.footer("Columns: " + [] {
    std::string s;
    for (const auto& c : import_columns()) s += (s.empty() ? "" : ", ") + c;
    return s;
  }() + " (model, task, item_id required).");
  return [a] {
    a->opts.rename = parse_assignments(a->map, "--map (new=old pairs)");
    Store store(a->db, Store::Mode::kReadWrite);
    ImportResult r = import_files(store, a->files, a->opts);
    std::cout << "imported " << r.inserted << " requests into " << a->db << " as run " << r.run_id;
    if (r.duplicates) std::cout << " (" << r.duplicates << " already stored, skipped)";
    std::cout << "\n";
    for (const auto& w : r.repeated_in_input)
      std::cerr << "warning: " << w << " repeats an earlier row of this input; the first was kept\n";
    return kExitOk;
  };
}

Action define_merge(CLI::App& sub) {
  struct Args {
    std::string out;
    std::vector<std::string> inputs;
  };
  auto a = std::make_shared<Args>();
  sub.add_option("-o,--out", a->out, "Output store (created if missing)")->required();
  sub.add_option("inputs", a->inputs, "Stores to fold in")->required();
  return [a] {
    MergeResult r = merge_stores(a->out, a->inputs);
    std::cout << "merged " << r.inputs << " stores into " << a->out << ": " << r.requests_added << " requests added, "
              << r.requests_skipped << " already present";
    if (r.errors_replaced) std::cout << ", " << r.errors_replaced << " failed requests replaced by successful ones";
    std::cout << "\n";
    return kExitOk;
  };
}

Action define_summary(CLI::App& sub) {
  struct Args {
    std::string db, run;
    bool json = false;
  };
  auto a = std::make_shared<Args>();
  sub.add_option("--db", a->db, "Store to read")->required();
  sub.add_option("--run", a->run, "Only this run (default: the latest run of each campaign, and every import)");
  sub.add_flag("--json", a->json, "Print JSON rows instead of a table");
  return [a] {
    Store store(a->db, Store::Mode::kReadOnly);
    auto rows = summarize(store, a->run.empty() ? std::nullopt : std::optional<std::string>(a->run));
    if (rows.empty()) throw InputError(a->db + ": no requests" + (a->run.empty() ? "" : " in run " + a->run));
    if (a->json) {
      nlohmann::json out = nlohmann::json::array();
      for (const auto& m : rows) {
        nlohmann::json j{{"model", m.model}, {"task", m.task}, {"requests", m.requests}, {"errors", m.errors},
                         {"input_tokens", m.input_tokens}, {"output_tokens", m.output_tokens},
                         {"reasoning_tokens", m.reasoning_tokens}, {"reasoning_unknown_rows", m.reasoning_unknown_rows},
                         {"truncated", m.truncated}, {"cost_usd", m.cost_usd}, {"spent_usd", m.spent_usd},
                         {"cache_hits", m.cache_hits}, {"unknown_cost_rows", m.unknown_cost_rows}};
        j["accuracy"] = m.accuracy ? nlohmann::json(*m.accuracy) : nlohmann::json();
        j["listed_price"] = m.listed_price ? nlohmann::json(*m.listed_price) : nlohmann::json();
        auto pc = m.cost_per_correct();
        j["cost_per_correct"] = pc ? nlohmann::json(*pc) : nlohmann::json();
        out.push_back(j);
      }
      std::cout << out.dump(2) << "\n";
    } else {
      if (a->run.empty()) {  // say which runs the table covers
        const SummaryScope scope = default_scope(store);
        if (!scope.latest.empty()) {
          std::string names;
          for (const auto& n : scope.latest) names += (names.empty() ? "" : ", ") + n;
          std::cout << "Latest run of each campaign: " << names;
          if (scope.earlier) std::cout << "; " << scope.earlier << " earlier run" << (scope.earlier == 1 ? "" : "s") << " left out (--run ID)";
          std::cout << "\n";
        }
      }
      std::cout << render_summary(rows);
    }
    return kExitOk;
  };
}

}  // namespace reckon

namespace reckon {

namespace {

// `export --format sft|dpo`: training sets from the store's scored answers, split and budgeted.
int export_training_sets(Store& store, const std::string& format, const std::string& style_text, const std::string& dir,
                         TrainingSetOptions opt) {
  if (dir.empty()) throw InputError("export --format " + format + " needs --out DIR (train.jsonl and eval.jsonl go there)");
  const TrainingStyle style = parse_training_style(style_text);
  const TrainingSets sets = build_training_sets(store, opt);
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  auto write = [&](const std::string& name, const auto& records) {
    const std::string path = dir + "/" + name;
    AtomicFile file(path);
    write_jsonl(records, style, file.out());
    file.commit();
  };
  const bool sft = format == "sft";
  const size_t train = sft ? sets.sft_train.size() : sets.pairs_train.size();
  const size_t available = sft ? sets.sft_available : sets.pairs_available;
  if (sft) write("train.jsonl", sets.sft_train), write("eval.jsonl", sets.sft_eval);
  else write("train.jsonl", sets.pairs_train), write("eval.jsonl", sets.pairs_eval);
  std::cerr << "export " << format << " (" << style_text << "): " << sets.prompts << " prompts, " << sets.eval_prompts
            << " held out; train " << train << " of " << available << " available, eval "
            << (sft ? sets.sft_eval.size() : sets.pairs_eval.size()) << "; " << sets.duplicate_responses
            << " repeated responses kept once";
  if (opt.budget)
    std::cerr << "; budget " << fmt_fixed(*opt.budget, 2) << " units, spent " << fmt_fixed(sets.units_spent, 2) << " ("
              << sets.sft_train.size() << " SFT examples + " << sets.pairs_train.size() << " pairs × " << fmt_fixed(opt.pair_cost, 2) << ")";
  std::cerr << "\n";
  return kExitOk;
}

}  // namespace

Action define_export(CLI::App& sub) {
  struct Args {
    std::string db, view, format = "csv", out, responses_task, style = "trl", models;
    TrainingSetOptions training;
    double budget = -1;
  };
  auto a = std::make_shared<Args>();
  sub.add_option("--db", a->db, "Store to read")->required();
  auto* view = sub.add_option("--view", a->view, "v_requests | v_model_task | v_costs");
  auto* responses = sub.add_option("--responses", a->responses_task,
                                   "Instead of a view: TASK's response matrix (model,<item ids>; mean score per item), "
                                   "the input of `reckon select eval`");
  view->excludes(responses);
  sub.add_option("--format", a->format,
                 "csv | jsonl (views); sft | dpo (training sets from scored answers: train.jsonl and eval.jsonl in --out)")
      ->capture_default_str();
  sub.add_option("-o,--out", a->out, "Write here instead of standard output (a folder for sft | dpo)");
  sub.add_option("--style", a->style, "Training-set layout: trl | trl-completion | openai")->capture_default_str();
  sub.add_option("--task", a->training.task, "Training sets: only this task");
  sub.add_option("--models", a->models, "Training sets: only these models (comma-separated)");
  sub.add_flag("--cheapest", a->training.cheapest, "SFT: the cheapest correct response instead of the best-scored one");
  sub.add_option("--pairs", a->training.pairs, "Preference pairs: correctness (correct ≻ incorrect) | cost (cheaper correct ≻ costlier)")
      ->capture_default_str();
  sub.add_option("--correct-at", a->training.correct_at, "A response is correct when its score reaches this")->capture_default_str();
  sub.add_option("--held-out", a->training.held_out, "Share of prompts held out for evaluation")->capture_default_str();
  sub.add_option("--seed", a->training.seed, "Seed of the split and the budget's sample")->capture_default_str();
  sub.add_option("--budget", a->budget, "Annotation units to spend (an SFT example costs 1; default: everything)");
  sub.add_option("--sft-fraction", a->training.sft_fraction, "Share of the budget for SFT")->capture_default_str();
  sub.add_option("--pair-cost", a->training.pair_cost, "Cost of a preference pair in SFT examples")->capture_default_str();
  return [a]() -> int {
    Store store(a->db, Store::Mode::kReadOnly);
    if (a->format == "sft" || a->format == "dpo") {
      if (!a->view.empty() || !a->responses_task.empty()) throw InputError("export --format " + a->format + " takes no --view or --responses");
      if (a->budget >= 0) a->training.budget = a->budget;
      if (!a->models.empty())
        for (const auto& m : split(a->models, ',')) a->training.models.push_back(trim(m));
      return export_training_sets(store, a->format, a->style, a->out, a->training);
    }
    if (!a->responses_task.empty()) {
      size_t dropped = 0;
      const std::string csv = matrix_csv(matrix_from_store(store, a->responses_task, &dropped));
      if (dropped) std::cerr << "export: " << dropped << " items left out (not answered by every model)\n";
      if (a->out.empty()) {
        std::cout << csv;
        return kExitOk;
      }
      write_file_atomically(a->out, csv);
      return kExitOk;
    }
    if (a->view.empty()) throw InputError("export needs --view NAME, --responses TASK or --format sft|dpo");
    if (a->out.empty()) {
      export_view(store, a->view, a->format, std::cout);
      return kExitOk;
    }
    AtomicFile file(a->out);
    size_t rows = export_view(store, a->view, a->format, file.out());
    file.commit();
    std::cerr << "exported " << rows << " rows of " << a->view << " to " << a->out << "\n";
    return kExitOk;
  };
}

}  // namespace reckon
