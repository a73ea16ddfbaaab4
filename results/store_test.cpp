#include "results/store.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <chrono>
#include <iostream>
#include <optional>
#include <sstream>
#include <thread>

#include "common/error.h"
#include "results/export.h"
#include "results/schema.h"
#include "tests/support.h"

using namespace reckon;

namespace {

std::vector<std::string> view_columns(Store& s, const std::string& view) {
  auto st = s.db().prepare("SELECT name FROM pragma_table_info(?)");
  st.bind(1, view);
  std::vector<std::string> cols;
  while (st.step()) cols.push_back(st.text(0));
  return cols;
}

}  // namespace

TEST_CASE("a new store is in WAL mode at the current schema version", "[store]") {
  test::TempDir tmp;
  Store s(tmp.file("r.db"), Store::Mode::kReadWrite);
  CHECK(s.db().user_version() == schema_version());
  auto mode = s.db().prepare("PRAGMA journal_mode");
  mode.step();
  CHECK(mode.text(0) == "wal");
}

TEST_CASE("the stable views keep their column names", "[store]") {
  test::TempDir tmp;
  Store s(tmp.file("r.db"), Store::Mode::kReadWrite);
  CHECK(view_columns(s, "v_requests") ==
        std::vector<std::string>{"run_id", "campaign", "model", "task", "item_id", "repeat", "status", "attempts",
                                 "http_status", "error", "input_tokens", "cache_read_tokens", "cache_write_tokens",
                                 "output_tokens", "reasoning_tokens", "usage_complete", "cost_usd", "provider_cost_usd",
                                 "latency_ms", "ttft_ms", "finish_reason", "score",
                                 // added at the end (schema 5): the old names and their order stay
                                 "row_kind", "cache_hit", "answer_cost_usd", "usage_note", "created_at", "step", "cost_input_usd", "cost_cache_read_usd", "cost_cache_write_usd",
                                 "cost_output_usd", "cost_reasoning_usd", "cost_fees_usd"});
  CHECK(view_columns(s, "v_model_task") ==
        std::vector<std::string>{"run_id", "model", "task", "n", "accuracy", "cost_usd", "input_tokens", "output_tokens",
                                 "reasoning_tokens", "mean_latency_ms", "errors", "correct"});
  CHECK_FALSE(view_columns(s, "v_costs").empty());
}

TEST_CASE("the views count errors and correct answers, and exports carry no float noise", "[store]") {
  test::TempDir tmp;
  Store s(tmp.file("v.db"), Store::Mode::kReadWrite);
  s.add_run("r1", "test", "unit");
  auto add = [&](const std::string& item, bool ok, std::optional<double> score, double cost) {
    RequestRecord r;
    r.fingerprint = "fp-" + item;
    r.run_id = "r1";
    r.model = "m";
    r.task = "t";
    r.item_id = item;
    r.ok = ok;
    r.created_at = "2026-11-28T16:45:00Z";
    r.usage.usage_complete = ok;
    if (ok) r.cost.total_usd = cost;
    r.score = score;
    s.insert_request(r);
  };
  add("1", true, 1.0, 0.005);
  add("2", true, 0.0, 0.005);
  add("3", true, 1.0, 0.005);
  add("4", false, std::nullopt, 0);
  auto q = s.db().prepare("SELECT n, errors, correct, accuracy FROM v_model_task");
  REQUIRE(q.step());
  CHECK(q.int64(0) == 3);
  CHECK(q.int64(1) == 1);
  CHECK(q.int64(2) == 2);
  CHECK(q.real(3) == Approx(2.0 / 3.0));
  auto when = s.db().prepare("SELECT created_at FROM v_requests WHERE item_id = '1'");
  REQUIRE(when.step());
  CHECK(when.text(0) == "2026-11-28T16:45:00Z");
  // 0.005 × 3 sums to 0.015000000000000001 in binary floating point; the export says 0.015.
  std::ostringstream csv, jsonl;
  export_view(s, "v_model_task", "csv", csv);
  export_view(s, "v_model_task", "jsonl", jsonl);
  CHECK(csv.str().find(",0.015,") != std::string::npos);
  CHECK(csv.str().find("0.0150000") == std::string::npos);
  CHECK(jsonl.str().find("\"cost_usd\":0.015") != std::string::npos);
}

TEST_CASE("a store written by a newer reckon is refused with a clear message", "[store]") {
  test::TempDir tmp;
  std::string path = tmp.file("future.db");
  {
    Store s(path, Store::Mode::kReadWrite);
    s.db().exec("PRAGMA user_version = 999");
  }
  CHECK_THROWS_WITH(Store(path, Store::Mode::kReadWrite),
                    Catch::Contains("newer reckon") && Catch::Contains("999"));
  CHECK_THROWS_WITH(Store(path, Store::Mode::kReadOnly), Catch::Contains("newer reckon"));
}

TEST_CASE("an empty file is migrated forward and a non-database file is refused", "[store]") {
  test::TempDir tmp;
  std::string empty = tmp.write("empty.db", "");
  CHECK(Store(empty, Store::Mode::kReadWrite).db().user_version() == schema_version());
  std::string junk = tmp.write("junk.db", std::string(4096, 'x'));
  CHECK_THROWS_WITH(Store(junk, Store::Mode::kReadWrite), Catch::Contains("not a reckon database"));
  CHECK_THROWS_WITH(Store(tmp.file("missing.db"), Store::Mode::kReadOnly), Catch::Contains("no such database"));
}

TEST_CASE("a request is stored once per fingerprint, with unknown usage as NULL", "[store]") {
  test::TempDir tmp;
  Store s(tmp.file("r.db"), Store::Mode::kReadWrite);
  s.add_run("run1", "test", "unit");
  RequestRecord r;
  r.fingerprint = "fp1";
  r.run_id = "run1";
  r.model = "m";
  r.task = "t";
  r.item_id = "1";
  r.created_at = "2026-11-28T00:00:00Z";
  r.usage.usage_complete = false;
  r.ok = false;
  r.error = "stream cut";
  r.attempts = 3;
  CHECK(s.insert_request(r));
  CHECK_FALSE(s.insert_request(r));
  auto q = s.db().prepare("SELECT status, attempts, input_tokens, cost_usd, usage_complete, error FROM v_requests");
  REQUIRE(q.step());
  CHECK(q.text(0) == "error");
  CHECK(q.int64(1) == 3);
  CHECK(q.is_null(2));
  CHECK(q.is_null(3));
  CHECK(q.int64(4) == 0);
  CHECK(q.text(5) == "stream cut");
  CHECK_FALSE(q.step());
}

TEST_CASE("a store at an older schema version is migrated forward with its rows kept", "[store]") {
  test::TempDir tmp;
  std::string path = tmp.file("v1.db");
  {
    Database db(path, false);
    db.exec(migrations()[0]);
    db.exec("PRAGMA user_version = 1");
    db.exec("INSERT INTO requests(fingerprint, run_id, model, task, item_id, status, usage_complete) VALUES('f','r','m','t','1','ok',1)");
  }
  CHECK_THROWS_WITH(Store(path, Store::Mode::kReadOnly), Catch::Contains("older"));
  Store s(path, Store::Mode::kReadWrite);
  CHECK(s.db().user_version() == schema_version());
  auto q = s.db().prepare("SELECT COUNT(*), MAX(cache_hit) FROM requests");
  q.step();
  CHECK(q.int64(0) == 1);
  CHECK(q.int64(1) == 0);
}

TEST_CASE("a writer waits out another connection's lock (SQLITE_BUSY) instead of failing", "[store]") {
  test::TempDir tmp;
  Store s(tmp.file("busy.db"), Store::Mode::kReadWrite);
  s.add_run("run1", "test", "unit");
  Database other(tmp.file("busy.db"), false);
  other.exec("BEGIN IMMEDIATE");  // holds the write lock
  other.exec("INSERT INTO runs(id, kind, source) VALUES ('run2', 'test', 'other')");
  std::thread release([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(400));
    other.exec("COMMIT");
  });
  RequestRecord r;
  r.fingerprint = "fp-busy";
  r.run_id = "run1";
  r.model = "m";
  r.task = "t";
  r.item_id = "1";
  r.created_at = "2026-11-28T00:00:00Z";
  const auto start = std::chrono::steady_clock::now();
  bool inserted = false;
  CHECK_NOTHROW(inserted = s.insert_request(r));
  release.join();
  CHECK(inserted);
  CHECK(std::chrono::steady_clock::now() - start >= std::chrono::milliseconds(300));  // it waited for the lock
  auto n = s.db().prepare("SELECT (SELECT COUNT(*) FROM requests), (SELECT COUNT(*) FROM runs)");
  n.step();
  CHECK(n.int64(0) == 1);
  CHECK(n.int64(1) == 2);  // both writers' rows are there
}

TEST_CASE("a cached statement is compiled once and starts each use reset, bindings cleared", "[store]") {
  test::TempDir tmp;
  Store s(tmp.file("r.db"), Store::Mode::kReadWrite);
  const std::string sql = "INSERT INTO tasks(name, spec) VALUES(?, ?) ON CONFLICT(name) DO NOTHING";
  Statement& first = s.db().cached(sql);
  first.bind(1, "a").bind(2, "with a description").run();
  Statement& again = s.db().cached(sql);
  CHECK(&again == &first);
  again.bind(1, "b").run();  // parameter 2 not bound this time: NULL, not the last use's value
  auto q = s.db().prepare("SELECT name, spec FROM tasks ORDER BY name");
  REQUIRE(q.step());
  CHECK(q.text(1) == "with a description");
  REQUIRE(q.step());
  CHECK(q.text(0) == "b");
  CHECK(q.is_null(1));
}

TEST_CASE("text that is not UTF-8 is stored with U+FFFD, so every JSON view of it still works", "[store][security]") {
  test::TempDir tmp;
  Store s(tmp.file("u.db"), Store::Mode::kReadWrite);
  RequestRecord r;
  r.fingerprint = "fp-utf8";
  r.run_id = "run1";
  r.model = "m";
  r.task = "t";
  r.item_id = "1";
  r.created_at = "2026-11-28T00:00:00Z";
  r.ok = false;
  r.error = "proxy said \xff\xfe!";      // two bytes no UTF-8 text holds
  r.response = "cut at 80 bytes: \xE2\x82";  // the first two bytes of a three-byte euro sign
  REQUIRE(s.insert_request(r));
  auto q = s.db().prepare("SELECT error, response FROM requests WHERE fingerprint = 'fp-utf8'");
  REQUIRE(q.step());
  CHECK(q.text(0) == "proxy said \xEF\xBF\xBD\xEF\xBF\xBD!");
  CHECK(q.text(1) == "cut at 80 bytes: \xEF\xBF\xBD\xEF\xBF\xBD");
  CHECK_NOTHROW(nlohmann::json({{"e", q.text(0)}, {"r", q.text(1)}}).dump());
}

TEST_CASE("a request's keys are kept as their 32 bytes and read back as the hex they were", "[store]") {
  test::TempDir tmp;
  Store s(tmp.file("k.db"), Store::Mode::kReadWrite);
  // SHA-256("abc") and SHA-256(""), from FIPS 180-2's examples.
  const std::string abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
  const std::string empty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
  RequestRecord r;
  r.fingerprint = abc;
  r.request_key = empty;
  r.run_id = "run1", r.model = "m", r.task = "t", r.item_id = "1", r.created_at = "2026-12-03T00:00:00Z";
  REQUIRE(s.insert_request(r));
  RequestRecord hand = r;
  hand.fingerprint = "fp-by-hand";  // not a hash: stays text
  hand.request_key = "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD";  // upper case: stays text
  REQUIRE(s.insert_request(hand));
  auto q = s.db().prepare(
      "SELECT typeof(fingerprint), length(fingerprint), hex(fingerprint), typeof(request_key), hex(request_key), fingerprint, "
      "request_key FROM requests ORDER BY id");
  REQUIRE(q.step());
  CHECK(q.text(0) == "blob");
  CHECK(q.int64(1) == 32);
  CHECK(q.text(2) == "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD");
  CHECK(q.text(3) == "blob");
  CHECK(q.text(4) == "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855");
  CHECK(q.key(5) == abc);
  CHECK(q.key(6) == empty);
  REQUIRE(q.step());
  CHECK(q.text(0) == "text");
  CHECK(q.key(5) == "fp-by-hand");
  CHECK(q.key(6) == "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD");
  // The same fingerprint again is the same row, whichever way it is written down.
  CHECK_FALSE(s.insert_request(r));
  r.ok = false;
  s.replace_request(r);
  auto n = s.db().prepare("SELECT COUNT(*), SUM(status = 'error') FROM requests WHERE fingerprint = reckon_key(?)");
  n.bind(1, abc);
  REQUIRE(n.step());
  CHECK(n.int64(0) == 1);
  CHECK(n.int64(1) == 1);
}

TEST_CASE("a store whose keys an older reckon wrote as hex text gets them as bytes, and still finds them", "[store]") {
  test::TempDir tmp;
  const std::string path = tmp.file("v8.db");
  const std::string fp = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
  {
    Database db(path, false);
    for (size_t v = 0; v < 8; ++v) db.exec(migrations()[v]);
    db.exec("PRAGMA user_version = 8");
    db.exec("INSERT INTO requests(fingerprint, request_key, run_id, model, task, item_id, status, usage_complete) VALUES('" +
            fp + "', NULL, 'r', 'm', 't', '1', 'ok', 1), ('f', 'k', 'r', 'm', 't', '2', 'ok', 1)");
  }
  Store s(path, Store::Mode::kReadWrite);
  auto q = s.db().prepare("SELECT typeof(fingerprint), hex(fingerprint), typeof(request_key) FROM requests ORDER BY item_id");
  REQUIRE(q.step());
  CHECK(q.text(0) == "blob");
  CHECK(q.text(1) == "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD");
  CHECK(q.text(2) == "null");
  REQUIRE(q.step());
  CHECK(q.text(0) == "text");  // keys made by hand are left as they were
  CHECK(q.text(1) == "66");
  RequestRecord again;
  again.fingerprint = fp;
  again.run_id = "r", again.model = "m", again.task = "t", again.item_id = "1";
  CHECK_FALSE(s.insert_request(again));  // the row written before the migration holds its place
  auto cache = s.db().prepare("PRAGMA cache_size");
  REQUIRE(cache.step());
  CHECK(cache.int64(0) == -16384);  // the migration's larger cache given back
}

TEST_CASE("opening an older store waits for another process's write lock beyond the busy timeout, saying so", "[store][slow]") {
  test::TempDir tmp;
  const std::string path = tmp.file("v8-busy.db");
  {
    Database db(path, false);
    for (size_t v = 0; v < 8; ++v) db.exec(migrations()[v]);
    db.exec("PRAGMA user_version = 8");
    db.exec("PRAGMA journal_mode=WAL");
  }
  // Another process upgrading (or writing to) the store holds its write lock for longer than the ~10 s
  // SQLite's busy handler waits here (a 1,000,000-request store takes ~11 s to upgrade).
  Database other(path, false);
  other.exec("BEGIN IMMEDIATE");
  other.exec("INSERT INTO runs(id, kind, source) VALUES ('held', 'test', 'other')");
  std::thread release([&] {
    std::this_thread::sleep_for(std::chrono::seconds(13));
    other.exec("COMMIT");
  });
  std::ostringstream err;
  auto* was = std::cerr.rdbuf(err.rdbuf());
  const auto start = std::chrono::steady_clock::now();
  std::optional<Store> s;
  try {
    s.emplace(path, Store::Mode::kReadWrite);
  } catch (...) {
    std::cerr.rdbuf(was);
    release.join();
    throw;
  }
  std::cerr.rdbuf(was);
  release.join();
  CHECK(std::chrono::steady_clock::now() - start >= std::chrono::milliseconds(12900));  // it waited for the lock
  CHECK_THAT(err.str(), Catch::Contains("another process holds this store's write lock") && Catch::Contains(path));
  CHECK(s->db().user_version() == schema_version());
  auto q = s->db().prepare("SELECT COUNT(*) FROM runs WHERE id = 'held'");
  q.step();
  CHECK(q.int64(0) == 1);  // the other process's write kept
}
