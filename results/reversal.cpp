#include "results/reversal.h"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "common/csv.h"
#include "common/error.h"
#include "common/stats.h"
#include "common/table.h"
#include "common/text.h"
#include "pricing/cost.h"

namespace reckon {
namespace {

// Per (task, model, item): sums over repeats, averaged at the end.
struct ItemAcc {
  double cost = 0, cost_wo = 0, score = 0;
  int64_t n = 0, scored = 0;
  bool unknown_cost = false;
};

struct ModelAcc {
  std::map<std::string, ItemAcc> items;
  double listed = 0;
  bool reasoning_unknown = false;
  int64_t answers = 0, cut_off = 0;
};

void rank(std::vector<ModelTaskCost>& models) {
  auto assign = [&](auto key, auto set) {
    std::vector<size_t> idx(models.size());
    for (size_t i = 0; i < idx.size(); ++i) idx[i] = i;
    std::stable_sort(idx.begin(), idx.end(), [&](size_t a, size_t b) { return key(models[a]) < key(models[b]); });
    for (size_t r = 0; r < idx.size(); ++r) set(models[idx[r]], static_cast<int>(r + 1));
  };
  assign([](const ModelTaskCost& m) { return m.listed_price; }, [](ModelTaskCost& m, int r) { m.listed_rank = r; });
  assign([](const ModelTaskCost& m) { return m.cost; }, [](ModelTaskCost& m, int r) { m.cost_rank = r; });
  assign([](const ModelTaskCost& m) { return m.cost_without_thinking; },
         [](ModelTaskCost& m, int r) { m.cost_rank_without_thinking = r; });
  std::stable_sort(models.begin(), models.end(), [](const ModelTaskCost& a, const ModelTaskCost& b) {
    return a.listed_price != b.listed_price ? a.listed_price < b.listed_price : a.model < b.model;
  });
}

std::vector<PairComparison> compare_pairs(const std::string& task, const std::vector<ModelTaskCost>& models) {
  std::vector<PairComparison> pairs;
  for (size_t i = 0; i < models.size(); ++i) {
    for (size_t j = i + 1; j < models.size(); ++j) {
      const ModelTaskCost *a = &models[i], *b = &models[j];
      if (b->listed_price < a->listed_price) std::swap(a, b);
      PairComparison p;
      p.task = task;
      p.cheaper_listed = a->model;
      p.pricier_listed = b->model;
      p.listed_cheaper = a->listed_price;
      p.listed_pricier = b->listed_price;
      p.cost_cheaper = a->cost;
      p.cost_pricier = b->cost;
      p.cost_cheaper_without_thinking = a->cost_without_thinking;
      p.cost_pricier_without_thinking = b->cost_without_thinking;
      p.listed_tie = a->listed_price == b->listed_price;
      p.reversed = !p.listed_tie && a->cost > b->cost;
      p.reversed_without_thinking = !p.listed_tie && a->cost_without_thinking > b->cost_without_thinking;
      pairs.push_back(p);
    }
  }
  return pairs;
}

std::optional<double> tau(const std::vector<ModelTaskCost>& models, bool without_thinking) {
  std::vector<double> lp, c;
  for (const auto& m : models) {
    lp.push_back(m.listed_price);
    c.push_back(without_thinking ? m.cost_without_thinking : m.cost);
  }
  return kendall_tau_b(lp, c);
}

std::string def_name(CostDefinition d) { return d == CostDefinition::kPaper ? "paper" : "real"; }

}  // namespace

ReversalReport analyze_reversals(Store& store, const std::optional<std::string>& run_id, CostDefinition def) {
  ReversalReport rep;
  rep.definition = def;
  auto q = store.db().prepare(R"sql(
SELECT r.task, r.model, r.item_id, r.input_tokens, r.output_tokens, r.reasoning_tokens,
       r.cost_usd, r.provider_cost_usd, r.cost_reasoning_usd, r.price_entry_id, p.entry, s.value,
       r.finish_reason IN ('length', 'max_tokens', 'MAX_TOKENS')
FROM requests r
LEFT JOIN prices p ON p.id = r.price_entry_id
LEFT JOIN scores s ON s.request_id = r.id AND s.is_primary = 1
WHERE r.status = 'ok' AND r.step IS NULL AND (?1 IS NULL OR r.run_id = ?1))sql");
  q.bind(1, run_id);
  std::map<std::string, std::map<std::string, ModelAcc>> data;  // task -> model -> acc
  std::map<std::string, PriceEntry> entries;
  std::set<std::string> unpriced_models;
  while (q.step()) {
    std::string task = q.text(0), model = q.text(1), item = q.text(2);
    if (q.is_null(9) || q.is_null(10)) {  // no price entry: no listed price to compare
      unpriced_models.insert(model);
      continue;
    }
    std::string pid = q.text(9);
    auto it = entries.find(pid);
    if (it == entries.end()) {
      it = entries.emplace(pid, price_entry_from_json(nlohmann::json::parse(q.text(10)), "prices row " + pid)).first;
    }
    const PriceEntry& e = it->second;
    ModelAcc& m = data[task][model];
    m.listed = std::max(m.listed, e.listed_price());
    ItemAcc& acc = m.items[item];
    auto reasoning = q.opt_int64(5);
    if (!reasoning) m.reasoning_unknown = true;
    ++m.answers;
    if (q.int64(12) == 1 || (reasoning && !q.is_null(4) && q.int64(4) > 0 && *reasoning == q.int64(4))) ++m.cut_off;
    if (q.is_null(3) || q.is_null(4)) {
      acc.unknown_cost = true;
    } else if (def == CostDefinition::kPaper) {
      Usage u;
      u.input_tokens = q.int64(3);
      u.output_tokens = q.int64(4);
      u.reasoning_tokens = reasoning;
      acc.cost += paper_cost(u, e);
      acc.cost_wo += paper_cost(u, e, true);
    } else {
      auto billed = q.opt_real(7);
      auto computed = q.opt_real(6);
      if (!billed && !computed) {
        acc.unknown_cost = true;
      } else {
        double c = billed ? *billed : *computed;
        acc.cost += c;
        acc.cost_wo += c - q.opt_real(8).value_or(0);
      }
    }
    ++acc.n;
    if (auto sc = q.opt_real(11)) {
      acc.score += *sc;
      ++acc.scored;
    }
  }
  for (const auto& m : unpriced_models)
    rep.warnings.push_back("model " + m + " has requests without a price entry: left out (import a price, then re-import)");

  std::vector<std::optional<double>> taus, taus_wo;
  std::map<std::string, ModelTaskCost> overall;
  std::map<std::string, int> overall_tasks;
  for (auto& [task, models] : data) {
    TaskReversal t;
    t.task = task;
    // Compare on the items every model answered with a known cost.
    std::map<std::string, size_t> seen;
    std::set<std::string> all_items;
    for (auto& [_, m] : models)
      for (auto& [item, acc] : m.items) {
        all_items.insert(item);
        if (!acc.unknown_cost) ++seen[item];
      }
    std::set<std::string> shared;
    for (auto& [item, k] : seen)
      if (k == models.size()) shared.insert(item);
    t.items = static_cast<int64_t>(shared.size());
    t.items_dropped = static_cast<int64_t>(all_items.size() - shared.size());
    if (t.items_dropped > 0)
      rep.warnings.push_back("task " + task + ": compared on the " + std::to_string(t.items) + " items every model answered with a known cost (" +
                             std::to_string(t.items_dropped) + " left out)");
    for (auto& [name, m] : models) {
      ModelTaskCost mc;
      mc.model = name;
      mc.listed_price = m.listed;
      mc.reasoning_unknown = m.reasoning_unknown;
      mc.answers = m.answers;
      mc.cut_off = m.cut_off;
      if (m.cut_off * 10 >= m.answers && m.cut_off > 0)
        rep.warnings.push_back(task + "/" + name + ": " + std::to_string(m.cut_off) + " of " + std::to_string(m.answers) +
                               " answers were cut off (output cap, or no visible answer after thinking): its cost is low because it stopped");
      for (const auto& item : shared) {
        const ItemAcc& acc = m.items[item];
        double n = static_cast<double>(acc.n);
        mc.cost += acc.cost / n;
        mc.cost_without_thinking += acc.cost_wo / n;
        if (acc.scored) {
          mc.correct += acc.score / static_cast<double>(acc.scored);
          ++mc.scored_items;
        }
      }
      if (m.reasoning_unknown)
        rep.warnings.push_back(task + "/" + name + ": thinking tokens unknown on some rows; its cost without thinking counts them as visible output");
      t.models.push_back(mc);
    }
    rank(t.models);
    t.pairs = compare_pairs(task, t.models);
    for (const auto& p : t.pairs) {
      ++t.comparisons;
      t.reversals += p.reversed;
      t.reversals_without_thinking += p.reversed_without_thinking;
      if (p.reversed && (!rep.max_magnitude_pair || p.magnitude() > rep.max_magnitude_pair->magnitude()))
        rep.max_magnitude_pair = p;
    }
    t.kendall_tau = tau(t.models, false);
    t.kendall_tau_without_thinking = tau(t.models, true);
    if (t.models.size() < 2) rep.warnings.push_back("task " + task + ": only one model, nothing to compare");
    taus.push_back(t.kendall_tau);
    taus_wo.push_back(t.kendall_tau_without_thinking);
    rep.comparisons += t.comparisons;
    rep.reversals += t.reversals;
    rep.reversals_without_thinking += t.reversals_without_thinking;
    for (const auto& m : t.models) {
      auto& o = overall[m.model];
      o.model = m.model;
      o.listed_price = std::max(o.listed_price, m.listed_price);
      o.cost += m.cost;
      o.cost_without_thinking += m.cost_without_thinking;
      o.correct += m.correct;
      o.scored_items += m.scored_items;
      o.reasoning_unknown = o.reasoning_unknown || m.reasoning_unknown;
      o.answers += m.answers;
      o.cut_off += m.cut_off;
      ++overall_tasks[m.model];
    }
    rep.tasks.push_back(std::move(t));
  }
  auto mean_of = [](const std::vector<std::optional<double>>& v) -> std::optional<double> {
    std::vector<double> xs;
    for (const auto& x : v)
      if (x) xs.push_back(*x);
    if (xs.empty()) return std::nullopt;
    return mean(xs);
  };
  rep.kendall_tau_mean = mean_of(taus);
  rep.kendall_tau_mean_without_thinking = mean_of(taus_wo);
  for (auto& [name, m] : overall)
    if (overall_tasks[name] == static_cast<int>(rep.tasks.size())) rep.overall.push_back(m);
  rank(rep.overall);
  return rep;
}

namespace {

std::string tau_text(const std::optional<double>& t) { return t ? fmt_fixed(*t, 3) : "n/a"; }
std::string pct(double x) { return fmt_fixed(x * 100, 1) + "%"; }

std::string models_table(const std::vector<ModelTaskCost>& models, bool wo) {
  TextTable t({"model", "listed $/MTok", "listed rank", wo ? "cost w/o thinking" : "cost", "cost rank",
               wo ? "cost (with thinking)" : "cost w/o thinking", "accuracy", "$/correct", "cut off"});
  for (const auto& m : models) {
    std::string acc = m.scored_items ? pct(m.correct / static_cast<double>(m.scored_items)) : "-";
    auto pc = m.cost_per_correct();
    std::string primary = fmt_usd(wo ? m.cost_without_thinking : m.cost);
    std::string rank = std::to_string(wo ? m.cost_rank_without_thinking : m.cost_rank);
    if ((wo ? m.cost_rank_without_thinking : m.cost_rank) != m.listed_rank) rank += " *";
    std::string other = fmt_usd(wo ? m.cost : m.cost_without_thinking);
    if (m.reasoning_unknown) (wo ? primary : other) += " (thinking unknown)";
    t.add({m.model, fmt_fixed(m.listed_price, 2), std::to_string(m.listed_rank), primary, rank, other, acc,
           pc ? fmt_usd(*pc) : "-", std::to_string(m.cut_off) + "/" + std::to_string(m.answers)});
  }
  return t.render(1);
}

}  // namespace

std::string render_reversal(const ReversalReport& r, bool wo) {
  std::string out = "Price reversals — cost definition: " + def_name(r.definition) +
                    (r.definition == CostDefinition::kPaper
                         ? " (listed = input + output $/MTok; cost = prompt × input + completion × output, thinking in completion)"
                         : " (reckon's real cost: cache, tiers, batch; provider-billed where reported)") +
                    (wo ? "; primary columns without thinking tokens" : "") + "\n";
  for (const auto& t : r.tasks) {
    out += "\nTask " + t.task + " — " + std::to_string(t.models.size()) + " models, " + std::to_string(t.items) +
           " items compared (* = cost rank differs from listed rank)\n";
    out += models_table(t.models, wo);
    std::vector<const PairComparison*> rev;
    for (const auto& p : t.pairs)
      if (wo ? p.reversed_without_thinking : p.reversed) rev.push_back(&p);
    std::sort(rev.begin(), rev.end(), [](auto* a, auto* b) { return a->magnitude() > b->magnitude(); });
    if (!rev.empty()) {
      TextTable pt({"cheaper-listed", "pricier-listed", "price ratio", "cost ratio (magnitude)", wo ? "with thinking" : "without thinking"});
      for (const auto* p : rev) {
        double mag = wo ? p->cost_cheaper_without_thinking / std::max(p->cost_pricier_without_thinking, 1e-300) : p->magnitude();
        bool other = wo ? p->reversed : p->reversed_without_thinking;
        pt.add({p->cheaper_listed, p->pricier_listed, fmt_fixed(p->price_ratio(), 2) + "×", fmt_fixed(mag, 2) + "×",
                other ? "still reversed" : (wo ? "reversed" : "not reversed")});
      }
      out += "Reversed pairs (the cheaper-listed model cost more):\n" + pt.render(2);
    }
    out += "Reversals " + std::to_string(t.reversals) + "/" + std::to_string(t.comparisons) + " → " +
           std::to_string(t.reversals_without_thinking) + " without thinking; Kendall τ-b (listed vs cost) " +
           tau_text(t.kendall_tau) + " → " + tau_text(t.kendall_tau_without_thinking) + "\n";
  }
  if (!r.overall.empty() && r.tasks.size() > 1) {
    out += "\nAll tasks — total cost of the models present in every task\n" + models_table(r.overall, wo);
  }
  out += "\nOverall: " + std::to_string(r.reversals) + "/" + std::to_string(r.comparisons) + " pair comparisons reversed (" +
         pct(r.reversal_rate()) + "); " + std::to_string(r.reversals_without_thinking) + " without thinking";
  if (auto e = r.thinking_explained()) out += " (thinking explains " + pct(*e) + " of reversals)";
  out += "; mean Kendall τ-b " + tau_text(r.kendall_tau_mean) + " → " + tau_text(r.kendall_tau_mean_without_thinking) + "\n";
  if (r.max_magnitude_pair) {
    const auto& p = *r.max_magnitude_pair;
    out += "Largest reversal: " + p.task + ": " + p.cheaper_listed + " (listed $" + fmt_fixed(p.listed_cheaper, 2) +
           ") cost " + fmt_usd(p.cost_cheaper) + " vs " + p.pricier_listed + " (listed $" +
           fmt_fixed(p.listed_pricier, 2) + ") " + fmt_usd(p.cost_pricier) + " — " + fmt_fixed(p.magnitude(), 2) + "×\n";
  }
  for (const auto& w : r.warnings) out += "note: " + w + "\n";
  return out;
}

nlohmann::json reversal_json(const ReversalReport& r) {
  auto opt = [](const std::optional<double>& v) { return v ? nlohmann::json(*v) : nlohmann::json(); };
  auto model_json = [&](const ModelTaskCost& m) {
    return nlohmann::json{{"model", m.model},
                          {"listed_price", m.listed_price},
                          {"listed_rank", m.listed_rank},
                          {"cost_usd", m.cost},
                          {"cost_rank", m.cost_rank},
                          {"cost_without_thinking_usd", m.cost_without_thinking},
                          {"cost_rank_without_thinking", m.cost_rank_without_thinking},
                          {"accuracy", m.scored_items ? nlohmann::json(m.correct / static_cast<double>(m.scored_items)) : nlohmann::json()},
                          {"cost_per_correct_usd", opt(m.cost_per_correct())},
                          {"reasoning_unknown", m.reasoning_unknown},
                          {"answers", m.answers},
                          {"cut_off", m.cut_off}};
  };
  auto pair_json = [](const PairComparison& p) {
    return nlohmann::json{{"task", p.task},
                          {"cheaper_listed", p.cheaper_listed},
                          {"pricier_listed", p.pricier_listed},
                          {"listed_cheaper", p.listed_cheaper},
                          {"listed_pricier", p.listed_pricier},
                          {"cost_cheaper_usd", p.cost_cheaper},
                          {"cost_pricier_usd", p.cost_pricier},
                          {"cost_cheaper_without_thinking_usd", p.cost_cheaper_without_thinking},
                          {"cost_pricier_without_thinking_usd", p.cost_pricier_without_thinking},
                          {"listed_tie", p.listed_tie},
                          {"reversed", p.reversed},
                          {"reversed_without_thinking", p.reversed_without_thinking},
                          {"magnitude", p.magnitude()},
                          {"price_ratio", p.price_ratio()}};
  };
  nlohmann::json j;
  j["definition"] = def_name(r.definition);
  j["comparisons"] = r.comparisons;
  j["reversals"] = r.reversals;
  j["reversal_rate"] = r.reversal_rate();
  j["reversals_without_thinking"] = r.reversals_without_thinking;
  j["thinking_explained_share"] = opt(r.thinking_explained());
  j["kendall_tau_mean"] = opt(r.kendall_tau_mean);
  j["kendall_tau_mean_without_thinking"] = opt(r.kendall_tau_mean_without_thinking);
  j["max_magnitude"] = r.max_magnitude_pair ? nlohmann::json(r.max_magnitude_pair->magnitude()) : nlohmann::json();
  j["max_magnitude_pair"] = r.max_magnitude_pair ? pair_json(*r.max_magnitude_pair) : nlohmann::json();
  j["tasks"] = nlohmann::json::array();
  for (const auto& t : r.tasks) {
    nlohmann::json tj{{"task", t.task},
                      {"items", t.items},
                      {"items_dropped", t.items_dropped},
                      {"comparisons", t.comparisons},
                      {"reversals", t.reversals},
                      {"reversals_without_thinking", t.reversals_without_thinking},
                      {"kendall_tau", opt(t.kendall_tau)},
                      {"kendall_tau_without_thinking", opt(t.kendall_tau_without_thinking)}};
    tj["models"] = nlohmann::json::array();
    for (const auto& m : t.models) tj["models"].push_back(model_json(m));
    tj["pairs"] = nlohmann::json::array();
    for (const auto& p : t.pairs) tj["pairs"].push_back(pair_json(p));
    j["tasks"].push_back(tj);
  }
  j["overall"] = nlohmann::json::array();
  for (const auto& m : r.overall) j["overall"].push_back(model_json(m));
  j["warnings"] = r.warnings;
  return j;
}

std::string reversal_pairs_csv(const ReversalReport& r) {
  std::string out =
      "task,cheaper_listed,pricier_listed,listed_cheaper,listed_pricier,cost_cheaper_usd,cost_pricier_usd,"
      "cost_cheaper_without_thinking_usd,cost_pricier_without_thinking_usd,reversed,reversed_without_thinking,"
      "magnitude,price_ratio\n";
  auto num = [](double v) { return fmt_fixed(v, 9); };
  for (const auto& t : r.tasks)
    for (const auto& p : t.pairs)
      out += csv_escape(p.task) + "," + csv_escape(p.cheaper_listed) + "," + csv_escape(p.pricier_listed) + "," +
             num(p.listed_cheaper) + "," + num(p.listed_pricier) + "," + num(p.cost_cheaper) + "," + num(p.cost_pricier) +
             "," + num(p.cost_cheaper_without_thinking) + "," + num(p.cost_pricier_without_thinking) + "," +
             (p.reversed ? "1" : "0") + "," + (p.reversed_without_thinking ? "1" : "0") + "," + num(p.magnitude()) + "," +
             num(p.price_ratio()) + "\n";
  return out;
}

}  // namespace reckon
