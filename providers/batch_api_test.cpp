// The three batch APIs against a loopback server that speaks each as documented (tests/batch_server):
// the bodies a batch carries are the live adapter's, each state is read, and every kind of result
// (answer, error, expiry) lands where it belongs, priced at the batch tier.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "common/json_parse.h"
#include "providers/batch_api.h"
#include "providers/registry.h"
#include "tests/batch_server.h"

using namespace reckon;
using test::BatchOutcome;

namespace {

// Answers "a…" items, refuses "b…" items, lets "c…" items expire.
BatchOutcome by_id(const std::string& id, const nlohmann::json&) {
  BatchOutcome o;
  o.text = "answer to " + id;
  o.input_tokens = 120;
  o.output_tokens = 35;
  if (id[0] == 'b') o.kind = BatchOutcome::Kind::kError, o.error_message = "max_tokens: too large";
  if (id[0] == 'c') o.kind = BatchOutcome::Kind::kExpire;
  return o;
}

ModelRef model_at(const std::string& provider, const std::string& model, const std::string& base) {
  ModelRef m{provider, model, {}};
  m.params.base_url = base;
  m.params.max_tokens = 64;
  return m;
}

std::unique_ptr<BatchApi> api_for(const ModelRef& m) {
  setenv("OPENAI_API_KEY", "sk-test", 1);
  setenv("ANTHROPIC_API_KEY", "sk-ant-test", 1);
  setenv("GEMINI_API_KEY", "gm-test", 1);
  return batch_api_for(m);
}

std::vector<std::string> lines_for(BatchApi& api, const ModelRef& m, const std::vector<std::string>& ids) {
  std::vector<std::string> lines;
  for (const auto& id : ids) lines.push_back(api.line(BatchEntry{id, ChatRequest{m, {{"user", "question " + id}}}}));
  return lines;
}

}  // namespace

TEST_CASE("each batch API carries the live request body and reads answers, errors and expiries per custom_id", "[batch]") {
  struct Case {
    std::string provider, model, base_suffix;
    bool per_item_expiry;  // Gemini reports no per-item expiry: an expired batch has no output
  };
  for (const Case& k : {Case{"openai", "gpt-5-mini", "/v1", true}, Case{"anthropic", "claude-haiku-4-5", "", true},
                        Case{"gemini", "gemini-2.5-flash", "", false}}) {
    INFO(k.provider);
    test::BatchServer server(by_id);
    server.set_polls_to_end(3);
    ModelRef m = model_at(k.provider, k.model, server.base_url() + k.base_suffix);
    auto api = api_for(m);
    REQUIRE(api);
    std::vector<std::string> ids = {"a1", "b1", "a2"};
    if (k.per_item_expiry) ids.push_back("c1");
    const std::string id = api->create(lines_for(*api, m, ids), "reckon-t1-" + std::to_string(ids.size()) + "@" + std::to_string(time(nullptr)));
    CHECK(server.creates() == 1);

    // What the batch carried is what a live call sends (the adapter's body, not streamed).
    const ProviderInfo* info = find_provider(k.provider);
    auto adapter = info->make(m.params);
    const auto bodies = server.bodies();
    REQUIRE(bodies.size() == ids.size());
    for (size_t i = 0; i < ids.size(); ++i)
      CHECK(bodies[i] == parse_json(adapter->build(ChatRequest{m, {{"user", "question " + ids[i]}}}, "", m.params.base_url).body));

    BatchStatus s = api->poll(id);  // polls 1 and 2: not ended
    CHECK_FALSE(s.ended);
    CHECK_FALSE(api->poll(id).ended);
    s = api->poll(id);
    REQUIRE(s.ended);
    CHECK_FALSE(s.failed);
    CHECK(s.total == static_cast<int64_t>(ids.size()));
    CHECK(s.succeeded == 2);

    auto results = api->results(id);
    std::map<std::string, BatchItemResult> by;
    for (auto& r : results) by[r.custom_id] = r;
    REQUIRE(by.count("a1"));
    CHECK(by["a1"].kind == BatchItemResult::Kind::kAnswered);
    CHECK(by["a1"].result.ok);
    CHECK(by["a1"].result.completion.text == "answer to a1");
    CHECK(by["a1"].result.completion.usage.input_tokens == 120);
    CHECK(by["a1"].result.completion.usage.output_tokens == 35);
    CHECK(by["a1"].result.completion.usage.service_tier == ServiceTier::kBatch);  // OpenAI's body says "default"
    REQUIRE(by.count("b1"));
    CHECK_FALSE(by["b1"].result.ok);
    CHECK(by["b1"].result.error.find("max_tokens: too large") != std::string::npos);
    CHECK(by["b1"].result.error_class == ErrorClass::kClient);
    if (k.per_item_expiry) {
      REQUIRE(by.count("c1"));
      CHECK(by["c1"].kind == BatchItemResult::Kind::kNotRun);
    }
    CHECK(by.size() == ids.size());
  }
}

TEST_CASE("a batch created by a run that died before recording it is found again by its tag", "[batch]") {
  for (std::string provider : {"openai", "anthropic", "gemini"}) {
    INFO(provider);
    test::BatchServer server;
    ModelRef m = model_at(provider, "m1", server.base_url() + (provider == "openai" ? "/v1" : ""));
    auto api = api_for(m);
    const std::string other = api->create(lines_for(*api, m, {"x1"}), "reckon-other-1@" + std::to_string(time(nullptr)));
    const std::string tag = "reckon-mine-2@" + std::to_string(time(nullptr));
    const std::string id = api->create(lines_for(*api, m, {"a1", "a2"}), tag);
    CHECK(api->find(tag) == std::optional<std::string>(id));
    CHECK(api->find(tag) != std::optional<std::string>(other));
    if (provider != "anthropic")  // Anthropic's batches carry no tag: found by size and time, so a never-created one
      CHECK_FALSE(api->find("reckon-never-2@" + std::to_string(time(nullptr))));
    CHECK_FALSE(api->find("reckon-never-7@" + std::to_string(time(nullptr))));  // no batch of 7 anywhere
  }
}

TEST_CASE("a batch refused as a whole says why, and a cancelled batch's items come back not run", "[batch]") {
  for (std::string provider : {"openai", "anthropic", "gemini"}) {
    INFO(provider);
    test::BatchServer server;
    ModelRef m = model_at(provider, "m1", server.base_url() + (provider == "openai" ? "/v1" : ""));
    auto api = api_for(m);
    if (provider != "anthropic") {  // Anthropic validates at creation (an HTTP error there)
      server.fail_next_validation();
      const std::string bad = api->create(lines_for(*api, m, {"a1"}), "reckon-bad-1@0");
      BatchStatus s = api->poll(bad);
      CHECK(s.ended);
      CHECK(s.failed);
      CHECK_FALSE(s.error.empty());
      CHECK(api->results(bad).empty());
    }
    server.hold(true);
    const std::string id = api->create(lines_for(*api, m, {"a1", "a2"}), "reckon-c-2@0");
    CHECK_FALSE(api->poll(id).ended);
    api->cancel(id);
    CHECK(server.cancels() == 1);
    BatchStatus s = api->poll(id);
    CHECK(s.ended);
    for (const auto& r : api->results(id)) CHECK(r.kind == BatchItemResult::Kind::kNotRun);
    CHECK(server.delivered().empty());
  }
}

TEST_CASE("a batch API's HTTP error names the step and the provider's message, never the key", "[batch]") {
  ModelRef m = model_at("openai", "m1", "http://127.0.0.1:9/v1");  // nothing listens on port 9
  auto api = api_for(m);
  try {
    api->create(lines_for(*api, m, {"a1"}), "t-1@0");
    FAIL("no error");
  } catch (const BatchError& e) {
    CHECK(std::string(e.what()).find("uploading the batch input file") != std::string::npos);
  }
  test::BatchServer server;
  m = model_at("anthropic", "m1", server.base_url());
  api = api_for(m);
  try {
    api->poll("msgbatch_nope");
    FAIL("no error");
  } catch (const BatchError& e) {
    const std::string what = e.what();
    CHECK(what.find("polling batch msgbatch_nope: HTTP 404") != std::string::npos);
    CHECK(what.find("sk-ant-test") == std::string::npos);
  }
  CHECK_FALSE(has_batch_api("deepseek"));
  CHECK(has_batch_api("vllm"));
}

TEST_CASE("an OpenAI Responses API model is batched to /v1/responses and its answers read as responses", "[batch]") {
  test::BatchServer server(by_id);
  server.set_polls_to_end(1);
  ModelRef m = model_at("openai", "gpt-5-mini", server.base_url() + "/v1");
  m.params.api = "responses";
  auto api = api_for(m);
  const std::string line = api->line(BatchEntry{"a1", ChatRequest{m, {{"user", "question a1"}}}});
  CHECK(parse_json(line)["url"] == "/v1/responses");
  CHECK(parse_json(line)["body"].contains("input"));  // the Responses API's body, not Chat's "messages"
  const std::string id = api->create({line}, "reckon-r-1@0");
  REQUIRE(api->poll(id).ended);
  auto results = api->results(id);
  REQUIRE(results.size() == 1);
  CHECK(results[0].result.ok);
  CHECK(results[0].result.completion.text == "answer to a1");
  CHECK(results[0].result.completion.usage.input_tokens == 120);
  CHECK(results[0].result.completion.finish_reason == "completed");
}
