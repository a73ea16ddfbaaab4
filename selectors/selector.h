#pragma once
// Subset selection (METHODS.md §2): pick a few items whose scores predict the full benchmark score.
// One registry of methods; each returns a Plan — the items, their weights and the estimator — that
// can be stored (JSON) and applied later to any model's scores on those items.
#include <Eigen/Dense>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "selectors/irt.h"

namespace reckon {

struct Plan {
  enum class Estimator { kWeightedMean, kPIrt, kGpIrt, kDemand, kOffset };
  std::string method;
  int total_items = 0;          // N: the benchmark the estimate is for
  std::vector<int> items;       // selected item indices
  std::vector<double> weights;  // per selected item, summing to 1 (the weighted-mean estimate)
  Estimator estimator = Estimator::kWeightedMean;
  std::optional<IrtItems> irt;  // item parameters of every item, for p-IRT / gp-IRT
  double lambda_star = 1;       // gp-IRT and demand: weight of the weighted mean against the model-based estimate
  // Demand (scales, scales-lite, text): every item's standardized coordinates; a logistic model of
  // the model's correctness on them, fitted on the selected items, predicts the unseen ones.
  std::optional<Eigen::MatrixXd> space;
  // Linear calibration fitted on the source models (estimate → intercept + slope · estimate): it
  // removes what the raw estimator gets wrong the same way for every model (e.g. the shrinkage of
  // an ability fitted on a few items). Identity for random and stratified samples.
  double intercept = 0, slope = 1;
  // Offset (scales): every item's easiness x_j on the logit scale; the model's P(correct) on item j is
  // σ(θ + β·x_j), θ and β fitted (MAP) on its subset answers with β's prior N(beta_prior, beta_sd²):
  // the subset's answers count as observed, the other items as predicted.
  std::vector<double> offsets;
  double beta_prior = 1, beta_sd = 0.3;

  // The full-benchmark estimate from a model's scores on `items` (same order).
  double estimate(const std::vector<double>& scores) const;
  double raw_estimate(const std::vector<double>& scores) const;  // before calibration
  nlohmann::json to_json() const;
  static Plan from_json(const nlohmann::json& j);
};

// What a method may look at: source models' results (possibly none: cold start) and item metadata.
class SelectionContext {
 public:
  SelectionContext(const Eigen::MatrixXd& source, std::vector<std::string> item_ids,
                   const std::map<std::string, nlohmann::json>* item_meta, IrtOptions irt = {});
  const Eigen::MatrixXd& source() const { return source_; }
  int items() const { return static_cast<int>(item_ids_.size()); }
  const std::vector<std::string>& item_ids() const { return item_ids_; }
  const std::map<std::string, nlohmann::json>* item_meta() const { return meta_; }
  std::string strata_field;
  // Annotated demand levels by item id (Scales++), from `reckon scales annotate`.
  const std::map<std::string, std::vector<double>>* scale_levels = nullptr;
  // Item text from the metadata (field question, prompt, text or input); InputError naming an item without.
  std::vector<std::string> item_texts() const;

  // Computed once and shared by every budget and method that needs them.
  const IrtFit& irt_fit();
  const Eigen::MatrixXd& correctness_distances();  // items × items, over source models
  const Eigen::MatrixXd& irt_distances();          // items × items, over (a, b)
  // Item coordinates for the demand methods: "scales" (annotated levels), "scales-lite" (levels
  // predicted from text where not annotated), "text" (TF-IDF principal coordinates, no annotation).
  const Eigen::MatrixXd& item_space(const std::string& kind);

 private:
  const Eigen::MatrixXd& source_;
  std::vector<std::string> item_ids_;
  const std::map<std::string, nlohmann::json>* meta_;
  IrtOptions irt_opts_;
  std::unique_ptr<IrtFit> irt_;
  std::unique_ptr<Eigen::MatrixXd> corr_dist_, irt_dist_;
  std::map<std::string, Eigen::MatrixXd> spaces_;
};

struct SelectorMethod {
  const char* name;
  const char* help;
  int min_source_models;  // 0: needs no other model's results
  Plan (*select)(SelectionContext& ctx, int budget, uint64_t seed);
};

const std::vector<SelectorMethod>& selector_table();
// InputError naming the known methods when `name` is not one.
const SelectorMethod& find_selector(const std::string& name);

}  // namespace reckon
