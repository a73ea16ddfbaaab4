#include "results/gate.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <random>

#include "common/error.h"
#include "common/stats.h"
#include "common/table.h"
#include "common/text.h"
#include "results/store.h"

namespace reckon {

RunRef parse_run_ref(const std::string& text) {
  auto colon = text.rfind(':');
  if (colon != std::string::npos && colon > 0 && std::filesystem::exists(text.substr(0, colon)))
    return {text.substr(0, colon), text.substr(colon + 1)};
  return {text, ""};
}

double mcnemar_exact(int b, int c) {
  int n = b + c;
  if (n == 0) return 1.0;
  int k = std::min(b, c);
  // 2 * P(X <= k), X ~ Binomial(n, 1/2), in log space for large n.
  double total = 0;
  for (int i = 0; i <= k; ++i)
    total += std::exp(std::lgamma(n + 1.0) - std::lgamma(i + 1.0) - std::lgamma(n - i + 1.0) - n * std::log(2.0));
  return std::min(1.0, 2 * total);
}

bool GateRow::passed() const {
  return std::all_of(checks.begin(), checks.end(), [](const GateCheck& c) { return c.passed; });
}

bool GateReport::passed() const {
  return std::all_of(rows.begin(), rows.end(), [](const GateRow& r) { return r.passed(); });
}

namespace {

struct ItemStats {
  double score = 0, cost = 0, latency = 0;
  int n = 0, latency_n = 0;
  bool binary = true;
};

using Cells = std::map<std::pair<std::string, std::string>, std::map<std::string, ItemStats>>;  // (model, task) -> item

std::string resolve_run(Store& s, const RunRef& ref) {
  if (ref.selector.empty()) {
    auto q = s.db().prepare("SELECT id FROM runs ORDER BY started_at DESC, id LIMIT 1");
    if (!q.step()) throw InputError(ref.db + ": no runs");
    return q.text(0);
  }
  auto q = s.db().prepare("SELECT id FROM runs WHERE id = ?1 OR campaign = ?1 ORDER BY started_at DESC LIMIT 1");
  q.bind(1, ref.selector);
  if (!q.step()) throw InputError(ref.db + ": no run or campaign named '" + ref.selector + "'");
  return q.text(0);
}

Cells load(const RunRef& ref, const std::optional<std::string>& task, std::string& run_id) {
  Store s(ref.db, Store::Mode::kReadOnly);
  run_id = resolve_run(s, ref);
  auto q = s.db().prepare(
      "SELECT model, task, item_id, score, answer_cost_usd, latency_ms FROM v_requests WHERE run_id = ?1 AND status = 'ok' "
      "AND row_kind = 'answer' "
      "AND score IS NOT NULL AND (?2 IS NULL OR task = ?2)");
  q.bind(1, run_id).bind(2, task);
  Cells cells;
  while (q.step()) {
    ItemStats& st = cells[{q.text(0), q.text(1)}][q.text(2)];
    double sc = q.real(3);
    st.score += sc;
    st.binary = st.binary && (sc == 0 || sc == 1);
    st.cost += q.opt_real(4).value_or(0);
    if (auto l = q.opt_real(5)) st.latency += *l, ++st.latency_n;
    ++st.n;
  }
  return cells;
}

std::string pct(double v) { return (v >= 0 ? "+" : "") + fmt_fixed(v, 1) + "%"; }
std::string pp(double v) { return (v >= 0 ? "+" : "") + fmt_fixed(v * 100, 1) + " pp"; }

}  // namespace

GateReport run_gate(const RunRef& baseline, const RunRef& candidate, const GateOptions& o) {
  GateReport rep;
  Cells base = load(baseline, o.task, rep.baseline_run);
  Cells cand = load(candidate, o.task, rep.candidate_run);
  std::mt19937_64 rng(o.seed);
  for (const auto& [key, bitems] : base) {
    auto it = cand.find(key);
    if (it == cand.end()) {
      rep.notes.push_back(key.first + " / " + key.second + ": only in the baseline");
      continue;
    }
    std::vector<std::string> shared;
    for (const auto& [item, _] : bitems)
      if (it->second.count(item)) shared.push_back(item);
    if (shared.empty()) {
      rep.notes.push_back(key.first + " / " + key.second + ": no items in common");
      continue;
    }
    GateRow row;
    row.model = key.first;
    row.task = key.second;
    row.items = shared.size();
    std::vector<double> d;
    std::vector<double> bl, cl;
    int b = 0, c = 0;
    bool binary = true;
    for (const auto& item : shared) {
      const ItemStats &x = bitems.at(item), &y = it->second.at(item);
      double bs = x.score / x.n, cs = y.score / y.n;
      binary = binary && x.binary && y.binary && x.n == 1 && y.n == 1;
      row.base_accuracy += bs;
      row.cand_accuracy += cs;
      d.push_back(cs - bs);
      if (bs == 1 && cs == 0) ++b;
      if (bs == 0 && cs == 1) ++c;
      row.base_cost += x.cost / x.n;
      row.cand_cost += y.cost / y.n;
      if (x.latency_n) bl.push_back(x.latency / x.latency_n);
      if (y.latency_n) cl.push_back(y.latency / y.latency_n);
    }
    double n = static_cast<double>(shared.size());
    row.base_accuracy /= n;
    row.cand_accuracy /= n;
    row.diff = row.cand_accuracy - row.base_accuracy;
    // Paired bootstrap: resample items, keep each item's pair together.
    std::uniform_int_distribution<size_t> pick(0, d.size() - 1);
    std::vector<double> means;
    means.reserve(static_cast<size_t>(o.bootstrap));
    for (int r = 0; r < o.bootstrap; ++r) {
      double s = 0;
      for (size_t i = 0; i < d.size(); ++i) s += d[pick(rng)];
      means.push_back(s / n);
    }
    row.ci_low = *quantile(means, 0.025);
    row.ci_high = *quantile(means, 0.975);
    if (binary) row.mcnemar_p = mcnemar_exact(b, c);
    row.base_p90_ms = quantile(bl, 0.9);
    row.cand_p90_ms = quantile(cl, 0.9);

    GateCheck acc{"accuracy", false, true, pp(row.diff) + " [" + pp(row.ci_low) + ", " + pp(row.ci_high) + "]" +
                                              (row.mcnemar_p ? ", McNemar p = " + fmt_fixed(*row.mcnemar_p, 4) : "")};
    if (o.max_accuracy_drop_pp) {
      acc.checked = true;
      bool dropped = -row.diff * 100 > *o.max_accuracy_drop_pp;
      bool significant = row.mcnemar_p ? *row.mcnemar_p < 0.05 : row.ci_high < 0;
      acc.passed = !(dropped && (!o.significant_only || significant));
      acc.detail += "; allowed drop " + fmt_fixed(*o.max_accuracy_drop_pp, 1) + " pp" + (o.significant_only ? " (if significant)" : "");
    }
    row.checks.push_back(acc);
    double cost_change = row.base_cost > 0 ? (row.cand_cost - row.base_cost) / row.base_cost * 100 : 0;
    GateCheck cost{"cost", false, true, fmt_usd(row.base_cost) + " -> " + fmt_usd(row.cand_cost) + " (" + pct(cost_change) + ")"};
    if (o.max_cost_increase_pct) {
      cost.checked = true;
      cost.passed = cost_change <= *o.max_cost_increase_pct;
      cost.detail += "; allowed +" + fmt_fixed(*o.max_cost_increase_pct, 1) + "%";
    }
    row.checks.push_back(cost);
    if (row.base_p90_ms && row.cand_p90_ms) {
      double lat_change = *row.base_p90_ms > 0 ? (*row.cand_p90_ms - *row.base_p90_ms) / *row.base_p90_ms * 100 : 0;
      GateCheck lat{"latency_p90", false, true,
                    fmt_fixed(*row.base_p90_ms, 0) + " ms -> " + fmt_fixed(*row.cand_p90_ms, 0) + " ms (" + pct(lat_change) + ")"};
      if (o.max_latency_p90_increase_pct) {
        lat.checked = true;
        lat.passed = lat_change <= *o.max_latency_p90_increase_pct;
        lat.detail += "; allowed +" + fmt_fixed(*o.max_latency_p90_increase_pct, 1) + "%";
      }
      row.checks.push_back(lat);
    }
    rep.rows.push_back(row);
  }
  for (const auto& [key, _] : cand)
    if (!base.count(key)) rep.notes.push_back(key.first + " / " + key.second + ": only in the candidate");
  if (rep.rows.empty()) throw InputError("baseline and candidate share no scored items (model, task and item must match)");
  for (const auto& r : rep.rows)
    if (r.items < o.min_items)
      throw InputError(r.model + " / " + r.task + ": only " + std::to_string(r.items) + " shared items, fewer than --min-items " +
                       std::to_string(o.min_items));
  return rep;
}

std::string render_gate(const GateReport& r) {
  TextTable t({"model", "task", "items", "accuracy base -> candidate", "check", "result", "detail"});
  for (const auto& row : r.rows)
    for (const auto& c : row.checks)
      t.add({row.model, row.task, std::to_string(row.items),
             fmt_fixed(row.base_accuracy * 100, 1) + "% -> " + fmt_fixed(row.cand_accuracy * 100, 1) + "%", c.name,
             !c.checked ? "info" : c.passed ? "pass" : "FAIL", c.detail});
  std::string out = "Gate: baseline " + r.baseline_run + " vs candidate " + r.candidate_run + "\n" + t.render(99);
  for (const auto& n : r.notes) out += "note: " + n + "\n";
  out += r.passed() ? "PASS\n" : "FAIL\n";
  return out;
}

std::string gate_markdown(const GateReport& r) {
  std::string out = std::string("### reckon gate: ") + (r.passed() ? "✅ pass" : "❌ fail") + "\n\nBaseline `" + r.baseline_run +
                    "` vs candidate `" + r.candidate_run + "`, paired on shared items.\n\n" +
                    "| model | task | items | check | result | detail |\n|---|---|---:|---|---|---|\n";
  for (const auto& row : r.rows)
    for (const auto& c : row.checks)
      out += "| " + row.model + " | " + row.task + " | " + std::to_string(row.items) + " | " + c.name + " | " +
             (!c.checked ? "ℹ️" : c.passed ? "✅" : "❌") + " | " + c.detail + " |\n";
  for (const auto& n : r.notes) out += "\n> " + n + "\n";
  return out;
}

namespace {
}  // namespace

std::string gate_junit(const GateReport& r) {
  size_t tests = 0, failures = 0;
  std::string cases;
  for (const auto& row : r.rows)
    for (const auto& c : row.checks) {
      ++tests;
      cases += "    <testcase classname=\"" + xml_escape(row.model + "." + row.task) + "\" name=\"" + xml_escape(c.name) + "\" time=\"0\">";
      if (!c.passed) {
        ++failures;
        cases += "\n      <failure message=\"" + xml_escape(c.name + " gate failed") + "\" type=\"gate\">" + xml_escape(c.detail) +
                 "</failure>\n    ";
      } else {
        cases += "<system-out>" + xml_escape(c.detail) + "</system-out>";
      }
      cases += "</testcase>\n";
    }
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"reckon gate\" tests=\"" + std::to_string(tests) +
         "\" failures=\"" + std::to_string(failures) + "\">\n  <testsuite name=\"reckon gate\" tests=\"" + std::to_string(tests) +
         "\" failures=\"" + std::to_string(failures) + "\" errors=\"0\" skipped=\"0\">\n" + cases + "  </testsuite>\n</testsuites>\n";
}

nlohmann::json gate_json(const GateReport& r) {
  nlohmann::json j{{"passed", r.passed()}, {"baseline_run", r.baseline_run}, {"candidate_run", r.candidate_run}, {"notes", r.notes}};
  j["rows"] = nlohmann::json::array();
  for (const auto& row : r.rows) {
    nlohmann::json rj{{"model", row.model}, {"task", row.task}, {"items", row.items}, {"base_accuracy", row.base_accuracy},
                      {"candidate_accuracy", row.cand_accuracy}, {"accuracy_diff", row.diff}, {"ci_low", row.ci_low},
                      {"ci_high", row.ci_high}, {"base_cost_usd", row.base_cost}, {"candidate_cost_usd", row.cand_cost},
                      {"passed", row.passed()}};
    rj["mcnemar_p"] = row.mcnemar_p ? nlohmann::json(*row.mcnemar_p) : nlohmann::json();
    rj["checks"] = nlohmann::json::array();
    for (const auto& c : row.checks)
      rj["checks"].push_back({{"name", c.name}, {"checked", c.checked}, {"passed", c.passed}, {"detail", c.detail}});
    j["rows"].push_back(rj);
  }
  return j;
}

}  // namespace reckon
