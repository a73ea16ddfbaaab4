#pragma once
// `reckon costs`: spend broken out by part (input, cached, cache writes, visible output, thinking,
// fees), grouped by any of model, task, run and day, with provider-billed vs computed cost.
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "results/store.h"

namespace reckon {

struct CostRow {
  std::vector<std::string> keys;  // one per grouping dimension
  int64_t requests = 0, unknown_cost = 0, provider_billed = 0;
  double input = 0, cache_read = 0, cache_write = 0, output = 0, reasoning = 0, fees = 0, total = 0;
  double provider_cost = 0;       // over rows the provider billed
  double computed_where_billed = 0;  // reckon's cost over those same rows
};

// `by` holds dimensions from {"model", "task", "run", "day", "tier"} (tier: standard, batch, flex, ...); InputError for anything else.
std::vector<CostRow> spend(Store& store, const std::vector<std::string>& by, const std::optional<std::string>& run_id);
std::string render_spend(const std::vector<std::string>& by, const std::vector<CostRow>& rows);
nlohmann::json spend_json(const std::vector<std::string>& by, const std::vector<CostRow>& rows);

}  // namespace reckon
