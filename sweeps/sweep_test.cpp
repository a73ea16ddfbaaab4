#include "sweeps/sweep.h"

#include <catch2/catch.hpp>
#include <random>

#include "common/error.h"
#include "tests/support.h"

using namespace reckon;

namespace {

// Two candidates; the cheap one fails on queries that mention a proof.
RoutingSet toy(int n, uint64_t seed, bool gap = true) {
  std::mt19937_64 rng(seed);
  RoutingSet s;
  s.candidates = {"cheap", "costly"};
  s.cost = {1, 10};
  s.tokens = {std::nullopt, std::nullopt};
  for (int i = 0; i < n; ++i) {
    const bool hard = rng() % 3 == 0;
    s.ids.push_back(std::to_string(i));
    s.texts.push_back(std::string(hard ? "give a rigorous proof of" : "what is the capital of") + " item " + std::to_string(rng() % 40));
    s.correct.push_back({gap && hard ? 0.0 : 1.0, 1.0});
  }
  return s;
}

int64_t scalar(Store& st, const std::string& sql) {
  auto q = st.db().prepare(sql);
  q.step();
  return q.int64(0);
}

}  // namespace

TEST_CASE("a sweep point buys SFT examples and preference pairs within its budget", "[sweep]") {
  SweepGrid g;
  g.budgets = {10, 101};
  g.sft_fractions = {1, 0.25, 0};
  g.cost_ratios = {2};
  g.seeds = 2;
  const auto points = plan_sweep(g);
  CHECK(points.size() == 2 * 3 * 2);
  for (const auto& p : points) {
    CHECK(static_cast<double>(p.sft_examples) + p.cost_ratio * static_cast<double>(p.preference_pairs) <= p.budget + 1e-9);
    CHECK(p.budget - (static_cast<double>(p.sft_examples) + p.cost_ratio * static_cast<double>(p.preference_pairs)) < p.cost_ratio);
  }
  // Budget 10 at a quarter for SFT with pairs costing 2: 2 examples, then 4 pairs (8 units).
  auto it = std::find_if(points.begin(), points.end(), [](const SweepPoint& p) { return p.budget == 10 && p.sft_fraction == 0.25; });
  CHECK(it->sft_examples == 2);
  CHECK(it->preference_pairs == 4);
  g.sft_fractions = {1.5};
  CHECK_THROWS_WITH(plan_sweep(g), Catch::Contains("'sft_fractions': 1.500 is not in [0, 1]"));
  g.sft_fractions = {1};
  g.budgets = {};
  CHECK_THROWS_WITH(plan_sweep(g), Catch::Contains("'budgets' needs at least one"));
  g.budgets = {10};
  g.cost_ratios = {0};
  CHECK_THROWS_WITH(plan_sweep(g), Catch::Contains("must cost more than 0"));
  g.cost_ratios = {1};
  g.backend = "tpu";
  CHECK_THROWS_WITH(plan_sweep(g), Catch::Contains("unknown backend 'tpu'"));
}

TEST_CASE("a sweep records every point, learns with enough budget, and resumes without rerunning", "[sweep]") {
  test::TempDir tmp;
  Store st(tmp.file("s.db"), Store::Mode::kReadWrite);
  const RoutingSet s = toy(400, 3);
  SweepGrid g;
  g.budgets = {20, 200};
  g.sft_fractions = {1, 0.5, 0};
  g.seeds = 2;
  CHECK(run_sweep(st, "toy", s, g, {{"data", "toy"}}) == 12);
  CHECK(scalar(st, "SELECT COUNT(*) FROM sweep_points WHERE sweep_id = 'toy' AND status = 'ok'") == 12);
  CHECK(run_sweep(st, "toy", s, g, {{"data", "toy"}}) == 0);  // resumed: nothing left to do
  const auto rep = sweep_report(st, "toy");
  CHECK(rep.cells.size() == 6);
  for (const auto& c : rep.cells)
    if (c.budget == 200) CHECK(*c.mean > 0.75);  // the rule is easy to learn with 200 units
  CHECK(rep.best_fraction.size() == 2);
  CHECK(render_sweep_report(rep).find("SFT 50%") != std::string::npos);
  // The same name with another grid is refused.
  g.seeds = 3;
  CHECK_THROWS_WITH(run_sweep(st, "toy", s, g, {{"data", "toy"}}), Catch::Contains("exists with a different grid"));
}

TEST_CASE("failed points are recorded and reported, and a cold start far below every SFT share is flagged", "[sweep]") {
  test::TempDir tmp;
  Store st(tmp.file("s.db"), Store::Mode::kReadWrite);
  SweepGrid g;
  g.budgets = {20};
  g.sft_fractions = {1, 0};
  g.seeds = 1;
  // No accuracy gap between the candidates: APGR is undefined, each point fails with that reason.
  CHECK(run_sweep(st, "nogap", toy(100, 1, false), g, {}) == 2);
  CHECK(scalar(st, "SELECT COUNT(*) FROM sweep_points WHERE sweep_id = 'nogap' AND status = 'error' AND error LIKE '%no accuracy gap%'") == 2);
  auto rep = sweep_report(st, "nogap");
  REQUIRE(rep.flags.size() == 2);
  CHECK(rep.flags[0].find("a point failed") != std::string::npos);
  // A constructed sweep where DPO alone collapses.
  st.db().exec("INSERT INTO sweeps(id, spec) VALUES ('cold', '{}')");
  st.db().exec(
      "INSERT INTO sweep_points(sweep_id, budget, sft_fraction, cost_ratio, seed, status, score) VALUES "
      "('cold', 100, 1, 1, 1, 'ok', 0.60), ('cold', 100, 1, 1, 2, 'ok', 0.62), ('cold', 100, 0.5, 1, 1, 'ok', 0.66), "
      "('cold', 100, 0.5, 1, 2, 'ok', 0.64), ('cold', 100, 0, 1, 1, 'ok', 0.30), ('cold', 100, 0, 1, 2, 'ok', 0.32)");
  rep = sweep_report(st, "cold");
  REQUIRE(rep.best_fraction.size() == 1);
  CHECK(rep.best_fraction[0].second == 0.5);
  REQUIRE(rep.flags.size() == 1);
  CHECK(rep.flags[0].find("cold-start failure") != std::string::npos);
  CHECK_THROWS_WITH(sweep_report(st, "nope"), Catch::Contains("no sweep named 'nope'"));
}

TEST_CASE("sweep plan, run and report from the command line", "[sweep][cli]") {
  test::TempDir tmp;
  std::string rows = "prompt_id,prompt,weak_correct,strong_correct\n";
  const RoutingSet s = toy(120, 5);
  for (size_t i = 0; i < s.size(); ++i)
    rows += s.ids[i] + "," + s.texts[i] + "," + (s.correct[i][0] > 0 ? "1" : "0") + ",1\n";
  const std::string csv = tmp.write("o.csv", rows), db = tmp.file("s.db");
  auto plan = test::run_reckon({"sweep", "plan", "--budgets", "10,40", "--seeds", "2"});
  REQUIRE(plan.exit_code == 0);
  CHECK(plan.out.find("28 points") != std::string::npos);
  auto run = test::run_reckon({"sweep", "run", "--outcomes", csv, "--candidates", "weak,strong", "--budgets", "10,40",
                               "--sft-fractions", "1,0", "--seeds", "2", "--name", "cli", "--save-db", db});
  INFO(run.err);
  REQUIRE(run.exit_code == 0);
  CHECK(run.out.find("best SFT share at budget 40") != std::string::npos);
  auto rep = test::run_reckon({"sweep", "report", "--db", db, "--name", "cli", "--json"});
  REQUIRE(rep.exit_code == 0);
  CHECK(nlohmann::json::parse(rep.out)["cells"].size() == 4);
  CHECK(test::run_reckon({"sweep", "plan", "--budgets", "0"}).exit_code == 2);
}
