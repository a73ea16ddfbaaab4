#include "results/thinking.h"

#include <algorithm>
#include <map>
#include <set>
#include <nlohmann/json.hpp>

#include "common/stats.h"
#include "common/table.h"
#include "common/text.h"

namespace reckon {

ThinkingReport analyze_thinking(Store& store, const std::optional<std::string>& run_id, size_t top_k) {
  ThinkingReport rep;
  auto q = store.db().prepare(R"sql(
SELECT run_id, model, task, item_id, output_tokens, reasoning_tokens, cost_usd, cost_reasoning_usd, finish_reason
FROM requests WHERE status = 'ok' AND step IS NULL AND usage_complete = 1 AND (?1 IS NULL OR run_id = ?1)
ORDER BY task, model)sql");
  q.bind(1, run_id);
  std::map<std::pair<std::string, std::string>, ThinkingShare> shares;  // (model, task)
  // task -> item -> model -> thinking tokens of each answer
  std::map<std::string, std::map<std::string, std::map<std::string, std::vector<double>>>> by_item;
  // (model, task) -> (run, item) -> (thinking, cost) per repeat
  std::map<std::pair<std::string, std::string>, std::map<std::pair<std::string, std::string>, std::vector<std::pair<double, double>>>> reps;
  while (q.step()) {
    std::string run = q.text(0), model = q.text(1), task = q.text(2), item = q.text(3);
    auto& s = shares[{model, task}];
    s.model = model;
    s.task = task;
    ++s.requests;
    std::string finish = to_lower(q.text(8));
    const bool truncated = finish == "length" || finish == "max_tokens";
    if (truncated) ++s.truncated;
    auto reasoning = q.opt_int64(5);
    int64_t output = q.int64(4);
    if (truncated || (reasoning && output > 0 && *reasoning == output)) ++s.cut_off;
    if (!reasoning) continue;
    ++s.reasoning_known;
    s.output_tokens += output;
    s.reasoning_tokens += *reasoning;
    if (output > 0 && *reasoning == output) ++s.no_visible_output;
    if (auto c = q.opt_real(6)) {
      s.cost_usd += *c;
      s.reasoning_cost_usd += q.opt_real(7).value_or(0);
    }
    by_item[task][item][model].push_back(static_cast<double>(*reasoning));
    reps[{model, task}][{run, item}].push_back({static_cast<double>(*reasoning), q.opt_real(6).value_or(0)});
  }
  for (auto& [_, s] : shares) rep.shares.push_back(s);

  for (auto& [task, items] : by_item) {
    TaskThinkingSpread sp;
    sp.task = task;
    std::vector<double> ratios;
    std::vector<CrossModelRatio> all;
    std::map<std::string, std::vector<double>> per_model;
    for (auto& [item, models] : items)
      for (auto& [model, v] : models) per_model[model].push_back(mean(v));
    std::set<std::string> excluded;
    for (auto& [model, v] : per_model)
      if (quantile(v, 0.5).value_or(0) < kMinThinkingTokens) excluded.insert(model);
    sp.non_thinking.assign(excluded.begin(), excluded.end());
    for (auto& [item, models] : items) {
      CrossModelRatio r;
      r.task = task;
      r.item_id = item;
      int counted = 0;
      for (auto& [model, v] : models) {
        double m = mean(v);
        if (m <= 0 || excluded.count(model)) continue;
        ++counted;
        if (r.most_model.empty() || m > r.most_tokens) r.most_model = model, r.most_tokens = m;
        if (r.least_model.empty() || m < r.least_tokens) r.least_model = model, r.least_tokens = m;
      }
      if (counted < 2) continue;
      ratios.push_back(r.ratio());
      all.push_back(r);
    }
    sp.items = static_cast<int64_t>(ratios.size());
    sp.median_ratio = quantile(ratios, 0.5);
    sp.p90_ratio = quantile(ratios, 0.9);
    std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) { return a.ratio() > b.ratio(); });
    if (all.size() > top_k) all.resize(top_k);
    sp.top = all;
    rep.spreads.push_back(sp);
  }

  for (auto& [key, queries] : reps) {
    RepeatNoise n;
    n.model = key.first;
    n.task = key.second;
    std::vector<double> tcv, ccv, maxmin, costs;
    for (auto& [_, answers] : queries) {
      if (answers.size() < 2) continue;
      ++n.queries;
      n.repeats += static_cast<int64_t>(answers.size());
      std::vector<double> t, c;
      for (auto& [th, co] : answers) t.push_back(th), c.push_back(co), costs.push_back(co);
      if (auto cv = coefficient_of_variation(t)) tcv.push_back(*cv);
      if (auto cv = coefficient_of_variation(c)) ccv.push_back(*cv);
      double lo = *std::min_element(t.begin(), t.end()), hi = *std::max_element(t.begin(), t.end());
      if (lo > 0) maxmin.push_back(hi / lo);
    }
    if (n.queries == 0) continue;
    n.median_thinking_cv = quantile(tcv, 0.5);
    n.p90_thinking_cv = quantile(tcv, 0.9);
    n.median_cost_cv = quantile(ccv, 0.5);
    n.median_max_min = quantile(maxmin, 0.5);
    n.p90_max_min = quantile(maxmin, 0.9);
    n.max_max_min = quantile(maxmin, 1.0);
    n.query_cost_p50 = quantile(costs, 0.5);
    n.query_cost_p90 = quantile(costs, 0.9);
    rep.noise.push_back(n);
  }
  return rep;
}

namespace {
std::string opt_fixed(const std::optional<double>& v, int d, const std::string& suffix = "") {
  return v ? fmt_fixed(*v, d) + suffix : "-";
}
std::string opt_pct(const std::optional<double>& v) { return v ? fmt_fixed(*v * 100, 1) + "%" : "unknown"; }
}  // namespace

std::string render_thinking(const ThinkingReport& r) {
  std::string out = "Thinking tokens — share of output and of cost, per model and task\n";
  TextTable t({"task", "model", "requests", "thinking known", "thinking tok", "share of output", "share of cost",
               "truncated", "no visible answer"});
  for (const auto& s : r.shares)
    t.add({s.task, s.model, std::to_string(s.requests), std::to_string(s.reasoning_known),
           std::to_string(s.reasoning_tokens), opt_pct(s.token_share()), opt_pct(s.cost_share()),
           std::to_string(s.truncated), std::to_string(s.no_visible_output)});
  out += t.render(2);
  out += "(truncated: finish reason length/max_tokens. no visible answer: all output was thinking — a likely output cap;\n"
         " such answers look cheap and fail.)\n";
  for (const auto& sp : r.spreads) {
    if (sp.items == 0) continue;
    out += "\nSame question, different models — task " + sp.task + ": longest vs shortest thinker, median " +
           opt_fixed(sp.median_ratio, 1, "×") + ", p90 " + opt_fixed(sp.p90_ratio, 1, "×") + " over " +
           std::to_string(sp.items) + " items\n";
    if (!sp.non_thinking.empty()) {
      std::string names;
      for (const auto& m : sp.non_thinking) names += (names.empty() ? "" : ", ") + m;
      out += "  (left out, median thinking under " + fmt_fixed(kMinThinkingTokens, 0) + " tokens: " + names + ")\n";
    }
    for (const auto& c : sp.top)
      out += "  item " + c.item_id + ": " + c.most_model + " thought " + fmt_fixed(c.ratio(), 1) + "× longer than " +
             c.least_model + " (" + fmt_fixed(c.most_tokens, 0) + " vs " + fmt_fixed(c.least_tokens, 0) + " tokens)\n";
  }
  if (!r.noise.empty()) {
    out += "\nRepeat-run noise — the same model answering the same query again\n";
    TextTable n({"task", "model", "queries", "answers", "thinking CV p50", "CV p90", "max/min p50", "max/min p90",
                 "max/min worst", "cost CV p50", "cost/query p50", "cost/query p90"});
    for (const auto& x : r.noise)
      n.add({x.task, x.model, std::to_string(x.queries), std::to_string(x.repeats), opt_fixed(x.median_thinking_cv, 2),
             opt_fixed(x.p90_thinking_cv, 2), opt_fixed(x.median_max_min, 2, "×"), opt_fixed(x.p90_max_min, 2, "×"),
             opt_fixed(x.max_max_min, 1, "×"), opt_fixed(x.median_cost_cv, 2),
             x.query_cost_p50 ? fmt_usd(*x.query_cost_p50) : "-", x.query_cost_p90 ? fmt_usd(*x.query_cost_p90) : "-"});
    out += n.render(2);
    out += "Budget per query at the p90, not the mean: thinking on one query varies that much between runs.\n";
  }
  return out;
}

nlohmann::json thinking_json(const ThinkingReport& r) {
  auto opt = [](const std::optional<double>& v) { return v ? nlohmann::json(*v) : nlohmann::json(); };
  nlohmann::json j;
  j["shares"] = nlohmann::json::array();
  for (const auto& s : r.shares)
    j["shares"].push_back({{"model", s.model}, {"task", s.task}, {"requests", s.requests},
                           {"reasoning_known", s.reasoning_known}, {"output_tokens", s.output_tokens},
                           {"reasoning_tokens", s.reasoning_tokens}, {"token_share", opt(s.token_share())},
                           {"cost_share", opt(s.cost_share())}, {"truncated", s.truncated},
                           {"no_visible_output", s.no_visible_output}});
  j["spreads"] = nlohmann::json::array();
  for (const auto& sp : r.spreads) {
    nlohmann::json top = nlohmann::json::array();
    for (const auto& c : sp.top)
      top.push_back({{"item_id", c.item_id}, {"most_model", c.most_model}, {"most_tokens", c.most_tokens},
                     {"least_model", c.least_model}, {"least_tokens", c.least_tokens}, {"ratio", c.ratio()}});
    j["spreads"].push_back({{"task", sp.task}, {"items", sp.items}, {"median_ratio", opt(sp.median_ratio)},
                            {"p90_ratio", opt(sp.p90_ratio)}, {"top", top}, {"non_thinking", sp.non_thinking}});
  }
  j["noise"] = nlohmann::json::array();
  for (const auto& n : r.noise)
    j["noise"].push_back({{"model", n.model}, {"task", n.task}, {"queries", n.queries}, {"repeats", n.repeats},
                          {"median_thinking_cv", opt(n.median_thinking_cv)}, {"p90_thinking_cv", opt(n.p90_thinking_cv)},
                          {"median_cost_cv", opt(n.median_cost_cv)}, {"median_max_min", opt(n.median_max_min)},
                          {"p90_max_min", opt(n.p90_max_min)}, {"max_max_min", opt(n.max_max_min)},
                          {"query_cost_p50", opt(n.query_cost_p50)}, {"query_cost_p90", opt(n.query_cost_p90)}});
  return j;
}

}  // namespace reckon
