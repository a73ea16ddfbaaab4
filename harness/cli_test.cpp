// End-to-end checks of the `reckon` binary: exit codes, messages, the main verbs.
#include <algorithm>
#include <cstdlib>
#include <thread>
#include <filesystem>
#include <catch2/catch.hpp>
#include <sstream>
#include <set>
#include <regex>
#include <nlohmann/json.hpp>

#include "tests/loopback_server.h"
#include "tests/support.h"


using reckon::test::run_reckon;
using reckon::test::TempDir;

TEST_CASE("reckon --help lists every verb and --version answers", "[cli]") {
  auto help = run_reckon({"--help"});
  CHECK(help.exit_code == 0);
  for (const char* verb : {"import", "merge", "summary", "price", "data"}) CHECK(help.out.find(verb) != std::string::npos);
  auto v = run_reckon({"--version"});
  CHECK(v.exit_code == 0);
  CHECK(v.out.find("reckon ") != std::string::npos);
}

TEST_CASE("help names the program reckon and types whole-number options as integers", "[cli]") {
  auto h = run_reckon({"call", "--help"});
  REQUIRE(h.exit_code == 0);
  CHECK(h.out.find("Usage: reckon call") != std::string::npos);
  CHECK(h.out.find("--max-tokens INT") != std::string::npos);
  CHECK(h.out.find("--thinking-budget INT") != std::string::npos);
  CHECK(run_reckon({"call", "openai:gpt-5.4", "hi", "--max-tokens", "1.5"}).exit_code == 2);
}

TEST_CASE("usage errors exit 2", "[cli]") {
  CHECK(run_reckon({}).exit_code == 2);
  CHECK(run_reckon({"no-such-verb"}).exit_code == 2);
  CHECK(run_reckon({"import"}).exit_code == 2);
  auto r = run_reckon({"price", "quote", "gpt-5-mini", "--input", "x", "--output", "1"});
  CHECK(r.exit_code == 2);
}

TEST_CASE("bad input exits 2 with the file and field named, never a crash", "[cli]") {
  TempDir tmp;
  std::string csv = tmp.write("bad.csv", "model,task,item_id,output_tokens\ngpt-5-mini,t,1,-3\n");
  auto r = run_reckon({"import", "--db", tmp.file("r.db"), csv});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("bad.csv:2") != std::string::npos);
  CHECK(r.err.find("'output_tokens'") != std::string::npos);
  auto missing = run_reckon({"summary", "--db", tmp.file("none.db")});
  CHECK(missing.exit_code == 2);
  CHECK(missing.err.find("no such database") != std::string::npos);
}

TEST_CASE("import then summary prints accuracy, thinking tokens and real cost", "[cli]") {
  TempDir tmp;
  std::string csv = tmp.write("log.csv",
                              "model,task,item_id,input_tokens,output_tokens,reasoning_tokens,score\n"
                              "gpt-5-mini,t,1,1000,500,300,1\ngpt-5-mini,t,2,1000,500,300,0\n");
  auto imp = run_reckon({"import", "--db", tmp.file("r.db"), csv});
  REQUIRE(imp.exit_code == 0);
  CHECK(imp.out.find("imported 2 requests") != std::string::npos);
  auto sum = run_reckon({"summary", "--db", tmp.file("r.db"), "--json"});
  REQUIRE(sum.exit_code == 0);
  auto j = nlohmann::json::parse(sum.out);
  REQUIRE(j.size() == 1);
  CHECK(j[0]["accuracy"] == 0.5);
  CHECK(j[0]["reasoning_tokens"] == 600);
  CHECK(j[0]["listed_price"] == 2.25);
  CHECK(j[0]["cost_usd"].get<double>() == Approx(2 * (1000 * 0.25 + 500 * 2.0) * 1e-6));
}

TEST_CASE("price quote prices a usage and price import extends a store's catalog", "[cli]") {
  auto q = run_reckon({"price", "quote", "claude-sonnet-4-5", "--input", "250000", "--output", "1000", "--json"});
  REQUIRE(q.exit_code == 0);
  auto j = nlohmann::json::parse(q.out);
  CHECK(j["total_usd"].get<double>() == Approx(1.5225));
  CHECK(j["long_context_tier"] == true);

  TempDir tmp;
  std::string lit = reckon::test::shared_data("pricing/litellm_model_prices_and_context_window_mirror_2026-07-24.json");
  auto imp = run_reckon({"price", "import", "--db", tmp.file("p.db"), "--litellm", lit, "--effective-from", "2026-07-24"});
  REQUIRE(imp.exit_code == 0);
  auto show = run_reckon({"price", "show", "dashscope/qwen-flash", "--db", tmp.file("p.db")});
  CHECK(show.exit_code == 0);
  CHECK(show.out.find("dashscope/qwen-flash@2026-07-24") != std::string::npos);
  auto none = run_reckon({"price", "show", "dashscope/qwen-flash"});
  CHECK(none.exit_code == 2);
  CHECK(none.err.find("no price for 'dashscope/qwen-flash' in force on") != std::string::npos);
  // Batch at half the standard rates: 120 × $0.125 + 350 × $1.00 per million = $0.000365.
  auto batch = run_reckon({"price", "quote", "gpt-5-mini", "--input", "120", "--output", "350", "--tier", "batch", "--json"});
  REQUIRE(batch.exit_code == 0);
  CHECK(nlohmann::json::parse(batch.out)["total_usd"].get<double>() == Approx(0.000365).epsilon(1e-9));
}

TEST_CASE("data pull with a bad mirror fails clearly and data list shows the registry", "[cli]") {
  TempDir tmp;
  auto r = run_reckon({"data", "pull", "aime25", "--mirror", tmp.path(), "--cache", tmp.file("cache")});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("cannot download") != std::string::npos);
  auto list = run_reckon({"data", "list"});
  CHECK(list.exit_code == 0);
  CHECK(list.out.find("price-reversal") != std::string::npos);
  auto unknown = run_reckon({"data", "pull", "nope"});
  CHECK(unknown.exit_code == 2);
}

TEST_CASE("reversal --json and --csv, thinking and costs run on an imported store", "[cli]") {
  TempDir tmp;
  std::string dir = reckon::test::shared_data(
      "mirror/lchen001/pricing-reversal/69f5f1a0e89ee5bdd6599d46a1bf74a55b22f27d/data/consolidated");
  REQUIRE(run_reckon({"import", "--db", tmp.file("r.db"), "--format", "price-reversal", dir}).exit_code == 0);
  auto rev = run_reckon({"reversal", "--db", tmp.file("r.db"), "--json", "--csv", tmp.file("pairs.csv")});
  REQUIRE(rev.exit_code == 0);
  auto j = nlohmann::json::parse(rev.out);
  CHECK(j["comparisons"] == 56);
  CHECK(j["reversals"] == 11);
  CHECK(j["reversals_without_thinking"] == 4);
  CHECK(j["kendall_tau_mean"].get<double>() == Approx((0.642857 + 0.571429) / 2).margin(1e-4));
  std::string csv = reckon::test::read_file(tmp.file("pairs.csv"));
  CHECK(std::count(csv.begin(), csv.end(), '\n') == 57);  // header + 56 pairs
  auto text = run_reckon({"reversal", "--db", tmp.file("r.db"), "--without-thinking"});
  CHECK(text.exit_code == 0);
  CHECK(text.out.find("Reversals 5/28 → 2 without thinking") != std::string::npos);
  CHECK(run_reckon({"reversal", "--db", tmp.file("r.db"), "--definition", "list"}).exit_code == 2);
  auto th = run_reckon({"thinking", "--db", tmp.file("r.db")});
  CHECK(th.exit_code == 0);
  CHECK(th.out.find("longer than") != std::string::npos);
  auto costs = run_reckon({"costs", "--db", tmp.file("r.db"), "--by", "model", "--json"});
  REQUIRE(costs.exit_code == 0);
  CHECK(nlohmann::json::parse(costs.out).size() == 8);
}

TEST_CASE("providers list names every provider and call prints answer, thinking and cost without the key", "[cli]") {
  auto list = run_reckon({"providers", "list"});
  REQUIRE(list.exit_code == 0);
  for (const char* p : {"openai", "anthropic", "gemini", "deepseek", "xai", "openrouter", "moonshot", "vllm", "llamacpp", "ollama", "replay"})
    CHECK(list.out.find(p) != std::string::npos);

  reckon::test::LoopbackServer server;
  server.set_default({200, {}, reckon::test::read_file(reckon::test::shared_data("fixtures/vercel-ai/deepseek__deepseek-reasoning.json"))});
  const std::string key = std::string("sk-") + "SENTINEL-abcdefghijklmnop1234";  // fake
  auto r = run_reckon({"call", "deepseek:deepseek-reasoner", "How many r in strawberry?", "--base-url", server.base_url(), "--verbose"},
                      {"DEEPSEEK_API_KEY=" + key});
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("three instances") != std::string::npos);
  CHECK(r.out.find("thinking 315") != std::string::npos);
  CHECK(r.out.find("cost: $0.000") != std::string::npos);
  CHECK(r.out.find("SENTINEL") == std::string::npos);
  CHECK(r.err.find("SENTINEL") == std::string::npos);
  CHECK(r.err.find("[redacted]") != std::string::npos);  // --verbose shows the request, not the key
  CHECK(server.requests()[0].headers.find("Authorization")->second == "Bearer " + key);
}

TEST_CASE("the SDKs' base-URL variables are honoured, and a failed call --json prints its cause and exits 1", "[cli]") {
  reckon::test::LoopbackServer server;
  server.set_default({200, {}, reckon::test::read_file(reckon::test::shared_data("fixtures/openai/chat_completions_default.response.json"))});
  // OPENAI_BASE_URL (the OpenAI SDK's variable) sends the request to the loopback server; with an endpoint of
  // the user's choosing no key is needed.
  auto r = run_reckon({"call", "openai:gpt-5.4", "hi", "--json"}, {"OPENAI_BASE_URL=" + server.base_url(), "OPENAI_API_KEY="});
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(server.request_count() == 1);
  CHECK(server.requests()[0].path == "/chat/completions");
  auto j = nlohmann::json::parse(r.out);
  CHECK(j["ok"] == true);
  CHECK(j["input_tokens"] == 19);
  CHECK(j["cost_usd"].get<double>() == Approx(19 * 2.5e-6 + 10 * 15e-6));
  // ANTHROPIC_BASE_URL likewise (the Messages path under it).
  reckon::test::LoopbackServer anthropic;
  anthropic.set_default({200, {}, reckon::test::read_file(reckon::test::shared_data("fixtures/vercel-ai/anthropic__anthropic-text.json"))});
  auto a = run_reckon({"call", "anthropic:claude-sonnet-4-5", "hi", "--json"}, {"ANTHROPIC_BASE_URL=" + anthropic.base_url(), "ANTHROPIC_API_KEY="});
  INFO(a.err);
  REQUIRE(a.exit_code == 0);
  CHECK(anthropic.requests()[0].path == "/v1/messages");
  // A failure: one JSON object with the class, the HTTP status and the attempts; exit 1, not 2.
  reckon::test::LoopbackServer refusing;
  refusing.set_default({400, {}, R"({"error":{"message":"bad request: context too long","type":"invalid_request_error"}})"});
  auto f = run_reckon({"call", "openai:gpt-5.4", "hi", "--json", "--base-url", refusing.base_url()});
  CHECK(f.exit_code == 1);
  auto fj = nlohmann::json::parse(f.out);
  CHECK(fj["ok"] == false);
  CHECK(fj["error_class"] == "client_error");
  CHECK(fj["http_status"] == 400);
  CHECK(fj["attempts"] == 1);
  CHECK(fj["input_tokens"].is_null());  // no usage arrived: unknown, not 0
  CHECK(fj["cost_usd"].is_null());
  // A failed 200 that was billed says so: its usage and cost.
  reckon::test::LoopbackServer billed;
  billed.set_default({200, {}, R"({"id":"x","usage":{"prompt_tokens":7,"completion_tokens":2}})"});
  auto b = run_reckon({"call", "openai:gpt-5.4", "hi", "--json", "--base-url", billed.base_url()});
  CHECK(b.exit_code == 1);
  auto bj = nlohmann::json::parse(b.out);
  CHECK(bj["error_class"] == "bad_response");
  CHECK(bj["input_tokens"] == 7);
  CHECK(bj["cost_usd"].get<double>() == Approx(7 * 2.5e-6 + 2 * 15e-6));
  CHECK(billed.request_count() == 1);
}

TEST_CASE("eval takes --base-url like call does", "[cli]") {
  TempDir tmp;
  reckon::test::LoopbackServer server;
  server.set_default({200, {}, reckon::test::read_file(reckon::test::shared_data("fixtures/openai/chat_completions_default.response.json"))});
  auto r = run_reckon({"eval", "--model", "openai:gpt-5.4", "--task", "gsm8k", "--limit", "3", "--base-url", server.base_url(), "--db",
                       tmp.file("e.db"), "--quiet"},
                      {"OPENAI_API_KEY=", "RECKON_DATA_MIRROR=" + reckon::test::shared_data("mirror"), "XDG_CACHE_HOME=" + tmp.path()});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 0);
  CHECK(server.request_count() == 3);
  // A model with no price runs only when asked to, its cost then unknown, not zero.
  const std::vector<std::string> env = {"OPENAI_API_KEY=", "RECKON_DATA_MIRROR=" + reckon::test::shared_data("mirror"),
                                        "XDG_CACHE_HOME=" + tmp.path()};
  auto unpriced = run_reckon({"eval", "--model", "vllm:my-finetune", "--task", "gsm8k", "--limit", "2", "--base-url",
                              server.base_url(), "--db", tmp.file("u.db"), "--quiet"}, env);
  CHECK(unpriced.exit_code == 2);
  CHECK(unpriced.err.find("no price for 'vllm:my-finetune'") != std::string::npos);
  auto allowed = run_reckon({"eval", "--model", "vllm:my-finetune", "--task", "gsm8k", "--limit", "2", "--base-url",
                             server.base_url(), "--db", tmp.file("u.db"), "--quiet", "--allow-unpriced"}, env);
  INFO(allowed.err);
  CHECK(allowed.exit_code == 0);
  CHECK(server.request_count() == 5);
}

TEST_CASE("several processes at once: first pulls of one dataset and first opens of one store all succeed", "[cli][concurrency]") {
  TempDir tmp;
  const std::string mirror = reckon::test::shared_data("mirror"), cache = tmp.file("cache");
  // Six processes pull the same dataset into one empty cache (MMLU: 116 files, so their downloads overlap).
  std::vector<reckon::test::CommandResult> pulls(6);
  {
    std::vector<std::thread> threads;
    for (size_t i = 0; i < pulls.size(); ++i)
      threads.emplace_back([&, i] { pulls[i] = run_reckon({"data", "pull", "mmlu", "--mirror", mirror, "--cache", cache}); });
    for (auto& t : threads) t.join();
  }
  for (const auto& p : pulls) {
    INFO(p.err);
    CHECK(p.exit_code == 0);
  }
  // Every file in place and whole (a second pull verifies each checksum and fetches nothing), no temporary left.
  std::filesystem::create_directories(tmp.file("empty-mirror"));
  auto again = run_reckon({"data", "pull", "mmlu", "--mirror", tmp.file("empty-mirror"), "--cache", cache});
  INFO(again.err);
  CHECK(again.exit_code == 0);
  size_t leftovers = 0;
  for (const auto& f : std::filesystem::recursive_directory_iterator(cache))
    leftovers += f.path().string().find(".part") != std::string::npos;
  CHECK(leftovers == 0);

  // Six processes create and migrate one new store at once, each importing the same log — eight times over
  // (switching a new file to WAL once failed now and then with "database is locked").
  const std::string csv = tmp.write("log.csv", "model,task,item_id,input_tokens,output_tokens,score\ngpt-5-mini,t,1,10,10,1\ngpt-5-mini,t,2,10,10,0\n");
  for (int round = 0; round < 8; ++round) {
    const std::string db = tmp.file("shared-" + std::to_string(round) + ".db");
    std::vector<reckon::test::CommandResult> imports(6);
    {
      std::vector<std::thread> threads;
      for (size_t i = 0; i < imports.size(); ++i) threads.emplace_back([&, i] { imports[i] = run_reckon({"import", "--db", db, csv}); });
      for (auto& t : threads) t.join();
    }
    for (const auto& r : imports) {
      INFO(r.err);
      CHECK(r.exit_code == 0);
    }
    auto summary = run_reckon({"summary", "--db", db, "--json"});
    REQUIRE(summary.exit_code == 0);
    CHECK(nlohmann::json::parse(summary.out)[0]["requests"] == 2);  // imported once, however many tried
  }
}

TEST_CASE("a foreign SQLite file is refused, and an import with no rows fails without leaving a run", "[cli]") {
  TempDir tmp;
  const std::string foreign = tmp.file("theirs.db");
  REQUIRE(std::system(("sqlite3 " + foreign + " \"CREATE TABLE invoices(id INT); INSERT INTO invoices VALUES (7);\"").c_str()) == 0);
  const std::string csv = tmp.write("one.csv", "model,task,item_id,input_tokens,output_tokens\ngpt-5-mini,t,1,10,10\n");
  auto r = run_reckon({"import", "--db", foreign, csv});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("not a reckon store") != std::string::npos);
  auto tables = run_reckon({"summary", "--db", foreign});
  CHECK(tables.exit_code == 2);
  // Their data is as it was: one table, no reckon schema added.
  const std::string check = tmp.file("tables.txt");
  REQUIRE(std::system(("sqlite3 " + foreign + " \"SELECT group_concat(name) FROM sqlite_master WHERE type='table'; PRAGMA user_version;\" > " + check).c_str()) == 0);
  CHECK(reckon::test::read_file(check) == "invoices\n0\n");
  // A header alone: exit 2, and no empty run left in the store.
  const std::string db = tmp.file("mine.db");
  auto empty = run_reckon({"import", "--db", db, tmp.write("header.csv", "model,task,item_id,input_tokens,output_tokens\n")});
  CHECK(empty.exit_code == 2);
  CHECK(empty.err.find("no request rows to import") != std::string::npos);
  REQUIRE(run_reckon({"import", "--db", db, csv}).exit_code == 0);
  REQUIRE(std::system(("sqlite3 " + db + " \"SELECT COUNT(*) FROM runs;\" > " + check).c_str()) == 0);
  CHECK(reckon::test::read_file(check) == "1\n");
}

TEST_CASE("export writes the stable views as CSV and JSON Lines", "[cli]") {
  TempDir tmp;
  std::string csv = tmp.write("log.csv", "model,task,item_id,input_tokens,output_tokens,reasoning_tokens,score\n"
                                         "gpt-5-mini,t,1,1000,500,,1\ngpt-5-mini,t,2,\"1000\",500,300,0\n");
  REQUIRE(run_reckon({"import", "--db", tmp.file("r.db"), csv}).exit_code == 0);
  auto c = run_reckon({"export", "--db", tmp.file("r.db"), "--view", "v_requests"});
  REQUIRE(c.exit_code == 0);
  CHECK(c.out.rfind("run_id,campaign,model,task,item_id,repeat,status", 0) == 0);
  CHECK(std::count(c.out.begin(), c.out.end(), '\n') == 3);
  auto j = run_reckon({"export", "--db", tmp.file("r.db"), "--view", "v_model_task", "--format", "jsonl"});
  REQUIRE(j.exit_code == 0);
  auto row = nlohmann::json::parse(j.out.substr(0, j.out.find('\n')));
  CHECK(row["n"] == 2);
  CHECK(row["accuracy"] == 0.5);
  CHECK(row["reasoning_tokens"] == 300);
  auto bad = run_reckon({"export", "--db", tmp.file("r.db"), "--view", "requests; DROP TABLE runs"});
  CHECK(bad.exit_code == 2);
  CHECK(bad.err.find("--view must be one of") != std::string::npos);
}

namespace {

// The options a verb's --help lists ("--name", with its short form's long twin).
std::set<std::string> help_flags(const std::string& help) {
  std::set<std::string> flags;
  const std::regex flag("(--[a-z][a-z0-9-]*)");
  for (auto it = std::sregex_iterator(help.begin(), help.end(), flag); it != std::sregex_iterator(); ++it) flags.insert((*it)[1]);
  flags.erase("--help");
  flags.erase("--version");
  return flags;
}

// The subcommand names a --help lists under "Subcommands:".
std::vector<std::string> help_subcommands(const std::string& help) {
  std::vector<std::string> subs;
  const size_t at = help.find("Subcommands:");
  if (at == std::string::npos) return subs;
  std::istringstream lines(help.substr(at));
  std::string line;
  std::getline(lines, line);
  while (std::getline(lines, line)) {
    if (line.size() < 3 || line[0] != ' ' || line[2] == ' ') continue;
    subs.push_back(line.substr(2, line.find(' ', 2) - 2));
  }
  return subs;
}

}  // namespace

TEST_CASE("every verb's --help ends with an example whose flags the verb takes, and the README names every flag", "[cli][help]") {
  const std::string readme = reckon::test::read_file(std::string(RECKON_SOURCE_DIR) + "/README.md");
  const std::vector<std::string> verbs = help_subcommands(run_reckon({"--help"}).out);
  CHECK(verbs.size() == 23);
  for (const auto& verb : verbs) {
    INFO(verb);
    auto help = run_reckon({verb, "--help"});
    REQUIRE(help.exit_code == 0);
    CHECK(help.out.find("Usage: reckon " + verb) != std::string::npos);
    const size_t at = help.out.find("Example:\n  reckon ");
    REQUIRE(at != std::string::npos);
    const std::string example = help.out.substr(at + 11, help.out.find('\n', at + 11) - at - 11);
    // The example's words up to its first option name the (sub)command whose help must list its flags.
    std::vector<std::string> words;
    std::istringstream in(example);
    for (std::string w; in >> w;) words.push_back(w);
    REQUIRE(words.size() >= 2);
    CHECK(words[1] == verb);
    std::vector<std::string> ask = {verb};
    const auto subs = help_subcommands(help.out);
    if (words.size() > 2 && std::find(subs.begin(), subs.end(), words[2]) != subs.end()) ask.push_back(words[2]);
    ask.push_back("--help");
    const std::set<std::string> known = help_flags(run_reckon(ask).out);
    for (const auto& w : words)
      if (w.rfind("--", 0) == 0) {
        INFO(example);
        CHECK(known.count(w) == 1);
      }
    // Every flag of the verb and of each of its subcommands is in the README.
    std::vector<std::vector<std::string>> all = {{verb}};
    for (const auto& sub : subs) all.push_back({verb, sub});
    for (auto args : all) {
      args.push_back("--help");
      for (const auto& flag : help_flags(run_reckon(args).out)) {
        INFO(args[0] << (args.size() > 2 ? " " + args[1] : "") << " " << flag);
        CHECK(readme.find(flag) != std::string::npos);
      }
    }
  }
}
