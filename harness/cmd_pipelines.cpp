// `reckon pipelines list | report`: the built-in pipelines, and per pipeline × task what its answers
// cost: accuracy, calls per answer, tokens (thinking apart), cost, and TEP against sql-basic with the
// same model (METHODS.md §3).
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/stats.h"
#include "common/table.h"
#include "common/text.h"
#include "harness/commands.h"
#include "pipelines/pipeline.h"
#include "results/store.h"

namespace reckon {

Action define_pipelines(CLI::App& sub) {
  struct Args {
    std::string db, run;
    bool json = false;
  };
  auto a = std::make_shared<Args>();
  sub.require_subcommand(1);
  CLI::App* list = sub.add_subcommand("list", "The built-in pipelines and their steps");
  CLI::App* report = sub.add_subcommand("report", "Per pipeline × task: accuracy, calls, tokens, cost, TEP against sql-basic");
  report->add_option("--db", a->db, "Store")->required();
  report->add_option("--run", a->run, "Only this run");
  report->add_flag("--json", a->json, "Print JSON");
  return [a, list]() -> int {
    if (list->parsed()) {
      TextTable t({"pipeline", "steps", "what it does"});
      for (const auto& p : builtin_pipelines()) {
        std::string steps;
        for (const auto& s : p.steps)
          steps += (steps.empty() ? "" : " → ") + s.name + (s.repairs ? " (repair ×" + std::to_string(s.repairs) + ")" : "") +
                   (s.samples > 1 ? " (×" + std::to_string(s.samples) + " vote)" : "");
        t.add({p.name, steps, p.help});
      }
      std::cout << t.render() << "Use one in a campaign: {\"model\": \"provider:model\", \"pipeline\": NAME}\n";
      return kExitOk;
    }
    Store store(a->db, Store::Mode::kReadOnly);
    // Answer rows of pipelines, and their calls (step call:*), per model × task.
    auto q = store.db().prepare(R"sql(
SELECT a.model, a.task, COUNT(*), TOTAL(s.value), TOTAL(a.input_tokens), TOTAL(a.output_tokens), TOTAL(a.reasoning_tokens),
       TOTAL(a.cost_usd), SUM(a.cost_usd IS NULL),
       (SELECT COUNT(*) FROM requests c WHERE c.model = a.model AND c.task = a.task AND c.step LIKE 'call:%'
          AND (?1 = '' OR c.run_id = ?1))
FROM requests a LEFT JOIN scores s ON s.request_id = a.id AND s.is_primary = 1
WHERE a.model LIKE 'pipeline:%' AND a.step IS NULL AND a.status = 'ok' AND (?1 = '' OR a.run_id = ?1)
GROUP BY a.model, a.task ORDER BY a.task, a.model)sql");
    q.bind(1, a->run);
    struct Row {
      std::string model, task, pipeline, base_model;
      double n = 0, accuracy = 0, calls = 0, input = 0, output = 0, thinking = 0, cost = 0;
      bool cost_known = true;
      std::optional<double> tep;
    };
    std::vector<Row> rows;
    while (q.step()) {
      Row r;
      r.model = q.text(0), r.task = q.text(1);
      const auto at = r.model.find('@');
      r.pipeline = r.model.substr(9, at == std::string::npos ? std::string::npos : at - 9);
      r.base_model = at == std::string::npos ? "" : r.model.substr(at + 1);
      r.n = q.real(2);
      r.accuracy = q.real(3) / r.n;
      r.input = q.real(4) / r.n, r.output = q.real(5) / r.n, r.thinking = q.real(6) / r.n;
      r.cost = q.real(7) / r.n;
      r.cost_known = q.int64(8) == 0;
      r.calls = q.real(9) / r.n;
      rows.push_back(r);
    }
    if (rows.empty()) throw InputError(store.path() + ": no pipeline answers" + (a->run.empty() ? "" : " in run " + a->run));
    for (auto& r : rows)
      for (const auto& b : rows)
        if (b.pipeline == "sql-basic" && b.task == r.task && b.base_model == r.base_model && &b != &r)
          r.tep = token_elasticity(r.accuracy, r.input + r.output, b.accuracy, b.input + b.output);
    if (a->json) {
      nlohmann::json out = nlohmann::json::array();
      for (const auto& r : rows)
        out.push_back({{"model", r.model}, {"pipeline", r.pipeline}, {"task", r.task}, {"answers", r.n}, {"accuracy", r.accuracy},
                       {"calls_per_answer", r.calls}, {"input_tokens", r.input}, {"output_tokens", r.output},
                       {"thinking_tokens", r.thinking},
                       {"cost_per_answer_usd", r.cost_known ? nlohmann::json(r.cost) : nlohmann::json(nullptr)},
                       {"tep_vs_sql_basic", r.tep ? nlohmann::json(*r.tep) : nlohmann::json(nullptr)}});
      std::cout << out.dump(2) << "\n";
      return kExitOk;
    }
    TextTable t({"task", "pipeline (model)", "answers", "accuracy", "calls/answer", "input tok", "output tok", "thinking tok",
                 "cost/answer", "TEP vs sql-basic"});
    for (const auto& r : rows)
      t.add({r.task, r.model, fmt_fixed(r.n, 0), fmt_fixed(100 * r.accuracy, 1) + "%", fmt_fixed(r.calls, 2), fmt_fixed(r.input, 0),
             fmt_fixed(r.output, 0), fmt_fixed(r.thinking, 0), r.cost_known ? fmt_usd(r.cost) : "unknown",
             r.tep ? fmt_fixed(*r.tep, 3) : "–"});
    std::cout << "Per answer (means over answers; tokens and cost are the sums of each answer's calls)\n" << t.render();
    return kExitOk;
  };
}

}  // namespace reckon
