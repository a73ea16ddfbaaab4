#include <catch2/catch.hpp>
#include <cmath>
#include <optional>
#include <random>

#include "common/error.h"
#include "routers/evaluate.h"
#include "common/text.h"
#include "routers/data.h"
#include "routers/router.h"
#include "results/store.h"
#include "tests/support.h"

using namespace reckon;

namespace {

// Two candidates; the cheap one fails exactly on queries mentioning "proof".
RoutingSet toy(int n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  const char* easy[] = {"what is the capital of", "add these numbers", "translate this word", "name a colour"};
  const char* hard[] = {"write a proof that", "give a rigorous proof of", "prove by induction the proof"};
  RoutingSet s;
  s.candidates = {"cheap", "costly"};
  s.cost = {1, 10};
  s.tokens = {100.0, 400.0};
  for (int i = 0; i < n; ++i) {
    const bool is_hard = rng() % 3 == 0;
    s.ids.push_back(std::to_string(i));
    s.texts.push_back(std::string(is_hard ? hard[rng() % 3] : easy[rng() % 4]) + " item " + std::to_string(rng() % 50));
    s.correct.push_back({is_hard ? 0.0 : 1.0, 1.0});
  }
  return s;
}

}  // namespace

TEST_CASE("the DPO gradient matches finite differences of the DPO loss", "[route][dpo]") {
  const std::vector<double> ref = {0.3, -1.2, 0.5};
  std::vector<double> z = {1.0, 0.2, -0.7};
  for (double beta : {0.1, 0.5, 2.0}) {
    std::vector<double> g;
    dpo_loss(z, ref, 0, 2, beta, &g);
    for (size_t i = 0; i < z.size(); ++i) {
      auto up = z, down = z;
      up[i] += 1e-6;
      down[i] -= 1e-6;
      const double fd = (dpo_loss(up, ref, 0, 2, beta, nullptr) - dpo_loss(down, ref, 0, 2, beta, nullptr)) / 2e-6;
      CHECK(g[i] == Approx(fd).margin(1e-7));
    }
  }
  // At the reference the loss is log 2, whatever β.
  CHECK(dpo_loss(ref, ref, 0, 1, 0.3, nullptr) == Approx(std::log(2.0)));
}

TEST_CASE("labels are the cheapest correct candidate — pairs prefer cheaper-correct and correct", "[route]") {
  RoutingSet s;
  s.candidates = {"a", "b", "c"};
  s.cost = {1, 2, 3};
  s.texts = {"q0", "q1", "q2"};
  s.ids = {"0", "1", "2"};
  s.correct = {{0, 1, 1}, {0, 0, 0}, {1, 1, 0}};
  CHECK(cheapest_correct_labels(s, {0, 1, 2}, false) == std::vector<int>{1, 2, 0});
  CHECK(cheapest_correct_labels(s, {0, 1, 2}, true) == std::vector<int>{1, 3, 0});
  auto pairs = preference_pairs(s, {0, 1, 2});
  // q0: b≻a, c≻a, b≻c (cheaper correct); q1: none; q2: a≻b (cheaper), a≻c, b≻c.
  CHECK(pairs.size() == 6);
  int q0 = 0;
  for (const auto& p : pairs) q0 += p.query == 0;
  CHECK(q0 == 3);
}

TEST_CASE("APGR and CPT(50%) on an exact curve", "[route]") {
  // weak 0.5, strong 0.9: gap 0.4. Curve over shares 0, .5, 1 at accuracies .5, .8, .9.
  std::vector<CurvePoint> c = {{0, 0.5, 0}, {0.5, 0.8, 0}, {1, 0.9, 0}};
  std::optional<double> apgr, cpt;
  gap_recovered(c, 0.5, 0.9, apgr, cpt);
  // PGR = 0, 0.75, 1 → area = 0.5·(0+0.75)/2 + 0.5·(0.75+1)/2 = 0.625.
  CHECK(*apgr == Approx(0.625));
  CHECK(*cpt == Approx(0.5));
  gap_recovered(c, 0.9, 0.9, apgr, cpt);
  CHECK_FALSE(apgr);  // no gap: undefined, not zero
}

TEST_CASE("every router learns the toy rule and beats random at the same call mix", "[route]") {
  const RoutingSet s = toy(600, 3);
  std::vector<size_t> tr, te;
  split_rows(s.size(), 0.7, 5, tr, te);
  for (const char* kind : {"knn", "softmax", "dpo", "mlp", "cascade"}) {
    INFO(kind);
    auto r = find_router(kind).make(s.candidates, s.cost);
    r->train(s, tr, {});
    const RouteEval e = evaluate_router(*r, s, te);
    CHECK(e.accuracy > 0.97);
    CHECK(e.calls[0] > 0.5);  // most queries are easy: the cheap candidate takes them
    CHECK(e.accuracy > e.random_accuracy + 0.1);
    // A third of the queries are hard: perfect routing recovers the gap by a third of costly calls,
    // so APGR ≤ 1 − (1/3)/2 ≈ 0.83 and CPT(50%) ≈ 1/6.
    CHECK(*e.apgr > 0.8);
    CHECK(*e.cpt50 < 0.22);
    CHECK(e.tep_basis == "tokens");
    // Saved and restored, it decides the same.
    auto back = find_router(kind).load(r->params(), r->model_blob());
    for (size_t q : te) CHECK(back->choose(s.texts[q]) == r->choose(s.texts[q]));
    // Decisions spread over two threads are the same decisions, in order.
    std::vector<int> one_by_one;
    for (const auto& text : s.texts) one_by_one.push_back(r->choose(text));
    CHECK(choose_batch(*r, std::vector<Query>(s.texts.begin(), s.texts.end()), 2) == one_by_one);
  }
}

TEST_CASE("the cost-aware mode maximizes P(correct) − λ·cost and trades accuracy for cost as λ grows", "[route]") {
  // Costs normalized by the costliest: 0.1 and 1.
  CHECK(choose_with_lambda({0.6, 0.9}, {1, 10}, 0) == 1);
  CHECK(choose_with_lambda({0.6, 0.9}, {1, 10}, 0.3) == 1);   // 0.57 < 0.60
  CHECK(choose_with_lambda({0.6, 0.9}, {1, 10}, 0.5) == 0);   // 0.55 > 0.40
  CHECK(choose_with_lambda({0.9, 0.9}, {1, 10}, 0) == 0);     // a tie goes to the cheaper
  CHECK(choose_with_lambda({0.2, 0.5, 0.9}, {1, 2, 10}, 0.35) == 2);  // 0.165, 0.43, 0.55
  CHECK(choose_with_lambda({0.2, 0.5, 0.9}, {1, 2, 10}, 0.5) == 1);   // 0.15, 0.40, 0.40: the cheaper of the tie
  CHECK_THROWS_WITH(choose_with_lambda({0.5}, {1, 2}, 0), Catch::Contains("one cost per candidate"));
  const RoutingSet s = toy(600, 4);
  std::vector<size_t> tr, te;
  split_rows(s.size(), 0.7, 5, tr, te);
  for (const char* kind : {"rule", "knn", "softmax", "dpo", "mlp", "cascade"}) {
    INFO(kind);
    auto r = find_router(kind).make(s.candidates, s.cost);
    r->train(s, tr, {});
    for (size_t q : te) {
      const auto p = r->p_correct(s.texts[q]);
      REQUIRE(p.size() == 2);
      CHECK(p[0] >= 0);
      CHECK(p[1] <= 1 + 1e-9);
    }
    const auto curve = lambda_curve(*r, s, te, {0, 0.05, 0.2, 0.5, 1, 2});
    for (size_t i = 1; i < curve.size(); ++i) CHECK(curve[i].cost_per_query <= curve[i - 1].cost_per_query + 1e-12);
    CHECK(curve.back().cost_per_query == Approx(1));  // λ = 2: nothing is worth the costly one
    const RouteEval moderate = evaluate_router(*r, s, te, 0.2);
    CHECK(moderate.accuracy > 0.9);  // the hard third still goes up: 0.8 extra correctness beats 0.18 of cost
    // Probabilistic routers send the easy majority to the cheap candidate; rule (length does not
    // tell these queries apart) and knn (one hard neighbour in five is enough doubt) escalate more.
    if (std::string(kind) != "rule" && std::string(kind) != "knn") CHECK(moderate.calls[0] > 0.5);
  }
}

TEST_CASE("text-to-SQL prompts carry their schema's size: tables and columns as features, and the rule on them", "[route]") {
  const std::string prompt =
      "Schema:\nCREATE TABLE singer(id INTEGER PRIMARY KEY, name TEXT, age INTEGER);\ncreate table concert (id int, "
      "singer_id int, place varchar(20), PRIMARY KEY (id), FOREIGN KEY (singer_id) REFERENCES singer(id));\nQuestion: who?";
  const SchemaCounts c = schema_counts(prompt);
  CHECK(c.tables == 2);
  CHECK(c.columns == 6);  // constraints are not columns; varchar(20)'s parentheses do not split
  CHECK(schema_counts("What is the capital of France?").tables == 0);
  CHECK(schema_counts("CREATE TABLE broken(a, b").columns == 2);
  // Two schema sizes; the cheap candidate fails on the large ones: the rule on table count learns it.
  RoutingSet s;
  s.candidates = {"basic", "advanced"};
  s.cost = {1, 4};
  s.tokens = {std::nullopt, std::nullopt};
  std::string small = "CREATE TABLE a(x int);", large = small + "CREATE TABLE b(y int);CREATE TABLE c(z int);";
  for (int i = 0; i < 200; ++i) {
    const bool big = i % 4 == 0;
    s.ids.push_back(std::to_string(i));
    s.texts.push_back((big ? large : small) + " question " + std::to_string(i * 7919 % 1000));  // lengths overlap
    s.correct.push_back({big ? 0.0 : 1.0, 1.0});
  }
  std::vector<size_t> tr, te;
  split_rows(s.size(), 0.7, 3, tr, te);
  RouterOptions o;
  o.rule_feature = "tables";
  auto r = find_router("rule").make(s.candidates, s.cost);
  r->train(s, tr, o);
  CHECK(evaluate_router(*r, s, te).accuracy == Approx(1.0));
  auto back = find_router("rule").load(r->params(), r->model_blob());
  for (size_t q : te) CHECK(back->choose(s.texts[q]) == r->choose(s.texts[q]));
  o.rule_feature = "vibes";
  CHECK_THROWS_WITH(r->train(s, tr, o), Catch::Contains("length, tables, columns or a feature column, not 'vibes'"));
  // A router saved before the schema statistics existed still loads and decides.
  TextFeaturizer f;
  auto old = f.to_json();
  old.erase("stats");
  CHECK(TextFeaturizer::from_json(old).dim() == (1u << 18) + 4);
}

TEST_CASE("the rule router picks the threshold with the best training accuracy", "[route]") {
  RoutingSet s;
  s.candidates = {"cheap", "costly"};
  s.cost = {1, 5};
  s.tokens = {std::nullopt, std::nullopt};
  for (int len = 1; len <= 10; ++len) {
    s.ids.push_back(std::to_string(len));
    s.texts.push_back(std::string(static_cast<size_t>(len), 'x'));
    s.correct.push_back({len <= 6 ? 1.0 : 0.0, 1.0});  // the cheap one manages up to 6 characters
  }
  std::vector<size_t> all = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
  auto r = find_router("rule").make(s.candidates, s.cost);
  r->train(s, all, {});
  CHECK(r->params()["thresholds"] == nlohmann::json::array({6}));
  CHECK(r->choose("xxxxxx") == 0);
  CHECK(r->choose("xxxxxxx") == 1);
  const RouteEval e = evaluate_router(*r, s, all);
  CHECK(e.accuracy == Approx(1.0));
  CHECK(e.tep_basis == "cost");
}

TEST_CASE("bad routing inputs fail clearly", "[route]") {
  test::TempDir tmp;
  CHECK_THROWS_WITH(load_outcomes(tmp.write("a.csv", "prompt,a_correct\nx,1\n"), {{"a"}}),
                    Catch::Contains("at least two candidates"));
  std::string rows = "prompt_id,prompt,weak_correct,strong_correct\n";
  for (int i = 0; i < 12; ++i) rows += std::to_string(i) + ",q" + std::to_string(i) + ",1,0\n";
  CHECK_NOTHROW(load_outcomes(tmp.write("ok.csv", rows), {{"weak", "strong"}}));
  CHECK_THROWS_WITH(load_outcomes(tmp.write("empty.csv", rows + "99,  ,1,1\n"), {{"weak", "strong"}}),
                    Catch::Contains("empty.csv:14: empty query text"));
  CHECK_THROWS_WITH(load_outcomes(tmp.write("bad.csv", rows + "98,q,2,1\n"), {{"weak", "strong"}}),
                    Catch::Contains("'weak_correct' must be a score in [0, 1]"));
  CHECK_THROWS_WITH(load_outcomes(tmp.write("nocol.csv", rows), {{"weak", "mid"}}), Catch::Contains("no column 'mid_correct'"));
  CHECK_THROWS_WITH(find_router("oracle"), Catch::Contains("one of rule, knn, softmax, dpo, mlp, cascade"));
  // A store where the candidates share no item.
  const std::string db = tmp.file("s.db");
  auto imp = test::run_reckon({"import", "--db", db, "--allow-unpriced",
                               tmp.write("r.csv", "model,task,item_id,score,prompt\nm1,t,1,1,hello\nm2,t,2,0,world\n")});
  REQUIRE(imp.exit_code == 0);
  Store st(db, Store::Mode::kReadOnly);
  CHECK_THROWS_WITH(load_from_store(st, "t", {"m1", "m2"}), Catch::Contains("no item of task 't' was answered by every candidate"));
  CHECK_THROWS_WITH(load_from_store(st, "t", {"m1", "m3"}), Catch::Contains("'m3' has no scored results"));
}

TEST_CASE("route eval through the CLI: its numbers follow from their definitions", "[route][cli]") {
  // 200 queries: weak (cost 1) right on the even ones ("add two small numbers"), wrong on the odd ones
  // ("prove the deep theorem"); strong (cost 10) always right. 30 % held out: 60 queries.
  test::TempDir tmp;
  std::string rows = "prompt_id,prompt,weak_correct,strong_correct\n";
  for (int i = 0; i < 200; ++i)
    rows += std::to_string(i) + (i % 2 ? ",prove the deep theorem number " + std::to_string(i) + ",0,1\n"
                                       : ",add two small numbers " + std::to_string(i) + ",1,1\n");
  const std::string db = tmp.file("r.db");
  auto tr = test::run_reckon({"route", "train", "--outcomes", tmp.write("o.csv", rows), "--candidates", "weak,strong", "--costs", "1,10",
                              "--router", "knn", "--name", "k", "--save-db", db});
  INFO(tr.err);
  REQUIRE(tr.exit_code == 0);
  auto ev = test::run_reckon({"route", "eval", "--db", db, "--name", "k", "--json"});
  INFO(ev.out << ev.err);
  REQUIRE(ev.exit_code == 0);
  auto j = nlohmann::json::parse(ev.out);
  CHECK(j["queries"] == 60);
  const double weak_share = j["calls"][0].get<double>(), strong_share = j["calls"][1].get<double>();
  const double weak_acc = j["candidate_accuracy"][0].get<double>(), acc = j["accuracy"].get<double>();
  CHECK(weak_share + strong_share == Approx(1.0));
  CHECK(j["candidate_accuracy"][1].get<double>() == Approx(1.0));  // strong is always right
  CHECK(weak_acc > 0.3);
  CHECK(weak_acc < 0.7);  // about half the held-out queries are easy
  // Cost per query: the call mix at costs 1 and 10.
  CHECK(j["cost_per_query"].get<double>() == Approx(weak_share * 1 + strong_share * 10));
  // The oracle sends exactly the queries weak gets right to weak: all right, at weak_acc × 1 + (1 − weak_acc) × 10.
  CHECK(j["oracle_accuracy"].get<double>() == Approx(1.0));
  CHECK(j["oracle_cost_per_query"].get<double>() == Approx(weak_acc * 1 + (1 - weak_acc) * 10));
  // Random routing at the same call mix: each query right with the chosen candidate's accuracy.
  CHECK(j["random_accuracy"].get<double>() == Approx(weak_share * weak_acc + strong_share * 1.0));
  // TEP against the cheapest candidate (METHODS.md): relative accuracy gain over relative cost increase.
  const double cost = j["cost_per_query"].get<double>();
  CHECK(j["tep_basis"] == "cost");
  CHECK(j["tep"].get<double>() == Approx(((acc - weak_acc) / weak_acc) / ((cost - 1) / 1)));
  // The text tells the two kinds apart: the router beats random at its own mix.
  CHECK(acc > j["random_accuracy"].get<double>());
  CHECK(j["apgr"].get<double>() > 0.5);
  CHECK(j["apgr"].get<double>() <= 1.0);
}

TEST_CASE("route train and eval from a store's results, saved and judged on held-out items", "[route][cli]") {
  test::TempDir tmp;
  const std::string db = tmp.file("s.db");
  const RoutingSet s = toy(200, 9);
  std::string rows = "model,task,item_id,input_tokens,output_tokens,score,prompt\n";
  for (size_t i = 0; i < s.size(); ++i) {
    rows += "small,qa," + s.ids[i] + ",10,20," + (s.correct[i][0] > 0 ? "1" : "0") + ",\"" + s.texts[i] + "\"\n";
    rows += "large,qa," + s.ids[i] + ",10,200,1,\"" + s.texts[i] + "\"\n";
  }
  REQUIRE(test::run_reckon({"import", "--db", db, "--allow-unpriced", tmp.write("r.csv", rows)}).exit_code == 0);
  auto tr = test::run_reckon({"route", "train", "--db", db, "--task", "qa", "--candidates", "large,small", "--router", "dpo",
                              "--name", "r1"});
  INFO(tr.err);
  REQUIRE(tr.exit_code == 0);
  auto ev = test::run_reckon({"route", "eval", "--db", db, "--name", "r1", "--json", "--curve", tmp.file("curve.csv")});
  INFO(ev.err);
  REQUIRE(ev.exit_code == 0);
  auto j = nlohmann::json::parse(ev.out);
  CHECK(j["queries"] == 60);  // 30 % of 200 held out
  CHECK(j["accuracy"].get<double>() > 0.95);
  for (const char* key : {"accuracy", "mean_tokens", "cost_per_query", "tep", "apgr", "cpt50", "calls"}) CHECK(j.contains(key));
  CHECK(j["mean_tokens"].get<double>() < 210);  // mostly the small model's 30 tokens
  CHECK(test::read_file(tmp.file("curve.csv")).find("costly_share,accuracy") == 0);
  CHECK(test::run_reckon({"route", "eval", "--db", db, "--name", "nope"}).exit_code == 2);
  // Applied to new queries: a decision per line, the costly candidate for the hard one.
  auto ap = test::run_reckon({"route", "apply", "--db", db, "--name", "r1", "--input",
                              tmp.write("q.jsonl", "{\"prompt\": \"what is the capital of item 7\"}\n"
                                                   "{\"prompt\": \"give a rigorous proof of item 3\"}\n")});
  INFO(ap.err);
  REQUIRE(ap.exit_code == 0);
  CHECK(ap.out.find("\"route\":\"small\"") != std::string::npos);
  CHECK(ap.out.find("\"route\":\"large\"") != std::string::npos);
  CHECK(test::run_reckon({"route", "apply", "--db", db, "--name", "r1", "--input", tmp.write("bad.jsonl", "{\"q\": 1}\n")}).exit_code == 2);
}

TEST_CASE("the rule router places one threshold per step over three candidates on a given feature", "[route]") {
  // Feature 1–9: up to 3 the basic candidate solves it, 4–6 the intermediate, 7–9 only the advanced;
  // the text says nothing (all alike). Best rule by hand: thresholds 3 and 6, every query correct.
  RoutingSet s;
  s.candidates = {"basic", "intermediate", "advanced"};
  s.cost = {1, 2, 4};
  s.tokens.assign(3, std::nullopt);
  s.feature_names = {"tables"};
  for (int v = 1; v <= 9; ++v) {
    s.ids.push_back(std::to_string(v));
    s.texts.push_back("same question");
    s.features.push_back({static_cast<double>(v)});
    s.correct.push_back({v <= 3 ? 1.0 : 0.0, v <= 6 ? 1.0 : 0.0, 1.0});
  }
  std::vector<size_t> all = {0, 1, 2, 3, 4, 5, 6, 7, 8};
  RouterOptions opt;
  opt.rule_feature = "tables";
  auto r = find_router("rule").make(s.candidates, s.cost);
  r->train(s, all, opt);
  CHECK(r->params()["thresholds"] == nlohmann::json::array({3, 6}));
  const std::vector<double> f2 = {2}, f5 = {5}, f8 = {8};
  CHECK(r->choose(Query("q", f2)) == 0);
  CHECK(r->choose(Query("q", f5)) == 1);
  CHECK(r->choose(Query("q", f8)) == 2);
  const RouteEval e = evaluate_router(*r, s, all);
  CHECK(e.accuracy == Approx(1.0));
  CHECK(e.cost_per_query == Approx((3 * 1 + 3 * 2 + 3 * 4) / 9.0));
  // Saved and restored, it decides the same; without the feature it says which one it needs.
  auto back = find_router("rule").load(r->params(), r->model_blob());
  CHECK(back->choose(Query("q", f5)) == 1);
  CHECK_THROWS_WITH(back->choose("q"), Catch::Contains("thresholds the feature 'tables'"));
  opt.rule_feature = "colour";
  CHECK_THROWS_WITH(r->train(s, all, opt), Catch::Contains("not 'colour'"));
}

TEST_CASE("text-to-SQL cue words are counted as whole words", "[route]") {
  // Counted by hand: words 12; aggregation "average"; ordering "highest", "top"; arithmetic
  // "percentage" and "%"; conditions "and", "with".
  const SqlCues c = sql_cues("What is the average and highest percentage (%) of top schools with charters?");
  CHECK(c.words == 12);
  CHECK(c.aggregation == 1);
  CHECK(c.ordering == 2);
  CHECK(c.arithmetic == 2);
  CHECK(c.conditions == 2);
  CHECK(sql_cues("Counting counts").aggregation == 0);  // not "count"
}

TEST_CASE("outcomes files carry cascade labels, feature columns, several text columns and a split column", "[route]") {
  test::TempDir tmp;
  // EllieSQL's shape: basic known everywhere; a costlier cell empty where a cheaper one succeeded.
  std::string rows = "id,question,evidence,basic_correct,intermediate_correct,advanced_correct,n_tables,part\n";
  for (int i = 0; i < 12; ++i) {
    const char* cells = i % 3 == 0 ? "1,," : i % 3 == 1 ? "0,1," : "0,0,1";
    rows += std::to_string(i) + ",question " + std::to_string(i) + "," + (i % 2 ? "ev" : "") + "," + cells + "," +
            std::to_string(i % 4 + 1) + "," + (i < 8 ? "train" : "test") + "\n";
  }
  OutcomesOptions opt;
  opt.candidates = {"basic", "intermediate", "advanced"};
  opt.text_column = "question,evidence";
  opt.id_column = "id";
  opt.feature_columns = {"n_tables"};
  opt.split_column = "part";
  const RoutingSet s = load_outcomes(tmp.write("e.csv", rows), opt);
  REQUIRE(s.size() == 12);
  CHECK(s.correct[0] == std::vector<double>{1, 1, 1});  // cascade: the empty cells count as solved
  CHECK(s.correct[1] == std::vector<double>{0, 1, 1});
  CHECK(s.correct[2] == std::vector<double>{0, 0, 1});
  CHECK(s.texts[0] == "question 0");
  CHECK(s.texts[1] == "question 1\nev");
  CHECK(s.features[3] == std::vector<double>{4});
  std::vector<size_t> tr, te;
  split_set(s, 0.7, 1, tr, te);
  CHECK(tr == std::vector<size_t>{0, 1, 2, 3, 4, 5, 6, 7});
  CHECK(te == std::vector<size_t>{8, 9, 10, 11});
  // A router trained with the feature asks for it.
  auto r = find_router("softmax").make(s.candidates, s.cost);
  r->train(s, tr, {});
  CHECK_THROWS_WITH(r->choose("question 99"), Catch::Contains("features n_tables beside the text"));
  const std::vector<double> f = {2};
  CHECK_NOTHROW(r->choose(Query("question 99", f)));
  // Empty with no cheaper success, a bad feature and a bad split value are named by line.
  CHECK_THROWS_WITH(load_outcomes(tmp.write("gap.csv", rows + "50,q,,0,,1,1,train\n"), opt),
                    Catch::Contains("gap.csv:14: column 'intermediate_correct' is empty, but no cheaper candidate succeeded"));
  CHECK_THROWS_WITH(load_outcomes(tmp.write("feat.csv", rows + "51,q,,1,,,many,train\n"), opt),
                    Catch::Contains("feat.csv:14: feature column 'n_tables' must be a number"));
  CHECK_THROWS_WITH(load_outcomes(tmp.write("part.csv", rows + "52,q,,1,,,1,dev\n"), opt),
                    Catch::Contains("part.csv:14: column 'part' must be train or test, not 'dev'"));
}

TEST_CASE("EllieSQL's published labels read as cascade labels", "[route]") {
  // Label counts of the 704 rows worked out from the file's `label` column apart from reckon:
  // 318 basic, 69 intermediate, 26 advanced, 291 unsolved — so basic solves 318, intermediate 387,
  // advanced 413 under the cascade reading.
  OutcomesOptions opt;
  opt.candidates = {"basic", "intermediate", "advanced"};
  opt.text_column = "question,evidence";
  opt.id_column = "bird_question_id";
  opt.feature_columns = {"n_linked_tables", "n_linked_columns"};
  const RoutingSet s = load_outcomes(test::shared_data("routing/elliesql_bird_dev_labels_5db.csv"), opt);
  REQUIRE(s.size() == 704);
  std::vector<double> solved(3, 0);
  for (const auto& row : s.correct)
    for (size_t c = 0; c < 3; ++c) solved[c] += row[c];
  CHECK(solved == std::vector<double>{318, 387, 413});
  // Every router trains on it and decides for every held-out question.
  std::vector<size_t> tr, te;
  split_rows(s.size(), 0.7, 1, tr, te);
  for (const auto& kind : router_table()) {
    if (std::string(kind.name) == "dpo" || std::string(kind.name) == "mlp") continue;  // slower, same features as softmax
    if (std::string(kind.name) == "lm") continue;  // fine-tunes a language model: sweeps/backends_test.cpp
    RouterOptions ro;
    ro.rule_feature = "n_linked_columns";
    auto r = kind.make(s.candidates, s.cost);
    r->train(s, tr, ro);
    const RouteEval e = evaluate_router(*r, s, te);
    INFO(kind.name);
    CHECK(e.queries == te.size());
    CHECK(e.oracle_accuracy == Approx(e.candidate_accuracy[2]));  // the cascade reading: advanced solves all that is solvable
    auto back = kind.load(r->params(), r->model_blob());
    for (size_t q : te) CHECK(back->choose(s.query(q)) == r->choose(s.query(q)));
  }
}

TEST_CASE("route train on a split column and a feature column, and route apply reads the feature from each line", "[route][cli]") {
  test::TempDir tmp;
  // Three pipelines; the feature `n` alone decides: n ≤ 2 basic suffices, 3–4 intermediate, 5+ advanced.
  // Rows 0–29 train, 30–39 test (the split column, not a random split).
  std::string rows = "qid,question,basic_correct,intermediate_correct,advanced_correct,n,split\n";
  for (int i = 0; i < 40; ++i) {
    const int n = i % 6 + 1;
    const char* cells = n <= 2 ? "1,," : n <= 4 ? "0,1," : "0,0,1";
    rows += std::to_string(i) + ",how many rows " + std::to_string(i) + "," + cells + "," + std::to_string(n) + "," +
            (i < 30 ? "train" : "test") + "\n";
  }
  const std::string file = tmp.write("labels.csv", rows), db = tmp.file("r.db");
  auto tr = test::run_reckon({"route", "train", "--outcomes", file, "--candidates", "basic,intermediate,advanced", "--costs", "1,2,4",
                              "--text-column", "question", "--id-column", "qid", "--feature-columns", "n", "--split-column", "split",
                              "--router", "rule", "--rule-feature", "n", "--name", "r", "--save-db", db});
  INFO(tr.err);
  REQUIRE(tr.exit_code == 0);
  CHECK(tr.out.find("trained on 30 queries, 10 held out") != std::string::npos);
  auto ev = test::run_reckon({"route", "eval", "--db", db, "--name", "r", "--json"});
  REQUIRE(ev.exit_code == 0);
  const auto j = nlohmann::json::parse(ev.out);
  CHECK(j["queries"] == 10);
  CHECK(j["accuracy"].get<double>() == Approx(1.0));
  // Rows 30–39 have n = 1,2,3,4,5,6,1,2,3,4: four basic, four intermediate, two advanced by hand.
  CHECK(j["cost_per_query"].get<double>() == Approx((4 * 1 + 4 * 2 + 2 * 4) / 10.0));
  auto ap = test::run_reckon({"route", "apply", "--db", db, "--name", "r", "--text-field", "question", "--input",
                              tmp.write("q.jsonl", "{\"question\": \"a\", \"n\": 1}\n{\"question\": \"b\", \"n\": 6}\n")});
  INFO(ap.err);
  REQUIRE(ap.exit_code == 0);
  CHECK(ap.out.find("\"route\":\"basic\"") < ap.out.find("\"route\":\"advanced\""));
  auto missing = test::run_reckon({"route", "apply", "--db", db, "--name", "r", "--text-field", "question", "--input",
                                   tmp.write("m.jsonl", "{\"question\": \"a\"}\n")});
  CHECK(missing.exit_code == 2);
  CHECK(missing.err.find("record 1: the router needs the number 'n'") != std::string::npos);
}

TEST_CASE("route train --costs-from takes each candidate's cost per answer from a store's pipeline answers", "[route]") {
  test::TempDir tmp;
  const std::string db = tmp.file("costs.db");
  {
    // Answer rows of three pipelines (their cost the sum of their calls, as campaigns write it); a failed
    // answer, a call row and another task's answer must not count.
    Store store(db, Store::Mode::kReadWrite);
    store.add_run("r", "campaign", "c.json");
    int n = 0;
    auto add = [&](const std::string& model, const std::string& task, double cost, bool ok, std::optional<std::string> step = {}) {
      RequestRecord r;
      r.fingerprint = "f" + std::to_string(n++);
      r.run_id = "r", r.model = model, r.task = task, r.item_id = "i" + std::to_string(n);
      r.ok = ok, r.step = step;
      r.created_at = "2026-12-01T00:00:00Z";
      r.usage.usage_complete = true;
      r.cost.total_usd = cost;
      if (!ok) r.http_status = 500, r.error_class = "server_error", r.error = "down";
      store.insert_request(r);
    };
    const std::string basic = "pipeline:sql-basic@openai:gpt-5-mini", inter = "pipeline:sql-intermediate@openai:gpt-5-mini",
                      adv = "pipeline:sql-advanced@openai:gpt-5-mini";
    add(basic, "bird", 0.001, true), add(basic, "bird", 0.003, true), add(basic, "bird", 0.5, false);
    add(inter, "bird", 0.004, true), add(inter, "bird", 0.006, true), add(inter, "bird", 0.002, true, std::string("call:generate"));
    add(adv, "bird", 0.010, true), add(adv, "spider", 0.9, true);
  }
  // Twelve questions in EllieSQL's cascade shape (a costlier cell empty where a cheaper pipeline succeeded).
  std::string rows = "id,question,basic_correct,intermediate_correct,advanced_correct\n";
  const char* outcomes[] = {"1,,", "0,1,", "0,0,1", "0,0,0"};
  for (int i = 0; i < 12; ++i) rows += std::to_string(i) + ",question " + std::to_string(i) + " about singers" + (i % 2 ? " per country" : "") + "," + outcomes[i % 4] + "\n";
  const std::string labels = tmp.write("labels.csv", rows);
  const std::string models = "basic=pipeline:sql-basic@openai:gpt-5-mini,intermediate=pipeline:sql-intermediate@openai:gpt-5-mini,"
                             "advanced=pipeline:sql-advanced@openai:gpt-5-mini";
  auto r = test::run_reckon({"route", "train", "--outcomes", labels, "--candidates", "basic,intermediate,advanced", "--text-column",
                             "question", "--id-column", "id", "--router", "knn", "--name", "k", "--save-db", tmp.file("r.db"),
                             "--costs-from", db, "--cost-models", models, "--cost-task", "bird"});
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  // Means worked out by hand: basic (0.001 + 0.003) / 2, intermediate (0.004 + 0.006) / 2, advanced 0.010.
  CHECK(r.out.find("basic $0.002000 (2 answers), intermediate $0.005000 (2 answers), advanced $0.0100 (1 answers)") != std::string::npos);
  {
    Store st(tmp.file("r.db"), Store::Mode::kReadOnly);
    auto q = st.db().prepare("SELECT params FROM routers WHERE name = 'k'");
    REQUIRE(q.step());
    const auto costs = nlohmann::json::parse(q.text(0))["source"]["costs"];
    REQUIRE(costs.size() == 3);
    CHECK(costs[0].get<double>() == Approx(0.002));
    CHECK(costs[1].get<double>() == Approx(0.005));
    CHECK(costs[2].get<double>() == Approx(0.010));
  }
  // Without the task filter advanced's spider answer counts too: (0.010 + 0.9) / 2.
  CHECK(measured_costs(db, {"basic", "intermediate", "advanced"}, parse_assignments(models, "--cost-models"), "")[2] == Approx(0.455));
  // A candidate the store has no answers for, an unknown mapping, and both cost sources at once are refused.
  CHECK_THROWS_WITH(measured_costs(db, {"basic", "intermediate", "advanced"}, {}, ""),
                    Catch::Contains("candidate 'basic' (model 'basic') has no answers") && Catch::Contains("--cost-models basic=MODEL"));
  CHECK_THROWS_WITH(measured_costs(db, {"basic", "advanced"}, {{"expert", "x"}}, ""), Catch::Contains("'expert', which is not one of the candidates"));
  CHECK_THROWS_WITH(parse_assignments("basic", "--cost-models"), Catch::Contains("--cost-models: 'basic' is not NAME=VALUE"));
  auto both = test::run_reckon({"route", "train", "--outcomes", labels, "--candidates", "basic,intermediate,advanced", "--text-column",
                                "question", "--id-column", "id", "--name", "k2", "--save-db", tmp.file("r.db"), "--costs", "1,2,4",
                                "--costs-from", db});
  CHECK(both.exit_code != 0);
  CHECK(both.err.find("not both") != std::string::npos);
}
