#include "providers/replay.h"

#include <catch2/catch.hpp>

#include "common/error.h"
#include "providers/client.h"
#include "tests/support.h"

using namespace reckon;

TEST_CASE("replay answers the price-reversal prompts with the recorded outputs and usage", "[replay]") {
  std::string dir = test::shared_data(
      "mirror/lchen001/pricing-reversal/69f5f1a0e89ee5bdd6599d46a1bf74a55b22f27d/data/consolidated");
  ReplaySource src;
  src.load(dir);
  CHECK(src.size() == 2064);
  auto logs = nlohmann::json::parse(test::read_file(dir + "/aime-hybrid-gpt-5-mini.json"));
  const auto& rec = logs["records"][0];
  FakeClock clock;
  ModelClient client({}, clock);
  client.set_replay(&src);
  CallResult got;
  client.submit({{"replay", "gpt-5-mini", {}}, {{"user", rec["prompt"].get<std::string>()}}}, 0,
                [&](const ChatRequest&, const CallResult& r) { got = r; });
  client.run();
  REQUIRE(got.ok);
  CHECK(got.completion.text == rec["raw_output"].get<std::string>());
  CHECK(got.completion.usage.input_tokens == rec["prompt_tokens"].get<int64_t>());
  CHECK(got.completion.usage.output_tokens == rec["completion_tokens"].get<int64_t>());
  CHECK(*got.completion.usage.reasoning_tokens == rec["thinking_tokens"].get<int64_t>());
  CHECK_FALSE(src.find("gpt-5-mini", {{"user", "a prompt never recorded"}}, 0).has_value());
}

TEST_CASE("a cassette answers repeats in order and bad lines are named", "[replay]") {
  test::TempDir tmp;
  std::string c = tmp.write("c.jsonl",
                            R"({"model":"m","messages":[{"role":"user","content":"q"}],"text":"a0","usage":{"input_tokens":3,"output_tokens":5,"reasoning_tokens":2}})"
                            "\n"
                            R"({"model":"m","messages":[{"role":"user","content":"q"}],"text":"a1","usage":{"input_tokens":3,"output_tokens":9}})"
                            "\n");
  ReplaySource src;
  src.load(c);
  CHECK(src.find("m", {{"user", "q"}}, 0)->text == "a0");
  auto second = src.find("m", {{"user", "q"}}, 1);
  CHECK(second->text == "a1");
  CHECK_FALSE(second->usage.reasoning_tokens.has_value());
  std::string bad = tmp.write("bad.jsonl", "{\"model\":\"m\"}\n");
  ReplaySource b;
  CHECK_THROWS_WITH(b.load(bad), Catch::Contains("bad.jsonl:1") && Catch::Contains("messages"));
}
