#pragma once
// `reckon merge`: fold stores (e.g. shards) into one without duplicating a request.
#include <string>
#include <vector>

namespace reckon {

struct MergeResult {
  size_t inputs = 0, requests_added = 0, requests_skipped = 0, errors_replaced = 0;
};

// Requests are keyed by fingerprint: one already in OUT is kept, except that an `ok` row
// replaces an `error` row for the same cell. Runs, models, tasks, items, prices and the other
// tables are unioned. Inputs are all checked before anything is written; each input is then
// merged in its own transaction.
MergeResult merge_stores(const std::string& out, const std::vector<std::string>& inputs);

}  // namespace reckon
