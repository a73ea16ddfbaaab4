#include "selectors/selector.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

#include "common/error.h"
#include "common/stats.h"
#include "selectors/cluster.h"
#include "selectors/matrix.h"
#include "selectors/scales.h"

namespace reckon {
namespace {

nlohmann::json matrix_json(const Eigen::MatrixXd& m) {
  nlohmann::json rows = nlohmann::json::array();
  for (Eigen::Index r = 0; r < m.rows(); ++r) {
    std::vector<double> row(static_cast<size_t>(m.cols()));
    for (Eigen::Index c = 0; c < m.cols(); ++c) row[static_cast<size_t>(c)] = m(r, c);
    rows.push_back(row);
  }
  return rows;
}

Eigen::MatrixXd matrix_from_json(const nlohmann::json& rows) {
  Eigen::MatrixXd m(static_cast<Eigen::Index>(rows.size()), rows.empty() ? 1 : static_cast<Eigen::Index>(rows[0].size()));
  for (size_t r = 0; r < rows.size(); ++r) {
    if (rows[r].size() != static_cast<size_t>(m.cols())) throw InputError("bad selection parameters: ragged matrix");
    for (size_t c = 0; c < rows[r].size(); ++c) m(static_cast<Eigen::Index>(r), static_cast<Eigen::Index>(c)) = rows[r][c].get<double>();
  }
  return m;
}

std::vector<int> sample_items(int n, int k, std::mt19937_64& rng) {
  std::vector<int> all(n);
  std::iota(all.begin(), all.end(), 0);
  std::shuffle(all.begin(), all.end(), rng);
  all.resize(std::min(k, n));
  std::sort(all.begin(), all.end());
  return all;
}

void check_budget(const SelectionContext& ctx, int budget) {
  if (budget < 1) throw InputError("budget must be at least 1 item");
  if (budget > ctx.items()) throw InputError("budget " + std::to_string(budget) + " exceeds the " + std::to_string(ctx.items()) + " items");
}

Plan random_plan(SelectionContext& ctx, int budget, uint64_t seed) {
  check_budget(ctx, budget);
  std::mt19937_64 rng(seed);
  Plan p;
  p.method = "random";
  p.total_items = ctx.items();
  p.items = sample_items(ctx.items(), budget, rng);
  p.weights.assign(p.items.size(), 1.0 / static_cast<double>(p.items.size()));
  return p;
}

// Proportional allocation by a metadata field (largest remainder, at least one item per stratum
// while the budget lasts); each stratum's items share its weight.
Plan stratified_plan(SelectionContext& ctx, int budget, uint64_t seed) {
  check_budget(ctx, budget);
  if (!ctx.item_meta() || ctx.strata_field.empty())
    throw InputError("method 'stratified' needs item metadata (--items FILE) and a field to stratify by (--strata FIELD)");
  std::map<std::string, std::vector<int>> strata;
  for (int j = 0; j < ctx.items(); ++j) {
    auto it = ctx.item_meta()->find(ctx.item_ids()[j]);
    if (it == ctx.item_meta()->end() || !it->second.contains(ctx.strata_field))
      throw InputError("item '" + ctx.item_ids()[j] + "' has no field '" + ctx.strata_field + "' in the item metadata");
    const auto& v = it->second[ctx.strata_field];
    strata[v.is_string() ? v.get<std::string>() : v.dump()].push_back(j);
  }
  const double n = ctx.items();
  std::vector<std::pair<std::string, double>> quota;
  int given = 0;
  std::map<std::string, int> take;
  for (auto& [s, items] : strata) {
    const double q = budget * static_cast<double>(items.size()) / n;
    take[s] = static_cast<int>(std::floor(q));
    given += take[s];
    quota.emplace_back(s, q - std::floor(q));
  }
  std::sort(quota.begin(), quota.end(), [](auto& a, auto& b) { return a.second != b.second ? a.second > b.second : a.first < b.first; });
  for (size_t i = 0; given < budget && i < quota.size(); ++i, ++given) ++take[quota[i].first];
  std::mt19937_64 rng(seed);
  Plan p;
  p.method = "stratified";
  p.total_items = ctx.items();
  for (auto& [s, items] : strata) {
    if (take[s] == 0) continue;
    std::vector<int> pick = items;
    std::shuffle(pick.begin(), pick.end(), rng);
    pick.resize(std::min<size_t>(pick.size(), static_cast<size_t>(take[s])));
    for (int j : pick) {
      p.items.push_back(j);
      p.weights.push_back(static_cast<double>(items.size()) / n / static_cast<double>(pick.size()));
    }
  }
  // Strata left without an item (budget smaller than their count) leave weight unassigned: renormalize.
  const double total = std::accumulate(p.weights.begin(), p.weights.end(), 0.0);
  for (double& w : p.weights) w /= total;
  return p;
}

// Anchor points: medoids of the clusters, each weighted by its cluster's share of the items.
Plan medoid_plan(const Eigen::MatrixXd& distances, int budget, uint64_t seed, const char* method, int total) {
  Clustering c = k_medoids(distances, budget, seed);
  Plan p;
  p.method = method;
  p.total_items = total;
  for (size_t q = 0; q < c.medoids.size(); ++q) {
    p.items.push_back(c.medoids[q]);
    p.weights.push_back(static_cast<double>(c.sizes[q]) / total);
  }
  return p;
}

// Source models whose subset scores calibrate a plan: a thousand, evenly spread, are plenty.
std::vector<Eigen::Index> calibration_rows(const Eigen::MatrixXd& y) {
  const Eigen::Index step = std::max<Eigen::Index>(1, y.rows() / 1000);
  std::vector<Eigen::Index> rows;
  for (Eigen::Index i = 0; i < y.rows(); i += step) rows.push_back(i);
  return rows;
}

std::vector<double> subset_scores(const Eigen::MatrixXd& y, Eigen::Index row, const Plan& p) {
  std::vector<double> s;
  s.reserve(p.items.size());
  for (int j : p.items) s.push_back(y(row, j));
  return s;
}

// Least squares of the source models' true scores on the plan's raw estimates.
void calibrate(Plan& p, const Eigen::MatrixXd& y) {
  p.intercept = 0, p.slope = 1;
  std::vector<double> x, t;
  for (Eigen::Index i : calibration_rows(y)) {
    x.push_back(p.estimate(subset_scores(y, i, p)));
    t.push_back(y.row(i).mean());
  }
  if (x.size() < 3) return;
  const double mx = mean(x), mt = mean(t);
  double sxx = 0, sxt = 0;
  for (size_t k = 0; k < x.size(); ++k) sxx += (x[k] - mx) * (x[k] - mx), sxt += (x[k] - mx) * (t[k] - mt);
  if (sxx <= 1e-12) return;
  p.slope = sxt / sxx;
  p.intercept = mt - p.slope * mx;
}

Plan anchor_plan(SelectionContext& ctx, int budget, uint64_t seed) {
  check_budget(ctx, budget);
  Plan p = medoid_plan(ctx.correctness_distances(), budget, seed, "anchor", ctx.items());
  calibrate(p, ctx.source());
  return p;
}

Plan irt_plan(SelectionContext& ctx, int budget, uint64_t seed) {
  check_budget(ctx, budget);
  Plan p = medoid_plan(ctx.irt_distances(), budget, seed, "irt", ctx.items());
  p.estimator = Plan::Estimator::kPIrt;
  p.irt = ctx.irt_fit().items;
  calibrate(p, ctx.source());
  return p;
}

// gp-IRT: how far to trust the anchors' weighted mean against p-IRT, from their errors on the
// source models (λ* = b² / (b² + v): b² p-IRT's squared error, v the weighted mean's).
Plan gp_irt_plan(SelectionContext& ctx, int budget, uint64_t seed) {
  Plan pirt = irt_plan(ctx, budget, seed);  // calibrated p-IRT
  Plan weighted = pirt;
  weighted.estimator = Plan::Estimator::kWeightedMean;
  calibrate(weighted, ctx.source());
  const Eigen::MatrixXd& y = ctx.source();
  double b2 = 0, v = 0;
  for (Eigen::Index i : calibration_rows(y)) {
    const auto scores = subset_scores(y, i, pirt);
    const double truth = y.row(i).mean();
    b2 += std::pow(pirt.estimate(scores) - truth, 2);
    v += std::pow(weighted.estimate(scores) - truth, 2);
  }
  Plan p = pirt;
  p.method = "gp-irt";
  p.estimator = Plan::Estimator::kGpIrt;
  p.lambda_star = b2 + v > 0 ? b2 / (b2 + v) : 0.5;
  calibrate(p, y);
  return p;
}

// Scales++-style selection in an item space: k-medoids representatives weighted by cluster share;
// the estimate mixes their weighted mean with a logistic demand model fitted on the model's own
// scores of the representatives (needs no other model: the cold-start case). With source models,
// the mix is chosen where it errs least on them, then calibrated like the other methods.
Plan demand_plan(SelectionContext& ctx, int budget, uint64_t seed, const char* method) {
  check_budget(ctx, budget);
  const Eigen::MatrixXd& space = ctx.item_space(method);
  Plan p = medoid_plan(pairwise_distances(space), budget, seed, method, ctx.items());
  p.estimator = Plan::Estimator::kDemand;
  Eigen::MatrixXd z = space.rowwise() - space.colwise().mean();
  for (Eigen::Index c = 0; c < z.cols(); ++c) {
    const double sd = std::sqrt(z.col(c).squaredNorm() / static_cast<double>(std::max<Eigen::Index>(1, z.rows() - 1)));
    z.col(c) = sd > 1e-12 ? Eigen::VectorXd(z.col(c) / sd) : Eigen::VectorXd::Zero(z.rows());
  }
  p.space = z;
  p.lambda_star = 0.5;
  const Eigen::MatrixXd& y = ctx.source();
  if (y.rows() >= 3) {
    std::vector<double> weighted, model, truth;
    Plan model_only = p;
    model_only.lambda_star = 0;
    for (Eigen::Index i : calibration_rows(y)) {
      const auto scores = subset_scores(y, i, p);
      double w = 0;
      for (size_t k = 0; k < scores.size(); ++k) w += p.weights[k] * scores[k];
      weighted.push_back(w);
      model.push_back(model_only.raw_estimate(scores));
      truth.push_back(y.row(i).mean());
    }
    double best = INFINITY;
    for (int step = 0; step <= 10; ++step) {
      const double alpha = step / 10.0;
      double err = 0;
      for (size_t k = 0; k < truth.size(); ++k) err += std::pow(alpha * weighted[k] + (1 - alpha) * model[k] - truth[k], 2);
      if (err < best) best = err, p.lambda_star = alpha;
    }
  }
  calibrate(p, y);
  return p;
}

// Systematic stratified sampling on a difficulty: items sorted by `x` (ties broken by the seed) fall
// into `budget` contiguous strata of near-equal size; one item drawn from each, weighted by its
// stratum's share. Balances easy and hard items where a random draw can miss either.
void stratify_on(Plan& p, const std::vector<double>& x, int budget, uint64_t seed) {
  std::mt19937_64 rng(seed);
  const int n = static_cast<int>(x.size());
  std::vector<int> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  std::shuffle(order.begin(), order.end(), rng);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return x[static_cast<size_t>(a)] < x[static_cast<size_t>(b)]; });
  for (int s = 0; s < budget; ++s) {
    const int begin = static_cast<int>(static_cast<int64_t>(s) * n / budget), end = static_cast<int>(static_cast<int64_t>(s + 1) * n / budget);
    std::uniform_int_distribution<int> pick(begin, end - 1);
    p.items.push_back(order[static_cast<size_t>(pick(rng))]);
    p.weights.push_back(static_cast<double>(end - begin) / n);
  }
}

// Scales on ADeLe's levels. Each item's easiness on the logit scale: with source models, their
// smoothed correctness shrunk toward what the demand levels predict for it (ridge regression of the
// source easiness on the 18 levels, worth kPseudoModels models); cold, the levels alone (minus the
// item's highest demand, ADeLe's strongest single predictor), with β learned from the model's own
// answers. Items are drawn stratified on that easiness; the estimate is the offset model's.
Plan offset_plan(SelectionContext& ctx, int budget, uint64_t seed, bool use_source) {
  check_budget(ctx, budget);
  const Eigen::MatrixXd& levels = ctx.item_space("scales");
  const Eigen::MatrixXd& y = ctx.source();
  const Eigen::Index n = levels.rows(), d = levels.cols();
  Plan p;
  p.method = "scales";
  p.total_items = ctx.items();
  p.estimator = Plan::Estimator::kOffset;
  p.offsets.assign(static_cast<size_t>(n), 0);
  if (use_source && y.rows() >= 2) {
    constexpr double kPseudoModels = 2;
    const double m = static_cast<double>(y.rows());
    Eigen::VectorXd easy(n);
    for (Eigen::Index j = 0; j < n; ++j) {
      const double rate = (y.col(j).sum() + 0.5) / (m + 1);
      easy(j) = std::log(rate / (1 - rate));
    }
    Eigen::MatrixXd x(n, d + 1);
    x << Eigen::VectorXd::Ones(n), levels;
    Eigen::MatrixXd ridge = Eigen::MatrixXd::Identity(d + 1, d + 1);
    ridge(0, 0) = 0;
    const Eigen::VectorXd w = (x.transpose() * x + ridge).ldlt().solve(x.transpose() * easy);
    const Eigen::VectorXd predicted = x * w;
    for (Eigen::Index j = 0; j < n; ++j)
      p.offsets[static_cast<size_t>(j)] = (m * easy(j) + kPseudoModels * predicted(j)) / (m + kPseudoModels);
    p.beta_prior = 1, p.beta_sd = 0.3;
  } else {
    for (Eigen::Index j = 0; j < n; ++j) p.offsets[static_cast<size_t>(j)] = -levels.row(j).maxCoeff();
    p.beta_prior = 0.55, p.beta_sd = 0.3;  // ADeLe: about −0.55 logit per level of the highest demand
  }
  // Centred, so θ is the model's logit at a typical item whatever β turns out to be.
  const double centre = std::accumulate(p.offsets.begin(), p.offsets.end(), 0.0) / static_cast<double>(n);
  for (double& x : p.offsets) x -= centre;
  stratify_on(p, p.offsets, budget, seed);
  return p;
}
Plan scales_plan(SelectionContext& ctx, int budget, uint64_t seed) { return offset_plan(ctx, budget, seed, true); }
Plan scales_cold_plan(SelectionContext& ctx, int budget, uint64_t seed) {
  Plan p = offset_plan(ctx, budget, seed, false);
  p.method = "scales-cold";
  return p;
}
Plan scales_medoids_plan(SelectionContext& ctx, int budget, uint64_t seed) {
  Plan p = demand_plan(ctx, budget, seed, "scales");
  p.method = "scales-medoids";
  return p;
}
// Adaptive testing picks items per model as it answers, so there is no fixed subset to store.
Plan adaptive_plan(SelectionContext&, int, uint64_t) {
  throw InputError("method 'adaptive' chooses each model's items as it answers, so there is no fixed subset to store: run it in a "
                   "campaign with \"selection\": {\"adaptive\": {\"budget\": N}}, or measure it with `reckon select eval --method adaptive`");
}
Plan scales_lite_plan(SelectionContext& ctx, int budget, uint64_t seed) { return demand_plan(ctx, budget, seed, "scales-lite"); }
Plan text_plan(SelectionContext& ctx, int budget, uint64_t seed) { return demand_plan(ctx, budget, seed, "text"); }

}  // namespace

namespace {

// MAP fit of σ(θ + β·x) to the subset's answers (θ ~ N(0, 2²), β ~ N(beta_prior, beta_sd²)) by
// Newton's method, then the observed answers plus the predicted rest.
double offset_estimate(const Plan& p, const std::vector<double>& scores) {
  double theta = 0, beta = p.beta_prior;
  for (int it = 0; it < 50; ++it) {
    double g0 = -theta / 4, g1 = -(beta - p.beta_prior) / (p.beta_sd * p.beta_sd);
    double h00 = -1.0 / 4, h01 = 0, h11 = -1 / (p.beta_sd * p.beta_sd);
    for (size_t k = 0; k < p.items.size(); ++k) {
      const double x = p.offsets[static_cast<size_t>(p.items[k])];
      const double q = 1 / (1 + std::exp(-(theta + beta * x)));
      g0 += scores[k] - q, g1 += (scores[k] - q) * x;
      const double v = q * (1 - q);
      h00 -= v, h01 -= v * x, h11 -= v * x * x;
    }
    const double det = h00 * h11 - h01 * h01;
    if (!(std::fabs(det) > 1e-15)) break;
    const double d0 = (h11 * g0 - h01 * g1) / det, d1 = (h00 * g1 - h01 * g0) / det;
    theta -= d0, beta -= d1;
    if (std::fabs(d0) + std::fabs(d1) < 1e-10) break;
  }
  std::vector<bool> seen(static_cast<size_t>(p.total_items), false);
  double total = 0;
  for (size_t k = 0; k < p.items.size(); ++k) seen[static_cast<size_t>(p.items[k])] = true, total += scores[k];
  for (int j = 0; j < p.total_items; ++j)
    if (!seen[static_cast<size_t>(j)]) total += 1 / (1 + std::exp(-(theta + beta * p.offsets[static_cast<size_t>(j)])));
  return total / p.total_items;
}

}  // namespace

double Plan::estimate(const std::vector<double>& scores) const {
  return std::clamp(intercept + slope * raw_estimate(scores), 0.0, 1.0);
}

double Plan::raw_estimate(const std::vector<double>& scores) const {
  if (scores.size() != items.size()) throw InputError("a plan over " + std::to_string(items.size()) + " items got " + std::to_string(scores.size()) + " scores");
  double weighted = 0;
  for (size_t k = 0; k < scores.size(); ++k) weighted += weights[k] * scores[k];
  if (estimator == Estimator::kWeightedMean) return weighted;
  if (estimator == Estimator::kOffset) return offset_estimate(*this, scores);
  if (estimator == Estimator::kDemand) {
    if (items.size() >= static_cast<size_t>(total_items)) return weighted;
    std::vector<bool> seen(static_cast<size_t>(total_items), false);
    for (int j : items) seen[static_cast<size_t>(j)] = true;
    Eigen::MatrixXd seen_x(static_cast<Eigen::Index>(items.size()), space->cols()), unseen_x(total_items - static_cast<Eigen::Index>(items.size()), space->cols());
    for (size_t k = 0; k < items.size(); ++k) seen_x.row(static_cast<Eigen::Index>(k)) = space->row(items[k]);
    for (int j = 0, r = 0; j < total_items; ++j)
      if (!seen[static_cast<size_t>(j)]) unseen_x.row(r++) = space->row(j);
    const double lambda = static_cast<double>(items.size()) / total_items;
    const double seen_mean = std::accumulate(scores.begin(), scores.end(), 0.0) / static_cast<double>(scores.size());
    const double model = lambda * seen_mean + (1 - lambda) * demand_model_predict(seen_x, scores, unseen_x).mean();
    return lambda_star * weighted + (1 - lambda_star) * model;
  }
  // p-IRT: seen items count as observed, the unseen ones as the fitted model predicts them.
  const Eigen::VectorXd theta = fit_ability(*irt, items, scores);
  std::vector<bool> seen(static_cast<size_t>(total_items), false);
  for (int j : items) seen[static_cast<size_t>(j)] = true;
  std::vector<int> unseen;
  for (int j = 0; j < total_items; ++j)
    if (!seen[static_cast<size_t>(j)]) unseen.push_back(j);
  const double lambda = static_cast<double>(items.size()) / total_items;
  const double seen_mean = std::accumulate(scores.begin(), scores.end(), 0.0) / static_cast<double>(scores.size());
  const double pirt = unseen.empty() ? seen_mean : lambda * seen_mean + (1 - lambda) * predicted_mean(*irt, theta, unseen);
  if (estimator == Estimator::kPIrt) return pirt;
  return lambda_star * weighted + (1 - lambda_star) * pirt;
}

nlohmann::json Plan::to_json() const {
  nlohmann::json j{{"method", method}, {"total_items", total_items}, {"items", items}, {"weights", weights},
                   {"estimator", estimator == Estimator::kWeightedMean ? "weighted_mean"
                                 : estimator == Estimator::kPIrt        ? "p-irt"
                                 : estimator == Estimator::kGpIrt       ? "gp-irt"
                                 : estimator == Estimator::kOffset      ? "offset"
                                                                        : "demand"},
                   {"lambda_star", lambda_star}, {"intercept", intercept}, {"slope", slope}};
  if (irt) {
    const nlohmann::json a = matrix_json(irt->a);
    j["irt"] = {{"a", a}, {"b", std::vector<double>(irt->b.data(), irt->b.data() + irt->b.size())}};
  }
  if (space) j["space"] = matrix_json(*space);
  if (estimator == Estimator::kOffset) j["offsets"] = offsets, j["beta_prior"] = beta_prior, j["beta_sd"] = beta_sd;
  return j;
}

Plan Plan::from_json(const nlohmann::json& j) {
  try {
    Plan p;
    p.method = j.at("method").get<std::string>();
    p.total_items = j.at("total_items").get<int>();
    p.items = j.at("items").get<std::vector<int>>();
    p.weights = j.at("weights").get<std::vector<double>>();
    const std::string est = j.at("estimator").get<std::string>();
    p.estimator = est == "p-irt"    ? Estimator::kPIrt
                  : est == "gp-irt" ? Estimator::kGpIrt
                  : est == "demand" ? Estimator::kDemand
                  : est == "offset" ? Estimator::kOffset
                                    : Estimator::kWeightedMean;
    if (p.estimator == Estimator::kOffset) {
      p.offsets = j.at("offsets").get<std::vector<double>>();
      p.beta_prior = j.at("beta_prior").get<double>();
      p.beta_sd = j.at("beta_sd").get<double>();
      if (p.offsets.size() != static_cast<size_t>(p.total_items) || !(p.beta_sd > 0)) throw InputError("inconsistent selection parameters");
    }
    p.lambda_star = j.at("lambda_star").get<double>();
    p.intercept = j.value("intercept", 0.0);
    p.slope = j.value("slope", 1.0);
    if (j.contains("irt")) {
      const auto b = j["irt"].at("b").get<std::vector<double>>();
      IrtItems it;
      it.a = matrix_from_json(j["irt"].at("a"));
      it.b = Eigen::Map<const Eigen::VectorXd>(b.data(), static_cast<Eigen::Index>(b.size()));
      p.irt = it;
    }
    if (j.contains("space")) p.space = matrix_from_json(j["space"]);
    const bool needs_irt = p.estimator == Estimator::kPIrt || p.estimator == Estimator::kGpIrt;
    if (p.items.size() != p.weights.size() || (needs_irt && !p.irt) || (p.estimator == Estimator::kDemand && (!p.space || p.space->rows() != p.total_items)))
      throw InputError("inconsistent selection parameters");
    return p;
  } catch (const nlohmann::json::exception& e) {
    throw InputError(std::string("bad selection parameters: ") + e.what());
  }
}

SelectionContext::SelectionContext(const Eigen::MatrixXd& source, std::vector<std::string> item_ids,
                                   const std::map<std::string, nlohmann::json>* item_meta, IrtOptions irt)
    : source_(source), item_ids_(std::move(item_ids)), meta_(item_meta), irt_opts_(irt) {}

const IrtFit& SelectionContext::irt_fit() {
  // Item parameters from a thousand models, evenly spread over the source, are as good as from
  // more; the fit's cost stays bounded on leaderboard-sized matrices.
  constexpr Eigen::Index kMaxIrtModels = 1000;
  if (!irt_) {
    if (source_.rows() <= kMaxIrtModels) {
      irt_ = std::make_unique<IrtFit>(fit_irt(source_, irt_opts_));
    } else {
      std::vector<int> rows;
      for (Eigen::Index i = 0; i < kMaxIrtModels; ++i) rows.push_back(static_cast<int>(i * source_.rows() / kMaxIrtModels));
      irt_ = std::make_unique<IrtFit>(fit_irt(rows_of(source_, rows), irt_opts_));
    }
  }
  return *irt_;
}

const Eigen::MatrixXd& SelectionContext::correctness_distances() {
  if (!corr_dist_) corr_dist_ = std::make_unique<Eigen::MatrixXd>(pairwise_distances(source_.transpose()));
  return *corr_dist_;
}

const Eigen::MatrixXd& SelectionContext::irt_distances() {
  if (!irt_dist_) {
    const IrtItems& it = irt_fit().items;
    Eigen::MatrixXd emb(it.a.rows(), it.a.cols() + 1);
    emb << it.a, it.b;
    irt_dist_ = std::make_unique<Eigen::MatrixXd>(pairwise_distances(emb));
  }
  return *irt_dist_;
}

std::vector<std::string> SelectionContext::item_texts() const { return reckon::item_texts(item_ids_, meta_); }

const Eigen::MatrixXd& SelectionContext::item_space(const std::string& kind) {
  auto it = spaces_.find(kind);
  if (it != spaces_.end()) return it->second;
  Eigen::MatrixXd space;
  if (kind == "text") {
    space = text_space(item_texts(), kScaleDimensions);
  } else {
    std::vector<std::optional<std::vector<double>>> levels(item_ids_.size());
    size_t missing = 0;
    for (size_t i = 0; i < item_ids_.size(); ++i) {
      if (scale_levels) {
        auto f = scale_levels->find(item_ids_[i]);
        if (f != scale_levels->end()) levels[i] = f->second;
      }
      missing += !levels[i];
    }
    if (kind == "scales-lite") {
      space = lite_space(item_texts(), levels);
    } else {
      if (missing)
        throw InputError("method 'scales' needs demand levels for every item: " + std::to_string(missing) + " of " +
                         std::to_string(item_ids_.size()) + " are not annotated (run `reckon scales annotate`, or use scales-lite)");
      space.resize(static_cast<Eigen::Index>(levels.size()), kScaleDimensions);
      for (size_t i = 0; i < levels.size(); ++i)
        for (int c = 0; c < kScaleDimensions; ++c) space(static_cast<Eigen::Index>(i), c) = (*levels[i])[static_cast<size_t>(c)];
    }
  }
  return spaces_[kind] = std::move(space);
}

const std::vector<SelectorMethod>& selector_table() {
  static const std::vector<SelectorMethod> table = {
      {"random", "uniform sample (seeded); estimate = sample mean", 0, random_plan},
      {"stratified", "proportional sample by an item metadata field (--strata); estimate = stratum-weighted mean", 0,
       stratified_plan},
      {"anchor", "k-medoids on items' correctness vectors across source models; weights = cluster shares", 2, anchor_plan},
      {"irt", "2PL IRT fitted on source models; anchors = k-medoids on item parameters; estimate = p-IRT", 2, irt_plan},
      {"gp-irt", "tinyBenchmarks' gp-IRT: the anchors' weighted mean and p-IRT, weighted by their errors on source models", 2,
       gp_irt_plan},
      {"scales", "ADeLe's 18 demand levels: items stratified on an easiness from source models shrunk toward the levels' "
                 "prediction (cold: the highest demand level); estimate = a logistic model of the model's answers on that easiness",
       0, scales_plan},
      {"scales-cold", "scales without other models' results, as on a benchmark nobody has run: the levels alone", 0, scales_cold_plan},
      {"scales-medoids", "Scales++ as published: k-medoids on the demand levels; weighted mean mixed with a logistic demand model", 0,
       scales_medoids_plan},
      {"adaptive", "items asked one at a time, each the most informative at the model's current ability (1-D 2PL on source "
                   "models); estimate = answers plus the rest predicted by that 2PL and the 3-D one, averaged (select eval only)",
       2, adaptive_plan},
      {"scales-lite", "Scales++ Lite: demand levels predicted from item text (TF-IDF, kernel ridge) for items not annotated", 0,
       scales_lite_plan},
      {"text", "cold start without annotation: TF-IDF principal coordinates of the item text, same selection and estimator", 0,
       text_plan},
  };
  return table;
}

const SelectorMethod& find_selector(const std::string& name) {
  std::string known;
  for (const auto& m : selector_table()) {
    if (name == m.name) return m;
    known += (known.empty() ? "" : ", ") + std::string(m.name);
  }
  throw InputError("unknown selection method '" + name + "' (one of " + known + ")");
}

}  // namespace reckon
