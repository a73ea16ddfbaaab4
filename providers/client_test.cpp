// Transport behaviour under faults, against the loopback server, with a fake clock for waits.
#include "providers/client.h"

#include <catch2/catch.hpp>
#include <algorithm>

#include "tests/loopback_server.h"
#include "tests/support.h"

using namespace reckon;
using test::Scripted;

namespace {

std::string ok_body() { return test::read_file(test::shared_data("fixtures/openai/chat_completions_default.response.json")); }

ChatRequest openai_request(const test::LoopbackServer& s, bool stream = false) {
  ChatRequest r{{"openai", "gpt-5.4", {}}, {{"user", "hi"}}};
  r.model.params.base_url = s.base_url();
  r.model.params.stream = stream;
  return r;
}

CallResult call_once(ModelClient& client, const ChatRequest& req) {
  CallResult got;
  client.submit(req, 0, [&](const ChatRequest&, const CallResult& r) { got = r; });
  client.run();
  return got;
}

ClientOptions fast(int attempts = 4) {
  ClientOptions o;
  o.max_attempts = attempts;
  o.seed = 7;
  o.timeout_s = 5;
  return o;
}

}  // namespace

TEST_CASE("429 with Retry-After waits that long, then succeeds", "[client]") {
  test::LoopbackServer s;
  s.enqueue({429, {{"Retry-After", "7"}}, test::read_file(test::shared_data("fixtures/transcribed/openai_429_rate_limit_exceeded.body.json"))});
  s.enqueue({200, {}, ok_body()});
  FakeClock clock;
  ModelClient client(fast(), clock);
  CallResult r = call_once(client, openai_request(s));
  CHECK(r.ok);
  CHECK(r.attempts == 2);
  CHECK(clock.slept() >= 7);
  CHECK(clock.slept() < 7 + 0.6);
}

TEST_CASE("429 hints of every kind are honoured", "[client]") {
  struct Hint {
    const char* what;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    double wait;
  };
  FakeClock clock(1755780000);  // 2025-08-21T12:40:00Z
  std::vector<Hint> hints = {
      {"OpenAI reset duration", {{"x-ratelimit-reset-tokens", "6m0s"}}, R"({"error":{"message":"slow down","type":"tokens","code":"rate_limit_exceeded"}})", 360},
      {"retry-after-ms", {{"retry-after-ms", "2500"}}, "{}", 2.5},
      {"HTTP date", {{"Retry-After", "Thu, 21 Aug 2025 12:40:30 GMT"}}, "{}", 30},
      {"Anthropic reset timestamp", {{"anthropic-ratelimit-requests-reset", "2025-08-21T12:40:20Z"}},
       test::read_file(test::shared_data("fixtures/transcribed/anthropic_429_rate_limit.body.json")), 20},
      {"Gemini RetryInfo", {}, test::read_file(test::shared_data("fixtures/vercel-ai/google__google-429-retry-info.json")), 34.4},
  };
  for (const auto& h : hints) {
    DYNAMIC_SECTION(h.what) {
      test::LoopbackServer s;
      s.enqueue({429, h.headers, h.body});
      s.enqueue({200, {}, ok_body()});
      ModelClient client(fast(), clock);
      double before = clock.slept();
      CallResult r = call_once(client, openai_request(s));
      CHECK(r.ok);
      CHECK(r.attempts == 2);
      CHECK(clock.slept() - before >= h.wait - 0.01);
      CHECK(clock.slept() - before <= h.wait + 0.6);
    }
  }
}

TEST_CASE("500, 503, 529, malformed JSON and an HTML error page are retried", "[client]") {
  test::LoopbackServer s;
  s.enqueue({500, {}, R"({"error":{"message":"server error","type":"server_error"}})"});
  s.enqueue({503, {}, "<html><body>upstream</body></html>", {}, "text/html"});
  s.enqueue({529, {}, test::read_file(test::shared_data("fixtures/transcribed/anthropic_529_overloaded.body.json"))});
  s.enqueue({200, {}, "{\"choices\": [ {\"message\": "});
  s.enqueue({200, {}, ok_body()});
  FakeClock clock;
  ModelClient client(fast(6), clock);
  CallResult r = call_once(client, openai_request(s));
  CHECK(r.ok);
  CHECK(r.attempts == 5);
  CHECK(r.completion.usage.input_tokens == 19);
}

TEST_CASE("after the last attempt a failure is recorded with its cause and no made-up usage", "[client]") {
  test::LoopbackServer s;
  s.set_default({200, {}, "this is not json"});
  FakeClock clock;
  ModelClient client(fast(3), clock);
  CallResult r = call_once(client, openai_request(s));
  CHECK_FALSE(r.ok);
  CHECK(r.attempts == 3);
  CHECK(r.error_class == ErrorClass::kBadResponse);
  CHECK(r.error.find("not valid JSON") != std::string::npos);
  CHECK_FALSE(r.completion.usage.usage_complete);
}

TEST_CASE("a stream cut before usage arrives is retried, and recorded as usage unknown when it keeps failing", "[client]") {
  auto chunks = test::sse_from_chunks_file(test::shared_data("fixtures/vercel-ai/openai__openai-text.chunks.txt"), false, true);
  std::vector<std::string> head(chunks.begin(), chunks.begin() + 20);
  test::LoopbackServer s;
  s.set_default({200, {}, "", head, "text/event-stream", /*cut=*/true});
  FakeClock clock;
  ModelClient client(fast(2), clock);
  CallResult r = call_once(client, openai_request(s, true));
  CHECK_FALSE(r.ok);
  CHECK(r.attempts == 2);
  CHECK(r.error_class == ErrorClass::kStream);
  CHECK_FALSE(r.completion.usage.usage_complete);
  CHECK(s.request_count() == 2);

  // A stream that ends cleanly but never sent [DONE] or usage is also incomplete.
  test::LoopbackServer s2;
  s2.enqueue({200, {}, "", head, "text/event-stream"});
  s2.enqueue({200, {}, "", chunks, "text/event-stream"});
  ModelClient client2(fast(3), clock);
  CallResult r2 = call_once(client2, openai_request(s2, true));
  CHECK(r2.ok);
  CHECK(r2.attempts == 2);
  CHECK(r2.completion.usage.usage_complete);
  CHECK(r2.completion.usage.output_tokens == 300);
}

TEST_CASE("connection resets and timeouts are retried", "[client]") {
  test::LoopbackServer s;
  s.enqueue({200, {}, ok_body(), {}, "application/json", /*cut=*/true});
  Scripted slow{200, {}, ok_body()};
  slow.delay_ms = 1500;
  s.enqueue(slow);
  s.enqueue({200, {}, ok_body()});
  FakeClock clock;
  ClientOptions o = fast(4);
  o.timeout_s = 0.5;
  ModelClient client(o, clock);
  CallResult r = call_once(client, openai_request(s));
  CHECK(r.ok);
  CHECK(r.attempts == 3);
}

TEST_CASE("insufficient_quota stops the run: no retry, later calls are not sent", "[client]") {
  test::LoopbackServer s;
  s.set_default({429, {}, test::read_file(test::shared_data("fixtures/vercel-ai/openai__openai-error.1.json"))});
  FakeClock clock;
  ClientOptions o = fast();
  o.max_concurrency = 1;
  ModelClient client(o, clock);
  std::vector<CallResult> results;
  for (int i = 0; i < 5; ++i) client.submit(openai_request(s), i, [&](const ChatRequest&, const CallResult& r) { results.push_back(r); });
  client.run();
  REQUIRE(results.size() == 5);
  CHECK(results[0].attempts == 1);
  CHECK(results[0].error_class == ErrorClass::kQuota);
  for (size_t i = 1; i < results.size(); ++i) CHECK(results[i].attempts == 0);  // never sent
  CHECK(s.request_count() == 1);
  CHECK(client.fatal_error().find("exceeded your current quota") != std::string::npos);
}

TEST_CASE("an error event inside an HTTP 200 stream is not a success", "[client]") {
  test::LoopbackServer s;
  auto chunks = test::sse_from_chunks_file(test::shared_data("fixtures/vercel-ai/openai__openai-error.1.chunks.txt"), true, false);
  s.set_default({200, {}, "", chunks, "text/event-stream"});
  FakeClock clock;
  ModelClient client(fast(), clock);
  ChatRequest req = openai_request(s, true);
  req.model.params.api = "responses";
  CallResult r = call_once(client, req);
  CHECK_FALSE(r.ok);
  CHECK(r.error_class == ErrorClass::kQuota);
  CHECK(r.attempts == 1);
}

TEST_CASE("400 is recorded without retry and the run goes on", "[client]") {
  test::LoopbackServer s;
  s.enqueue({400, {}, R"({"error":{"message":"Invalid value for max_tokens","type":"invalid_request_error"}})"});
  s.enqueue({200, {}, ok_body()});
  FakeClock clock;
  ClientOptions o = fast();
  o.max_concurrency = 1;
  ModelClient client(o, clock);
  std::vector<CallResult> results;
  for (int i = 0; i < 2; ++i) client.submit(openai_request(s), i, [&](const ChatRequest&, const CallResult& r) { results.push_back(r); });
  client.run();
  REQUIRE(results.size() == 2);
  CHECK(results[0].error_class == ErrorClass::kClient);
  CHECK(results[0].attempts == 1);
  CHECK(results[1].ok);
  CHECK(client.fatal_error().empty());
}

TEST_CASE("API keys never appear in errors, even when the server echoes them", "[client][security]") {
  test::LoopbackServer s;
  const std::string key = std::string("sk-") + "proj-SENTINEL0123456789abcdefXYZ";  // a fake key, built so no scanner mistakes it
  s.set_default({401, {}, R"({"error":{"message":"Incorrect API key provided: )" + key + R"(.","type":"invalid_request_error","code":"invalid_api_key"}})"});
  setenv("OPENAI_API_KEY", key.c_str(), 1);
  FakeClock clock;
  ModelClient client(fast(), clock);
  CallResult r = call_once(client, openai_request(s));
  unsetenv("OPENAI_API_KEY");
  CHECK_FALSE(r.ok);
  CHECK(r.error_class == ErrorClass::kAuth);
  CHECK(r.error.find("SENTINEL") == std::string::npos);
  CHECK(client.fatal_error().find("SENTINEL") == std::string::npos);
  CHECK(s.requests()[0].headers.find("Authorization")->second == "Bearer " + key);
  HttpRequest h{"u", {{"Authorization", "Bearer " + key}}, "{}"};
  CHECK(ModelClient::describe(h).find("SENTINEL") == std::string::npos);
}

TEST_CASE("many calls run concurrently on one thread", "[client]") {
  test::LoopbackServer s;
  Scripted slow{200, {}, ok_body()};
  slow.delay_ms = 1000;
  s.set_default(slow);
  SystemClock clock;
  ClientOptions o = fast();
  o.max_concurrency = 16;
  ModelClient client(o, clock);
  int ok = 0;
  for (int i = 0; i < 32; ++i) client.submit(openai_request(s), i, [&](const ChatRequest&, const CallResult& r) { ok += r.ok; });
  client.run();
  CHECK(ok == 32);
  // The server saw the calls overlap: 16 at once, never more than the limit (each waits 1 s there, far
  // longer than opening 16 connections takes, even on a loaded machine).
  CHECK(s.max_in_flight() == 16);
}

TEST_CASE("requests per minute are paced by the token bucket", "[client]") {
  test::LoopbackServer s;
  s.set_default({200, {}, ok_body()});
  FakeClock clock;
  ClientOptions o = fast();
  o.requests_per_minute = 60;  // a burst of 60, then one per second
  ModelClient client(o, clock);
  int ok = 0;
  for (int i = 0; i < 65; ++i) client.submit(openai_request(s), i, [&](const ChatRequest&, const CallResult& r) { ok += r.ok; });
  client.run();
  CHECK(ok == 65);
  CHECK(clock.now() >= 4.9);
}

TEST_CASE("tokens per minute are paced by the token bucket: a minute's budget, then the refill rate", "[client]") {
  // Each request is counted at its prompt (4 characters ≈ 1 token) plus max_tokens 999 = 1,000 tokens.
  // 6,000 tokens a minute: six start at once, then one every 1,000 / (6,000 / 60) = 10 s.
  test::LoopbackServer s;
  s.set_default({200, {}, ok_body()});
  FakeClock clock;
  ClientOptions o = fast();
  o.tokens_per_minute = 6000;
  ModelClient client(o, clock);
  std::vector<double> started;
  for (int i = 0; i < 8; ++i) {
    ChatRequest r = openai_request(s);
    r.messages = {{"user", "four"}};
    r.model.params.max_tokens = 999;
    client.submit(r, i, [&](const ChatRequest&, const CallResult& res) {
      CHECK(res.ok);
      started.push_back(clock.now());
    });
  }
  client.run();
  REQUIRE(started.size() == 8);
  std::sort(started.begin(), started.end());
  CHECK(started[5] < 0.5);                  // the first six within the burst
  CHECK(started[6] == Approx(10).margin(0.5));
  CHECK(started[7] == Approx(20).margin(0.5));
  CHECK(s.request_count() == 8);
}

TEST_CASE("auth, permission, unknown model and quota errors stop a campaign's calls: no retry, the rest unsent", "[client]") {
  struct Stop {
    int status;
    const char* body;
    ErrorClass expected;
  };
  const Stop stops[] = {
      {401, R"({"error":{"message":"Incorrect API key provided","type":"invalid_request_error","code":"invalid_api_key"}})", ErrorClass::kAuth},
      {403, R"({"error":{"message":"Project does not have access to model","type":"invalid_request_error","code":"model_not_found"}})",
       ErrorClass::kAuth},
      {404, R"({"error":{"message":"The model 'gpt-9' does not exist","type":"invalid_request_error","code":"model_not_found"}})",
       ErrorClass::kClient},  // an unknown model: every request would fail the same way
      {429, R"({"error":{"message":"You exceeded your current quota","type":"insufficient_quota","code":"insufficient_quota"}})",
       ErrorClass::kQuota},
  };
  for (const Stop& stop : stops) {
    INFO("HTTP " << stop.status);
    test::LoopbackServer s;
    s.set_default({stop.status, {}, stop.body});
    FakeClock clock;
    ClientOptions o = fast();
    o.max_concurrency = 1;  // one at a time: the first answer decides the rest
    ModelClient client(o, clock);
    std::vector<CallResult> results;
    for (int i = 0; i < 5; ++i) client.submit(openai_request(s), i, [&](const ChatRequest&, const CallResult& r) { results.push_back(r); });
    client.run();
    CHECK(s.request_count() == 1);  // asked once, never retried, the other four never sent
    CHECK_FALSE(client.fatal_error().empty());
    REQUIRE_FALSE(results.empty());
    CHECK(results[0].attempts == 1);
    CHECK(results[0].error_class == stop.expected);
    CHECK(clock.slept() == 0);
  }
}

TEST_CASE("a missing key stops the run with the variable named", "[client]") {
  FakeClock clock;
  ModelClient client(fast(), clock);
  unsetenv("OPENAI_API_KEY");
  ChatRequest req{{"openai", "gpt-5-mini", {}}, {{"user", "hi"}}};
  CallResult r = call_once(client, req);
  CHECK_FALSE(r.ok);
  CHECK(r.error.find("OPENAI_API_KEY is not set") != std::string::npos);
}

TEST_CASE("a source feeds calls a window at a time: all answered, never more than the window waiting", "[client]") {
  test::LoopbackServer s;
  s.set_default({200, {}, ok_body()});
  SystemClock clock;
  ClientOptions o = fast();
  o.max_concurrency = 4;
  ModelClient client(o, clock);
  const int total = 300;
  const size_t window = 10;
  int submitted = 0, answered = 0, ok = 0;
  size_t most_waiting = 0;
  client.set_source([&] {
    if (submitted == total) return false;
    // Waiting = submitted, not yet answered, not in flight.
    most_waiting = std::max(most_waiting, static_cast<size_t>(submitted - answered - client.in_flight()));
    client.submit(openai_request(s), submitted++, [&](const ChatRequest&, const CallResult& r) {
      ++answered;
      ok += r.ok;
    });
    return true;
  }, window);
  client.run();
  CHECK(ok == total);
  CHECK(most_waiting < window);
}

TEST_CASE("a run stopped early leaves the source's remaining calls unasked", "[client]") {
  test::LoopbackServer s;
  s.set_default({200, {}, ok_body()});
  SystemClock clock;
  ModelClient client(fast(), clock);
  int submitted = 0, answered = 0;
  client.set_source([&] {
    if (submitted == 1000) return false;
    client.submit(openai_request(s), submitted++, [&](const ChatRequest&, const CallResult&) { ++answered; });
    return true;
  }, 8);
  client.set_admit([&](const ChatRequest&, const void*) { return answered < 20; });
  client.run();
  CHECK(answered >= 20);
  CHECK(submitted < 100);  // the other calls were never built
}

TEST_CASE("a share of the rate limits: two runners on one account pace at half the budget each", "[client]") {
  // 6,000 tokens a minute, halved: 3,000. Requests of 1,000 tokens: three start at once, then one every
  // 1,000 / (3,000 / 60) = 20 s. Back to the whole budget, the refill is 10 s again.
  test::LoopbackServer s;
  s.set_default({200, {}, ok_body()});
  FakeClock clock;
  ClientOptions o = fast();
  o.tokens_per_minute = 6000;
  ModelClient client(o, clock);
  client.set_rate_share(0.5);
  std::vector<double> started;
  for (int i = 0; i < 5; ++i) {
    ChatRequest r = openai_request(s);
    r.messages = {{"user", "four"}};
    r.model.params.max_tokens = 999;
    client.submit(r, i, [&](const ChatRequest&, const CallResult& res) {
      CHECK(res.ok);
      started.push_back(clock.now());
      if (started.size() == 4) client.set_rate_share(1.0);  // the other runner left
    });
  }
  client.run();
  REQUIRE(started.size() == 5);
  std::sort(started.begin(), started.end());
  CHECK(started[2] < 0.5);
  CHECK(started[3] == Approx(20).margin(0.5));
  CHECK(started[4] == Approx(30).margin(0.5));  // the whole budget's pace again: 10 s after the last
}
