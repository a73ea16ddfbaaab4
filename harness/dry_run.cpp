#include "harness/dry_run.h"

#include <fstream>
#include <iostream>

#include "common/stats.h"
#include "common/table.h"
#include "common/text.h"
#include "results/store.h"

namespace reckon {

size_t print_dry_run(const Campaign& c, const RunOptions& opts, CampaignPlan& plan, const std::string& db_path) {
  std::optional<Store> history;
  if (std::ifstream(db_path).good()) history.emplace(db_path, Store::Mode::kReadOnly);
  // Past output lengths per model and task, then every planned cell priced at them.
  struct Estimate {
    std::vector<double> outs;
    double med = 0, p90 = 0, lo = 0, hi = 0, in_tok = 0;
    double standard_lo = 0, standard_hi = 0;  // a batch model's cost had it been sent live
    size_t requests = 0;
  };
  std::vector<std::vector<Estimate>> est(c.models.size(), std::vector<Estimate>(c.tasks.size()));
  for (size_t m = 0; m < c.models.size(); ++m)
    for (size_t ti = 0; ti < c.tasks.size(); ++ti) {
      auto& e = est[m][ti];
      if (history) {
        auto q = history->db().prepare(
            "SELECT output_tokens FROM requests WHERE (model = ?1 OR model = ?2 OR model LIKE '%:' || ?2) AND task = ?3 "
            "AND status = 'ok' AND output_tokens IS NOT NULL");
        // The same model answers to provider:model, replay:model or a bare imported name.
        q.bind(1, c.models[m].ref.name()).bind(2, c.models[m].ref.model).bind(3, c.tasks[ti].name);
        while (q.step()) e.outs.push_back(q.real(0));
      }
      double cap_out = static_cast<double>(c.models[m].ref.params.max_tokens.value_or(1000));
      e.med = e.outs.empty() ? cap_out : *quantile(e.outs, 0.5);
      e.p90 = e.outs.empty() ? cap_out : *quantile(e.outs, 0.9);
    }
  size_t cells = 0;
  while (auto cell = plan.next()) {
    ++cells;
    auto& e = est[cell->model][cell->task];
    ChatRequest req = cell->request();
    if (sends_in_batches(c, opts, cell->model)) {
      e.standard_lo += estimate_cost(req, cell->price, e.med);
      e.standard_hi += estimate_cost(req, cell->price, e.p90);
      req.model.params.service_tier = ServiceTier::kBatch;
    }
    e.lo += estimate_cost(req, cell->price, e.med);
    e.hi += estimate_cost(req, cell->price, e.p90);
    for (const auto& msg : req.messages) e.in_tok += static_cast<double>(msg.content.size()) / 4.0;
    ++e.requests;
  }
  TextTable t({"model", "task", "requests", "input tok (est)", "output tok median", "output tok p90", "cost (median)",
               "cost (p90)", "basis"});
  double total_lo = 0, total_hi = 0, batch_lo = 0, batch_hi = 0, standard_lo = 0, standard_hi = 0;
  size_t batched = 0;
  for (size_t m = 0; m < c.models.size(); ++m)
    for (size_t ti = 0; ti < c.tasks.size(); ++ti) {
      const auto& e = est[m][ti];
      total_lo += e.lo;
      total_hi += e.hi;
      if (sends_in_batches(c, opts, m)) {
        batched += e.requests;
        batch_lo += e.lo, batch_hi += e.hi;
        standard_lo += e.standard_lo, standard_hi += e.standard_hi;
      }
      t.add({c.models[m].name(), c.tasks[ti].name, std::to_string(e.requests), fmt_fixed(e.in_tok, 0), fmt_fixed(e.med, 0),
             fmt_fixed(e.p90, 0), fmt_usd(e.lo), fmt_usd(e.hi),
             e.outs.empty() ? "max_tokens (no history)" : std::to_string(e.outs.size()) + " past answers"});
    }
  std::cout << "Dry run of " << c.name << " (" << cells << " requests; nothing sent)\n" << t.render(2)
            << "expected cost " << fmt_usd(total_lo) << " (median output) to " << fmt_usd(total_hi)
            << " (p90 output: thinking tokens vary many-fold between runs of one query)\n";
  if (batched > 0)
    std::cout << batched << " requests go in batches, at the batch rates: " << fmt_usd(batch_lo) << " to " << fmt_usd(batch_hi)
              << "; sent live they would cost " << fmt_usd(standard_lo) << " to " << fmt_usd(standard_hi) << " (saving "
              << fmt_usd(standard_lo - batch_lo) << " to " << fmt_usd(standard_hi - batch_hi)
              << "; answers within 24 h)\n";
  return cells;
}

}  // namespace reckon
