#pragma once
// `--dry-run`: the plan priced, nothing sent or written. Output lengths come from the store's
// history of the same model and task (median and p90: thinking tokens vary many-fold between
// runs of one query), max_tokens where there is none.
#include <string>

#include "harness/plan.h"

namespace reckon {

// Prints the estimate per model and task; returns the number of cells planned.
size_t print_dry_run(const Campaign& c, const RunOptions& opts, CampaignPlan& plan, const std::string& db_path);

}  // namespace reckon
