#include "pricing/cost.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "pricing/catalog.h"

using namespace reckon;

namespace {

const PriceEntry& builtin(const std::string& model) {
  static const PriceCatalog c = PriceCatalog::builtin();
  const PriceEntry* e = c.find(model, "2026-11-28");
  REQUIRE(e);
  return *e;
}

Usage usage(int64_t in, int64_t out) {
  Usage u;
  u.input_tokens = in;
  u.output_tokens = out;
  return u;
}

}  // namespace

TEST_CASE("cached input is billed at the cached rate and thinking at the output rate", "[cost]") {
  // gpt-5-mini: $0.25 in, $0.025 cached, $2.00 out per MTok
  Usage u = usage(1000, 500);
  u.cache_read_tokens = 400;
  u.reasoning_tokens = 300;
  CostBreakdown c = cost(u, builtin("gpt-5-mini"));
  CHECK(c.input_usd == Approx(600 * 0.25e-6));
  CHECK(c.cache_read_usd == Approx(400 * 0.025e-6));
  CHECK(c.output_usd == Approx(200 * 2e-6));
  CHECK(c.reasoning_usd == Approx(300 * 2e-6));
  CHECK(*c.total_usd == Approx(0.00116));
  CHECK(c.price_entry_id == "gpt-5-mini@2026-02-28");
}

TEST_CASE("Anthropic cache writes: 5-minute at 1.25x, 1-hour at 2x, reads at 0.1x", "[cost]") {
  // claude-opus-4-6: $5 in, $0.50 read, $6.25 5m write, $10 1h write, $25 out
  Usage u = usage(10000, 1000);
  u.cache_read_tokens = 5000;
  u.cache_write_5m_tokens = 2000;
  u.cache_write_1h_tokens = 1000;
  CostBreakdown c = cost(u, builtin("anthropic:claude-opus-4-6"));
  CHECK(c.input_usd == Approx(0.01));
  CHECK(c.cache_read_usd == Approx(0.0025));
  CHECK(c.cache_write_usd == Approx(0.0125 + 0.01));
  CHECK(c.output_usd == Approx(0.025));
  CHECK(c.reasoning_usd == 0);  // thinking count unknown: it stays inside output
  CHECK(*c.total_usd == Approx(0.06));
}

TEST_CASE("a prompt over 200k tokens reprices the whole request at the long-context tier", "[cost]") {
  // claude-sonnet-4-5: $3/$15, above 200k: $6/$22.50
  const PriceEntry& e = builtin("claude-sonnet-4-5");
  CostBreakdown at = cost(usage(200000, 1000), e);
  CHECK_FALSE(at.long_context_tier);
  CHECK(*at.total_usd == Approx(0.6 + 0.015));
  CostBreakdown over = cost(usage(250000, 1000), e);
  CHECK(over.long_context_tier);
  CHECK(*over.total_usd == Approx(1.5 + 0.0225));
  Usage cached = usage(250000, 0);
  cached.cache_read_tokens = 100000;
  CHECK(cost(cached, e).cache_read_usd == Approx(100000 * 0.6e-6));
}

TEST_CASE("batch rates replace standard ones, and scale a long-context tier", "[cost]") {
  Usage u = usage(1000000, 1000000);
  u.service_tier = ServiceTier::kBatch;
  CHECK(*cost(u, builtin("gpt-4.1")).total_usd == Approx(1.0 + 4.0));  // batch $1/$4 vs $2/$8
  // gemini-3.1-pro: batch $1/$6 (half of $2/$12); above 200k $4/$18 -> batch $2/$9
  Usage long_batch = usage(300000, 10000);
  long_batch.service_tier = ServiceTier::kBatch;
  CHECK(*cost(long_batch, builtin("gemini-3.1-pro-preview")).total_usd == Approx(0.6 + 0.09));
}

TEST_CASE("a service tier the entry has no price for is an error, never standard", "[cost]") {
  Usage u = usage(10, 10);
  u.service_tier = ServiceTier::kFlex;
  CHECK_THROWS_WITH(cost(u, builtin("claude-opus-4-6")), Catch::Contains("no flex price"));
}

TEST_CASE("reasoning at a separate rate when the entry sets one", "[cost]") {
  PriceEntry e;
  e.model = "deep-research";
  e.effective_from = "2026-01-01";
  e.base.input = 2;
  e.base.output = 3;
  e.base.reasoning = 8;
  Usage u = usage(0, 1000);
  u.reasoning_tokens = 600;
  CostBreakdown c = cost(u, e);
  CHECK(c.output_usd == Approx(400 * 3e-6));
  CHECK(c.reasoning_usd == Approx(600 * 8e-6));
}

TEST_CASE("xAI usage normalized (reasoning outside completion) matches the billed cost ticks", "[cost]") {
  // Recorded grok-3-mini body: prompt 12 (2 cached), completion 1, reasoning 228, cost_in_usd_ticks 1176500
  Usage u = usage(12, 1 + 228);
  u.cache_read_tokens = 2;
  u.reasoning_tokens = 228;
  u.provider_cost_usd = 1176500 * 1e-10;
  CostBreakdown c = cost(u, builtin("xai:grok-3-mini"));
  CHECK(*c.total_usd == Approx(0.00011765));
  CHECK(*c.provider_cost_usd == Approx(*c.total_usd));  // kept beside, not mixed in
}

TEST_CASE("per-request and per-search fees are added", "[cost]") {
  Usage u = usage(0, 0);
  u.search_requests = 3;
  PriceEntry e = builtin("claude-opus-4-6");
  e.per_request_fee = 0.005;
  CHECK(cost(u, e).fees_usd == Approx(0.005 + 3 * 0.01));
}

TEST_CASE("thinking under a service tier is billed at the tier's output rate", "[cost]") {
  // gemini-3-flash-preview: $0.5 / $3 per million, reasoning $3 stated apart; priority $0.9 / $5.4.
  // 1,000 in, 5,000 out of which 4,000 thinking: 1,000 × 0.9 + 1,000 × 5.4 + 4,000 × 5.4 (3 scaled by 5.4 / 3).
  Usage u = usage(1000, 5000);
  u.reasoning_tokens = 4000;
  u.service_tier = ServiceTier::kPriority;
  CostBreakdown c = cost(u, builtin("gemini-3-flash-preview"));
  CHECK(c.input_usd == Approx(1000 * 0.9e-6));
  CHECK(c.output_usd == Approx(1000 * 5.4e-6));
  CHECK(c.reasoning_usd == Approx(4000 * 5.4e-6));
  CHECK(*c.total_usd == Approx(0.0279));
  u.service_tier = ServiceTier::kStandard;
  CHECK(cost(u, builtin("gemini-3-flash-preview")).reasoning_usd == Approx(4000 * 3e-6));
}

TEST_CASE("audio tokens at their own rates, and the fast tier at its rates or priority's", "[cost]") {
  PriceEntry e = price_entry_from_json(nlohmann::json::parse(R"({"model": "audio-model", "effective_from": "2026-01-01",
      "input": 2.5, "output": 10, "audio_input": 40, "audio_output": 80,
      "priority": {"input": 5, "output": 20}})"),
                                       "test");
  // 1,000 input of which 600 audio, 500 output of which 300 audio:
  // 400 × 2.5 + 600 × 40 + 200 × 10 + 300 × 80 = 51,000 per million = $0.051.
  Usage u = usage(1000, 500);
  u.audio_input_tokens = 600;
  u.audio_output_tokens = 300;
  CostBreakdown c = cost(u, e);
  CHECK(c.input_usd == Approx((400 * 2.5 + 600 * 40) * 1e-6));
  CHECK(c.output_usd == Approx((200 * 10 + 300 * 80) * 1e-6));
  CHECK(*c.total_usd == Approx(0.051));
  // Fast mode, priced as LiteLLM does: its own rates when the entry has them, else priority's.
  Usage f = usage(1000, 100);
  f.service_tier = ServiceTier::kFast;
  CHECK(*cost(f, e).total_usd == Approx((1000 * 5 + 100 * 20) * 1e-6));
  e.service[ServiceTier::kFast] = Rates{6.0, std::nullopt, std::nullopt, std::nullopt, 30.0};
  CHECK(*cost(f, e).total_usd == Approx((1000 * 6 + 100 * 30) * 1e-6));
  CHECK(parse_service_tier("fast") == ServiceTier::kFast);
}

TEST_CASE("off-peak windows replace the rates for the whole request, and a region multiplier scales token costs", "[cost]") {
  // DeepSeek-style: $0.27 / $1.10, cache hits $0.07; off-peak 16:30-00:30 UTC: $0.135 / $0.55 (cache hits unstated).
  PriceEntry e = price_entry_from_json(nlohmann::json::parse(R"({"model": "ds", "effective_from": "2026-01-01",
      "input": 0.27, "output": 1.10, "cached_input": 0.07,
      "off_peak": {"hours_utc": ["16:30-00:30"], "input": 0.135, "output": 0.55},
      "region_multipliers": {"us": 1.1}})"),
                                       "test");
  Usage u = usage(1000, 200);
  u.cache_read_tokens = 400;
  const double peak = (600 * 0.27 + 400 * 0.07 + 200 * 1.10) * 1e-6;
  const double off = (600 * 0.135 + 400 * 0.07 + 200 * 0.55) * 1e-6;  // the unstated cache rate stays
  u.minute_utc = 12 * 60;  // noon: peak
  CHECK(*cost(u, e).total_usd == Approx(peak));
  CHECK_FALSE(cost(u, e).off_peak);
  u.minute_utc = 16 * 60 + 30;  // the window opens (inclusive)
  CHECK(*cost(u, e).total_usd == Approx(off));
  CHECK(cost(u, e).off_peak);
  u.minute_utc = 0;  // past midnight, still inside (wraps)
  CHECK(*cost(u, e).total_usd == Approx(off));
  u.minute_utc = 30;  // the window closes (exclusive)
  CHECK(*cost(u, e).total_usd == Approx(peak));
  u.minute_utc.reset();  // time unknown: the standard prices
  CHECK(*cost(u, e).total_usd == Approx(peak));
  u.inference_geo = "us";
  CHECK(*cost(u, e).total_usd == Approx(peak * 1.1));
  u.inference_geo = "global";
  CHECK(*cost(u, e).total_usd == Approx(peak));
  CHECK(minute_of_day_utc("2026-11-28T16:45:10Z") == 16 * 60 + 45);
  CHECK_FALSE(minute_of_day_utc("2026-11-28").has_value());
  // Round trip through reckon's JSON form.
  PriceEntry back = price_entry_from_json(to_json(e), "round trip");
  REQUIRE(back.off_peak_windows.size() == 1);
  CHECK(back.off_peak_windows[0] == std::make_pair(16 * 60 + 30, 30));
  CHECK(back.region_multipliers.at("us") == Approx(1.1));
  CHECK_THROWS_WITH(price_entry_from_json(nlohmann::json::parse(R"({"model": "x", "effective_from": "2026-01-01", "input": 1,
      "output": 1, "off_peak": {"hours_utc": ["25:00-26:00"]}})"), "bad.json"), Catch::Contains("off_peak.hours_utc"));
}

TEST_CASE("usage that never arrived has unknown cost, not zero", "[cost]") {
  Usage u;
  u.usage_complete = false;
  CostBreakdown c = cost(u, builtin("gpt-5-mini"));
  CHECK_FALSE(c.total_usd.has_value());
}

TEST_CASE("inconsistent usage is flagged and priced as reported, never as negative tokens", "[cost]") {
  // OpenRouter routing to Gemini reported cached_tokens 2161 and cache_write_tokens 2161 of 2168 prompt tokens.
  // gpt-5-mini: $0.25 input, $0.025 cached, writes at the input rate, $2 output per million.
  Usage u = usage(2168, 10);
  u.cache_read_tokens = 2161;
  u.cache_write_5m_tokens = 2161;
  REQUIRE(usage_inconsistency(u).has_value());
  CHECK(*usage_inconsistency(u) == "cache reads and writes (4322) exceed input tokens (2168)");
  CostBreakdown c = cost(u, builtin("gpt-5-mini"));
  CHECK(c.input_usd == 0);                                 // no uncached rest
  CHECK(c.cache_read_usd == Approx(2161 * 0.025e-6));      // reads at the cached rate
  CHECK(c.cache_write_usd == Approx(2161 * 0.25e-6));      // writes at the write (here input) rate
  CHECK(c.output_usd == Approx(10 * 2e-6));
  // An OpenRouter stream reported 11 reasoning tokens with 10 completion tokens: the 10 are billed, all as thinking.
  Usage r = usage(100, 10);
  r.reasoning_tokens = 11;
  CHECK(*usage_inconsistency(r) == "reasoning tokens (11) exceed output tokens (10)");
  CostBreakdown cr = cost(r, builtin("gpt-5-mini"));
  CHECK(cr.output_usd == 0);
  CHECK(cr.reasoning_usd == Approx(10 * 2e-6));
  CHECK(*cr.total_usd == Approx(100 * 0.25e-6 + 10 * 2e-6));
  CHECK_FALSE(usage_inconsistency(usage(100, 10)).has_value());
  Usage neg = usage(100, 10);
  neg.output_tokens = -1;
  CHECK_THROWS_AS(cost(neg, builtin("gpt-5-mini")), InputError);
}

TEST_CASE("paper cost: prompt x input + completion x output, thinking optional", "[cost]") {
  // First AIME record of gpt-5-mini in the price-reversal logs: 209 prompt, 1359 completion
  // (970 thinking), recorded cost 0.00277025.
  Usage u = usage(209, 1359);
  u.reasoning_tokens = 970;
  const PriceEntry& e = builtin("gpt-5-mini");
  CHECK(paper_cost(u, e) == Approx(0.00277025));
  CHECK(paper_cost(u, e, true) == Approx((209 * 0.25 + 389 * 2.0) * 1e-6));
  CHECK(e.listed_price() == Approx(2.25));
}
