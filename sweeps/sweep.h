#pragma once
// Budget sweeps ("Balancing the Budget", METHODS.md §4): for each total labelling budget, how much
// should go to SFT demonstrations and how much to preference pairs? Each grid point builds both
// datasets within its budget, trains SFT then DPO (DPO-only starts from the base policy), judges the
// result on one fixed held-out split, and is recorded in the store (`sweeps`, `sweep_points`);
// finished points are skipped on a rerun.
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "results/store.h"
#include "routers/data.h"

namespace reckon {

struct SweepGrid {
  std::vector<double> budgets;                                         // annotation units
  std::vector<double> sft_fractions = {1, 0.75, 0.5, 0.25, 0.1, 0.01, 0};
  std::vector<double> cost_ratios = {1};                               // a pair costs this many SFT examples
  int seeds = 5;
  double train_fraction = 0.7;
  int epochs = 4;
  double beta = 0.1;
  std::string backend = "builtin";
  nlohmann::json backend_config = nlohmann::json::object();  // the command and openai backends' settings
  nlohmann::json to_json() const;
  static SweepGrid from_json(const nlohmann::json& j);  // InputError naming the bad field
  void check() const;
};

struct SweepPoint {
  double budget = 0, sft_fraction = 0, cost_ratio = 1;
  int seed = 0;
  int64_t sft_examples = 0, preference_pairs = 0;  // what the budget buys
};

// Every point of the grid with its dataset sizes (split_budget at each point).
std::vector<SweepPoint> plan_sweep(const SweepGrid& g);

struct PointResult {
  bool ok = true;
  double score = 0, accuracy = 0;  // held-out APGR (two candidates) or accuracy; accuracy of its decisions
  std::string error;
};

// What a backend is given once per sweep: the data, its one split, the grid, and a folder for the
// files it writes (datasets, training output).
struct SweepContext {
  const RoutingSet& s;
  std::vector<size_t> pool, held_out;
  SweepGrid grid;
  std::string work_dir;
};

// A training backend: trains on the point's datasets and judges the result on the held-out split.
// A failure throws; run_sweep records it on the point.
struct SweepBackend {
  const char* name;
  const char* help;
  // Prepared once per sweep (e.g. features of the training pool and the held-out split); the
  // returned function may keep references into the context, which outlives it.
  std::function<PointResult(const SweepPoint&)> (*prepare)(const SweepContext& c);
};
const std::vector<SweepBackend>& sweep_backends();

// Runs the points not yet finished; a failed point is recorded as an error (never skipped silently).
// Returns how many points ran.
// `work_dir` holds the files of backends that write datasets (default: beside the store).
size_t run_sweep(Store& store, const std::string& name, const RoutingSet& s, const SweepGrid& g, const nlohmann::json& source,
                 const std::function<void(size_t, size_t)>& progress = {}, std::string work_dir = "");

struct SweepCell {
  double budget = 0, sft_fraction = 0, cost_ratio = 1;
  int points = 0, errors = 0;
  std::optional<double> mean, sd;
};
struct SweepReport {
  std::string name, backend;
  std::vector<SweepCell> cells;
  std::vector<std::pair<double, double>> best_fraction;  // (budget, fraction) per budget (first cost ratio)
  std::vector<std::string> flags;                        // cold-start failures and errors, in words
};
SweepReport sweep_report(Store& store, const std::string& name);
std::string render_sweep_report(const SweepReport& r);
nlohmann::json sweep_report_json(const SweepReport& r);

}  // namespace reckon
