#include "harness/adaptive_rounds.h"

#include <signal.h>
#include <sys/wait.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <fstream>
#include <map>
#include <set>
#include <thread>

#include "common/error.h"
#include "harness/campaign.h"
#include "results/store.h"
#include "tests/loopback_server.h"
#include "tests/support.h"

using namespace reckon;

namespace {

// Forty items "question i" (answer i), item i harder as i grows. Eight source models with abilities
// −1.75 … 1.75 solve the items whose difficulty −2 + 4i/39 lies below their ability (a Guttman
// pattern, what a 2PL with steep items gives); the two measured models solve items 0–24 (A) and
// 0–9 (B): true scores 62.5 % and 25 %.
constexpr int kItems = 40;
double difficulty(int i) { return -2 + 4.0 * i / (kItems - 1); }
bool a_solves(int i) { return i < 25; }
bool b_solves(int i) { return i < 10; }

struct Setup {
  test::TempDir tmp, cache;
  std::string db = tmp.file("a.db"), cassette = tmp.file("cassette.jsonl"), responses;
  nlohmann::json campaign;
  RunOptions opts;

  Setup() {
    std::string rows, csv = "model";
    for (int i = 0; i < kItems; ++i) {
      rows += "{\"id\":\"q" + std::to_string(i) + "\",\"q\":\"question " + std::to_string(i) + "\",\"a\":\"" + std::to_string(i) + "\"}\n";
      csv += ",q" + std::to_string(i);
    }
    csv += "\n";
    for (int s = 0; s < 8; ++s) {
      const double theta = -1.75 + 0.5 * s;
      csv += "source-" + std::to_string(s);
      for (int i = 0; i < kItems; ++i) csv += difficulty(i) < theta ? ",1" : ",0";
      csv += "\n";
    }
    responses = tmp.write("source.csv", csv);
    campaign = {{"name", "adaptive"},
                {"models", {"replay:gpt-5-mini", "replay:claude-haiku-4.5"}},
                {"tasks", {{{"name", "numbers"}, {"data", {{"file", tmp.write("items.jsonl", rows)}}}, {"id_field", "id"},
                            {"reference_field", "a"}, {"prompt", {{"user", "{q}"}}}, {"scorer", "last_number"}}}},
                {"selection", {{"adaptive", {{"budget", 12}, {"round", 4}, {"responses", responses}}}}},
                {"replay", cassette}};
    opts.db = db;
    opts.progress = false;
    opts.data.pull.cache_dir = cache.path();
  }
  // Answers for both models, every item but those `missing` leaves out.
  void write_cassette(const std::function<bool(const std::string& model, int item)>& missing = {}) {
    std::ofstream out(cassette);
    for (const auto& [model, solves] : std::vector<std::pair<std::string, bool (*)(int)>>{{"gpt-5-mini", a_solves}, {"claude-haiku-4.5", b_solves}})
      for (int i = 0; i < kItems; ++i) {
        if (missing && missing(model, i)) continue;
        out << nlohmann::json({{"model", model},
                               {"messages", {{{"role", "user"}, {"content", "question " + std::to_string(i)}}}},
                               {"text", "The answer is " + std::to_string(solves(i) ? i : 9999)},
                               {"usage", {{"input_tokens", 100}, {"output_tokens", 20}}}})
                   .dump()
            << "\n";
      }
  }
  // Per model, the items it was asked (ok rows), in the order they were recorded.
  std::map<std::string, std::vector<int>> asked(const std::string& status = "ok") const {
    Store s(db, Store::Mode::kReadOnly);
    auto q = s.db().prepare("SELECT model, item_id FROM requests WHERE status = ? ORDER BY id");
    q.bind(1, status);
    std::map<std::string, std::vector<int>> out;
    while (q.step()) out[q.text(0)].push_back(std::stoi(q.text(1).substr(1)));
    return out;
  }
};

int64_t scalar(const std::string& db, const std::string& sql) {
  Store s(db, Store::Mode::kReadOnly);
  auto q = s.db().prepare(sql);
  q.step();
  return q.int64(0);
}

}  // namespace

TEST_CASE("an adaptive campaign asks each model its own items, a round at a time, and estimates its full score", "[campaign][adaptive]") {
  Setup s;
  s.write_cassette();
  const Campaign c = parse_campaign(s.campaign, "adaptive.json");
  const RunReport rep = run_campaign(c, s.opts);
  CHECK(rep.errors == 0);
  CHECK(rep.ok == 24);  // 12 items × 2 models, each asked once
  const auto asked = s.asked();
  REQUIRE(asked.size() == 2);
  const auto& a = asked.at("replay:gpt-5-mini");
  const auto& b = asked.at("replay:claude-haiku-4.5");
  REQUIRE(a.size() == 12);
  REQUIRE(b.size() == 12);
  CHECK(std::set<int>(a.begin(), a.end()).size() == 12);
  CHECK(std::set<int>(b.begin(), b.end()).size() == 12);
  // Round 1 is chosen at the prior (θ = 0) for both: the same four items, around the middle difficulty
  // (items 18–21 lie within 0.15 of b = 0 on the source models' scale).
  const std::set<int> a1(a.begin(), a.begin() + 4), b1(b.begin(), b.begin() + 4);
  CHECK(a1 == b1);
  for (int i : a1) CHECK(std::abs(i - 19.5) <= 6);
  // Then each is steered to its own boundary: A (solves 0–24) is asked harder items than B (0–9).
  double mean_a = 0, mean_b = 0;
  for (size_t k = 4; k < 12; ++k) mean_a += a[k] / 8.0, mean_b += b[k] / 8.0;
  CHECK(mean_a > mean_b + 5);
  // The item parameters are kept in the store, one row per item, for later runs and other runners.
  CHECK(scalar(s.db, "SELECT COUNT(*) FROM item_features WHERE feature_set LIKE 'irt2pl:run-%'") == kItems);
  // A rerun finds every test over: it plans and asks nothing.
  const RunReport again = run_campaign(c, s.opts);
  CHECK(again.sent == 0);
  CHECK(again.cells == 0);
  CHECK(scalar(s.db, "SELECT COUNT(*) FROM requests") == 24);
}

TEST_CASE("an adaptive campaign prints estimates near the true scores, with intervals that hold them", "[campaign][adaptive]") {
  Setup s;
  s.write_cassette();
  s.campaign["selection"]["adaptive"]["budget"] = 16;
  const std::string file = s.tmp.write("adaptive.json", s.campaign.dump());
  const auto r = test::run_reckon({"run", file, "--db", s.db, "--quiet"});
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  REQUIRE(r.out.find("Adaptive testing (16 items at most, rounds of 4)") != std::string::npos);
  // The table's rows: task, model, asked, of, ability, ±se, estimate, CI, test state.
  const size_t table = r.out.find("Adaptive testing (");
  auto row_of = [&](const std::string& model) {
    const size_t at = r.out.find("numbers  " + model, table);
    REQUIRE(at != std::string::npos);
    return r.out.substr(at, r.out.find('\n', at) - at);
  };
  for (const auto& [model, truth] : std::vector<std::pair<std::string, double>>{{"replay:gpt-5-mini", 62.5}, {"replay:claude-haiku-4.5", 25}}) {
    const std::string row = row_of(model);
    INFO(row);
    CHECK(row.find(" 16 ") != std::string::npos);
    CHECK(row.find(" 40 ") != std::string::npos);
    CHECK(row.find("finished") != std::string::npos);
    // estimate% then low–high%
    const size_t pct = row.find('%');
    const double estimate = std::stod(row.substr(row.rfind(' ', pct) + 1));
    const size_t dash = row.find("–", pct);
    const double low = std::stod(row.substr(row.rfind(' ', dash) + 1));
    const double high = std::stod(row.substr(dash + std::string("–").size()));
    CHECK(std::abs(estimate - truth) <= 7.5);
    CHECK(low <= truth);
    CHECK(truth <= high);
  }
}

TEST_CASE("a round with unanswered cells stops the adaptive campaign, and the rerun finishes it without asking anything twice", "[campaign][adaptive]") {
  Setup s;
  // The cassette lacks model B's answer to items 18–21 (round 1 is around there): its round 1 fails.
  s.write_cassette([](const std::string& model, int i) { return model == "claude-haiku-4.5" && i >= 16 && i <= 23; });
  const Campaign c = parse_campaign(s.campaign, "adaptive.json");
  const RunReport first = run_campaign(c, s.opts);
  CHECK(first.errors > 0);
  // Lockstep: nothing beyond round 1 was asked of either model.
  const auto asked = s.asked();
  CHECK(asked.at("replay:gpt-5-mini").size() == 4);
  // The complete cassette: the rerun retries B's failed items, then runs the rounds after.
  s.write_cassette();
  const RunReport second = run_campaign(c, s.opts);
  CHECK(second.errors == 0);
  CHECK(second.skipped_done == static_cast<size_t>(4 + (4 - first.errors)));
  const auto done = s.asked();
  CHECK(done.at("replay:gpt-5-mini").size() == 12);
  CHECK(done.at("replay:claude-haiku-4.5").size() == 12);
  CHECK(scalar(s.db, "SELECT COUNT(*) FROM requests") == 24);
  CHECK(scalar(s.db, "SELECT COUNT(*) FROM requests WHERE status <> 'ok'") == 0);
}

TEST_CASE("adaptive campaigns refuse what they cannot do, naming the field", "[campaign][adaptive]") {
  Setup s;
  auto parse = [&](nlohmann::json sel) {
    nlohmann::json j = s.campaign;
    j["selection"] = sel;
    return parse_campaign(j, "c.json");
  };
  CHECK_THROWS_WITH(parse({{"adaptive", {{"budget", 0}}}}), Catch::Contains("selection.adaptive: field 'budget' must be a whole number, at least 1"));
  CHECK_THROWS_WITH(parse({{"adaptive", {{"rounds", 3}}}}), Catch::Contains("rounds"));
  CHECK_THROWS_WITH(parse({{"adaptive", nlohmann::json::object()}, {"limit", 5}}), Catch::Contains("cannot be combined with 'limit'"));
  CHECK_THROWS_WITH(parse({{"adaptive", {{"responses", "nowhere.csv"}}}}), Catch::Contains("nowhere.csv, which does not exist"));
  // A budget above the items with parameters, and shards, before anything is written.
  s.write_cassette();
  nlohmann::json big = s.campaign;
  big["selection"]["adaptive"]["budget"] = 41;
  CHECK_THROWS_WITH(run_campaign(parse_campaign(big, "c.json"), s.opts), Catch::Contains("budget: 41 items, but task 'numbers' has only 40"));
  RunOptions sharded = s.opts;
  sharded.shard_count = 2;
  CHECK_THROWS_WITH(run_campaign(parse_campaign(s.campaign, "c.json"), sharded), Catch::Contains("--shard"));
  // Answers are read back by model name: two entries stored under one name cannot be told apart.
  nlohmann::json twice = s.campaign;
  twice["models"] = {"replay:gpt-5-mini", {{"model", "replay:gpt-5-mini"}, {"params", {{"temperature", 0.5}}}}};
  CHECK_THROWS_WITH(run_campaign(parse_campaign(twice, "c.json"), s.opts), Catch::Contains("models[0] and models[1] are both stored as replay:gpt-5-mini"));
  // Without a responses file the source is the store's other models, and there are none yet.
  nlohmann::json storeless = s.campaign;
  storeless["selection"]["adaptive"].erase("responses");
  CHECK_THROWS_WITH(run_campaign(parse_campaign(storeless, "c.json"), s.opts), Catch::Contains("run other models on the task first"));
  CHECK(scalar(s.db, "SELECT COUNT(*) FROM requests") == 0);
}

TEST_CASE("without a responses file the item parameters come from the store's other models, never the measured ones", "[campaign][adaptive]") {
  Setup s;
  // Four source models run the whole task first (replay cassette, abilities −1.5 … 1.5 as above).
  {
    std::ofstream out(s.cassette);
    for (int m = 0; m < 4; ++m)
      for (int i = 0; i < kItems; ++i)
        out << nlohmann::json({{"model", "src-" + std::to_string(m)},
                               {"messages", {{{"role", "user"}, {"content", "question " + std::to_string(i)}}}},
                               {"text", std::to_string(difficulty(i) < -1.5 + m ? i : 9999)},
                               {"usage", {{"input_tokens", 100}, {"output_tokens", 20}}}})
                   .dump()
            << "\n";
  }
  nlohmann::json sources = s.campaign;
  sources["name"] = "sources";
  sources["models"] = {"replay:src-0", "replay:src-1", "replay:src-2", "replay:src-3"};
  sources["allow_unpriced"] = true;
  sources.erase("selection");
  REQUIRE(run_campaign(parse_campaign(sources, "sources.json"), s.opts).ok == 4 * kItems);
  // The measured models answered a few items in an earlier, unrelated campaign: those results must
  // not steer their own test (nor shrink the source matrix to the items they answered).
  s.write_cassette();
  {
    std::ofstream out(s.cassette, std::ios::app);
    for (int m = 0; m < 4; ++m)
      for (int i = 0; i < kItems; ++i)
        out << nlohmann::json({{"model", "src-" + std::to_string(m)},
                               {"messages", {{{"role", "user"}, {"content", "question " + std::to_string(i)}}}},
                               {"text", "0"}, {"usage", {{"input_tokens", 100}, {"output_tokens", 20}}}})
                   .dump()
            << "\n";
  }
  nlohmann::json earlier = s.campaign;
  earlier["name"] = "earlier";
  earlier.erase("selection");
  earlier["selection"] = {{"limit", 5}, {"seed", 3}};
  REQUIRE(run_campaign(parse_campaign(earlier, "earlier.json"), s.opts).ok == 10);
  nlohmann::json adaptive = s.campaign;
  adaptive["selection"]["adaptive"].erase("responses");
  const RunReport rep = run_campaign(parse_campaign(adaptive, "adaptive.json"), s.opts);
  CHECK(rep.errors == 0);
  CHECK(scalar(s.db, "SELECT COUNT(*) FROM item_features WHERE feature_set LIKE 'irt2pl:%'") == kItems);
  CHECK(scalar(s.db, "SELECT COUNT(DISTINCT annotator) FROM item_features WHERE feature_set LIKE 'irt2pl:%'") == 1);
  CHECK(scalar(s.db, "SELECT COUNT(*) FROM item_features WHERE annotator = '1-D and multidimensional 2PL on 4 source models'") == kItems);
  // Each item's (a, b) for steering, then a₁, a₂, a₃, b of the 3-D fit averaged into the estimate.
  CHECK(scalar(s.db, "SELECT COUNT(*) FROM item_features WHERE feature_set LIKE 'irt2pl:%' AND json_array_length(vector) = 6") == kItems);
  // The item parameters steer as the responses file's did: A's later rounds harder than B's.
  const std::string run = [&] {
    Store st(s.db, Store::Mode::kReadOnly);
    auto q = st.db().prepare("SELECT id FROM runs WHERE campaign = 'adaptive'");
    q.step();
    return q.text(0);
  }();
  auto mean_asked = [&](const std::string& model) {
    Store st(s.db, Store::Mode::kReadOnly);
    auto q = st.db().prepare("SELECT item_id FROM requests WHERE run_id = ? AND model = ? ORDER BY id");
    q.bind(1, run).bind(2, model);
    std::vector<int> items;
    while (q.step()) items.push_back(std::stoi(q.text(0).substr(1)));
    REQUIRE(items.size() == 12);
    double mean = 0;
    for (size_t k = 4; k < items.size(); ++k) mean += items[k] / 8.0;
    return mean;
  };
  CHECK(mean_asked("replay:gpt-5-mini") > mean_asked("replay:claude-haiku-4.5") + 5);
}

namespace {

// A loopback chat endpoint answering "7" to every question after `delay_ms` (1,000 in / 500 out tokens:
// $0.00125 a call on gpt-5-mini, $0.01 on gpt-5.4); the adaptive campaign asks it 12 of 40 questions per model.
nlohmann::json served_campaign(Setup& s, test::LoopbackServer& server, int delay_ms) {
  test::Scripted answer{200, {}, R"({"choices":[{"index":0,"message":{"role":"assistant","content":"7"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1000,"completion_tokens":500}})"};
  answer.delay_ms = delay_ms;
  server.set_default(answer);
  nlohmann::json j = s.campaign;
  j["models"] = {{{"model", "openai:gpt-5-mini"}, {"params", {{"base_url", server.base_url()}}}},
                 {{"model", "openai:gpt-5.4"}, {"params", {{"base_url", server.base_url()}}}}};
  j.erase("replay");
  j["concurrency"] = 2;
  return j;
}

// How many times the server was asked each (model, question).
std::map<std::string, int> asked_at_server(test::LoopbackServer& server) {
  std::map<std::string, int> n;
  for (const auto& r : server.requests()) {
    const auto j = nlohmann::json::parse(r.body);
    ++n[j.value("model", "") + " " + j["messages"].back().value("content", "")];
  }
  return n;
}

}  // namespace

TEST_CASE("two runners on one adaptive campaign share every round: each question asked once, the store's spend what was paid", "[campaign][adaptive][claims]") {
  Setup s;
  test::LoopbackServer server;
  const std::string file = s.tmp.write("adaptive.json", served_campaign(s, server, 20).dump());
  std::vector<test::CommandResult> runs(2);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < runs.size(); ++i)
    threads.emplace_back([&, i] { runs[i] = test::run_reckon({"run", file, "--db", s.db, "--quiet"}, {"OPENAI_API_KEY=sk-t"}); });
  for (auto& t : threads) t.join();
  for (const auto& r : runs) {
    INFO(r.out << r.err);
    CHECK(r.exit_code == 0);
    CHECK(r.out.find("finished") != std::string::npos);
  }
  CHECK(server.request_count() == 24);
  for (const auto& [q, n] : asked_at_server(server)) CHECK(n == 1);
  CHECK(scalar(s.db, "SELECT COUNT(*) FROM requests WHERE status = 'ok'") == 24);
  Store st(s.db, Store::Mode::kReadOnly);
  auto q = st.db().prepare("SELECT TOTAL(cost_usd) FROM requests");
  q.step();
  CHECK(q.real(0) == Approx(12 * 0.00125 + 12 * 0.01).epsilon(1e-9));
}

TEST_CASE("an adaptive campaign killed with SIGKILL mid-round resumes to the same items, re-asking at most its in-flight calls", "[campaign][adaptive][slow]") {
  Setup s;
  test::LoopbackServer server;
  const std::string file = s.tmp.write("adaptive.json", served_campaign(s, server, 100).dump());
  setenv("OPENAI_API_KEY", "sk-t", 1);
  const int pid = test::start_reckon({"run", file, "--db", s.db, "--quiet"});
  // Killed once round 2 has begun: more than round 1's 8 answers are in the store.
  REQUIRE(test::wait_until([&] {
    try {
      return scalar(s.db, "SELECT COUNT(*) FROM requests WHERE status = 'ok'") >= 10;
    } catch (const std::exception&) {
      return false;
    }
  }));
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
  const size_t before = server.request_count();
  const auto r = test::run_reckon({"run", file, "--db", s.db, "--quiet"});
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(scalar(s.db, "SELECT COUNT(*) FROM requests WHERE status = 'ok'") == 24);
  CHECK(scalar(s.db, "SELECT COUNT(*) FROM requests") == 24);
  // At most the two calls in flight at the kill were asked again.
  CHECK(server.request_count() <= 24 + 2);
  CHECK(before < 24);
  int twice = 0;
  for (const auto& [q, n] : asked_at_server(server)) twice += n - 1;
  CHECK(twice <= 2);
}
