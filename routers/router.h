#pragma once
// Routers (METHODS.md §3): learn from results which queries a cheaper candidate can take.
// One registry; every router maps a query to a probability-like score per candidate and, for a
// pair, to an escalation score (higher → the costlier candidate) that threshold sweeps rank by.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "routers/data.h"
#include "routers/features.h"
#include "routers/policy.h"

namespace reckon {

// What fine-tuning a language-model router produced: the model to ask, and where.
struct LmTrained {
  std::string model;  // provider:model
  std::string base_url, api_key_env;
};

struct RouterOptions {
  TrainOptions train;
  bool unsolved_class = false;
  double cascade_threshold = 0.6;  // EllieSQL's cascade: "is this tier enough?" at 0.6
  // rule: length | tables | columns (a text-to-SQL prompt's schema) | a given feature's name
  std::string rule_feature = "length";
  // lm: fine-tunes a model on the training rows (the harness supplies it: the sweeps' command backend).
  std::function<LmTrained(const RoutingSet&, const std::vector<size_t>&)> fine_tune;
};

class Router {
 public:
  virtual ~Router() = default;
  // Trains on `rows` of `s`.
  virtual void train(const RoutingSet& s, const std::vector<size_t>& rows, const RouterOptions& opt) = 0;
  // The chosen candidate at the router's own operating point.
  virtual int choose(const Query& q) const = 0;
  // For two candidates: higher means the query needs the costlier one.
  virtual double escalation(const Query& q) const = 0;
  // Per candidate, the probability that it answers the query correctly: directly (knn, cascade) or,
  // for routers that predict the cheapest correct candidate, the mass on it or a cheaper one (a
  // candidate is taken to solve what its cheaper ones solve).
  virtual std::vector<double> p_correct(const Query& q) const = 0;
  virtual nlohmann::json params() const = 0;
  virtual std::string model_blob() const = 0;
};

struct RouterKind {
  const char* name;
  const char* help;
  std::unique_ptr<Router> (*make)(const std::vector<std::string>& candidates, const std::vector<double>& costs);
  // Restores a trained router from what params() and model_blob() saved.
  std::unique_ptr<Router> (*load)(const nlohmann::json& params, const std::string& blob);
};

const std::vector<RouterKind>& router_table();

// Decisions for many queries at once, spread over `threads` (0 = every core); routers are read-only
// while deciding, so the threads share one. Same result as choose() per query, in order.
std::vector<int> choose_batch(const Router& r, const std::vector<Query>& queries, unsigned threads = 0);

// The cost-aware mode: the candidate maximizing P(correct) − λ · cost / (the costliest candidate's
// cost), so λ = 0.1 pays the costliest candidate's price for 10 more points of accuracy. Ties go to
// the cheaper candidate.
int choose_with_lambda(const std::vector<double>& p_correct, const std::vector<double>& costs, double lambda);
const RouterKind& find_router(const std::string& name);

// P(correct) of a router that only chooses (rule, lm): 1 for the chosen candidate and every costlier
// one (taken to solve what a cheaper one solves), 0 below it.
std::vector<double> chosen_and_costlier(int chosen, size_t candidates);

// The lm router's entries (routers/lm_router.cpp).
std::unique_ptr<Router> make_lm_router(const std::vector<std::string>& candidates, const std::vector<double>& costs);
std::unique_ptr<Router> load_lm_router(const nlohmann::json& params, const std::string& blob);

}  // namespace reckon
