#pragma once
// Selections and response matrices in a reckon store: the matrix of a task's results (model ×
// item, mean primary score over repeats), and plans saved as `selections` rows a campaign can run.
#include <string>
#include <utility>
#include <vector>

#include "results/store.h"
#include "selectors/matrix.h"
#include "selectors/selector.h"

namespace reckon {

// Every model's mean score per item on `task` (ok, scored, top-level requests), over the items
// every model answered; items some model lacks are left out (counted in `dropped_items`).
ResponseMatrix matrix_from_store(Store& store, const std::string& task, size_t* dropped_items = nullptr);

// `reckon export --responses`: the same matrix as CSV (`model,<item ids>`).
std::string matrix_csv(const ResponseMatrix& m);

void save_selection(Store& store, const std::string& name, const std::string& task, const Plan& plan,
                    const std::vector<std::string>& item_ids);

struct StoredSelection {
  std::string task;
  Plan plan;
  std::vector<std::string> item_ids;  // every item of the benchmark, in the plan's index order
};
StoredSelection load_selection(Store& store, const std::string& name);

}  // namespace reckon
