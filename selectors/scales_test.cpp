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
    lv[15] = math ? 4 : 0;  // QLq
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
      const double p = b.levels[static_cast<size_t>(j)][15] > 0 ? 0.1 + 0.8 * skill : 0.95;
      b.m.y(i, j) = u(rng) < p ? 1 : 0;
    }
  }
  return b;
}

}  // namespace

TEST_CASE("an annotator's answer is parsed strictly: 18 integer levels 0-5, nothing else", "[scales]") {
  std::vector<int> v(18, 2);
  v[0] = 0, v[17] = 5;
  const auto parsed = parse_scale_levels(levels_json(v));
  REQUIRE(parsed.size() == 18);
  CHECK(parsed[0] == 0);
  CHECK(parsed[17] == 5);
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
  CHECK_THROWS_WITH(parse_scale_levels(bad([](auto& k) { k.erase("MCu"); })), Catch::Contains("no level for 'MCu'"));
  CHECK_THROWS_WITH(parse_scale_levels(bad([](auto& k) { k["UG"] = 3; })), Catch::Contains("unknown scale 'UG'"));  // not a scale
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
  CHECK(full.size() == 18);
  // ADeLe's data_v1 publishes no rubric file for MCr, MCu and MS: reckon's summaries stand in.
  for (const auto& d : scale_dimensions())
    if (std::string(d.code) == "MCr" || std::string(d.code) == "MCu" || std::string(d.code) == "MS") CHECK(full.at(d.code) == d.rubric);
  CHECK(full.at("AS") != scale_dimensions()[0].rubric);
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

TEST_CASE("scales-medoids selects representatives weighted by cluster share and estimates without any other model", "[scales]") {
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
  const Plan p = find_selector("scales-medoids").select(cold, 2, 1);
  REQUIRE(p.items.size() == 2);
  // Two kinds of item, two clusters: one representative of each, weighted 60/90 and 30/90.
  const bool first_math = b.levels[static_cast<size_t>(p.items[0])][15] > 0;
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
  o.methods = {"random", "scales-medoids", "text"};
  o.budgets = {10};
  o.seeds = 3;
  o.scale_levels = &levels;
  const auto rows = evaluate_selection(b.m, &b.meta, o);
  REQUIRE(rows.size() == 3);
  CHECK(rows[1].mae_pct < rows[0].mae_pct);  // two kinds of item: stratifying by demand pays
  CHECK(rows[2].mae_pct < rows[0].mae_pct);  // and the text tells the kinds apart too
}

TEST_CASE("scales stratifies on an easiness from the levels (cold) or from source models shrunk toward them", "[scales]") {
  Bench b = bench(90, 200, 2);
  std::map<std::string, std::vector<double>> levels;
  for (size_t j = 0; j < b.ids.size(); ++j) levels[b.ids[j]] = b.levels[j];
  // Cold: easiness = −(highest level), centred. 60 arithmetic items at max level 4 and 30 capital
  // questions at 1: mean −3, so −1 and +2. Three strata of 30 in easiness order: two arithmetic,
  // one capital question, a third of the weight each.
  const Eigen::MatrixXd none(0, 90);
  SelectionContext cold(none, b.ids, &b.meta);
  cold.scale_levels = &levels;
  const Plan p = find_selector("scales").select(cold, 3, 1);
  REQUIRE(p.items.size() == 3);
  int math = 0;
  for (int j : p.items) math += b.levels[static_cast<size_t>(j)][15] > 0;
  CHECK(math == 2);
  for (double w : p.weights) CHECK(w == Approx(1.0 / 3));
  for (int j = 0; j < 90; ++j) CHECK(p.offsets[static_cast<size_t>(j)] == Approx(b.levels[static_cast<size_t>(j)][15] > 0 ? -1 : 2));
  CHECK(p.beta_prior == 0.55);
  // The estimate: the MAP of σ(θ + β·x) under θ ~ N(0, 2²), β ~ N(0.55, 0.3²), found here by a grid
  // search (not the code's Newton steps), then the 3 answers plus the 87 predictions.
  auto by_grid = [&](const std::vector<double>& y) {
    double best = -INFINITY, bt = 0, bb = 0;
    for (double t = -6; t <= 6; t += 0.005)
      for (double be = -1; be <= 2; be += 0.005) {
        double lp = -t * t / 8 - (be - 0.55) * (be - 0.55) / (2 * 0.09);
        for (size_t k = 0; k < 3; ++k) {
          const double q = 1 / (1 + std::exp(-(t + be * p.offsets[static_cast<size_t>(p.items[k])])));
          lp += y[k] * std::log(q) + (1 - y[k]) * std::log(1 - q);
        }
        if (lp > best) best = lp, bt = t, bb = be;
      }
    const double unseen = 58 / (1 + std::exp(-(bt - bb))) + 29 / (1 + std::exp(-(bt + 2 * bb)));
    return (y[0] + y[1] + y[2] + unseen) / 90;
  };
  std::vector<double> y(3);
  for (size_t k = 0; k < 3; ++k) y[k] = b.levels[static_cast<size_t>(p.items[k])][15] > 0 ? 0 : 1;
  CHECK(p.estimate(y) == Approx(by_grid(y)).margin(0.002));
  CHECK(p.estimate({1, 1, 1}) == Approx(by_grid({1, 1, 1})).margin(0.002));
  const Plan back = Plan::from_json(p.to_json());
  CHECK(back.estimate(y) == Approx(p.estimate(y)));
  // With two source models and identical levels everywhere (the levels predict the mean easiness):
  // easiness logit((k + 0.5) / 3) = ln 5, 0, −ln 5 for k = 2, 1, 0 right answers, shrunk halfway
  // (2 models against 2 pseudo-models) toward their mean 0: ±ln(5)/2 and 0.
  Eigen::MatrixXd src(2, 3);
  src << 1, 1, 0, 1, 0, 0;
  const std::vector<std::string> ids = {"a", "b", "c"};
  std::map<std::string, std::vector<double>> flat = {{"a", std::vector<double>(18, 2)}, {"b", std::vector<double>(18, 2)},
                                                     {"c", std::vector<double>(18, 2)}};
  SelectionContext warm(src, ids, nullptr);
  warm.scale_levels = &flat;
  const Plan q = find_selector("scales").select(warm, 1, 1);
  CHECK(q.offsets[0] == Approx(std::log(5.0) / 2));
  CHECK(q.offsets[1] == Approx(0).margin(1e-9));
  CHECK(q.offsets[2] == Approx(-std::log(5.0) / 2));
  CHECK(q.beta_prior == 1);
}

TEST_CASE("scales import reads levels as ADeLe publishes them and refuses what is not a level", "[scales][cli]") {
  test::TempDir tmp;
  const std::string db = tmp.file("s.db");
  // ADeLe's own file: 408 CSE items; the first row's levels read from the file by hand.
  auto r = test::run_reckon({"scales", "import", "--db", db, "--task", "cse", "--levels",
                             test::shared_data("scales_adele/CSE_capabilities.csv")});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("408 items of task 'cse' imported") != std::string::npos);
  CHECK(r.out.find("columns left aside: UG") != std::string::npos);
  {
    Store st(db, Store::Mode::kReadOnly);
    const auto levels = scale_levels_by_item(load_scale_annotations(st, "cse"));
    REQUIRE(levels.size() == 408);
    // Civil Service Examination-LogiQA-en-639: AS 2, CEc 3, CEe 1, CL 2, KNn 3, KNa 0, KNc 4, KNf 3, KNs 4,
    // MCt 3, MCu 3, MCr 1, MS 0, QLq 0, QLl 2, SNs 0, VO 2, AT 4 — in reckon's order AS, AT, CEc, CEe, CL,
    // KNa, KNc, KNf, KNn, KNs, MCr, MCt, MCu, MS, QLl, QLq, SNs, VO:
    CHECK(levels.at("Civil Service Examination-LogiQA-en-639") ==
          std::vector<double>{2, 4, 3, 1, 2, 0, 4, 3, 3, 4, 1, 3, 3, 0, 2, 0, 0, 2});
  }
  std::string header = "id,VO,AT,AS,CEc,CEe,CL,KNa,KNc,KNf,KNn,KNs,MCr,MCt,MCu,MS,QLl,QLq,SNs\n";
  auto bad = [&](const std::string& name, const std::string& body, const std::string& id_column = "id") {
    return test::run_reckon({"scales", "import", "--db", db, "--task", "t", "--id-column", id_column, "--levels", tmp.write(name, body)});
  };
  CHECK(bad("ok.csv", header + "x1,1,2,3,4,5,0,1,2,3,4,5,0,1,2,3,4,5,0\n").exit_code == 0);  // any column order
  r = bad("six.csv", header + "x1,1,2,3,4,5,6,1,2,3,4,5,0,1,2,3,4,5,0\n");
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("six.csv:2: column CL: '6' is not a level 0–5") != std::string::npos);
  r = bad("missing.csv", "id,AS\nx,1\n");
  CHECK(r.err.find("missing.csv:1: no column for the scale AT") != std::string::npos);
  r = bad("noid.csv", header, "item");
  CHECK(r.err.find("noid.csv:1: no id column 'item'") != std::string::npos);
  r = bad("empty.csv", header);
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("empty.csv: no items (only a header)") != std::string::npos);
  r = bad("twice.csv", header + "x1,1,2,3,4,5,0,1,2,3,4,5,0,1,2,3,4,5,0\nx1,1,2,3,4,5,0,1,2,3,4,5,0,1,2,3,4,5,0\n");
  CHECK(r.err.find("twice.csv:3: item 'x1' appears twice") != std::string::npos);
  // Levels stored on the former 16 scales are refused with the way out, and annotate redoes them.
  {
    Store st(db, Store::Mode::kReadWrite);
    st.db().exec("INSERT INTO item_features(task, item_id, feature_set, annotator, vector) VALUES ('old', 'q1', 'scales', 'm', '" +
                 nlohmann::json(std::vector<int>(16, 1)).dump() + "')");
    CHECK_THROWS_WITH(load_scale_annotations(st, "old"), Catch::Contains("1 items of task 'old' carry demand levels on reckon's former 16 scales"));
    size_t former = 0;
    CHECK(load_scale_annotations(st, "old", &former).empty());
    CHECK(former == 1);
  }
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
  CHECK(profile["scales"][15]["scale"] == "QLq");
  CHECK(profile["scales"][15]["levels"][4].get<int>() + profile["scales"][15]["levels"][0].get<int>() == 29);
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
