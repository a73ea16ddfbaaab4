#include "tasks/sql_exec.h"

#include <sqlite3.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <set>

#include "common/sha256.h"
#include "tasks/task.h"
#include "tests/mirror_data.h"
#include "tests/support.h"

using namespace reckon;

namespace {

struct GoldRun {
  size_t items = 0, matched = 0, shuffled = 0, informative = 0, empty_gold = 0;
  std::vector<std::string> failed;
};

GoldRun gold_against_itself(const std::vector<Item>& items, const char* scorer) {
  GoldRun g;
  g.items = items.size();
  const ScorerInfo* s = find_scorer(scorer);
  for (size_t i = 0; i < items.size(); ++i) {
    const Item& it = items[i];
    if (*s->score(it, "```sql\n" + it.extra["gold"].get<std::string>() + "\n```").value == 1) {
      ++g.matched;
    } else {
      g.failed.push_back(it.id + ": " + it.extra["gold"].get<std::string>());
    }
    // Shuffled answers: only items whose gold result is not empty can tell them apart.
    SqlResult gold = run_sql(it.extra["db"].get<std::string>(), it.extra["gold"].get<std::string>());
    if (gold.ok && gold.rows.empty()) {
      ++g.empty_gold;
      continue;
    }
    ++g.informative;
    const Item& other = items[(i + items.size() / 2 + 1) % items.size()];
    g.shuffled += *s->score(it, other.extra["gold"].get<std::string>()).value == 1;
  }
  return g;
}

}  // namespace

TEST_CASE("Spider rule: bags, order only under ORDER BY — BIRD rule: sets", "[sql]") {
  test::TempDir tmp;
  std::string db = tmp.file("t.db");
  {
    std::string setup = "sqlite3 " + db + " \"CREATE TABLE t(x INT, y TEXT); INSERT INTO t VALUES (1,'a'),(2,'b'),(2,'b'),(3,'c');\"";
    REQUIRE(std::system(setup.c_str()) == 0);
  }
  CHECK(sql_execution_match(db, "SELECT x FROM t ORDER BY x DESC", "SELECT x FROM t", SqlCompare::kBag) == 1);
  CHECK(sql_execution_match(db, "SELECT x FROM t ORDER BY x DESC", "SELECT x FROM t ORDER BY x", SqlCompare::kBag) == 0);
  CHECK(sql_execution_match(db, "SELECT DISTINCT x FROM t", "SELECT x FROM t", SqlCompare::kBag) == 0);
  CHECK(sql_execution_match(db, "SELECT DISTINCT x FROM t", "SELECT x FROM t", SqlCompare::kSet) == 1);
  CHECK(sql_execution_match(db, "SELECT 2.0", "SELECT 2", SqlCompare::kSet) == 1);
  CHECK(sql_execution_match(db, "SELECT nope FROM t", "SELECT x FROM t", SqlCompare::kSet) == 0);
}

TEST_CASE("predicted SQL cannot write, attach, load extensions, or run forever", "[sql][security]") {
  test::TempDir tmp;
  std::string db = tmp.file("t.db");
  REQUIRE(std::system(("sqlite3 " + db + " \"CREATE TABLE singer(x INT); INSERT INTO singer VALUES (1);\"").c_str()) == 0);
  std::string before = sha256_file_hex(db);
  for (const char* evil : {"DROP TABLE singer", "DELETE FROM singer", "INSERT INTO singer VALUES (2)",
                           "ATTACH DATABASE '/tmp/x.db' AS x", "PRAGMA writable_schema = 1", "SELECT load_extension('x')",
                           "CREATE TABLE z(a)", "SELECT 1; DROP TABLE singer"}) {
    INFO(evil);
    SqlResult r = run_sql(db, evil);
    CHECK_FALSE(r.ok);
    CHECK(sql_execution_match(db, evil, "SELECT x FROM singer", SqlCompare::kSet) == 0);
  }
  CHECK(sha256_file_hex(db) == before);

  // A loadable extension that exists and leaves a marker when it runs: it loads on a plain connection that
  // allows extensions, and predicted SQL cannot load it.
  const std::string marker = tmp.file("loaded.marker");
  setenv("RECKON_PROBE_MARKER", marker.c_str(), 1);
  {
    sqlite3* plain = nullptr;
    REQUIRE(sqlite3_open(db.c_str(), &plain) == SQLITE_OK);
    sqlite3_enable_load_extension(plain, 1);
    char* err = nullptr;
    const std::string load = std::string("SELECT load_extension('") + SQLITE_PROBE_EXTENSION + "')";
    const int rc = sqlite3_exec(plain, load.c_str(), nullptr, nullptr, &err);
    INFO((err ? err : ""));
    sqlite3_free(err);
    sqlite3_close(plain);
    REQUIRE(rc == SQLITE_OK);
    REQUIRE(std::filesystem::exists(marker));  // the probe is real
    std::filesystem::remove(marker);
  }
  for (const std::string& evil : {std::string("SELECT load_extension('") + SQLITE_PROBE_EXTENSION + "')",
                                 std::string("SELECT load_extension('") + SQLITE_PROBE_EXTENSION + "', 'sqlite3_extension_init')",
                                 std::string("SELECT x FROM singer WHERE load_extension('") + SQLITE_PROBE_EXTENSION + "') IS NULL"}) {
    INFO(evil);
    SqlResult r = run_sql(db, evil);
    CHECK_FALSE(r.ok);
    CHECK(sql_execution_match(db, evil, "SELECT x FROM singer", SqlCompare::kSet) == 0);
    CHECK_FALSE(std::filesystem::exists(marker));
  }
  unsetenv("RECKON_PROBE_MARKER");

  SqlResult slow = run_sql(db, "WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c) SELECT COUNT(*) FROM c", 0.3);
  CHECK_FALSE(slow.ok);
  CHECK(slow.error == "time limit exceeded");
}

TEST_CASE("predicted SQL stays within its time and memory: huge values refused, expensive steps interrupted", "[sql][security]") {
  test::TempDir tmp;
  std::string db = tmp.file("t.db");
  REQUIRE(std::system(("sqlite3 " + db + " \"CREATE TABLE t(x INT); WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c "
                                         "LIMIT 100) INSERT INTO t SELECT n FROM c;\"").c_str()) == 0);
  // Each of these once ran for minutes or took gigabytes (102.7 s against a 5 s limit; 5.7 GB then bad_alloc).
  for (const char* heavy : {"SELECT length(hex(randomblob(300000000 + x))) FROM t", "SELECT zeroblob(100000000) FROM t",
                            "SELECT length(hex(zeroblob(20000000))) FROM t"}) {
    INFO(heavy);
    SqlResult r = run_sql(db, heavy, 5.0);
    CHECK_FALSE(r.ok);
    CHECK(r.error.find("too big") != std::string::npos);
    CHECK(sql_execution_match(db, heavy, "SELECT x FROM t", SqlCompare::kSet) == 0);
  }
  // Values just under the ceiling, 100 rows of 15 MB of hex each: far more work than 0.5 s allows, and
  // each step is a single long function call the progress handler cannot split.
  const auto start = std::chrono::steady_clock::now();
  SqlResult slow = run_sql(db, "SELECT length(hex(randomblob(7000000 + t.x))) FROM t, t AS u", 0.5);
  const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  CHECK_FALSE(slow.ok);
  CHECK(slow.error == "time limit exceeded");
  CHECK(took < 3.0);  // the limit plus at most a few of those steps (10,000 steps would take minutes)
  // Many rows of moderate size: the result kept is bounded, not the machine's memory.
  SqlResult wide = run_sql(db, "SELECT hex(randomblob(1000000)) FROM t, t AS u", 30);
  CHECK_FALSE(wide.ok);
  CHECK(wide.error == "result larger than its limit (1,000,000 rows or 64 MB)");
  CHECK(wide.rows.empty());
}

TEST_CASE("gold SQL scores 100% against itself on Spider-DK (but the broken query), GeoQuery (but MySQL-only ones) and Restaurants",
          "[sql][text2sql]") {
  test::TempDir cache;
  DataAccess d = test::mirror_access(cache);
  GoldRun dk = gold_against_itself(load_items(*find_builtin_task("spider-dk"), d), "sql_bag");
  CHECK(dk.items == 127);
  CHECK(dk.failed.size() == 1);
  GoldRun geo = gold_against_itself(load_items(*find_builtin_task("geoquery"), d), "sql_set");
  CHECK(geo.items == 877);
  std::set<std::string> geo_queries;
  for (const auto& f : geo.failed) geo_queries.insert(f.substr(f.find(':')));
  CHECK(geo_queries.size() <= 5);
  GoldRun rest = gold_against_itself(load_items(*find_builtin_task("restaurants"), d), "sql_set");
  CHECK(rest.items == 378);
  CHECK(rest.failed.empty());
  for (const auto& f : rest.failed) WARN("Restaurants failure: " << f);
  for (const auto* g : {&dk, &geo, &rest}) {
    CHECK(g->informative > g->items / 3);
    CHECK(g->shuffled < g->informative / 10);
  }
  WARN("Restaurants: " << rest.empty_gold << " of " << rest.items
                       << " gold queries return no rows on the published database, so execution cannot tell them apart");
  for (const auto& f : dk.failed) WARN("Spider-DK gold query that fails on its own database: " << f);
  for (const auto& f : geo_queries) WARN("GeoQuery gold query SQLite cannot run (MySQL-only)" << f);
}
