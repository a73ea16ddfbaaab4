// Every recorded provider body, plain and streamed, served by a loopback server and read by
// reckon: the normalized usage is checked field by field (DuckDB-style table of cases).
#include <catch2/catch.hpp>

#include "pricing/catalog.h"
#include "pricing/cost.h"
#include "providers/client.h"
#include "tests/loopback_server.h"
#include "tests/support.h"

using namespace reckon;
using test::Scripted;

namespace {

struct Case {
  const char* name;
  const char* provider;
  const char* model;
  const char* api;      // openai: chat | responses
  const char* fixture;  // under shared/data/fixtures
  bool stream;
  bool event_names;     // re-add `event:` lines (Anthropic, OpenAI Responses)
  bool done;            // append data: [DONE] (OpenAI Chat)
  int64_t input, cache_read, cache_write, output;
  int64_t reasoning;    // -1: unknown (NULL)
  double provider_cost; // -1: none
  const char* text_start;
};

const Case kCases[] = {
    {"OpenAI chat (gpt-4.1-nano)", "openai", "gpt-4.1-nano", "chat", "vercel-ai/openai__openai-text.json", false, false, false,
     16, 0, 0, 363, 0, -1, ""},
    {"OpenAI chat, API reference example", "openai", "gpt-5.4", "chat", "openai/chat_completions_default.response.json", false,
     false, false, 19, 0, 0, 10, 0, -1, "Hello! How can I assist"},
    {"OpenAI chat stream: usage in the final choices:[] chunk", "openai", "gpt-4.1-nano", "chat",
     "vercel-ai/openai__openai-text.chunks.txt", true, false, true, 16, 0, 0, 300, 0, -1, ""},
    {"OpenAI chat stream without usage details (2024 recording)", "openai", "gpt-4o", "chat",
     "transcribed/openai_chat_stream_usage_chunk.langchain_recording_2024-07.jsonl", true, false, true, 14, 0, 0, 3, -1, -1, ""},
    {"OpenAI Responses: reasoning example", "openai", "o1", "responses", "openai/responses_reasoning.response.json", false, false,
     false, 81, 0, 0, 1035, 832, -1, "The classic tongue twister"},
    {"OpenAI Responses: gpt-5-mini high effort", "openai", "gpt-5-mini", "responses",
     "vercel-ai/openai__openai-reasoning-encrypted-content.1.json", false, false, false, 865, 0, 0, 163, 128, -1, ""},
    {"OpenAI Responses stream: usage in response.completed", "openai", "gpt-5-mini", "responses",
     "vercel-ai/openai__openai-reasoning-encrypted-content.1.chunks.txt", true, true, false, 299, 0, 0, 12, 0, -1,
     "The final result is **570**."},
    {"Anthropic text: thinking unknown, not zero", "anthropic", "claude-sonnet-4-5", "chat",
     "vercel-ai/anthropic__anthropic-text.json", false, false, false, 12, 0, 0, 29, -1, -1, "Hello! I'm doing well"},
    {"Anthropic opus-5: output_tokens_details.thinking_tokens", "anthropic", "claude-opus-5", "chat",
     "vercel-ai/anthropic__anthropic-claude-opus-5-reasoning-high.1.json", false, false, false, 51, 0, 0, 1699, 139, -1, ""},
    {"Anthropic thinking without the breakdown", "anthropic", "claude-sonnet-4-5", "chat",
     "vercel-ai/anthropic__anthropic-clear-thinking.1.json", false, false, false, 69, 0, 0, 33, -1, -1, "925 ÷ 5 = 185"},
    {"Anthropic compaction: executor iterations summed", "anthropic", "claude-sonnet-4-5", "chat",
     "vercel-ai/anthropic__anthropic-compaction.1.json", false, false, false, 60385 + 682, 0, 0, 592 + 1320, -1, -1, ""},
    {"Anthropic stream: cumulative message_delta", "anthropic", "claude-sonnet-4-5", "chat",
     "vercel-ai/anthropic__anthropic-text.chunks.txt", true, true, false, 12, 0, 0, 30, -1, -1, "Hello! I'm doing well"},
    {"Anthropic stream: delta input tokens win over message_start", "anthropic", "claude-opus-4-6", "chat",
     "vercel-ai/anthropic__anthropic-message-delta-input-tokens.chunks.txt", true, true, false, 61, 0, 0, 2, -1, -1, "pong"},
    {"Anthropic stream: cache read and write in the final delta", "anthropic", "claude-sonnet-5", "chat",
     "vercel-ai/anthropic__anthropic-code-execution-20260120-prompt-cache.1.chunks.txt", true, true, false, 6 + 6289 + 3337,
     6289, 3337, 198, 0, -1, ""},
    {"Anthropic stream with thinking deltas", "anthropic", "claude-sonnet-4-5", "chat",
     "vercel-ai/anthropic__anthropic-clear-thinking.1.chunks.txt", true, true, false, 69, 0, 0, 53, -1, -1, ""},
    {"Anthropic docs streaming example (old delta shape)", "anthropic", "claude-sonnet-4-5", "chat",
     "transcribed/anthropic_streaming_docs_example.sse.txt", true, false, false, 25, 0, 0, 15, -1, -1, "Hello!"},
    {"Gemini 3: thoughtsTokenCount outside candidatesTokenCount", "gemini", "gemini-3.1-pro-preview", "chat",
     "vercel-ai/google__google-reasoning-gemini3.json", false, false, false, 9, 0, 0, 29 + 258, 258, -1, "There are **3**"},
    {"Gemini text", "gemini", "gemini-3.1-pro-preview", "chat", "vercel-ai/google__google-text.json", false, false, false, 9, 0,
     0, 28 + 244, 244, -1, ""},
    {"Gemini stream: cumulative usageMetadata, last chunk wins", "gemini", "gemini-3.1-pro-preview", "chat",
     "vercel-ai/google__google-reasoning-gemini3.chunks.txt", true, false, false, 9, 0, 0, 23 + 302, 302, -1, "There are **3**"},
    // ^ the last chunk's usageMetadata: promptTokenCount 9, candidatesTokenCount 23, thoughtsTokenCount 302
    //   (totalTokenCount 334 = 9 + 23 + 302); output is candidates + thoughts by Gemini's documented rule.
    {"DeepSeek reasoner: cache hit tokens, reasoning inside completion", "deepseek", "deepseek-reasoner", "chat",
     "vercel-ai/deepseek__deepseek-reasoning.json", false, false, false, 18, 0, 0, 345, 315, -1, "The word"},
    {"DeepSeek stream: usage on the last content chunk", "deepseek", "deepseek-reasoner", "chat",
     "vercel-ai/deepseek__deepseek-reasoning.chunks.txt", true, false, true, 18, 0, 0, 219, 205, -1, ""},
    {"xAI: reasoning outside completion_tokens, cost ticks", "xai", "grok-3-mini", "chat", "vercel-ai/xai__xai-text.json",
     false, false, false, 12, 2, 0, 229, 228, 1176500e-10, "Hello"},
    {"xAI stream", "xai", "grok-3-mini", "chat", "vercel-ai/xai__xai-text.chunks.txt", true, false, true, 12, 11, 0, 291, 290,
     1466250e-10, ""},
    {"Kimi: top-level cached_tokens", "moonshot", "kimi-k2.5", "chat", "vercel-ai/moonshotai__moonshotai-reasoning.json", false,
     false, false, 20, 10, 0, 30, 22, -1, "There are three."},
    {"Kimi stream", "moonshot", "kimi-k2.5", "chat", "vercel-ai/moonshotai__moonshotai-stream.chunks.txt", true, false, true, 9,
     0, 0, 12, 7, -1, "Hello!"},
    {"OpenRouter: usage.cost is the billed cost", "openrouter", "gpt-5-mini", "chat", "transcribed/openrouter_usage_chunk.docs.json",
     true, false, true, 194, 0, 100, 2, 0, 0.95, ""},
};

Scripted scripted(const Case& c) {
  std::string path = test::shared_data(std::string("fixtures/") + c.fixture);
  Scripted s;
  if (!c.stream) {
    s.body = test::read_file(path);
    return s;
  }
  s.content_type = "text/event-stream";
  std::string raw = test::read_file(path);
  if (raw.find("data:") != std::string::npos && raw.find("event:") != std::string::npos) {
    s.chunks = {raw};  // already on the wire format
  } else if (std::string(c.fixture).find("openrouter") != std::string::npos) {
    auto j = nlohmann::json::parse(raw);
    s.chunks = {"data: " + j.dump() + "\n\n", "data: [DONE]\n\n"};
  } else {
    s.chunks = test::sse_from_chunks_file(path, c.event_names, c.done);
  }
  return s;
}

}  // namespace

TEST_CASE("every recorded provider body yields the normalized usage, field by field", "[providers][usage]") {
  test::LoopbackServer server;
  FakeClock clock;
  PriceCatalog catalog = PriceCatalog::builtin();
  for (const Case& c : kCases) {
    DYNAMIC_SECTION(c.name) {
      server.enqueue(scripted(c));
      ChatRequest req{{c.provider, c.model, {}}, {{"user", "hi"}}};
      req.model.params.base_url = server.base_url();
      req.model.params.api = c.api;
      req.model.params.stream = c.stream;
      ModelClient client({}, clock);
      CallResult got;
      client.submit(req, 0, [&](const ChatRequest&, const CallResult& r) { got = r; });
      client.run();
      INFO(got.error);
      REQUIRE(got.ok);
      CHECK(got.attempts == 1);
      const Usage& u = got.completion.usage;
      CHECK(u.usage_complete);
      CHECK(u.input_tokens == c.input);
      CHECK(u.cache_read_tokens == c.cache_read);
      CHECK(u.cache_write_tokens() == c.cache_write);
      CHECK(u.output_tokens == c.output);
      if (c.reasoning < 0) {
        CHECK_FALSE(u.reasoning_tokens.has_value());
      } else {
        REQUIRE(u.reasoning_tokens.has_value());
        CHECK(*u.reasoning_tokens == c.reasoning);
      }
      if (c.provider_cost < 0) {
        CHECK_FALSE(u.provider_cost_usd.has_value());
      } else {
        REQUIRE(u.provider_cost_usd.has_value());
        CHECK(*u.provider_cost_usd == Approx(c.provider_cost));
      }
      CHECK(got.completion.text.rfind(c.text_start, 0) == 0);
      if (c.stream) CHECK(got.ttft_ms.has_value() == !got.completion.text.empty());
      // And a cost, whenever reckon has a price for the model.
      if (const PriceEntry* e = catalog.find(std::string(c.provider) + ":" + c.model, "2026-11-28")) {
        CostBreakdown cb = cost(u, *e);
        REQUIRE(cb.total_usd.has_value());
        CHECK(*cb.total_usd > 0);
        if (std::string(c.provider) == "xai") CHECK(*cb.total_usd == Approx(*u.provider_cost_usd));
      }
    }
  }
}

TEST_CASE("requests carry each provider's parameters and auth header", "[providers]") {
  test::LoopbackServer server;
  FakeClock clock;
  server.set_default({200, {}, test::read_file(test::shared_data("fixtures/vercel-ai/anthropic__anthropic-text.json"))});
  ChatRequest req{{"anthropic", "claude-opus-4-6", {}}, {{"system", "be brief"}, {"user", "hi"}}};
  req.model.params.base_url = server.base_url();
  req.model.params.thinking_budget = 2048;
  setenv("ANTHROPIC_API_KEY", "sk-ant-test-SENTINEL", 1);
  ModelClient client({}, clock);
  client.submit(req, 0, [](const ChatRequest&, const CallResult&) {});
  client.run();
  auto seen = server.requests();
  REQUIRE(seen.size() == 1);
  CHECK(seen[0].path == "/v1/messages");
  CHECK(seen[0].headers.find("x-api-key")->second == "sk-ant-test-SENTINEL");
  auto body = nlohmann::json::parse(seen[0].body);
  CHECK(body["system"] == "be brief");
  CHECK(body["thinking"]["budget_tokens"] == 2048);
  CHECK(body["max_tokens"].get<int64_t>() > 2048);
  CHECK(body["messages"].size() == 1);
  unsetenv("ANTHROPIC_API_KEY");

  ChatRequest o{{"openai", "gpt-5-mini", {}}, {{"user", "hi"}}};
  o.model.params.base_url = server.base_url();
  o.model.params.reasoning_effort = "high";
  o.model.params.max_tokens = 100;
  o.model.params.stream = true;
  server.set_default({200, {}, "", test::sse_from_chunks_file(test::shared_data("fixtures/vercel-ai/openai__openai-text.chunks.txt"), false, true), "text/event-stream"});
  ModelClient c2({}, clock);
  c2.submit(o, 0, [](const ChatRequest&, const CallResult&) {});
  c2.run();
  auto ob = nlohmann::json::parse(server.requests().back().body);
  CHECK(server.requests().back().path == "/chat/completions");
  CHECK(ob["reasoning_effort"] == "high");
  CHECK(ob["max_completion_tokens"] == 100);
  CHECK(ob["stream_options"]["include_usage"] == true);

  ChatRequest g{{"gemini", "gemini-3-flash-preview", {}}, {{"user", "hi"}}};
  g.model.params.base_url = server.base_url();
  g.model.params.reasoning_effort = "low";
  g.model.params.stream = true;
  ModelClient c3({}, clock);
  c3.submit(g, 0, [](const ChatRequest&, const CallResult&) {});
  c3.run();
  CHECK(server.requests().back().path == "/v1beta/models/gemini-3-flash-preview:streamGenerateContent");
  CHECK(nlohmann::json::parse(server.requests().back().body)["generationConfig"]["thinkingConfig"]["thinkingLevel"] == "low");
}
