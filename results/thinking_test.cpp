#include "results/thinking.h"

#include <catch2/catch.hpp>
#include <filesystem>

#include "results/import.h"
#include "tests/support.h"

using namespace reckon;

TEST_CASE("repeat-run noise of the published AIME reruns", "[thinking][price-reversal]") {
  std::string dir = test::shared_data(
      "mirror/lchen001/pricing-reversal/69f5f1a0e89ee5bdd6599d46a1bf74a55b22f27d/data/repeated_trial/aime");
  std::vector<std::string> files;
  for (const auto& m : std::filesystem::directory_iterator(dir))
    for (const auto& f : std::filesystem::directory_iterator(m.path())) files.push_back(f.path().string());
  REQUIRE(files.size() == 15);
  test::TempDir tmp;
  Store s(tmp.file("r.db"), Store::Mode::kReadWrite);
  ImportResult imp = import_files(s, files, {});
  CHECK(imp.inserted == 900);
  CHECK(imp.repeated_in_input.size() == 2);  // gpt-5.2-high run2 item 44 and run4 item 6 appear twice
  ThinkingReport r = analyze_thinking(s, std::nullopt);
  REQUIRE(r.noise.size() == 3);
  for (const auto& n : r.noise) {
    INFO(n.model);
    CHECK(n.queries == 60);
    CHECK(n.repeats == 300);
    CHECK(*n.median_thinking_cv > 0.05);
    CHECK(*n.median_max_min >= 1.0);
    CHECK(*n.p90_max_min >= *n.median_max_min);
    CHECK(*n.query_cost_p90 >= *n.query_cost_p50);
  }
  CHECK_NOTHROW(render_thinking(r));
}

TEST_CASE("thinking shares, cross-model ratios and cut-off answers", "[thinking]") {
  test::TempDir tmp;
  Store s(tmp.file("r.db"), Store::Mode::kReadWrite);
  std::string csv = tmp.write("rows.csv",
                              "model,task,item_id,input_tokens,output_tokens,reasoning_tokens,finish_reason\n"
                              "gpt-5-mini,t,1,10,1000,900,stop\n"
                              "gpt-5.2,t,1,10,300,200,stop\n"
                              "gpt-5-mini,t,2,10,2048,2048,length\n"
                              "gpt-5.2,t,2,10,500,400,stop\n"
                              "claude-haiku-4-5,t,1,10,50,,stop\n");
  import_files(s, {csv}, {});
  ThinkingReport r = analyze_thinking(s, std::nullopt);
  const ThinkingShare* mini = nullptr;
  const ThinkingShare* haiku = nullptr;
  for (const auto& x : r.shares) {
    if (x.model == "gpt-5-mini") mini = &x;
    if (x.model == "claude-haiku-4-5") haiku = &x;
  }
  REQUIRE(mini);
  CHECK(*mini->token_share() == Approx(2948.0 / 3048.0));
  CHECK(mini->truncated == 1);
  CHECK(mini->no_visible_output == 1);
  REQUIRE(haiku);
  CHECK(haiku->reasoning_known == 0);
  CHECK_FALSE(haiku->token_share().has_value());  // unknown, not 0 %
  REQUIRE(r.spreads.size() == 1);
  CHECK(r.spreads[0].items == 2);
  CHECK(r.spreads[0].top[0].ratio() == Approx(2048.0 / 400.0));
  CHECK(r.spreads[0].top[0].most_model == "gpt-5-mini");
  CHECK(r.noise.empty());  // no repeats
}
