#include <catch2/catch.hpp>
#include <set>
#include <cmath>
#include <random>

#include "common/error.h"
#include "results/import.h"
#include "selectors/adaptive.h"
#include "selectors/cluster.h"
#include "selectors/evaluate.h"
#include "selectors/irt.h"
#include "selectors/matrix.h"
#include "selectors/selector.h"
#include "selectors/stored.h"
#include "tests/support.h"

using namespace reckon;

namespace {

// Responses drawn from a known 1-D 2PL model.
ResponseMatrix simulated(int models, int items, uint64_t seed, Eigen::VectorXd* theta_out = nullptr) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> n01(0, 1);
  std::uniform_real_distribution<double> u(0, 1);
  Eigen::VectorXd theta(models), a(items), b(items);
  for (int i = 0; i < models; ++i) theta(i) = n01(rng);
  for (int j = 0; j < items; ++j) a(j) = 0.5 + 1.5 * u(rng), b(j) = 1.5 * n01(rng);
  ResponseMatrix m;
  m.y.resize(models, items);
  for (int i = 0; i < models; ++i) {
    m.models.push_back("m" + std::to_string(i));
    for (int j = 0; j < items; ++j) m.y(i, j) = u(rng) < 1 / (1 + std::exp(-(a(j) * theta(i) - b(j)))) ? 1 : 0;
  }
  for (int j = 0; j < items; ++j) m.items.push_back("i" + std::to_string(j));
  if (theta_out) *theta_out = theta;
  return m;
}

double corr(const Eigen::VectorXd& x, const Eigen::VectorXd& y) {
  const Eigen::ArrayXd a = x.array() - x.mean(), b = y.array() - y.mean();
  return (a * b).sum() / std::sqrt((a * a).sum() * (b * b).sum());
}

}  // namespace

TEST_CASE("response matrices are read strictly, naming file, line and item", "[select]") {
  test::TempDir tmp;
  auto m = read_response_matrix(tmp.write("ok.csv", "model,q1,q2,q3\na,1,0,1\nb,0,0.5,1\n"));
  CHECK(m.models == std::vector<std::string>{"a", "b"});
  CHECK(m.items.size() == 3);
  CHECK(m.y(1, 1) == 0.5);
  CHECK_FALSE(m.binary);
  auto fails_with = [&](const std::string& body, const std::string& needle, MatrixReadOptions o = {}) {
    const std::string path = tmp.write("bad.csv", body);
    try {
      read_response_matrix(path, o);
      FAIL("no error for " << body);
    } catch (const InputError& e) {
      INFO(e.what());
      CHECK(std::string(e.what()).find(needle) != std::string::npos);
    }
  };
  fails_with("model,q1,q2\na,1,0\nb,1\n", "bad.csv:3: 2 fields where the header has 3 (ragged row)");
  fails_with("model,q1,q2\na,1,yes\n", "bad.csv:2: item 'q2': 'yes' is not a score in [0, 1]");
  fails_with("model,q1,q2\na,1,1.5\n", "'1.5' is not a score");
  fails_with("name,q1\na,1\n", "no 'model' column");
  fails_with("model,q1\na,1\na,0\n", "model 'a' appears twice");
  fails_with("model,q1,q1\na,1,0\n", "item 'q1' appears twice");
  fails_with("model,q1\n", "no model rows");
  // Metadata columns can be skipped by prefix, and another column can name the models.
  auto p = read_response_matrix(tmp.write("pre.csv", "row,file,g.1,g.2\n0,x.npy,1,0\n1,y.npy,0,0\n"), {"row", "g."});
  CHECK(p.items == std::vector<std::string>{"g.1", "g.2"});
  CHECK(p.models == std::vector<std::string>{"0", "1"});
}

TEST_CASE("k-medoids finds obvious clusters and anchors are weighted by cluster share", "[select]") {
  // Items on a line: three groups of sizes 3, 2 and 1.
  Eigen::MatrixXd pts(6, 1);
  pts << 0, 0.1, 0.2, 10, 10.1, 20;
  for (uint64_t seed : {1, 2, 3}) {
    Clustering c = k_medoids(pairwise_distances(pts), 3, seed);
    std::vector<std::pair<int, int>> got;  // (medoid, size)
    for (size_t q = 0; q < c.medoids.size(); ++q) got.emplace_back(c.medoids[q], c.sizes[q]);
    std::sort(got.begin(), got.end());
    CHECK(got[0] == std::pair{1, 3});  // 0.1 is the medoid of {0, 0.1, 0.2}
    CHECK((got[1] == std::pair{3, 2} || got[1] == std::pair{4, 2}));
    CHECK(got[2] == std::pair{5, 1});
  }
  // The anchor method on correctness vectors of 4 source models: the same structure, exact weights.
  Eigen::MatrixXd source(4, 6);
  source << 1, 1, 1, 0, 0, 1,
            1, 1, 1, 0, 0, 0,
            0, 0, 0, 1, 1, 0,
            0, 0, 0, 1, 1, 1;
  SelectionContext ctx(source, {"a", "b", "c", "d", "e", "f"}, nullptr);
  Plan p = find_selector("anchor").select(ctx, 3, 1);
  std::vector<double> w = p.weights;
  std::sort(w.begin(), w.end());
  CHECK(w[0] == Approx(1.0 / 6));
  CHECK(w[1] == Approx(2.0 / 6));
  CHECK(w[2] == Approx(3.0 / 6));
  // Raw estimate = Σ weight × score on the anchors.
  std::vector<double> scores;
  for (int j : p.items) scores.push_back(j < 3 ? 1.0 : 0.0);
  CHECK(p.raw_estimate(scores) == Approx(0.5));
}

TEST_CASE("stratified selection allocates proportionally and weights each stratum by its share", "[select]") {
  std::map<std::string, nlohmann::json> meta;
  std::vector<std::string> ids;
  for (int j = 0; j < 10; ++j) {
    ids.push_back("q" + std::to_string(j));
    meta[ids.back()] = {{"item_id", ids.back()}, {"subject", j < 6 ? "algebra" : j < 9 ? "biology" : "chemistry"}};
  }
  Eigen::MatrixXd none(0, 10);
  SelectionContext ctx(none, ids, &meta);
  ctx.strata_field = "subject";
  Plan p = find_selector("stratified").select(ctx, 5, 3);
  REQUIRE(p.items.size() == 5);
  // Quotas 3, 1.5, 0.5: algebra 3, then the largest remainders (a tie, broken by name): biology 2.
  int alg = 0, bio = 0;
  double w_alg = 0, w_bio = 0;
  for (size_t k = 0; k < p.items.size(); ++k) {
    if (p.items[k] < 6) ++alg, w_alg += p.weights[k];
    else if (p.items[k] < 9) ++bio, w_bio += p.weights[k];
  }
  CHECK(alg == 3);
  CHECK(bio == 2);
  CHECK(w_alg / (w_alg + w_bio) == Approx(6.0 / 9));
  ctx.strata_field = "difficulty";
  CHECK_THROWS_WITH(find_selector("stratified").select(ctx, 5, 3), Catch::Contains("has no field 'difficulty'"));
}

TEST_CASE("the IRT likelihood gradient matches finite differences", "[select][irt]") {
  ResponseMatrix m = simulated(7, 5, 3);
  m.y(0, 0) = 0.4;  // a graded score too
  std::mt19937_64 rng(9);
  std::normal_distribution<double> n(0, 0.7);
  Eigen::MatrixXd theta(7, 2);
  IrtItems it;
  it.a.resize(5, 2);
  it.b.resize(5);
  for (int i = 0; i < theta.size(); ++i) theta.data()[i] = n(rng);
  for (int i = 0; i < it.a.size(); ++i) it.a.data()[i] = 1 + n(rng);
  for (int i = 0; i < it.b.size(); ++i) it.b.data()[i] = n(rng);
  Eigen::MatrixXd gt, ga;
  Eigen::VectorXd gb;
  irt_objective(m.y, theta, it, &gt, &ga, &gb);
  const double h = 1e-6;
  auto f = [&] { return irt_objective(m.y, theta, it, nullptr, nullptr, nullptr); };
  for (int i = 0; i < theta.size(); ++i) {
    const double keep = theta.data()[i];
    theta.data()[i] = keep + h;
    const double up = f();
    theta.data()[i] = keep - h;
    const double down = f();
    theta.data()[i] = keep;
    CHECK(gt.data()[i] == Approx((up - down) / (2 * h)).epsilon(1e-5));
  }
  for (int i = 0; i < it.a.size(); ++i) {
    const double keep = it.a.data()[i];
    it.a.data()[i] = keep + h;
    const double up = f();
    it.a.data()[i] = keep - h;
    const double down = f();
    it.a.data()[i] = keep;
    CHECK(ga.data()[i] == Approx((up - down) / (2 * h)).epsilon(1e-5));
  }
  for (int i = 0; i < it.b.size(); ++i) {
    const double keep = it.b(i);
    it.b(i) = keep + h;
    const double up = f();
    it.b(i) = keep - h;
    const double down = f();
    it.b(i) = keep;
    CHECK(gb(i) == Approx((up - down) / (2 * h)).epsilon(1e-5));
  }
}

TEST_CASE("a 2PL fit recovers the abilities that generated the data, and abilities stay finite", "[select][irt]") {
  Eigen::VectorXd truth;
  ResponseMatrix m = simulated(400, 60, 5, &truth);
  IrtOptions o;
  o.dims = 1;
  IrtFit fit = fit_irt(m.y, o);
  CHECK(std::fabs(corr(fit.theta.col(0), truth)) > 0.9);
  // All correct or all wrong: a finite ability, predicted score near the edge.
  std::vector<int> seen = {0, 1, 2, 3, 4};
  auto hi = fit_ability(fit.items, seen, {1, 1, 1, 1, 1});
  auto lo = fit_ability(fit.items, seen, {0, 0, 0, 0, 0});
  CHECK(std::isfinite(hi(0)));
  CHECK(predicted_mean(fit.items, hi, {}) > predicted_mean(fit.items, lo, {}));
}

TEST_CASE("select eval: model-based methods beat random on IRT data — bad matrices fail clearly", "[select]") {
  ResponseMatrix m = simulated(300, 200, 11);
  SelectEvalOptions o;
  o.methods = {"random", "anchor", "irt", "gp-irt"};
  o.budgets = {20};
  o.seeds = 2;
  o.irt.dims = 1;
  auto rows = evaluate_selection(m, nullptr, o);
  REQUIRE(rows.size() == 4);
  CHECK(rows[2].mae_pct < rows[0].mae_pct);  // irt < random
  CHECK(rows[3].mae_pct < rows[0].mae_pct);  // gp-irt < random
  for (const auto& r : rows) {
    CHECK(r.kendall_tau > 0.5);
    CHECK(r.to_json().contains("mae_pct_sd"));
  }
  ResponseMatrix tiny = simulated(3, 10, 1);
  o.methods = {"irt"};
  CHECK_THROWS_WITH(evaluate_selection(tiny, nullptr, o), Catch::Contains("needs at least 2 source and 2 target models"));
  o.methods = {"random"};
  o.budgets = {500};
  CHECK_THROWS_WITH(evaluate_selection(m, nullptr, o), Catch::Contains("budget 500 is not between 1"));
  CHECK_THROWS_WITH(find_selector("magic"), Catch::Contains("one of random, stratified, anchor, irt, gp-irt"));
}

TEST_CASE("select eval through the CLI: MAE and Kendall tau worked out by hand", "[select][cli]") {
  test::TempDir tmp;
  // Two items, every model right on exactly one: any one-item subset estimates 0 or 1 for a true 0.5, so
  // random selection at budget 1 errs by exactly 50 points for every target model, whatever the seed or the
  // split (sd 0); every true score is tied, so the ranking's tau is 0.
  std::string two = "model,i0,i1\n";
  for (int m = 0; m < 10; ++m) two += "m" + std::to_string(m) + (m % 2 ? ",1,0\n" : ",0,1\n");
  auto r = test::run_reckon({"select", "eval", "--responses", tmp.write("two.csv", two), "--method", "random", "--budget", "1",
                             "--seeds", "4", "--json"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  auto j = nlohmann::json::parse(r.out);
  CHECK(j["method"] == "random");
  CHECK(j["budget"] == 1);
  CHECK(j["seeds"] == 4);
  CHECK(j["mae_pct"].get<double>() == Approx(50.0));
  CHECK(j["mae_pct_sd"].get<double>() == Approx(0.0).margin(1e-9));
  CHECK(j["kendall_tau"].get<double>() == Approx(0.0).margin(1e-9));
  // Every model scores the same on every item (m/9): any subset's mean is the full score, so the error is 0
  // at any budget and the estimated ranking is the true one (tau 1).
  std::string flat = "model,i0,i1,i2,i3,i4,i5,i6,i7\n";
  for (int m = 0; m < 10; ++m) {
    flat += "m" + std::to_string(m);
    for (int i = 0; i < 8; ++i) flat += "," + std::to_string(m / 9.0);
    flat += "\n";
  }
  r = test::run_reckon({"select", "eval", "--responses", tmp.write("flat.csv", flat), "--method", "random", "--budget", "3,8",
                        "--seeds", "3", "--json"});
  REQUIRE(r.exit_code == 0);
  j = nlohmann::json::parse(r.out);
  REQUIRE(j.size() == 2);
  for (const auto& row : j) {
    INFO(row.dump());
    CHECK(row["mae_pct"].get<double>() == Approx(0.0).margin(1e-9));
    CHECK(row["kendall_tau"].get<double>() == Approx(1.0));
  }
  // A ragged row is named by file and line.
  auto bad = test::run_reckon({"select", "eval", "--responses", tmp.write("ragged.csv", "model,i0,i1\nm0,1,0\nm1,1\n"),
                               "--method", "random", "--budget", "1", "--json"});
  CHECK(bad.exit_code == 2);
  CHECK(bad.err.find("ragged.csv:3") != std::string::npos);
}

TEST_CASE("a plan survives JSON and gives the same estimates", "[select]") {
  ResponseMatrix m = simulated(120, 80, 2);
  SelectionContext ctx(m.y, m.items, nullptr);
  for (const char* method : {"anchor", "irt", "gp-irt"}) {
    Plan p = find_selector(method).select(ctx, 15, 4);
    Plan q = Plan::from_json(nlohmann::json::parse(p.to_json().dump()));
    std::vector<double> s;
    for (int j : p.items) s.push_back(m.y(7, j));
    CHECK(q.estimate(s) == Approx(p.estimate(s)).epsilon(1e-12));
    CHECK(p.estimate(s) >= 0);
    CHECK(p.estimate(s) <= 1);
  }
}

TEST_CASE("select stores a subset from a store's results — estimate gives full-score estimates with intervals",
          "[select][cli]") {
  test::TempDir tmp;
  const std::string db = tmp.file("s.db");
  ResponseMatrix m = simulated(8, 40, 21);
  std::string rows = "model,task,item_id,input_tokens,output_tokens,score\n";
  for (size_t i = 0; i < m.models.size(); ++i)
    for (size_t j = 0; j < m.items.size(); ++j)
      rows += m.models[i] + ",quiz," + m.items[j] + ",10,10," + (m.y(i, j) > 0 ? "1" : "0") + "\n";
  auto imp = test::run_reckon({"import", "--db", db, "--allow-unpriced", tmp.write("r.csv", rows)});
  REQUIRE(imp.exit_code == 0);
  // The matrix back out of the store.
  auto exp = test::run_reckon({"export", "--db", db, "--responses", "quiz"});
  REQUIRE(exp.exit_code == 0);
  auto back = read_response_matrix(tmp.write("back.csv", exp.out));
  CHECK(back.models.size() == 8);
  CHECK(back.items.size() == 40);

  auto sel = test::run_reckon({"select", "--db", db, "--task", "quiz", "--method", "anchor", "--budget", "10", "--name", "quiz10"});
  INFO(sel.err);
  REQUIRE(sel.exit_code == 0);
  {
    Store st(db, Store::Mode::kReadOnly);
    auto n = st.db().prepare("SELECT COUNT(*), TOTAL(weight) FROM selection_items WHERE selection_id = 'quiz10'");
    n.step();
    CHECK(n.int64(0) == 10);
    CHECK(n.real(1) == Approx(1.0));
    StoredSelection s = load_selection(st, "quiz10");
    CHECK(s.task == "quiz");
    CHECK(s.plan.items.size() == 10);
  }
  auto run_id = [&] {
    Store st(db, Store::Mode::kReadOnly);
    auto q = st.db().prepare("SELECT id FROM runs LIMIT 1");
    q.step();
    return q.text(0);
  }();
  auto est = test::run_reckon({"estimate", "--db", db, "--run", run_id, "--selection", "quiz10", "--json"});
  INFO(est.err);
  REQUIRE(est.exit_code == 0);
  auto j = nlohmann::json::parse(est.out);
  REQUIRE(j.size() == 8);
  for (const auto& r : j) {
    CHECK(r["ci_low"].get<double>() <= r["estimate"].get<double>());
    CHECK(r["estimate"].get<double>() <= r["ci_high"].get<double>());
  }
  CHECK(test::run_reckon({"estimate", "--db", db, "--run", run_id, "--selection", "nope"}).exit_code == 2);
  CHECK(test::run_reckon({"select", "--db", db, "--task", "quiz", "--method", "irt", "--budget", "100", "--name", "x"}).exit_code == 2);
}

TEST_CASE("on the metabench MMLU matrix, IRT and anchors at 50 items beat random by the issue's margin", "[select][slow]") {
  auto m = read_response_matrix(test::shared_data("subset/olb_metabench/responses_mmlu.csv"));
  SelectEvalOptions o;
  o.methods = {"random", "anchor", "irt", "gp-irt"};
  o.budgets = {50};
  o.seeds = 3;
  auto rows = evaluate_selection(m, nullptr, o);
  for (size_t k = 1; k < rows.size(); ++k) CHECK(rows[k].mae_pct <= 0.6 * rows[0].mae_pct);
}

TEST_CASE("adaptive testing asks the most informative item at the current ability and stops at its standard error", "[select]") {
  // Seven items, a = 1, b = −3..3; a model that solves exactly the items with b < 0.5.
  IrtItems items;
  items.a = Eigen::MatrixXd::Ones(7, 1);
  items.b.resize(7);
  items.b << -3, -2, -1, 0, 1, 2, 3;
  auto model = [&](int j) { return items.b(j) < 0.5 ? 1.0 : 0.0; };
  const AdaptiveResult r = run_adaptive(items, {3, 0, 3}, model);
  REQUIRE(r.asked.size() == 3);
  // At θ = 0 the information P(1−P) peaks at b = 0 (item 3), which the model solves; θ rises, so the
  // next is harder (b = 1, failed), and the third lies between what was solved and failed.
  CHECK(r.asked[0] == 3);
  CHECK(r.answers[0] == 1);
  CHECK(r.asked[1] == 4);
  CHECK(r.answers[1] == 0);
  CHECK(r.theta > 0);
  CHECK(r.theta < 1);
  CHECK(r.low <= r.estimate);
  CHECK(r.estimate <= r.high);
  // The standard error is 1 / √(1 + Σ P(1−P)) at the final ability, worked out here apart from the code.
  double info = 1;
  for (int j : r.asked) {
    const double p = 1 / (1 + std::exp(-(r.theta - items.b(j))));
    info += p * (1 - p);
  }
  CHECK(r.se == Approx(1 / std::sqrt(info)));
  // The score: the three answers plus the four unasked items' predictions at that ability.
  double total = r.answers[0] + r.answers[1] + r.answers[2];
  for (int j = 0; j < 7; ++j)
    if (std::find(r.asked.begin(), r.asked.end(), j) == r.asked.end()) total += 1 / (1 + std::exp(-(r.theta - items.b(j))));
  CHECK(r.estimate == Approx(total / 7));
  // A standard-error target stops the test early once met (never before min_items).
  const AdaptiveResult early = run_adaptive(items, {7, 0.8, 2}, model);
  CHECK(early.asked.size() >= 2);
  CHECK(early.asked.size() < 7);
  CHECK(early.se <= 0.8);
  CHECK_THROWS_WITH(run_adaptive(items, {8, 0, 3}, model), Catch::Contains("not between 1 and 7"));
}

TEST_CASE("adaptive rounds of k take the k most informative items at the current ability, and a rebuilt test asks the same", "[select]") {
  // Seven items, a = 1, b = −3..3, a model solving b < 0.5. At θ = 0, P(1−P) ranks b = 0, then ±1 (the
  // lower index first on a tie: b = −1, item 2), then ±2.
  IrtItems items;
  items.a = Eigen::MatrixXd::Ones(7, 1);
  items.b.resize(7);
  items.b << -3, -2, -1, 0, 1, 2, 3;
  AdaptiveTest test(items, {5, 0, 3});
  CHECK(test.next_round(3) == std::vector<int>{3, 2, 4});
  // Answers in any order give the same ability: the MAP over the answered set.
  test.record(4, 0), test.record(3, 1), test.record(2, 1);
  AdaptiveTest again(items, {5, 0, 3});
  again.record(2, 1), again.record(3, 1), again.record(4, 0);
  CHECK(test.result().theta == Approx(again.result().theta));
  CHECK(test.result().theta == Approx(0.305).margin(0.002));
  // Solved b = −1 and 0, failed b = 1: the MAP θ maximizes log σ(θ+1) + log σ(θ) + log(1 − σ(θ−1)) − θ²/2,
  // ≈ 0.305 (worked out apart); nearest of the rest are b = 2 (1.7 away) and b = −2 (2.3), and the 2 items
  // left in the budget cap the round at 2 however large k is.
  const auto second = test.next_round(10);
  REQUIRE(second.size() == 2);
  CHECK(std::set<int>(second.begin(), second.end()) == std::set<int>{1, 5});
  for (int j : second) test.record(j, items.b(j) < 0.5 ? 1 : 0);
  CHECK(test.done());
  CHECK(test.next_round(3).empty());
  CHECK_THROWS_WITH(test.record(3, 1), Catch::Contains("asked before"));
}

TEST_CASE("with a multidimensional fit, the adaptive estimate averages the two fits' predictions of the unasked items", "[select]") {
  // Four items a = 1, b = 0 for steering; the second fit gives each unasked item P = 0.75 whatever the
  // ability (a = 0, b = −ln 3). One correct answer: the 1-D MAP θ solves θ + σ(θ) = 1, θ ≈ 0.40106,
  // σ(θ) ≈ 0.59894 (bisection apart), so the 1-D score is (1 + 3 · 0.59894) / 4 = 0.69921, the other
  // (1 + 3 · 0.75) / 4 = 0.8125, and the estimate their mean 0.75585.
  IrtItems steer{Eigen::MatrixXd::Ones(4, 1), Eigen::VectorXd::Zero(4)};
  IrtItems multi{Eigen::MatrixXd::Zero(4, 2), Eigen::VectorXd::Constant(4, -std::log(3.0))};
  AdaptiveTest plain(steer, {4, 0, 1}), both(steer, {4, 0, 1}, &multi);
  plain.record(0, 1), both.record(0, 1);
  CHECK(plain.result().theta == Approx(0.40106).margin(1e-4));
  CHECK(plain.result().estimate == Approx(0.69921).margin(1e-4));
  const AdaptiveResult r = both.result();
  CHECK(r.theta == Approx(0.40106).margin(1e-4));  // the steering fit's ability, unchanged
  CHECK(r.estimate == Approx(0.75585).margin(1e-4));
  // The interval keeps the 1-D posterior's width and moves with the estimate.
  CHECK(r.high - r.low == Approx(plain.result().high - plain.result().low).margin(1e-9));
  CHECK(r.low < r.estimate);
  CHECK(r.estimate < r.high);
  IrtItems three{Eigen::MatrixXd::Zero(3, 2), Eigen::VectorXd::Zero(3)};
  CHECK_THROWS_WITH(AdaptiveTest(steer, {4, 0, 1}, &three), Catch::Contains("different items"));
}

TEST_CASE("on data from a 2PL, adaptive testing beats a random subset of the same size", "[select]") {
  const ResponseMatrix m = simulated(60, 300, 17);
  SelectEvalOptions o;
  o.methods = {"random", "adaptive"};
  o.budgets = {20};
  o.seeds = 4;
  const auto rows = evaluate_selection(m, nullptr, o);
  REQUIRE(rows.size() == 2);
  CHECK(rows[1].mae_pct < rows[0].mae_pct);
  // There is no fixed subset to store.
  SelectionContext ctx(m.y, m.items, nullptr);
  CHECK_THROWS_WITH(find_selector("adaptive").select(ctx, 10, 1), Catch::Contains("select eval --method adaptive"));
}
