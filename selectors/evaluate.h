#pragma once
// The evaluation protocol of METHODS.md §2: split models into source and target, select on source
// data only, estimate each target model's full score, and report MAE (percentage points) and
// Kendall τ of estimated vs true ranking, over seeds.
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "selectors/matrix.h"
#include "selectors/selector.h"

namespace reckon {

struct SelectEvalOptions {
  std::vector<std::string> methods;
  std::vector<int> budgets;
  int seeds = 5;
  double source_fraction = 0.8;
  std::string strata_field;
  IrtOptions irt;
  const std::map<std::string, std::vector<double>>* scale_levels = nullptr;  // annotated demand levels by item
};

struct SelectEvalResult {
  std::string method;
  int budget = 0, seeds = 0;
  double mae_pct = 0, mae_pct_sd = 0;  // mean absolute error of target scores, and its sd over seeds
  double kendall_tau = 0;              // mean over seeds (seeds where τ is undefined are left out)
  nlohmann::json to_json() const;
};

// `progress(done, total)` after each seed × method. InputError for bad options or a matrix too small.
std::vector<SelectEvalResult> evaluate_selection(const ResponseMatrix& m, const std::map<std::string, nlohmann::json>* item_meta,
                                                 const SelectEvalOptions& opt,
                                                 const std::function<void(int, int)>& progress = {});

std::string render_select_eval(const std::vector<SelectEvalResult>& rows);

}  // namespace reckon
