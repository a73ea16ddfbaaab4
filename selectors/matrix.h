#pragma once
// Response matrices: models × items, 0/1 correctness or scores in [0, 1] — the input of subset
// selection, read from CSV (`model,<item ids>`, one row per model) or built from a store.
#include <Eigen/Dense>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace reckon {

struct ResponseMatrix {
  std::vector<std::string> models, items;
  Eigen::MatrixXd y;  // models × items
  bool binary = true;
  double true_score(Eigen::Index model) const { return y.row(model).mean(); }
};

struct MatrixReadOptions {
  std::string model_column = "model";  // the column naming each row
  std::string item_prefix;             // only columns starting with this are items (others ignored); empty: all
  // A row per item and a column per model (ADeLe's `<B>_complete.csv`): `model_column` then names the
  // item id column and `item_prefix` filters the model columns.
  bool items_as_rows = false;
};

// Strict: a ragged row, a non-numeric or out-of-range cell, a duplicate model or item names the file,
// line and column. InputError.
ResponseMatrix read_response_matrix(const std::string& path, const MatrixReadOptions& opt = {});

// Item metadata (text, subject, ...) by item id, from JSON Lines with an `item_id` field.
std::map<std::string, nlohmann::json> read_item_table(const std::string& path);
// Each item's text from its metadata (field question, prompt, text or input, the first present);
// InputError naming an item without one.
std::vector<std::string> item_texts(const std::vector<std::string>& item_ids, const std::map<std::string, nlohmann::json>* meta);

// The matrix restricted to some rows (models), in the given order.
Eigen::MatrixXd rows_of(const Eigen::MatrixXd& y, const std::vector<int>& rows);

}  // namespace reckon
