// Campaigns through the batch APIs, against a loopback server that speaks OpenAI's, Anthropic's and
// Gemini's (tests/batch_server): every cell asked once, priced at the batch rate, and never submitted
// twice however the run ends — killed after submitting, killed between "created" and "recorded",
// detached, or resumed after some batches were collected.
#include <fcntl.h>
#include <pty.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <map>
#include <regex>
#include <thread>

#include "harness/campaign.h"
#include "results/costs.h"
#include "results/store.h"
#include "tests/batch_server.h"
#include "tests/loopback_server.h"
#include "tests/support.h"

using namespace reckon;
using test::BatchOutcome;

namespace {

constexpr int kItems = 6;
// Our price for the test models: $1 / $4 per million standard, $0.50 / $2 in batches. An answer of
// 100 input and 20 output tokens costs (100 × 0.5 + 20 × 2) / 1e6 = $0.00009 in a batch ($0.00018 live).
constexpr double kBatchAnswer = 0.00009;
const char* kPrices =
    R"({"entries":[{"model":"tester","provider":"openai","effective_from":"2026-01-01","source":"test","input":1,"output":4,
        "batch":{"input":0.5,"output":2}},
       {"model":"plain-tester","provider":"openai","effective_from":"2026-01-01","source":"test","input":1,"output":4}]})";

// Items q1..q6 asking "What is i + i?"; the server answers each correctly.
struct Fixture {
  test::TempDir tmp, cache;
  std::string data, prices;
  Fixture() {
    std::string rows;
    for (int i = 1; i <= kItems; ++i)
      rows += "{\"id\":\"q" + std::to_string(i) + "\",\"q\":\"What is " + std::to_string(i) + " + " + std::to_string(i) +
              "?\",\"a\":\"" + std::to_string(2 * i) + "\"}\n";
    data = tmp.write("items.jsonl", rows);
    prices = tmp.write("prices.json", kPrices);
  }
  nlohmann::json campaign(const std::string& name, const std::vector<nlohmann::json>& models) const {
    return {{"name", name},
            {"models", models},
            {"batch", true},
            {"prices", prices},
            {"retry", {{"max_attempts", 3}}},
            {"tasks", {{{"name", "sums"}, {"data", {{"file", data}}}, {"reference_field", "a"}, {"prompt", {{"user", "{q}"}}},
                        {"scorer", "last_number"}}}}};
  }
  std::string write(const std::string& name, const nlohmann::json& camp) const { return tmp.write(name + ".json", camp.dump()); }
};

nlohmann::json model_at(const std::string& provider, const test::BatchServer& s) {
  return {{"model", provider + ":tester"},
          {"params", {{"base_url", s.base_url() + (provider == "openai" ? "/v1" : "")}, {"max_tokens", 64}}}};
}

// The prompt's text in any of the three bodies, and the right answer to it.
BatchOutcome answer_correctly(const std::string&, const nlohmann::json& body) {
  const std::string text = body.dump();
  std::smatch m;
  BatchOutcome o;
  if (std::regex_search(text, m, std::regex("What is ([0-9]+) \\+"))) o.text = "The answer is " + std::to_string(2 * std::stoi(m[1]));
  return o;
}

int64_t count(const std::string& db, const std::string& sql) {
  Store s(db, Store::Mode::kReadOnly);
  auto q = s.db().prepare(sql);
  q.step();
  return q.int64(0);
}
double spend(const std::string& db) {
  Store s(db, Store::Mode::kReadOnly);
  auto q = s.db().prepare("SELECT TOTAL(cost_usd) FROM v_costs");
  q.step();
  return q.real(0);
}
int64_t count_or_zero(const std::string& db, const std::string& sql) {
  try {
    return count(db, sql);
  } catch (const std::exception&) {
    return 0;
  }
}
const std::vector<std::string> kEnv = {"OPENAI_API_KEY=sk-t", "ANTHROPIC_API_KEY=sk-ant-t", "GEMINI_API_KEY=gm-t"};

}  // namespace

TEST_CASE("a batch campaign asks each cell once through the batch API, at the batch rate, and a rerun sends nothing", "[batch]") {
  for (std::string provider : {"openai", "anthropic", "gemini"}) {
    INFO(provider);
    Fixture f;
    // q5 is refused by the provider; q6 expires in the first batch and is answered in the second.
    std::map<std::string, int> seen;
    std::map<std::string, std::string> item_of;
    test::BatchServer server([&](const std::string& id, const nlohmann::json& body) {
      BatchOutcome o = answer_correctly(id, body);
      if (body.dump().find("What is 5 +") != std::string::npos) o.kind = BatchOutcome::Kind::kError, o.error_message = "prompt is flagged";
      if (body.dump().find("What is 6 +") != std::string::npos && seen[id]++ == 0) o.kind = BatchOutcome::Kind::kExpire;
      return o;
    });
    if (provider == "gemini") server.set_polls_to_end(1);
    const std::string camp = f.write("c", f.campaign("batch-" + provider, {model_at(provider, server)}));
    const std::string db = f.tmp.file("b.db");
    auto r = test::run_reckon({"run", camp, "--db", db, "--poll", "0.01", "--quiet"}, kEnv);
    INFO(r.out << r.err);
    CHECK(r.exit_code == 1);  // one answer is an error
    CHECK(count(db, "SELECT COUNT(*) FROM v_requests") == kItems);
    CHECK(count(db, "SELECT COUNT(*) FROM v_requests WHERE status = 'ok' AND score = 1") == kItems - 1);
    CHECK(count(db, "SELECT COUNT(*) FROM requests WHERE status = 'error' AND prompt LIKE 'What is 5 +%' AND error LIKE '%prompt is flagged%'") == 1);
    CHECK(count(db, "SELECT COUNT(*) FROM requests WHERE service_tier = 'batch'") == kItems);
    CHECK(server.creates() == 2);  // the expired q6 went again in a second batch
    CHECK(count(db, "SELECT COUNT(*) FROM requests WHERE prompt LIKE 'What is 6 +%' AND attempts = 2 AND status = 'ok'") == 1);
    for (const auto& [id, n] : server.delivered()) CHECK(n == 1);
    CHECK(server.delivered().size() == kItems - 1);
    CHECK(spend(db) == Approx((kItems - 1) * kBatchAnswer).epsilon(1e-9));
    CHECK(count(db, "SELECT COUNT(*) FROM batches WHERE state = 'collected' AND ended_at IS NOT NULL") == 2);
    CHECK(r.out.find("Batches of this run") != std::string::npos);
    auto costs = test::run_reckon({"costs", "--db", db, "--by", "tier", "--json"});
    REQUIRE(costs.exit_code == 0);
    const auto tiers = nlohmann::json::parse(costs.out);
    REQUIRE(tiers.size() == 1);
    CHECK(tiers[0]["tier"] == "batch");
    CHECK(tiers[0]["cost_usd"].get<double>() == Approx((kItems - 1) * kBatchAnswer).epsilon(1e-9));

    auto again = test::run_reckon({"run", camp, "--db", db, "--poll", "0.01", "--quiet"}, kEnv);
    CHECK(server.creates() == 3);  // only the refused q5 goes again (an error is not done)
    CHECK(server.delivered().size() == kItems - 1);
    CHECK(count(db, "SELECT COUNT(*) FROM v_requests") == kItems);
  }
}

TEST_CASE("a run killed after submitting resumes by polling its batches, submitting nothing twice", "[batch]") {
  for (std::string provider : {"openai", "anthropic", "gemini"}) {
    INFO(provider);
    Fixture f;
    test::BatchServer server(answer_correctly);
    server.hold(true);
    const std::string camp = f.write("c", f.campaign("kill-" + provider, {model_at(provider, server)}));
    const std::string db = f.tmp.file("k.db");
    for (const auto& e : kEnv) putenv(const_cast<char*>(e.c_str()));
    pid_t pid = test::start_reckon({"run", camp, "--db", db, "--poll", "0.01", "--quiet"});
    // The progress marker: the batch is recorded open with its remote id.
    REQUIRE(test::wait_until([&] { return count_or_zero(db, "SELECT COUNT(*) FROM batches WHERE state = 'open' AND remote_id IS NOT NULL") == 1; }));
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    CHECK(server.creates() == 1);
    CHECK(count(db, "SELECT COUNT(*) FROM requests") == 0);
    server.hold(false);
    auto r = test::run_reckon({"run", camp, "--db", db, "--poll", "0.01", "--quiet"}, kEnv);
    INFO(r.out << r.err);
    CHECK(r.exit_code == 0);
    CHECK(server.creates() == 1);
    CHECK(count(db, "SELECT COUNT(*) FROM v_requests WHERE status = 'ok' AND score = 1") == kItems);
    CHECK(spend(db) == Approx(kItems * kBatchAnswer).epsilon(1e-9));
  }
}

TEST_CASE("a run killed between the batch's creation and its recording finds it by its tag and collects it", "[batch]") {
  for (std::string provider : {"openai", "anthropic", "gemini"}) {
    INFO(provider);
    Fixture f;
    test::BatchServer server(answer_correctly);
    const std::string camp = f.write("c", f.campaign("lost-" + provider, {model_at(provider, server)}));
    const std::string db = f.tmp.file("l.db");
    for (const auto& e : kEnv) putenv(const_cast<char*>(e.c_str()));
    pid_t pid = test::start_reckon({"run", camp, "--db", db, "--poll", "0.01", "--quiet"});
    // Created at the provider, the answer not yet sent back: the client dies here.
    server.on_create([pid] {
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
    });
    REQUIRE(test::wait_until([&] { return server.creates() == 1; }));
    server.on_create(nullptr);
    waitpid(pid, nullptr, WNOHANG);
    CHECK(count(db, "SELECT COUNT(*) FROM batches WHERE state = 'creating' AND remote_id IS NULL") == 1);
    auto r = test::run_reckon({"run", camp, "--db", db, "--poll", "0.01", "--quiet"}, kEnv);
    INFO(r.out << r.err);
    CHECK(r.exit_code == 0);
    CHECK(server.lists() >= 1);
    CHECK(server.creates() == 1);
    CHECK(count(db, "SELECT COUNT(*) FROM v_requests WHERE status = 'ok'") == kItems);
    CHECK(spend(db) == Approx(kItems * kBatchAnswer).epsilon(1e-9));
  }
}

TEST_CASE("a detached run submits and exits, and a later run collects, and one batch collected before a kill is not asked again", "[batch]") {
  Fixture f;
  test::BatchServer server(answer_correctly);
  server.hold(true, "anthropic");
  const std::string camp = f.write("c", f.campaign("two", {model_at("openai", server), model_at("anthropic", server)}));
  const std::string db = f.tmp.file("d.db");
  auto detached = test::run_reckon({"run", camp, "--db", db, "--detach", "--quiet"}, kEnv);
  INFO(detached.out << detached.err);
  CHECK(detached.exit_code == 0);
  CHECK(detached.out.find("still in batches at the provider") != std::string::npos);
  CHECK(server.creates() == 2);
  CHECK(count(db, "SELECT COUNT(*) FROM requests") == 0);
  // OpenAI's batch ends and is collected; Anthropic's is held, and the run is killed while it waits.
  for (const auto& e : kEnv) putenv(const_cast<char*>(e.c_str()));
  pid_t pid = test::start_reckon({"run", camp, "--db", db, "--poll", "0.01", "--quiet"});
  REQUIRE(test::wait_until([&] { return count_or_zero(db, "SELECT COUNT(*) FROM batches WHERE state = 'collected'") == 1; }));
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
  CHECK(count(db, "SELECT COUNT(*) FROM requests WHERE model = 'openai:tester'") == kItems);
  server.hold(false, "anthropic");
  auto r = test::run_reckon({"run", camp, "--db", db, "--poll", "0.01", "--quiet"}, kEnv);
  INFO(r.out << r.err);
  CHECK(r.exit_code == 0);
  CHECK(server.creates() == 2);
  for (const auto& [id, n] : server.delivered()) CHECK(n == 1);
  CHECK(count(db, "SELECT COUNT(*) FROM v_requests WHERE status = 'ok'") == 2 * kItems);
  CHECK(spend(db) == Approx(2 * kItems * kBatchAnswer).epsilon(1e-9));
  CHECK(r.out.find("every batch collected") != std::string::npos);
}

TEST_CASE("batch mode refuses what it cannot price or send before anything is written, and dry-run shows the saving", "[batch]") {
  Fixture f;
  test::BatchServer server(answer_correctly);
  nlohmann::json unpriced = model_at("openai", server);
  unpriced["model"] = "openai:plain-tester";
  auto r = test::run_reckon({"run", f.write("u", f.campaign("u", {unpriced})), "--db", f.tmp.file("u.db")}, kEnv);
  CHECK(r.exit_code != 0);
  CHECK(r.err.find("has no batch rates") != std::string::npos);
  nlohmann::json deepseek = {{"model", "deepseek:tester"}, {"params", {{"base_url", server.base_url()}}}};
  r = test::run_reckon({"run", f.write("d", f.campaign("d", {deepseek})), "--db", f.tmp.file("d.db")}, kEnv);
  CHECK(r.err.find("has no batch API") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(f.tmp.file("u.db")));
  CHECK_FALSE(std::filesystem::exists(f.tmp.file("d.db")));
  CHECK(server.creates() == 0);

  // 6 requests of ~4 input tokens (+8) and 64 output tokens (max_tokens, no history): live at $1/$4 per
  // million, in batches at $0.50/$2 — the batch price is exactly half, the saving the other half.
  r = test::run_reckon({"run", f.write("p", f.campaign("p", {model_at("openai", server)})), "--db", f.tmp.file("p.db"), "--dry-run"}, kEnv);
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  std::smatch m;
  REQUIRE(std::regex_search(r.out, m, std::regex("6 requests go in batches, at the batch rates: \\$([0-9.]+) to \\$([0-9.]+); sent live they "
                                                 "would cost \\$([0-9.]+) to \\$([0-9.]+) \\(saving \\$([0-9.]+)")));
  const double batch = std::stod(m[1]), live = std::stod(m[3]), saving = std::stod(m[5]);
  CHECK(live == Approx(2 * batch).epsilon(0.01));
  CHECK(saving == Approx(live - batch).epsilon(0.01));
  // "What is 1 + 1?" is 14 characters → 3 + 8 = 11 input tokens; 64 out: (11 × 1 + 64 × 4) / 1e6 = $0.000267 live per request.
  CHECK(live == Approx(6 * 0.000267).epsilon(0.01));
  CHECK(server.creates() == 0);
}

TEST_CASE("a batch refused as a whole records its cells with the reason, and the spend cap holds back what it cannot pay", "[batch]") {
  Fixture f;
  test::BatchServer server(answer_correctly);
  server.fail_next_validation();
  const std::string camp = f.write("c", f.campaign("refused", {model_at("openai", server)}));
  const std::string db = f.tmp.file("r.db");
  auto r = test::run_reckon({"run", camp, "--db", db, "--poll", "0.01", "--quiet"}, kEnv);
  CHECK(r.exit_code == 1);
  CHECK(count(db, "SELECT COUNT(*) FROM requests WHERE status = 'error' AND error LIKE 'batch refused: %not parseable%'") == kItems);
  CHECK(count(db, "SELECT COUNT(*) FROM batches WHERE state = 'failed'") == 1);
  CHECK(spend(db) == 0);

  // Estimates: 11 input + 64 output tokens at batch rates = (11 × 0.5 + 64 × 2) / 1e6 = $0.0001335 per cell
  // (q1–q6 all have 14-character prompts); a cap of $0.0005 admits 3 of them.
  const std::string capped = f.write("cap", f.campaign("cap", {model_at("anthropic", server)}));
  const std::string cdb = f.tmp.file("cap.db");
  r = test::run_reckon({"run", capped, "--db", cdb, "--poll", "0.01", "--quiet", "--max-cost", "0.0005"}, kEnv);
  INFO(r.out << r.err);
  CHECK(count(cdb, "SELECT COUNT(*) FROM requests") == 3);
  CHECK(r.out.find("spend cap $0.000500 reached: 3 requests not sent") != std::string::npos);
}

TEST_CASE("judged answers from a batch are graded by the judge live once they are back", "[batch]") {
  test::TempDir tmp, cache;
  test::BatchServer answers;  // every answer "ok"
  test::LoopbackServer judge;
  nlohmann::json verdict = nlohmann::json::parse(test::read_file(test::shared_data("fixtures/openai/chat_completions_default.response.json")));
  verdict["choices"][0]["message"]["content"] = "Yes.";
  judge.set_default({200, {}, verdict.dump()});
  setenv("OPENAI_API_KEY", "sk-t", 1);
  nlohmann::json j{{"name", "tqa-batch"},
                   {"models", {{{"model", "openai:gpt-5.4"}, {"params", {{"base_url", answers.base_url() + "/v1"}}}}}},
                   {"tasks", {"truthfulqa"}},
                   {"batch", true},
                   {"selection", {{"limit", 3}, {"seed", 1}}},
                   {"judge", {{"model", "openai:gpt-5-mini"}, {"params", {{"base_url", judge.base_url()}}}}}};
  RunOptions o;
  o.db = tmp.file("j.db");
  o.progress = false;
  o.batch_poll_s = 0.01;
  o.data.pull.mirror = test::shared_data("mirror");
  o.data.pull.cache_dir = cache.path();
  RunReport r = run_campaign(parse_campaign(j, "test"), o);
  CHECK(r.ok == 3);
  CHECK(r.judged == 3);
  CHECK(answers.creates() == 1);
  CHECK(judge.request_count() == 3);
  CHECK(count(o.db, "SELECT COUNT(*) FROM requests WHERE step IS NULL AND service_tier = 'batch'") == 3);
  CHECK(count(o.db, "SELECT COUNT(*) FROM requests WHERE step = 'judge' AND service_tier = 'standard' AND cost_usd > 0") == 3);
  CHECK(count(o.db, "SELECT COUNT(*) FROM scores WHERE name = 'judge'") == 3);
}

TEST_CASE("Ctrl-C without a terminal leaves the batches running and says so, and the next run collects them", "[batch]") {
  Fixture f;
  test::BatchServer server(answer_correctly);
  server.hold(true);
  const std::string camp = f.write("c", f.campaign("sigint", {model_at("anthropic", server)}));
  const std::string db = f.tmp.file("s.db");
  const std::string err = f.tmp.file("err.txt");
  for (const auto& e : kEnv) putenv(const_cast<char*>(e.c_str()));
  pid_t pid = fork();
  if (pid == 0) {
    int null = open("/dev/null", O_RDWR), out = open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(null, 0), dup2(null, 1), dup2(out, 2);
    execl(RECKON_BINARY, RECKON_BINARY, "run", camp.c_str(), "--db", db.c_str(), "--poll", "0.01", "--quiet", static_cast<char*>(nullptr));
    _exit(127);
  }
  REQUIRE(test::wait_until([&] { return count_or_zero(db, "SELECT COUNT(*) FROM batches WHERE state = 'open'") == 1; }));
  kill(pid, SIGINT);
  int status = 0;
  waitpid(pid, &status, 0);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 130);
  CHECK(test::read_file(err).find("1 batch left running at the provider") != std::string::npos);
  CHECK(server.cancels() == 0);
  server.hold(false);
  auto r = test::run_reckon({"run", camp, "--db", db, "--poll", "0.01", "--quiet"}, kEnv);
  CHECK(r.exit_code == 0);
  CHECK(server.creates() == 1);
  CHECK(count(db, "SELECT COUNT(*) FROM v_requests WHERE status = 'ok'") == kItems);
}

TEST_CASE("Ctrl-C in a terminal asks whether to cancel the remote batches, and a yes cancels them", "[batch]") {
  Fixture f;
  test::BatchServer server(answer_correctly);
  server.hold(true);
  const std::string camp = f.write("c", f.campaign("tty", {model_at("openai", server)}));
  const std::string db = f.tmp.file("t.db");
  for (const auto& e : kEnv) putenv(const_cast<char*>(e.c_str()));
  int master = -1;
  pid_t pid = forkpty(&master, nullptr, nullptr, nullptr);
  REQUIRE(pid >= 0);
  if (pid == 0) {
    execl(RECKON_BINARY, RECKON_BINARY, "run", camp.c_str(), "--db", db.c_str(), "--poll", "0.01", static_cast<char*>(nullptr));
    _exit(127);
  }
  // Everything the terminal shows, read as it comes (the child blocks if nobody reads).
  std::string screen;
  auto read_until = [&](const std::string& text) {
    return test::wait_until([&] {
      char buf[4096];
      fcntl(master, F_SETFL, O_NONBLOCK);
      ssize_t n = read(master, buf, sizeof buf);
      if (n > 0) screen.append(buf, static_cast<size_t>(n));
      return screen.find(text) != std::string::npos;
    });
  };
  REQUIRE(read_until("1 batches open: batch_"));  // the progress line names the batch and its state
  CHECK(screen.find("in_progress 0/6") != std::string::npos);
  REQUIRE(write(master, "\x03", 1) == 1);  // Ctrl-C, through the terminal's line discipline
  REQUIRE(read_until("cancel the 1 batch at the provider? [y/N]"));
  REQUIRE(write(master, "y\n", 2) == 2);
  int status = 0;
  CHECK(test::wait_until([&] {  // drained until the child is done
    char buf[4096];
    for (ssize_t n; (n = read(master, buf, sizeof buf)) > 0;) screen.append(buf, static_cast<size_t>(n));
    return waitpid(pid, &status, WNOHANG) == pid;
  }));
  close(master);
  INFO(screen);
  CHECK(server.cancels() == 1);
  CHECK(WIFEXITED(status));
  CHECK(count(db, "SELECT COUNT(*) FROM requests WHERE status = 'error' AND error LIKE 'batch item %'") == kItems);
  CHECK(server.delivered().empty());
}

TEST_CASE("a pipeline in batch mode sends each step as its own batch round, and detached runs carry it step by step", "[batch]") {
  Fixture f;
  test::BatchServer server(answer_correctly);
  nlohmann::json camp = f.campaign("pipe", {{{"model", "openai:tester"}, {"pipeline", "draft-check"},
                                            {"params", {{"base_url", server.base_url() + "/v1"}, {"max_tokens", 64}}}}});
  camp["pipelines"] = {{"draft-check", {{"steps", {{{"name", "draft"}, {"user", "{prompt}"}}, {{"name", "check"}, {"user", "Check this answer to {prompt}: {draft}"}}}}}}};
  const std::string path = f.write("p", camp);
  const std::string db = f.tmp.file("p.db");
  // Detached: the first run submits the drafts; the second collects them and submits the checks; the third collects.
  auto first = test::run_reckon({"run", path, "--db", db, "--detach", "--quiet"}, kEnv);
  INFO(first.out << first.err);
  CHECK(first.exit_code == 0);
  CHECK(server.creates() == 1);
  CHECK(count(db, "SELECT COUNT(*) FROM requests") == 0);
  auto second = test::run_reckon({"run", path, "--db", db, "--detach", "--quiet", "--poll", "0.01"}, kEnv);
  INFO(second.out << second.err);
  CHECK(server.creates() == 2);
  CHECK(count(db, "SELECT COUNT(*) FROM requests WHERE step = 'call:draft' AND service_tier = 'batch'") == kItems);
  CHECK(count(db, "SELECT COUNT(*) FROM requests WHERE step = 'call:check'") == 0);
  auto third = test::run_reckon({"run", path, "--db", db, "--quiet", "--poll", "0.01"}, kEnv);
  INFO(third.out << third.err);
  CHECK(third.exit_code == 0);
  CHECK(server.creates() == 2);
  for (const auto& [id, n] : server.delivered()) CHECK(n == 1);
  CHECK(server.delivered().size() == 2 * kItems);
  CHECK(count(db, "SELECT COUNT(*) FROM requests WHERE step = 'call:check' AND service_tier = 'batch'") == kItems);
  CHECK(count(db, "SELECT COUNT(*) FROM v_requests WHERE row_kind = 'answer' AND status = 'ok' AND score = 1") == kItems);
  // Every call paid at the batch rate, once: 12 × $0.00009.
  CHECK(spend(db) == Approx(2 * kItems * kBatchAnswer).epsilon(1e-9));
  auto again = test::run_reckon({"run", path, "--db", db, "--quiet", "--poll", "0.01"}, kEnv);
  CHECK(server.creates() == 2);
  CHECK(count(db, "SELECT COUNT(*) FROM requests") == 3 * kItems);
}

TEST_CASE("a batch the provider refuses to create stops the run with its reason, and one it cannot vouch for is never sent twice", "[batch]") {
  for (std::string provider : {"openai", "anthropic"}) {
    INFO(provider);
    Fixture f;
    test::BatchServer server(answer_correctly);
    const std::string camp = f.write("c", f.campaign("refuse-" + provider, {model_at(provider, server)}));
    const std::string db = f.tmp.file("r.db");
    // The provider says no, and its list shows no such batch: the cells are free to go again.
    server.refuse_creates(true);
    auto r = test::run_reckon({"run", camp, "--db", db, "--poll", "0.01", "--quiet"}, kEnv);
    INFO(r.out << r.err);
    CHECK(r.exit_code == 1);
    CHECK(r.out.find("stopped: creating a batch of 6 for " + provider + ":tester") != std::string::npos);
    CHECK(r.out.find("requests: too many") != std::string::npos);
    CHECK(count(db, "SELECT COUNT(*) FROM batches") == 0);
    // Refused again, and the list fails too: whether it exists is unknown, so its cells wait in a 'creating' row.
    server.fail_lists(true);
    r = test::run_reckon({"run", camp, "--db", db, "--poll", "0.01", "--quiet"}, kEnv);
    CHECK(r.exit_code == 1);
    CHECK(r.out.find("whether it was created is unknown") != std::string::npos);
    CHECK(count(db, "SELECT COUNT(*) FROM batches WHERE state = 'creating'") == 1);
    CHECK(count(db, "SELECT COUNT(*) FROM batch_cells") == kItems);
    // The provider recovers: the row is resolved (never created, so deleted) and the cells go once.
    server.refuse_creates(false);
    server.fail_lists(false);
    r = test::run_reckon({"run", camp, "--db", db, "--poll", "0.01", "--quiet"}, kEnv);
    CHECK(r.exit_code == 0);
    CHECK(server.creates() == 1);
    CHECK(count(db, "SELECT COUNT(*) FROM v_requests WHERE status = 'ok'") == kItems);
    CHECK(count(db, "SELECT COUNT(*) FROM batches") == 1);
  }
}
