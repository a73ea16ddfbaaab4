// EllieSQL's three text-to-SQL pipelines of rising cost (METHODS.md §3), built in. All three start
// with schema linking (which tables and columns the question needs), recorded as its own step so a
// router can use the number of linked tables as a feature.
#include "pipelines/pipeline.h"
#include "pipelines/sql_pipelines.h"

#include <set>

#include "common/text.h"
#include "tasks/sql_exec.h"

namespace reckon {

namespace {

PipelineStep schema_linking() {
  PipelineStep s;
  s.name = "link";
  s.system = "You link questions to database schemas.";
  s.user =
      "Schema:\n{schema}\n\nQuestion: {question}\n\nWhich tables and columns does the question need? Reply with one "
      "table.column per line and nothing else.";
  return s;
}

const char* kGenerateBasic =
    "Schema:\n{schema}\n\nRelevant tables and columns:\n{link}\n\nQuestion: {question}\n\nWrite one SQLite query that "
    "answers the question. Reply with the query in a ```sql code block.";

// Divide and conquer: split the question into sub-questions, write SQL for each, then assemble.
const char* kGenerateReasoned =
    "Schema:\n{schema}\n\nRelevant tables and columns:\n{link}\n\nQuestion: {question}\n\nSolve it by divide and "
    "conquer: break the question into sub-questions, write a SQL fragment for each, then combine them into one SQLite "
    "query. End with the final query in a ```sql code block.";

const char* kRepair =
    "Running that query on the database failed:\n{error}\nWrite a corrected SQLite query. Reply with the query in a ```sql "
    "code block.";

}  // namespace

const std::vector<Pipeline>& builtin_pipelines() {
  static const std::vector<Pipeline> table = [] {
    PipelineStep basic{"generate", "You write SQLite queries.", kGenerateBasic, "sql"};
    PipelineStep reasoned{"generate", "You write SQLite queries.", kGenerateReasoned, "sql", true, 3, kRepair};
    PipelineStep examples{"examples", "You write SQLite queries.",
                          "Schema:\n{schema}\n\nWrite 5 different example questions about this database, each followed "
                          "by the SQLite query that answers it, as `Q: ...` and `SQL: ...` lines.",
                          "text"};
    PipelineStep advanced = reasoned;
    advanced.user = std::string("Examples for this database:\n{examples}\n\n") + kGenerateReasoned;
    return std::vector<Pipeline>{
        {"sql-basic", "schema linking, then one query", {schema_linking(), basic}},
        {"sql-intermediate", "schema linking, divide-and-conquer reasoning, up to 3 repairs fed with the SQLite error",
         {schema_linking(), reasoned}},
        {"sql-advanced", "schema linking, 5 generated question/SQL examples, then as intermediate",
         {schema_linking(), examples, advanced}},
    };
  }();
  return table;
}

const Pipeline* find_pipeline(const std::string& name) {
  for (const auto& p : builtin_pipelines())
    if (p.name == name) return &p;
  return nullptr;
}

PipelineHooks sql_hooks(const std::string& db_path) {
  PipelineHooks h;
  h.check = [db_path](const std::string& sql) -> std::optional<std::string> {
    if (trim(sql).empty()) return std::string("the answer holds no SQL query");
    SqlResult r = run_sql(db_path, sql);
    if (!r.ok) return r.error;
    return std::nullopt;
  };
  h.vote_key = [db_path](const std::string& sql) {
    SqlResult r = run_sql(db_path, sql);
    std::string key = "rows:";
    for (const auto& row : r.rows) {
      for (const auto& v : row) key += v + "\x1f";
      key += "\x1e";
    }
    return key;
  };
  return h;
}

size_t linked_tables(const std::string& link_answer) {
  std::set<std::string> tables;
  for (const auto& line : split(link_answer, '\n')) {
    const std::string t = trim(line);
    const auto dot = t.find('.');
    if (dot != std::string::npos && dot > 0) tables.insert(to_lower(t.substr(0, dot)));
  }
  return tables.size();
}

}  // namespace reckon
