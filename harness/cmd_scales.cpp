// `reckon scales annotate | show`: Scales++ demand levels for a task's items, annotated by any
// configured model from the item text, resumable and spend-capped; and the task's demand profile.
#include <algorithm>
#include <cmath>
#include <iostream>
#include <random>
#include <set>
#include <unistd.h>

#include "common/error.h"
#include "common/stats.h"
#include "common/table.h"
#include "common/text.h"
#include "harness/commands.h"
#include "pricing/catalog.h"
#include "pricing/cost.h"
#include "providers/client.h"
#include "selectors/scales.h"
#include "selectors/stored.h"

namespace reckon {
namespace {

// The items to annotate, with their text: an items file, or the task's items in the store.
std::vector<std::pair<std::string, std::string>> items_to_annotate(Store& store, const std::string& task, const std::string& items_file) {
  std::vector<std::pair<std::string, std::string>> out;
  if (!items_file.empty()) {
    const auto meta = read_item_table(items_file);
    std::vector<std::string> ids;
    for (const auto& [id, m] : meta) ids.push_back(id);
    const auto texts = item_texts(ids, &meta);
    for (size_t i = 0; i < ids.size(); ++i) out.emplace_back(ids[i], texts[i]);
    return out;
  }
  auto q = store.db().prepare("SELECT item_id, prompt FROM items WHERE task = ?1 AND prompt IS NOT NULL ORDER BY item_id");
  q.bind(1, task);
  while (q.step()) out.emplace_back(q.text(0), q.text(1));
  if (out.empty()) throw InputError(store.path() + ": no items of task '" + task + "' with text; give --items ITEMS.jsonl");
  return out;
}

}  // namespace

Action define_scales(CLI::App& sub) {
  struct Args {
    std::string db, task, annotator, items, rubrics, replay, base_url, levels, id_column = "question_id";
    double fraction = 1, max_cost = -1;
    uint64_t seed = 1;
    int concurrency = 8;
    bool json = false;
  };
  auto a = std::make_shared<Args>();
  sub.require_subcommand(1);
  CLI::App* annotate = sub.add_subcommand("annotate", "Annotate items with ADeLe's 18 demand levels (0-5) by a model; resumable");
  annotate->add_option("--db", a->db, "Store: annotations go to item_features")->required();
  annotate->add_option("--task", a->task, "Task the items belong to")->required();
  annotate->add_option("--annotator", a->annotator, "PROVIDER:MODEL that annotates")->required();
  annotate->add_option("--items", a->items, "Items file (JSON Lines: item_id and question|prompt|text|input); default: the store's items");
  annotate->add_option("--fraction", a->fraction, "Share of the items to annotate (seeded sample; Scales++ Lite learns the rest)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  annotate->add_option("--seed", a->seed, "Seed of the sample")->capture_default_str();
  annotate->add_option("--max-cost-usd", a->max_cost, "Stop sending once this much was spent");
  annotate->add_option("--rubrics", a->rubrics, "Folder with ADeLe's full rubric texts (default: reckon's summaries)");
  annotate->add_option("--replay", a->replay, "Recorded answers for the replay provider");
  annotate->add_option("--base-url", a->base_url, "Annotator endpoint override");
  annotate->add_option("--concurrency", a->concurrency, "Requests in flight")->capture_default_str();
  CLI::App* import = sub.add_subcommand("import", "Load demand levels as the ADeLe battery publishes them (CSV: id and 18 scale columns)");
  import->add_option("--db", a->db, "Store: levels go to item_features")->required();
  import->add_option("--task", a->task, "Task the items belong to")->required();
  import->add_option("--levels", a->levels, "Levels CSV: an id column and one column per scale by its abbreviation")->required();
  import->add_option("--id-column", a->id_column, "Column naming each item")->capture_default_str();
  CLI::App* show = sub.add_subcommand("show", "A task's demand profile: per scale the mean, spread and level counts");
  show->add_option("--db", a->db, "Store")->required();
  show->add_option("--task", a->task, "Task")->required();
  show->add_flag("--json", a->json, "Print JSON");
  return [a, annotate, import]() -> int {
    if (import->parsed()) {
      std::vector<std::string> ignored;
      const auto levels = read_published_levels(a->levels, a->id_column, &ignored);  // all read before anything is written
      Store store(a->db, Store::Mode::kReadWrite);
      size_t former = 0, replaced = 0;
      std::set<std::string> had;
      for (const auto& x : load_scale_annotations(store, a->task, &former)) had.insert(x.item_id);
      store.db().exec("BEGIN");
      for (const auto& x : levels) {
        replaced += had.count(x.item_id);
        save_scale_annotation(store, a->task, x);
      }
      store.db().exec("COMMIT");
      std::cout << "scales: " << levels.size() << " items of task '" << a->task << "' imported from " << a->levels
                << " (ADeLe's 18 scales" << (replaced ? "; " + std::to_string(replaced) + " replaced earlier levels" : "") << ")";
      if (!ignored.empty()) {
        std::string names;
        for (const auto& n : ignored) names += (names.empty() ? "" : ", ") + n;
        std::cout << "; columns left aside: " << names;
      }
      std::cout << "\n";
      return kExitOk;
    }
    if (annotate->parsed()) {
      Store store(a->db, Store::Mode::kReadWrite);
      ModelRef ref = parse_model_ref(a->annotator);
      ref.params.base_url = a->base_url;
      ref.params.temperature = 0;
      const auto rubrics = a->rubrics.empty() ? std::map<std::string, std::string>() : load_rubrics(a->rubrics);
      auto items = items_to_annotate(store, a->task, a->items);
      std::mt19937_64 rng(a->seed);
      std::shuffle(items.begin(), items.end(), rng);
      items.resize(static_cast<size_t>(std::ceil(a->fraction * static_cast<double>(items.size()) - 1e-9)));
      std::set<std::string> done;
      size_t former = 0;  // annotated on the former 16 scales: annotated again
      for (const auto& ann : load_scale_annotations(store, a->task, &former)) done.insert(ann.item_id);
      if (former) std::cerr << "scales: " << former << " items annotated on the former 16 scales are annotated again on ADeLe's 18\n";
      PriceCatalog catalog = store.catalog();
      const PriceEntry* price = catalog.find(ref.name(), today_utc());
      if (a->max_cost >= 0 && !price && ref.provider != "replay")
        throw InputError("--max-cost-usd: no price for " + ref.name() + " in the catalog, so spend cannot be capped");
      SystemClock clock;
      ClientOptions co;
      co.max_concurrency = a->concurrency;
      ModelClient client(co, clock);
      ReplaySource replay;
      if (!a->replay.empty()) {
        replay.load(a->replay);
        client.set_replay(&replay);
      }
      double spent = 0;
      size_t annotated = 0, failed = 0, todo = 0, answered = 0;
      const bool tty = isatty(2);
      client.set_admit([&](const ChatRequest&, const void*) { return a->max_cost < 0 || spent < a->max_cost; });
      store.db().exec("BEGIN");
      for (const auto& [id, text] : items) {
        if (done.count(id)) continue;
        ++todo;
        ChatRequest req{ref, scales_prompt(text, rubrics.empty() ? nullptr : &rubrics)};
        client.submit(std::move(req), 0, [&, id = id](const ChatRequest&, const CallResult& r) {
          std::optional<double> cost_usd;
          if (price && r.attempts > 0) cost_usd = cost(r.completion.usage, *price).total_usd;
          spent += cost_usd.value_or(0);
          if (tty && r.attempts > 0)
            std::cerr << "\rscales: " << ++answered << "/" << todo << " items" << (price ? ", spent " + fmt_usd(spent) : "") << "   "
                      << std::flush;
          if (!r.ok) {
            if (r.attempts > 0 && failed++ < 5) std::cerr << "scales: item " << id << ": " << r.error << "\n";
            return;
          }
          try {
            save_scale_annotation(store, a->task, {id, ref.name(), parse_scale_levels(r.completion.text), cost_usd});
            ++annotated;
          } catch (const InputError& e) {
            if (failed++ < 5) std::cerr << "scales: item " << id << ": the annotator's answer is not usable: " << e.what() << "\n";
          }
        });
      }
      client.run();
      store.db().exec("COMMIT");
      if (tty && answered) std::cerr << "\n";
      if (!client.fatal_error().empty()) throw InputError(ref.name() + ": " + client.fatal_error());
      const size_t missing = todo - annotated;
      std::cerr << "scales: " << annotated << " items annotated by " << ref.name() << " (" << done.size() << " already were)"
                << (price ? ", cost " + fmt_usd(spent) : "") << "; " << missing << " not annotated"
                << (missing ? (failed < missing ? " (spend cap reached or stopped)" : "") + std::string(" — rerun to finish") : "") << "\n";
      return missing ? kExitFailure : kExitOk;
    }
    Store store(a->db, Store::Mode::kReadOnly);
    const auto anns = load_scale_annotations(store, a->task);
    if (anns.empty()) throw InputError(store.path() + ": no demand levels for task '" + a->task + "' (run `reckon scales annotate`)");
    std::set<std::string> annotators;
    double total_cost = 0;
    for (const auto& x : anns) annotators.insert(x.annotator), total_cost += x.cost_usd.value_or(0);
    nlohmann::json dims = nlohmann::json::array();
    TextTable t({"scale", "name", "mean", "sd", "0", "1", "2", "3", "4", "5"});
    for (size_t d = 0; d < scale_dimensions().size(); ++d) {
      std::vector<double> v;
      std::vector<int> counts(6, 0);
      for (const auto& x : anns) v.push_back(x.levels[d]), ++counts[static_cast<size_t>(std::clamp(std::lround(x.levels[d]), 0L, 5L))];
      const double m = mean(v);
      double var = 0;
      for (double x : v) var += (x - m) * (x - m);
      const double sd = v.size() > 1 ? std::sqrt(var / static_cast<double>(v.size() - 1)) : 0;
      const auto& dim = scale_dimensions()[d];
      std::vector<std::string> row = {dim.code, dim.name, fmt_fixed(m, 2), fmt_fixed(sd, 2)};
      for (int c : counts) row.push_back(std::to_string(c));
      t.add(row);
      dims.push_back({{"scale", dim.code}, {"name", dim.name}, {"mean", m}, {"sd", sd}, {"levels", counts}});
    }
    if (a->json) {
      std::cout << nlohmann::json({{"task", a->task}, {"items", anns.size()}, {"annotators", annotators}, {"cost_usd", total_cost},
                                   {"scales", dims}})
                       .dump(2)
                << "\n";
      return kExitOk;
    }
    std::string who;
    for (const auto& x : annotators) who += (who.empty() ? "" : ", ") + x;
    std::cout << a->task << ": " << anns.size() << " items annotated by " << who << " (cost " << fmt_usd(total_cost) << ")\n"
              << t.render();
    return kExitOk;
  };
}

}  // namespace reckon
