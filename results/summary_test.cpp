#include "results/summary.h"

#include <catch2/catch.hpp>

#include "results/import.h"
#include "tests/support.h"

using namespace reckon;

TEST_CASE("the summary gives accuracy with a Wilson interval, unknown thinking, latency and pass@k", "[summary]") {
  test::TempDir tmp;
  Store s(tmp.file("r.db"), Store::Mode::kReadWrite);
  std::string csv = tmp.write("rows.csv",
                              "model,task,item_id,repeat,input_tokens,output_tokens,reasoning_tokens,score,latency_ms\n"
                              "gpt-5-mini,code,1,0,10,10,5,1,100\n"
                              "gpt-5-mini,code,1,1,10,10,5,0,200\n"
                              "gpt-5-mini,code,1,2,10,10,5,0,300\n"
                              "gpt-5-mini,code,2,0,10,10,,0,400\n"
                              "gpt-5-mini,code,2,1,10,10,,0,500\n"
                              "gpt-5-mini,code,2,2,10,10,,0,600\n");
  import_files(s, {csv}, {});
  auto rows = summarize(s, std::nullopt);
  REQUIRE(rows.size() == 1);
  const auto& m = rows[0];
  CHECK(*m.accuracy == Approx(1.0 / 6));
  CHECK(*m.ci_low > 0);
  CHECK(*m.ci_high < 0.7);
  CHECK(m.reasoning_tokens == 15);
  CHECK(m.reasoning_unknown_rows == 3);
  CHECK(*m.latency_p50_ms == Approx(350));
  CHECK(m.pass_k == 3);
  CHECK(*m.pass_at_k == Approx(0.5));  // item 1 solved in 3 tries, item 2 never
  std::string text = render_summary(rows);
  CHECK(text.find("pass@3 50.0%") != std::string::npos);
  CHECK(text.find("15 (+3 unknown)") != std::string::npos);
}

namespace {

struct Row {
  const char* run;
  const char* model;
  const char* item;
  int repeat;
  const char* step;  // nullptr: the answer
  bool ok;
  bool cache_hit;
  std::optional<double> score, cost, latency;
  std::optional<int64_t> reasoning = 20;
  const char* finish = "stop";
};

void put(Store& s, const Row& r, int n) {
  RequestRecord q;
  q.fingerprint = "fp" + std::to_string(n);
  q.run_id = r.run, q.model = r.model, q.task = "t", q.item_id = r.item, q.repeat = r.repeat;
  if (r.step) q.step = r.step;
  q.ok = r.ok, q.cache_hit = r.cache_hit, q.score = r.score, q.latency_ms = r.latency, q.finish_reason = r.finish;
  q.created_at = "2026-06-01T00:00:00Z";
  if (r.ok) q.usage.input_tokens = 100, q.usage.output_tokens = 50, q.usage.reasoning_tokens = r.reasoning;
  else q.usage.usage_complete = false, q.error_class = "server", q.error = "HTTP 500";
  q.cost.total_usd = r.cost;
  if (std::string(r.model) == "m1") q.cost.price_entry_id = "m1@2026-01-01";
  REQUIRE(s.insert_request(q));
}

}  // namespace

// Every number below is worked out by hand from the rows; see the comments.
TEST_CASE("the summary's scope, cache hits, spend, latency and pass@k across runs, worked by hand", "[summary]") {
  test::TempDir tmp;
  Store s(tmp.file("r.db"), Store::Mode::kReadWrite);
  s.add_run("A", "campaign", "c.json", std::string("c"));  // the campaign's earlier run: out of the default scope
  s.add_run("B", "campaign", "c.json", std::string("c"));  // its latest
  s.add_run("I", "import", "rows.csv");                    // no campaign: in scope
  s.db().exec("INSERT INTO prices(id, model, provider, effective_from, listed_price, source, entry) "
              "VALUES('m1@2026-01-01', 'm1', 'x', '2026-01-01', 3.5, 'test', '{}')");
  const std::vector<Row> rows = {
      // m1: a paid answer; a cached one (no pipeline calls: a cache hit); an error; a truncated answer of
      // unknown thinking; a pipeline answer from the cache whose first call was paid (not a cache hit).
      {"B", "m1", "1", 0, nullptr, true, false, 1.0, 0.010, 100.0},
      {"B", "m1", "1", 1, nullptr, true, true, 0.0, 0.020, 300.0},
      {"B", "m1", "2", 0, nullptr, false, false, std::nullopt, std::nullopt, 50.0},
      {"B", "m1", "2", 1, nullptr, true, false, 1.0, 0.030, 200.0, std::nullopt, "length"},
      {"B", "m1", "3", 0, nullptr, true, true, 1.0, 0.050, 400.0},
      {"B", "m1", "3", 0, "call:0", true, false, std::nullopt, 0.020, 10.0},
      {"B", "m1", "3", 0, "call:1", true, true, std::nullopt, 0.030, 10.0},
      {"B", "m1", "1", 0, "judge", true, false, std::nullopt, 0.004, 10.0},
      // m2: three tries per item in run B, one more try of item 1 in the import; run A is out of scope.
      {"B", "m2", "1", 0, nullptr, true, false, 0.0, 0.0, 10.0},
      {"B", "m2", "1", 1, nullptr, true, false, 1.0, 0.0, 10.0},
      {"B", "m2", "1", 2, nullptr, true, false, 0.0, 0.0, 10.0},
      {"B", "m2", "2", 0, nullptr, true, false, 0.0, 0.0, 10.0},
      {"B", "m2", "2", 1, nullptr, true, false, 0.0, 0.0, 10.0},
      {"B", "m2", "2", 2, nullptr, true, false, 0.0, 0.0, 10.0},
      {"I", "m2", "1", 0, nullptr, true, false, 0.0, 0.0, 10.0},
      {"A", "m2", "1", 0, nullptr, true, false, 1.0, 0.0, 10.0},
      {"A", "m2", "1", 1, nullptr, true, false, 1.0, 0.0, 10.0},
      {"A", "m2", "1", 2, nullptr, true, false, 1.0, 0.0, 10.0},
      // m3: a graded (not 0/1) score: no interval, no pass@k.
      {"B", "m3", "1", 0, nullptr, true, false, 0.5, 0.0, 10.0},
      {"B", "m3", "1", 1, nullptr, true, false, 1.0, 0.0, 10.0},
  };
  for (size_t k = 0; k < rows.size(); ++k) put(s, rows[k], static_cast<int>(k));

  auto all = summarize(s, std::nullopt);
  REQUIRE(all.size() == 3);
  const auto& m1 = all[0];  // priced, so first; then m2, m3 by name
  CHECK(m1.model == "m1");
  CHECK(m1.requests == 5);  // answers only: calls and the judge row are not answers
  CHECK(m1.errors == 1);
  CHECK(m1.scored == 4);
  CHECK(*m1.accuracy == Approx(0.75));
  CHECK(m1.ci_low.has_value());
  CHECK(m1.input_tokens == 400);
  CHECK(m1.output_tokens == 200);
  CHECK(m1.reasoning_tokens == 60);
  CHECK(m1.reasoning_unknown_rows == 1);
  CHECK(m1.truncated == 1);
  CHECK(m1.cost_usd == Approx(0.11));   // .01 + .02 + .03 + .05
  CHECK(m1.spent_usd == Approx(0.06));  // not from the cache: .01 + .03 and the paid call .02
  CHECK(m1.cache_hits == 1);            // item 1's second answer; item 3's came with a paid call
  CHECK(m1.unknown_cost_rows == 0);
  CHECK(*m1.listed_price == Approx(3.5));
  CHECK(*m1.latency_p50_ms == Approx(150));  // paid answers that succeeded: 100 and 200
  CHECK(*m1.latency_p90_ms == Approx(190));
  CHECK_FALSE(m1.pass_at_k.has_value());  // items 2 and 3 have one scored answer each
  const auto& m2 = all[1];
  CHECK(m2.model == "m2");
  CHECK(m2.requests == 7);
  CHECK(*m2.accuracy == Approx(1.0 / 7));
  CHECK(!m2.listed_price.has_value());
  CHECK(m2.pass_k == 3);
  // Item 1: 4 tries over runs B and I, 1 right: 1 − C(3,3)/C(4,3) = 0.75; item 2: 0 of 3 → 0.
  CHECK(*m2.pass_at_k == Approx(0.375));
  const auto& m3 = all[2];
  CHECK(m3.model == "m3");
  CHECK(*m3.accuracy == Approx(0.75));
  CHECK_FALSE(m3.ci_low.has_value());
  CHECK_FALSE(m3.pass_at_k.has_value());
  CHECK(render_summary(all).find("spent in these runs $0.06") != std::string::npos);

  auto a = summarize(s, std::string("A"));
  REQUIRE(a.size() == 1);
  CHECK(a[0].requests == 3);
  CHECK(*a[0].accuracy == Approx(1));
  CHECK(a[0].pass_k == 3);
  CHECK(*a[0].pass_at_k == Approx(1));
}
