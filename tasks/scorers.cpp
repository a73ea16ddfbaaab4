// The scorer table: response + item -> score, one row per grading rule (METHODS.md §5).
#include <cmath>

#include "common/text.h"
#include "tasks/extract.h"
#include "tasks/code_exec.h"
#include "tasks/sql_exec.h"
#include "tasks/task.h"

namespace reckon {
namespace {

ScoreResult exact(const Item& item, const std::string& response) {
  std::string p = trim(response);
  return {p == trim(item.reference) ? 1.0 : 0.0, p};
}

ScoreResult normalized(const Item& item, const std::string& response) {
  std::string p = normalize_text(response);
  return {p == normalize_text(item.reference) ? 1.0 : 0.0, p};
}

ScoreResult last_number(const Item& item, const std::string& response) {
  auto n = extract_last_number(response);
  if (!n) return {0.0, ""};
  auto a = parse_double(*n), b = parse_double(item.reference);
  bool eq = a && b ? std::abs(*a - *b) < 1e-9 : *n == item.reference;
  return {eq ? 1.0 : 0.0, *n};
}

ScoreResult boxed_math(const Item& item, const std::string& response) {
  auto b = extract_boxed(response);
  if (!b) return {0.0, ""};
  return {math_equal(*b, item.reference) ? 1.0 : 0.0, normalize_math(*b)};
}

ScoreResult choice(const Item& item, const std::string& response) {
  char last = item.extra.contains("last_choice") ? item.extra["last_choice"].get<std::string>()[0] : 'D';
  auto c = extract_choice(response, last);
  if (!c) return {0.0, ""};
  return {std::string(1, *c) == trim(item.reference) ? 1.0 : 0.0, std::string(1, *c)};
}

// item.extra: {"db": path, "gold": sql}. The rule comes from the scorer name.
ScoreResult sql_with(const Item& item, const std::string& response, SqlCompare rule) {
  std::string sql = extract_sql(response);
  if (!item.extra.contains("db") || !item.extra.contains("gold")) return {std::nullopt, sql};
  return {sql_execution_match(item.extra["db"].get<std::string>(), sql, item.extra["gold"].get<std::string>(), rule), sql};
}
ScoreResult sql_set(const Item& item, const std::string& response) { return sql_with(item, response, SqlCompare::kSet); }
ScoreResult sql_bag(const Item& item, const std::string& response) { return sql_with(item, response, SqlCompare::kBag); }

// item.extra: {prelude (the prompt's imports and signature), tests, entry_point}. A response that
// defines the entry point replaces the stub; otherwise it continues the prelude (a completion).
ScoreResult code_python(const Item& item, const std::string& response) {
  std::string code = extract_code_block(response).value_or(response);
  std::string prelude = item.extra.value("prelude", "");
  std::string entry = item.extra.value("entry_point", "");
  std::string program = !entry.empty() && code.find("def " + entry + "(") == std::string::npos ? prelude + code
                                                                                                  : prelude + "\n" + code;
  program += "\n\n" + item.extra.value("tests", "");
  SandboxResult r = run_python_sandboxed(program);
  return {r.passed ? 1.0 : 0.0, r.passed ? "passed" : (r.timed_out ? "timeout" : "failed")};
}

}  // namespace

const std::vector<ScorerInfo>& scorer_table() {
  static const std::vector<ScorerInfo> table = {
      {"exact", "the trimmed response equals the reference", exact},
      {"normalized", "equal after lowercasing, dropping punctuation and articles", normalized},
      {"last_number", "GSM8K: the last number in the response equals the reference numerically", last_number},
      {"boxed", "MATH/AIME: the last \\boxed{} equals the reference after LaTeX normalization", boxed_math},
      {"choice", "multiple choice: the chosen letter (Answer: X, **X**, (X), \\boxed{X}) equals the reference", choice},
      {"code_python", "Python code run with the task's tests in a sandbox (limits, no network, timeout): pass@1", code_python},
      {"sql_set", "text-to-SQL execution on SQLite, result rows compared as sets (BIRD rule)", sql_set},
      {"sql_bag", "text-to-SQL execution on SQLite, rows as bags, in order only under ORDER BY (Spider rule)", sql_bag},
  };
  return table;
}

const ScorerInfo* find_scorer(const std::string& name) {
  for (const auto& s : scorer_table())
    if (name == s.name) return &s;
  return nullptr;
}

}  // namespace reckon
