#include "pricing/catalog.h"

#include <catch2/catch.hpp>

#include "common/error.h"
#include "pricing/catalog_import.h"
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
