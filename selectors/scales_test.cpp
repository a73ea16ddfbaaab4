// Scales++: the annotation prompt and its strict parser, the item spaces (annotated, Lite, text),
// the demand estimator, and the whole path with the replay provider as annotator.
#include "selectors/scales.h"

#include <catch2/catch.hpp>
#include <fstream>
#include <random>

#include "common/error.h"
#include "common/jsonl.h"
#include "selectors/evaluate.h"
#include "selectors/selector.h"
#include "selectors/stored.h"
#include "tests/support.h"

using namespace reckon;

namespace {

std::string levels_json(const std::vector<int>& v) {
  nlohmann::json j;
  for (size_t d = 0; d < v.size(); ++d) j[scale_dimensions()[d].code] = v[d];
  return j.dump();
}

// Items of two kinds: arithmetic word problems (quantitative demand 4) and capital-city questions
// (quantitative demand 0); a model's chance of being right falls with the quantitative demand.
struct Bench {
  std::vector<std::string> ids, texts;
  std::vector<std::vector<double>> levels;
  std::map<std::string, nlohmann::json> meta;
  ResponseMatrix m;
};

Bench bench(int items, int models, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0, 1);
  const std::vector<std::string> cities = {"France", "Peru", "Kenya", "Japan", "Chile", "Norway", "Egypt", "India"};
  Bench b;
  for (int j = 0; j < items; ++j) {
    const bool math = j % 3 != 0;
    const std::string id = "q" + std::to_string(j);
    const std::string text = math ? "A train travels " + std::to_string(40 + j) + " miles per hour for " + std::to_string(2 + j % 5) +
                                        " hours and then stops; how many miles did it travel in total?"
                                  : "What is the capital city of " + cities[static_cast<size_t>(j) % cities.size()] + "?";
    std::vector<double> lv(kScaleDimensions, 1);
    lv[12] = math ? 4 : 0;  // QLq
    lv[7] = math ? 3 : 0;   // KNf
    b.ids.push_back(id), b.texts.push_back(text), b.levels.push_back(lv);
    b.meta[id] = {{"item_id", id}, {"question", text}};
  }
  b.m.items = b.ids;
  b.m.y.resize(models, items);
  for (int i = 0; i < models; ++i) {
    b.m.models.push_back("m" + std::to_string(i));
    const double skill = u(rng);
    for (int j = 0; j < items; ++j) {
      const double p = b.levels[static_cast<size_t>(j)][12] > 0 ? 0.1 + 0.8 * skill : 0.95;
      b.m.y(i, j) = u(rng) < p ? 1 : 0;
    }
  }
  return b;
}

}  // namespace

TEST_CASE("an annotator's answer is parsed strictly: 16 integer levels 0-5, nothing else", "[scales]") {
  std::vector<int> v(16, 2);
  v[0] = 0, v[15] = 5;
  const auto parsed = parse_scale_levels(levels_json(v));
  REQUIRE(parsed.size() == 16);
  CHECK(parsed[0] == 0);
  CHECK(parsed[15] == 5);
  CHECK(parse_scale_levels("```json\n" + levels_json(v) + "\n```") == parsed);
  auto j = nlohmann::json::parse(levels_json(v));
  auto bad = [&](const std::function<void(nlohmann::json&)>& edit) {
    auto k = j;
    edit(k);
    return k.dump();
  };
  CHECK_THROWS_WITH(parse_scale_levels(bad([](auto& k) { k.erase("VO"); })), Catch::Contains("no level for 'VO'"));
  CHECK_THROWS_WITH(parse_scale_levels(bad([](auto& k) { k["AS"] = 6; })), Catch::Contains("level of 'AS' is 6, not 0-5"));
  CHECK_THROWS_WITH(parse_scale_levels(bad([](auto& k) { k["AS"] = 2.5; })), Catch::Contains("'AS' is not an integer: 2.5"));
  CHECK_THROWS_WITH(parse_scale_levels(bad([](auto& k) { k["AS"] = "3"; })), Catch::Contains("not an integer"));
  CHECK_THROWS_WITH(parse_scale_levels(bad([](auto& k) { k["XX"] = 1; })), Catch::Contains("unknown scale 'XX'"));
  CHECK_THROWS_WITH(parse_scale_levels("The levels are AS=2, AT=1"), Catch::Contains("not one JSON object"));
  CHECK_THROWS_AS(parse_scale_levels("[1,2,3]"), InputError);
}

TEST_CASE("the annotation prompt carries every scale's rubric, the item, and the answer format", "[scales]") {
  const auto msgs = scales_prompt("What is 2 + 2?");
  REQUIRE(msgs.size() == 2);
  for (const auto& d : scale_dimensions()) {
    CHECK(msgs[0].content.find(std::string("## ") + d.code + ": " + d.name) != std::string::npos);
    CHECK(msgs[0].content.find(std::string("\"") + d.code + "\": <0-5>") != std::string::npos);
  }
  CHECK(msgs[1].content == "Task:\nWhat is 2 + 2?");
  // The full ADeLe rubric texts, when given, replace the summaries.
  const auto full = load_rubrics(test::shared_data("scales_rubrics"));
  CHECK(full.size() == 16);
  const auto with_full = scales_prompt("x", &full);
  CHECK(with_full[0].content.find("This rubric defines a scale that evaluates tasks based on how unlikely") != std::string::npos);
  test::TempDir tmp;
  CHECK_THROWS_WITH(load_rubrics(tmp.path()), Catch::Contains("AS.txt: rubric file for AS (Attention and scan) not found"));
}

TEST_CASE("the demand model learns correctness from item coordinates", "[scales]") {
  Eigen::MatrixXd seen(40, 1), unseen(2, 1);
  std::vector<double> y;
  for (int i = 0; i < 40; ++i) {
    seen(i, 0) = -2 + 4.0 * i / 39;
    y.push_back(seen(i, 0) > 0.3 ? 1 : 0);
  }
  unseen << -1.5, 1.5;
  const auto p = demand_model_predict(seen, y, unseen, 0.1);
  CHECK(p(0) < 0.1);
  CHECK(p(1) > 0.9);
  // All right: every prediction high, and finite (the penalty keeps the fit bounded).
  const auto all = demand_model_predict(seen, std::vector<double>(40, 1.0), unseen);
  CHECK(all.minCoeff() > 0.9);
  CHECK(std::isfinite(all.sum()));
}

TEST_CASE("item spaces: annotated levels, Lite predictions from text, and text alone separate the kinds of item", "[scales]") {
  Bench b = bench(60, 3, 1);
  // Text: the first principal coordinate splits word problems from capital questions.
  const Eigen::MatrixXd t = text_space(b.texts, 16);
  CHECK(t.rows() == 60);
  CHECK(t.cols() == 16);
  double math_mean = 0, city_mean = 0;
  for (int j = 0; j < 60; ++j) (j % 3 != 0 ? math_mean : city_mean) += t(j, 0) / (j % 3 != 0 ? 40.0 : 20.0);
  CHECK(std::abs(math_mean - city_mean) > 0.3);
  // Lite: 15 annotated items teach the rest; annotated ones keep their own levels.
  std::vector<std::optional<std::vector<double>>> levels(60);
  for (int j = 0; j < 15; ++j) levels[static_cast<size_t>(j)] = b.levels[static_cast<size_t>(j)];
  const Eigen::MatrixXd lite = lite_space(b.texts, levels);
  for (int j = 0; j < 15; ++j) CHECK(lite(j, 12) == b.levels[static_cast<size_t>(j)][12]);
  for (int j = 15; j < 60; ++j) CHECK(std::abs(lite(j, 12) - b.levels[static_cast<size_t>(j)][12]) < 1.5);
  levels.assign(60, std::nullopt);
  levels[0] = b.levels[0];
  CHECK_THROWS_WITH(lite_space(b.texts, levels), Catch::Contains("at least 10 annotated items to learn from, found 1"));
}

TEST_CASE("scales selects representatives weighted by cluster share and estimates without any other model", "[scales]") {
  Bench b = bench(90, 200, 2);
  const auto levels = [&] {
    std::map<std::string, std::vector<double>> out;
    for (size_t j = 0; j < b.ids.size(); ++j) out[b.ids[j]] = b.levels[j];
    return out;
  }();
  // Cold start: no source model at all.
  const Eigen::MatrixXd none(0, 90);
  SelectionContext cold(none, b.ids, &b.meta);
  cold.scale_levels = &levels;
  const Plan p = find_selector("scales").select(cold, 2, 1);
  REQUIRE(p.items.size() == 2);
  // Two kinds of item, two clusters: one representative of each, weighted 60/90 and 30/90.
  const bool first_math = b.levels[static_cast<size_t>(p.items[0])][12] > 0;
  CHECK(p.weights[0] == Approx(first_math ? 60.0 / 90 : 30.0 / 90));
  CHECK(p.weights[0] + p.weights[1] == Approx(1));
  CHECK(p.lambda_star == 0.5);
  CHECK(p.slope == 1);
  // A model right on the easy representative and wrong on the hard one: the weighted mean is the
  // easy share; the demand model agrees at the ends; so does the half-and-half mix.
  std::vector<double> scores(2);
  scores[0] = first_math ? 0 : 1, scores[1] = first_math ? 1 : 0;
  CHECK(p.estimate(scores) == Approx(30.0 / 90).margin(0.08));
  const Plan back = Plan::from_json(p.to_json());
  CHECK(back.estimate(scores) == Approx(p.estimate(scores)));
  // Not annotated: a clear message, and scales-lite / text as the ways out.
  SelectionContext bare(none, b.ids, &b.meta);
  CHECK_THROWS_WITH(find_selector("scales").select(bare, 5, 1), Catch::Contains("90 of 90 are not annotated"));
  // With source models: every demand method beats nothing-at-all and stays near random or better.
  SelectEvalOptions o;
  o.methods = {"random", "scales", "text"};
  o.budgets = {10};
  o.seeds = 3;
  o.scale_levels = &levels;
  const auto rows = evaluate_selection(b.m, &b.meta, o);
  REQUIRE(rows.size() == 3);
  CHECK(rows[1].mae_pct < rows[0].mae_pct);  // two kinds of item: stratifying by demand pays
  CHECK(rows[2].mae_pct < rows[0].mae_pct);  // and the text tells the kinds apart too
}

TEST_CASE("scales annotate with the replay provider: strict, resumable, stored — select runs cold", "[scales][cli]") {
  test::TempDir tmp;
  Bench b = bench(30, 1, 3);
  std::ofstream items(tmp.file("items.jsonl")), cassette(tmp.file("cassette.jsonl"));
  for (size_t j = 0; j < b.ids.size(); ++j) {
    items << b.meta[b.ids[j]].dump() << "\n";
    nlohmann::json msgs = nlohmann::json::array();
    for (const auto& m : scales_prompt(b.texts[j])) msgs.push_back({{"role", m.role}, {"content", m.content}});
    std::vector<int> lv(b.levels[j].begin(), b.levels[j].end());
    std::string answer = levels_json(lv);
    if (b.ids[j] == "q7") answer = "I would say QLq is 4.";  // not usable: never stored
    cassette << nlohmann::json({{"model", "annotator"}, {"messages", msgs}, {"text", answer},
                                {"usage", {{"input_tokens", 1500}, {"output_tokens", 60}}}})
                    .dump()
             << "\n";
  }
  items.close();
  cassette.close();
  const std::string db = tmp.file("s.db");
  auto annotate = [&](const std::string& fraction) {
    return test::run_reckon({"scales", "annotate", "--db", db, "--task", "toy", "--items", tmp.file("items.jsonl"), "--annotator",
                             "replay:annotator", "--replay", tmp.file("cassette.jsonl"), "--fraction", fraction});
  };
  auto r = annotate("0.5");
  CHECK(r.err.find("items annotated by replay:annotator (0 already were)") != std::string::npos);
  r = annotate("1");
  CHECK(r.exit_code == 1);  // q7's answer is not usable
  CHECK(r.err.find("item q7: the annotator's answer is not usable: the answer is not one JSON object") != std::string::npos);
  CHECK(r.err.find("1 not annotated") != std::string::npos);
  {
    Store st(db, Store::Mode::kReadOnly);
    const auto anns = load_scale_annotations(st, "toy");
    CHECK(anns.size() == 29);
    for (const auto& a : anns) {
      CHECK(a.annotator == "replay:annotator");
      const size_t j = static_cast<size_t>(std::stoi(a.item_id.substr(1)));
      CHECK(a.levels == b.levels[j]);
    }
  }
  // Resumable: a rerun asks only for what is missing.
  r = annotate("1");
  CHECK(r.err.find("0 items annotated by replay:annotator (29 already were)") != std::string::npos);
  r = test::run_reckon({"scales", "show", "--db", db, "--task", "toy", "--json"});
  REQUIRE(r.exit_code == 0);
  const auto profile = nlohmann::json::parse(r.out);
  CHECK(profile["items"] == 29);
  CHECK(profile["scales"][12]["scale"] == "QLq");
  CHECK(profile["scales"][12]["levels"][4].get<int>() + profile["scales"][12]["levels"][0].get<int>() == 29);
  // A benchmark nobody has run: scales-lite selects from text and the 29 annotations.
  r = test::run_reckon({"select", "--db", db, "--task", "toy", "--method", "scales-lite", "--budget", "4", "--name", "cold", "--items",
                        tmp.file("items.jsonl")});
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("selection 'cold': 4 of 30 items of toy by scales-lite (from 0 models' results)") != std::string::npos);
  r = test::run_reckon({"select", "--db", db, "--task", "toy", "--method", "scales", "--budget", "4", "--name", "strict",
                        "--items", tmp.file("items.jsonl")});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("1 of 30 are not annotated") != std::string::npos);
}
