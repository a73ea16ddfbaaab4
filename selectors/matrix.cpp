#include "selectors/matrix.h"

#include <fstream>
#include <set>

#include "common/csv.h"
#include "common/error.h"
#include "common/jsonl.h"
#include "common/text.h"

namespace reckon {

ResponseMatrix read_response_matrix(const std::string& path, const MatrixReadOptions& opt) {
  std::ifstream in(path);
  if (!in) throw InputError(path + ": cannot open response matrix");
  CsvReader csv(in);
  auto header = csv.next();
  // The usual layout has a row per model and a column per item; ADeLe's outcome files the other way.
  const std::string row_noun = opt.items_as_rows ? "item" : "model", col_noun = opt.items_as_rows ? "model" : "item";
  if (!header) throw InputError(path + ": empty file (expected a header `" + row_noun + ",<" + col_noun + " ids>`)");
  int model_col = -1;
  std::vector<int> item_cols;
  ResponseMatrix m;
  std::set<std::string> seen_items;
  for (size_t c = 0; c < header->fields.size(); ++c) {
    const std::string& name = header->fields[c];
    if (name == opt.model_column) {
      model_col = static_cast<int>(c);
      continue;
    }
    if (!opt.item_prefix.empty() && !starts_with(name, opt.item_prefix)) continue;
    if (name.empty()) throw InputError(path + ":1: column " + std::to_string(c + 1) + " has no " + col_noun + " id");
    if (!seen_items.insert(name).second) throw InputError(path + ":1: " + col_noun + " '" + name + "' appears twice in the header");
    item_cols.push_back(static_cast<int>(c));
    m.items.push_back(name);
  }
  if (model_col < 0) throw InputError(path + ":1: no '" + opt.model_column + "' column (set the " + row_noun + " column)");
  if (item_cols.empty()) throw InputError(path + ":1: no " + col_noun + " columns");
  std::vector<std::vector<double>> rows;
  std::set<std::string> seen_models;
  while (auto rec = csv.next()) {
    if (rec->fields.size() == 1 && rec->fields[0].empty()) continue;  // blank line
    const std::string where = path + ":" + std::to_string(rec->line);
    if (rec->fields.size() != header->fields.size())
      throw InputError(where + ": " + std::to_string(rec->fields.size()) + " fields where the header has " +
                       std::to_string(header->fields.size()) + " (ragged row)");
    const std::string& model = rec->fields[model_col];
    if (model.empty()) throw InputError(where + ": empty " + row_noun + " name");
    if (!seen_models.insert(model).second) throw InputError(where + ": " + row_noun + " '" + model + "' appears twice");
    std::vector<double> row;
    row.reserve(item_cols.size());
    for (size_t k = 0; k < item_cols.size(); ++k) {
      const std::string& cell = rec->fields[item_cols[k]];
      auto v = parse_double(cell);
      if (!v || !(*v >= 0 && *v <= 1))
        throw InputError(where + ": " + col_noun + " '" + m.items[k] + "': '" + cell + "' is not a score in [0, 1]");
      if (*v != 0 && *v != 1) m.binary = false;
      row.push_back(*v);
    }
    m.models.push_back(model);
    rows.push_back(std::move(row));
  }
  if (rows.empty()) throw InputError(path + ": no " + row_noun + " rows");
  m.y.resize(static_cast<Eigen::Index>(rows.size()), static_cast<Eigen::Index>(m.items.size()));
  for (size_t r = 0; r < rows.size(); ++r)
    for (size_t c = 0; c < rows[r].size(); ++c) m.y(static_cast<Eigen::Index>(r), static_cast<Eigen::Index>(c)) = rows[r][c];
  if (opt.items_as_rows) {
    std::swap(m.models, m.items);
    m.y.transposeInPlace();
  }
  return m;
}

std::map<std::string, nlohmann::json> read_item_table(const std::string& path) {
  std::map<std::string, nlohmann::json> out;
  size_t line = 0;
  for (auto& j : read_jsonl(path)) {
    ++line;
    if (!j.contains("item_id")) throw InputError(path + ": record " + std::to_string(line) + " has no 'item_id'");
    const auto& id = j["item_id"];
    out[id.is_string() ? id.get<std::string>() : id.dump()] = std::move(j);
  }
  return out;
}

Eigen::MatrixXd rows_of(const Eigen::MatrixXd& y, const std::vector<int>& rows) {
  Eigen::MatrixXd out(static_cast<Eigen::Index>(rows.size()), y.cols());
  for (size_t i = 0; i < rows.size(); ++i) out.row(static_cast<Eigen::Index>(i)) = y.row(rows[i]);
  return out;
}

std::vector<std::string> item_texts(const std::vector<std::string>& item_ids, const std::map<std::string, nlohmann::json>* meta_table) {
  std::vector<std::string> out;
  for (const auto& id : item_ids) {
    const nlohmann::json* meta = nullptr;
    if (meta_table) {
      auto it = meta_table->find(id);
      if (it != meta_table->end()) meta = &it->second;
    }
    std::string text;
    for (const char* field : {"question", "prompt", "text", "input"})
      if (meta && meta->contains(field) && (*meta)[field].is_string()) {
        text = (*meta)[field].get<std::string>();
        break;
      }
    if (text.empty()) throw InputError("item '" + id + "' has no text (a question, prompt, text or input field in the items file)");
    out.push_back(std::move(text));
  }
  return out;
}

}  // namespace reckon
