// The command and openai trainer backends, each against loopback stand-ins: a shell script for the
// trainer and an OpenAI-compatible server for the fine-tuning API and the trained model's routes.
#include <httplib.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <cstdlib>
#include <mutex>
#include <random>
#include <thread>

#include "common/jsonl.h"
#include "common/text.h"
#include "sweeps/backend.h"
#include "sweeps/sweep.h"
#include "tests/support.h"

using namespace reckon;

namespace {

// Two candidates; the cheap one fails on queries asking for a proof.
RoutingSet toy(int n) {
  std::mt19937_64 rng(7);
  RoutingSet s;
  s.candidates = {"cheap", "costly"};
  s.cost = {1, 10};
  s.tokens = {std::nullopt, std::nullopt};
  for (int i = 0; i < n; ++i) {
    const bool hard = rng() % 3 == 0;
    s.ids.push_back(std::to_string(i));
    s.texts.push_back(std::string(hard ? "give a rigorous proof of" : "what is the capital of") + " item " + std::to_string(i));
    s.correct.push_back({hard ? 0.0 : 1.0, 1.0});
  }
  return s;
}

std::string completion(const std::string& model, const std::string& text) {
  return nlohmann::json({{"id", "chatcmpl-1"}, {"object", "chat.completion"}, {"model", model},
                         {"choices", {{{"index", 0}, {"message", {{"role", "assistant"}, {"content", text}}}, {"finish_reason", "stop"}}}},
                         {"usage", {{"prompt_tokens", 40}, {"completion_tokens", 1}, {"total_tokens", 41}}}})
      .dump();
}

// An OpenAI-compatible stand-in. A model routes perfectly once `trained(model)` says so, and sends
// everything to `cheap` before. It also speaks the fine-tuning API: files, jobs, polling.
class FakeOpenAI {
 public:
  explicit FakeOpenAI(std::function<bool(const std::string&)> trained) : trained_(std::move(trained)) {
    svr_.Post("/v1/chat/completions", [this](const httplib::Request& req, httplib::Response& res) {
      const auto body = nlohmann::json::parse(req.body);
      const std::string model = body["model"], query = body["messages"].back()["content"];
      {
        std::lock_guard<std::mutex> lock(mu_);
        asked_.insert(model);
        auths_.insert(req.get_header_value("Authorization"));
      }
      const bool perfect = trained_(model);
      res.set_content(completion(model, perfect && query.find("proof") != std::string::npos ? "costly" : "Cheap."), "application/json");
    });
    svr_.Post("/v1/files", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard<std::mutex> lock(mu_);
      auths_.insert(req.get_header_value("Authorization"));
      if (!req.has_file("file") || req.get_file_value("purpose").content != "fine-tune") {
        res.status = 400;
        res.set_content(R"({"error":{"message":"purpose must be fine-tune","type":"invalid_request_error"}})", "application/json");
        return;
      }
      const std::string id = "file-" + std::to_string(files_.size() + 1);
      files_[id] = req.get_file_value("file").content;
      res.set_content(nlohmann::json({{"id", id}, {"object", "file"}, {"purpose", "fine-tune"}}).dump(), "application/json");
    });
    svr_.Post("/v1/fine_tuning/jobs", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard<std::mutex> lock(mu_);
      auto job = nlohmann::json::parse(req.body);
      if (!files_.count(job.value("training_file", ""))) {
        res.status = 400;
        res.set_content(R"({"error":{"message":"invalid training_file"}})", "application/json");
        return;
      }
      const std::string id = "ftjob-" + std::to_string(jobs_.size() + 1);
      job["id"] = id;
      job["status"] = "validating_files";
      job["polls"] = 0;
      jobs_[id] = job;
      order_.push_back(id);
      res.set_content(nlohmann::json({{"id", id}, {"object", "fine_tuning.job"}, {"status", "validating_files"},
                                      {"model", job["model"]}, {"fine_tuned_model", nullptr}})
                          .dump(),
                      "application/json");
    });
    svr_.Get(R"(/v1/fine_tuning/jobs/([\w-]+))", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard<std::mutex> lock(mu_);
      auto& job = jobs_.at(req.matches[1].str());
      const std::string type = job["method"]["type"];
      nlohmann::json out = {{"id", job["id"]}, {"object", "fine_tuning.job"}, {"model", job["model"]}, {"fine_tuned_model", nullptr}};
      if (job["polls"].get<int>() == 0) {
        out["status"] = "running";
      } else if (type == fail_method) {
        out["status"] = "failed";
        out["error"] = {{"code", "invalid_training_file"}, {"message", "line 3: preferred_output is missing"}};
      } else {
        out["status"] = "succeeded";
        out["fine_tuned_model"] = "ft:" + type + "-" + job["id"].get<std::string>();
      }
      job["polls"] = job["polls"].get<int>() + 1;
      res.set_content(out.dump(), "application/json");
    });
    port_ = svr_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { svr_.listen_after_bind(); });
    while (!svr_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~FakeOpenAI() {
    svr_.stop();
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/v1"; }

  std::mutex mu_;
  std::set<std::string> asked_, auths_;
  std::map<std::string, std::string> files_;
  std::map<std::string, nlohmann::json> jobs_;
  std::vector<std::string> order_;
  std::string fail_method;  // jobs of this method type fail

 private:
  std::function<bool(const std::string&)> trained_;
  httplib::Server svr_;
  std::thread thread_;
  int port_ = 0;
};

double share_easy(const RoutingSet& s, double train_fraction) {
  std::vector<size_t> pool, held_out;
  split_rows(s.size(), train_fraction, 12345, pool, held_out);
  double easy = 0;
  for (size_t r : held_out) easy += s.correct[r][0];
  return easy / static_cast<double>(held_out.size());
}

std::map<double, std::pair<std::string, double>> points_by_fraction(Store& st, const std::string& sweep) {
  std::map<double, std::pair<std::string, double>> out;
  auto q = st.db().prepare("SELECT sft_fraction, status, COALESCE(score, -1), COALESCE(error, '') FROM sweep_points WHERE sweep_id = ?1");
  q.bind(1, sweep);
  while (q.step()) out[q.real(0)] = {q.text(1) == "ok" ? "ok" : q.text(3), q.real(2)};
  return out;
}

}  // namespace

TEST_CASE("the command backend runs a stage per dataset and judges the served model", "[sweep][backend]") {
  test::TempDir tmp;
  // SFT teaches routing; DPO from the base model alone does not (a cold start).
  FakeOpenAI server([](const std::string& m) { return m.find("sft") != std::string::npos; });
  const std::string script = tmp.write("train.sh", R"(stage=$1; train=$2; out=$3; base=$4
n=$(wc -l < "$train")
echo "training $stage on $n examples from $base"
echo "reckon-model: $stage-$n-from-$base"
)");
  const RoutingSet s = toy(120);
  SweepGrid g;
  g.budgets = {20};
  g.sft_fractions = {1, 0.5, 0};
  g.seeds = 1;
  g.backend = "command";
  g.backend_config = {{"base_model", "base"}, {"sft", "sh " + script + " sft {train} {out} {base}"},
                      {"dpo", "sh " + script + " dpo {train} {out} {base} --beta {beta}"}, {"model", "vllm:{model}"},
                      {"base_url", server.url()}};
  Store st(tmp.file("s.db"), Store::Mode::kReadWrite);
  CHECK(run_sweep(st, "cmd", s, g, {{"toy", true}}, {}, tmp.file("work")) == 3);
  const auto points = points_by_fraction(st, "cmd");
  CHECK(points.at(1).first == "ok");
  CHECK(points.at(1).second == Approx(1.0));  // an SFT-trained router routes every held-out query right
  CHECK(points.at(0.5).second == Approx(1.0));
  CHECK(points.at(0).second == Approx(share_easy(s, g.train_fraction)));  // DPO alone: everything to cheap
  CHECK(server.asked_ == std::set<std::string>{"sft-20-from-base", "dpo-10-from-sft-10-from-base", "dpo-20-from-base"});
  // The files the stages were given: the point's budget, in TRL's layout, labelled cheapest-correct.
  const auto sft = read_jsonl(tmp.file("work/b20.00-f1.000-r1.00-s1/sft/train.jsonl"));
  REQUIRE(sft.size() == 20);
  for (const auto& j : sft) {
    const std::string query = j["messages"][1]["content"], label = j["messages"][2]["content"];
    CHECK(label == (query.find("proof") != std::string::npos ? "costly" : "cheap"));
  }
  const auto dpo = read_jsonl(tmp.file("work/b20.00-f0.500-r1.00-s1/dpo/train.jsonl"));
  REQUIRE(dpo.size() == 10);
  CHECK(dpo[0].contains("chosen"));
  CHECK(dpo[0].contains("rejected"));
  CHECK(read_jsonl(tmp.file("work/b20.00-f1.000-r1.00-s1/sft/eval.jsonl")).size() == 36);  // the held-out split
  const auto rep = sweep_report(st, "cmd");
  CHECK(std::any_of(rep.flags.begin(), rep.flags.end(), [](const std::string& f) { return f.find("cold-start failure") != std::string::npos; }));
}

TEST_CASE("a failing training command is recorded on its points, and a rerun retries only those", "[sweep][backend]") {
  test::TempDir tmp;
  FakeOpenAI server([](const std::string&) { return true; });
  const RoutingSet s = toy(60);
  SweepGrid g;
  g.budgets = {10};
  g.sft_fractions = {1, 0};
  g.seeds = 1;
  g.backend = "command";
  g.backend_config = {{"base_model", "base"}, {"sft", "echo 'CUDA out of memory' >&2; exit 3"}, {"dpo", "true"},
                      {"model", "vllm:{model}"}, {"base_url", server.url()}};
  Store st(tmp.file("s.db"), Store::Mode::kReadWrite);
  CHECK(run_sweep(st, "bad", s, g, {}, {}, tmp.file("work")) == 2);
  auto points = points_by_fraction(st, "bad");
  CHECK(points.at(1).first == "sft command exited with status 3: CUDA out of memory");
  CHECK(points.at(0).first == "ok");
  const auto rep = sweep_report(st, "bad");
  CHECK(std::any_of(rep.flags.begin(), rep.flags.end(), [](const std::string& f) { return f.find("CUDA out of memory") != std::string::npos; }));
  CHECK(run_sweep(st, "bad", s, g, {}, {}, tmp.file("work")) == 1);  // only the failed point again
  SweepGrid missing = g;
  missing.backend_config.erase("model");
  CHECK_THROWS_WITH(run_sweep(st, "bad2", s, missing, {}, {}, tmp.file("work")), Catch::Contains("field 'model' is required"));
}

TEST_CASE("the openai backend uploads, trains SFT then DPO from it, polls, and judges the fine-tuned model", "[sweep][backend]") {
  test::TempDir tmp;
  FakeOpenAI server([](const std::string& m) { return m.rfind("ft:", 0) == 0; });
  const std::string key = std::string("sk-") + "reckon-test-" + std::to_string(::getpid());
  ::setenv("RECKON_FT_TEST_KEY", key.c_str(), 1);
  const RoutingSet s = toy(100);
  SweepGrid g;
  g.budgets = {12};
  g.sft_fractions = {0.5};
  g.cost_ratios = {2};
  g.seeds = 1;
  g.epochs = 2;
  g.beta = 0.2;
  g.backend = "openai";
  g.backend_config = {{"base_model", "gpt-4.1-nano-2025-04-14"}, {"base_url", server.url()}, {"api_key_env", "RECKON_FT_TEST_KEY"},
                      {"poll_s", 0.01}};
  Store st(tmp.file("s.db"), Store::Mode::kReadWrite);
  CHECK(run_sweep(st, "ft", s, g, {}, {}, tmp.file("work")) == 1);
  auto points = points_by_fraction(st, "ft");
  CHECK(points.at(0.5).first == "ok");
  CHECK(points.at(0.5).second == Approx(1.0));
  REQUIRE(server.order_.size() == 2);
  const auto& sft_job = server.jobs_.at(server.order_[0]);
  const auto& dpo_job = server.jobs_.at(server.order_[1]);
  CHECK(sft_job["model"] == "gpt-4.1-nano-2025-04-14");
  CHECK(sft_job["method"]["type"] == "supervised");
  CHECK(sft_job["method"]["supervised"]["hyperparameters"]["n_epochs"] == 2);
  CHECK(dpo_job["model"] == "ft:supervised-ftjob-1");  // DPO starts from the SFT result
  CHECK(dpo_job["method"]["dpo"]["hyperparameters"]["beta"] == Approx(0.2));
  // 6 SFT examples, then (12 − 6) / 2 = 3 pairs, in OpenAI's layouts.
  const auto lines = [](const std::string& text) {
    std::vector<nlohmann::json> out;
    for (const auto& l : split(text, '\n'))
      if (!l.empty()) out.push_back(nlohmann::json::parse(l));
    return out;
  };
  const auto sft = lines(server.files_.at(sft_job["training_file"]));
  const auto dpo = lines(server.files_.at(dpo_job["training_file"]));
  CHECK(sft.size() == 6);
  CHECK(sft[0]["messages"].back()["role"] == "assistant");
  CHECK(dpo.size() == 3);
  CHECK(dpo[0]["input"]["messages"].back()["role"] == "user");
  CHECK(dpo[0]["preferred_output"][0]["content"] != dpo[0]["non_preferred_output"][0]["content"]);
  CHECK(server.files_.count(sft_job["validation_file"]));
  CHECK(server.asked_ == std::set<std::string>{"ft:dpo-ftjob-2"});
  CHECK(server.auths_ == std::set<std::string>{"Bearer " + key});
  // A failed job is the point's error, with the API's reason; the key is in no stored byte.
  server.fail_method = "dpo";
  g.seeds = 2;
  CHECK(run_sweep(st, "ft2", s, g, {}, {}, tmp.file("work2")) == 2);
  auto q = st.db().prepare("SELECT COUNT(*) FROM sweep_points WHERE sweep_id = 'ft2' AND error LIKE '%ftjob-% failed: line 3: preferred_output is missing%'");
  q.step();
  CHECK(q.int64(0) == 2);
  // Every stored byte: the database file and its write-ahead log (the store is open in WAL mode, so fresh
  // pages live in s.db-wal until a checkpoint).
  auto stored_bytes = [&] {
    std::string bytes = test::read_file(tmp.file("s.db"));
    if (std::filesystem::exists(tmp.file("s.db-wal"))) bytes += test::read_file(tmp.file("s.db-wal"));
    return bytes;
  };
  REQUIRE(stored_bytes().find("preferred_output is missing") != std::string::npos);  // the scan sees fresh rows
  CHECK(stored_bytes().find(key) == std::string::npos);
  ::unsetenv("RECKON_FT_TEST_KEY");
  CHECK(run_sweep(st, "ft3", s, g, {}, {}, tmp.file("work3")) == 2);
  auto q2 = st.db().prepare("SELECT COUNT(*) FROM sweep_points WHERE sweep_id = 'ft3' AND error LIKE '%needs the API key in RECKON_FT_TEST_KEY%'");
  q2.step();
  CHECK(q2.int64(0) == 2);
}

TEST_CASE("route train --router lm fine-tunes with a command and routes by asking the served model", "[route][backend]") {
  test::TempDir tmp;
  // The served model routes perfectly once it is the one the training command produced.
  FakeOpenAI server([](const std::string& m) { return m == "my-router"; });
  const RoutingSet s = toy(60);
  std::string rows = "prompt_id,prompt,cheap_correct,costly_correct\n";
  for (size_t i = 0; i < s.size(); ++i)
    rows += s.ids[i] + "," + s.texts[i] + "," + (s.correct[i][0] > 0 ? "1" : "0") + ",1\n";
  const std::string outcomes = tmp.write("o.csv", rows), db = tmp.file("r.db");
  const std::string cfg = tmp.write("lm.json", nlohmann::json({{"base_model", "base"},
                                                               {"sft", "test -s {train} && echo reckon-model: my-router"},
                                                               {"model", "vllm:{model}"},
                                                               {"base_url", server.url()}})
                                                   .dump());
  auto tr = test::run_reckon({"route", "train", "--outcomes", outcomes, "--candidates", "cheap,costly", "--costs", "1,10", "--router", "lm",
                              "--backend-config", cfg, "--work-dir", tmp.file("work"), "--name", "lm1", "--save-db", db});
  INFO(tr.err);
  REQUIRE(tr.exit_code == 0);
  // The training chats: 70 % of 60 = 42 rows, every tenth aside for the command's eval set (4), 38 to train on.
  CHECK(read_jsonl(tmp.file("work") + "/sft/train.jsonl").size() == 38);
  CHECK(read_jsonl(tmp.file("work") + "/sft/eval.jsonl").size() == 4);
  // Judged on the held-out 18 by asking the model: it routes like the oracle.
  auto ev = test::run_reckon({"route", "eval", "--db", db, "--name", "lm1", "--json"});
  INFO(ev.err);
  REQUIRE(ev.exit_code == 0);
  const auto j = nlohmann::json::parse(ev.out);
  CHECK(j["queries"] == 18);
  CHECK(j["accuracy"].get<double>() == Approx(1.0));
  CHECK(j["cost_per_query"].get<double>() == Approx(j["oracle_cost_per_query"].get<double>()));
  auto ap = test::run_reckon({"route", "apply", "--db", db, "--name", "lm1", "--input",
                              tmp.write("q.jsonl", "{\"prompt\": \"give a rigorous proof of x\"}\n{\"prompt\": \"what is the capital of y\"}\n")});
  INFO(ap.err);
  REQUIRE(ap.exit_code == 0);
  CHECK(ap.out.find("\"route\":\"costly\"") < ap.out.find("\"route\":\"cheap\""));
  // A config without its command, or no config at all, is named before anything runs.
  auto bad = test::run_reckon({"route", "train", "--outcomes", outcomes, "--candidates", "cheap,costly", "--router", "lm",
                               "--backend-config", tmp.write("bad.json", "{\"model\": \"vllm:{model}\", \"base_model\": \"b\"}"),
                               "--name", "lm2", "--save-db", db});
  CHECK(bad.exit_code == 2);
  CHECK(bad.err.find("bad.json: field 'sft' is required") != std::string::npos);
  auto none = test::run_reckon({"route", "train", "--outcomes", outcomes, "--candidates", "cheap,costly", "--router", "lm", "--name", "lm3",
                                "--save-db", db});
  CHECK(none.exit_code == 2);
  CHECK(none.err.find("needs --backend-config") != std::string::npos);
}
