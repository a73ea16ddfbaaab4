#include "harness/admit.h"

#include <catch2/catch.hpp>

#include "common/sha256.h"
#include "harness/spend_gate.h"
#include "results/schema.h"
#include "tests/support.h"

using namespace reckon;

namespace {

RequestRecord row(const std::string& run, const std::string& fp, const std::string& key, bool ok, bool cache_hit = false) {
  RequestRecord r;
  r.run_id = run;
  r.fingerprint = sha256_hex(fp);
  r.request_key = sha256_hex(key);
  r.cache_hit = cache_hit;
  r.model = "openai:m";
  r.task = "t";
  r.item_id = fp;
  r.created_at = "2026-12-02T00:00:00Z";
  r.ok = ok;
  if (ok) {
    r.response = "answer to " + key;
    r.usage.input_tokens = 11, r.usage.output_tokens = 7, r.usage.reasoning_tokens = 3, r.usage.cache_read_tokens = 2;
    r.usage.usage_complete = true;
    r.finish_reason = "stop";
  } else {
    r.http_status = 500, r.error_class = "server_error", r.error = "down";
  }
  return r;
}

Cell cell_of(const std::string& fp) {
  Cell c;
  c.fingerprint = sha256_hex(fp);
  return c;
}

}  // namespace

TEST_CASE("what a run need not send: its finished cells and any run's answers, never an error or a served answer", "[campaign][admit]") {
  test::TempDir tmp;
  Store store(tmp.file("s.db"), Store::Mode::kReadWrite);
  store.add_run("r1", "campaign", "c.json");
  store.add_run("r0", "campaign", "c.json");
  store.insert_request(row("r1", "done", "k-done", true));
  store.insert_request(row("r1", "failed", "k-failed", false));
  store.insert_request(row("r0", "other-run", "k-other", true));
  store.insert_request(row("r0", "served", "k-served", true, true));
  AnsweredBefore before(store, "r1", true);
  CHECK(before.done(cell_of("done")));
  CHECK_FALSE(before.done(cell_of("failed")));     // a transient failure is asked again
  CHECK_FALSE(before.done(cell_of("other-run")));  // another run's cell is not this run's
  // The cache answers a row by its request key.
  auto asked = [](const std::string& key) {
    RequestRecord r;
    r.request_key = sha256_hex(key);
    return r;
  };
  RequestRecord other = asked("k-other");
  CHECK(before.known_at_start(*other.request_key));
  REQUIRE(before.serve(other));
  const RequestRecord* hit = &other;
  CHECK(hit->cache_hit);
  CHECK(*hit->response == "answer to k-other");
  CHECK(hit->usage.input_tokens == 11);
  CHECK(hit->usage.output_tokens == 7);
  CHECK(hit->usage.reasoning_tokens == 3);
  CHECK(hit->usage.cache_read_tokens == 2);
  CHECK(*hit->finish_reason == "stop");
  RequestRecord failed = asked("k-failed"), served = asked("k-served");
  CHECK_FALSE(before.serve(failed));  // error bodies are never served
  CHECK_FALSE(before.serve(served));  // only answers that were paid for
  // Written after the run started: only a look at the store now finds it.
  store.insert_request(row("r1", "later", "k-later", true));
  CHECK_FALSE(before.done(cell_of("later")));
  CHECK(before.done_now(cell_of("later")));
  RequestRecord later = asked("k-later");
  CHECK_FALSE(before.known_at_start(*later.request_key));
  CHECK(before.serve(later));
  // A first run has nothing done.
  AnsweredBefore fresh(store, "r1", false);
  CHECK_FALSE(fresh.done(cell_of("done")));
}

TEST_CASE("cells and answers an older reckon stored with hex keys are found once the store has migrated", "[campaign][admit]") {
  test::TempDir tmp;
  const std::string path = tmp.file("v8.db");
  {
    Database db(path, false);
    for (size_t v = 0; v < 8; ++v) db.exec(migrations()[v]);
    db.exec("PRAGMA user_version = 8");  // the last version that wrote keys as 64 hex digits
    db.exec("INSERT INTO runs(id, kind) VALUES('r1', 'campaign')");
    db.exec("INSERT INTO requests(fingerprint, request_key, run_id, model, task, item_id, status, usage_complete, response) "
            "VALUES('" + sha256_hex("done") + "', '" + sha256_hex("k-done") + "', 'r1', 'm', 't', '1', 'ok', 1, 'old answer')");
  }
  Store store(path, Store::Mode::kReadWrite);
  AnsweredBefore before(store, "r1", true);
  CHECK(before.done(cell_of("done")));
  CHECK_FALSE(before.done(cell_of("other")));
  CHECK(before.known_at_start(sha256_hex("k-done")));
  CHECK_FALSE(before.known_at_start(sha256_hex("k-other")));
  RequestRecord r;
  r.request_key = sha256_hex("k-done");
  REQUIRE(before.serve(r));
  CHECK(*r.response == "old answer");
}

TEST_CASE("a billed answer the provider refused the same way again is done, a transient failure is not", "[campaign][admit]") {
  auto failed = [](int64_t http, bool billed, const std::string& cls) {
    RequestRecord r;
    r.ok = false;
    r.http_status = http;
    r.usage.usage_complete = billed;
    r.error_class.emplace(cls);
    return AnsweredBefore::is_done(r);
  };
  CHECK(failed(200, true, "bad_response"));
  CHECK(failed(200, true, "client_error"));
  CHECK_FALSE(failed(200, false, "client_error"));  // not billed as far as anyone knows
  CHECK_FALSE(failed(400, true, "client_error"));
  CHECK_FALSE(failed(200, true, "server_error"));
  RequestRecord ok;
  CHECK(AnsweredBefore::is_done(ok));
}

TEST_CASE("the spend cap counts what was paid and what is in flight at its estimate", "[campaign][admit]") {
  test::TempDir tmp;
  Store store(tmp.file("s.db"), Store::Mode::kReadWrite);
  int a = 0, b = 0, c = 0, d = 0;
  SpendGate gate(1.0, nullptr, store);
  CHECK(gate.admit(&a, 0.3, 0.0));
  CHECK(gate.admit(&b, 0.3, 0.0));
  CHECK(gate.in_flight() == Approx(0.6));
  CHECK(gate.admit(&c, 0.3, 0.1));  // 0.1 + 0.6 + 0.3 = 1.0: at the cap, not over it
  CHECK_FALSE(gate.reached());
  CHECK_FALSE(gate.admit(&d, 0.05, 0.1));  // 1.05 > 1.0
  CHECK(gate.reached());
  gate.landed(&a);
  gate.landed(&b);
  CHECK(gate.in_flight() == Approx(0.3));
  gate.landed(&a);  // already landed: nothing changes
  CHECK(gate.in_flight() == Approx(0.3));
  SpendGate open(std::nullopt, nullptr, store);
  CHECK_FALSE(open.capped());
  CHECK(open.admit(&a, 1e9, 1e9));
}
