// A campaign under a mixed fault schedule (METHODS' reliability bar): every cell ends ok or error
// with its cause and attempt count, none missing or duplicated, money counted once per answer.
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <map>
#include <random>
#include <thread>

#include "harness/campaign.h"
#include "results/costs.h"
#include "results/store.h"
#include "tests/loopback_server.h"
#include "tests/support.h"

using namespace reckon;
using test::Scripted;

namespace {

constexpr int kItems = 150;

std::string past_http_date() { return "Wed, 21 Oct 2015 07:28:00 GMT"; }

// The faults one provider can answer with; `ok` is the only answer that completes a cell.
struct Fault {
  const char* name;
  Scripted reply;
  bool ok = false;
};

std::vector<Fault> plain_faults() {
  const std::string ok = test::read_file(test::shared_data("fixtures/openai/chat_completions_default.response.json"));
  const std::string limit = test::read_file(test::shared_data("fixtures/transcribed/openai_429_rate_limit_exceeded.body.json"));
  const std::string overloaded = test::read_file(test::shared_data("fixtures/transcribed/anthropic_529_overloaded.body.json"));
  Scripted slow{200, {}, ok};
  // Far past the campaign's 4 s timeout, while an ordinary answer comes in milliseconds: neither a loaded
  // machine nor a slow worker can turn one into the other.
  slow.delay_ms = 9000;
  return {
      {"ok", {200, {}, ok}, true},
      {"429 retry-after seconds", {429, {{"retry-after", "0"}}, limit}},
      {"429 retry-after-ms", {429, {{"retry-after-ms", "10"}}, limit}},
      {"429 reset duration", {429, {{"x-ratelimit-reset-requests", "15ms"}}, limit}},
      {"429 retry-after date", {429, {{"retry-after", past_http_date()}}, limit}},
      {"500", {500, {}, R"({"error":{"message":"internal","type":"server_error"}})"}},
      {"503", {503, {}, "<html><body>Service Unavailable</body></html>", {}, "text/html"}},
      {"529", {529, {}, overloaded}},
      {"reset", {200, {}, ok, {}, "application/json", /*cut=*/true}},
      {"timeout", slow},
      {"malformed JSON", {200, {}, "{\"id\": \"chatcmpl-1\", \"choices\": [", {}, "application/json"}},
      {"400", {400, {}, R"({"error":{"message":"bad request: context too long","type":"invalid_request_error"}})"}},
  };
}

std::vector<Fault> stream_faults() {
  const auto chunks =
      test::sse_from_chunks_file(test::shared_data("fixtures/vercel-ai/openai__openai-text.chunks.txt"), false, true);
  // A transient server error reported inside an HTTP 200 stream (quota errors stop a run instead).
  std::vector<std::string> error_chunks(chunks.begin(), chunks.begin() + 3);
  error_chunks.push_back("data: {\"error\":{\"message\":\"The server had an error while processing your request.\","
                         "\"type\":\"server_error\",\"param\":null,\"code\":null}}\n\n");
  const std::vector<std::string> head(chunks.begin(), chunks.begin() + 10);
  return {
      {"ok stream", {200, {}, "", chunks, "text/event-stream"}, true},
      {"truncated stream", {200, {}, "", head, "text/event-stream", /*cut=*/true}},
      {"stream ends early", {200, {}, "", head, "text/event-stream"}},
      {"error event in 200", {200, {}, "", error_chunks, "text/event-stream"}},
      {"429", {429, {{"retry-after", "0"}}, R"({"error":{"message":"Rate limit reached","type":"requests"}})"}},
      {"503", {503, {}, "upstream connect error"}, false},
  };
}

// Queues `n` answers: half ok, the rest spread over the faults. Returns how many ok answers are
// among the first k queued, for each k (to count the answers actually delivered).
std::vector<int> schedule(test::LoopbackServer& s, const std::vector<Fault>& faults, int n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<int> ok_prefix{0};
  for (int i = 0; i < n; ++i) {
    const Fault& f = rng() % 2 ? faults[0] : faults[1 + rng() % (faults.size() - 1)];
    s.enqueue(f.reply);
    ok_prefix.push_back(ok_prefix.back() + (f.ok ? 1 : 0));
  }
  s.set_default(faults[0].reply);
  return ok_prefix;
}

int64_t delivered_ok(test::LoopbackServer& s, const std::vector<int>& ok_prefix) {
  const int64_t seen = static_cast<int64_t>(s.request_count()), queued = static_cast<int64_t>(ok_prefix.size()) - 1;
  return seen <= queued ? ok_prefix[seen] : ok_prefix[queued] + (seen - queued);
}

int64_t scalar(Store& st, const std::string& sql) {
  auto q = st.db().prepare(sql);
  q.step();
  return q.int64(0);
}

}  // namespace

TEST_CASE("a campaign under mixed faults ends with every cell ok or error, and cost is the sum of ok rows",
          "[campaign][faults]") {
  test::TempDir tmp;
  std::string rows;
  for (int i = 0; i < kItems; ++i) rows += "{\"q\":\"question " + std::to_string(i) + "\",\"a\":\"" + std::to_string(i) + "\"}\n";
  const std::string data = tmp.write("items.jsonl", rows);
  test::LoopbackServer plain, streamed;
  const auto plain_ok = schedule(plain, plain_faults(), 2 * kItems, 11);
  const auto stream_ok = schedule(streamed, stream_faults(), 2 * kItems, 23);

  nlohmann::json camp{
      {"name", "faults"},
      {"models",
       {{{"model", "openai:gpt-5.4"}, {"params", {{"base_url", plain.base_url()}}}},
        {{"model", "openai:gpt-5-mini"}, {"params", {{"base_url", streamed.base_url()}, {"stream", true}}}}}},
      {"tasks",
       {{{"name", "numbers"}, {"data", {{"file", data}}}, {"reference_field", "a"}, {"prompt", {{"user", "{q}"}}},
         {"scorer", "last_number"}}}},
      {"concurrency", 8},
      {"retry", {{"max_attempts", 3}, {"timeout_s", 4.0}, {"backoff_s", 0.005}, {"max_backoff_s", 0.02}}}};
  const std::string db = tmp.file("faults.db");
  RunOptions o;
  o.db = db;
  o.progress = false;
  const Campaign c = parse_campaign(camp, "faults.json");
  const RunReport rep = run_campaign(c, o);

  Store st(db, Store::Mode::kReadOnly);
  const int64_t cells = 2 * kItems;
  // Every cell exactly once, each ok or error.
  CHECK(rep.cells == static_cast<size_t>(cells));
  CHECK(scalar(st, "SELECT COUNT(*) FROM requests WHERE step IS NULL") == cells);
  CHECK(scalar(st, "SELECT COUNT(*) FROM (SELECT DISTINCT model, task, item_id, repeat FROM requests)") == cells);
  CHECK(scalar(st, "SELECT COUNT(*) FROM requests WHERE status NOT IN ('ok', 'error')") == 0);
  // Errors carry their cause and how often they were tried; the schedule made some of each.
  const int64_t errors = scalar(st, "SELECT COUNT(*) FROM requests WHERE status = 'error'");
  CHECK(errors > 0);
  CHECK(static_cast<size_t>(errors) == rep.errors);
  CHECK(scalar(st, "SELECT COUNT(*) FROM requests WHERE status = 'error' AND (error IS NULL OR error = '' "
                   "OR error_class IS NULL OR attempts < 1 OR attempts > 3)") == 0);
  CHECK(scalar(st, "SELECT COUNT(*) FROM requests WHERE status = 'ok' AND attempts > 1") > 0);
  CHECK(scalar(st, "SELECT COUNT(DISTINCT error_class) FROM requests WHERE status = 'error'") >= 2);
  // Every delivered answer became exactly one ok row: nothing answered was lost, nothing asked again.
  CHECK(scalar(st, "SELECT COUNT(*) FROM requests WHERE status = 'ok' AND model = 'openai:gpt-5.4'") == delivered_ok(plain, plain_ok));
  CHECK(scalar(st, "SELECT COUNT(*) FROM requests WHERE status = 'ok' AND model = 'openai:gpt-5-mini'") ==
        delivered_ok(streamed, stream_ok));
  // Money: each ok answer priced once (same usage, same cost), errors add nothing unknown as zero.
  CHECK(scalar(st, "SELECT COUNT(*) FROM requests WHERE status = 'ok' AND (cost_usd IS NULL OR cost_usd <= 0)") == 0);
  CHECK(scalar(st, "SELECT COUNT(DISTINCT model || printf('%.12f', cost_usd)) FROM requests WHERE status = 'ok'") == 2);
  double all = 0, ok_only = 0;
  {
    auto q = st.db().prepare("SELECT TOTAL(cost_usd), TOTAL(CASE WHEN status = 'ok' THEN cost_usd END) FROM requests");
    q.step();
    all = q.real(0), ok_only = q.real(1);
  }
  CHECK(all == Approx(ok_only).epsilon(1e-12));
  double spent = 0;
  for (const auto& row : spend(st, {"model"}, std::nullopt)) spent += row.total;
  CHECK(spent == Approx(ok_only).epsilon(1e-12));
  CHECK(rep.spent_usd == Approx(ok_only).epsilon(1e-9));

  // A rerun with healthy providers finishes the work: only the error cells are asked again.
  const size_t plain_before = plain.request_count(), stream_before = streamed.request_count();
  const int64_t plain_errors = scalar(st, "SELECT COUNT(*) FROM requests WHERE status = 'error' AND model = 'openai:gpt-5.4'");
  plain.clear_queue();  // healthy from now on: the default answer is ok
  streamed.clear_queue();
  const RunReport again = run_campaign(c, o);
  CHECK(again.errors == 0);
  // Finished cells are skipped as this run's own (resume), not re-served from the response cache.
  CHECK(static_cast<int64_t>(again.skipped_done) == cells - errors);
  CHECK(again.cached == 0);
  CHECK(static_cast<int64_t>(plain.request_count() - plain_before) == plain_errors);
  CHECK(static_cast<int64_t>(plain.request_count() - plain_before + streamed.request_count() - stream_before) == errors);
  CHECK(scalar(st, "SELECT COUNT(*) FROM requests WHERE status = 'ok'") == cells);
  CHECK(scalar(st, "SELECT COUNT(*) FROM requests WHERE step IS NULL") == cells);
}

namespace {

// A campaign file over `n` numbered items, each with `pad` bytes of question text, on `server`.
std::string numbers_campaign(const test::TempDir& tmp, const test::LoopbackServer& server, int n, size_t pad) {
  std::string rows;
  const std::string filler(pad, 'x');
  for (int i = 0; i < n; ++i)
    rows += "{\"q\":\"question " + std::to_string(i) + " " + filler + "\",\"a\":\"" + std::to_string(i) + "\"}\n";
  nlohmann::json camp{{"name", "store-faults"},
                      {"models", {{{"model", "openai:gpt-5.4"}, {"params", {{"base_url", server.base_url()}}}}}},
                      {"tasks",
                       {{{"name", "numbers"}, {"data", {{"file", tmp.write("items.jsonl", rows)}}}, {"reference_field", "a"},
                         {"prompt", {{"user", "{q}"}}}, {"scorer", "last_number"}}}},
                      {"concurrency", 4}};
  return tmp.write("camp.json", camp.dump());
}

std::string ok_body() {
  return test::read_file(test::shared_data("fixtures/openai/chat_completions_default.response.json"));
}

}  // namespace

TEST_CASE("a file size limit (disk full) stops a campaign with a clear message, the store stays consistent, a rerun "
          "finishes", "[campaign][faults][store]") {
  test::TempDir tmp;
  test::LoopbackServer server;
  server.set_default({200, {}, ok_body()});
  const int cells = 300;
  const std::string camp = numbers_campaign(tmp, server, cells, 3000);
  const std::string db = tmp.file("full.db"), err = tmp.file("err.txt");
  // `ulimit -f 400`: no file of the store may grow past 400 KiB, far less than the run needs.
  const std::string cmd = "bash -c 'ulimit -f 400; exec \"" RECKON_BINARY "\" run \"" + camp + "\" --db \"" + db +
                          "\" --quiet' >/dev/null 2>\"" + err + "\"";
  const int rc = std::system(cmd.c_str());
  REQUIRE(WIFEXITED(rc));
  const std::string message = test::read_file(err);
  INFO(message);
  CHECK(WEXITSTATUS(rc) == 2);
  CHECK(message.find("could not write") != std::string::npos);
  CHECK(message.find(db) != std::string::npos);
  CHECK(message.find("internal error") == std::string::npos);

  int64_t kept = 0;
  {
    Store st(db, Store::Mode::kReadOnly);
    auto ic = st.db().prepare("PRAGMA integrity_check");
    REQUIRE(ic.step());
    CHECK(ic.text(0) == "ok");
    kept = scalar(st, "SELECT COUNT(*) FROM requests");
    CHECK(kept < cells);
    // Whole rows only: every stored request has its score.
    CHECK(scalar(st, "SELECT COUNT(*) FROM requests r LEFT JOIN scores s ON s.request_id = r.id WHERE s.request_id IS NULL") == 0);
  }
  const size_t asked = server.request_count();
  auto again = test::run_reckon({"run", camp, "--db", db, "--quiet"});
  INFO(again.err);
  REQUIRE(again.exit_code == 0);
  Store st(db, Store::Mode::kReadOnly);
  CHECK(scalar(st, "SELECT COUNT(*) FROM requests") == cells);
  CHECK(static_cast<int64_t>(server.request_count() - asked) == cells - kept);  // only what was not stored
}

TEST_CASE("a reader polling the store while a campaign writes never fails and sees it grow", "[campaign][faults][store]") {
  test::TempDir tmp;
  test::LoopbackServer server;
  Scripted slowish{200, {}, ok_body()};
  slowish.delay_ms = 5;
  server.set_default(slowish);
  const int cells = 400;
  const std::string camp = numbers_campaign(tmp, server, cells, 100);
  const std::string db = tmp.file("live.db");
  { Store create(db, Store::Mode::kReadWrite); }  // so the reader can open it at once
  pid_t pid = fork();
  if (pid == 0) {
    execl(RECKON_BINARY, RECKON_BINARY, "run", camp.c_str(), "--db", db.c_str(), "--quiet", static_cast<char*>(nullptr));
    _exit(127);
  }
  std::vector<int64_t> seen;
  int status = 0;
  {
    Store reader(db, Store::Mode::kReadOnly);
    while (waitpid(pid, &status, WNOHANG) == 0) {
      seen.push_back(scalar(reader, "SELECT COUNT(*) FROM requests"));
      scalar(reader, "SELECT COUNT(*) FROM v_model_task");  // the views dashboards poll
      scalar(reader, "SELECT COUNT(*) FROM v_costs");
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    seen.push_back(scalar(reader, "SELECT COUNT(*) FROM requests"));
  }
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  CHECK(std::is_sorted(seen.begin(), seen.end()));  // never went back, never failed
  CHECK(seen.back() == cells);
  CHECK(std::any_of(seen.begin(), seen.end(), [&](int64_t n) { return n > 0 && n < cells; }));  // read mid-run
}

TEST_CASE("a sentinel API key never reaches the store, exports, the report or any output, even when echoed back",
          "[campaign][security]") {
  test::TempDir tmp;
  const std::string key = std::string("sk-") + "proj-SENTINELkey0123456789abcdef";  // fake, built at run time
  test::LoopbackServer server;
  // Providers do echo keys in errors ("Incorrect API key provided: sk-..."); half the cells get one.
  const std::string echo = R"({"error":{"message":"Request failed for key )" + key + R"(","type":"invalid_request_error"}})";
  for (int i = 0; i < 10; ++i) server.enqueue({400, {{"x-echo", key}}, echo});
  server.set_default({200, {}, ok_body()});
  const std::string camp = numbers_campaign(tmp, server, 20, 10);
  const std::string db = tmp.file("keys.db");
  std::vector<test::CommandResult> outputs;
  outputs.push_back(test::run_reckon({"run", camp, "--db", db}, {"OPENAI_API_KEY=" + key}));
  REQUIRE(outputs.back().exit_code == 1);  // finished, with the 10 refused cells as errors
  REQUIRE(server.requests().at(0).headers.find("Authorization")->second == "Bearer " + key);  // it was used
  for (const char* view : {"v_requests", "v_model_task", "v_costs"})
    for (const char* format : {"csv", "jsonl"})
      outputs.push_back(test::run_reckon({"export", "--db", db, "--view", view, "--format", format}, {"OPENAI_API_KEY=" + key}));
  outputs.push_back(test::run_reckon({"summary", "--db", db}, {"OPENAI_API_KEY=" + key}));
  outputs.push_back(test::run_reckon({"report", "--db", db, "--html", tmp.file("r.html")}, {"OPENAI_API_KEY=" + key}));
  outputs.push_back(test::run_reckon({"call", "openai:gpt-5.4", "hi", "--base-url", server.base_url(), "--verbose"},
                                     {"OPENAI_API_KEY=" + key}));
  for (const auto& o : outputs) {
    CHECK(o.out.find("SENTINEL") == std::string::npos);
    CHECK(o.err.find("SENTINEL") == std::string::npos);
  }
  // The error text was kept, redacted.
  Store st(db, Store::Mode::kReadOnly);
  CHECK(scalar(st, "SELECT COUNT(*) FROM requests WHERE error LIKE '%Request failed for key%'") > 0);
  // Every byte of every file reckon wrote.
  for (const auto& f : std::filesystem::directory_iterator(tmp.path())) {
    if (f.path().filename() == "camp.json" || f.path().filename() == "items.jsonl") continue;
    INFO(f.path());
    CHECK(test::read_file(f.path()).find("SENTINEL") == std::string::npos);
  }
}
