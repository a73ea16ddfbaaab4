#include "tasks/command_scorer.h"

#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <filesystem>

#include "common/error.h"
#include "tasks/code_exec.h"
#include "tests/support.h"

using namespace reckon;

namespace {

// A scorer folder the sandbox's unused uid can read (reckon may run as root).
std::string scorer_folder(const test::TempDir& tmp, const std::string& script) {
  chmod(tmp.write("score.py", script).c_str(), 0644);
  chmod(tmp.path().c_str(), 0755);
  return tmp.path();
}

Item item(const std::string& id, const std::string& reference, const std::string& dir, const std::string& script = "score.py",
          double timeout_s = 30) {
  Item it;
  it.id = id;
  it.reference = reference;
  it.messages = {{"user", "Name a fruit that is " + reference}};
  it.fields = {{"colour", reference}};
  it.extra["command"] = {"python3", script};
  it.extra["command_dir"] = dir;
  it.extra["command_timeout_s"] = timeout_s;
  return it;
}

}  // namespace

TEST_CASE("a command scorer's reply is a score in [0, 1] or {score, prediction}, anything else unscored", "[scorers][command]") {
  CHECK(read_command_reply("1").value == 1.0);
  CHECK(read_command_reply(" 0.25 \r").value == 0.25);
  const ScoreResult j = read_command_reply(R"({"score": 0, "prediction": "pear"})");
  CHECK(j.value == 0.0);
  CHECK(j.prediction == "pear");
  CHECK_FALSE(read_command_reply(R"({"score": null, "prediction": "cannot tell"})").value.has_value());
  CHECK_FALSE(read_command_reply("1.5").value.has_value());
  CHECK(read_command_reply("1.5").prediction.find("outside [0, 1]") != std::string::npos);
  CHECK_FALSE(read_command_reply("yes").value.has_value());
  CHECK(read_command_reply("yes").prediction.find("unreadable reply: yes") != std::string::npos);
  CHECK_FALSE(read_command_reply(R"({"grade": 1})").value.has_value());
}

TEST_CASE("your own scorer runs once in the sandbox and scores every answer in order", "[scorers][command][security]") {
  REQUIRE(sandbox_ready());
  test::TempDir tmp;
  // Scores 1 when the answer names the item's colour field; counts the answers it has seen (one process).
  const std::string dir = scorer_folder(tmp, R"PY(
import json, sys
seen = 0
for line in sys.stdin:
    a = json.loads(line)
    seen += 1
    hit = a["fields"]["colour"] in a["response"].lower() and a["prompt"].endswith(a["reference"])
    print(json.dumps({"score": 1 if hit else 0, "prediction": "%s #%d" % (a["id"], seen)}), flush=True)
)PY");
  const ScoreResult a = command_score(item("i1", "yellow", dir), "A banana is yellow.");
  CHECK(a.value == 1.0);
  CHECK(a.prediction == "i1 #1");
  const ScoreResult b = command_score(item("i2", "red", dir), "A banana.");
  CHECK(b.value == 0.0);
  CHECK(b.prediction == "i2 #2");  // the same process, answers in order
}

TEST_CASE("a scorer that hangs, dies, or writes where it may not leaves the answer unscored and says why", "[scorers][command][security]") {
  REQUIRE(sandbox_ready());
  test::TempDir tmp;
  const std::string dir = scorer_folder(tmp, R"PY(
import sys, time, socket
for line in sys.stdin:
    if "hang" in line:
        time.sleep(60)
    if "die" in line:
        print("scorer gave up", file=sys.stderr, flush=True)
        sys.exit(3)
    if "write" in line:
        try:
            open("/work/planted.txt", "w").write("x")
            print(1, flush=True)
        except OSError:
            print(0, flush=True)
        continue
    if "net" in line:
        try:
            socket.create_connection(("1.1.1.1", 80), timeout=2)
            print(1, flush=True)
        except OSError:
            print(0, flush=True)
        continue
    print(1, flush=True)
)PY");
  const ScoreResult hung = command_score(item("h", "hang", dir, "score.py", 1.5), "hang");
  CHECK_FALSE(hung.value.has_value());
  CHECK(hung.prediction.find("no reply within") != std::string::npos);
  CHECK(command_score(item("ok", "fine", dir, "score.py", 1.5), "fine").value == 1.0);  // started again
  const ScoreResult died = command_score(item("d", "die", dir, "score.py", 1.5), "die");
  CHECK_FALSE(died.value.has_value());
  CHECK(died.prediction.find("ended without replying") != std::string::npos);
  CHECK(died.prediction.find("scorer gave up") != std::string::npos);
  CHECK(command_score(item("w", "write", dir, "score.py", 1.5), "write").value == 0.0);  // its folder is read-only
  CHECK_FALSE(std::filesystem::exists(dir + "/planted.txt"));
  CHECK(command_score(item("n", "net", dir, "score.py", 5), "net").value == 0.0);  // no network
  const ScoreResult missing = command_score(item("m", "x", dir, "no_such_script.py", 1.5), "x");
  CHECK_FALSE(missing.value.has_value());
  CHECK(missing.prediction.find("no_such_script.py") != std::string::npos);
}

TEST_CASE("a task scored by a command names its argv and folder, or is refused", "[scorers][command][tasks]") {
  test::TempDir tmp;
  const std::string data = tmp.write("d.jsonl", "{\"q\":\"x\",\"a\":\"y\"}\n");
  nlohmann::json spec = {{"name", "mine"}, {"data", {{"file", data}}}, {"reference_field", "a"}, {"prompt", {{"user", "{q}"}}},
                         {"scorer", "command"}};
  CHECK_THROWS_WITH(parse_task_spec(spec, "t.json"), Catch::Contains("t.json") && Catch::Contains("'command'"));
  spec["command"] = {"python3", ""};
  CHECK_THROWS_WITH(parse_task_spec(spec, "t.json"), Catch::Contains("'command'"));
  spec["command"] = {"python3", "score.py"};
  spec["command_dir"] = tmp.file("nowhere");
  CHECK_THROWS_WITH(parse_task_spec(spec, "t.json"), Catch::Contains("'command_dir'") && Catch::Contains("nowhere"));
  spec["command_dir"] = tmp.path();
  spec["command_timeout_s"] = 0;
  CHECK_THROWS_WITH(parse_task_spec(spec, "t.json"), Catch::Contains("'command_timeout_s'"));
  spec.erase("command_timeout_s");
  const TaskDef t = parse_task_spec(spec, "t.json");
  const auto items = load_items(t, DataAccess{});
  REQUIRE(items.size() == 1);
  CHECK(items[0].extra["command"] == nlohmann::json({"python3", "score.py"}));
  CHECK(items[0].extra["command_dir"] == std::filesystem::path(tmp.path()).lexically_normal().string());
  CHECK(items[0].fields.at("q") == "x");
}
