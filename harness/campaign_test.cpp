#include "harness/campaign.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <fstream>
#include <functional>
#include <set>
#include <map>
#include <thread>

#include "common/error.h"
#include "results/costs.h"
#include "results/merge.h"
#include "results/store.h"
#include "pipelines/pipeline.h"
#include "pipelines/sql_pipelines.h"
#include "routers/data.h"
#include "routers/router.h"
#include "routers/saved.h"
#include "tests/loopback_server.h"
#include "tests/support.h"

using namespace reckon;

namespace {

const char* kLogs = "mirror/lchen001/pricing-reversal/69f5f1a0e89ee5bdd6599d46a1bf74a55b22f27d/data/consolidated";

RunOptions options(const std::string& db, const test::TempDir& cache) {
  RunOptions o;
  o.db = db;
  o.progress = false;
  o.data.pull.mirror = test::shared_data("mirror");
  o.data.pull.cache_dir = cache.path();
  return o;
}

Campaign replay_campaign(const std::string& name, std::vector<std::string> models) {
  nlohmann::json j{{"name", name}, {"models", models}, {"tasks", {"price-reversal-aime"}}, {"replay", test::shared_data(kLogs)}};
  return parse_campaign(j, "test");
}

int64_t count(const std::string& db, const std::string& sql) {
  Store s(db, Store::Mode::kReadOnly);
  auto q = s.db().prepare(sql);
  q.step();
  return q.int64(0);
}

std::vector<std::string> table(const std::string& db) {
  Store s(db, Store::Mode::kReadOnly);
  auto q = s.db().prepare(
      "SELECT model || '|' || task || '|' || item_id || '|' || repeat || '|' || status || '|' || IFNULL(output_tokens, -1) || '|' "
      "|| IFNULL(printf('%.9f', cost_usd), 'null') || '|' || IFNULL(score, 'null') FROM v_requests ORDER BY 1");
  std::vector<std::string> rows;
  while (q.step()) rows.push_back(q.text(0));
  return rows;
}

// A count from `db`, 0 while the store (or its table) is not there yet.
int64_t count_or_zero(const std::string& db, const std::string& sql) {
  try {
    return count(db, sql);
  } catch (const std::exception&) {
    return 0;
  }
}

// Rows a running campaign has committed to `db` (0 while the store is not created yet).
int64_t committed(const std::string& db, const std::string& where = "1") {
  try {
    return count(db, "SELECT COUNT(*) FROM requests WHERE " + where);
  } catch (const std::exception&) {
    return 0;
  }
}

// The spend-cap tests' campaign: `n` prompts of 60 characters to gpt-5.4 with max_tokens 10, answered after
// 100 ms with the API reference example (19 in, 10 out: $0.0001975; each estimated at $0.0002075).
nlohmann::json cap_campaign(const test::TempDir& tmp, test::LoopbackServer& server, const std::string& name, int n) {
  std::string rows;
  for (int i = 0; i < n; ++i) {
    std::string q = "question " + std::to_string(i) + " ";
    q.resize(60, 'x');
    rows += "{\"q\":\"" + q + "\",\"a\":\"" + std::to_string(i) + "\"}\n";
  }
  test::Scripted body{200, {}, test::read_file(test::shared_data("fixtures/openai/chat_completions_default.response.json"))};
  body.delay_ms = 100;
  server.set_default(body);
  return {{"name", name},
          {"models", {{{"model", "openai:gpt-5.4"}, {"params", {{"base_url", server.base_url()}, {"max_tokens", 10}}}}}},
          {"tasks", {{{"name", "numbers"}, {"data", {{"file", tmp.write(name + "-items.jsonl", rows)}}}, {"reference_field", "a"},
                      {"prompt", {{"user", "{q}"}}}, {"scorer", "last_number"}}}},
          {"concurrency", 8}};
}

}  // namespace

TEST_CASE("bad campaign files fail with the file and field named", "[campaign]") {
  auto bad = [](const std::string& text) { return parse_campaign(nlohmann::json::parse(text), "c.json"); };
  CHECK_THROWS_WITH(bad(R"({"models":["openai:x"],"tasks":["gsm8k"]})"), Catch::Contains("c.json") && Catch::Contains("'name'"));
  CHECK_THROWS_WITH(bad(R"({"name":"n","models":[],"tasks":["gsm8k"]})"), Catch::Contains("'models'"));
  CHECK_THROWS_WITH(bad(R"({"name":"n","models":["gpt-5"],"tasks":["gsm8k"]})"), Catch::Contains("models[0]") && Catch::Contains("provider:model"));
  CHECK_THROWS_WITH(bad(R"({"name":"n","models":["openai:x"],"tasks":["no-such-task"]})"), Catch::Contains("tasks[0]") && Catch::Contains("unknown task"));
  CHECK_THROWS_WITH(bad(R"({"name":"n","models":[{"model":"openai:x","params":{"temprature":1}}],"tasks":["gsm8k"]})"),
                    Catch::Contains("models[0]") && Catch::Contains("params.temprature"));
  CHECK_THROWS_WITH(bad(R"({"name":"n","models":[{"model":"openai:x","repeats":0}],"tasks":["gsm8k"]})"), Catch::Contains("'repeats'"));
  CHECK_THROWS_WITH(bad(R"({"name":"n","models":["openai:x"],"tasks":["gsm8k"],"selection":{"sample":2}})"), Catch::Contains("'sample'"));
  CHECK_THROWS_WITH(bad(R"({"name":"n","models":["openai:x"],"tasks":["gsm8k"],"budget":3})"), Catch::Contains("unknown field 'budget'"));
  CHECK_THROWS_WITH(bad(R"({"name":"n","models":["openai:x"],"tasks":["gsm8k"],"concurrency":"many"})"), Catch::Contains("'concurrency'"));
  CHECK_THROWS_WITH(bad(R"({"name":"n","models":["openai:x"],"tasks":["gsm8k"],"concurrency":{"openai":0}})"),
                    Catch::Contains("concurrency.openai"));
  Campaign per = bad(R"({"name":"n","models":["openai:x"],"tasks":["gsm8k"],"concurrency":{"default":4,"openai":32},
                         "rate_limits":{"openai":{"rpm":500,"tpm":100000}}})");
  CHECK(per.concurrency == 4);
  CHECK(per.per_provider.at("openai").max_concurrency == 32);
  CHECK(per.per_provider.at("openai").requests_per_minute == 500);
  test::TempDir tmp;
  std::string broken = tmp.write("broken.json", "{\"name\": ");
  CHECK_THROWS_WITH(load_campaign_file(broken), Catch::Contains("broken.json") && Catch::Contains("not valid JSON"));
  CHECK_THROWS_WITH(parse_shard("3/2"), Catch::Contains("--shard"));
}

TEST_CASE("every mistake in a campaign file is named before anything is sent, with a did-you-mean", "[campaign]") {
  auto bad = [](const std::string& text) { return parse_campaign(nlohmann::json::parse(text), "c.json"); };
  const std::string base = R"("name":"n","models":["openai:x"],"tasks":["gsm8k"])";
  CHECK_THROWS_WITH(bad("{" + base + R"(,"selection":{"limt":3}})"), Catch::Contains("unknown field 'limt'") && Catch::Contains("did you mean 'limit'"));
  CHECK_THROWS_WITH(bad("{" + base + R"(,"selection":{"limit":-3}})"), Catch::Contains("'limit' must be a whole number of items, at least 1"));
  CHECK_THROWS_WITH(bad("{" + base + R"(,"selection":{"limit":3,"sed":1}})"), Catch::Contains("did you mean 'seed'"));
  CHECK_THROWS_WITH(bad("{" + base + R"(,"selection":{"seed":-1}})"), Catch::Contains("'seed' must be a non-negative whole number"));
  CHECK_THROWS_WITH(bad(R"({"name":"n","models":[{"model":"openai:x","repeat":3}],"tasks":["gsm8k"]})"),
                    Catch::Contains("models[0]") && Catch::Contains("did you mean 'repeats'"));
  CHECK_THROWS_WITH(bad("{" + base + R"(,"rate_limits":{"openai":{"rmp":500}}})"),
                    Catch::Contains("rate_limits.openai") && Catch::Contains("did you mean 'rpm'"));
  CHECK_THROWS_WITH(bad("{" + base + R"(,"rate_limits":{"openai":{"rpm":-5}}})"), Catch::Contains("must be a non-negative number"));
  CHECK_THROWS_WITH(bad(R"({"name":"n","modles":["openai:x"],"tasks":["gsm8k"]})"), Catch::Contains("did you mean 'models'"));
  CHECK_THROWS_WITH(bad(R"({"name":"n","models":["foo:bar"],"tasks":["gsm8k"]})"),
                    Catch::Contains("models[0]") && Catch::Contains("unknown provider 'foo'") && Catch::Contains("openai"));
  CHECK_THROWS_WITH(bad(R"({"name":"n","models":[{"model":"openai:x","params":{"temprature":1}}],"tasks":["gsm8k"]})"),
                    Catch::Contains("did you mean 'params.temperature'"));
  // Malformed JSON: the file, the line and the column where the parser stopped.
  test::TempDir tmp;
  const std::string broken = tmp.write("broken.json", "{\n  \"name\": \"x\",\n  \"models\": [,]\n}\n");
  CHECK_THROWS_WITH(load_campaign_file(broken), Catch::Contains("broken.json:3:14: not valid JSON"));
}

TEST_CASE("a missing API key stops the run before the store is touched: exit 2, nothing written", "[campaign][cli]") {
  test::TempDir tmp;
  const std::string file =
      tmp.write("c.json", R"({"name":"k","models":["openai:gpt-5.4"],"tasks":["gsm8k"],"selection":{"limit":2}})");
  auto r = test::run_reckon({"run", file, "--db", tmp.file("k.db"), "--quiet"}, {"OPENAI_API_KEY=", "OPENAI_BASE_URL="});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("OPENAI_API_KEY is not set (needed for openai:gpt-5.4)") != std::string::npos);
  CHECK_FALSE(std::ifstream(tmp.file("k.db")).good());
}

TEST_CASE("without bubblewrap a code task refuses to run: exit 2, nothing sent or written", "[campaign][cli][security]") {
  test::TempDir tmp;
  const std::string file =
      tmp.write("c.json", R"({"name":"k","models":["openai:gpt-5.4"],"tasks":["humaneval"],"selection":{"limit":2}})");
  auto r = test::run_reckon({"run", file, "--db", tmp.file("k.db"), "--quiet"},
                            {"OPENAI_API_KEY=sk-test", "OPENAI_BASE_URL=http://127.0.0.1:9", "RECKON_BWRAP=" + tmp.file("no-bwrap")});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("task 'humaneval' is scored by code_python, which cannot run here: bubblewrap (bwrap) is not installed") !=
        std::string::npos);
  CHECK_FALSE(std::ifstream(tmp.file("k.db")).good());
}

TEST_CASE("a campaign file cannot send a secret variable to its own server: exit 2 unless the command line allows it", "[campaign][cli][security]") {
  test::TempDir tmp;
  test::LoopbackServer server;  // would log an Authorization header if anything were sent
  const std::string file = tmp.write(
      "c.json", R"({"name":"k","models":[{"model":"openai:gpt-5.4","params":{"api_key_env":"RECKON_TEST_AWS_SECRET","base_url":")" +
                    server.base_url() + R"("}}],"tasks":["gsm8k"],"selection":{"limit":1}})");
  auto r = test::run_reckon({"run", file, "--db", tmp.file("k.db"), "--quiet"}, {"RECKON_TEST_AWS_SECRET=aws-sentinel"});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("params.api_key_env names RECKON_TEST_AWS_SECRET, which is not a provider's key variable") != std::string::npos);
  CHECK(r.err.find("aws-sentinel") == std::string::npos);
  CHECK(server.request_count() == 0);
  CHECK_FALSE(std::ifstream(tmp.file("k.db")).good());
  // A file that points the real key at a foreign host: refused the same way.
  const std::string away = tmp.write(
      "away.json", R"({"name":"k","models":[{"model":"openai:gpt-5.4","params":{"base_url":"http://collector.invalid/v1"}}],"tasks":["gsm8k"]})");
  r = test::run_reckon({"run", away, "--db", tmp.file("a.db"), "--quiet"}, {"OPENAI_API_KEY=sk-sentinel", "OPENAI_BASE_URL="});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("would send OPENAI_API_KEY to collector.invalid") != std::string::npos);
  CHECK(r.err.find("sk-sentinel") == std::string::npos);
}

TEST_CASE("a replay campaign scores the published AIME outputs like the authors and reruns pay nothing", "[campaign]") {
  test::TempDir tmp, cache;
  std::string db = tmp.file("r.db");
  Campaign c = replay_campaign("aime", {"replay:gpt-5-mini", "replay:claude-haiku-4.5"});
  RunReport r = run_campaign(c, options(db, cache));
  CHECK(r.cells == 120);
  CHECK(r.ok == 120);
  CHECK(count(db, "SELECT SUM(score) FROM v_requests WHERE model = 'replay:gpt-5-mini'") == 51);       // 85 %
  CHECK(count(db, "SELECT SUM(score) FROM v_requests WHERE model = 'replay:claude-haiku-4.5'") == 23);  // 38.3 %
  CHECK(count(db, "SELECT COUNT(*) FROM v_requests WHERE cost_usd IS NULL") == 0);
  RunReport again = run_campaign(c, options(db, cache));
  CHECK(again.skipped_done == 120);
  CHECK(again.sent == 0);
  // Another campaign asking the same requests is answered from the response cache.
  RunReport other = run_campaign(replay_campaign("aime-again", {"replay:gpt-5-mini"}), options(db, cache));
  CHECK(other.cached == 60);
  CHECK(other.sent == 0);
  CHECK(count(db, "SELECT COUNT(*) FROM requests WHERE cache_hit = 1") == 60);
  // Selection: a seeded sample, not the first N.
  nlohmann::json j = c.raw;
  j["name"] = "sampled";
  j["selection"] = {{"limit", 10}, {"seed", 3}};
  RunReport sampled = run_campaign(parse_campaign(j, "test"), options(tmp.file("s.db"), cache));
  CHECK(sampled.cells == 20);
  CHECK(count(tmp.file("s.db"), "SELECT COUNT(*) FROM requests WHERE CAST(item_id AS INT) > 10") > 0);
}

TEST_CASE("shards split the cells deterministically and merge back to the whole run", "[campaign]") {
  test::TempDir tmp, cache;
  Campaign c = replay_campaign("aime", {"replay:gpt-5-mini", "replay:kimi-k2.5"});
  RunOptions a = options(tmp.file("a.db"), cache), b = options(tmp.file("b.db"), cache), whole = options(tmp.file("w.db"), cache);
  std::tie(a.shard_index, a.shard_count) = parse_shard("1/2");
  std::tie(b.shard_index, b.shard_count) = parse_shard("2/2");
  RunReport ra = run_campaign(c, a), rb = run_campaign(c, b);
  CHECK(ra.cells + rb.cells == 120);
  CHECK(ra.cells > 30);
  run_campaign(c, whole);
  merge_stores(tmp.file("m.db"), {tmp.file("a.db"), tmp.file("b.db")});
  CHECK(table(tmp.file("m.db")) == table(tmp.file("w.db")));
}

TEST_CASE("the shard from --shard auto comes from the job runner's environment — Slurm arrays, Kubernetes Indexed Jobs, RECKON_SHARD", "[campaign][shard]") {
  auto from = [](std::map<std::string, std::string> env) {
    return shard_from_environment([env](const char* n) -> const char* {
      auto it = env.find(n);
      return it == env.end() ? nullptr : it->second.c_str();
    });
  };
  using P = std::pair<int, int>;
  CHECK(from({{"RECKON_SHARD", "3/4"}}) == P{2, 4});
  // Slurm: --array=1-8 gives ids 1..8 with MIN 1; --array=0-7 ids 0..7 with MIN 0.
  CHECK(from({{"SLURM_ARRAY_TASK_ID", "1"}, {"SLURM_ARRAY_TASK_COUNT", "8"}, {"SLURM_ARRAY_TASK_MIN", "1"}}) == P{0, 8});
  CHECK(from({{"SLURM_ARRAY_TASK_ID", "7"}, {"SLURM_ARRAY_TASK_COUNT", "8"}, {"SLURM_ARRAY_TASK_MIN", "0"}}) == P{7, 8});
  // Kubernetes: JOB_COMPLETION_INDEX is 0-based; the manifest passes the completions.
  CHECK(from({{"JOB_COMPLETION_INDEX", "0"}, {"RECKON_SHARD_COUNT", "5"}}) == P{0, 5});
  CHECK(from({{"JOB_COMPLETION_INDEX", "4"}, {"RECKON_SHARD_COUNT", "5"}}) == P{4, 5});
  // RECKON_SHARD wins over what a runner sets.
  CHECK(from({{"RECKON_SHARD", "1/2"}, {"JOB_COMPLETION_INDEX", "4"}, {"RECKON_SHARD_COUNT", "5"}}) == P{0, 2});
  CHECK_THROWS_WITH(from({{"JOB_COMPLETION_INDEX", "1"}}), Catch::Contains("RECKON_SHARD_COUNT"));
  CHECK_THROWS_WITH(from({{"SLURM_ARRAY_TASK_ID", "1"}}), Catch::Contains("SLURM_ARRAY_TASK_COUNT"));
  CHECK_THROWS_WITH(from({{"JOB_COMPLETION_INDEX", "5"}, {"RECKON_SHARD_COUNT", "5"}}), Catch::Contains("1 <= i <= N"));
  CHECK_THROWS_WITH(from({}), Catch::Contains("found no job runner's variables"));
}

TEST_CASE("N shards together keep to the account's rate limits: each takes 1/N", "[campaign][shard]") {
  ClientOptions co;
  co.requests_per_minute = 600;
  co.tokens_per_minute = 0;  // unlimited stays unlimited
  co.per_provider["openai"].requests_per_minute = 500;
  co.per_provider["openai"].tokens_per_minute = 200000;
  co.per_provider["anthropic"].max_concurrency = 8;  // -1: the client-wide value, left as is
  share_rate_limits(co, 4);
  CHECK(co.requests_per_minute == Approx(150));
  CHECK(co.tokens_per_minute == 0);
  CHECK(co.per_provider["openai"].requests_per_minute == Approx(125));
  CHECK(co.per_provider["openai"].tokens_per_minute == Approx(50000));
  CHECK(co.per_provider["anthropic"].requests_per_minute == -1);
  CHECK(co.per_provider["anthropic"].max_concurrency == 8);
  ClientOptions one = co;
  share_rate_limits(one, 1);
  CHECK(one.requests_per_minute == Approx(150));
}

TEST_CASE("shards started by a job runner's variables merge back to the whole run", "[campaign][shard][cli]") {
  test::TempDir tmp, cache;
  nlohmann::json j{{"name", "aime"}, {"models", {"replay:gpt-5-mini", "replay:kimi-k2.5"}}, {"tasks", {"price-reversal-aime"}},
                   {"replay", test::shared_data(kLogs)}};
  const std::string file = tmp.write("c.json", j.dump());
  const std::vector<std::string> common = {"--mirror", test::shared_data("mirror"), "--cache", cache.path(), "--quiet"};
  auto run = [&](const std::string& db, std::vector<std::string> env, const std::string& shard) {
    std::vector<std::string> args = {"run", file, "--db", db};
    if (!shard.empty()) args.insert(args.end(), {"--shard", shard});
    args.insert(args.end(), common.begin(), common.end());
    auto r = test::run_reckon(args, env);
    INFO(r.err);
    CHECK(r.exit_code == 0);
  };
  // Three shards the way three runners would start them, then the whole run.
  run(tmp.file("s1.db"), {"SLURM_ARRAY_TASK_ID=1", "SLURM_ARRAY_TASK_COUNT=3", "SLURM_ARRAY_TASK_MIN=1"}, "auto");
  run(tmp.file("s2.db"), {"JOB_COMPLETION_INDEX=1", "RECKON_SHARD_COUNT=3"}, "auto");
  run(tmp.file("s3.db"), {"RECKON_SHARD=3/3"}, "auto");
  run(tmp.file("whole.db"), {}, "");
  const int64_t parts = count(tmp.file("s1.db"), "SELECT COUNT(*) FROM requests") + count(tmp.file("s2.db"), "SELECT COUNT(*) FROM requests") +
                        count(tmp.file("s3.db"), "SELECT COUNT(*) FROM requests");
  CHECK(parts == 120);
  CHECK(count(tmp.file("s1.db"), "SELECT COUNT(*) FROM requests") > 0);
  auto merged = test::run_reckon({"merge", "-o", tmp.file("m.db"), tmp.file("s1.db"), tmp.file("s2.db"), tmp.file("s3.db")});
  REQUIRE(merged.exit_code == 0);
  CHECK(table(tmp.file("m.db")) == table(tmp.file("whole.db")));
}

TEST_CASE("the spend cap stops the run cleanly and a rerun with a higher cap finishes it", "[campaign]") {
  test::TempDir tmp, cache;
  std::string db = tmp.file("r.db");
  Campaign c = replay_campaign("aime", {"replay:gpt-5.2-high"});  // $6.19 in all
  RunOptions o = options(db, cache);
  o.max_cost_usd = 1.0;
  RunReport capped = run_campaign(c, o);
  CHECK(capped.stopped_by_cap);
  CHECK(capped.not_sent > 0);
  // What the run says it spent is what the store holds (the strict bound on the cap: the test below).
  {
    Store st(db, Store::Mode::kReadOnly);
    auto q = st.db().prepare("SELECT TOTAL(cost_usd) FROM requests");
    q.step();
    CHECK(q.real(0) == Approx(capped.spent_usd).epsilon(1e-12));
  }
  o.max_cost_usd = 100;
  o.resume = true;
  RunReport rest = run_campaign(c, o);
  CHECK(rest.skipped_done == capped.ok);
  CHECK(rest.ok + capped.ok == 60);
  CHECK(count(db, "SELECT COUNT(*) FROM requests") == 60);
  CHECK(count(db, "SELECT COUNT(DISTINCT fingerprint) FROM requests") == 60);
  RunOptions fresh = options(tmp.file("none.db"), cache);
  fresh.resume = true;
  CHECK_THROWS_WITH(run_campaign(c, fresh), Catch::Contains("no earlier run"));
}

TEST_CASE("the spend cap counts in-flight calls at their estimate: the store's total never passes it", "[campaign]") {
  // Each answer: 19 input and 10 output tokens of gpt-5.4 ($2.5 / $15 per million) = $0.0001975.
  // Each estimate: a 60-character prompt is 60/4 + 8 = 23 tokens, max_tokens 10 → $0.0002075 (≥ the answer).
  // Cap $0.002: at most ⌊0.002 / 0.0001975⌋ = 10 answers fit; the run stops only when spent + in-flight
  // estimates + one more estimate pass the cap, so it pays for more than (0.002 − 0.0002075) / 0.0002075 = 8.6,
  // i.e. 9 or 10 answers. Counting in-flight calls at zero, 8 concurrent calls held 100 ms by the server
  // would be admitted together twice: 16 answers, $0.00316.
  test::TempDir tmp;
  test::LoopbackServer server;
  const nlohmann::json camp = cap_campaign(tmp, server, "cap", 30);
  const Campaign c = parse_campaign(camp, "cap.json");
  test::TempDir cache;
  RunOptions o = options(tmp.file("cap.db"), cache);
  o.max_cost_usd = 0.002;
  const RunReport capped = run_campaign(c, o);
  CHECK(capped.stopped_by_cap);
  const int64_t paid = static_cast<int64_t>(server.request_count());
  CHECK(paid >= 9);
  CHECK(paid <= 10);
  const double answer = 19 * 2.5e-6 + 10 * 15e-6;
  {
    Store st(tmp.file("cap.db"), Store::Mode::kReadOnly);
    auto q = st.db().prepare("SELECT COUNT(*), TOTAL(cost_usd) FROM requests WHERE status = 'ok'");
    q.step();
    CHECK(q.int64(0) == paid);
    CHECK(q.real(1) == Approx(paid * answer).epsilon(1e-12));
    CHECK(q.real(1) <= 0.002);
    CHECK(capped.spent_usd == Approx(q.real(1)).epsilon(1e-12));
  }
  // A higher cap finishes the rest without asking a paid cell again.
  o.max_cost_usd = 1;
  o.resume = true;
  const RunReport rest = run_campaign(c, o);
  CHECK_FALSE(rest.stopped_by_cap);
  CHECK(server.request_count() == 30);
  CHECK(count(tmp.file("cap.db"), "SELECT COUNT(*) FROM requests WHERE status = 'ok'") == 30);
}

namespace {

// A campaign of `model` over `n` numbered items whose prompts are 40 characters, on `server`.
nlohmann::json forty_char_campaign(const test::TempDir& tmp, const std::string& name, const std::string& model,
                                   const test::LoopbackServer& server, int n) {
  std::string rows;
  for (int i = 0; i < n; ++i) {
    std::string q = "question " + std::to_string(i) + " ";
    q.resize(40, 'x');
    rows += "{\"q\":\"" + q + "\",\"a\":\"" + std::to_string(i) + "\"}\n";
  }
  return {{"name", name},
          {"models", {{{"model", model}, {"params", {{"base_url", server.base_url()}}}}}},
          {"tasks", {{{"name", "numbers"}, {"data", {{"file", tmp.write(name + "-items.jsonl", rows)}}}, {"reference_field", "a"},
                      {"prompt", {{"user", "{q}"}}}, {"scorer", "last_number"}}}},
          {"concurrency", 2}};
}

}  // namespace

TEST_CASE("a dry run (--dry-run) prices the plan from the store's history (median and p90) and sends nothing", "[campaign][cli]") {
  // History: gpt-5-mini answered task `numbers` with 100, 200, ..., 1000 output tokens: median 550, p90
  // (position 8.1) 910. Four planned requests of 40 characters: 40/4 + 8 = 18 input tokens each.
  // At $0.25 / $2 per million: median 4 × (18 × 0.25 + 550 × 2) / 1e6 = $0.004418, p90 4 × (4.5 + 1820) / 1e6
  // = $0.007298.
  test::TempDir tmp;
  const std::string db = tmp.file("h.db");
  std::string csv = "model,task,item_id,input_tokens,output_tokens\n";
  for (int i = 1; i <= 10; ++i) csv += "gpt-5-mini,numbers,h" + std::to_string(i) + ",10," + std::to_string(100 * i) + "\n";
  REQUIRE(test::run_reckon({"import", "--db", db, tmp.write("history.csv", csv)}).exit_code == 0);
  test::LoopbackServer server;
  const std::string file = tmp.write("c.json", forty_char_campaign(tmp, "dry", "openai:gpt-5-mini", server, 4).dump());
  const int64_t runs_before = count(db, "SELECT COUNT(*) FROM runs");
  auto dry = test::run_reckon({"run", file, "--db", db, "--dry-run"});
  INFO(dry.out << dry.err);
  REQUIRE(dry.exit_code == 0);
  CHECK(dry.out.find("(4 requests; nothing sent)") != std::string::npos);
  CHECK(dry.out.find("550") != std::string::npos);
  CHECK(dry.out.find("910") != std::string::npos);
  CHECK(dry.out.find("10 past answers") != std::string::npos);
  CHECK(dry.out.find("expected cost $0.004418 (median output) to $0.007298 (p90 output") != std::string::npos);
  CHECK(server.request_count() == 0);
  CHECK(count(db, "SELECT COUNT(*) FROM runs") == runs_before);  // and nothing written
  // Without history the estimate says so and uses max_tokens (1000 by default): 4 × (4.5 + 2000) / 1e6.
  auto fresh = test::run_reckon({"run", file, "--db", tmp.file("none.db"), "--dry-run"});
  REQUIRE(fresh.exit_code == 0);
  CHECK(fresh.out.find("max_tokens (no history)") != std::string::npos);
  CHECK(fresh.out.find("expected cost $0.008018 (median output) to $0.008018") != std::string::npos);
  CHECK_FALSE(std::ifstream(tmp.file("none.db")).good());
  CHECK(server.request_count() == 0);
}

TEST_CASE("the response cache never serves an error: a failed request is asked again by any later campaign", "[campaign]") {
  test::TempDir tmp, cache;
  test::LoopbackServer server;
  server.set_default({400, {}, R"({"error":{"message":"bad request: context too long","type":"invalid_request_error"}})"});
  const std::string db = tmp.file("c.db");
  const RunReport failed = run_campaign(parse_campaign(forty_char_campaign(tmp, "first", "openai:gpt-5.4", server, 5), "t"),
                                        options(db, cache));
  CHECK(failed.errors == 5);
  CHECK(count(db, "SELECT COUNT(*) FROM requests WHERE status = 'error' AND request_key IS NOT NULL") == 5);
  // Another campaign with the very same requests: nothing comes from the cache, all five are sent.
  server.set_default({200, {}, test::read_file(test::shared_data("fixtures/openai/chat_completions_default.response.json"))});
  const RunReport second = run_campaign(parse_campaign(forty_char_campaign(tmp, "second", "openai:gpt-5.4", server, 5), "t"),
                                        options(db, cache));
  CHECK(second.cached == 0);
  CHECK(second.sent == 5);
  CHECK(server.request_count() == 10);
  CHECK(count(db, "SELECT COUNT(*) FROM requests WHERE cache_hit = 1") == 0);
  // Once answered, the answer (not the error) is what a third campaign reuses.
  const RunReport third = run_campaign(parse_campaign(forty_char_campaign(tmp, "third", "openai:gpt-5.4", server, 5), "t"),
                                       options(db, cache));
  CHECK(third.cached == 5);
  CHECK(server.request_count() == 10);
  CHECK(count(db, "SELECT COUNT(*) FROM requests r WHERE r.cache_hit = 1 AND r.status <> 'ok'") == 0);
}

TEST_CASE("the closing summary names the errors' causes, most frequent first", "[campaign][cli]") {
  test::TempDir tmp;
  test::LoopbackServer server;
  server.enqueue({400, {}, R"({"error":{"message":"bad request: context too long","type":"invalid_request_error"}})"});
  server.set_default({400, {}, R"({"error":{"message":"unsupported parameter: temperature","type":"invalid_request_error"}})"});
  nlohmann::json camp = forty_char_campaign(tmp, "causes", "openai:gpt-5.4", server, 4);
  camp["concurrency"] = 1;
  auto r = test::run_reckon({"run", tmp.write("c.json", camp.dump()), "--db", tmp.file("c.db"), "--quiet"}, {"OPENAI_API_KEY="});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 1);
  const auto at = r.out.find("errors by cause:\n");
  REQUIRE(at != std::string::npos);
  const std::string causes = r.out.substr(at);
  const auto three = causes.find("  3 × client_error: HTTP 400: unsupported parameter: temperature");
  const auto one = causes.find("  1 × client_error: HTTP 400: bad request: context too long");
  CHECK(three != std::string::npos);
  CHECK(one != std::string::npos);
  CHECK(three < one);
}

TEST_CASE("paid 200 answers of every shape are priced and counted once, and a rerun asks none of them again", "[campaign][paid]") {
  // gpt-5.4 at $2.5 input, $0.25 cached, $15 output per million. Four answers, each billed:
  //   a refusal, 9 in / 7 out                                   → $0.0001275
  //   a body without choices (recorded as an error), 7 / 2      → $0.0000475
  //   150 cached of 100 prompt tokens (flagged), 10 out         → 0 uncached + $0.0000375 + $0.00015 = $0.0001875
  //   the API reference example, 19 / 10                        → $0.0001975
  // In all $0.00056, paid to the server in exactly 4 requests.
  test::TempDir tmp, cache;
  test::LoopbackServer server;
  server.enqueue({200, {}, R"({"choices":[{"index":0,"message":{"role":"assistant","content":null,"refusal":"No."},"finish_reason":"stop"}],"usage":{"prompt_tokens":9,"completion_tokens":7}})"});
  server.enqueue({200, {}, R"({"id":"x","usage":{"prompt_tokens":7,"completion_tokens":2}})"});
  server.enqueue({200, {}, R"({"choices":[{"index":0,"message":{"role":"assistant","content":"1"},"finish_reason":"stop"}],"usage":{"prompt_tokens":100,"completion_tokens":10,"prompt_tokens_details":{"cached_tokens":150}}})"});
  server.set_default({200, {}, test::read_file(test::shared_data("fixtures/openai/chat_completions_default.response.json"))});
  nlohmann::json camp = forty_char_campaign(tmp, "paid", "openai:gpt-5.4", server, 4);
  camp["concurrency"] = 1;
  const Campaign c = parse_campaign(camp, "paid.json");
  const std::string db = tmp.file("paid.db");
  const RunReport rep = run_campaign(c, options(db, cache));
  CHECK(server.request_count() == 4);
  CHECK(rep.ok == 3);
  CHECK(rep.errors == 1);
  CHECK(rep.spent_usd == Approx(0.00056).epsilon(1e-9));
  {
    Store st(db, Store::Mode::kReadOnly);
    auto q = st.db().prepare(
        "SELECT (SELECT TOTAL(cost_usd) FROM requests), (SELECT TOTAL(cost_usd) FROM v_requests), "
        "(SELECT COUNT(*) FROM v_requests WHERE usage_note LIKE 'cache reads and writes (150) exceed input tokens (100)'), "
        "(SELECT COUNT(*) FROM requests WHERE finish_reason = 'refusal' AND response = 'No.')");
    q.step();
    CHECK(q.real(0) == Approx(0.00056).epsilon(1e-9));
    CHECK(q.real(1) == Approx(0.00056).epsilon(1e-9));
    CHECK(q.int64(2) == 1);
    CHECK(q.int64(3) == 1);
    double spent = 0;
    for (const auto& row : spend(st, {"model"}, std::nullopt)) spent += row.total;
    CHECK(spent == Approx(0.00056).epsilon(1e-9));  // `reckon costs` agrees, the billed error included
  }
  // A rerun finds every cell answered: the billed error is not asked again.
  RunOptions again = options(db, cache);
  again.resume = true;
  const RunReport rerun = run_campaign(c, again);
  CHECK(rerun.skipped_done == 4);
  CHECK(server.request_count() == 4);
}

TEST_CASE("a campaign prices each answer at the tier that served it", "[campaign][paid]") {
  // Asked at the standard tier, served (and billed) at flex: gpt-5-mini flex is $0.125 / $1 per million, so the
  // API example's 19 in / 10 out cost 19 × 0.125 + 10 × 1 = $0.000012375 — not the standard $0.00002475.
  test::TempDir tmp, cache;
  test::LoopbackServer server;
  nlohmann::json body = nlohmann::json::parse(test::read_file(test::shared_data("fixtures/openai/chat_completions_default.response.json")));
  body["service_tier"] = "flex";
  server.set_default({200, {}, body.dump()});
  const Campaign c = parse_campaign(forty_char_campaign(tmp, "tiers", "openai:gpt-5-mini", server, 2), "tiers.json");
  const std::string db = tmp.file("tiers.db");
  const RunReport rep = run_campaign(c, options(db, cache));
  CHECK(rep.spent_usd == Approx(2 * 0.000012375).epsilon(1e-9));
  CHECK(count(db, "SELECT COUNT(*) FROM requests WHERE service_tier = 'flex'") == 2);
}

namespace {

// deploy/run-shard.sh started the way a job runner starts it: with its variables, in the background.
pid_t start_shard_script(const std::string& campaign, const std::string& out, const std::vector<std::string>& env) {
  pid_t pid = fork();
  if (pid == 0) {
    int devnull = open("/dev/null", O_WRONLY);
    dup2(devnull, 1);
    dup2(devnull, 2);
    setenv("RECKON", RECKON_BINARY, 1);
    for (const auto& e : env) putenv(const_cast<char*>(e.c_str()));
    const std::string script = std::string(RECKON_SOURCE_DIR) + "/deploy/run-shard.sh";
    execl("/bin/bash", "bash", script.c_str(), campaign.c_str(), out.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  return pid;
}

int wait_exit(pid_t pid) {
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace

TEST_CASE("deploy/run-shard.sh as a Slurm array and an Indexed Job: shards at once, one killed and retried, merged = one run",
          "[campaign][shard][slow]") {
  test::TempDir tmp;
  test::LoopbackServer server;
  test::Scripted body{200, {}, test::read_file(test::shared_data("fixtures/openai/chat_completions_default.response.json"))};
  body.delay_ms = 20;
  server.set_default(body);
  const std::string file = tmp.write("c.json", forty_char_campaign(tmp, "deployed", "openai:gpt-5.4", server, 90).dump());
  // A Slurm array of three tasks (ids 1..3) at once; task 2 is killed once its store holds rows, then requeued.
  const std::string out = tmp.file("slurm");
  auto slurm = [](int id) {
    return std::vector<std::string>{"SLURM_ARRAY_TASK_ID=" + std::to_string(id), "SLURM_ARRAY_TASK_COUNT=3", "SLURM_ARRAY_TASK_MIN=1"};
  };
  pid_t t1 = start_shard_script(file, out, slurm(1)), t2 = start_shard_script(file, out, slurm(2)),
        t3 = start_shard_script(file, out, slurm(3));
  const std::string store2 = out + "/shard-2.db";
  CHECK(test::wait_until([&] { return committed(store2) >= 3; }));
  kill(t2, SIGKILL);
  wait_exit(t2);
  const int64_t before_retry = committed(store2);
  CHECK(before_retry < 30);  // killed mid-way (30 cells in its share, about)
  CHECK(wait_exit(t1) == 0);
  CHECK(wait_exit(t3) == 0);
  CHECK(wait_exit(start_shard_script(file, out, slurm(2))) == 0);  // the requeued task resumes its own store
  const size_t paid = server.request_count();
  CHECK(paid >= 90);
  // Asked again at most: what task 2 had in flight (concurrency 2) and the answers its writer had not yet
  // committed (a batch closes within 50 ms: at 20 ms per answer, two at a time, at most 5).
  CHECK(paid <= 90 + 2 + 5);
  auto merged = test::run_reckon({"merge", "-o", tmp.file("slurm.db"), out + "/shard-1.db", out + "/shard-2.db", out + "/shard-3.db"});
  REQUIRE(merged.exit_code == 0);
  // A Kubernetes Indexed Job of two pods (indexes 0 and 1), the count from the manifest.
  const std::string kout = tmp.file("k8s");
  pid_t p0 = start_shard_script(file, kout, {"JOB_COMPLETION_INDEX=0", "RECKON_SHARD_COUNT=2"}),
        p1 = start_shard_script(file, kout, {"JOB_COMPLETION_INDEX=1", "RECKON_SHARD_COUNT=2"});
  CHECK(wait_exit(p0) == 0);
  CHECK(wait_exit(p1) == 0);
  REQUIRE(test::run_reckon({"merge", "-o", tmp.file("k8s.db"), kout + "/shard-0.db", kout + "/shard-1.db"}).exit_code == 0);
  // Both equal one uninterrupted run of the campaign.
  auto whole = test::run_reckon({"run", file, "--db", tmp.file("whole.db"), "--quiet"});
  REQUIRE(whole.exit_code == 0);
  CHECK(table(tmp.file("slurm.db")) == table(tmp.file("whole.db")));
  CHECK(table(tmp.file("k8s.db")) == table(tmp.file("whole.db")));
}

TEST_CASE("a campaign killed with SIGKILL resumes to the same table, nothing lost or paid twice", "[campaign][slow]") {
  test::TempDir tmp;
  std::string rows;
  for (int i = 0; i < 150; ++i) rows += "{\"q\":\"question " + std::to_string(i) + "\",\"a\":\"" + std::to_string(i) + "\"}\n";
  std::string data = tmp.write("items.jsonl", rows);
  test::LoopbackServer server;
  test::Scripted body{200, {}, test::read_file(test::shared_data("fixtures/openai/chat_completions_default.response.json"))};
  body.delay_ms = 20;
  server.set_default(body);
  nlohmann::json camp{{"name", "kill-test"},
                      {"models", {{{"model", "openai:gpt-5.4"}, {"params", {{"base_url", server.base_url()}}}}}},
                      {"tasks", {{{"name", "numbers"}, {"data", {{"file", data}}}, {"reference_field", "a"}, {"prompt", {{"user", "{q}"}}}, {"scorer", "last_number"}}}},
                      {"concurrency", 4}};
  std::string file = tmp.write("camp.json", camp.dump());
  std::string killed_db = tmp.file("killed.db"), clean_db = tmp.file("clean.db");
  // Each kill comes once the store holds more rows than before (the run was mid-way, on progress, not on
  // a clock): some but not all cells are done at every kill.
  int64_t done_before = 0;
  for (int round = 0; round < 3; ++round) {
    pid_t pid = test::start_reckon({"run", file, "--db", killed_db, "--quiet"}, true);
    const int64_t target = done_before + 20;
    CHECK(test::wait_until([&] { return committed(killed_db) >= target; }));
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK(WIFSIGNALED(status));  // killed, not finished
    const int64_t done = committed(killed_db);
    INFO("round " << round);
    CHECK(done >= target);
    CHECK(done < 150);
    done_before = done;
  }
  size_t before_resume = server.request_count();
  CHECK(before_resume < 150);  // the kills came before the end
  auto resumed = test::run_reckon({"run", file, "--db", killed_db, "--resume", "--quiet"});
  REQUIRE(resumed.exit_code == 0);
  auto clean = test::run_reckon({"run", file, "--db", clean_db, "--quiet"});
  REQUIRE(clean.exit_code == 0);
  CHECK(table(killed_db) == table(clean_db));
  CHECK(count(killed_db, "SELECT COUNT(*) FROM requests") == 150);
  // Answers paid twice for one cell: at most what was in flight (4) or unflushed at each kill.
  std::map<std::string, int> answered;
  auto seen = server.requests();
  for (size_t i = 0; i < seen.size() - 150; ++i) answered[seen[i].body]++;  // the clean run made the last 150
  int repaid = static_cast<int>(seen.size() - 150) - 150;
  CHECK(repaid >= 0);
  CHECK(repaid <= 3 * 12);
}

TEST_CASE("Ctrl-C stops gracefully: in-flight answers are written, exit 130, a rerun finishes", "[campaign][slow]") {
  test::TempDir tmp;
  std::string rows;
  for (int i = 0; i < 100; ++i) rows += "{\"q\":\"question " + std::to_string(i) + "\",\"a\":\"" + std::to_string(i) + "\"}\n";
  std::string data = tmp.write("items.jsonl", rows);
  test::LoopbackServer server;
  test::Scripted body{200, {}, test::read_file(test::shared_data("fixtures/openai/chat_completions_default.response.json"))};
  body.delay_ms = 20;
  server.set_default(body);
  nlohmann::json camp{{"name", "int-test"},
                      {"models", {{{"model", "openai:gpt-5.4"}, {"params", {{"base_url", server.base_url()}}}}}},
                      {"tasks", {{{"name", "numbers"}, {"data", {{"file", data}}}, {"reference_field", "a"}, {"prompt", {{"user", "{q}"}}}, {"scorer", "last_number"}}}},
                      {"concurrency", 2}};
  std::string file = tmp.write("camp.json", camp.dump());
  std::string db = tmp.file("r.db");
  pid_t pid = test::start_reckon({"run", file, "--db", db, "--quiet"}, false);
  // The handler is installed before the first request is sent: wait for requests, not for a clock.
  CHECK(test::wait_until([&] { return server.request_count() >= 10; }));
  kill(pid, SIGINT);
  int status = 0;
  waitpid(pid, &status, 0);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 130);
  CHECK(server.request_count() < 100);  // it stopped mid-way
  CHECK(static_cast<size_t>(count(db, "SELECT COUNT(*) FROM requests")) == server.request_count());  // every answer written
  auto rest = test::run_reckon({"run", file, "--db", db, "--resume", "--quiet"});
  CHECK(rest.exit_code == 0);
  CHECK(count(db, "SELECT COUNT(*) FROM requests") == 100);
  CHECK(server.request_count() == 100);
}

TEST_CASE("a judge model grades TruthfulQA answers, and its calls are recorded and priced as their own rows", "[campaign]") {
  test::TempDir tmp, cache;
  test::LoopbackServer answers, judge;
  answers.set_default({200, {}, test::read_file(test::shared_data("fixtures/openai/chat_completions_default.response.json"))});
  nlohmann::json verdict = nlohmann::json::parse(test::read_file(test::shared_data("fixtures/openai/chat_completions_default.response.json")));
  verdict["choices"][0]["message"]["content"] = "Yes.";
  judge.set_default({200, {}, verdict.dump()});
  nlohmann::json j{{"name", "tqa"},
                   {"models", {{{"model", "openai:gpt-5.4"}, {"params", {{"base_url", answers.base_url()}}}}}},
                   {"tasks", {"truthfulqa"}},
                   {"selection", {{"limit", 3}, {"seed", 1}}},
                   {"judge", {{"model", "openai:gpt-5-mini"}, {"params", {{"base_url", judge.base_url()}}}}}};
  std::string db = tmp.file("r.db");
  RunReport r = run_campaign(parse_campaign(j, "test"), options(db, cache));
  CHECK(r.ok == 3);
  CHECK(r.judged == 3);
  CHECK(judge.request_count() == 3);
  CHECK(judge.requests()[0].body.find("True reference answers") != std::string::npos);
  CHECK(count(db, "SELECT SUM(score) FROM v_requests WHERE model = 'openai:gpt-5.4'") == 3);
  CHECK(count(db, "SELECT COUNT(*) FROM requests WHERE step = 'judge' AND model = 'openai:gpt-5-mini' AND cost_usd > 0") == 3);
  CHECK(count(db, "SELECT COUNT(*) FROM scores WHERE name = 'judge'") == 3);
  CHECK_THROWS_WITH(parse_campaign(nlohmann::json::parse(R"({"name":"n","models":["openai:x"],"tasks":["truthfulqa"],"judge":"gpt"})"), "c.json"),
                    Catch::Contains("judge") && Catch::Contains("provider:model"));
}

TEST_CASE("a stored selection picks the items a campaign runs", "[campaign]") {
  test::TempDir tmp, cache;
  std::string db = tmp.file("r.db");
  {
    Store s(db, Store::Mode::kReadWrite);
    s.db().exec("INSERT INTO selections(id, task, method) VALUES('sel1', 'price-reversal-aime', 'manual')");
    s.db().exec("INSERT INTO selection_items(selection_id, item_id, weight) VALUES('sel1', '1', 0.5), ('sel1', '7', 0.5)");
  }
  nlohmann::json j{{"name", "sel"}, {"models", {"replay:gpt-5-mini"}}, {"tasks", {"price-reversal-aime"}},
                   {"replay", test::shared_data(kLogs)}, {"selection", {{"stored", "sel1"}}}};
  RunReport r = run_campaign(parse_campaign(j, "test"), options(db, cache));
  CHECK(r.cells == 2);
  CHECK(count(db, "SELECT COUNT(*) FROM requests WHERE item_id IN ('1', '7')") == 2);
  j["selection"] = {{"stored", "missing"}};
  CHECK_THROWS_WITH(run_campaign(parse_campaign(j, "test"), options(db, cache)), Catch::Contains("no stored selection 'missing'"));
}

TEST_CASE("a routed model (router:NAME) sends each item to its router's choice and records the decision", "[campaign][route]") {
  test::TempDir tmp, cache;
  const std::string db = tmp.file("r.db");
  const std::vector<std::string> candidates = {"replay:claude-haiku-4.5", "replay:gpt-5-mini"};
  RunReport direct = run_campaign(replay_campaign("aime", candidates), options(db, cache));
  REQUIRE(direct.ok == 120);
  {
    // Trained on the store's own results: which AIME problems the cheaper model solves.
    Store st(db, Store::Mode::kReadWrite);
    const RoutingSet s = load_from_store(st, "price-reversal-aime", candidates);
    std::vector<size_t> all(s.size());
    for (size_t i = 0; i < all.size(); ++i) all[i] = i;
    auto router = find_router("knn").make(s.candidates, s.cost);
    router->train(s, all, {});
    nlohmann::json params = router->params();
    params["source"] = {{"db", db}, {"task", "price-reversal-aime"}};
    save_router(st, "aime-knn", "knn", *router, params);
  }
  nlohmann::json j{{"name", "routed"}, {"models", {"router:aime-knn"}}, {"tasks", {"price-reversal-aime"}},
                   {"replay", test::shared_data(kLogs)}};
  RunReport routed = run_campaign(parse_campaign(j, "test"), options(db, cache));
  CHECK(routed.cells == 60);
  CHECK(routed.ok + routed.cached == 60);
  CHECK(routed.cached == 60);  // every chosen candidate already answered that request
  // Each routed row is its chosen candidate's answer: same score, same cost, and the decision is on the row.
  Store st(db, Store::Mode::kReadOnly);
  auto q = st.db().prepare(
      "SELECT r.item_id, r.route, s.value, r.cost_usd, d.model, ds.value, d.cost_usd FROM requests r "
      "JOIN scores s ON s.request_id = r.id JOIN requests d ON d.item_id = r.item_id AND d.task = r.task AND d.cache_hit = 0 "
      "JOIN scores ds ON ds.request_id = d.id "
      "WHERE r.model = 'router:aime-knn' AND d.model = json_extract(r.route, '$.candidate')");
  int rows = 0;
  std::set<std::string> chosen;
  while (q.step()) {
    ++rows;
    CHECK(q.real(2) == q.real(5));
    CHECK(q.real(3) == Approx(q.real(6)));
    chosen.insert(q.text(4));
  }
  CHECK(rows == 60);
  CHECK(chosen.size() == 2);  // both candidates get work
  // An unmappable candidate name is refused with the way out named.
  nlohmann::json bad = j;
  bad["models"] = {{{"model", "router:aime-knn"}, {"candidates", {{"replay:gpt-5-mini", "nonsense"}}}}};
  CHECK_THROWS_WITH(run_campaign(parse_campaign(bad, "test"), options(db, cache)), Catch::Contains("candidates.replay:gpt-5-mini"));
  nlohmann::json missing = j;
  missing["models"] = {"router:nope"};
  CHECK_THROWS_WITH(run_campaign(parse_campaign(missing, "test"), options(db, cache)), Catch::Contains("no router named 'nope'"));
}

namespace {

// A cassette for the replay provider answering every call a pipeline makes on `items`: schema
// linking, examples, and a first query that fails on purpose where the pipeline can repair it.
size_t write_pipeline_cassette(const std::string& path, const std::vector<Item>& items, const std::vector<std::string>& pipelines,
                               const std::function<bool(const PipelineCall&)>& keep) {
  std::ofstream out(path);
  size_t kept = 0;
  for (const auto& name : pipelines)
    for (const auto& item : items) {
      std::map<std::string, std::string> fields = {{"prompt", item.messages.back().content}};
      for (const auto& [k, v] : item.extra.items())
        if (v.is_string()) fields[k] = v.get<std::string>();
      const Pipeline& p = *find_pipeline(name);
      PipelineRun run(p, fields, sql_hooks(item.extra["db"].get<std::string>()));
      while (!run.done())
        for (const auto& call : run.next()) {
          std::string text = call.step == "link"       ? "singer.name"
                             : call.step == "examples" ? "Q: how many?\nSQL: SELECT 1"
                             : call.step == "generate" && name != "sql-basic" ? "```sql\nSELECT * FROM no_such_table\n```"
                                                                             : "```sql\n" + item.extra["gold"].get<std::string>() + "\n```";
          nlohmann::json msgs = nlohmann::json::array();
          for (const auto& m : call.messages) msgs.push_back({{"role", m.role}, {"content", m.content}});
          if (keep(call)) {
            out << nlohmann::json({{"model", "gpt-5-mini"}, {"messages", msgs}, {"text", text},
                                   {"usage", {{"input_tokens", 1000 + 10 * call.index}, {"output_tokens", 50}}}})
                       .dump()
                << "\n";
            ++kept;
          }
          run.answer(call.index, text);
        }
    }
  return kept;
}

}  // namespace

TEST_CASE("pipelines run in campaigns: each call a priced row, the answer row their sum, resumed per call", "[campaign][pipeline]") {
  test::TempDir tmp, cache;
  const std::string db = tmp.file("p.db");
  RunOptions o = options(db, cache);
  // Two items of each text-to-SQL task, as the campaign's seeded selection takes them.
  const std::vector<std::string> tasks = {"spider-dk", "geoquery", "restaurants"};
  const int n = 6;
  nlohmann::json j{{"name", "sql"}, {"tasks", tasks}, {"selection", {{"limit", 2}, {"seed", 2}}},
                   {"replay", tmp.file("cassette.jsonl")},
                   {"models", {{{"model", "replay:gpt-5-mini"}, {"pipeline", "sql-basic"}},
                               {{"model", "replay:gpt-5-mini"}, {"pipeline", "sql-intermediate"}},
                               {{"model", "replay:gpt-5-mini"}, {"pipeline", "sql-advanced"}}}}};
  std::vector<Item> items;
  // The items the selection takes (seeded sample of 4), from a first run with an empty cassette.
  write_pipeline_cassette(tmp.file("cassette.jsonl"), {}, {}, [](const PipelineCall&) { return true; });
  Campaign c = parse_campaign(j, "test");
  RunReport empty = run_campaign(c, o);
  CHECK(empty.errors > 0);
  {
    Store st(db, Store::Mode::kReadOnly);
    auto q = st.db().prepare("SELECT DISTINCT task, item_id FROM requests");
    std::set<std::pair<std::string, std::string>> ids;
    while (q.step()) ids.insert({q.text(0), q.text(1)});
    for (const auto& task : tasks)
      for (const auto& it : load_items(*find_builtin_task(task), o.data))
        if (ids.count({task, it.id})) items.push_back(it);
  }
  REQUIRE(items.size() == n);
  // First real pass: the cassette lacks the repair answers, so intermediate and advanced fail there.
  const std::vector<std::string> names = {"sql-basic", "sql-intermediate", "sql-advanced"};
  write_pipeline_cassette(tmp.file("cassette.jsonl"), items, names,
                          [](const PipelineCall& call) { return call.step.find("repair") == std::string::npos; });
  RunReport first = run_campaign(c, o);
  CHECK(first.ok == n);       // sql-basic's cells
  CHECK(first.errors > 0);
  // Complete cassette: the rerun asks only for the repairs (one per intermediate and advanced cell),
  // nothing finished is asked again.
  write_pipeline_cassette(tmp.file("cassette.jsonl"), items, names, [](const PipelineCall&) { return true; });
  RunReport second = run_campaign(c, o);
  CHECK(second.sent == 2 * n);
  CHECK(second.ok == 2 * n);
  Store st(db, Store::Mode::kReadOnly);
  auto count_of = [&](const std::string& sql) {
    auto q = st.db().prepare(sql);
    q.step();
    return q.int64(0);
  };
  // Calls per cell: basic 2, intermediate 3 (link, generate, repair), advanced 4 (plus examples).
  CHECK(count_of("SELECT COUNT(*) FROM requests WHERE model = 'pipeline:sql-basic@replay:gpt-5-mini' AND step LIKE 'call:%' AND status = 'ok'") == 2 * n);
  CHECK(count_of("SELECT COUNT(*) FROM requests WHERE model = 'pipeline:sql-intermediate@replay:gpt-5-mini' AND step LIKE 'call:%' AND status = 'ok'") == 3 * n);
  CHECK(count_of("SELECT COUNT(*) FROM requests WHERE model = 'pipeline:sql-advanced@replay:gpt-5-mini' AND step = 'call:generate.repair1'") == n);
  // Every answer row carries the sum of its calls' tokens and cost, and is scored (the repaired query is right).
  auto q = st.db().prepare(
      "SELECT a.model, a.item_id, a.input_tokens, a.cost_usd, s.value, SUM(c.input_tokens), SUM(c.cost_usd), COUNT(c.id) "
      "FROM requests a JOIN scores s ON s.request_id = a.id "
      "JOIN requests c ON c.model = a.model AND c.task = a.task AND c.item_id = a.item_id AND c.run_id = a.run_id AND c.step LIKE 'call:%' AND c.status = 'ok' "
      "WHERE a.step IS NULL AND a.status = 'ok' GROUP BY a.id");
  int answers = 0;
  while (q.step()) {
    ++answers;
    INFO(q.text(0) << " " << q.text(1));
    CHECK(q.int64(2) == q.int64(5));
    REQUIRE_FALSE(q.is_null(3));
    CHECK(q.real(3) == Approx(q.real(6)));
    CHECK(q.real(3) > 0);
    CHECK(q.real(4) == 1);
  }
  CHECK(answers == 3 * n);
  // The answer views count answers, not calls; spend counts each call once.
  CHECK(count_of("SELECT SUM(n) FROM v_model_task WHERE model LIKE 'pipeline:%'") == 3 * n);
  CHECK(count_of("SELECT COUNT(*) FROM requests WHERE step IS NULL AND model LIKE 'pipeline:%' AND cache_hit = 0") == 0);
  // Summing cost over v_requests is the money spent (each call once; the answer row, paid by its calls, adds 0),
  // and its row_kind tells answers from calls.
  {
    auto sums = st.db().prepare(
        "SELECT (SELECT TOTAL(cost_usd) FROM v_requests WHERE model LIKE 'pipeline:%'), "
        "(SELECT TOTAL(cost_usd) FROM requests WHERE model LIKE 'pipeline:%' AND step LIKE 'call:%'), "
        "(SELECT TOTAL(answer_cost_usd) FROM v_requests WHERE model LIKE 'pipeline:%' AND row_kind = 'answer')");
    sums.step();
    CHECK(sums.real(0) > 0);
    CHECK(sums.real(0) == Approx(sums.real(1)).epsilon(1e-12));
    CHECK(sums.real(2) == Approx(sums.real(1)).epsilon(1e-12));  // the answers' own cost: their calls' sums
  }
  CHECK(count_of("SELECT COUNT(*) FROM v_requests WHERE model LIKE 'pipeline:%' AND row_kind = 'answer'") == 3 * n);
  CHECK(count_of("SELECT COUNT(*) FROM v_requests WHERE model LIKE 'pipeline:%' AND row_kind = 'call'") ==
        count_of("SELECT COUNT(*) FROM requests WHERE model LIKE 'pipeline:%' AND step LIKE 'call:%'"));
  // The per-pipeline report: calls per answer, and TEP against sql-basic (same accuracy, more tokens: 0).
  const auto rep = test::run_reckon({"pipelines", "report", "--db", db, "--json"});
  REQUIRE(rep.exit_code == 0);
  std::map<std::string, nlohmann::json> by;
  for (const auto& r : nlohmann::json::parse(rep.out))
    if (r["task"] == "spider-dk") by[r["pipeline"].get<std::string>()] = r;
  CHECK(by.at("sql-basic")["calls_per_answer"] == 2.0);
  CHECK(by.at("sql-intermediate")["calls_per_answer"] == 3.0);
  CHECK(by.at("sql-advanced")["calls_per_answer"] == 4.0);
  CHECK(by.at("sql-basic")["tep_vs_sql_basic"].is_null());
  CHECK(by.at("sql-advanced")["tep_vs_sql_basic"] == 0.0);
  CHECK(by.at("sql-advanced")["cost_per_answer_usd"].get<double>() > by.at("sql-basic")["cost_per_answer_usd"].get<double>());
  const RunReport again = run_campaign(c, o);
  CHECK(again.skipped_done == 3 * n);
  CHECK(again.sent == 0);

  // The routers' loop on text-to-SQL: a router trained on these pipelines' results picks a pipeline
  // per question; its calls are the ones already made, so the routed run is answered from the cache.
  {
    Store rw(db, Store::Mode::kReadWrite);
    const std::vector<std::string> candidates = {"pipeline:sql-basic@replay:gpt-5-mini", "pipeline:sql-intermediate@replay:gpt-5-mini",
                                                 "pipeline:sql-advanced@replay:gpt-5-mini"};
    const RoutingSet s = load_from_store(rw, "spider-dk", candidates);
    REQUIRE(s.size() == 2);
    CHECK(s.candidates.front() == "pipeline:sql-basic@replay:gpt-5-mini");  // the cheapest: fewest calls
    std::vector<size_t> rows = {0, 1};
    auto router = find_router("softmax").make(s.candidates, s.cost);
    router->train(s, rows, {});
    nlohmann::json params = router->params();
    params["source"] = {{"db", db}, {"task", "spider-dk"}};
    save_router(rw, "sql-router", "softmax", *router, params);
  }
  nlohmann::json routed_spec = j;
  routed_spec["name"] = "sql-routed";
  routed_spec["models"] = {"router:sql-router"};
  const RunReport routed = run_campaign(parse_campaign(routed_spec, "test"), o);
  CHECK(routed.ok == n);
  CHECK(routed.sent == 0);
  CHECK(count_of("SELECT COUNT(*) FROM requests r JOIN scores s ON s.request_id = r.id WHERE r.model = 'router:sql-router' "
                 "AND r.step IS NULL AND s.value = 1 AND json_extract(r.route, '$.pipeline') = 'sql-basic'") == n);
}

TEST_CASE("a pipeline campaign killed with SIGKILL resumes mid-pipeline without asking finished calls again", "[campaign][pipeline][slow]") {
  test::TempDir tmp;
  std::string rows;
  for (int i = 0; i < 150; ++i) rows += "{\"q\":\"question " + std::to_string(i) + "\",\"a\":\"" + std::to_string(i) + "\"}\n";
  std::string data = tmp.write("items.jsonl", rows);
  test::LoopbackServer server;
  test::Scripted body{200, {}, test::read_file(test::shared_data("fixtures/openai/chat_completions_default.response.json"))};
  body.delay_ms = 20;
  server.set_default(body);
  // A two-step chain declared in the campaign: a draft, then a check of the draft.
  nlohmann::json camp{
      {"name", "kill-pipeline"},
      {"pipelines", {{"draft-check", {{"steps", {{{"name", "draft"}, {"user", "{prompt}"}}, {{"name", "check"}, {"user", "Check this answer to {prompt}: {draft}"}}}}}}}},
      {"models", {{{"model", "openai:gpt-5.4"}, {"pipeline", "draft-check"}, {"params", {{"base_url", server.base_url()}}}}}},
      {"tasks", {{{"name", "numbers"}, {"data", {{"file", data}}}, {"reference_field", "a"}, {"prompt", {{"user", "{q}"}}}, {"scorer", "last_number"}}}},
      {"concurrency", 4}};
  std::string file = tmp.write("camp.json", camp.dump());
  std::string killed_db = tmp.file("killed.db"), clean_db = tmp.file("clean.db");
  // Killed on progress: once more pipeline calls are committed than before, with answers still missing.
  int64_t calls_before = 0;
  for (int round = 0; round < 3; ++round) {
    pid_t pid = test::start_reckon({"run", file, "--db", killed_db, "--quiet"}, true);
    const int64_t target = calls_before + 40;
    CHECK(test::wait_until([&] { return committed(killed_db, "step LIKE 'call:%'") >= target; }));
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK(WIFSIGNALED(status));
    INFO("round " << round);
    calls_before = committed(killed_db, "step LIKE 'call:%'");
    CHECK(calls_before >= target);
    CHECK(committed(killed_db, "step IS NULL") < 150);
  }
  const size_t before_resume = server.request_count();
  CHECK(before_resume < 300);  // the kills came before the end
  CHECK(before_resume > 0);
  auto resumed = test::run_reckon({"run", file, "--db", killed_db, "--resume", "--quiet"});
  REQUIRE(resumed.exit_code == 0);
  const size_t after_resume = server.request_count();
  auto clean = test::run_reckon({"run", file, "--db", clean_db, "--quiet"});
  REQUIRE(clean.exit_code == 0);
  CHECK(table(killed_db) == table(clean_db));
  CHECK(count(killed_db, "SELECT COUNT(*) FROM requests WHERE step IS NULL") == 150);
  CHECK(count(killed_db, "SELECT COUNT(*) FROM requests WHERE step LIKE 'call:%'") == 300);
  // Calls paid twice: at most those in flight (4) or unflushed at each kill; none by the resume.
  const int repaid = static_cast<int>(after_resume) - 300;
  CHECK(repaid >= 0);
  CHECK(repaid <= 3 * 12);
}

namespace {

// Every answer: 1,000 prompt tokens and 500 completion tokens.
const char* kThousandFiveHundred =
    R"({"choices":[{"index":0,"message":{"role":"assistant","content":"7"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1000,"completion_tokens":500}})";

// A LiteLLM-style price table with one entry (USD per token, as LiteLLM writes it).
std::string litellm_table(const test::TempDir& tmp, const std::string& name, const std::string& key, double in_per_token,
                          double out_per_token) {
  nlohmann::json j{{key, {{"input_cost_per_token", in_per_token}, {"output_cost_per_token", out_per_token}, {"litellm_provider", "openai"}, {"mode", "chat"}}}};
  return tmp.write(name, j.dump());
}

double stored_cost(const std::string& db, std::string* entry_id) {
  Store st(db, Store::Mode::kReadOnly);
  auto q = st.db().prepare("SELECT TOTAL(cost_usd), MIN(price_entry_id), MAX(price_entry_id) FROM requests");
  q.step();
  if (entry_id) *entry_id = q.text(1) == q.text(2) ? q.text(1) : "mixed";
  return q.real(0);
}

}  // namespace

TEST_CASE("an unpriced model's error names the lookups and the fix, and running that fix prices the campaign", "[campaign][cli][prices]") {
  // my-model imported at $0.40 / $1.60 per million: 3 answers × (1000 × 0.4 + 500 × 1.6) / 1e6 = $0.0036.
  test::TempDir tmp;
  test::LoopbackServer server;
  server.set_default({200, {}, kThousandFiveHundred});
  const std::string db = tmp.file("s.db");
  const std::string file = tmp.write("c.json", forty_char_campaign(tmp, "mine", "vllm:my-model", server, 3).dump());
  auto first = test::run_reckon({"run", file, "--db", db, "--quiet"});
  CHECK(first.exit_code == 2);
  CHECK(first.err.find("no price for 'vllm:my-model' in force on ") != std::string::npos);
  CHECK(first.err.find("(tried 'vllm:my-model', 'vllm/my-model', 'my-model' in the built-in catalog, the store " + db + ")") !=
        std::string::npos);
  const std::string advice = "`reckon price import --db " + db + " --litellm FILE`";
  REQUIRE(first.err.find(advice) != std::string::npos);
  CHECK(server.request_count() == 0);
  // The advice, as written: a LiteLLM table with an entry 'my-model'.
  const std::string table = litellm_table(tmp, "p.json", "my-model", 0.4e-6, 1.6e-6);
  auto imported = test::run_reckon({"price", "import", "--db", db, "--litellm", table});
  INFO(imported.err);
  REQUIRE(imported.exit_code == 0);
  auto run = test::run_reckon({"run", file, "--db", db, "--quiet"});
  INFO(run.out << run.err);
  REQUIRE(run.exit_code == 0);
  std::string entry;
  CHECK(stored_cost(db, &entry) == Approx(0.0036).epsilon(1e-9));
  CHECK(entry.rfind("my-model@", 0) == 0);
  // The same store serves `price quote` and `call` with the imported entry.
  auto quote = test::run_reckon({"price", "quote", "vllm:my-model", "--input", "1000", "--output", "500", "--db", db, "--json"});
  REQUIRE(quote.exit_code == 0);
  CHECK(nlohmann::json::parse(quote.out)["total_usd"].get<double>() == Approx(0.0012).epsilon(1e-9));
  CHECK(quote.err.find("priced as 'my-model'") != std::string::npos);
}

TEST_CASE("a campaign's own catalog file prices it, and a newer imported entry overrides the built-in one", "[campaign][prices]") {
  test::TempDir tmp, cache;
  test::LoopbackServer server;
  server.set_default({200, {}, kThousandFiveHundred});
  // A reckon catalog beside the campaign, for a fine-tuned model: $3 / $12 per million → 2 × (0.003 + 0.006) = $0.018.
  const std::string catalog = tmp.write(
      "prices.json",
      R"({"entries":[{"model":"ft:gpt-4.1-mini:acme::abc","provider":"openai","effective_from":"2026-01-01","source":"our contract","input":3,"output":12}]})");
  nlohmann::json camp = forty_char_campaign(tmp, "ft", "openai:ft:gpt-4.1-mini:acme::abc", server, 2);
  camp["prices"] = "prices.json";  // relative to the campaign file
  const Campaign c = parse_campaign(camp, tmp.file("ft.json"));
  REQUIRE(c.price_files == std::vector<std::string>{catalog});
  run_campaign(c, options(tmp.file("ft.db"), cache));
  std::string entry;
  CHECK(stored_cost(tmp.file("ft.db"), &entry) == Approx(0.018).epsilon(1e-9));
  CHECK(entry == "ft:gpt-4.1-mini:acme::abc@2026-01-01");
  // The same prices from --catalog instead of the file.
  nlohmann::json plain = forty_char_campaign(tmp, "ft2", "openai:ft:gpt-4.1-mini:acme::abc", server, 2);
  RunOptions o = options(tmp.file("ft2.db"), cache);
  o.catalogs = {catalog};
  run_campaign(parse_campaign(plain, tmp.file("ft2.json")), o);
  CHECK(stored_cost(tmp.file("ft2.db"), nullptr) == Approx(0.018).epsilon(1e-9));
  CHECK_THROWS_WITH(run_campaign(parse_campaign(plain, tmp.file("ft3.json")), options(tmp.file("ft3.db"), cache)),
                    Catch::Contains("no price for 'openai:ft:gpt-4.1-mini:acme::abc'"));

  // gpt-5-mini: built in at $0.25 / $2 (from 2026-02-28). A negotiated $0.20 / $1.00 imported in force from
  // 2026-06-01 is newer and wins: 2 × (1000 × 0.2 + 500 × 1) / 1e6 = $0.0014 (the built-in would be $0.0025).
  const std::string db = tmp.file("neg.db");
  { Store make(db, Store::Mode::kReadWrite); }
  const std::string table = litellm_table(tmp, "neg.json", "gpt-5-mini", 0.2e-6, 1.0e-6);
  REQUIRE(test::run_reckon({"price", "import", "--db", db, "--litellm", table, "--effective-from", "2026-06-01"}).exit_code == 0);
  run_campaign(parse_campaign(forty_char_campaign(tmp, "neg", "openai:gpt-5-mini", server, 2), "neg.json"), options(db, cache));
  CHECK(stored_cost(db, &entry) == Approx(0.0014).epsilon(1e-9));
  CHECK(entry == "gpt-5-mini@2026-06-01");
  // Imported as in force from before the built-in entry: the built-in one is newer and prices the run.
  const std::string old_db = tmp.file("old.db");
  { Store make(old_db, Store::Mode::kReadWrite); }
  REQUIRE(test::run_reckon({"price", "import", "--db", old_db, "--litellm", table, "--effective-from", "2026-01-01"}).exit_code == 0);
  run_campaign(parse_campaign(forty_char_campaign(tmp, "old", "openai:gpt-5-mini", server, 2), "old.json"), options(old_db, cache));
  CHECK(stored_cost(old_db, &entry) == Approx(0.0025).epsilon(1e-9));
  CHECK(entry == "gpt-5-mini@2026-02-28");
}

namespace {

// How many times the server was asked each distinct question (a chat body names its one user message).
std::map<std::string, int> asked_per_question(test::LoopbackServer& server) {
  std::map<std::string, int> n;
  for (const auto& r : server.requests()) {
    const auto j = nlohmann::json::parse(r.body, nullptr, false);
    if (!j.is_discarded() && j.contains("messages")) ++n[j["messages"].back().value("content", "")];
  }
  return n;
}

}  // namespace

TEST_CASE("three runners on one campaign and store split its cells: each paid once, every runner reports the whole campaign", "[campaign][claims]") {
  // 300 cells of gpt-5-mini at 1,000 in / 500 out: $0.00125 each, $0.375 in all; the server answers after 5 ms.
  test::TempDir tmp;
  test::LoopbackServer server;
  test::Scripted answer{200, {}, kThousandFiveHundred};
  answer.delay_ms = 5;
  server.set_default(answer);
  nlohmann::json camp = forty_char_campaign(tmp, "many", "openai:gpt-5-mini", server, 300);
  camp["concurrency"] = 4;
  const std::string file = tmp.write("many.json", camp.dump());
  const std::string db = tmp.file("many.db");
  std::vector<test::CommandResult> runs(3);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < runs.size(); ++i)
    threads.emplace_back([&, i] { runs[i] = test::run_reckon({"run", file, "--db", db, "--quiet"}); });
  for (auto& t : threads) t.join();
  size_t sent_total = 0;
  for (const auto& r : runs) {
    INFO(r.out << r.err);
    CHECK(r.exit_code == 0);
    // Each prints the campaign's table: all 300 answers, whoever asked them.
    CHECK(r.out.find("numbers  openai:gpt-5-mini  300") != std::string::npos);
    const size_t at = r.out.find(" sent (");
    REQUIRE(at != std::string::npos);
    sent_total += std::stoul(r.out.substr(r.out.rfind(", ", at) + 2));
  }
  CHECK(sent_total == 300);
  CHECK(server.request_count() == 300);
  const auto asked = asked_per_question(server);
  CHECK(asked.size() == 300);
  for (const auto& [q, n] : asked) CHECK(n == 1);
  // The store's spend is what the server was paid.
  CHECK(count(db, "SELECT COUNT(*) FROM requests WHERE status = 'ok'") == 300);
  CHECK(stored_cost(db, nullptr) == Approx(300 * 0.00125).epsilon(1e-9));
  CHECK(count(db, "SELECT COUNT(*) FROM runners") == 0);  // all unregistered
  CHECK(count(db, "SELECT COUNT(*) FROM claims WHERE done = 0") == 0);
}

TEST_CASE("a runner killed mid-campaign leaves its cells to the one still running: re-asked at most its in-flight calls", "[campaign][claims]") {
  // The server answers after 100 ms; the killed runner has at most 4 calls in flight, and answers not committed
  // yet (the writer commits every 50 ms; 8 allows it 200 ms behind under load): no cell may be asked more than
  // twice, and at most 12 twice (without claims the two runners would ask most of the 160 twice).
  test::TempDir tmp;
  test::LoopbackServer server;
  test::Scripted answer{200, {}, kThousandFiveHundred};
  answer.delay_ms = 100;
  server.set_default(answer);
  nlohmann::json camp = forty_char_campaign(tmp, "kill", "openai:gpt-5-mini", server, 160);
  camp["concurrency"] = 4;
  const std::string file = tmp.write("kill.json", camp.dump());
  const std::string db = tmp.file("kill.db");
  pid_t doomed = test::start_reckon({"run", file, "--db", db, "--quiet"}, true);
  REQUIRE(test::wait_until([&] { return committed(db) >= 8; }));  // it has claimed blocks and answered some
  test::CommandResult survivor;
  std::thread other([&] { survivor = test::run_reckon({"run", file, "--db", db, "--quiet"}); });
  REQUIRE(test::wait_until([&] { return count_or_zero(db, "SELECT COUNT(*) FROM runners") >= 2; }));  // both registered
  kill(doomed, SIGKILL);
  waitpid(doomed, nullptr, 0);
  other.join();
  INFO(survivor.out << survivor.err);
  CHECK(survivor.exit_code == 0);
  CHECK(survivor.out.find("numbers  openai:gpt-5-mini  160") != std::string::npos);
  CHECK(count(db, "SELECT COUNT(*) FROM requests WHERE status = 'ok'") == 160);
  const auto asked = asked_per_question(server);
  CHECK(asked.size() == 160);
  int twice = 0;
  for (const auto& [q, n] : asked) {
    CHECK(n <= 2);
    if (n == 2) ++twice;
  }
  INFO("asked twice: " << twice);
  CHECK(twice <= 12);
  CHECK(server.request_count() == 160 + static_cast<size_t>(twice));
}

TEST_CASE("two runners on one store share a spend cap: together they never pass it", "[campaign][claims]") {
  // As in the single-runner cap test: answers of $0.0001975, estimates of $0.0002075, cap $0.002 → at most 10
  // answers fit in all. Each runner alone would pay 9 or 10: two that did not share the cap would pay ~19.
  test::TempDir tmp;
  test::LoopbackServer server;
  const nlohmann::json camp = cap_campaign(tmp, server, "shared-cap", 60);
  const std::string file = tmp.write("cap.json", camp.dump());
  const std::string db = tmp.file("cap.db");
  { Store make(db, Store::Mode::kReadWrite); }  // both find the store made
  std::vector<test::CommandResult> runs(2);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < runs.size(); ++i)
    threads.emplace_back([&, i] { runs[i] = test::run_reckon({"run", file, "--db", db, "--quiet", "--max-cost", "0.002"}); });
  for (auto& t : threads) t.join();
  for (const auto& r : runs) {
    INFO(r.out << r.err);
    CHECK(r.exit_code == 0);
  }
  const double answer = 19 * 2.5e-6 + 10 * 15e-6;
  const int64_t paid = static_cast<int64_t>(server.request_count());
  INFO("paid " << paid);
  CHECK(paid >= 8);  // the runners together reach the cap (a reservation left unused costs at most a few calls)
  CHECK(paid <= 10);
  CHECK(count(db, "SELECT COUNT(*) FROM requests WHERE status = 'ok'") == paid);
  CHECK(stored_cost(db, nullptr) == Approx(paid * answer).epsilon(1e-12));
  CHECK(stored_cost(db, nullptr) <= 0.002);
  CHECK(count(db, "SELECT COUNT(*) FROM runners") == 0);  // the last one out cleared the session
}

TEST_CASE("a run where every recent call fails the same way stops early, says why, and a rerun finishes", "[campaign]") {
  // 200 cells against a port nothing listens on: after 20 identical failures the run stops (the calls in
  // flight then, at most the concurrency of 4, finish); the cause is printed and the rest are left for a rerun.
  test::TempDir tmp, cache;
  test::LoopbackServer placeholder;  // only for the helper's shape; started first, so it cannot take the closed port
  int closed_port = 0;
  {
    test::LoopbackServer gone;  // a port that was just free: nothing listens once the server is gone
    closed_port = std::stoi(gone.base_url().substr(gone.base_url().rfind(':') + 1));
  }
  nlohmann::json camp = forty_char_campaign(tmp, "dead", "openai:gpt-5-mini", placeholder, 200);
  camp["models"][0]["params"]["base_url"] = "http://127.0.0.1:" + std::to_string(closed_port) + "/v1";
  camp["concurrency"] = 4;
  camp["retry"] = {{"max_attempts", 1}};
  const Campaign c = parse_campaign(camp, "dead.json");
  const std::string db = tmp.file("dead.db");
  const RunReport r = run_campaign(c, options(db, cache));
  INFO(r.fatal);
  CHECK(r.fatal.find("the last 20 calls all failed the same way (") != std::string::npos);
  CHECK(r.errors >= 20);
  CHECK(r.errors <= 24);
  CHECK(r.not_sent == 200 - r.errors);
  CHECK(count(db, "SELECT COUNT(*) FROM requests") == static_cast<int64_t>(r.errors));
  // Fixed (the endpoint answers now): the next run answers all 200, none of which had been answered.
  test::LoopbackServer alive;
  alive.set_default({200, {}, kThousandFiveHundred});
  camp["models"][0]["params"]["base_url"] = alive.base_url();
  RunOptions again = options(db, cache);
  const RunReport rerun = run_campaign(parse_campaign(camp, "dead.json"), again);
  CHECK(rerun.fatal.empty());
  CHECK(rerun.ok == 200);
  CHECK(alive.request_count() == 200);
}

TEST_CASE("two runners whose blocks both keep failing cells do not wait on each other: both end", "[campaign][claims]") {
  // Every item is asked of a model that answers and of one whose server refuses every request (HTTP 400, not
  // retried, asked again by a rerun): every block ends with cells to retry. Each runner lets such a block go
  // once it has been through it, so the other takes it (one more try) instead of waiting for it for ever.
  test::TempDir tmp;
  test::LoopbackServer good, bad;
  test::Scripted answer{200, {}, kThousandFiveHundred};
  answer.delay_ms = 2;  // slow enough that both runners hold blocks at once: 2,200 cells are 69 blocks,
  good.set_default(answer);  // more than one claiming transaction (32 blocks) takes
  bad.set_default({400, {}, R"({"error":{"message":"Invalid request","type":"invalid_request_error"}})"});
  nlohmann::json camp = forty_char_campaign(tmp, "stuck", "openai:gpt-5-mini", good, 1100);
  camp["models"].push_back({{"model", "openai:gpt-5-nano"}, {"params", {{"base_url", bad.base_url()}}}});
  camp["concurrency"] = 2;
  camp["retry"] = {{"max_attempts", 1}};
  const std::string file = tmp.write("stuck.json", camp.dump());
  const std::string db = tmp.file("stuck.db");
  { Store make(db, Store::Mode::kReadWrite); }
  std::vector<pid_t> runners = {test::start_reckon({"run", file, "--db", db, "--quiet"}, true),
                                test::start_reckon({"run", file, "--db", db, "--quiet"}, true)};
  std::vector<int> status(2, -1);
  const bool ended = test::wait_until([&] {
    for (size_t i = 0; i < runners.size(); ++i)
      if (status[i] == -1) {
        int st = 0;
        if (waitpid(runners[i], &st, WNOHANG) == runners[i]) status[i] = WIFEXITED(st) ? WEXITSTATUS(st) : 128;
      }
    return status[0] != -1 && status[1] != -1;
  });
  if (!ended)
    for (pid_t p : runners) kill(p, SIGKILL), waitpid(p, nullptr, 0);
  REQUIRE(ended);
  CHECK(status[0] == 1);  // errors are errors: exit 1, for a rerun
  CHECK(status[1] == 1);
  CHECK(good.request_count() == 1100);  // each answer paid once
  const auto refused = asked_per_question(bad);
  CHECK(refused.size() == 1100);
  size_t more = 0;
  for (const auto& [q, n] : refused) more += n > 2;  // its block's runner, then at most the other once
  CHECK(more == 0);
  CHECK(count(db, "SELECT COUNT(*) FROM requests WHERE status = 'ok'") == 1100);
}

TEST_CASE("a replay campaign larger than the client's window answers every cell", "[campaign]") {
  // The replay provider answers at once, so the client's queue empties within one turn; it used to stop
  // there, after the first window (320 cells here), and report the campaign as that size.
  test::TempDir tmp, cache;
  std::string items, answers;
  for (int i = 0; i < 1000; ++i) {
    items += "{\"q\":\"question " + std::to_string(i) + "\",\"a\":\"" + std::to_string(i) + "\"}\n";
    answers += "{\"model\":\"gpt-5-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"question " + std::to_string(i) +
               "\"}],\"text\":\"" + std::to_string(i) + "\",\"usage\":{\"input_tokens\":12,\"output_tokens\":3}}\n";
  }
  nlohmann::json camp{{"name", "big-replay"},
                      {"models", {"replay:gpt-5-mini"}},
                      {"replay", tmp.write("answers.jsonl", answers)},
                      {"tasks", {{{"name", "numbers"}, {"data", {{"file", tmp.write("items.jsonl", items)}}}, {"reference_field", "a"},
                                  {"prompt", {{"user", "{q}"}}}, {"scorer", "last_number"}}}},
                      {"concurrency", 64}};
  const RunReport r = run_campaign(parse_campaign(camp, "big.json"), options(tmp.file("big.db"), cache));
  CHECK(r.cells == 1000);
  CHECK(r.ok == 1000);
  CHECK(count(tmp.file("big.db"), "SELECT COUNT(*) FROM v_requests WHERE score = 1") == 1000);
}

TEST_CASE("one truth for money: costs, v_costs, v_requests and summary agree on a store with cache hits and a rerun", "[campaign][money]") {
  test::TempDir tmp, cache;
  test::LoopbackServer server;
  // Each answer: 19 tokens in, 10 out at gpt-5.4's price = $0.0001975 (the spend-cap tests' arithmetic).
  const double answer = 0.0001975;
  nlohmann::json j = cap_campaign(tmp, server, "money", 12);
  j["selection"] = {{"limit", 10}, {"seed", 1}};
  const std::string db = tmp.file("m.db");
  const RunReport first = run_campaign(parse_campaign(j, "test"), options(db, cache));
  REQUIRE(first.ok == 10);
  // A changed plan is a new run: the 10 asked before come from the response cache, 2 are new.
  j["selection"] = {{"limit", 12}, {"seed", 1}};
  const RunReport second = run_campaign(parse_campaign(j, "test"), options(db, cache));
  CHECK(second.cached == 10);
  CHECK(second.sent == 2);
  // Paid: 12 answers, whichever way it is summed.
  const auto costs = test::run_reckon({"costs", "--db", db, "--by", "run", "--json"});
  REQUIRE(costs.exit_code == 0);
  double costs_total = 0;
  for (const auto& row : nlohmann::json::parse(costs.out)) costs_total += row["cost_usd"].get<double>();
  CHECK(costs_total == Approx(12 * answer).margin(1e-12));
  Store st(db, Store::Mode::kReadOnly);
  auto total = [&](const std::string& sql) {
    auto q = st.db().prepare(sql);
    q.step();
    return q.real(0);
  };
  CHECK(total("SELECT TOTAL(cost_usd) FROM v_costs") == Approx(12 * answer).margin(1e-12));
  CHECK(total("SELECT TOTAL(cost_usd) FROM v_requests") == Approx(12 * answer).margin(1e-12));
  // The summary covers the campaign's latest run only and says so: 12 answers, 2 of them paid here.
  const auto sum = test::run_reckon({"summary", "--db", db, "--json"});
  REQUIRE(sum.exit_code == 0);
  const auto rows = nlohmann::json::parse(sum.out);
  REQUIRE(rows.size() == 1);
  CHECK(rows[0]["requests"] == 12);
  CHECK(rows[0]["cache_hits"] == 10);
  CHECK(rows[0]["spent_usd"].get<double>() == Approx(2 * answer).margin(1e-12));
  CHECK(rows[0]["cost_usd"].get<double>() == Approx(12 * answer).margin(1e-12));  // what the 12 answers cost
  const auto text = test::run_reckon({"summary", "--db", db});
  CHECK(text.out.find("Latest run of each campaign: money (run " + second.run_id + "); 1 earlier run left out") != std::string::npos);
  CHECK(text.out.find("10 answers came from the response cache") != std::string::npos);
  // Asked for by id, the first run is still there: 10 answers, all paid then.
  const auto old = test::run_reckon({"summary", "--db", db, "--run", first.run_id, "--json"});
  const auto old_rows = nlohmann::json::parse(old.out);
  CHECK(old_rows[0]["requests"] == 10);
  CHECK(old_rows[0]["spent_usd"].get<double>() == Approx(10 * answer).margin(1e-12));
}

TEST_CASE("prompt variants are a campaign dimension: each model asked through each, stored as its own model", "[campaign][prompts]") {
  test::TempDir tmp, cache;
  test::LoopbackServer server;
  server.set_default({200, {}, test::read_file(test::shared_data("fixtures/openai/chat_completions_default.response.json"))});
  const std::string items = tmp.write("items.jsonl", R"({"q":"What is 2+2?","a":"4","unit":"apples"}
{"q":"What is 3+3?","a":"6","unit":"pears"}
)");
  nlohmann::json camp = {
      {"name", "variants"},
      {"models", {{{"model", "openai:gpt-5.4"}, {"params", {{"base_url", server.base_url()}}}}}},
      {"tasks", {{{"name", "sums"}, {"data", {{"file", items}}}, {"reference_field", "a"},
                  {"prompt", {{"system", "You count."}, {"user", "{q}"}}}, {"scorer", "last_number"}}}},
      {"prompts", {{"terse", {{"user", "{prompt} Answer with a number of {unit}."}}},
                   {"tutor", {{"system", "You teach."}, {"user", "{prompt}"}}},
                   {"same", {{"user", "{prompt}"}}}}}};
  const RunReport r = run_campaign(parse_campaign(camp, "v.json"), options(tmp.file("v.db"), cache));
  CHECK(r.cells == 6);  // 2 items × 1 model × 3 variants
  CHECK(r.sent == 6);
  // What each variant sent, worked out from its template by hand.
  std::multiset<std::string> asked;
  for (const auto& req : server.requests()) {
    const auto body = nlohmann::json::parse(req.body);
    std::string text;
    for (const auto& m : body["messages"]) text += m["role"].get<std::string>() + ":" + m["content"].get<std::string>() + "|";
    asked.insert(text);
  }
  CHECK(asked == std::multiset<std::string>{
                     "system:You count.|user:What is 2+2? Answer with a number of apples.|",
                     "system:You count.|user:What is 3+3? Answer with a number of pears.|",
                     "system:You teach.|user:What is 2+2?|",
                     "system:You teach.|user:What is 3+3?|",
                     "system:You count.|user:What is 2+2?|",  // "same" renders as the task's own prompt
                     "system:You count.|user:What is 3+3?|",
                 });
  const std::string db = tmp.file("v.db");
  CHECK(count(db, "SELECT COUNT(*) FROM requests WHERE model = 'prompt:terse@openai:gpt-5.4'") == 2);
  CHECK(count(db, "SELECT COUNT(*) FROM requests WHERE model = 'prompt:tutor@openai:gpt-5.4'") == 2);
  CHECK(count(db, "SELECT COUNT(*) FROM requests WHERE model = 'prompt:same@openai:gpt-5.4'") == 2);
  CHECK(count(db, "SELECT COUNT(*) FROM requests WHERE model = 'prompt:terse@openai:gpt-5.4' AND prompt LIKE '%apples%'") == 1);
  // Priced like any cell: the reference example's 19 in, 10 out at gpt-5.4's price, per row.
  CHECK(count(db, "SELECT COUNT(*) FROM requests WHERE cost_usd IS NOT NULL AND cost_usd > 0") == 6);
  // A rerun finds every cell done and sends nothing.
  const RunReport again = run_campaign(parse_campaign(camp, "v.json"), options(db, cache));
  CHECK(again.skipped_done == 6);
  CHECK(server.request_count() == 6);
}

TEST_CASE("a prompt variant that names a field an item lacks is refused before anything is sent", "[campaign][prompts]") {
  test::TempDir tmp, cache;
  test::LoopbackServer server;
  const std::string items = tmp.write("items.jsonl", "{\"q\":\"What is 2+2?\",\"a\":\"4\"}\n");
  nlohmann::json camp = {
      {"name", "bad-variant"},
      {"models", {{{"model", "openai:gpt-5.4"}, {"params", {{"base_url", server.base_url()}}}}}},
      {"tasks", {{{"name", "sums"}, {"data", {{"file", items}}}, {"reference_field", "a"}, {"prompt", {{"user", "{q}"}}},
                  {"scorer", "last_number"}}}},
      {"prompts", {{"terse", {{"user", "{prompt} in {unit}"}}}}}};
  CHECK_THROWS_WITH(run_campaign(parse_campaign(camp, "v.json"), options(tmp.file("v.db"), cache)),
                    Catch::Contains("v.json: prompts.terse") && Catch::Contains("'sums'") && Catch::Contains("{unit}"));
  CHECK(server.request_count() == 0);
  CHECK_FALSE(std::filesystem::exists(tmp.file("v.db")));
  camp["prompts"] = {{"terse", {{"usr", "{prompt}"}}}};
  CHECK_THROWS_WITH(parse_campaign(camp, "v.json"), Catch::Contains("prompts.terse") && Catch::Contains("did you mean 'user'"));
  camp["prompts"] = nlohmann::json::array();
  CHECK_THROWS_WITH(parse_campaign(camp, "v.json"), Catch::Contains("'prompts'"));
}

TEST_CASE("a pipeline's calls leave the spend cap's in-flight sum when they end", "[campaign][pipeline][cap]") {
  // 10 items × 2 calls (draft, check) of the reference example's size: 19 in, 10 out at gpt-5.4's price,
  // $0.0001975 each, $0.00395 in all; each estimated at about $0.0002 with max_tokens 10. Under a $0.0055
  // cap, one call in flight at a time, every call fits: spent + one estimate in flight + the next stays
  // under $0.0042. Estimates that never left the sum would pass the cap after about 13 calls.
  test::TempDir tmp, cache;
  std::string rows;
  for (int i = 0; i < 10; ++i) rows += "{\"q\":\"question " + std::to_string(i) + "\",\"a\":\"" + std::to_string(i) + "\"}\n";
  test::LoopbackServer server;
  server.set_default({200, {}, test::read_file(test::shared_data("fixtures/openai/chat_completions_default.response.json"))});
  const nlohmann::json camp{
      {"name", "pipeline-cap"},
      {"pipelines", {{"draft-check", {{"steps", {{{"name", "draft"}, {"user", "{prompt}"}}, {{"name", "check"}, {"user", "Check: {draft}"}}}}}}}},
      {"models", {{{"model", "openai:gpt-5.4"}, {"pipeline", "draft-check"}, {"params", {{"base_url", server.base_url()}, {"max_tokens", 10}}}}}},
      {"tasks", {{{"name", "numbers"}, {"data", {{"file", tmp.write("items.jsonl", rows)}}}, {"reference_field", "a"},
                  {"prompt", {{"user", "{q}"}}}, {"scorer", "last_number"}}}},
      {"concurrency", 1}};
  RunOptions o = options(tmp.file("p.db"), cache);
  o.max_cost_usd = 0.0055;
  const RunReport r = run_campaign(parse_campaign(camp, "p.json"), o);
  CHECK_FALSE(r.stopped_by_cap);
  CHECK(server.request_count() == 20);
  CHECK(r.spent_usd == Approx(20 * (19 * 2.5e-6 + 10 * 15e-6)).epsilon(1e-9));
  CHECK(count(tmp.file("p.db"), "SELECT COUNT(*) FROM requests WHERE step IS NULL AND status = 'ok'") == 10);
}
