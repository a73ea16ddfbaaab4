#include "results/row_writer.h"

#include <catch2/catch.hpp>
#include <atomic>
#include <thread>

#include "common/error.h"
#include "tests/support.h"

using namespace reckon;

namespace {

RequestRecord record(const std::string& fp, bool ok) {
  RequestRecord r;
  r.fingerprint = fp;
  r.run_id = "run-w";
  r.model = "openai:gpt-5.4";
  r.task = "t";
  r.item_id = fp;
  r.ok = ok;
  r.created_at = "2026-11-28T10:00:00Z";
  r.response = "42";
  r.score = ok ? 1.0 : 0.0;
  return r;
}

int64_t count(Store& s, const std::string& where) {
  auto q = s.db().prepare("SELECT COUNT(*) FROM requests WHERE " + where);
  q.step();
  return q.int64(0);
}

}  // namespace

TEST_CASE("the row writer commits every queued row, in batches, and replaces a row's earlier attempt", "[store]") {
  test::TempDir tmp;
  const std::string db = tmp.file("w.db");
  { Store s(db, Store::Mode::kReadWrite); s.add_run("run-w", "campaign", "test"); }
  RowWriter w(db, 64);
  for (int i = 0; i < 1000; ++i) w.push(record("fp" + std::to_string(i), i % 10 != 0));
  for (int i = 0; i < 1000; i += 10) w.push(record("fp" + std::to_string(i), true));  // the rerun's answers
  w.close();
  CHECK(w.written() == 1100);
  Store s(db, Store::Mode::kReadOnly);
  CHECK(count(s, "1") == 1000);
  CHECK(count(s, "status = 'ok'") == 1000);
  auto q = s.db().prepare("SELECT COUNT(*) FROM scores");
  q.step();
  CHECK(q.int64(0) == 1000);  // the replaced rows' scores went with them
}

TEST_CASE("rows are committed while the writer runs, not only at close", "[store]") {
  test::TempDir tmp;
  const std::string db = tmp.file("w.db");
  { Store s(db, Store::Mode::kReadWrite); s.add_run("run-w", "campaign", "test"); }
  RowWriter w(db, 1000, std::chrono::milliseconds(10));
  w.push(record("early", true));
  Store reader(db, Store::Mode::kReadOnly);
  int64_t seen = 0;
  for (int i = 0; i < 200 && seen == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    seen = count(reader, "fingerprint = 'early'");
  }
  CHECK(seen == 1);
  w.close();
}

TEST_CASE("a writer that cannot write says so at the next push or at close", "[store]") {
  test::TempDir tmp;
  RowWriter w(tmp.path(), 1);  // a folder, not a database
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  CHECK_THROWS_AS(w.close(), InputError);
}

TEST_CASE("a writer behind the run holds the run back rather than queueing without bound", "[store]") {
  test::TempDir tmp;
  const std::string db = tmp.file("w.db");
  { Store s(db, Store::Mode::kReadWrite); s.add_run("run-w", "campaign", "test"); }
  // A reader holding a write lock stalls the writer; pushes must then wait once 16 batches queue.
  Store blocker(db, Store::Mode::kReadWrite);
  auto tx = std::make_unique<Transaction>(blocker.db());
  RowWriter w(db, 4, std::chrono::milliseconds(1));
  std::atomic<int> pushed{0};
  std::thread producer([&] {
    for (int i = 0; i < 200; ++i, ++pushed) w.push(record("fp" + std::to_string(i), true));
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  CHECK(pushed.load() <= 2 * 16 * 4 + 1);  // a full queue, and a full one taken as the batch being written
  CHECK(pushed.load() < 200);
  tx.reset();  // rolled back: the writer goes on
  producer.join();
  w.close();
  CHECK(w.written() == 200);
}

TEST_CASE("items queued with the rows reach the items table, the first prompt kept", "[store]") {
  test::TempDir tmp;
  const std::string db = tmp.file("w.db");
  { Store s(db, Store::Mode::kReadWrite); s.upsert_task("t"); }
  RowWriter w(db, 8);
  for (int i = 0; i < 50; ++i) w.push_item("t", "i" + std::to_string(i), "prompt " + std::to_string(i), "42", std::nullopt);
  w.push_item("t", "i0", "a later prompt", "42", std::nullopt);
  w.close();
  Store s(db, Store::Mode::kReadOnly);
  auto q = s.db().prepare("SELECT COUNT(*), MAX(CASE WHEN item_id = 'i0' THEN prompt END) FROM items WHERE task = 't'");
  q.step();
  CHECK(q.int64(0) == 50);
  CHECK(q.text(1) == "prompt 0");
}
