// User tasks from a JSON spec: local JSONL/CSV (or a pulled dataset file), a prompt template,
// a scorer from the table.
#include <filesystem>
#include <fstream>
#include <functional>
#include <regex>
#include <simdjson.h>

#include "common/csv.h"
#include "common/json_parse.h"
#include "common/jsonl.h"
#include "common/error.h"
#include "common/text.h"
#include "tasks/task.h"

namespace reckon {

std::string render_template(const std::string& tmpl, const std::map<std::string, std::string>& fields, const std::string& where) {
  std::string out;
  size_t i = 0;
  while (i < tmpl.size()) {
    size_t open = tmpl.find('{', i);
    if (open == std::string::npos) {
      out += tmpl.substr(i);
      break;
    }
    size_t close = tmpl.find('}', open);
    std::string name = close == std::string::npos ? "" : tmpl.substr(open + 1, close - open - 1);
    bool placeholder = !name.empty() && name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") == std::string::npos;
    // LaTeX such as \boxed{} or \frac{1}{2} is text, not a placeholder.
    if (!placeholder || (open > 0 && std::isalpha(static_cast<unsigned char>(tmpl[open - 1]))) ||
        (open > 0 && tmpl[open - 1] == '}')) {
      out += tmpl.substr(i, open - i + 1);
      i = open + 1;
      continue;
    }
    auto it = fields.find(name);
    if (it == fields.end()) throw InputError(where + ": prompt template names unknown field '{" + name + "}'");
    out += tmpl.substr(i, open - i) + it->second;
    i = close + 1;
  }
  return out;
}

TaskDef parse_task_spec(const nlohmann::json& j, const std::string& where) {
  if (!j.is_object()) throw InputError(where + ": a task spec must be a JSON object");
  auto need_string = [&](const nlohmann::json& o, const char* key, const std::string& at) {
    if (!o.contains(key) || !o[key].is_string() || o[key].get<std::string>().empty())
      throw InputError(at + ": field '" + key + "' must be a non-empty string");
    return o[key].get<std::string>();
  };
  TaskDef t;
  t.name = need_string(j, "name", where);
  std::string at = where + " (task " + t.name + ")";
  if (!j.contains("data") || !j["data"].is_object()) throw InputError(at + ": field 'data' must be an object {file} or {dataset, path}");
  const auto& d = j["data"];
  if (!d.contains("file") && !(d.contains("dataset") && d.contains("path")))
    throw InputError(at + ": field 'data' needs 'file', or 'dataset' and 'path'");
  if (d.contains("dataset") && !find_dataset(d["dataset"].is_string() ? d["dataset"].get<std::string>() : ""))
    throw InputError(at + ": field 'data.dataset' names an unknown dataset (see `reckon data list`)");
  t.scorer = need_string(j, "scorer", at);
  if (!find_scorer(t.scorer)) throw InputError(at + ": field 'scorer' names unknown scorer '" + t.scorer + "' (see `reckon tasks list`)");
  if (!j.contains("prompt") || !j["prompt"].is_object()) throw InputError(at + ": field 'prompt' must be an object with 'user'");
  need_string(j["prompt"], "user", at + " prompt");
  need_string(j, "reference_field", at);
  if (t.scorer == "regex") {
    std::string pattern = need_string(j, "regex", at);
    try {
      std::regex check(pattern);
    } catch (const std::regex_error& e) {
      throw InputError(at + ": field 'regex' is not a valid regular expression (" + e.what() + ")");
    }
  }
  nlohmann::json spec = j;  // as written, but the command's folder made absolute
  if (t.scorer == "command") {
    const auto& cmd = j.contains("command") ? j["command"] : nlohmann::json();
    bool argv = cmd.is_array() && !cmd.empty();
    for (const auto& a : cmd) argv = argv && a.is_string() && !a.get<std::string>().empty();
    if (!argv) throw InputError(at + ": field 'command' must be the scorer's argv, e.g. [\"python3\", \"score.py\"]");
    std::string dir = j.contains("command_dir") ? need_string(j, "command_dir", at) : ".";
    std::error_code ec;
    const auto abs = std::filesystem::absolute(dir, ec);
    if (ec || !std::filesystem::is_directory(abs)) throw InputError(at + ": field 'command_dir' names " + dir + ", which is not a folder");
    spec["command_dir"] = abs.lexically_normal().string();
    if (j.contains("command_timeout_s") && (!j["command_timeout_s"].is_number() || !(j["command_timeout_s"].get<double>() > 0)))
      throw InputError(at + ": field 'command_timeout_s' must be a positive number of seconds");
  }
  if (j.contains("metadata")) {
    if (!j["metadata"].is_array()) throw InputError(at + ": field 'metadata' must be an array of column names");
    for (const auto& m : j["metadata"]) t.metadata_columns.push_back(m.get<std::string>());
  }
  t.description = j.value("description", "user task");
  t.dataset = d.value("dataset", "");
  t.spec = std::move(spec);
  t.load = nullptr;
  return t;
}

using Row = std::map<std::string, std::string>;

// A user task's data rows, one at a time (CSV by extension, else JSONL).
class ItemStream::Rows {
 public:
  explicit Rows(const std::string& path) : path_(path), in_(path, std::ios::binary) {
    if (!in_) throw InputError(path + ": cannot open");
    csv_ = ends_with(to_lower(path), ".csv");
    if (csv_) {
      reader_ = std::make_unique<CsvReader>(in_);
      auto header = reader_->next();
      if (!header) throw InputError(path + ": empty file");
      for (const auto& h : header->fields) header_.push_back(trim(h));
    }
  }
  std::optional<Row> next() {
    if (csv_) {
      while (auto rec = reader_->next()) {
        if (rec->fields.size() == 1 && trim(rec->fields[0]).empty()) continue;
        if (rec->fields.size() != header_.size())
          throw InputError(path_ + ":" + std::to_string(rec->line) + ": field count differs from the header");
        Row row;
        for (size_t i = 0; i < header_.size(); ++i) row[header_[i]] = std::move(rec->fields[i]);
        return row;
      }
      return std::nullopt;
    }
    std::string line;
    while (std::getline(in_, line)) {
      ++line_no_;
      if (auto row = flat_row(line)) return row;
      auto j = parse_jsonl_object(line, path_, line_no_);
      if (!j) continue;
      Row row;
      for (auto it = j->begin(); it != j->end(); ++it) row[it.key()] = it->is_string() ? it->get<std::string>() : it->dump();
      return row;
    }
    return std::nullopt;
  }

 private:
  // The usual row, an object simdjson accepts, read straight into the row: the same strings and the same
  // dumped values as through nlohmann values (of repeated keys the last wins, as there), without building
  // them. A blank line, an error to name, or text simdjson refuses goes through parse_jsonl_object.
  static std::optional<Row> flat_row(const std::string& line) {
    std::optional<Row> row;
    if (trim(line).empty()) return row;
    read_json_dom(line, [&](const simdjson::dom::element& e) {
      if (!e.is_object()) return;
      row.emplace();
      for (auto field : simdjson::dom::object(e))
        (*row)[std::string(field.key)] = field.value.is_string() ? std::string(std::string_view(field.value)) : to_json(field.value).dump();
    });
    return row;
  }

  std::string path_;
  std::ifstream in_;
  bool csv_ = false;
  std::unique_ptr<CsvReader> reader_;
  std::vector<std::string> header_;
  size_t line_no_ = 0;
};

ItemStream::ItemStream(const TaskDef& task, const DataAccess& data) : task_(task) {
  if (task.load) {
    loaded_ = task.load(data);
    return;
  }
  const auto& j = task.spec;
  const auto& d = j["data"];
  path_ = d.contains("file") ? d["file"].get<std::string>() : data.file(d["dataset"].get<std::string>(), d["path"].get<std::string>());
  ref_field_ = j["reference_field"].get<std::string>();
  id_field_ = j.value("id_field", "");
  user_template_ = j["prompt"]["user"].get<std::string>();
  if (j["prompt"].contains("system")) system_template_ = j["prompt"]["system"].get<std::string>();
  rows_ = std::make_unique<Rows>(path_);
}

void ItemStream::rewind() {
  index_ = 0;
  if (rows_) rows_ = std::make_unique<Rows>(path_);
}

ItemStream::~ItemStream() = default;

std::optional<Item> ItemStream::next() {
  if (!rows_) {
    if (index_ == loaded_.size()) return std::nullopt;
    return loaded_[index_++];  // a copy: the stream can be rewound
  }
  auto row = rows_->next();
  if (!row) return std::nullopt;
  const auto& j = task_.spec;
  const size_t i = index_++;
  std::string where = path_ + ": row " + std::to_string(i + 1);
  Item it;
  if (!id_field_.empty()) {
    auto f = row->find(id_field_);
    if (f == row->end()) throw InputError(where + ": missing id field '" + id_field_ + "'");
    it.id = f->second;
  } else {
    it.id = std::to_string(i);
  }
  auto ref = row->find(ref_field_);
  if (ref == row->end()) throw InputError(where + ": missing reference field '" + ref_field_ + "'");
  it.reference = ref->second;
  if (system_template_) it.messages.push_back({"system", render_template(*system_template_, *row, where)});
  if (j["prompt"].contains("few_shot"))
    for (const auto& shot : j["prompt"]["few_shot"]) {
      it.messages.push_back({"user", shot.value("user", "")});
      it.messages.push_back({"assistant", shot.value("assistant", "")});
    }
  it.messages.push_back({"user", render_template(user_template_, *row, where)});
  if (j.contains("regex")) it.extra["regex"] = j["regex"];
  for (const char* k : {"command", "command_dir", "command_timeout_s"})
    if (j.contains(k)) it.extra[k] = j[k];
  it.fields = *row;
  for (const auto& m : task_.metadata_columns)
    if (auto f = row->find(m); f != row->end()) it.metadata[m] = f->second;
  return it;
}

std::vector<Item> load_items(const TaskDef& t, const DataAccess& data) {
  if (t.load) return t.load(data);
  ItemStream stream(t, data);
  std::vector<Item> items;
  while (auto it = stream.next()) items.push_back(std::move(*it));
  return items;
}

}  // namespace reckon
