// Built-in tasks: public benchmarks pulled by checksum, with the prompt conventions users expect
// (lm-evaluation-harness / simple-evals, METHODS.md §5, the price-reversal paper's prompts).
#include <filesystem>
#include <fstream>

#include "common/csv.h"
#include "common/error.h"
#include "common/text.h"
#include "tasks/extract.h"
#include "tasks/task.h"

namespace fs = std::filesystem;

namespace reckon {
namespace {

// The price-reversal paper's math prompt (also simple-evals' style): answer in \boxed{}.
const char* kMathPrompt =
    "Solve the following math problem step by step. The last line of your response should only contain your final "
    "answer inside a \\boxed{} command.\n\n{problem}\n\nRemember to put your final answer on the last line using the "
    "format \\boxed{$ANSWER} where $ANSWER is the answer to the problem.";
const char* kGsm8kPrompt =
    "Solve the following math problem step by step. The last line of your response should be of the form "
    "\"#### <number>\" with the final numeric answer.\n\n{question}";
// simple-evals QUERY_TEMPLATE_MULTICHOICE (0-shot chain of thought).
const char* kChoicePrompt =
    "Answer the following multiple choice question. The last line of your response should be of the following format: "
    "'Answer: $LETTER' (without quotes) where LETTER is one of ABCD. Think step by step before answering.\n\n"
    "{question}\n\nA) {A}\nB) {B}\nC) {C}\nD) {D}";

std::vector<nlohmann::json> read_jsonl(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw InputError(path + ": cannot open");
  std::vector<nlohmann::json> rows;
  std::string line;
  size_t n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (trim(line).empty()) continue;
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object()) throw InputError(path + ":" + std::to_string(n) + ": not a JSON object");
    rows.push_back(std::move(j));
  }
  return rows;
}

std::string str(const nlohmann::json& j, const char* key, const std::string& where) {
  if (!j.contains(key)) throw InputError(where + ": missing field '" + key + "'");
  return j[key].is_string() ? j[key].get<std::string>() : j[key].dump();
}

Item user_item(std::string id, std::string prompt, std::string reference) {
  Item it;
  it.id = std::move(id);
  it.messages = {{"user", std::move(prompt)}};
  it.reference = std::move(reference);
  return it;
}

std::vector<Item> load_gsm8k(const DataAccess& data) {
  std::string path = data.file("gsm8k", "grade_school_math/data/test.jsonl");
  std::vector<Item> items;
  size_t i = 0;
  for (const auto& row : read_jsonl(path)) {
    std::string where = path + ": item " + std::to_string(i);
    auto ref = gsm8k_reference(str(row, "answer", where));
    if (!ref) throw InputError(where + ": answer has no '####' line");
    Item it = user_item(std::to_string(i++), render_template(kGsm8kPrompt, {{"question", str(row, "question", where)}}, where), *ref);
    it.extra["solution"] = row["answer"];
    items.push_back(std::move(it));
  }
  return items;
}

std::vector<Item> load_math(const std::string& path, const char* id_field) {
  std::vector<Item> items;
  size_t i = 0;
  for (const auto& row : read_jsonl(path)) {
    std::string where = path + ": item " + std::to_string(i);
    std::string id = id_field && row.contains(id_field) ? str(row, id_field, where) : std::to_string(i);
    ++i;
    std::string problem = row.contains("problem") ? str(row, "problem", where) : str(row, "question", where);
    Item it = user_item(id, render_template(kMathPrompt, {{"problem", problem}}, where), str(row, "answer", where));
    for (const char* m : {"subject", "level"})
      if (row.contains(m)) it.metadata[m] = str(row, m, where);
    items.push_back(std::move(it));
  }
  return items;
}

std::vector<Item> load_math500(const DataAccess& d) { return load_math(d.file("math500", "data/math_oai/test.jsonl"), "unique_id"); }
std::vector<Item> load_aime24(const DataAccess& d) { return load_math(d.file("aime24", "aime24/test.jsonl"), "id"); }
std::vector<Item> load_aime25(const DataAccess& d) { return load_math(d.file("aime25", "aime25/test.jsonl"), nullptr); }
std::vector<Item> load_amc23(const DataAccess& d) { return load_math(d.file("amc23", "amc23/test.jsonl"), "id"); }

struct MmluRow {
  std::string question, a, b, c, d, answer;
};

std::vector<MmluRow> read_mmlu_csv(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path + ": cannot open");
  CsvReader r(in);
  auto header = r.next();
  if (!header || header->fields.size() != 6) throw InputError(path + ": expected header question,choice0..3,answer");
  std::vector<MmluRow> rows;
  while (auto rec = r.next()) {
    if (rec->fields.size() != 6) throw InputError(path + ":" + std::to_string(rec->line) + ": expected 6 fields");
    auto idx = parse_int(rec->fields[5]);
    if (!idx || *idx < 0 || *idx > 3) throw InputError(path + ":" + std::to_string(rec->line) + ": field 'answer' must be 0-3");
    rows.push_back({rec->fields[0], rec->fields[1], rec->fields[2], rec->fields[3], rec->fields[4],
                    std::string(1, static_cast<char>('A' + *idx))});
  }
  return rows;
}

std::string subject_of(const std::string& path, const char* suffix) {
  std::string name = fs::path(path).filename().string();
  return name.substr(0, name.size() - std::string(suffix).size());
}

std::string pretty_subject(std::string s) {
  for (auto& c : s)
    if (c == '_') c = ' ';
  return s;
}

std::vector<Item> load_mmlu_shots(const DataAccess& data, int shots) {
  const Dataset* ds = find_dataset("mmlu");
  std::vector<std::string> paths = pull_dataset(*ds, data.pull);
  std::map<std::string, std::vector<MmluRow>> dev;
  if (shots > 0)
    for (const auto& p : paths)
      if (ends_with(p, "_dev.csv")) dev[subject_of(p, "_dev.csv")] = read_mmlu_csv(p);
  std::vector<Item> items;
  for (const auto& p : paths) {
    if (!ends_with(p, "_test.csv")) continue;
    std::string subject = subject_of(p, "_test.csv");
    auto rows = read_mmlu_csv(p);
    for (size_t i = 0; i < rows.size(); ++i) {
      const auto& r = rows[i];
      Item it;
      it.id = subject + "/" + std::to_string(i);
      it.reference = r.answer;
      it.metadata["subject"] = subject;
      std::map<std::string, std::string> f{{"question", r.question}, {"A", r.a}, {"B", r.b}, {"C", r.c}, {"D", r.d}};
      if (shots == 0) {
        it.messages = {{"user", render_template(kChoicePrompt, f, p)}};
      } else {
        // lm-evaluation-harness layout: description, then dev examples with their answers.
        std::string prompt = "The following are multiple choice questions (with answers) about " + pretty_subject(subject) + ".\n\n";
        auto& shots_rows = dev[subject];
        for (int k = 0; k < shots && k < static_cast<int>(shots_rows.size()); ++k) {
          const auto& s = shots_rows[static_cast<size_t>(k)];
          prompt += s.question + "\nA. " + s.a + "\nB. " + s.b + "\nC. " + s.c + "\nD. " + s.d + "\nAnswer: " + s.answer + "\n\n";
        }
        prompt += r.question + "\nA. " + r.a + "\nB. " + r.b + "\nC. " + r.c + "\nD. " + r.d + "\nAnswer:";
        it.messages = {{"user", prompt}};
      }
      items.push_back(std::move(it));
    }
  }
  return items;
}

std::vector<Item> load_mmlu(const DataAccess& d) { return load_mmlu_shots(d, 0); }
std::vector<Item> load_mmlu_5shot(const DataAccess& d) { return load_mmlu_shots(d, 5); }

// The paper's own prompts and references, from its logs (every model saw the same prompts).
std::vector<Item> load_price_reversal(const DataAccess& data, const std::string& file) {
  std::string path = data.file("price-reversal", "data/consolidated/" + file);
  std::ifstream in(path);
  auto j = nlohmann::json::parse(in, nullptr, false);
  if (j.is_discarded() || !j.contains("records")) throw InputError(path + ": not a price-reversal log");
  std::vector<Item> items;
  for (const auto& r : j["records"]) {
    std::string where = path + ": record";
    items.push_back(user_item(str(r, "index", where), str(r, "prompt", where), str(r, "ground_truth", where)));
  }
  return items;
}

std::vector<Item> load_pr_aime(const DataAccess& d) { return load_price_reversal(d, "aime-hybrid-gpt-5-mini.json"); }
std::vector<Item> load_pr_gpqa(const DataAccess& d) { return load_price_reversal(d, "gpqa-test-gpt-5-mini.json"); }

}  // namespace

std::string DataAccess::file(const std::string& dataset, const std::string& suffix) const {
  const Dataset* ds = find_dataset(dataset);
  if (!ds) throw InputError("unknown dataset '" + dataset + "'");
  for (size_t i = 0; i < ds->files.size(); ++i) {
    if (!ends_with(ds->files[i].path, suffix)) continue;
    Dataset one{ds->name, {ds->files[i]}};
    return pull_dataset(one, pull).front();
  }
  throw InputError("dataset '" + dataset + "' has no file ending in " + suffix);
}

const std::vector<TaskDef>& builtin_tasks() {
  static const std::vector<TaskDef> table = {
      {"gsm8k", "GSM8K test (1319), chain of thought, last number", "gsm8k", "last_number", {}, load_gsm8k, {}},
      {"math500", "MATH-500 (PRM800K split), \\boxed{} answers", "math500", "boxed", {"subject", "level"}, load_math500, {}},
      {"aime24", "AIME 2024 (30), \\boxed{} integer answers", "aime24", "boxed", {}, load_aime24, {}},
      {"aime25", "AIME 2025 (30), \\boxed{} integer answers", "aime25", "boxed", {}, load_aime25, {}},
      {"amc23", "AMC 2023 (40), \\boxed{} answers", "amc23", "boxed", {}, load_amc23, {}},
      {"mmlu", "MMLU test, 57 subjects (14,042), 0-shot chain of thought, Answer: LETTER", "mmlu", "choice", {"subject"}, load_mmlu, {}},
      {"mmlu-5shot", "MMLU test, 5-shot from dev (lm-evaluation-harness layout)", "mmlu", "choice", {"subject"}, load_mmlu_5shot, {}},
      {"price-reversal-aime", "the price-reversal paper's AIME prompts (60)", "price-reversal", "boxed", {}, load_pr_aime, {}},
      {"price-reversal-gpqa", "the price-reversal paper's GPQA prompts (198), Answer: LETTER", "price-reversal", "choice", {}, load_pr_gpqa, {}},
  };
  return table;
}

const TaskDef* find_builtin_task(const std::string& name) {
  for (const auto& t : builtin_tasks())
    if (t.name == name) return &t;
  return nullptr;
}

}  // namespace reckon
