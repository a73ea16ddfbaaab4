#include "providers/openai.h"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <random>

#include "tests/support.h"

namespace reckon {
namespace {

const Dialect kDialects[] = {Dialect::kOpenAI, Dialect::kDeepSeek, Dialect::kXai, Dialect::kOpenRouter, Dialect::kKimi, Dialect::kSelfHosted};

struct Read {
  std::optional<Completion> completion;
  std::string error;
};

Read through_nlohmann(const std::string& body, Dialect d) {
  Read r;
  try {
    r.completion = openai_chat_completion(parse_json_body(body), d);
  } catch (const BadResponse& e) {
    r.error = e.what();
  }
  return r;
}

Read through_adapter(const Adapter& a, const std::string& body) {
  Read r;
  try {
    r.completion = a.parse(body);
  } catch (const BadResponse& e) {
    r.error = e.what();
  }
  return r;
}

void same(const Read& a, const Read& b) {
  REQUIRE(a.error == b.error);
  REQUIRE(a.completion.has_value() == b.completion.has_value());
  if (!a.completion) return;
  const Completion &x = *a.completion, &y = *b.completion;
  CHECK(x.text == y.text);
  CHECK(x.reasoning_text == y.reasoning_text);
  CHECK(x.finish_reason == y.finish_reason);
  CHECK(x.response_model == y.response_model);
  CHECK(x.raw_usage.dump() == y.raw_usage.dump());  // dump tells 1 from 1.0, which == does not
  const Usage &u = x.usage, &v = y.usage;
  CHECK(u.input_tokens == v.input_tokens);
  CHECK(u.cache_read_tokens == v.cache_read_tokens);
  CHECK(u.cache_write_5m_tokens == v.cache_write_5m_tokens);
  CHECK(u.output_tokens == v.output_tokens);
  CHECK(u.reasoning_tokens == v.reasoning_tokens);
  CHECK(u.audio_input_tokens == v.audio_input_tokens);
  CHECK(u.audio_output_tokens == v.audio_output_tokens);
  CHECK(u.usage_complete == v.usage_complete);
  CHECK(u.provider_cost_usd == v.provider_cost_usd);
  CHECK(u.service_tier == v.service_tier);
  CHECK(u.service_tier_reported == v.service_tier_reported);
}

}  // namespace

TEST_CASE("an OpenAI chat answer read straight from simdjson is the one read through nlohmann values", "[openai][json]") {
  std::vector<std::string> bodies = {
      R"({"choices":[{"message":{"content":"42","refusal":null},"finish_reason":"stop"}],"model":"m","service_tier":"flex",)"
      R"("usage":{"prompt_tokens":19,"completion_tokens":10,"prompt_tokens_details":{"cached_tokens":3},)"
      R"("completion_tokens_details":{"reasoning_tokens":4},"cost":0.5,"cost_in_usd_ticks":12345,"prompt_cache_hit_tokens":2,"cached_tokens":1}})",
      R"({"choices":[{"message":{"content":"","refusal":"I can't"},"finish_reason":"stop"}]})",
      R"({"choices":[{"message":{"content":"a","content":"b","reasoning_content":"r1","reasoning":"r2"},"finish_reason":1}],"model":3})",
      R"({"choices":[{"message":null,"finish_reason":"length"}],"usage":null})",
      R"({"choices":[{"message":"text"}],"usage":{"prompt_tokens":1,"completion_tokens":2}})",
      R"({"choices":["x"]})",
      R"({"choices":[]})",
      R"({"choices":{}})",
      R"({"choices":[{}],"usage":{"prompt_tokens":1}})",
      R"({"choices":[{}],"usage":{"prompt_tokens":-1,"completion_tokens":2}})",
      R"({"choices":[{}],"usage":{"prompt_tokens":1.5,"completion_tokens":2}})",
      R"({"choices":[{}],"usage":{"prompt_tokens":1,"completion_tokens":2},"usage":{"prompt_tokens":7,"completion_tokens":8}})",
      R"([1,2])",
      R"(not json)",
      R"({"choices":[{"message":{"content":"x"}}],"service_tier":"priority","usage":{"prompt_tokens":1,"completion_tokens":2}})",
  };
  for (const auto& entry : std::filesystem::recursive_directory_iterator(test::shared_data("fixtures"))) {
    if (!entry.is_regular_file()) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    bodies.emplace_back((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  }
  std::mt19937 rng(23);
  const std::vector<std::string> pieces = {"{", "}", "[", "]", ",", ":", "\"", "null", "1", "-1", "2.5", "\"x\"", "[]", "{}", " ",
                                R"("content":)", R"("refusal":"no",)", R"("reasoning":"r",)", R"("usage":)", R"("choices":)",
                                R"("message":)", R"("finish_reason":)", R"("prompt_tokens":)", R"("service_tier":"flex",)"};
  const std::string seed = bodies[0];
  for (int trial = 0; trial < 4000; ++trial) {
    const std::string t = test::mutate(seed, rng, pieces);
    bodies.push_back(t);
  }
  size_t fast = 0;
  for (const Dialect d : kDialects) {
    const auto adapter = make_openai_chat(d);
    for (const auto& body : bodies) {
      INFO(body.substr(0, 300));
      same(through_adapter(*adapter, body), through_nlohmann(body, d));
      try {
        if (openai_chat_completion_fast(body, d)) ++fast;
      } catch (const BadResponse&) {
        ++fast;  // read, then refused by the usage rules: the same refusal as above
      }
    }
  }
  CHECK(fast > 6 * 1000);  // the fast path is the one most bodies take
}

TEST_CASE("an OpenAI chat request body is the JSON an nlohmann object of the same fields dumps, byte for byte", "[openai][json]") {
  std::vector<ModelParams> params(5);
  params[1].temperature = 0.7, params[1].max_tokens = 256;
  params[2].reasoning_effort = "high", params[2].service_tier = ServiceTier::kFlex, params[2].stream = true;
  params[3].temperature = 1.0, params[3].stream = true, params[3].service_tier = ServiceTier::kPriority, params[3].max_tokens = 0;
  params[4].temperature = 1e-7, params[4].reasoning_effort = "minimal", params[4].max_tokens = 100000;
  const std::vector<std::vector<Message>> asks{
      {{"user", "What is 6 times 7?"}},
      {{"system", "Answer in \"one\" word.\n"}, {"user", "caf\xC3\xA9 \\ \t\x01"}, {"assistant", ""}, {"user", "\xF0\x9F\x98\x80?"}}};
  for (const Dialect d : kDialects) {
    const auto adapter = make_openai_chat(d);
    for (const auto& p : params) {
      for (const auto& messages : asks) {
        ChatRequest req{ModelRef{"openai", "gpt-5.4", p}, messages};
        nlohmann::json want;
        want["model"] = "gpt-5.4";
        want["messages"] = nlohmann::json::array();
        for (const auto& m : messages) want["messages"].push_back({{"role", m.role}, {"content", m.content}});
        if (p.temperature) want["temperature"] = *p.temperature;
        if (p.max_tokens) want[d == Dialect::kOpenAI ? "max_completion_tokens" : "max_tokens"] = *p.max_tokens;
        if (!p.reasoning_effort.empty()) want["reasoning_effort"] = p.reasoning_effort;
        if (p.service_tier != ServiceTier::kStandard) want["service_tier"] = to_string(p.service_tier);
        if (p.stream) want["stream"] = true, want["stream_options"] = {{"include_usage", true}};
        const HttpRequest h = adapter->build(req, "sk-test", "http://127.0.0.1:1/v1");
        CHECK(h.body == want.dump());
        CHECK(h.url == "http://127.0.0.1:1/v1/chat/completions");
      }
    }
  }
  const auto adapter = make_openai_chat(Dialect::kOpenAI);
  CHECK(adapter->build(ChatRequest{ModelRef{"openai", "gpt-5.4", params[1]}, asks[0]}, "", "b").body ==
        "{\"max_completion_tokens\":256,\"messages\":[{\"content\":\"What is 6 times 7?\",\"role\":\"user\"}],\"model\":\"gpt-5.4\",\"temperature\":0.7}");
  ChatRequest bad{ModelRef{"openai", "gpt-5.4", {}}, {{"user", "cut \xC3"}}};
  CHECK_THROWS_AS(adapter->build(bad, "", "b"), nlohmann::json::exception);  // as dumping it threw
}

}  // namespace reckon
