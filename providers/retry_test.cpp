#include "providers/retry.h"

#include <catch2/catch.hpp>

#include "providers/rate_limit.h"
#include "tests/support.h"

using namespace reckon;

TEST_CASE("retry hints: seconds, HTTP dates, Go durations, RFC 3339, Gemini retryDelay", "[retry]") {
  CHECK(*parse_retry_after("7", 0) == 7);
  // 2015-10-21T07:28:00Z = 1445412480
  CHECK(*parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", 1445412480 - 30) == Approx(30));
  CHECK(*parse_go_duration("1s") == 1);
  CHECK(*parse_go_duration("6m0s") == 360);
  CHECK(*parse_go_duration("12ms") == Approx(0.012));
  CHECK(*parse_go_duration("1h2m3.5s") == Approx(3723.5));
  CHECK_FALSE(parse_go_duration("soon"));
  CHECK(*parse_rfc3339("2025-08-21T12:40:59Z") == Approx(1755780059));
  CHECK(*parse_rfc3339("2025-08-21T14:40:59+02:00") == Approx(1755780059));
  std::string gemini = test::read_file(test::shared_data("fixtures/vercel-ai/google__google-429-retry-info.json"));
  CHECK(*gemini_retry_delay(gemini) == Approx(34.4));
}

TEST_CASE("429 rate limits retry with the hint — insufficient_quota stops the run", "[retry]") {
  std::string rl = test::read_file(test::shared_data("fixtures/transcribed/openai_429_rate_limit_exceeded.body.json"));
  Verdict v = classify_http_error(429, {{"x-ratelimit-reset-tokens", "6m0s"}, {"x-ratelimit-reset-requests", "1s"}}, rl, 0);
  CHECK(v.retryable);
  CHECK_FALSE(v.fatal);
  CHECK(v.error_class == ErrorClass::kRateLimit);
  CHECK(*v.retry_after == 360);
  std::string quota = test::read_file(test::shared_data("fixtures/vercel-ai/openai__openai-error.1.json"));
  Verdict q = classify_http_error(429, {}, quota, 0);
  CHECK(q.fatal);
  CHECK_FALSE(q.retryable);
  CHECK(q.error_class == ErrorClass::kQuota);
  CHECK(q.message.find("exceeded your current quota") != std::string::npos);
}

TEST_CASE("Anthropic 529 and 429 with reset timestamps, Gemini RetryInfo", "[retry]") {
  std::string overloaded = test::read_file(test::shared_data("fixtures/transcribed/anthropic_529_overloaded.body.json"));
  Verdict o = classify_http_error(529, {}, overloaded, 0);
  CHECK(o.retryable);
  CHECK(o.error_class == ErrorClass::kOverloaded);
  std::string rl = test::read_file(test::shared_data("fixtures/transcribed/anthropic_429_rate_limit.body.json"));
  Verdict a = classify_http_error(429, {{"anthropic-ratelimit-tokens-reset", "2025-08-21T12:41:09Z"}}, rl, 1755780059);
  CHECK(*a.retry_after == Approx(10));
  Verdict ra = classify_http_error(429, {{"Retry-After", "3"}}, rl, 0);
  CHECK(*ra.retry_after == 3);
  std::string g = test::read_file(test::shared_data("fixtures/vercel-ai/google__google-429-retry-info.json"));
  Verdict gv = classify_http_error(429, {}, g, 0);
  CHECK(gv.retryable);  // a per-minute quota: wait and retry
  CHECK(*gv.retry_after == Approx(34.4));
}

TEST_CASE("client errors are not retried — auth, unknown model and daily quota stop the run", "[retry]") {
  CHECK_FALSE(classify_http_error(400, {}, R"({"error":{"message":"bad"}})", 0).retryable);
  CHECK_FALSE(classify_http_error(400, {}, "{}", 0).fatal);
  CHECK(classify_http_error(401, {}, "{}", 0).fatal);
  CHECK(classify_http_error(403, {}, "{}", 0).fatal);
  CHECK(classify_http_error(404, {}, "{}", 0).fatal);
  std::string daily = R"({"error":{"code":429,"status":"RESOURCE_EXHAUSTED","message":"quota","details":[{"@type":"type.googleapis.com/google.rpc.QuotaFailure","violations":[{"quotaId":"GenerateRequestsPerDayPerProjectPerModel-FreeTier"}]}]}})";
  CHECK(classify_http_error(429, {}, daily, 0).fatal);
  Verdict html = classify_http_error(502, {}, "<html><body>Bad gateway</body></html>", 0);
  CHECK(html.retryable);
  CHECK(html.message == "HTTP 502: HTML error page");
}

TEST_CASE("full-jitter backoff stays within its exponential ceiling", "[retry]") {
  Backoff b(0.5, 8, 42);
  for (int attempt = 1; attempt <= 8; ++attempt)
    for (int i = 0; i < 50; ++i) {
      double d = b.delay(attempt);
      CHECK(d >= 0);
      CHECK(d <= std::min(8.0, 0.5 * (1 << (attempt - 1))));
    }
}

TEST_CASE("keys are redacted from text", "[retry][security]") {
  std::string secret = std::string("sk-") + "test-SENTINEL-0123456789abcdef";  // fake
  CHECK(redact("Incorrect API key provided: " + secret + ".", secret).find("SENTINEL") == std::string::npos);
  CHECK(redact("key AIzaSyA1234567890abcdefghijklmnop leaked", "").find("AIza") == std::string::npos);
}

TEST_CASE("token buckets pace requests and AIMD halves on throttle and recovers", "[rate-limit]") {
  TokenBucket rpm(60);  // one per second, burst of 60
  double now = 0;
  for (int i = 0; i < 60; ++i) CHECK(rpm.acquire(1, now) == 0);
  CHECK(rpm.acquire(1, now) == Approx(1.0));
  CHECK(rpm.acquire(1, now + 1.0) == 0);
  AdaptiveConcurrency c(64);
  c.on_throttle();
  CHECK(c.limit() == 32);
  c.on_throttle();
  CHECK(c.limit() == 16);
  for (int i = 0; i < 2000; ++i) c.on_success();
  CHECK(c.limit() == 64);
  AdaptiveConcurrency one(1);
  one.on_throttle();
  CHECK(one.limit() == 1);
}
