// The pipelines' control flow, driven by a scripted model: repair (the real error text, stopping at
// N, a successful repair scored), self-consistency (majority, deterministic ties), chains, failures,
// and EllieSQL's three SQL pipelines on a real SQLite database.
#include "pipelines/pipeline.h"

#include <catch2/catch.hpp>
#include <functional>

#include "common/error.h"
#include "pipelines/sql_pipelines.h"
#include "results/sqlite.h"
#include "tasks/sql_exec.h"
#include "tests/support.h"

using namespace reckon;

namespace {

struct Transcript {
  std::vector<PipelineCall> calls;
};

// Runs a pipeline to the end, answering every call with `model` (nullopt = the call failed).
Transcript drive(PipelineRun& run, const std::function<std::optional<std::string>(const PipelineCall&)>& model) {
  Transcript t;
  for (int guard = 0; !run.done() && guard < 100; ++guard) {
    auto calls = run.next();
    REQUIRE_FALSE(calls.empty());
    // Answer in reverse order: the result must not depend on arrival order.
    for (auto it = calls.rbegin(); it != calls.rend(); ++it) t.calls.push_back(*it);
    for (auto it = calls.rbegin(); it != calls.rend(); ++it) {
      auto text = model(*it);
      run.answer(it->index, text, text ? "" : "HTTP 500 after 3 attempts");
    }
  }
  return t;
}

std::string make_db(const test::TempDir& tmp) {
  const std::string path = tmp.file("singers.sqlite");
  Database db(path, false);
  db.exec("CREATE TABLE singer(id INTEGER PRIMARY KEY, name TEXT, age INTEGER, country TEXT);"
          "INSERT INTO singer(name, age, country) VALUES ('Ana', 31, 'Peru'), ('Bo', 45, 'Chile'), ('Cy', 27, 'Peru');");
  return path;
}

}  // namespace

TEST_CASE("majority vote: most answers win, ties go to the earliest, unusable answers only when all are", "[pipeline]") {
  CHECK(majority_vote({"a", "b", "b"}) == 1);
  CHECK(majority_vote({"b", "a", "a", "b", "c"}) == 0);  // a and b tie at 2: b came first
  CHECK(majority_vote({"", "", "x"}) == 2);              // two unusable answers do not outvote one usable
  CHECK(majority_vote({"", ""}) == 0);
  CHECK_THROWS_AS(majority_vote({}), InputError);
}

TEST_CASE("repair sends the real error back, stops at N, and a successful repair is what is scored", "[pipeline]") {
  test::TempDir tmp;
  const std::string db = make_db(tmp);
  Pipeline p{"fix", "", {{"generate", "", "Question: {question}", "sql", true, 2, "Error: {error}"}}};
  SECTION("never fixed: N repairs, then the last answer stands") {
    PipelineRun run(p, {{"question", "oldest singer"}}, sql_hooks(db));
    auto t = drive(run, [](const PipelineCall&) { return std::string("```sql\nSELECT nope FROM singer;\n```"); });
    REQUIRE(t.calls.size() == 3);
    CHECK(t.calls[0].step == "generate");
    CHECK(t.calls[1].step == "generate.repair1");
    CHECK(t.calls[2].step == "generate.repair2");
    // The repair round carries the conversation and SQLite's own words.
    REQUIRE(t.calls[2].messages.size() == 5);
    CHECK(t.calls[1].messages[1].role == "assistant");
    CHECK(t.calls[1].messages[2].content == "Error: no such column: nope");
    CHECK(run.done());
    CHECK_FALSE(run.failed());
    CHECK(run.final_answer() == "SELECT nope FROM singer");
  }
  SECTION("fixed on the first repair: scored correct") {
    PipelineRun run(p, {{"question", "oldest singer"}}, sql_hooks(db));
    auto t = drive(run, [](const PipelineCall& c) {
      return c.step == "generate" ? std::string("SELECT name FROM singers ORDER BY age DESC LIMIT 1")
                                  : std::string("```sql\nSELECT name FROM singer ORDER BY age DESC LIMIT 1\n```");
    });
    CHECK(t.calls.size() == 2);
    CHECK(t.calls[1].messages.back().content == "Error: no such table: singers");
    CHECK(sql_execution_match(db, run.final_answer(), "SELECT name FROM singer WHERE age = (SELECT MAX(age) FROM singer)",
                              SqlCompare::kBag) == 1);
  }
}

TEST_CASE("self-consistency samples k answers and takes the majority of their results", "[pipeline]") {
  test::TempDir tmp;
  const std::string db = make_db(tmp);
  PipelineStep vote{"vote", "", "Question: {question}", "sql", true};
  vote.samples = 5;
  Pipeline p{"sc", "", {vote}};
  PipelineRun run(p, {{"question", "how many singers from Peru"}}, sql_hooks(db));
  // Samples 1 and 4 count Peruvians two different ways (same result); 2 and 5 are wrong alike; 3 errors.
  const std::map<std::string, std::string> answers = {
      {"vote.sample1", "SELECT COUNT(*) FROM singer WHERE country = 'Peru'"},
      {"vote.sample2", "SELECT COUNT(*) FROM singer"},
      {"vote.sample3", "SELECT COUNT(*) FROM singers"},
      {"vote.sample4", "SELECT COUNT(id) FROM singer WHERE country LIKE 'peru'"},
      {"vote.sample5", "SELECT 3"}};
  auto t = drive(run, [&](const PipelineCall& c) { return answers.at(c.step); });
  CHECK(t.calls.size() == 5);
  CHECK(run.final_answer() == answers.at("vote.sample1"));  // 2 vs 2: the earlier sample's answer
  // Unanimous garbage still yields an answer (scored wrong), never a crash.
  PipelineRun bad(p, {{"question", "q"}}, sql_hooks(db));
  drive(bad, [](const PipelineCall&) { return std::string("not sql"); });
  CHECK(bad.final_answer() == "not sql");
}

TEST_CASE("chains feed one step's answer to the next — a failed call fails the run", "[pipeline]") {
  Pipeline p{"chain", "", {{"first", "", "Say a word about {topic}"}, {"second", "be brief", "Expand: {first}"}}};
  PipelineRun run(p, {{"topic", "rain"}}, {});
  auto t = drive(run, [](const PipelineCall& c) { return c.step == "first" ? std::string(" wet ") : std::string("very wet"); });
  REQUIRE(t.calls.size() == 2);
  CHECK(t.calls[1].messages[0].content == "be brief");
  CHECK(t.calls[1].messages[1].content == "Expand: wet");
  CHECK(run.fields().at("first") == "wet");
  CHECK(run.final_answer() == "very wet");
  PipelineRun broken(p, {{"topic", "rain"}}, {});
  drive(broken, [](const PipelineCall&) { return std::nullopt; });
  CHECK(broken.failed());
  CHECK(broken.failure() == "step first: HTTP 500 after 3 attempts");
  CHECK_THROWS_WITH(PipelineRun(p, {}, {}), Catch::Contains("unknown field '{topic}'"));
}

TEST_CASE("EllieSQL's pipelines: linking, examples, reasoning and repair, each call its own step", "[pipeline][sql]") {
  test::TempDir tmp;
  const std::string db = make_db(tmp);
  const std::string schema = "CREATE TABLE singer(id INTEGER PRIMARY KEY, name TEXT, age INTEGER, country TEXT);";
  const std::map<std::string, std::string> fields = {{"question", "Name the youngest singer."}, {"schema", schema}};
  auto model = [](const PipelineCall& c) -> std::optional<std::string> {
    if (c.step == "link") return std::string("singer.name\nsinger.age");
    if (c.step == "examples") return std::string("Q: How many singers?\nSQL: SELECT COUNT(*) FROM singer");
    if (c.step == "generate") return std::string("Sub-questions... ```sql\nSELECT name FROM singer ORDER BY years LIMIT 1\n```");
    return std::string("```sql\nSELECT name FROM singer ORDER BY age LIMIT 1\n```");
  };
  std::map<std::string, std::vector<std::string>> steps;
  for (const char* name : {"sql-basic", "sql-intermediate", "sql-advanced"}) {
    const Pipeline* p = find_pipeline(name);
    REQUIRE(p);
    PipelineRun run(*p, fields, sql_hooks(db));
    for (const auto& c : drive(run, model).calls) steps[name].push_back(c.step);
    CHECK(linked_tables(run.fields().at("link")) == 1);
    const double score = sql_execution_match(db, run.final_answer(), "SELECT name FROM singer WHERE age = 27", SqlCompare::kBag);
    CHECK(score == (std::string(name) == "sql-basic" ? 0 : 1));  // basic has no repair round
  }
  CHECK(steps["sql-basic"] == std::vector<std::string>{"link", "generate"});
  CHECK(steps["sql-intermediate"] == std::vector<std::string>{"link", "generate", "generate.repair1"});
  CHECK(steps["sql-advanced"] == std::vector<std::string>{"link", "examples", "generate", "generate.repair1"});
  CHECK(find_pipeline("sql-expert") == nullptr);
}

TEST_CASE("a campaign's own pipeline is parsed strictly, naming the field", "[pipeline]") {
  const auto p = parse_pipeline("two", nlohmann::json::parse(R"({"steps": [{"name": "a", "user": "{prompt}"},
      {"name": "b", "user": "again {a}", "samples": 3}]})"), "c.json");
  REQUIRE(p.steps.size() == 2);
  CHECK(p.steps[1].samples == 3);
  auto bad = [](const char* text) { return parse_pipeline("x", nlohmann::json::parse(text), "c.json"); };
  CHECK_THROWS_WITH(bad(R"({"steps": []})"), Catch::Contains("c.json: pipelines.x: field 'steps' must be a non-empty array"));
  CHECK_THROWS_WITH(bad(R"({"steps": [{"name": "a"}]})"), Catch::Contains("steps[0]: needs string fields 'name' and 'user'"));
  CHECK_THROWS_WITH(bad(R"({"steps": [{"name": "a", "user": "u", "extract": "json"}]})"), Catch::Contains("'extract' must be text or sql"));
  CHECK_THROWS_WITH(bad(R"({"steps": [{"name": "a", "user": "u"}, {"name": "a", "user": "v"}]})"), Catch::Contains("used twice"));
  CHECK_THROWS_WITH(bad(R"({"steps": [{"name": "a", "user": "u", "repairs": 2, "samples": 3}]})"), Catch::Contains("not both"));
  CHECK_THROWS_WITH(bad(R"({"steps": [{"name": "a", "user": "u", "retries": 2}]})"), Catch::Contains("unknown field 'retries'"));
}
