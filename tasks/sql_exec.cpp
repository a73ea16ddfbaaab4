#include "tasks/sql_exec.h"

#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <condition_variable>
#include <mutex>
#include <regex>
#include <thread>

#include "common/text.h"
#include "tasks/extract.h"

namespace reckon {
namespace {

// Only what a SELECT needs.
int authorize(void*, int action, const char* a, const char*, const char*, const char*) {
  switch (action) {
    case SQLITE_SELECT:
    case SQLITE_READ:
    case SQLITE_FUNCTION:
    case SQLITE_RECURSIVE:
      return SQLITE_OK;
    case SQLITE_PRAGMA:
      // Read-only pragmas a model might use to inspect a table; nothing that writes.
      return a && (std::string(a) == "table_info" || std::string(a) == "table_list") ? SQLITE_OK : SQLITE_DENY;
    default:
      return SQLITE_DENY;
  }
}

struct Deadline {
  std::chrono::steady_clock::time_point until;
};

int check_deadline(void* p) { return std::chrono::steady_clock::now() > static_cast<Deadline*>(p)->until ? 1 : 0; }

// The progress handler runs between VM steps, so one expensive step (a huge randomblob, a sort)
// would outlast it: a watchdog interrupts the connection at the deadline from another thread.
class Watchdog {
 public:
  Watchdog(sqlite3* db, std::chrono::steady_clock::time_point until)
      : thread_([this, db, until] {
          std::unique_lock<std::mutex> lock(mu_);
          if (!cv_.wait_until(lock, until, [this] { return done_; })) sqlite3_interrupt(db);
        }) {}
  ~Watchdog() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      done_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  std::thread thread_;
};

// Per-connection ceilings: no single value above 16 MB (randomblob/zeroblob/hex of huge sizes fail
// at once), sorts and temporary tables in a bounded page cache, and the rows kept bounded too.
constexpr int kMaxValueBytes = 16 << 20;
constexpr size_t kMaxResultBytes = 64 << 20;

std::string render(sqlite3_stmt* s, int col) {
  switch (sqlite3_column_type(s, col)) {
    case SQLITE_NULL: return "NULL";
    case SQLITE_INTEGER:
    case SQLITE_FLOAT: {
      char buf[64];
      std::snprintf(buf, sizeof buf, "%.10g", sqlite3_column_double(s, col));
      return buf;
    }
    default: {
      auto* t = sqlite3_column_text(s, col);
      return t ? std::string(reinterpret_cast<const char*>(t), static_cast<size_t>(sqlite3_column_bytes(s, col))) : "";
    }
  }
}

}  // namespace

SqlResult run_sql(const std::string& db_path, const std::string& sql, double timeout_s) {
  SqlResult r;
  sqlite3* db = nullptr;
  std::string uri = "file:" + db_path + "?mode=ro&immutable=1";
  if (sqlite3_open_v2(uri.c_str(), &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, nullptr) != SQLITE_OK) {
    r.error = std::string("cannot open database: ") + (db ? sqlite3_errmsg(db) : "out of memory");
    sqlite3_close(db);
    return r;
  }
  sqlite3_limit(db, SQLITE_LIMIT_LENGTH, kMaxValueBytes);
  sqlite3_limit(db, SQLITE_LIMIT_SQL_LENGTH, 1 << 20);
  sqlite3_exec(db, "PRAGMA cache_size = -16384; PRAGMA temp_store = FILE", nullptr, nullptr, nullptr);  // 16 MB, then spill
  sqlite3_set_authorizer(db, authorize, nullptr);
  Deadline deadline{std::chrono::steady_clock::now() + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                                           std::chrono::duration<double>(timeout_s))};
  sqlite3_progress_handler(db, 100, check_deadline, &deadline);
  Watchdog watchdog(db, deadline.until);
  sqlite3_stmt* stmt = nullptr;
  const char* tail = nullptr;
  if (sqlite3_prepare_v2(db, sql.c_str(), static_cast<int>(sql.size()), &stmt, &tail) != SQLITE_OK) {
    r.error = sqlite3_errmsg(db);
    sqlite3_close(db);
    return r;
  }
  if (tail && !trim(tail).empty() && trim(tail) != ";") {
    r.error = "more than one statement";
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return r;
  }
  if (!stmt) {
    r.error = "empty statement";
    sqlite3_close(db);
    return r;
  }
  int rc;
  size_t bytes = 0;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    std::vector<std::string> row;
    for (int c = 0; c < sqlite3_column_count(stmt); ++c) {
      row.push_back(render(stmt, c));
      bytes += row.back().size() + 16;
    }
    r.rows.push_back(std::move(row));
    if (r.rows.size() > 1000000 || bytes > kMaxResultBytes) {
      rc = SQLITE_TOOBIG;
      break;
    }
  }
  if (rc == SQLITE_DONE) {
    r.ok = true;
  } else {
    r.error = rc == SQLITE_INTERRUPT ? "time limit exceeded"
              : rc == SQLITE_TOOBIG && bytes > 0 ? "result larger than its limit (1,000,000 rows or 64 MB)"
                                                  : sqlite3_errmsg(db);
    r.rows.clear();
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return r;
}

double sql_execution_match(const std::string& db_path, const std::string& predicted, const std::string& gold, SqlCompare rule,
                           double timeout_s) {
  SqlResult g = run_sql(db_path, gold, timeout_s);
  if (!g.ok) return 0;
  SqlResult p = run_sql(db_path, predicted, timeout_s);
  if (!p.ok) return 0;
  if (rule == SqlCompare::kSet) {
    std::sort(g.rows.begin(), g.rows.end());
    g.rows.erase(std::unique(g.rows.begin(), g.rows.end()), g.rows.end());
    std::sort(p.rows.begin(), p.rows.end());
    p.rows.erase(std::unique(p.rows.begin(), p.rows.end()), p.rows.end());
    return g.rows == p.rows ? 1 : 0;
  }
  static const std::regex order_by(R"(\border\s+by\b)", std::regex::icase);
  if (!std::regex_search(gold, order_by)) {
    std::sort(g.rows.begin(), g.rows.end());
    std::sort(p.rows.begin(), p.rows.end());
  }
  return g.rows == p.rows ? 1 : 0;
}

std::string extract_sql(const std::string& response) {
  std::string sql = response;
  if (auto block = extract_code_block(response)) sql = *block;
  sql = trim(sql);
  while (!sql.empty() && sql.back() == ';') sql = trim(sql.substr(0, sql.size() - 1));
  return sql;
}

}  // namespace reckon
