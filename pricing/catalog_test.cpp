#include "pricing/catalog.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "pricing/catalog_import.h"
#include "pricing/cost.h"
#include "tests/support.h"

using namespace reckon;

TEST_CASE("the built-in catalog prices the price-reversal models under their log names", "[catalog]") {
  PriceCatalog c = PriceCatalog::builtin();
  struct Want {
    const char* name;
    double listed;
  } wants[] = {{"gpt-5.2-high", 15.75},          {"gpt-5-mini", 2.25},
               {"gemini-3.1-pro-preview", 14.0}, {"gemini-3-flash-preview", 3.5},
               {"claude-opus-4.6-thinking", 30}, {"claude-haiku-4.5", 6},
               {"kimi-k2.5", 3.6},               {"MiniMax-M2.5", 1.5}};
  for (const auto& w : wants) {
    const PriceEntry* e = c.find(w.name, "2026-03-01");
    INFO(w.name);
    REQUIRE(e);
    CHECK(e->listed_price() == Approx(w.listed));
  }
}

TEST_CASE("lookup picks the entry in force on the date, and understands provider prefixes", "[catalog]") {
  PriceCatalog c;
  PriceEntry old_price;
  old_price.model = "m";
  old_price.effective_from = "2025-01-01";
  old_price.base.input = 1;
  old_price.base.output = 2;
  PriceEntry new_price = old_price;
  new_price.effective_from = "2026-01-01";
  new_price.base.input = 0.5;
  c.add(old_price);
  c.add(new_price);
  CHECK(c.find("m", "2025-06-01")->base.input == 1);
  CHECK(c.find("m", "2026-06-01")->base.input == 0.5);
  CHECK(c.find("M", "2026-01-01")->effective_from == "2026-01-01");
  CHECK(c.find("m", "2024-12-31") == nullptr);
  CHECK(c.find("openai:m", "2026-06-01") != nullptr);
  CHECK(PriceCatalog::builtin().find("gemini:gemini-3-flash-preview", "2026-11-01") != nullptr);
}

TEST_CASE("an entry with the same id replaces the earlier one", "[catalog]") {
  PriceCatalog c = PriceCatalog::builtin();
  size_t n = c.entries().size();
  PriceEntry e = *c.find("gpt-5-mini", "2026-11-01");
  e.base.input = 9;
  c.add(e);
  CHECK(c.entries().size() == n);
  CHECK(c.find("gpt-5-mini", "2026-11-01")->base.input == 9);
}

TEST_CASE("reckon's catalog JSON round-trips and bad entries name the field", "[catalog]") {
  PriceCatalog c = PriceCatalog::builtin();
  PriceCatalog back = PriceCatalog::from_json_text(c.to_json_text(), "roundtrip");
  REQUIRE(back.entries().size() == c.entries().size());
  CHECK(back.find("claude-sonnet-4-5", "2026-11-01")->tiers.size() == 1);
  CHECK_THROWS_WITH(PriceCatalog::from_json_text(R"({"entries":[{"model":"x","effective_from":"2026-01-01","input":"1"}]})", "f.json"),
                    Catch::Contains("f.json entries[0]") && Catch::Contains("'input'"));
  CHECK_THROWS_WITH(PriceCatalog::from_json_text(R"({"entries":[{"model":"x","effective_from":"01/02/2026","input":1,"output":2}]})", "f.json"),
                    Catch::Contains("effective_from"));
  CHECK_THROWS_WITH(PriceCatalog::from_json_text("{not json", "f.json"), Catch::Contains("not valid JSON"));
}

TEST_CASE("LiteLLM's table imports tiers, service tiers, cache writes and search fees", "[catalog][litellm]") {
  std::string path = test::shared_data("pricing/litellm_model_prices_and_context_window_mirror_2026-07-24.json");
  PriceCatalog c = import_litellm(path, "2026-07-24");
  CHECK(c.entries().size() > 2000);
  const PriceEntry* pro = c.find("gemini/gemini-3.1-pro-preview", "2026-08-01");
  REQUIRE(pro);
  CHECK(*pro->base.input == Approx(2.0));
  REQUIRE(pro->tiers.size() == 1);
  CHECK(pro->tiers[0].above_input_tokens == 200000);
  CHECK(*pro->tiers[0].rates.output == Approx(18.0));
  CHECK(*pro->service.at(ServiceTier::kBatch).input == Approx(1.0));
  CHECK(pro->per_search_fee == Approx(0.014));
  const PriceEntry* opus = c.find("claude-opus-4-6", "2026-08-01");
  REQUIRE(opus);
  CHECK(*opus->base.cache_write_5m == Approx(6.25));
  CHECK(*opus->base.cache_write_1h == Approx(10.0));
  // "moonshot/kimi-k2.5" also answers to "kimi-k2.5"
  CHECK(c.find("kimi-k2.5", "2026-08-01") != nullptr);
  CHECK(c.find("sample_spec", "2026-08-01") == nullptr);
  const PriceEntry* qwen = c.find("dashscope/qwen-flash", "2026-08-01");
  REQUIRE(qwen);
  CHECK(qwen->tiers.size() == 1);
  CHECK(qwen->tiers[0].above_input_tokens == 256000);
}

TEST_CASE("LiteLLM's tier reasoning keys and tiered_pricing bands price as LiteLLM's rules say", "[catalog][litellm]") {
  test::TempDir tmp;
  // Per token, as LiteLLM writes them. Worked out by hand per million tokens.
  const std::string path = tmp.write("p.json", R"({
    "think-model": {"mode": "chat", "input_cost_per_token": 1e-6, "output_cost_per_token": 4e-6,
                    "output_cost_per_reasoning_token": 4e-6,
                    "input_cost_per_token_priority": 2e-6, "output_cost_per_token_priority": 8e-6,
                    "output_cost_per_reasoning_token_priority": 9e-6},
    "banded": {"mode": "chat", "input_cost_per_token": 5e-6, "output_cost_per_token": 20e-6,
               "tiered_pricing": [{"range": [0, 32000], "input_cost_per_token": 1e-6, "output_cost_per_token": 2e-6},
                                  {"range": [32000, 128000], "input_cost_per_token": 3e-6},
                                  {"range": [128000, 1000000], "output_cost_per_token": 30e-6}]}
  })");
  PriceCatalog c = import_litellm(path, "2026-07-24");
  const PriceEntry* think = c.find("think-model", "2026-08-01");
  REQUIRE(think);
  // Priority: 1,000 in × $2 + (5,000 − 4,000) visible × $8 + 4,000 thinking × $9 (its own priority key).
  Usage u;
  u.input_tokens = 1000;
  u.output_tokens = 5000;
  u.reasoning_tokens = 4000;
  u.service_tier = ServiceTier::kPriority;
  CHECK(*cost(u, *think).total_usd == Approx((1000 * 2 + 1000 * 8 + 4000 * 9) * 1e-6));
  const PriceEntry* banded = c.find("banded", "2026-08-01");
  REQUIRE(banded);
  Usage b;
  b.output_tokens = 1000;
  b.cache_read_tokens = 0;
  // 10,000 prompt tokens: the first band, flat rates replaced: 10,000 × $1 + 1,000 × $2.
  b.input_tokens = 10000;
  CHECK(*cost(b, *banded).total_usd == Approx((10000 * 1 + 1000 * 2) * 1e-6));
  // 50,000: the second band, input $3; it states no output rate, so the model's own $20 (not free, not unpriced).
  b.input_tokens = 50000;
  CHECK(*cost(b, *banded).total_usd == Approx((50000 * 3 + 1000 * 20) * 1e-6));
  // Exactly 32,000 stays in the first band (a band holds start < prompt ≤ end).
  b.input_tokens = 32000;
  CHECK(*cost(b, *banded).total_usd == Approx((32000 * 1 + 1000 * 2) * 1e-6));
  // A band with no input rate prices nothing of its own: prompts in it pay the flat $5 / $20.
  b.input_tokens = 200000;
  CHECK(*cost(b, *banded).total_usd == Approx((200000 * 5 + 1000 * 20) * 1e-6));
  // Cached tokens in a band without a cache rate: at the band's input rate.
  b.input_tokens = 50000;
  b.cache_read_tokens = 10000;
  CHECK(*cost(b, *banded).total_usd == Approx((40000 * 3 + 10000 * 3 + 1000 * 20) * 1e-6));
}

TEST_CASE("web searches are priced by context size, per query or once per prompt", "[catalog][litellm]") {
  test::TempDir tmp;
  const std::string path = tmp.write("s.json", R"({
    "searcher": {"mode": "chat", "input_cost_per_token": 1e-6, "output_cost_per_token": 4e-6,
                 "search_context_cost_per_query": {"search_context_size_low": 0.025, "search_context_size_medium": 0.0275,
                                                   "search_context_size_high": 0.03}},
    "grounded-2.5": {"mode": "chat", "input_cost_per_token": 1e-6, "output_cost_per_token": 4e-6,
                     "search_context_cost_per_query": {"search_context_size_medium": 0.035}, "web_search_billing_unit": "per_prompt"}
  })");
  PriceCatalog c = import_litellm(path, "2026-07-24");
  const PriceEntry* s = c.find("searcher", "2026-08-01");
  REQUIRE(s);
  Usage u;
  u.search_requests = 2;
  u.search_context_size = "high";
  CHECK(cost(u, *s).fees_usd == Approx(2 * 0.03));
  u.search_context_size = "";  // unsaid: the medium price
  CHECK(cost(u, *s).fees_usd == Approx(2 * 0.0275));
  u.search_context_size = "low";
  CHECK(cost(u, *s).fees_usd == Approx(2 * 0.025));
  const PriceEntry* g = c.find("grounded-2.5", "2026-08-01");
  REQUIRE(g);
  REQUIRE(g->search_billed_per_prompt);
  u.search_requests = 3;  // three queries, one grounded prompt
  CHECK(cost(u, *g).fees_usd == Approx(0.035));
  // The entry round-trips through reckon's own JSON form.
  PriceEntry back = price_entry_from_json(to_json(*g), "round trip");
  CHECK(back.search_billed_per_prompt);
  CHECK(back.search_fee_by_context.at("medium") == Approx(0.035));
}

TEST_CASE("LiteLLM's off_peak_pricing imports as daily UTC windows", "[catalog][litellm]") {
  test::TempDir tmp;
  const std::string path = tmp.write("o.json", R"({
    "deepseek/deepseek-chat": {"mode": "chat", "input_cost_per_token": 2.7e-7, "output_cost_per_token": 1.1e-6,
      "off_peak_pricing": {"hours_utc": ["16:30-00:30"], "input_cost_per_token": 1.35e-7, "output_cost_per_token": 5.5e-7}}
  })");
  PriceCatalog c = import_litellm(path, "2026-07-24");
  const PriceEntry* e = c.find("deepseek/deepseek-chat", "2026-08-01");
  REQUIRE(e);
  REQUIRE(e->off_peak_windows.size() == 1);
  Usage u;
  u.input_tokens = 1000;
  u.output_tokens = 100;
  u.minute_utc = 17 * 60;
  CHECK(*cost(u, *e).total_usd == Approx((1000 * 0.135 + 100 * 0.55) * 1e-6));
  u.minute_utc = 9 * 60;
  CHECK(*cost(u, *e).total_usd == Approx((1000 * 0.27 + 100 * 1.1) * 1e-6));
}

TEST_CASE("LiteLLM's own cost cases, one row per upstream test", "[catalog][litellm]") {
  // Each row: a model entry and usage exactly as a LiteLLM test gives them (tests/test_litellm/
  // litellm_core_utils/llm_cost_calc/), and the total those rates make by LiteLLM's rule, worked out here.
  struct Row {
    const char* litellm_test;
    const char* entry;  // LiteLLM's per-token keys
    int64_t prompt, cached, completion;
    double total_usd;
  };
  const Row rows[] = {
      {"test_threshold_cost_selection.py::test_standalone_threshold_field_selects_tier[output_cost_per_token_above_32k_tokens]",
       R"({"input_cost_per_token": 1e-6, "output_cost_per_token": 2e-6, "cache_read_input_token_cost": 5e-7,
           "output_cost_per_token_above_32k_tokens": 18e-6})",
       40000, 0, 1000, 40000 * 1e-6 + 1000 * 18e-6},
      {"test_threshold_cost_selection.py::test_standalone_threshold_field_selects_tier[cache_read_input_token_cost_above_32k_tokens]",
       R"({"input_cost_per_token": 1e-6, "output_cost_per_token": 2e-6, "cache_read_input_token_cost": 5e-7,
           "cache_read_input_token_cost_above_32k_tokens": 4e-6})",
       40000, 10000, 1000, 30000 * 1e-6 + 10000 * 4e-6 + 1000 * 2e-6},
      {"test_threshold_cost_selection.py::test_cost_types_select_thresholds_independently",
       R"({"input_cost_per_token": 1e-6, "output_cost_per_token": 2e-6, "input_cost_per_token_above_128k_tokens": 9e-6,
           "output_cost_per_token_above_32k_tokens": 18e-6})",
       40000, 0, 1000, 40000 * 1e-6 + 1000 * 18e-6},
      {"test_threshold_cost_selection.py::test_equal_threshold_default_tier_keeps_standard",
       R"({"input_cost_per_token": 1e-6, "output_cost_per_token": 2e-6, "output_cost_per_token_above_200k_tokens": 1e-6,
           "output_cost_per_token_above_200k_tokens_priority": 1.5e-6})",
       250000, 0, 1000, 250000 * 1e-6 + 1000 * 1e-6},
      {"test_threshold_cost_selection.py::test_tier_qualified_threshold_is_ignored_under_the_default_tier",
       R"({"input_cost_per_token": 1e-6, "output_cost_per_token": 2e-6, "cache_read_input_token_cost": 5e-7,
           "output_cost_per_token_above_200k_tokens_priority": 1.5e-6})",
       250000, 0, 1000, 250000 * 1e-6 + 1000 * 2e-6},
      {"test_tiered_pricing.py::test_calculate_tiered_cost_honors_explicit_zero_primary_rate",
       R"({"input_cost_per_token": 1e-6, "output_cost_per_token": 2e-6,
           "tiered_pricing": [{"range": [0, 100000], "input_cost_per_token": 1e-6, "cache_read_input_token_cost": 0.0}]})",
       10000, 10000, 0, 0.0},
      {"test_tiered_pricing.py::test_calculate_tiered_cost_falls_back_when_primary_rate_is_missing",
       R"({"input_cost_per_token": 1e-6, "output_cost_per_token": 2e-6,
           "tiered_pricing": [{"range": [0, 100000], "input_cost_per_token": 1e-6}]})",
       10000, 10000, 0, 10000 * 1e-6},
  };
  test::TempDir tmp;
  for (const Row& row : rows) {
    INFO(row.litellm_test);
    nlohmann::json table{{"m", nlohmann::json::parse(row.entry)}};
    table["m"]["mode"] = "chat";
    PriceCatalog c = import_litellm(tmp.write("row.json", table.dump()), "2026-07-24");
    const PriceEntry* e = c.find("m", "2026-08-01");
    REQUIRE(e);
    Usage u;
    u.input_tokens = row.prompt;
    u.cache_read_tokens = row.cached;
    u.output_tokens = row.completion;
    CHECK(*cost(u, *e).total_usd == Approx(row.total_usd).margin(1e-12));
  }
  // Beyond LiteLLM's test, the same entry past both thresholds: each restated rate holds from its own.
  test::TempDir more;
  nlohmann::json both{{"m", nlohmann::json::parse(R"({"mode": "chat", "input_cost_per_token": 1e-6, "output_cost_per_token": 2e-6,
      "input_cost_per_token_above_128k_tokens": 9e-6, "output_cost_per_token_above_32k_tokens": 18e-6})")}};
  PriceCatalog c = import_litellm(more.write("both.json", both.dump()), "2026-07-24");
  Usage u;
  u.input_tokens = 200000;
  u.output_tokens = 1000;
  CHECK(*cost(u, *c.find("m", "2026-08-01")).total_usd == Approx(200000 * 9e-6 + 1000 * 18e-6));
}

TEST_CASE("the byte-exact upstream LiteLLM file imports too", "[catalog][litellm]") {
  std::string path = test::shared_data(
      "mirror/BerriAI/litellm/be9f2e026c24a108e740f8a19bd8cfc1ec535523/model_prices_and_context_window.json");
  PriceCatalog c = import_litellm(path, "2025-11-22");
  CHECK(c.entries().size() > 1000);
  CHECK(c.find("gpt-4o", "2025-12-01") != nullptr);
}

TEST_CASE("a malformed LiteLLM price names the model and the field", "[catalog][litellm]") {
  test::TempDir tmp;
  std::string p = tmp.write("prices.json", R"({"m1": {"mode": "chat", "input_cost_per_token": "cheap", "output_cost_per_token": 1e-6}})");
  CHECK_THROWS_WITH(import_litellm(p, "2026-01-01"), Catch::Contains("'m1'") && Catch::Contains("input_cost_per_token"));
  std::string bad = tmp.write("bad.json", "[1,2");
  CHECK_THROWS_WITH(import_litellm(bad, "2026-01-01"), Catch::Contains("bad.json") && Catch::Contains("not valid JSON"));
}

TEST_CASE("the price-reversal model_info.json imports the paper's prices", "[catalog]") {
  PriceCatalog c = import_model_info(test::shared_data("price_reversal/model_info.json"));
  REQUIRE(c.entries().size() == 8);
  const PriceEntry* gpt = c.find("gpt-5.2-high", "2026-03-01");
  REQUIRE(gpt);
  CHECK(gpt->effective_from == "2026-02-28");
  CHECK(gpt->listed_price() == Approx(15.75));
  CHECK(c.find("gpt-5.2", "2026-03-01") == gpt);  // api_model_id alias
  const PriceEntry* pro = c.find("gemini-3.1-pro-preview", "2026-03-01");
  REQUIRE(pro->tiers.size() == 1);
  CHECK(*pro->tiers[0].rates.input == Approx(4.0));
  CHECK(*c.find("claude-haiku-4.5", "2026-03-01")->service.at(ServiceTier::kBatch).output == Approx(2.5));
}

TEST_CASE("every built-in model whose provider sells batch has a batch price at half the standard rates", "[prices]") {
  // OpenAI's Batch API, Anthropic's Message Batches and Gemini's Batch Mode each bill 50 % of the standard
  // rates: a batch quote of 1M input and 1M output tokens is half the standard one.
  size_t quoted = 0;
  const PriceCatalog builtin = PriceCatalog::builtin();
  for (const auto& e : builtin.entries()) {
    if (e.provider != "openai" && e.provider != "anthropic" && e.provider != "gemini") continue;
    INFO(e.id());
    Usage u;
    u.input_tokens = 1000000;
    u.output_tokens = 1000000;
    const double standard = *cost(u, e).total_usd;
    u.service_tier = ServiceTier::kBatch;
    REQUIRE_NOTHROW(cost(u, e));
    CHECK(*cost(u, e).total_usd == Approx(standard / 2).epsilon(1e-12));
    ++quoted;
  }
  CHECK(quoted == 23);
}

TEST_CASE("a lookup tries the full name, then provider/model, then the bare model, and says which answered", "[prices]") {
  PriceCatalog c = PriceCatalog::builtin();
  auto l = c.lookup("openai:gpt-5-mini", "2026-12-01");
  REQUIRE(l.entry);
  CHECK(l.matched == "gpt-5-mini");
  CHECK(l.tried == std::vector<std::string>{"openai:gpt-5-mini", "openai/gpt-5-mini", "gpt-5-mini"});
  PriceEntry specific = *l.entry;
  specific.model = "openai/gpt-5-mini";
  specific.base.input = 9;
  c.add(specific);
  auto s = c.lookup("openai:gpt-5-mini", "2026-12-01");
  CHECK(s.matched == "openai/gpt-5-mini");  // the more specific name wins even at an older date
  CHECK(s.entry->base.input == 9);
  CHECK_FALSE(c.lookup("vllm:nothing", "2026-12-01").entry);
}
