#include "results/summary.h"

#include <algorithm>
#include <climits>
#include <cmath>

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

namespace {

// The row columns summarize reads, by index.
enum Col { kModel, kTask, kItem, kRun, kAnswer, kOk, kError, kCacheHit, kScored, kScore, kInput, kOutput, kReasoning,
           kReasoningUnknown, kTruncated, kCost, kListed, kLatency };

// What one model × task group gathers as its rows go by.
struct Group {
  ModelTaskSummary m;
  int64_t nonbinary = 0;                    // scored answers not 0/1: no interval, no pass@k
  std::vector<std::pair<int, int>> items;  // per item: (scored answers, right ones)
  std::vector<double> latencies;
};

void close_group(Group& g, std::vector<ModelTaskSummary>& out) {
  ModelTaskSummary& m = g.m;
  if (m.requests == 0) return;  // pipeline calls alone make no row
  if (m.scored > 0) {
    m.accuracy = m.correct / static_cast<double>(m.scored);
    if (g.nonbinary == 0) {
      auto ci = wilson_interval(m.correct, static_cast<double>(m.scored));
      m.ci_low = ci.low;
      m.ci_high = ci.high;
    }
  }
  if (!g.latencies.empty()) {
    m.latency_p50_ms = quantile(g.latencies, 0.5);
    m.latency_p90_ms = quantile(g.latencies, 0.9);
  }
  // pass@k over items answered more than once, k the fewest answers any item has.
  std::erase_if(g.items, [](const std::pair<int, int>& i) { return i.first == 0; });
  if (g.nonbinary == 0 && !g.items.empty()) {
    int k = INT32_MAX;
    for (auto [n, c] : g.items) k = std::min(k, n);
    if (k >= 2) {
      double sum = 0;
      for (auto [n, c] : g.items) sum += pass_at_k(n, c, k);
      m.pass_k = k;
      m.pass_at_k = sum / static_cast<double>(g.items.size());
    }
  }
  out.push_back(std::move(m));
}

}  // namespace

// One pass over the rows in scope — answers, and pipeline calls (they are paid, and an answer served
// from the cache is a cache hit only when no call of its cell was made) — in (model, task, item, run)
// order, which the requests_by_cell index yields for one run without sorting. So each group, each item
// (pass@k counts its answers over every run in scope) and each cell of a run is a stretch of rows.
std::vector<ModelTaskSummary> summarize(Store& store, const std::optional<std::string>& run_id) {
  auto q = store.db().prepare(R"sql(
SELECT r.model, r.task, r.item_id, r.run_id, r.step IS NULL, r.status = 'ok', r.status = 'error', r.cache_hit,
       s.request_id IS NOT NULL, s.value, r.input_tokens, r.output_tokens, r.reasoning_tokens,
       r.usage_complete = 1 AND r.reasoning_tokens IS NULL, r.finish_reason IN ('length', 'max_tokens', 'MAX_TOKENS'),
       r.cost_usd, p.listed_price, r.latency_ms
FROM requests r
LEFT JOIN scores s ON s.request_id = r.id AND s.is_primary = 1
LEFT JOIN prices p ON p.id = r.price_entry_id
WHERE )sql" + run_scope_sql(run_id.has_value()) + R"sql( AND (r.step IS NULL OR r.step LIKE 'call:%')
ORDER BY r.model, r.task, r.item_id, r.run_id)sql");
  q.bind(1, run_id);
  std::vector<ModelTaskSummary> out;
  Group g;
  std::string item, run;
  int64_t cell_cache_hits = 0;  // the current cell's answers from the cache
  bool cell_called = false;     // and whether any of its pipeline calls was made
  bool any = false;
  auto close_cell = [&] {
    if (!cell_called) g.m.cache_hits += cell_cache_hits;
    cell_cache_hits = 0, cell_called = false;
  };
  while (q.step()) {
    const bool new_group = !any || q.text_view(kModel) != g.m.model || q.text_view(kTask) != g.m.task;
    const bool new_item = new_group || q.text_view(kItem) != item;
    if (new_item || q.text_view(kRun) != run) {
      if (any) close_cell();
      if (new_group) {
        if (any) close_group(g, out);
        g = Group{};
        g.m.model = q.text(kModel), g.m.task = q.text(kTask);
      }
      if (new_item) item = q.text(kItem), g.items.emplace_back(0, 0);
      run = q.text(kRun);
      any = true;
    }
    ModelTaskSummary& m = g.m;
    const bool ok = q.int64(kOk) == 1, cache_hit = q.int64(kCacheHit) == 1;
    const std::optional<double> cost = q.opt_real(kCost);
    if (!cache_hit && cost) m.spent_usd += *cost;
    if (q.int64(kAnswer) != 1) {  // a pipeline call
      cell_called = true;
      continue;
    }
    ++m.requests;
    if (q.int64(kError) == 1) ++m.errors;
    const std::optional<double> score = q.opt_real(kScore);
    if (ok && score) {
      ++m.scored, m.correct += *score;
      if (*score != 0 && *score != 1) ++g.nonbinary;
    }
    if (ok && q.int64(kScored) == 1) {
      ++g.items.back().first;
      if (score == 1.0) ++g.items.back().second;
    }
    m.input_tokens += q.int64(kInput), m.output_tokens += q.int64(kOutput), m.reasoning_tokens += q.int64(kReasoning);
    if (ok && q.int64(kReasoningUnknown) == 1) ++m.reasoning_unknown_rows;
    if (q.int64(kTruncated) == 1) ++m.truncated;
    if (cost) m.cost_usd += *cost;
    else if (ok) ++m.unknown_cost_rows;
    if (auto listed = q.opt_real(kListed)) m.listed_price = std::max(m.listed_price.value_or(*listed), *listed);
    if (cache_hit) ++cell_cache_hits;
    else if (ok)
      if (auto latency = q.opt_real(kLatency)) g.latencies.push_back(*latency);
  }
  if (any) close_cell(), close_group(g, out);
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
