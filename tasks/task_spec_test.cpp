#include <catch2/catch.hpp>

#include "common/error.h"
#include "tasks/task.h"
#include "tests/support.h"

using namespace reckon;

TEST_CASE("a task spec loads local JSONL with a template, few-shot and metadata", "[tasks]") {
  test::TempDir tmp;
  std::string data = tmp.write("qa.jsonl", "{\"q\":\"2+2?\",\"a\":\"4\",\"topic\":\"math\",\"uid\":\"x1\"}\n{\"q\":\"3+3?\",\"a\":\"6\",\"topic\":\"math\",\"uid\":\"x2\"}\n");
  auto spec = nlohmann::json::parse(R"({"name":"tiny","data":{"file":")" + data + R"("},"id_field":"uid","reference_field":"a",
    "prompt":{"system":"Be brief.","user":"Q: {q}\nA:","few_shot":[{"user":"Q: 1+1?\nA:","assistant":"2"}]},
    "scorer":"last_number","metadata":["topic"]})");
  TaskDef t = parse_task_spec(spec, "tiny.json");
  auto items = load_items(t, {});
  REQUIRE(items.size() == 2);
  CHECK(items[0].id == "x1");
  CHECK(items[0].messages.size() == 4);
  CHECK(items[0].messages.back().content == "Q: 2+2?\nA:");
  CHECK(items[1].metadata.at("topic") == "math");
  CHECK(find_scorer(t.scorer)->score(items[1], "six is 6").value == 1.0);
}

TEST_CASE("bad task specs name the file and the field", "[tasks]") {
  auto bad = [](const std::string& text) { return parse_task_spec(nlohmann::json::parse(text), "spec.json"); };
  CHECK_THROWS_WITH(bad(R"({"data":{"file":"x"}})"), Catch::Contains("spec.json") && Catch::Contains("'name'"));
  CHECK_THROWS_WITH(bad(R"({"name":"t","data":{"file":"x"},"scorer":"vibes","prompt":{"user":"u"},"reference_field":"a"})"),
                    Catch::Contains("unknown scorer 'vibes'"));
  CHECK_THROWS_WITH(bad(R"({"name":"t","data":{},"scorer":"exact","prompt":{"user":"u"},"reference_field":"a"})"),
                    Catch::Contains("'data' needs"));
  CHECK_THROWS_WITH(bad(R"({"name":"t","data":{"dataset":"nope","path":"p"},"scorer":"exact","prompt":{"user":"u"},"reference_field":"a"})"),
                    Catch::Contains("unknown dataset"));
  test::TempDir tmp;
  std::string data = tmp.write("d.jsonl", "{\"q\":\"x\",\"a\":\"y\"}\n");
  TaskDef t = parse_task_spec(nlohmann::json::parse(R"({"name":"t","data":{"file":")" + data +
                                                    R"("},"scorer":"exact","prompt":{"user":"{question}"},"reference_field":"a"})"),
                              "spec.json");
  CHECK_THROWS_WITH(load_items(t, {}), Catch::Contains("unknown field '{question}'") && Catch::Contains("row 1"));
}

TEST_CASE("templates leave LaTeX braces alone", "[tasks]") {
  CHECK(render_template("put it in \\boxed{} or \\boxed{$ANSWER}: {p}", {{"p", "1+1"}}, "t") ==
        "put it in \\boxed{} or \\boxed{$ANSWER}: 1+1");
}

TEST_CASE("a regex scorer reads the answer the task's pattern captures", "[tasks]") {
  test::TempDir tmp;
  std::string data = tmp.write("d.jsonl", "{\"q\":\"capital of France?\",\"a\":\"Paris\"}\n");
  nlohmann::json spec{{"name", "t"}, {"data", {{"file", data}}}, {"scorer", "regex"}, {"regex", "FINAL: *(\\w+)"},
                      {"prompt", {{"user", "{q}"}}}, {"reference_field", "a"}};
  TaskDef t = parse_task_spec(spec, "spec.json");
  auto items = load_items(t, {});
  const ScorerInfo* s = find_scorer("regex");
  CHECK(s->score(items[0], "I think FINAL: Lyon... no, FINAL: Paris").value == 1.0);
  CHECK(s->score(items[0], "Paris").value == 0.0);
  spec["regex"] = "(";
  CHECK_THROWS_WITH(parse_task_spec(spec, "spec.json"), Catch::Contains("'regex'"));
}

TEST_CASE("a JSONL row's fields are what nlohmann reads in it: strings as they are, other values dumped", "[tasks]") {
  // Rows of every kind; the reference is nlohmann's own parse of each line (of repeated keys the last wins).
  const std::vector<std::string> lines = {
      R"({"q":"caf\u00e9 \"quoted\"\n","a":"4","n":17,"neg":-3,"f":0.5,"big":18446744073709551615,"t":true,"z":null})",
      R"({"q":"nested","a":"x","arr":[1,"two",{"k":[]}],"obj":{"b":2,"a":1},"e":""})",
      R"({"q":"repeated","a":"first","a":"last"})",
      "   ",
      R"(  {"q" : "spaced" , "a" : "1e3", "x": 1e3}  )",
      R"({"q":"\ud83d\ude00 emoji","a":"\u0000zero"})",
  };
  std::string text;
  for (const auto& l : lines) text += l + "\n";
  test::TempDir tmp;
  const std::string data = tmp.write("rows.jsonl", text);
  TaskDef t = parse_task_spec(nlohmann::json{{"name", "t"}, {"data", {{"file", data}}}, {"scorer", "exact"},
                                             {"prompt", {{"user", "{q}"}}}, {"reference_field", "a"}},
                              "spec.json");
  auto items = load_items(t, {});
  std::vector<std::map<std::string, std::string>> want;
  for (const auto& l : lines) {
    if (l.find('{') == std::string::npos) continue;
    std::map<std::string, std::string> row;
    const auto parsed = nlohmann::json::parse(l);
    for (auto it = parsed.begin(); it != parsed.end(); ++it) row[it.key()] = it->is_string() ? it->get<std::string>() : it->dump();
    want.push_back(row);
  }
  REQUIRE(items.size() == want.size());
  for (size_t i = 0; i < items.size(); ++i) CHECK(items[i].fields == want[i]);
  // Hand-checked values among them.
  CHECK(items[0].fields.at("q") == "caf\xC3\xA9 \"quoted\"\n");
  CHECK(items[0].fields.at("n") == "17");
  CHECK(items[0].fields.at("big") == "18446744073709551615");
  CHECK(items[1].fields.at("obj") == "{\"a\":1,\"b\":2}");
  CHECK(items[2].reference == "last");
  CHECK(items[3].fields.at("x") == "1000.0");
  CHECK(items[4].fields.at("a") == std::string("\0zero", 5));
  // What is not an object is named by file and line, whichever reader saw it first.
  for (const std::string bad : {"[1,2]", "{\"q\":", "\"text\"", "{\"q\":\"\xff\",\"a\":\"1\"}"}) {
    const std::string path = tmp.write("bad.jsonl", "{\"q\":\"ok\",\"a\":\"1\"}\n" + bad + "\n");
    TaskDef b = parse_task_spec(nlohmann::json{{"name", "t"}, {"data", {{"file", path}}}, {"scorer", "exact"},
                                               {"prompt", {{"user", "{q}"}}}, {"reference_field", "a"}},
                                "spec.json");
    CHECK_THROWS_WITH(load_items(b, {}), Catch::Contains(path + ":2: not a JSON object"));
  }
}

TEST_CASE("mutated JSONL rows read as nlohmann reads them, or are refused naming file and line", "[tasks]") {
  const std::vector<std::string> seeds = {
      R"({"q":"What is 6 times 7?","a":"42","n":7,"f":-0.25,"tags":["x",1],"m":{"k":null}})",
      R"({"a":"caf\u00e9","q":"\"quoted\" \\ back","b":true,"e":1e-3})",
      R"({"q":"short","a":"1","q":"again"})",
  };
  const std::vector<std::string> pieces{"\"", "{", "}", ",", ":", "[", "]", "\\", "\\u00", "1", "-", "e5", ".", " ",
                                        "\xC3\xA9", "\xff", "\xED\xA0\x80", "null", "\"a\":\"z\"", "\x01", "\\ud800"};
  std::mt19937 rng(20261203);
  test::TempDir tmp;
  int read = 0, refused = 0;
  for (int k = 0; k < 1500; ++k) {
    const std::string line = test::mutate(seeds[static_cast<size_t>(k) % seeds.size()], rng, pieces);
    if (line.find('\n') != std::string::npos || line.find('\r') != std::string::npos) continue;
    const std::string path = tmp.write("m.jsonl", line + "\n");
    TaskDef t = parse_task_spec(nlohmann::json{{"name", "t"}, {"data", {{"file", path}}}, {"scorer", "exact"},
                                               {"prompt", {{"user", "{q}"}}}, {"reference_field", "a"}},
                                "spec.json");
    // The reference: nlohmann's own parse of the line.
    const auto j = nlohmann::json::parse(line, nullptr, false);
    std::map<std::string, std::string> want;
    const bool blank = line.find_first_not_of(" \t") == std::string::npos;
    const bool object = !j.is_discarded() && j.is_object();
    if (object)
      for (auto it = j.begin(); it != j.end(); ++it) want[it.key()] = it->is_string() ? it->get<std::string>() : it->dump();
    std::vector<Item> items;
    std::string error;
    try {
      items = load_items(t, {});
    } catch (const InputError& e) {
      error = e.what();
    }
    if (blank) {
      CHECK(items.empty());
    } else if (!object) {
      CHECK_THAT(error, Catch::Contains(path + ":1: not a JSON object"));
      ++refused;
    } else if (!want.count("a") || !want.count("q")) {
      CHECK_THAT(error, Catch::Contains("row 1"));  // a missing field, named with its row
    } else {
      REQUIRE(error.empty());
      REQUIRE(items.size() == 1);
      CHECK(items[0].fields == want);
      ++read;
    }
  }
  CHECK(read > 100);
  CHECK(refused > 300);
}
