#pragma once
// Selections and response matrices in a reckon store: the matrix of a task's results (model ×
// item, mean primary score over repeats), and plans saved as `selections` rows a campaign can run.
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "results/store.h"
#include "selectors/matrix.h"
#include "selectors/selector.h"

namespace reckon {

// Every model's mean score per item on `task` (ok, scored, top-level requests), over the items
// every model answered; items some model lacks are left out (counted in `dropped_items`). Models in
// `leave_out` are not read (those an adaptive campaign is measuring).
ResponseMatrix matrix_from_store(Store& store, const std::string& task, size_t* dropped_items = nullptr,
                                 const std::set<std::string>* leave_out = nullptr);

// Whether any model has scored results on `task`.
bool store_has_results(Store& store, const std::string& task);
// The items of a task no model has run yet (zero source rows): from an items table when given,
// else the store's items and annotated items of the task. InputError when there are none.
ResponseMatrix cold_start_items(Store& store, const std::string& task, const std::map<std::string, nlohmann::json>* item_meta);

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

// Demand levels (Scales++) in `item_features`, feature set "scales": one vector of ADeLe's 18 levels
// per item (annotated by a model or imported as published), with the annotator and what it cost.
constexpr const char* kScalesFeatureSet = "scales";
struct ScaleAnnotation {
  std::string item_id, annotator;
  std::vector<double> levels;
  std::optional<double> cost_usd;
};
void save_scale_annotation(Store& store, const std::string& task, const ScaleAnnotation& a);
// Vectors stored on the former 16 scales are counted in `former` and left out; without `former` they
// are an InputError saying how to replace them.
std::vector<ScaleAnnotation> load_scale_annotations(Store& store, const std::string& task, size_t* former = nullptr);
// Levels as the ADeLe battery publishes them: a CSV with an id column and one column per scale by its
// abbreviation, in any order (`UG`, ADeLe's unguessability percentage, and other columns are left
// aside and named in `ignored`). Integer levels 0–5; InputError naming file, line and column.
std::vector<ScaleAnnotation> read_published_levels(const std::string& path, const std::string& id_column,
                                                   std::vector<std::string>* ignored = nullptr);

std::map<std::string, std::vector<double>> scale_levels_by_item(const std::vector<ScaleAnnotation>& annotations);

}  // namespace reckon
