#pragma once
// `reckon export`: any stable view as CSV or JSON Lines, for tools that do not read SQLite.
#include <nlohmann/json_fwd.hpp>
#include <ostream>
#include <string>
#include <vector>

#include "results/store.h"

namespace reckon {

const std::vector<std::string>& exportable_views();
// Writes every row of `view` (one of exportable_views()); returns the row count. InputError otherwise.
size_t export_view(Store& store, const std::string& view, const std::string& format, std::ostream& out);
// The same rows as one JSON array (the dashboard's endpoints).
nlohmann::json view_json(Store& store, const std::string& view);

}  // namespace reckon
