// The scorer table: response + item -> score, one row per grading rule (METHODS.md §5).
#include <algorithm>
#include <cmath>
#include <regex>
#include <sstream>

#include "common/text.h"
#include "tasks/extract.h"
#include "tasks/code_exec.h"
#include "tasks/command_scorer.h"
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

// item.extra["regex"]: the answer is the first group (or the whole match) of the pattern's last
// match in the response, compared with the reference after trimming.
ScoreResult regex_match(const Item& item, const std::string& response) {
  if (!item.extra.contains("regex")) return {std::nullopt, ""};
  std::regex re(item.extra["regex"].get<std::string>());
  std::string found;
  bool any = false;
  for (auto it = std::sregex_iterator(response.begin(), response.end(), re); it != std::sregex_iterator(); ++it) {
    found = it->size() > 1 ? (*it)[1].str() : it->str();
    any = true;
  }
  if (!any) return {0.0, ""};
  return {trim(found) == trim(item.reference) ? 1.0 : 0.0, trim(found)};
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
  if (!r.ran) return {std::nullopt, "not run: " + r.note};
  std::string outcome = r.passed ? "passed" : (r.timed_out ? "timeout" : "failed");
  if (!r.note.empty()) outcome += " (" + r.note + ")";
  return {r.passed ? 1.0 : 0.0, outcome};
}

std::vector<std::string> words(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(normalize_text(text));
  std::string w;
  while (in >> w) out.push_back(w);
  return out;
}

// ROUGE-L F-measure (longest common subsequence of words).
double rouge_l(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  if (a.empty() || b.empty()) return 0;
  std::vector<std::vector<int>> dp(a.size() + 1, std::vector<int>(b.size() + 1, 0));
  for (size_t i = 1; i <= a.size(); ++i)
    for (size_t j = 1; j <= b.size(); ++j)
      dp[i][j] = a[i - 1] == b[j - 1] ? dp[i - 1][j - 1] + 1 : std::max(dp[i - 1][j], dp[i][j - 1]);
  double lcs = dp[a.size()][b.size()];
  if (lcs == 0) return 0;
  double p = lcs / static_cast<double>(a.size()), r = lcs / static_cast<double>(b.size());
  return 2 * p * r / (p + r);
}

ScoreResult truthful_rouge(const Item& item, const std::string& response) {
  if (!item.extra.contains("correct") || !item.extra.contains("incorrect")) return {std::nullopt, ""};
  auto resp = words(response);
  double best_true = 0, best_false = 0;
  for (const auto& c : item.extra["correct"]) best_true = std::max(best_true, rouge_l(resp, words(c.get<std::string>())));
  for (const auto& c : item.extra["incorrect"]) best_false = std::max(best_false, rouge_l(resp, words(c.get<std::string>())));
  return {best_true > best_false ? 1.0 : 0.0, fmt_fixed(best_true, 3) + " vs " + fmt_fixed(best_false, 3)};
}

}  // namespace

const std::vector<ScorerInfo>& scorer_table() {
  static const std::vector<ScorerInfo> table = {
      {"exact", "the trimmed response equals the reference", exact},
      {"normalized", "equal after lowercasing, dropping punctuation and articles", normalized},
      {"last_number", "GSM8K: the last number in the response equals the reference numerically", last_number},
      {"boxed", "MATH/AIME: the last \\boxed{} equals the reference after LaTeX normalization", boxed_math},
      {"regex", "the first group of the task's regex (its last match) equals the reference", regex_match},
      {"choice", "multiple choice: the chosen letter (Answer: X, **X**, (X), \\boxed{X}) equals the reference", choice},
      {"truthful_rouge", "TruthfulQA: ROUGE-L to the closest true reference beats the closest false one", truthful_rouge},
      {"code_python", "Python code run with the task's tests in a bubblewrap sandbox (limits, no network, timeout; the tests must run to their end): pass@1",
       code_python, [](std::string* why) { return sandbox_ready(why); }},
      {"sql_set", "text-to-SQL execution on SQLite, result rows compared as sets (BIRD rule)", sql_set},
      {"sql_bag", "text-to-SQL execution on SQLite, rows as bags, in order only under ORDER BY (Spider rule)", sql_bag},
      {"command", "your own: a program (the task's \"command\") reads one JSON line per answer, writes a score in [0, 1]; run in the sandbox",
       command_score, [](std::string* why) { return sandbox_ready(why); }},
  };
  return table;
}

const ScorerInfo* find_scorer(const std::string& name) {
  for (const auto& s : scorer_table())
    if (name == s.name) return &s;
  return nullptr;
}

}  // namespace reckon
