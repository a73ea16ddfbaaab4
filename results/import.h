#pragma once
// `reckon import`: request logs written by other tools, priced on the way in.
#include <map>
#include <string>
#include <vector>

#include "results/store.h"

namespace reckon {

struct ImportOptions {
  // "auto" (from the extension: .csv, .jsonl/.ndjson; a .json file or a folder is tried as
  // price-reversal), "csv", "jsonl", or "price-reversal" (the paper's consolidated logs).
  std::string format = "auto";
  std::map<std::string, std::string> rename;  // reckon column -> the file's column (--map new=old)
  std::string run_id;                         // default: derived from the files' contents
  bool allow_unpriced = false;                // store cost as unknown instead of failing
  std::vector<std::string> catalogs;          // --catalog: prices after the built-in and the store's
};

struct ImportResult {
  std::string run_id;
  size_t rows = 0, inserted = 0;
  size_t duplicates = 0;  // already in the store from an earlier import of the same data
  // Rows repeating a (model, task, item, repeat) seen earlier in the same input: the first is
  // kept and each later one is named here ("file: records[i]" or "file:line").
  std::vector<std::string> repeated_in_input;
};

// All files in one transaction: a malformed row (named by file, line and field) or an unpriced
// model stops the import and leaves the store as it was. Re-importing the same files inserts
// nothing (request fingerprints).
ImportResult import_files(Store& store, const std::vector<std::string>& paths, const ImportOptions& opts);

// The reckon columns an import understands (required first).
const std::vector<std::string>& import_columns();

}  // namespace reckon
