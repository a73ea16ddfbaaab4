#include "selectors/evaluate.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <optional>
#include <random>

#include "common/error.h"
#include "common/stats.h"
#include "common/table.h"
#include "common/text.h"
#include "selectors/adaptive.h"

namespace reckon {

nlohmann::json SelectEvalResult::to_json() const {
  return {{"method", method}, {"budget", budget}, {"seeds", seeds}, {"mae_pct", mae_pct}, {"mae_pct_sd", mae_pct_sd},
          {"kendall_tau", kendall_tau}};
}

std::vector<SelectEvalResult> evaluate_selection(const ResponseMatrix& m, const std::map<std::string, nlohmann::json>* item_meta,
                                                 const SelectEvalOptions& opt, const std::function<void(int, int)>& progress) {
  if (opt.methods.empty() || opt.budgets.empty()) throw InputError("select eval needs at least one method and one budget");
  if (opt.seeds < 1) throw InputError("--seeds must be at least 1");
  if (!(opt.source_fraction > 0 && opt.source_fraction < 1)) throw InputError("--source-fraction must be between 0 and 1");
  const int models = static_cast<int>(m.models.size());
  const int n_source = static_cast<int>(std::round(opt.source_fraction * models));
  const int n_target = models - n_source;
  for (const auto& name : opt.methods) {
    const auto& method = find_selector(name);
    if (n_source < method.min_source_models || n_target < 2)
      throw InputError("method '" + name + "' needs at least " + std::to_string(std::max(method.min_source_models, 1)) +
                       " source and 2 target models; the matrix has " + std::to_string(models) + " models (" +
                       std::to_string(n_source) + " source at --source-fraction " + fmt_fixed(opt.source_fraction, 2) + ")");
  }
  for (int b : opt.budgets)
    if (b < 1 || b > static_cast<int>(m.items.size()))
      throw InputError("budget " + std::to_string(b) + " is not between 1 and the matrix's " + std::to_string(m.items.size()) + " items");

  // errors[method][budget] = per-seed MAE; taus likewise.
  std::map<std::pair<std::string, int>, std::vector<double>> maes, taus;
  const int total = opt.seeds * static_cast<int>(opt.methods.size());
  int done = 0;
  for (int s = 0; s < opt.seeds; ++s) {
    std::mt19937_64 rng(1000 + s);
    std::vector<int> order(models);
    std::iota(order.begin(), order.end(), 0);
    std::shuffle(order.begin(), order.end(), rng);
    const std::vector<int> source_rows(order.begin(), order.begin() + n_source), target_rows(order.begin() + n_source, order.end());
    const Eigen::MatrixXd source = rows_of(m.y, source_rows);
    IrtOptions irt = opt.irt;
    irt.seed = 1000 + s;
    SelectionContext ctx(source, m.items, item_meta, irt);
    ctx.scale_levels = opt.scale_levels;
    ctx.strata_field = opt.strata_field;
    std::vector<double> truth;
    for (int r : target_rows) truth.push_back(m.y.row(r).mean());
    std::optional<IrtItems> adaptive;  // fitted once per split, shared by every budget
    for (const auto& name : opt.methods) {
      const auto& method = find_selector(name);
      for (int b : opt.budgets) {
        std::vector<double> est;
        double abs_err = 0;
        if (name == "adaptive") {
          // Each target model is tested item by item: its own answers choose what it is asked next.
          if (!adaptive) adaptive = adaptive_items(source, irt.seed);
          for (size_t t = 0; t < target_rows.size(); ++t) {
            const AdaptiveResult r =
                run_adaptive(*adaptive, {b, 0, 3}, [&](int j) { return m.y(target_rows[t], j); }, &ctx.irt_fit().items);
            est.push_back(r.estimate);
            abs_err += std::fabs(est.back() - truth[t]);
          }
        } else {
          const Plan plan = method.select(ctx, b, 7919 * (s + 1) + b);
          for (size_t t = 0; t < target_rows.size(); ++t) {
            std::vector<double> scores;
            scores.reserve(plan.items.size());
            for (int j : plan.items) scores.push_back(m.y(target_rows[t], j));
            est.push_back(plan.estimate(scores));
            abs_err += std::fabs(est.back() - truth[t]);
          }
        }
        maes[{name, b}].push_back(100 * abs_err / static_cast<double>(target_rows.size()));
        if (auto tau = kendall_tau_b(est, truth)) taus[{name, b}].push_back(*tau);
      }
      if (progress) progress(++done, total);
    }
  }
  std::vector<SelectEvalResult> out;
  for (const auto& name : opt.methods)
    for (int b : opt.budgets) {
      const auto& e = maes[{name, b}];
      const auto& t = taus[{name, b}];
      SelectEvalResult r;
      r.method = name;
      r.budget = b;
      r.seeds = opt.seeds;
      r.mae_pct = mean(e);
      double var = 0;
      for (double x : e) var += (x - r.mae_pct) * (x - r.mae_pct);
      r.mae_pct_sd = e.size() > 1 ? std::sqrt(var / static_cast<double>(e.size() - 1)) : 0;
      r.kendall_tau = t.empty() ? 0 : mean(t);
      out.push_back(r);
    }
  return out;
}

std::string render_select_eval(const std::vector<SelectEvalResult>& rows) {
  TextTable t({"method", "budget", "seeds", "MAE (pp)", "sd", "Kendall τ"});
  for (const auto& r : rows)
    t.add({r.method, std::to_string(r.budget), std::to_string(r.seeds), fmt_fixed(r.mae_pct, 2), fmt_fixed(r.mae_pct_sd, 2),
           fmt_fixed(r.kendall_tau, 3)});
  return t.render();
}

}  // namespace reckon
