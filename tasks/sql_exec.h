#pragma once
// Text-to-SQL execution accuracy on SQLite: predicted and gold SQL run on a read-only, immutable
// connection with a time limit; only reading statements are authorized (no ATTACH, PRAGMA writes,
// extensions or writes), so a predicted DROP TABLE cannot damage the database.
#include <optional>
#include <string>
#include <vector>

namespace reckon {

struct SqlResult {
  bool ok = false;
  std::string error;                          // syntax error, not authorized, time limit, ...
  std::vector<std::vector<std::string>> rows; // values rendered canonically (numbers as %.10g)
};

// Runs one statement; `timeout_s` bounds its wall time (progress handler).
SqlResult run_sql(const std::string& db_path, const std::string& sql, double timeout_s = 5.0);

enum class SqlCompare {
  kSet,      // BIRD: result rows compared as sets
  kBag,      // Spider: as multisets, and in order only when the gold query has ORDER BY
};

// 1 when the predicted query's result matches the gold query's; errors and timeouts score 0.
double sql_execution_match(const std::string& db_path, const std::string& predicted, const std::string& gold, SqlCompare rule,
                           double timeout_s = 5.0);

// The SQL in a response: a ```sql block, else the whole text; one trailing ';' removed.
std::string extract_sql(const std::string& response);

}  // namespace reckon
