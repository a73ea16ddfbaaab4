#include "results/costs.h"

#include <map>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/table.h"
#include "common/text.h"

namespace reckon {

std::vector<CostRow> spend(Store& store, const std::vector<std::string>& by, const std::optional<std::string>& run_id) {
  static const std::map<std::string, std::string> kDims = {
      {"model", "model"}, {"task", "task"}, {"run", "run_id"}, {"day", "substr(created_at, 1, 10)"},
      {"tier", "IFNULL(service_tier, 'standard')"}};  // batch spend apart from live
  if (by.empty()) throw InputError("--by needs at least one of model, task, run, day, tier");
  std::string keys;
  for (const auto& d : by) {
    auto it = kDims.find(d);
    if (it == kDims.end()) throw InputError("--by: unknown dimension '" + d + "' (model, task, run, day, tier)");
    keys += (keys.empty() ? "" : ", ") + it->second;
  }
  auto q = store.db().prepare("SELECT " + keys + R"sql(,
  COUNT(*), SUM(cost_usd IS NULL), SUM(provider_cost_usd IS NOT NULL),
  TOTAL(cost_input_usd), TOTAL(cost_cache_read_usd), TOTAL(cost_cache_write_usd), TOTAL(cost_output_usd),
  TOTAL(cost_reasoning_usd), TOTAL(cost_fees_usd), TOTAL(cost_usd), TOTAL(provider_cost_usd),
  TOTAL(CASE WHEN provider_cost_usd IS NOT NULL THEN cost_usd END)
FROM requests WHERE (status = 'ok' OR cost_usd IS NOT NULL) AND cache_hit = 0 AND (?1 IS NULL OR run_id = ?1)
GROUP BY )sql" + keys + " ORDER BY " + keys);
  q.bind(1, run_id);
  std::vector<CostRow> rows;
  const int k = static_cast<int>(by.size());
  while (q.step()) {
    CostRow r;
    for (int i = 0; i < k; ++i) r.keys.push_back(q.text(i));
    r.requests = q.int64(k);
    r.unknown_cost = q.int64(k + 1);
    r.provider_billed = q.int64(k + 2);
    r.input = q.real(k + 3);
    r.cache_read = q.real(k + 4);
    r.cache_write = q.real(k + 5);
    r.output = q.real(k + 6);
    r.reasoning = q.real(k + 7);
    r.fees = q.real(k + 8);
    r.total = q.real(k + 9);
    r.provider_cost = q.real(k + 10);
    r.computed_where_billed = q.real(k + 11);
    rows.push_back(r);
  }
  return rows;
}

std::string render_spend(const std::vector<std::string>& by, const std::vector<CostRow>& rows) {
  std::vector<std::string> header = by;
  for (const char* h : {"requests", "input", "cache read", "cache write", "visible output", "thinking", "fees", "total",
                        "provider-billed", "billed − computed", "unknown"})
    header.push_back(h);
  TextTable t(header);
  CostRow sum;
  for (const auto& r : rows) {
    std::vector<std::string> cells = r.keys;
    for (std::string c : {std::to_string(r.requests), fmt_usd(r.input), fmt_usd(r.cache_read), fmt_usd(r.cache_write),
                          fmt_usd(r.output), fmt_usd(r.reasoning), fmt_usd(r.fees), fmt_usd(r.total),
                          r.provider_billed ? fmt_usd(r.provider_cost) : "-",
                          r.provider_billed ? fmt_usd(r.provider_cost - r.computed_where_billed) : "-",
                          std::to_string(r.unknown_cost)})
      cells.push_back(c);
    t.add(cells);
    sum.requests += r.requests;
    sum.total += r.total;
    sum.reasoning += r.reasoning;
    sum.unknown_cost += r.unknown_cost;
  }
  std::string out = t.render(by.size());
  out += "total " + fmt_usd(sum.total) + " over " + std::to_string(sum.requests) + " requests, thinking " +
         fmt_usd(sum.reasoning) + (sum.unknown_cost ? ", " + std::to_string(sum.unknown_cost) + " with unknown cost" : "") +
         " (thinking is 0 where the provider did not say: it stays inside visible output)\n";
  return out;
}

nlohmann::json spend_json(const std::vector<std::string>& by, const std::vector<CostRow>& rows) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& r : rows) {
    nlohmann::json j;
    for (size_t i = 0; i < by.size(); ++i) j[by[i]] = r.keys[i];
    j["requests"] = r.requests;
    j["input_usd"] = r.input;
    j["cache_read_usd"] = r.cache_read;
    j["cache_write_usd"] = r.cache_write;
    j["output_usd"] = r.output;
    j["reasoning_usd"] = r.reasoning;
    j["fees_usd"] = r.fees;
    j["cost_usd"] = r.total;
    j["provider_billed_requests"] = r.provider_billed;
    j["provider_cost_usd"] = r.provider_cost;
    j["computed_cost_where_billed_usd"] = r.computed_where_billed;
    j["unknown_cost_requests"] = r.unknown_cost;
    out.push_back(j);
  }
  return out;
}

}  // namespace reckon
