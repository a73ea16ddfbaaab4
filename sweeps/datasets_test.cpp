#include "sweeps/datasets.h"

#include <catch2/catch.hpp>
#include <fstream>
#include <set>

#include "common/error.h"
#include "common/jsonl.h"
#include "tests/support.h"

using namespace reckon;

namespace {

// 60 prompts answered by three models: `cheap` (cost 1) right on even items with a partial score,
// `mid` (cost 2) right on multiples of 3, `big` (cost 5) always right. Item 7's prompt is also
// asked as item 7b; `big` answers item 1 twice with the same text; item 5 is a message list.
void fill(Store& st) {
  st.add_run("run1", "test", "unit");
  int64_t fp = 0;
  auto add = [&](const std::string& model, const std::string& item, const std::string& prompt, const std::string& response, double score,
                 double cost, int64_t repeat = 0) {
    RequestRecord r;
    r.fingerprint = "fp" + std::to_string(fp++);
    r.run_id = "run1";
    r.model = model;
    r.task = "qa";
    r.item_id = item;
    r.repeat = repeat;
    r.created_at = "2026-11-28T00:00:00Z";
    r.usage.usage_complete = true;
    r.cost.total_usd = cost;
    r.prompt = prompt;
    r.response = response;
    r.score = score;
    st.insert_request(r);
  };
  for (int i = 0; i < 60; ++i) {
    const std::string id = std::to_string(i);
    const std::string prompt = i == 5 ? R"([{"role":"system","content":"Be brief."},{"role":"user","content":"question 5"}])"
                                      : "question " + id;
    add("cheap", id, prompt, "cheap answer " + id, i % 2 == 0 ? 0.6 : 0.0, 1);
    add("mid", id, prompt, "mid answer " + id, i % 3 == 0 ? 1.0 : 0.0, 2);
    add("big", id, prompt, "big answer " + id, 1.0, 5);
  }
  add("big", "1", "question 1", "big answer 1", 1.0, 5, 1);       // a repeat with the same text
  add("cheap", "7b", "question 7", "cheap answer 7b", 0.0, 1);    // the same prompt under another item
}

std::string prompt_key(const nlohmann::json& messages) {
  std::string k;
  for (const auto& m : messages)
    if (m["role"] != "assistant") k += m["role"].get<std::string>() + ":" + m["content"].get<std::string>() + "|";
  return k;
}

}  // namespace

TEST_CASE("training records are laid out exactly as TRL and OpenAI fine-tuning read them", "[datasets]") {
  const SftRecord sft{{{"system", "s"}, {"user", "u"}}, "a"};
  const PreferenceRecord pair{{{"user", "u"}}, "good", "bad"};
  CHECK(to_json(sft, TrainingStyle::kTrl).dump() ==
        R"({"messages":[{"content":"s","role":"system"},{"content":"u","role":"user"},{"content":"a","role":"assistant"}]})");
  CHECK(to_json(sft, TrainingStyle::kOpenAI) == to_json(sft, TrainingStyle::kTrl));
  CHECK(to_json(sft, TrainingStyle::kTrlCompletion).dump() ==
        R"({"completion":[{"content":"a","role":"assistant"}],"prompt":[{"content":"s","role":"system"},{"content":"u","role":"user"}]})");
  CHECK(to_json(pair, TrainingStyle::kTrl).dump() ==
        R"({"chosen":[{"content":"good","role":"assistant"}],"prompt":[{"content":"u","role":"user"}],"rejected":[{"content":"bad","role":"assistant"}]})");
  CHECK(to_json(pair, TrainingStyle::kOpenAI).dump() ==
        R"({"input":{"messages":[{"content":"u","role":"user"}],"parallel_tool_calls":true,"tools":[]},)"
        R"("non_preferred_output":[{"content":"bad","role":"assistant"}],"preferred_output":[{"content":"good","role":"assistant"}]})");
  CHECK_THROWS_WITH(parse_training_style("axolotl"), Catch::Contains("trl, trl-completion or openai"));
  // Stored prompts come back as messages; anything that is not a message list is one user turn.
  CHECK(prompt_messages(R"([{"role":"system","content":"x"},{"role":"user","content":"y"}])").size() == 2);
  CHECK(prompt_messages("[1, 2] is a list").front().content == "[1, 2] is a list");
}

TEST_CASE("a budget buys SFT examples and pairs — what is bought never exceeds it", "[datasets]") {
  CHECK(split_budget(10, 0.5, 2).sft_examples == 5);
  CHECK(split_budget(10, 0.5, 2).preference_pairs == 2);
  CHECK(split_budget(10, 0.25, 3).sft_examples == 2);
  CHECK(split_budget(10, 0.25, 3).preference_pairs == 2);  // 8 units left, pairs at 3: two, 2 units unspent
  CHECK(split_budget(7, 1, 1).preference_pairs == 0);
  CHECK(split_budget(0.3 * 10, 1.0 / 3, 1).sft_examples == 1);  // 0.999… is one example, not zero

  test::TempDir tmp;
  Store st(tmp.file("r.db"), Store::Mode::kReadWrite);
  fill(st);
  TrainingSetOptions opt;
  opt.correct_at = 0.5;
  // Worked out by hand: ⌊B·F⌋ SFT examples, then ⌊(B − SFT) / pair cost⌋ pairs; what the data cannot
  // supply is not bought (the module's own count of what is available caps it).
  struct Bought {
    double budget, fraction, pair_cost;
    int64_t sft, pairs;
  };
  const Bought cases[] = {
      {1, 0, 1, 0, 1},          {1, 0.3, 2.5, 0, 0},       {9, 0.3, 1, 2, 7},   {9, 0.3, 2.5, 2, 2},
      {20, 1, 1, 20, 0},        {20, 0, 2.5, 0, 8},        {37, 0.3, 2.5, 11, 10}, {37, 0, 2.5, 0, 14},
      {1000, 0.3, 1, 300, 700}, {1000, 1, 2.5, 1000, 0},
  };
  for (const Bought& c : cases) {
    INFO("budget " << c.budget << ", SFT share " << c.fraction << ", pair cost " << c.pair_cost);
    opt.budget = c.budget;
    opt.sft_fraction = c.fraction;
    opt.pair_cost = c.pair_cost;
    const auto sets = build_training_sets(st, opt);
    REQUIRE(sets.sft_available > 0);
    REQUIRE(sets.pairs_available > 0);
    CHECK(static_cast<int64_t>(sets.sft_train.size()) == std::min<int64_t>(c.sft, sets.sft_available));
    CHECK(static_cast<int64_t>(sets.pairs_train.size()) == std::min<int64_t>(c.pairs, sets.pairs_available));
    CHECK(sets.units_spent <= c.budget + 1e-9);
    CHECK(sets.units_spent == Approx(sets.sft_train.size() + c.pair_cost * sets.pairs_train.size()));
  }
}

TEST_CASE("training sets pick the best or cheapest correct answer, dedupe, and never leak held-out prompts", "[datasets]") {
  test::TempDir tmp;
  Store st(tmp.file("r.db"), Store::Mode::kReadWrite);
  fill(st);
  TrainingSetOptions opt;
  opt.correct_at = 0.5;
  opt.held_out = 0.25;
  auto sets = build_training_sets(st, opt);
  CHECK(sets.prompts == 60);  // item 7b's prompt is item 7's
  CHECK(sets.duplicate_responses == 1);
  CHECK(sets.sft_train.size() + sets.sft_eval.size() == 60);  // `big` is right everywhere
  CHECK(sets.eval_prompts == sets.sft_eval.size());
  CHECK(sets.eval_prompts > 5);
  CHECK(sets.eval_prompts < 25);
  std::set<std::string> train_prompts, eval_prompts;
  for (const auto& r : sets.sft_train) train_prompts.insert(prompt_key(to_json(r, TrainingStyle::kTrl)["messages"]));
  for (const auto& r : sets.pairs_train) train_prompts.insert(prompt_key(to_json(r, TrainingStyle::kTrl)["prompt"]));
  for (const auto& r : sets.sft_eval) eval_prompts.insert(prompt_key(to_json(r, TrainingStyle::kTrl)["messages"]));
  for (const auto& r : sets.pairs_eval) eval_prompts.insert(prompt_key(to_json(r, TrainingStyle::kTrl)["prompt"]));
  for (const auto& p : eval_prompts) CHECK(train_prompts.count(p) == 0);
  // Best-scored: a full score over `cheap`'s 0.6, `mid` over `big` at equal scores (cheaper); the
  // message-list prompt kept whole.
  const auto item = [](const std::string& text) { return std::stoi(text.substr(text.rfind(' ') + 1)); };
  for (const auto& r : sets.sft_train) {
    CHECK(r.completion.rfind(item(r.completion) % 3 == 0 ? "mid answer" : "big answer", 0) == 0);
    if (r.prompt.back().content == "question 5") CHECK(r.prompt.front().role == "system");
  }
  // Correctness pairs: the best correct answer over the worst wrong one (odd items: cheap is wrong).
  for (const auto& p : sets.pairs_train) {
    CHECK(p.chosen.rfind(item(p.chosen) % 3 == 0 ? "mid answer" : "big answer", 0) == 0);
    CHECK(p.rejected.find("big") == std::string::npos);
  }
  opt.cheapest = true;
  opt.pairs = "cost";
  sets = build_training_sets(st, opt);
  for (const auto& r : sets.sft_train) {
    const int i = item(r.completion);
    CHECK(r.completion.rfind(i % 2 == 0 ? "cheap" : i % 3 == 0 ? "mid" : "big", 0) == 0);
  }
  for (const auto& p : sets.pairs_train) {
    CHECK(p.rejected.rfind("big answer", 0) == 0);  // the costliest correct one
    CHECK(p.chosen.rfind("big", 0) != 0);
  }
  // The split depends on the prompt alone: a different budget or pair kind moves nothing across it.
  opt.budget = 7;
  const auto small = build_training_sets(st, opt);
  CHECK(small.eval_prompts == sets.eval_prompts);
  CHECK(small.sft_eval.size() == sets.sft_eval.size());
  opt.task = "missing";
  CHECK_THROWS_WITH(build_training_sets(st, opt), Catch::Contains("no scored answers for task 'missing'"));
}

TEST_CASE("reckon export --format sft|dpo writes train and eval files for TRL and OpenAI", "[datasets][cli]") {
  test::TempDir tmp;
  {
    Store st(tmp.file("r.db"), Store::Mode::kReadWrite);
    fill(st);
  }
  auto r = test::run_reckon({"export", "--db", tmp.file("r.db"), "--format", "dpo", "--style", "openai", "--out", tmp.file("dpo"),
                             "--correct-at", "0.5", "--budget", "30", "--sft-fraction", "0.5", "--pair-cost", "3"});
  REQUIRE(r.exit_code == 0);
  CHECK(r.err.find("spent 30.00 (15 SFT examples + 5 pairs × 3.00)") != std::string::npos);
  const auto train = read_jsonl(tmp.file("dpo/train.jsonl"));
  CHECK(train.size() == 5);
  for (const auto& j : train) {
    CHECK(j["input"]["messages"].back()["role"] == "user");
    CHECK(j["preferred_output"][0]["role"] == "assistant");
    CHECK(j["non_preferred_output"][0]["role"] == "assistant");
  }
  r = test::run_reckon({"export", "--db", tmp.file("r.db"), "--format", "sft", "--out", tmp.file("sft"), "--cheapest"});
  REQUIRE(r.exit_code == 0);
  for (const auto& j : read_jsonl(tmp.file("sft/train.jsonl"))) CHECK(j["messages"].back()["role"] == "assistant");
  r = test::run_reckon({"export", "--db", tmp.file("r.db"), "--format", "sft"});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("needs --out DIR") != std::string::npos);
  r = test::run_reckon({"export", "--db", tmp.file("r.db"), "--format", "dpo", "--out", tmp.file("x"), "--pairs", "length"});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("--pairs must be correctness or cost") != std::string::npos);
}
