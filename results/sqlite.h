#pragma once
// Thin RAII over the SQLite C API: a connection, prepared statements, transactions.
#include <sqlite3.h>

#include <cstdint>
#include <optional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

namespace reckon {

class Statement {
 public:
  Statement(sqlite3* db, const std::string& sql);
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  Statement(Statement&& o) noexcept;

  // Binding is 1-based, as in SQLite.
  Statement& bind(int i, const std::string& v);
  Statement& bind(int i, const char* v);
  Statement& bind(int i, int64_t v);
  Statement& bind(int i, int v) { return bind(i, static_cast<int64_t>(v)); }
  Statement& bind(int i, double v);
  Statement& bind_null(int i);
  // Text SQLite reads where it is instead of copying it first: `v` must stay alive and unchanged until
  // the statement has run (a row the caller holds). For the per-row writes, ~20 texts a row.
  Statement& bind_in_place(int i, const std::string& v);
  Statement& bind_in_place(int i, const std::optional<std::string>& v) { return v ? bind_in_place(i, *v) : bind_null(i); }
  Statement& bind_blob(int i, const std::string& bytes);
  // A store key (fingerprint, request key): SHA-256 hex in memory, its 32 bytes in the store, so the
  // indexes on them compare and keep half the bytes. Anything but 64 lowercase hex digits (keys made by
  // hand) is kept as the text it is; `key` reads either back as it was bound.
  Statement& bind_key(int i, const std::string& key);
  Statement& bind_key(int i, const std::optional<std::string>& key) { return key ? bind_key(i, *key) : bind_null(i); }
  template <class T>
  Statement& bind(int i, const std::optional<T>& v) {
    return v ? bind(i, *v) : bind_null(i);
  }

  bool step();  // true while a row is available; throws on error
  void run();   // step to completion
  void reset();

  bool is_null(int col) const;
  int column_type(int col) const;  // SQLITE_INTEGER, SQLITE_FLOAT, SQLITE_TEXT, SQLITE_BLOB, SQLITE_NULL
  int64_t int64(int col) const;
  double real(int col) const;
  std::string text(int col) const;
  std::string_view text_view(int col) const;  // valid until the next step or reset
  std::string blob(int col) const;
  std::string key(int col) const;
  std::optional<int64_t> opt_int64(int col) const;
  std::optional<double> opt_real(int col) const;
  int columns() const;
  std::string column_name(int col) const;

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
};

// The 32 bytes a 64-digit lowercase hex key stands for; false for any other text.
bool key_bytes(std::string_view hex, unsigned char (&out)[32]);
// Registers reckon_key(x) on a connection: the stored form of a key given as text (the migration that
// moved keys to blobs, and queries by hand: WHERE fingerprint = reckon_key('9f86…')).
void register_key_function(sqlite3* db);

class Database {
 public:
  // Opens (read-only, or read-write creating the file). Throws InputError naming the path.
  Database(const std::string& path, bool read_only);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  sqlite3* handle() const { return db_; }
  const std::string& path() const { return path_; }
  void exec(const std::string& sql);
  Statement prepare(const std::string& sql) { return Statement(db_, sql); }
  // A statement compiled once per connection and reset for each use: for the writes done per row
  // (compiling an upsert costs more than running it). Run it to completion before the next use.
  Statement& cached(const std::string& sql);
  int64_t user_version();
  int64_t last_insert_rowid() const { return sqlite3_last_insert_rowid(db_); }
  int changes() const { return sqlite3_changes(db_); }

 private:
  sqlite3* db_ = nullptr;
  std::string path_;
  std::unordered_map<std::string, std::unique_ptr<Statement>> cache_;
};

// BEGIN IMMEDIATE on construction; ROLLBACK unless commit() was called.
class Transaction {
 public:
  explicit Transaction(Database& db);
  ~Transaction();
  void commit();

 private:
  Database& db_;
  bool done_ = false;
};

}  // namespace reckon
