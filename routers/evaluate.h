#pragma once
// Judging a router on held-out queries (METHODS.md §3): accuracy, tokens and cost per query, calls
// per candidate, TEP against the cheapest candidate, and for a pair RouteLLM's APGR and CPT(50 %)
// from the cost–accuracy curve, with random routing at the same call mix and the oracle beside it.
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "routers/data.h"
#include "routers/router.h"

namespace reckon {

struct CurvePoint {
  double costly_share = 0, accuracy = 0, cost_per_query = 0;
};

struct RouteEval {
  size_t queries = 0;
  double accuracy = 0, cost_per_query = 0;
  std::optional<double> mean_tokens;
  std::vector<double> calls;                // share of queries per candidate
  std::optional<double> tep;                // against the cheapest candidate
  std::string tep_basis;                    // "tokens", or "cost" when tokens are unknown
  std::optional<double> apgr, cpt50;        // two candidates only
  std::vector<double> candidate_accuracy;   // each candidate alone
  double random_accuracy = 0;               // random routing with the same call mix
  double oracle_accuracy = 0, oracle_cost_per_query = 0;  // the cheapest correct candidate, when any
  std::vector<CurvePoint> curve;            // two candidates: every share of escalations
  nlohmann::json to_json() const;
};

// APGR and CPT(50 %) of a curve whose first point sends nothing to the costly candidate and last
// everything (exposed for exact tests).
void gap_recovered(const std::vector<CurvePoint>& curve, double weak_accuracy, double strong_accuracy,
                   std::optional<double>& apgr, std::optional<double>& cpt50);

// The cost–accuracy curve of two candidates: queries sent to the costlier one in decreasing order of
// `escalation` (one score per row of `rows`), from none to all.
std::vector<CurvePoint> escalation_curve(const RoutingSet& s, const std::vector<size_t>& rows, const std::vector<double>& escalation);

// `lambda`: judge the cost-aware mode at that λ instead of the router's own choice.
RouteEval evaluate_router(const Router& r, const RoutingSet& s, const std::vector<size_t>& test,
                          std::optional<double> lambda = std::nullopt);

// The cost-aware mode's cost–accuracy curve over λ (any number of candidates).
struct LambdaPoint {
  double lambda = 0, accuracy = 0, cost_per_query = 0;
};
std::vector<LambdaPoint> lambda_curve(const Router& r, const RoutingSet& s, const std::vector<size_t>& test,
                                      const std::vector<double>& lambdas);

std::string render_route_eval(const RouteEval& e, const std::vector<std::string>& candidates);

}  // namespace reckon
