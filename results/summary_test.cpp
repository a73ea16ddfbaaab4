#include "results/summary.h"

#include <catch2/catch.hpp>

#include "results/import.h"
#include "tests/support.h"

using namespace reckon;

TEST_CASE("the summary gives accuracy with a Wilson interval, unknown thinking, latency and pass@k", "[summary]") {
  test::TempDir tmp;
  Store s(tmp.file("r.db"), Store::Mode::kReadWrite);
  std::string csv = tmp.write("rows.csv",
                              "model,task,item_id,repeat,input_tokens,output_tokens,reasoning_tokens,score,latency_ms\n"
                              "gpt-5-mini,code,1,0,10,10,5,1,100\n"
                              "gpt-5-mini,code,1,1,10,10,5,0,200\n"
                              "gpt-5-mini,code,1,2,10,10,5,0,300\n"
                              "gpt-5-mini,code,2,0,10,10,,0,400\n"
                              "gpt-5-mini,code,2,1,10,10,,0,500\n"
                              "gpt-5-mini,code,2,2,10,10,,0,600\n");
  import_files(s, {csv}, {});
  auto rows = summarize(s, std::nullopt);
  REQUIRE(rows.size() == 1);
  const auto& m = rows[0];
  CHECK(*m.accuracy == Approx(1.0 / 6));
  CHECK(*m.ci_low > 0);
  CHECK(*m.ci_high < 0.7);
  CHECK(m.reasoning_tokens == 15);
  CHECK(m.reasoning_unknown_rows == 3);
  CHECK(*m.latency_p50_ms == Approx(350));
  CHECK(m.pass_k == 3);
  CHECK(*m.pass_at_k == Approx(0.5));  // item 1 solved in 3 tries, item 2 never
  std::string text = render_summary(rows);
  CHECK(text.find("pass@3 50.0%") != std::string::npos);
  CHECK(text.find("15 (+3 unknown)") != std::string::npos);
}
