#include "results/costs.h"

#include <catch2/catch.hpp>

#include "common/error.h"
#include "results/import.h"
#include "tests/support.h"

using namespace reckon;

TEST_CASE("spend breaks out the parts and compares provider-billed with computed cost", "[costs]") {
  test::TempDir tmp;
  Store s(tmp.file("r.db"), Store::Mode::kReadWrite);
  std::string csv = tmp.write("rows.csv",
                              "model,task,item_id,input_tokens,cache_read_tokens,output_tokens,reasoning_tokens,provider_cost_usd,created_at\n"
                              "gpt-5-mini,a,1,1000,400,500,300,,2026-11-01T10:00:00Z\n"
                              "gpt-5-mini,b,1,1000,400,500,300,0.002,2026-11-02T10:00:00Z\n");
  import_files(s, {csv}, {});
  auto by_model = spend(s, {"model"}, std::nullopt);
  REQUIRE(by_model.size() == 1);
  const CostRow& r = by_model[0];
  CHECK(r.requests == 2);
  CHECK(r.input == Approx(2 * 600 * 0.25e-6));
  CHECK(r.cache_read == Approx(2 * 400 * 0.025e-6));
  CHECK(r.output == Approx(2 * 200 * 2e-6));
  CHECK(r.reasoning == Approx(2 * 300 * 2e-6));
  CHECK(r.total == Approx(2 * 0.00116));
  CHECK(r.provider_billed == 1);
  CHECK(r.provider_cost - r.computed_where_billed == Approx(0.002 - 0.00116));
  auto by_day = spend(s, {"day", "task"}, std::nullopt);
  REQUIRE(by_day.size() == 2);
  CHECK(by_day[0].keys == std::vector<std::string>{"2026-11-01", "a"});
  CHECK_THROWS_WITH(spend(s, {"colour"}, std::nullopt), Catch::Contains("unknown dimension 'colour'"));
  CHECK(render_spend({"model"}, by_model).find("provider-billed") != std::string::npos);
}
