#include "results/thinking.h"

#include <catch2/catch.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>

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
    CHECK(*n.median_thinking_cv > 0.05);  // the published reruns do vary (the exact rule: the fixture below)
  }
}

TEST_CASE("repeat-run noise: CV, max/min and per-query cost quantiles worked out by hand", "[thinking]") {
  // gpt-5-mini at $0.25 / $2 per million tokens, no input: a request costs output × $2e-6.
  //   item 1: thinking 100, 200, 300 (output 200, 300, 400 → $0.0004, $0.0006, $0.0008)
  //   item 2: thinking 400, 400      (output 500, 500      → $0.0010, $0.0010)
  //   item 3: one answer only — not a repeat, left out.
  // Thinking CV (sample sd / mean): item 1 100/200 = 0.5, item 2 0 → median 0.25, p90 0 + 0.9 × 0.5 = 0.45.
  // Cost CV: item 1 0.0002/0.0006 = 1/3, item 2 0 → median 1/6.
  // Max/min thinking: 3 and 1 → median 2, p90 1 + 0.9 × 2 = 2.8, worst 3.
  // Cost per request over the 5 repeats: 0.0004 0.0006 0.0008 0.0010 0.0010 → p50 0.0008, p90 (pos 3.6) 0.0010.
  test::TempDir tmp;
  Store s(tmp.file("r.db"), Store::Mode::kReadWrite);
  std::string csv = tmp.write("rows.csv",
                              "model,task,item_id,repeat,input_tokens,output_tokens,reasoning_tokens\n"
                              "gpt-5-mini,t,1,0,0,200,100\n"
                              "gpt-5-mini,t,1,1,0,300,200\n"
                              "gpt-5-mini,t,1,2,0,400,300\n"
                              "gpt-5-mini,t,2,0,0,500,400\n"
                              "gpt-5-mini,t,2,1,0,500,400\n"
                              "gpt-5-mini,t,3,0,0,900,800\n");
  import_files(s, {csv}, {});
  ThinkingReport r = analyze_thinking(s, std::nullopt);
  REQUIRE(r.noise.size() == 1);
  const RepeatNoise& n = r.noise[0];
  CHECK(n.queries == 2);
  CHECK(n.repeats == 5);
  CHECK(*n.median_thinking_cv == Approx(0.25));
  CHECK(*n.p90_thinking_cv == Approx(0.45));
  CHECK(*n.median_cost_cv == Approx(1.0 / 6.0));
  CHECK(*n.median_max_min == Approx(2.0));
  CHECK(*n.p90_max_min == Approx(2.8));
  CHECK(*n.max_max_min == Approx(3.0));
  CHECK(*n.query_cost_p50 == Approx(0.0008));
  CHECK(*n.query_cost_p90 == Approx(0.0010));
  // The JSON the CLI and the dashboard serve carries the same numbers.
  nlohmann::json j = thinking_json(r);
  CHECK(j["noise"][0]["median_max_min"].get<double>() == Approx(2.0));
  CHECK(j["noise"][0]["query_cost_p90"].get<double>() == Approx(0.0010));
  CHECK(j["noise"][0]["queries"].get<int>() == 2);
  // And the table prints them.
  std::string text = render_thinking(r);
  CHECK(text.find("2.00×") != std::string::npos);
  CHECK(text.find("2.80×") != std::string::npos);
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
                              "gpt-5-mini,t,3,10,700,700,stop\n"     // all thinking, not flagged as cut
                              "gpt-5-mini,t,4,10,800,100,length\n"   // cut, with a visible start
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
  CHECK(*mini->token_share() == Approx((900.0 + 2048 + 700 + 100) / (1000.0 + 2048 + 700 + 800)));
  CHECK(mini->truncated == 2);          // items 2 and 4
  CHECK(mini->no_visible_output == 2);  // items 2 and 3
  CHECK(mini->cut_off == 3);            // items 2, 3, 4: as the reversal tables count "cut off"
  REQUIRE(haiku);
  CHECK(haiku->reasoning_known == 0);
  CHECK_FALSE(haiku->token_share().has_value());  // unknown, not 0 %
  REQUIRE(r.spreads.size() == 1);
  CHECK(r.spreads[0].items == 2);
  CHECK(r.spreads[0].top[0].ratio() == Approx(2048.0 / 400.0));
  CHECK(r.spreads[0].top[0].most_model == "gpt-5-mini");
  CHECK(r.noise.empty());  // no repeats
}
