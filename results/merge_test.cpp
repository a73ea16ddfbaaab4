#include "results/merge.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "results/import.h"
#include "tests/support.h"

using namespace reckon;

namespace {

int64_t count(const std::string& db, const std::string& sql) {
  Store s(db, Store::Mode::kReadOnly);
  auto q = s.db().prepare(sql);
  q.step();
  return q.int64(0);
}

std::string shard(const test::TempDir& tmp, const std::string& name, const std::string& rows) {
  std::string csv = tmp.write(name + ".csv", "model,task,item_id,status,input_tokens,output_tokens,score\n" + rows);
  std::string db = tmp.file(name + ".db");
  Store s(db, Store::Mode::kReadWrite);
  ImportOptions o;
  o.run_id = "campaign-run";  // shards of one run share its id
  import_files(s, {csv}, o);
  return db;
}

}  // namespace

TEST_CASE("merging shards unions their requests and a second merge adds nothing", "[merge]") {
  test::TempDir tmp;
  std::string a = shard(tmp, "a", "gpt-5-mini,t,1,ok,10,10,1\ngpt-5-mini,t,2,ok,10,10,0\n");
  std::string b = shard(tmp, "b", "gpt-5-mini,t,3,ok,10,10,1\n");
  std::string out = tmp.file("out.db");
  MergeResult r = merge_stores(out, {a, b});
  CHECK(r.requests_added == 3);
  CHECK(count(out, "SELECT COUNT(*) FROM v_requests WHERE score IS NOT NULL") == 3);
  MergeResult again = merge_stores(out, {a, b});
  CHECK(again.requests_added == 0);
  CHECK(again.requests_skipped == 3);
  CHECK(count(out, "SELECT COUNT(*) FROM requests") == 3);
  CHECK(count(out, "SELECT COUNT(*) FROM scores") == 3);
}

TEST_CASE("a successful request replaces a failed one for the same cell", "[merge]") {
  test::TempDir tmp;
  std::string failed = shard(tmp, "failed", "gpt-5-mini,t,1,error,,,\n");
  std::string retried = shard(tmp, "retried", "gpt-5-mini,t,1,ok,10,10,1\n");
  std::string out = tmp.file("out.db");
  merge_stores(out, {failed});
  MergeResult r = merge_stores(out, {retried});
  CHECK(r.errors_replaced == 1);
  CHECK(count(out, "SELECT COUNT(*) FROM requests") == 1);
  CHECK(count(out, "SELECT COUNT(*) FROM v_requests WHERE status='ok' AND score=1") == 1);
}

TEST_CASE("a bad input stops the merge before anything is written", "[merge]") {
  test::TempDir tmp;
  std::string a = shard(tmp, "a", "gpt-5-mini,t,1,ok,10,10,1\n");
  std::string future = tmp.file("future.db");
  {
    Store s(future, Store::Mode::kReadWrite);
    s.db().exec("PRAGMA user_version = 42");
  }
  std::string out = tmp.file("out.db");
  CHECK_THROWS_WITH(merge_stores(out, {a, future}), Catch::Contains("newer reckon"));
  CHECK_THROWS_WITH(merge_stores(out, {a, tmp.file("nope.db")}), Catch::Contains("no such database"));
  CHECK_THROWS_WITH(merge_stores(a, {a}), Catch::Contains("cannot also be an input"));
}

TEST_CASE("reckon merge through the CLI: rows, scores and dollars add up to the shards' by hand", "[merge][cli]") {
  // gpt-5-mini at $0.25 / $2 per million: 1,000 in + 500 out = $0.00125; 2,000 in + 100 out = $0.0007.
  // Shard a: items 1 (right) and 2 (wrong) at $0.00125 each; shard b: item 3 (right) at $0.0007, and
  // item 2 failed there (an error row of a cell a finished: a's ok row stands).
  test::TempDir tmp;
  std::string a = shard(tmp, "a", "gpt-5-mini,t,1,ok,1000,500,1\ngpt-5-mini,t,2,ok,1000,500,0\n");
  std::string b = shard(tmp, "b", "gpt-5-mini,t,3,ok,2000,100,1\ngpt-5-mini,t,2,error,,,\n");
  const std::string out = tmp.file("merged.db");
  auto r = test::run_reckon({"merge", "-o", out, a, b});
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(count(out, "SELECT COUNT(*) FROM requests") == 3);
  CHECK(count(out, "SELECT COUNT(*) FROM requests WHERE status = 'ok'") == 3);
  CHECK(count(out, "SELECT SUM(score) FROM v_requests") == 2);
  {
    Store s(out, Store::Mode::kReadOnly);
    auto q = s.db().prepare("SELECT TOTAL(cost_usd) FROM requests");
    q.step();
    CHECK(q.real(0) == Approx(2 * 0.00125 + 0.0007).epsilon(1e-12));
  }
  // The summary of the merged store is the whole run's: 3 answers, 2 right.
  auto sum = test::run_reckon({"summary", "--db", out, "--json"});
  REQUIRE(sum.exit_code == 0);
  auto j = nlohmann::json::parse(sum.out);
  REQUIRE(j.size() == 1);
  CHECK(j[0]["requests"] == 3);
  CHECK(j[0]["errors"] == 0);
  CHECK(j[0]["accuracy"].get<double>() == Approx(2.0 / 3.0));
  CHECK(j[0]["cost_usd"].get<double>() == Approx(0.0032));
  CHECK(j[0]["input_tokens"] == 4000);
  // Merging again adds nothing; a missing shard fails with its name and leaves the output as it was.
  REQUIRE(test::run_reckon({"merge", "-o", out, a, b}).exit_code == 0);
  CHECK(count(out, "SELECT COUNT(*) FROM requests") == 3);
  auto missing = test::run_reckon({"merge", "-o", out, tmp.file("nope.db")});
  CHECK(missing.exit_code == 2);
  CHECK(missing.err.find("nope.db") != std::string::npos);
  CHECK(count(out, "SELECT COUNT(*) FROM requests") == 3);
}
