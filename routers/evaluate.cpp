#include "routers/evaluate.h"

#include <algorithm>
#include <numeric>
#include <sstream>

#include "common/stats.h"
#include "common/table.h"
#include "common/text.h"

namespace reckon {

nlohmann::json RouteEval::to_json() const {
  auto opt = [](const std::optional<double>& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); };
  return {{"queries", queries}, {"accuracy", accuracy}, {"mean_tokens", opt(mean_tokens)}, {"cost_per_query", cost_per_query},
          {"tep", opt(tep)}, {"tep_basis", tep_basis}, {"apgr", opt(apgr)}, {"cpt50", opt(cpt50)}, {"calls", calls},
          {"candidate_accuracy", candidate_accuracy}, {"random_accuracy", random_accuracy},
          {"oracle_accuracy", oracle_accuracy}, {"oracle_cost_per_query", oracle_cost_per_query}};
}

void gap_recovered(const std::vector<CurvePoint>& curve, double weak, double strong, std::optional<double>& apgr,
                   std::optional<double>& cpt50) {
  apgr.reset();
  cpt50.reset();
  if (curve.size() < 2 || strong <= weak) return;  // no gap to recover
  auto pgr = [&](const CurvePoint& p) { return (p.accuracy - weak) / (strong - weak); };
  double area = 0;
  for (size_t i = 1; i < curve.size(); ++i)
    area += (curve[i].costly_share - curve[i - 1].costly_share) * (pgr(curve[i]) + pgr(curve[i - 1])) / 2;
  apgr = area;
  for (const auto& p : curve)
    if (pgr(p) >= 0.5) {
      cpt50 = p.costly_share;
      break;
    }
}

RouteEval evaluate_router(const Router& r, const RoutingSet& s, const std::vector<size_t>& test, std::optional<double> lambda) {
  const size_t k = s.candidates.size();
  const double n = static_cast<double>(test.size());
  RouteEval e;
  e.queries = test.size();
  e.calls.assign(k, 0);
  e.candidate_accuracy.assign(k, 0);
  double tokens = 0;
  bool tokens_known = std::all_of(s.tokens.begin(), s.tokens.end(), [](const auto& t) { return t.has_value(); });
  for (size_t q : test) {
    const int c = lambda ? choose_with_lambda(r.p_correct(s.query(q)), s.cost, *lambda) : r.choose(s.query(q));
    e.calls[c] += 1 / n;
    e.accuracy += s.correct[q][c] / n;
    e.cost_per_query += s.cost[c] / n;
    if (tokens_known) tokens += *s.tokens[c] / n;
    double best_cost = -1;
    for (size_t j = 0; j < k; ++j) {
      e.candidate_accuracy[j] += s.correct[q][j] / n;
      if (best_cost < 0 && s.correct[q][j] >= 0.5) best_cost = s.cost[j];
    }
    const double oracle = *std::max_element(s.correct[q].begin(), s.correct[q].end());
    e.oracle_accuracy += oracle / n;
    e.oracle_cost_per_query += (best_cost >= 0 ? best_cost : s.cost[0]) / n;
  }
  for (size_t j = 0; j < k; ++j) e.random_accuracy += e.calls[j] * e.candidate_accuracy[j];
  if (tokens_known) e.mean_tokens = tokens;
  // TEP against the cheapest candidate: relative accuracy gain per relative token (or cost) increase.
  const double base_ex = e.candidate_accuracy[0];
  const double base_t = tokens_known ? *s.tokens[0] : s.cost[0];
  const double t = tokens_known ? tokens : e.cost_per_query;
  e.tep_basis = tokens_known ? "tokens" : "cost";
  e.tep = token_elasticity(e.accuracy, t, base_ex, base_t);
  if (k == 2) {
    std::vector<double> esc;
    for (size_t q : test) esc.push_back(r.escalation(s.query(q)));
    e.curve = escalation_curve(s, test, esc);
    gap_recovered(e.curve, e.candidate_accuracy[0], e.candidate_accuracy[1], e.apgr, e.cpt50);
  }
  return e;
}

std::vector<CurvePoint> escalation_curve(const RoutingSet& s, const std::vector<size_t>& rows, const std::vector<double>& escalation) {
  std::vector<size_t> order(rows.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return escalation[a] > escalation[b]; });
  const double n = static_cast<double>(rows.size());
  double acc = 0;
  for (size_t q : rows) acc += s.correct[q][0] / n;
  std::vector<CurvePoint> curve = {{0, acc, s.cost[0]}};
  for (size_t m = 0; m < order.size(); ++m) {
    const auto& ok = s.correct[rows[order[m]]];
    acc += (ok[1] - ok[0]) / n;
    const double share = static_cast<double>(m + 1) / n;
    curve.push_back({share, acc, s.cost[0] + share * (s.cost[1] - s.cost[0])});
  }
  return curve;
}

std::string render_route_eval(const RouteEval& e, const std::vector<std::string>& cands) {
  std::ostringstream o;
  o << "Held-out queries: " << e.queries << "\n";
  TextTable t({"routing", "accuracy", "cost/query", "calls"});
  std::string calls;
  for (size_t j = 0; j < cands.size(); ++j) calls += (j ? ", " : "") + cands[j] + " " + fmt_fixed(100 * e.calls[j], 1) + "%";
  t.add({"router", fmt_fixed(100 * e.accuracy, 2) + "%", fmt_fixed(e.cost_per_query, 4), calls});
  t.add({"random, same mix", fmt_fixed(100 * e.random_accuracy, 2) + "%", fmt_fixed(e.cost_per_query, 4), ""});
  t.add({"oracle", fmt_fixed(100 * e.oracle_accuracy, 2) + "%", fmt_fixed(e.oracle_cost_per_query, 4), "cheapest correct"});
  for (size_t j = 0; j < cands.size(); ++j)
    t.add({"only " + cands[j], fmt_fixed(100 * e.candidate_accuracy[j], 2) + "%", "", ""});
  o << t.render();
  if (e.tep) o << "TEP vs " << cands[0] << " (" << e.tep_basis << "): " << fmt_fixed(*e.tep, 3) << "\n";
  if (e.apgr) o << "APGR " << fmt_fixed(*e.apgr, 3) << " (random 0.500)";
  if (e.cpt50) o << ", CPT(50%) " << fmt_fixed(100 * *e.cpt50, 1) << "% calls to " << cands[1] << " (random 50.0%)";
  if (e.apgr) o << "\n";
  return o.str();
}

std::vector<LambdaPoint> lambda_curve(const Router& r, const RoutingSet& s, const std::vector<size_t>& test,
                                      const std::vector<double>& lambdas) {
  std::vector<std::vector<double>> p;
  p.reserve(test.size());
  for (size_t q : test) p.push_back(r.p_correct(s.query(q)));  // once per query, not once per λ
  std::vector<LambdaPoint> out;
  const double n = static_cast<double>(test.size());
  for (double lambda : lambdas) {
    LambdaPoint pt{lambda, 0, 0};
    for (size_t i = 0; i < test.size(); ++i) {
      const int c = choose_with_lambda(p[i], s.cost, lambda);
      pt.accuracy += s.correct[test[i]][static_cast<size_t>(c)] / n;
      pt.cost_per_query += s.cost[static_cast<size_t>(c)] / n;
    }
    out.push_back(pt);
  }
  return out;
}

}  // namespace reckon
