#include "results/reversal.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "results/import.h"
#include "tests/support.h"

using namespace reckon;

namespace {

const char* kConsolidated = "mirror/lchen001/pricing-reversal/69f5f1a0e89ee5bdd6599d46a1bf74a55b22f27d/data/consolidated";

const TaskReversal& task(const ReversalReport& r, const std::string& name) {
  for (const auto& t : r.tasks)
    if (t.task == name) return t;
  FAIL("no task " << name);
  throw;
}

void add_price(Store& s, const std::string& model, double in, double out) {
  PriceEntry e;
  e.model = model;
  e.effective_from = "2020-01-01";
  e.base.input = in;
  e.base.output = out;
  s.upsert_price(e);
}

// A store with custom-priced models and rows "model,task,item_id,input_tokens,output_tokens,reasoning_tokens,score".
std::unique_ptr<Store> store_with(const test::TempDir& tmp, const std::string& rows,
                                  const std::vector<std::tuple<std::string, double, double>>& prices) {
  auto s = std::make_unique<Store>(tmp.file("r.db"), Store::Mode::kReadWrite);
  for (const auto& [m, in, out] : prices) add_price(*s, m, in, out);
  std::string csv = tmp.write("rows.csv", "model,task,item_id,input_tokens,output_tokens,reasoning_tokens,score\n" + rows);
  import_files(*s, {csv}, {});
  return s;
}

}  // namespace

TEST_CASE("the published AIME and GPQA reversal figures reproduce exactly", "[reversal][price-reversal]") {
  test::TempDir tmp;
  Store s(tmp.file("r.db"), Store::Mode::kReadWrite);
  import_files(s, {test::shared_data(kConsolidated)}, {});
  ReversalReport r = analyze_reversals(s, std::nullopt, CostDefinition::kPaper);
  REQUIRE(r.tasks.size() == 2);
  const auto& aime = task(r, "aime");
  CHECK(aime.comparisons == 28);
  CHECK(aime.reversals == 5);
  CHECK(aime.reversals_without_thinking == 2);
  CHECK(*aime.kendall_tau == Approx(0.643).margin(5e-4));
  CHECK(*aime.kendall_tau_without_thinking == Approx(0.857).margin(5e-4));
  const auto& gpqa = task(r, "gpqa");
  CHECK(gpqa.comparisons == 28);
  CHECK(gpqa.reversals == 6);
  CHECK(gpqa.reversals_without_thinking == 2);
  CHECK(*gpqa.kendall_tau == Approx(0.571).margin(5e-4));
  CHECK(*gpqa.kendall_tau_without_thinking == Approx(0.857).margin(5e-4));
  CHECK(r.comparisons == 56);
  CHECK(r.reversals == 11);
  CHECK(r.max_magnitude_pair->cheaper_listed == "gemini-3-flash-preview");
  CHECK(r.max_magnitude_pair->pricier_listed == "claude-haiku-4.5");
  // The truncated MiniMax answers are flagged, so its low cost is not taken at face value.
  bool flagged = false;
  for (const auto& w : r.warnings) flagged = flagged || w.find("MiniMax-M2.5: 55 of 60 answers were cut off") != std::string::npos;
  CHECK(flagged);
  // reckon's real cost equals the paper's on these logs (no caching, no tiers).
  ReversalReport real = analyze_reversals(s, std::nullopt, CostDefinition::kReal);
  CHECK(real.reversals == 11);
  CHECK(real.reversals_without_thinking == 4);
}

TEST_CASE("the JSON carries the fields dashboards and CI read", "[reversal]") {
  test::TempDir tmp;
  auto s = store_with(tmp, "a,t,1,100,100,90,1\nb,t,1,100,10,0,1\n", {{"a", 1, 1}, {"b", 5, 5}});
  auto j = reversal_json(analyze_reversals(*s, std::nullopt, CostDefinition::kPaper));
  for (const char* f : {"comparisons", "reversals", "reversal_rate", "reversals_without_thinking", "kendall_tau_mean",
                        "kendall_tau_mean_without_thinking", "max_magnitude", "tasks"})
    CHECK(j.contains(f));
  for (const char* f : {"task", "comparisons", "reversals", "reversals_without_thinking", "kendall_tau", "kendall_tau_without_thinking"})
    CHECK(j["tasks"][0].contains(f));
  CHECK(j["reversals"] == 0);  // a: 200e-6 < b: 550e-6
  CHECK(j["tasks"][0]["models"].size() == 2);
}

TEST_CASE("a reversal is the cheaper-listed model costing strictly more", "[reversal]") {
  test::TempDir tmp;
  // a listed $2, costs (1000*1 + 2000*1)e-6 = 0.003; b listed $10, costs (1000*5 + 10*5)e-6 = 0.00505
  // c listed $4, costs (1000*2 + 2000*2)e-6 = 0.006 > b: reversed against b; magnitude 0.006/0.00505
  auto s = store_with(tmp, "a,t,1,1000,2000,1990,1\nb,t,1,1000,10,0,1\nc,t,1,1000,2000,1990,0\n",
                      {{"a", 1, 1}, {"b", 5, 5}, {"c", 2, 2}});
  auto r = analyze_reversals(*s, std::nullopt, CostDefinition::kPaper);
  const auto& t = task(r, "t");
  CHECK(t.comparisons == 3);
  CHECK(t.reversals == 1);
  CHECK(t.reversals_without_thinking == 0);
  REQUIRE(r.max_magnitude_pair);
  CHECK(r.max_magnitude_pair->cheaper_listed == "c");
  CHECK(r.max_magnitude_pair->magnitude() == Approx(0.006 / 0.00505));
  CHECK(r.max_magnitude_pair->price_ratio() == Approx(10.0 / 4.0));
  CHECK(*r.thinking_explained() == Approx(1.0));
  CHECK(t.models[0].model == "a");  // ordered by listed price
  CHECK(t.models[1].model == "c");
  CHECK_FALSE(t.models[1].cost_per_correct().has_value());  // c: never correct
}

TEST_CASE("equal listed prices are compared but never reversed", "[reversal]") {
  test::TempDir tmp;
  auto s = store_with(tmp, "a,t,1,100,100,,1\nb,t,1,100,900,,1\n", {{"a", 1, 1}, {"b", 1, 1}});
  auto r = analyze_reversals(*s, std::nullopt, CostDefinition::kPaper);
  CHECK(r.comparisons == 1);
  CHECK(r.reversals == 0);
  CHECK(task(r, "t").pairs[0].listed_tie);
  CHECK_FALSE(task(r, "t").kendall_tau.has_value());  // all ties on the listed side
}

TEST_CASE("a model missing from a task, and a lone model, neither crash nor mislead", "[reversal]") {
  test::TempDir tmp;
  auto s = store_with(tmp, "a,t1,1,10,10,0,1\nb,t1,1,10,10,0,1\na,t2,1,10,10,0,1\n", {{"a", 1, 1}, {"b", 2, 2}});
  auto r = analyze_reversals(*s, std::nullopt, CostDefinition::kPaper);
  CHECK(task(r, "t2").comparisons == 0);
  CHECK_FALSE(task(r, "t2").kendall_tau.has_value());
  CHECK(r.comparisons == 1);
  REQUIRE(r.kendall_tau_mean.has_value());
  CHECK(*r.kendall_tau_mean == Approx(1.0));  // only t1 has a tau
  REQUIRE(r.overall.size() == 1);             // b is not in every task
  CHECK(r.overall[0].model == "a");
  bool noted = false;
  for (const auto& w : r.warnings) noted = noted || w.find("t2: only one model") != std::string::npos;
  CHECK(noted);
  // The printed report says the same: one comparison, none reversed, tau 1 on t1, the lone model named.
  std::string text = render_reversal(r, false);
  CHECK(text.find("Overall: 0/1 pair comparisons reversed (0.0%)") != std::string::npos);
  CHECK(text.find("mean Kendall τ-b 1.000") != std::string::npos);
  CHECK(text.find("note: task t2: only one model, nothing to compare") != std::string::npos);
}

TEST_CASE("items not every model answered are left out and counted", "[reversal]") {
  test::TempDir tmp;
  auto s = store_with(tmp, "a,t,1,10,10,0,1\na,t,2,10,10000,0,1\nb,t,1,10,10,0,1\n", {{"a", 1, 1}, {"b", 2, 2}});
  auto r = analyze_reversals(*s, std::nullopt, CostDefinition::kPaper);
  CHECK(task(r, "t").items == 1);
  CHECK(task(r, "t").items_dropped == 1);
  CHECK(r.reversals == 0);  // item 2 would have made a look expensive
}

TEST_CASE("unknown thinking tokens are reported as unknown, not zero", "[reversal]") {
  test::TempDir tmp;
  auto s = store_with(tmp, "a,t,1,10,500,,1\nb,t,1,10,100,80,1\n", {{"a", 1, 1}, {"b", 2, 2}});
  auto r = analyze_reversals(*s, std::nullopt, CostDefinition::kPaper);
  const auto& a = task(r, "t").models[0];
  CHECK(a.reasoning_unknown);
  CHECK(a.cost_without_thinking == Approx(a.cost));
  bool noted = false;
  for (const auto& w : r.warnings) noted = noted || w.find("t/a: thinking tokens unknown") != std::string::npos;
  CHECK(noted);
  CHECK(render_reversal(r, false).find("(thinking unknown)") != std::string::npos);
}
