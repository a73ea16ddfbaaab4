#include "results/sqlite.h"

#include <unistd.h>

#include "common/text.h"

#include <array>
#include <stdexcept>

#include "common/error.h"

namespace reckon {
namespace {

// Why a write failed, in words a user can act on; the transaction was rolled back either way.
std::string storage_hint(int extended_code) {
  if (extended_code == SQLITE_FULL) return " (disk full: the database keeps its last committed state)";
  if ((extended_code & 0xff) == SQLITE_IOERR)
    return " (could not write: disk full, a file size limit or an I/O error; the database keeps its last committed "
           "state)";
  return "";
}

[[noreturn]] void fail(sqlite3* db, const std::string& what) {
  const char* file = sqlite3_db_filename(db, "main");
  std::string msg = (file && *file ? std::string(file) + ": " : std::string()) + what + ": " + sqlite3_errmsg(db);
  throw InputError(msg + storage_hint(sqlite3_extended_errcode(db)));
}

}  // namespace

Statement::Statement(sqlite3* db, const std::string& sql) : db_(db) {
  if (sqlite3_prepare_v2(db, sql.c_str(), static_cast<int>(sql.size()), &stmt_, nullptr) != SQLITE_OK)
    fail(db, "SQL error in '" + sql.substr(0, 80) + "'");
}
Statement::~Statement() { sqlite3_finalize(stmt_); }
Statement::Statement(Statement&& o) noexcept : db_(o.db_), stmt_(o.stmt_) { o.stmt_ = nullptr; }

Statement& Statement::bind(int i, const std::string& v) {
  // Text in the store is UTF-8, whatever arrived (a proxy's bytes in an error, a cut excerpt), so every
  // export and JSON view of it works; valid text (nearly all) is bound as it is.
  if (invalid_utf8_at(v)) {
    const std::string fixed = valid_utf8(v);
    sqlite3_bind_text(stmt_, i, fixed.data(), static_cast<int>(fixed.size()), SQLITE_TRANSIENT);
    return *this;
  }
  sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  return *this;
}
Statement& Statement::bind_in_place(int i, const std::string& v) {
  if (invalid_utf8_at(v)) return bind(i, v);  // mended into a copy of its own
  sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
  return *this;
}
Statement& Statement::bind(int i, const char* v) { return bind(i, std::string(v)); }
Statement& Statement::bind(int i, int64_t v) {
  sqlite3_bind_int64(stmt_, i, v);
  return *this;
}
Statement& Statement::bind(int i, double v) {
  sqlite3_bind_double(stmt_, i, v);
  return *this;
}
Statement& Statement::bind_blob(int i, const std::string& bytes) {
  sqlite3_bind_blob64(stmt_, i, bytes.data(), bytes.size(), SQLITE_TRANSIENT);
  return *this;
}

namespace {
// Lowercase hex digits' values, -1 for every other byte (keys are hashed twice a row: a table, not branches).
constexpr std::array<int8_t, 256> kHexValue = [] {
  std::array<int8_t, 256> t{};
  t.fill(-1);
  for (int c = 0; c < 10; ++c) t['0' + c] = static_cast<int8_t>(c);
  for (int c = 0; c < 6; ++c) t['a' + c] = static_cast<int8_t>(10 + c);
  return t;
}();
int hex_digit(char c) { return kHexValue[static_cast<unsigned char>(c)]; }
}  // namespace

bool key_bytes(std::string_view hex, unsigned char (&out)[32]) {
  if (hex.size() != 64) return false;
  for (size_t k = 0; k < 32; ++k) {
    const int hi = hex_digit(hex[2 * k]), lo = hex_digit(hex[2 * k + 1]);
    if (hi < 0 || lo < 0) return false;
    out[k] = static_cast<unsigned char>(hi << 4 | lo);
  }
  return true;
}

void register_key_function(sqlite3* db) {
  auto fn = [](sqlite3_context* ctx, int, sqlite3_value** argv) {
    unsigned char bytes[32];
    if (sqlite3_value_type(argv[0]) == SQLITE_TEXT) {
      const auto* p = reinterpret_cast<const char*>(sqlite3_value_text(argv[0]));
      if (key_bytes(std::string_view(p, static_cast<size_t>(sqlite3_value_bytes(argv[0]))), bytes)) {
        sqlite3_result_blob(ctx, bytes, sizeof bytes, SQLITE_TRANSIENT);
        return;
      }
    }
    sqlite3_result_value(ctx, argv[0]);
  };
  sqlite3_create_function(db, "reckon_key", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC, nullptr, fn, nullptr, nullptr);
}

Statement& Statement::bind_key(int i, const std::string& key) {
  unsigned char bytes[32];
  if (!key_bytes(key, bytes)) return bind(i, key);
  sqlite3_bind_blob(stmt_, i, bytes, sizeof bytes, SQLITE_TRANSIENT);
  return *this;
}

std::string Statement::key(int col) const {
  if (sqlite3_column_type(stmt_, col) != SQLITE_BLOB || sqlite3_column_bytes(stmt_, col) != 32) return text(col);
  return to_hex(static_cast<const unsigned char*>(sqlite3_column_blob(stmt_, col)), 32);
}

std::string Statement::blob(int col) const {
  const void* p = sqlite3_column_blob(stmt_, col);
  return p ? std::string(static_cast<const char*>(p), static_cast<size_t>(sqlite3_column_bytes(stmt_, col))) : "";
}

Statement& Statement::bind_null(int i) {
  sqlite3_bind_null(stmt_, i);
  return *this;
}

bool Statement::step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  fail(db_, "database error");
}
void Statement::run() {
  while (step()) {
  }
}
void Statement::reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

bool Statement::is_null(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
int Statement::column_type(int col) const { return sqlite3_column_type(stmt_, col); }
int64_t Statement::int64(int col) const { return sqlite3_column_int64(stmt_, col); }
double Statement::real(int col) const { return sqlite3_column_double(stmt_, col); }
std::string Statement::text(int col) const {
  auto* p = sqlite3_column_text(stmt_, col);
  return p ? std::string(reinterpret_cast<const char*>(p), static_cast<size_t>(sqlite3_column_bytes(stmt_, col))) : "";
}
std::string_view Statement::text_view(int col) const {
  auto* p = sqlite3_column_text(stmt_, col);
  return p ? std::string_view(reinterpret_cast<const char*>(p), static_cast<size_t>(sqlite3_column_bytes(stmt_, col))) : std::string_view();
}
std::optional<int64_t> Statement::opt_int64(int col) const {
  if (is_null(col)) return std::nullopt;
  return int64(col);
}
std::optional<double> Statement::opt_real(int col) const {
  if (is_null(col)) return std::nullopt;
  return real(col);
}
int Statement::columns() const { return sqlite3_column_count(stmt_); }
std::string Statement::column_name(int col) const { return sqlite3_column_name(stmt_, col); }

namespace {

// About 10 s in all: 100 µs steps for the first 50 ms, then 2 ms steps.
int wait_for_lock(void*, int tries) {
  if (tries >= 500 + 4975) return 0;
  usleep(tries < 500 ? 100 : 2000);
  return 1;
}

}  // namespace

Database::Database(const std::string& path, bool read_only) : path_(path) {
  // SQLite counts its memory under a global mutex on every allocation (~80 a request row); reckon never
  // reads the counts. Set once, before SQLite's first use in the process (later calls are refused, harmless).
  static const int memstatus_off = sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
  (void)memstatus_off;
  // A connection is used by one thread at a time (each thread opens its own; the dashboard's server
  // threads take a lock around their shared one), so SQLite's own per-call mutex is not needed.
  int flags = (read_only ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE)) | SQLITE_OPEN_NOMUTEX;
  if (sqlite3_open_v2(path.c_str(), &db_, flags, nullptr) != SQLITE_OK) {
    std::string msg = path + ": cannot open database (" + (db_ ? sqlite3_errmsg(db_) : "out of memory") + ")";
    sqlite3_close(db_);
    db_ = nullptr;
    throw InputError(msg);
  }
  sqlite3_extended_result_codes(db_, 1);
  // Readers and the writer share the file (WAL); wait rather than fail on a brief lock — in steps of
  // 100 µs at first, since the locks here are short transactions (SQLite's own timeout sleeps 1 to
  // 100 ms a step, which let several runners' claims wait far longer than the lock was held).
  sqlite3_busy_handler(db_, wait_for_lock, nullptr);
  try {
    user_version();  // reading the header proves the file is a database
  } catch (const InputError&) {
    sqlite3_close(db_);
    db_ = nullptr;
    throw InputError(path + ": not a reckon database (not SQLite, or damaged)");
  }
}

Database::~Database() {
  cache_.clear();  // finalized before the connection closes
  sqlite3_close(db_);
}

Statement& Database::cached(const std::string& sql) {
  auto it = cache_.find(sql);
  if (it == cache_.end()) it = cache_.emplace(sql, std::make_unique<Statement>(db_, sql)).first;
  it->second->reset();
  return *it->second;
}

void Database::exec(const std::string& sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    throw InputError(path_ + ": " + msg + " (in '" + sql.substr(0, 40) + "')" + storage_hint(sqlite3_extended_errcode(db_)));
  }
}

int64_t Database::user_version() {
  Statement s(db_, "PRAGMA user_version");
  s.step();
  return s.int64(0);
}

Transaction::Transaction(Database& db) : db_(db) { db_.exec("BEGIN IMMEDIATE"); }
Transaction::~Transaction() {
  if (!done_) sqlite3_exec(db_.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
}
void Transaction::commit() {
  db_.exec("COMMIT");
  done_ = true;
}

}  // namespace reckon
