#pragma once
// `reckon export`: any stable view as CSV or JSON Lines, for tools that do not read SQLite.
#include <nlohmann/json_fwd.hpp>
#include <ostream>
#include <string>
#include <vector>

#include "results/store.h"

namespace reckon {

const std::vector<std::string>& exportable_views();

// Rows of a view narrowed to a model, task, run and dates (YYYY-MM-DD, inclusive; the day a row was
// written) — what the dashboard's query strings set. Empty fields filter nothing.
struct ViewFilter {
  std::string model, task, run, from, to;
  bool empty() const { return model.empty() && task.empty() && run.empty() && from.empty() && to.empty(); }
};

// Writes the rows of `view` (one of exportable_views()) as CSV or JSON Lines; returns the row count.
// InputError for an unknown view or format, a malformed date, or dates on a view without them.
size_t export_view(Store& store, const std::string& view, const std::string& format, std::ostream& out, const ViewFilter& f = {});
// The same rows as one JSON array (the dashboard's endpoints).
nlohmann::json view_json(Store& store, const std::string& view, const ViewFilter& f = {});
// Spend per day and model (from v_costs, so what was paid), filtered alike: the dashboard's series.
nlohmann::json spend_over_time(Store& store, const ViewFilter& f = {});

}  // namespace reckon
