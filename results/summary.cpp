#include "results/summary.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <map>
#include <set>

#include "common/stats.h"
#include "common/table.h"
#include "common/text.h"

namespace reckon {
namespace {

// The runs a summary covers: ?1 when given, else each campaign's latest run (started last) and every
// run that belongs to no campaign.
const char* const kInScope =
    "(CASE WHEN ?1 IS NULL THEN r.run_id IN (SELECT ru.id FROM runs ru WHERE ru.campaign IS NULL OR NOT EXISTS ("
    "SELECT 1 FROM runs nx WHERE nx.campaign = ru.campaign AND (nx.started_at > ru.started_at OR "
    "(nx.started_at = ru.started_at AND nx.rowid > ru.rowid)))) ELSE r.run_id = ?1 END)";

}  // namespace

std::string run_scope_sql(bool one_run) { return one_run ? "r.run_id = ?1" : kInScope; }

SummaryScope default_scope(Store& store) {
  SummaryScope s;
  auto q = store.db().prepare(
      "SELECT ru.campaign, ru.id, (SELECT COUNT(*) FROM runs o WHERE o.campaign = ru.campaign) - 1 FROM runs ru "
      "WHERE ru.campaign IS NOT NULL AND NOT EXISTS (SELECT 1 FROM runs nx WHERE nx.campaign = ru.campaign AND "
      "(nx.started_at > ru.started_at OR (nx.started_at = ru.started_at AND nx.rowid > ru.rowid))) ORDER BY ru.campaign");
  while (q.step()) {
    s.latest.push_back(q.text(0) + " (run " + q.text(1) + ")");
    s.earlier += q.int64(2);
  }
  return s;
}

std::vector<ModelTaskSummary> summarize(Store& store, const std::optional<std::string>& run_id) {
  const std::string scope = run_scope_sql(run_id.has_value());
  auto s = store.db().prepare(R"sql(
SELECT r.model, r.task,
       COUNT(*),
       SUM(r.status = 'error'),
       SUM(r.status = 'ok' AND s.value IS NOT NULL),
       TOTAL(CASE WHEN r.status = 'ok' THEN s.value END),
       TOTAL(r.input_tokens), TOTAL(r.output_tokens), TOTAL(r.reasoning_tokens),
       SUM(r.status = 'ok' AND r.usage_complete = 1 AND r.reasoning_tokens IS NULL),
       SUM(r.finish_reason IN ('length', 'max_tokens', 'MAX_TOKENS')),
       TOTAL(r.cost_usd),
       SUM(r.status = 'ok' AND r.cost_usd IS NULL),
       MAX(p.listed_price),
       SUM(r.status = 'ok' AND s.value IS NOT NULL AND s.value NOT IN (0, 1)),
       SUM(r.cache_hit = 1 AND NOT EXISTS (SELECT 1 FROM requests c WHERE c.run_id = r.run_id AND c.model = r.model AND
           c.task = r.task AND c.item_id = r.item_id AND c.step LIKE 'call:%'))
FROM requests r
LEFT JOIN scores s ON s.request_id = r.id AND s.is_primary = 1
LEFT JOIN prices p ON p.id = r.price_entry_id
WHERE )sql" + scope + R"sql( AND r.step IS NULL
GROUP BY r.model, r.task)sql");
  s.bind(1, run_id);
  std::vector<ModelTaskSummary> out;
  while (s.step()) {
    ModelTaskSummary m;
    m.model = s.text(0);
    m.task = s.text(1);
    m.requests = s.int64(2);
    m.errors = s.int64(3);
    m.scored = s.int64(4);
    m.correct = s.real(5);
    m.input_tokens = static_cast<int64_t>(s.real(6));
    m.output_tokens = static_cast<int64_t>(s.real(7));
    m.reasoning_tokens = static_cast<int64_t>(s.real(8));
    m.reasoning_unknown_rows = s.int64(9);
    m.truncated = s.int64(10);
    m.cost_usd = s.real(11);
    m.unknown_cost_rows = s.int64(12);
    m.listed_price = s.opt_real(13);
    bool binary = s.int64(14) == 0;
    m.cache_hits = s.int64(15);
    if (m.scored > 0) {
      m.accuracy = m.correct / static_cast<double>(m.scored);
      if (binary) {
        auto ci = wilson_interval(m.correct, static_cast<double>(m.scored));
        m.ci_low = ci.low;
        m.ci_high = ci.high;
      }
    }
    out.push_back(m);
  }
  // Paid: rows not served from the cache — answers, and a pipeline's calls (its answer row is their sum).
  auto paid = store.db().prepare("SELECT r.model, r.task, TOTAL(r.cost_usd) FROM requests r WHERE r.cache_hit = 0 AND "
                                 "(r.step IS NULL OR r.step LIKE 'call:%') AND " + scope + " GROUP BY r.model, r.task");
  paid.bind(1, run_id);
  std::map<std::pair<std::string, std::string>, double> spent;
  while (paid.step()) spent[{paid.text(0), paid.text(1)}] = paid.real(2);
  for (auto& m : out) m.spent_usd = spent[{m.model, m.task}];
  auto lat = store.db().prepare(
      "SELECT r.model, r.task, r.latency_ms FROM requests r WHERE r.status = 'ok' AND r.cache_hit = 0 AND r.latency_ms IS NOT NULL "
      "AND r.step IS NULL AND " + scope);
  lat.bind(1, run_id);
  std::map<std::pair<std::string, std::string>, std::vector<double>> latencies;
  while (lat.step()) latencies[{lat.text(0), lat.text(1)}].push_back(lat.real(2));
  for (auto& m : out) {
    auto it = latencies.find({m.model, m.task});
    if (it == latencies.end()) continue;
    m.latency_p50_ms = quantile(it->second, 0.5);
    m.latency_p90_ms = quantile(it->second, 0.9);
  }
  // pass@k over items answered more than once.
  auto rep = store.db().prepare(
      "SELECT r.model, r.task, r.item_id, COUNT(*), SUM(s.value = 1), SUM(s.value NOT IN (0, 1)) FROM requests r "
      "JOIN scores s ON s.request_id = r.id AND s.is_primary = 1 WHERE r.status = 'ok' AND r.step IS NULL "
      "AND " + scope + " GROUP BY r.model, r.task, r.item_id");
  rep.bind(1, run_id);
  std::map<std::pair<std::string, std::string>, std::vector<std::pair<int, int>>> per_item;  // (n, correct)
  std::set<std::pair<std::string, std::string>> graded;
  while (rep.step()) {
    auto key = std::make_pair(rep.text(0), rep.text(1));
    if (rep.int64(5) > 0) graded.insert(key);  // not 0/1 scores
    per_item[key].emplace_back(static_cast<int>(rep.int64(3)), static_cast<int>(rep.int64(4)));
  }
  for (auto& m : out) {
    auto key = std::make_pair(m.model, m.task);
    auto it = per_item.find(key);
    if (it == per_item.end() || graded.count(key)) continue;
    int k = INT32_MAX;
    for (auto [n, c] : it->second) k = std::min(k, n);
    if (k < 2) continue;
    double sum = 0;
    for (auto [n, c] : it->second) sum += pass_at_k(n, c, k);
    m.pass_k = k;
    m.pass_at_k = sum / static_cast<double>(it->second.size());
  }
  std::sort(out.begin(), out.end(), [](const ModelTaskSummary& a, const ModelTaskSummary& b) {
    if (a.task != b.task) return a.task < b.task;
    double pa = a.listed_price.value_or(1e300), pb = b.listed_price.value_or(1e300);
    if (pa != pb) return pa < pb;
    return a.model < b.model;
  });
  return out;
}

std::string render_summary(const std::vector<ModelTaskSummary>& rows) {
  TextTable t({"task", "model", "n", "err", "accuracy (95% CI)", "input tok", "output tok", "thinking tok",
               "trunc", "listed $/MTok", "real cost", "$/correct", "latency p50/p90 ms"});
  for (const auto& m : rows) {
    std::string acc = "-";
    if (m.accuracy) {
      acc = fmt_fixed(*m.accuracy * 100, 1) + "%";
      if (m.ci_low) acc += " [" + fmt_fixed(*m.ci_low * 100, 1) + ", " + fmt_fixed(*m.ci_high * 100, 1) + "]";
    }
    if (m.pass_at_k) acc += " pass@" + std::to_string(m.pass_k) + " " + fmt_fixed(*m.pass_at_k * 100, 1) + "%";
    std::string thinking = std::to_string(m.reasoning_tokens);
    if (m.reasoning_unknown_rows > 0)
      thinking = m.reasoning_unknown_rows == m.requests - m.errors ? "unknown"
                                                                   : thinking + " (+" + std::to_string(m.reasoning_unknown_rows) + " unknown)";
    std::string cost = fmt_usd(m.cost_usd);
    if (m.unknown_cost_rows > 0) cost += " (+" + std::to_string(m.unknown_cost_rows) + " unknown)";
    auto per_correct = m.cost_per_correct();
    t.add({m.task, m.model, std::to_string(m.requests), std::to_string(m.errors), acc, std::to_string(m.input_tokens),
           std::to_string(m.output_tokens), thinking, std::to_string(m.truncated),
           m.listed_price ? fmt_fixed(*m.listed_price, 2) : "-", cost, per_correct ? fmt_usd(*per_correct) : "-",
           m.latency_p50_ms ? fmt_fixed(*m.latency_p50_ms, 0) + " / " + fmt_fixed(*m.latency_p90_ms, 0) : "-"});
  }
  // "real cost" is what the answers cost; what was paid differs where answers came from the cache.
  double cost = 0, spent = 0;
  int64_t cached = 0;
  for (const auto& m : rows) cost += m.cost_usd, spent += m.spent_usd, cached += m.cache_hits;
  std::string out = t.render(2);
  if (cached > 0 || std::fabs(cost - spent) > 5e-7)
    out += "spent in these runs " + fmt_usd(spent) + " of the answers' " + fmt_usd(cost) +
           (cached ? ": " + std::to_string(cached) + " answers came from the response cache (paid when first asked)" : "") + "\n";
  return out;
}

}  // namespace reckon
