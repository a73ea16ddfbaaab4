#pragma once
// Tasks: items (prompt messages + reference) and the scorer that grades a response. Built-in
// tasks come from one table; user tasks from a JSON spec.
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/message.h"
#include "tasks/datasets.h"

namespace reckon {

struct Item {
  std::string id;
  std::vector<Message> messages;
  std::string reference;
  std::map<std::string, std::string> metadata;  // subject, difficulty, ... (for stratification)
  nlohmann::json extra;                         // what a scorer needs beyond the reference
  std::map<std::string, std::string> fields;    // a user task's row, for a campaign's prompt variants
};

struct ScoreResult {
  std::optional<double> value;  // 0..1; nullopt when the response cannot be graded
  std::string prediction;       // what the extractor read
};

struct ScorerInfo {
  const char* name;
  const char* help;
  ScoreResult (*score)(const Item& item, const std::string& response);
  // Whether the scorer can work on this machine (nullptr: always); `why` says what is missing.
  bool (*ready)(std::string* why) = nullptr;
};
const std::vector<ScorerInfo>& scorer_table();
const ScorerInfo* find_scorer(const std::string& name);

// Where task loaders find their files: pulled datasets (mirror and cache honoured).
struct DataAccess {
  PullOptions pull;
  // Pulls `dataset` (verified) and returns the local path of its file whose repository path ends
  // with `suffix`. InputError when the registry has no such file.
  std::string file(const std::string& dataset, const std::string& suffix) const;
};

struct TaskDef {
  std::string name, description, dataset, scorer;
  std::vector<std::string> metadata_columns;
  std::vector<Item> (*load)(const DataAccess& data);  // built-ins
  nlohmann::json spec;                                 // user tasks (JSON spec)
  // When a campaign names a judge model, it grades with this prompt ({question}, {answer},
  // {correct}, {incorrect}) instead of the scorer; the judge's reply starts with yes or no.
  std::string judge_prompt;
};

const std::vector<TaskDef>& builtin_tasks();
const TaskDef* find_builtin_task(const std::string& name);

// A user task from its JSON spec; `where` names the file in errors. Fields:
//  name, data: {file | dataset + path, format: jsonl|csv (from the extension)}, id_field,
//  reference_field, prompt: {system, user (with {field} placeholders), few_shot: [{user, assistant}]},
//  scorer (see `reckon tasks list`), metadata: [columns].
TaskDef parse_task_spec(const nlohmann::json& spec, const std::string& where);
std::vector<Item> load_items(const TaskDef& task, const DataAccess& data);

// A task's items one at a time: a user task's file is read as items are asked for, so a campaign
// over a task of any size holds only the items in flight (a built-in task's loader returns its
// benchmark whole, and the stream hands those out). Errors name the file and row.
class ItemStream {
 public:
  ItemStream(const TaskDef& task, const DataAccess& data);
  ~ItemStream();
  ItemStream(const ItemStream&) = delete;
  ItemStream& operator=(const ItemStream&) = delete;
  std::optional<Item> next();
  // Back to the first item (a user task's file is read again; a built-in's items are kept).
  void rewind();

 private:
  class Rows;
  const TaskDef& task_;
  std::string path_, ref_field_, id_field_, user_template_;
  std::optional<std::string> system_template_;
  std::unique_ptr<Rows> rows_;
  std::vector<Item> loaded_;
  size_t index_ = 0;
};

// "{field}" placeholders filled from `fields`; InputError naming an unknown field.
std::string render_template(const std::string& tmpl, const std::map<std::string, std::string>& fields, const std::string& where);

}  // namespace reckon
