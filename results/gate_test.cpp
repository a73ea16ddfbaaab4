#include "results/gate.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "results/import.h"
#include "tests/support.h"

using namespace reckon;

namespace {

// One run of `n` items of task t for gpt-5-mini: score(i), output tokens(i), latency(i).
std::string make_run(const test::TempDir& tmp, const std::string& name, int n, int (*score)(int), int output = 100,
                     int first_item = 0) {
  std::string csv = "model,task,item_id,input_tokens,output_tokens,score,latency_ms\n";
  for (int i = first_item; i < first_item + n; ++i)
    csv += "gpt-5-mini,t," + std::to_string(i) + ",100," + std::to_string(output) + "," + std::to_string(score(i)) + ",1000\n";
  std::string db = tmp.file(name + ".db");
  Store s(db, Store::Mode::kReadWrite);
  ImportOptions o;
  o.run_id = name;
  import_files(s, {tmp.write(name + ".csv", csv)}, o);
  return db;
}

}  // namespace

TEST_CASE("McNemar's exact test", "[gate]") {
  CHECK(mcnemar_exact(0, 0) == 1.0);
  CHECK(mcnemar_exact(5, 5) == Approx(1.0));
  CHECK(mcnemar_exact(10, 0) == Approx(2 * std::pow(0.5, 10)));
  CHECK(mcnemar_exact(2, 1) == Approx(1.0));
}

TEST_CASE("a clear regression fails the gate, significantly", "[gate]") {
  test::TempDir tmp;
  std::string base = make_run(tmp, "base", 100, [](int) { return 1; });
  std::string cand = make_run(tmp, "cand", 100, [](int i) { return i % 10 < 7 ? 1 : 0; });
  GateOptions o;
  o.max_accuracy_drop_pp = 5;
  o.significant_only = true;
  GateReport r = run_gate({base, ""}, {cand, ""}, o);
  REQUIRE(r.rows.size() == 1);
  CHECK_FALSE(r.passed());
  CHECK(r.rows[0].diff == Approx(-0.3));
  CHECK(r.rows[0].ci_high < 0);
  CHECK(*r.rows[0].mcnemar_p < 1e-6);
}

TEST_CASE("a noise-sized difference passes when only significant drops fail", "[gate]") {
  test::TempDir tmp;
  std::string base = make_run(tmp, "base", 100, [](int i) { return i < 80 ? 1 : 0; });
  std::string cand = make_run(tmp, "cand", 100, [](int i) { return (i < 78 || i == 95) ? 1 : 0; });  // -2 +1
  GateOptions o;
  o.max_accuracy_drop_pp = 0.5;
  CHECK_FALSE(run_gate({base, "base"}, {cand, "cand"}, o).passed());  // any drop over 0.5 pp
  o.significant_only = true;
  GateReport r = run_gate({base, "base"}, {cand, "cand"}, o);
  CHECK(r.passed());
  CHECK(*r.rows[0].mcnemar_p == Approx(1.0));
  CHECK(r.rows[0].ci_low < 0);
  CHECK(r.rows[0].ci_high > 0);
}

TEST_CASE("an improvement passes — a cost increase over the threshold fails", "[gate]") {
  test::TempDir tmp;
  std::string base = make_run(tmp, "base", 50, [](int i) { return i % 2; });
  std::string better = make_run(tmp, "better", 50, [](int) { return 1; });
  GateOptions o;
  o.max_accuracy_drop_pp = 1;
  o.max_cost_increase_pct = 10;
  CHECK(run_gate({base, ""}, {better, ""}, o).passed());
  std::string pricier = make_run(tmp, "pricier", 50, [](int) { return 1; }, 300);
  GateReport r = run_gate({base, ""}, {pricier, ""}, o);
  CHECK_FALSE(r.passed());
  bool cost_failed = false;
  for (const auto& c : r.rows[0].checks) cost_failed = cost_failed || (c.name == "cost" && !c.passed);
  CHECK(cost_failed);
}

namespace {

// A run of 10 items, all correct: item i has `output` output tokens and latency (i + 1) × 100 × `slower` ms.
std::string timed_run(const test::TempDir& tmp, const std::string& name, int output, double slower) {
  std::string csv = "model,task,item_id,input_tokens,output_tokens,score,latency_ms\n";
  for (int i = 0; i < 10; ++i)
    csv += "gpt-5-mini,t," + std::to_string(i) + ",100," + std::to_string(output) + ",1," +
           std::to_string(std::lround((i + 1) * 100 * slower)) + "\n";
  std::string db = tmp.file(name + ".db");
  Store s(db, Store::Mode::kReadWrite);
  ImportOptions o;
  o.run_id = name;
  import_files(s, {tmp.write(name + ".csv", csv)}, o);
  return db;
}

const GateCheck& check_named(const GateReport& r, const std::string& name) {
  for (const auto& c : r.rows.at(0).checks)
    if (c.name == name) return c;
  FAIL("no " << name << " check");
  throw;
}

}  // namespace

TEST_CASE("the cost threshold: +8.9 % passes at 10 % and fails at 8 %", "[gate]") {
  // gpt-5-mini ($0.25 / $2 per million): 100 in + 100 out = $0.000225 an item; 100 in + 110 out = $0.000245,
  // +8.89 %.
  test::TempDir tmp;
  std::string base = timed_run(tmp, "base", 100, 1.0), cand = timed_run(tmp, "cand", 110, 1.0);
  GateOptions o;
  o.max_cost_increase_pct = 10;
  GateReport r = run_gate({base, ""}, {cand, ""}, o);
  CHECK(r.rows[0].base_cost / 10 == Approx(0.000225));
  CHECK(r.rows[0].cand_cost / 10 == Approx(0.000245));
  CHECK(r.passed());
  CHECK(check_named(r, "cost").checked);
  o.max_cost_increase_pct = 8;
  r = run_gate({base, ""}, {cand, ""}, o);
  CHECK_FALSE(r.passed());
  CHECK_FALSE(check_named(r, "cost").passed);
  CHECK(check_named(r, "accuracy").passed);
  CHECK(check_named(r, "latency_p90").passed);  // no threshold given: reported, never failing
}

TEST_CASE("the p90-latency threshold: +20 % passes at 25 % and fails at 15 %", "[gate]") {
  // Latencies 100..1000 ms: p90 (linear, position 8.1) = 900 + 0.1 × 100 = 910 ms; 1.2× slower: 1092 ms, +20 %.
  test::TempDir tmp;
  std::string base = timed_run(tmp, "base", 100, 1.0), cand = timed_run(tmp, "cand", 100, 1.2);
  GateOptions o;
  o.max_latency_p90_increase_pct = 25;
  GateReport r = run_gate({base, ""}, {cand, ""}, o);
  REQUIRE(r.rows[0].base_p90_ms.has_value());
  CHECK(*r.rows[0].base_p90_ms == Approx(910));
  CHECK(*r.rows[0].cand_p90_ms == Approx(1092));
  CHECK(r.passed());
  o.max_latency_p90_increase_pct = 15;
  r = run_gate({base, ""}, {cand, ""}, o);
  CHECK_FALSE(r.passed());
  CHECK_FALSE(check_named(r, "latency_p90").passed);
  CHECK(check_named(r, "cost").passed);
  // Through the CLI: exit 1 for the crossed threshold, 0 within it.
  CHECK(test::run_reckon({"gate", "--baseline", base, "--candidate", cand, "--max-latency-p90-increase", "15"}).exit_code == 1);
  CHECK(test::run_reckon({"gate", "--baseline", base, "--candidate", cand, "--max-latency-p90-increase", "25"}).exit_code == 0);
  CHECK(test::run_reckon({"gate", "--baseline", base, "--candidate", cand, "--max-cost-increase", "0"}).exit_code == 0);  // same cost
}

TEST_CASE("disjoint items, missing runs and too few items are data errors", "[gate]") {
  test::TempDir tmp;
  std::string base = make_run(tmp, "base", 20, [](int) { return 1; });
  std::string other = make_run(tmp, "other", 20, [](int) { return 1; }, 100, 1000);
  CHECK_THROWS_AS(run_gate({base, ""}, {other, ""}, {}), InputError);
  CHECK_THROWS_WITH(run_gate({base, "nope"}, {base, ""}, {}), Catch::Contains("no run or campaign named 'nope'"));
  GateOptions o;
  o.min_items = 50;
  CHECK_THROWS_WITH(run_gate({base, ""}, {base, ""}, o), Catch::Contains("fewer than --min-items 50"));
  CHECK(parse_run_ref(base + ":base").selector == "base");
  CHECK(parse_run_ref(base).selector.empty());
}

TEST_CASE("the CLI writes JUnit XML and Markdown, and exits 0, 1 or 2", "[gate][cli]") {
  test::TempDir tmp;
  std::string base = make_run(tmp, "base", 100, [](int) { return 1; });
  std::string cand = make_run(tmp, "cand", 100, [](int i) { return i % 10 < 7 ? 1 : 0; });
  auto fail = test::run_reckon({"gate", "--baseline", base, "--candidate", cand + ":cand", "--max-accuracy-drop", "2",
                                "--max-cost-increase", "10", "--junit", tmp.file("gate.xml"), "--markdown", tmp.file("gate.md")});
  CHECK(fail.exit_code == 1);
  CHECK(fail.out.find("FAIL") != std::string::npos);
  std::string xml = test::read_file(tmp.file("gate.xml"));
  CHECK(xml.find("<testsuites") != std::string::npos);
  CHECK(xml.find("<failure") != std::string::npos);
  // Well-formed, with the JUnit structure CI systems read (testsuites > testsuite > testcase [> failure]).
  std::string check = "python3 -c \"import xml.etree.ElementTree as E; r=E.parse('" + tmp.file("gate.xml") +
                      "').getroot(); assert r.tag=='testsuites'; s=r.find('testsuite'); "
                      "cs=s.findall('testcase'); assert len(cs)==int(s.get('tests'))==3; "
                      "assert len([c for c in cs if c.find('failure') is not None])==int(s.get('failures'))==1\"";
  CHECK(std::system(check.c_str()) == 0);
  // And valid against the JUnit schema CI systems read (xmllint, libxml2-utils).
  CHECK(std::system(("xmllint --noout --schema " RECKON_SOURCE_DIR "/tests/junit.xsd " + tmp.file("gate.xml")).c_str()) == 0);
  CHECK(test::read_file(tmp.file("gate.md")).find("❌") != std::string::npos);
  auto pass = test::run_reckon({"gate", "--baseline", base, "--candidate", base, "--max-accuracy-drop", "2", "--json"});
  CHECK(pass.exit_code == 0);
  CHECK(nlohmann::json::parse(pass.out)["passed"] == true);
  CHECK(test::run_reckon({"gate", "--baseline", base + ":nope", "--candidate", base}).exit_code == 2);
}
