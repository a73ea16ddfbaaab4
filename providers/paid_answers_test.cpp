// A 200 answer is paid for: reckon never sends it again unless the bytes prove it is not the provider's
// answer, and keeps its usage wherever it arrived. Each shape below is hand-written after one seen in real
// traffic (issue #20); the loopback server counts how often each request is asked.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "pricing/catalog.h"
#include "pricing/cost.h"
#include "providers/client.h"
#include "tests/loopback_server.h"
#include "tests/support.h"

using namespace reckon;
using test::Scripted;

namespace {

struct Asked {
  CallResult result;
  size_t requests = 0;  // what the server was asked (each one billed)
};

// One call of `provider` (plain or streamed) against a server that answers `reply` every time.
Asked ask(const std::string& provider, const Scripted& reply, bool stream, const std::string& api = "chat") {
  test::LoopbackServer s;
  s.set_default(reply);
  FakeClock clock;
  ClientOptions o;
  o.max_attempts = 4;
  o.seed = 3;
  ModelClient client(o, clock);
  ChatRequest req{{provider, "some-model", {}}, {{"user", "hi"}}};
  req.model.params.base_url = s.base_url();
  req.model.params.stream = stream;
  req.model.params.api = api;
  Asked a;
  client.submit(req, 0, [&](const ChatRequest&, const CallResult& r) { a.result = r; });
  client.run();
  a.requests = s.request_count();
  return a;
}

Scripted sse(const std::vector<std::string>& payloads, bool done = true) {
  Scripted s;
  s.content_type = "text/event-stream";
  for (const auto& p : payloads) s.chunks.push_back("data: " + p + "\n\n");
  if (done) s.chunks.push_back("data: [DONE]\n\n");
  return s;
}

}  // namespace

TEST_CASE("a prompt Gemini blocks is an answer: asked once, usage kept, finish reason blocked", "[paid]") {
  const std::string blocked =
      R"({"promptFeedback":{"blockReason":"SAFETY"},"usageMetadata":{"promptTokenCount":12,"totalTokenCount":12},"modelVersion":"gemini-x"})";
  for (bool stream : {false, true}) {
    INFO((stream ? "streamed" : "plain"));
    Asked a = ask("gemini", stream ? sse({blocked}, false) : Scripted{200, {}, blocked}, stream);
    CHECK(a.requests == 1);
    REQUIRE(a.result.ok);
    CHECK(a.result.completion.finish_reason == "blocked");
    CHECK(a.result.completion.text.empty());
    CHECK(a.result.completion.usage.usage_complete);
    CHECK(a.result.completion.usage.input_tokens == 12);
    CHECK(a.result.completion.usage.output_tokens == 0);
  }
}

TEST_CASE("usage that breaks a rule is kept as reported and flagged, not retried", "[paid]") {
  // OpenRouter routing to Gemini: 2,161 cached and 2,161 written of 2,168 prompt tokens.
  const std::string body =
      R"({"id":"gen-1","choices":[{"index":0,"message":{"role":"assistant","content":"Paris."},"finish_reason":"stop"}],)"
      R"("usage":{"prompt_tokens":2168,"completion_tokens":3,"prompt_tokens_details":{"cached_tokens":2161,"cache_write_tokens":2161},"cost":0.000497}})";
  Asked a = ask("openrouter", {200, {}, body}, false);
  CHECK(a.requests == 1);
  REQUIRE(a.result.ok);
  const Usage& u = a.result.completion.usage;
  CHECK(u.input_tokens == 2168);
  CHECK(u.cache_read_tokens == 2161);
  CHECK(u.cache_write_5m_tokens == 2161);
  CHECK(*u.provider_cost_usd == Approx(0.000497));
  CHECK(usage_inconsistency(u).has_value());
  // A stream that reports 11 reasoning tokens of 10 completion tokens.
  Asked b = ask("openrouter",
                sse({R"({"choices":[{"index":0,"delta":{"content":"ok"},"finish_reason":null}]})",
                     R"({"choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":{"prompt_tokens":20,"completion_tokens":10,"completion_tokens_details":{"reasoning_tokens":11}}})"}),
                true);
  CHECK(b.requests == 1);
  REQUIRE(b.result.ok);
  CHECK(*b.result.completion.usage.reasoning_tokens == 11);
  CHECK(b.result.completion.usage.output_tokens == 10);
  CHECK(*usage_inconsistency(b.result.completion.usage) == "reasoning tokens (11) exceed output tokens (10)");
}

TEST_CASE("an error beside usage at the end of a stream: the usage is kept and the request is not asked again", "[paid]") {
  // OpenRouter: finish_reason length, then a last chunk with an error and the billed usage.
  Asked a = ask("openrouter",
                sse({R"({"choices":[{"index":0,"delta":{"content":"The answer is"},"finish_reason":null}]})",
                     R"({"choices":[{"index":0,"delta":{},"finish_reason":"length"}]})",
                     R"({"choices":[],"error":{"code":"invalid_request_error","message":"Token limit reached"},"usage":{"prompt_tokens":50,"completion_tokens":64,"cost":0.0002}})"}),
                true);
  CHECK(a.requests == 1);
  CHECK_FALSE(a.result.ok);
  CHECK(a.result.error_class == ErrorClass::kClient);
  CHECK(a.result.error.find("Token limit reached") != std::string::npos);
  const Usage& u = a.result.completion.usage;
  REQUIRE(u.usage_complete);  // billed: its cost is known, not dropped
  CHECK(u.input_tokens == 50);
  CHECK(u.output_tokens == 64);
  CHECK(*u.provider_cost_usd == Approx(0.0002));
  CHECK(a.result.completion.finish_reason == "length");
}

TEST_CASE("Gemini streams with interim usageMetadata lacking promptTokenCount read the final count", "[paid]") {
  Asked a = ask("gemini",
                sse({R"({"candidates":[{"content":{"role":"model","parts":[{"text":"Hel"}]}}],"usageMetadata":{"trafficType":"ON_DEMAND"}})",
                     R"({"candidates":[{"content":{"role":"model","parts":[{"text":"lo"}]},"finishReason":"STOP"}],"usageMetadata":{"promptTokenCount":26,"candidatesTokenCount":23,"thoughtsTokenCount":132,"totalTokenCount":181}})"},
                    false),
                true);
  CHECK(a.requests == 1);
  REQUIRE(a.result.ok);
  CHECK(a.result.completion.text == "Hello");
  CHECK(a.result.completion.usage.input_tokens == 26);
  CHECK(a.result.completion.usage.output_tokens == 23 + 132);
  CHECK(*a.result.completion.usage.reasoning_tokens == 132);
}

TEST_CASE("errors inside a 200 stream are classified by type: invalid requests once, overloads again", "[paid]") {
  // Groq: an invalid request (tool_use_failed) is deterministic: asking again pays again for the same error.
  Asked groq = ask("vllm",
                   sse({R"({"error":{"message":"Failed to call a function","type":"invalid_request_error","code":"tool_use_failed"}})"},
                       false),
                   true);
  CHECK(groq.requests == 1);
  CHECK(groq.result.error_class == ErrorClass::kClient);
  CHECK(groq.result.error.find("Failed to call a function") != std::string::npos);
  // Anthropic: overloaded_error mid-stream is the provider's trouble: asked again, up to the attempts.
  Scripted overloaded;
  overloaded.content_type = "text/event-stream";
  overloaded.chunks = {"event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"model\":\"m\",\"usage\":{\"input_tokens\":5,\"output_tokens\":1}}}\n\n",
                       "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n"};
  Asked anthropic = ask("anthropic", overloaded, true);
  CHECK(anthropic.requests == 4);
  CHECK(anthropic.result.error_class == ErrorClass::kOverloaded);
}

TEST_CASE("a 200 JSON body reckon cannot read as an answer is recorded, never asked again, but bytes that are not JSON are", "[paid]") {
  Asked odd = ask("openai", {200, {}, R"({"id":"x","object":"chat.completion","usage":{"prompt_tokens":7,"completion_tokens":2}})"}, false);
  CHECK(odd.requests == 1);
  CHECK_FALSE(odd.result.ok);
  CHECK(odd.result.error_class == ErrorClass::kBadResponse);
  CHECK(odd.result.completion.usage.usage_complete);  // billed: the usage stays
  CHECK(odd.result.completion.usage.input_tokens == 7);
  // An error object served with 200: classified like the HTTP error it names.
  Asked err = ask("openai", {200, {}, R"({"error":{"message":"Unsupported parameter","type":"invalid_request_error"}})"}, false);
  CHECK(err.requests == 1);
  CHECK(err.result.error_class == ErrorClass::kClient);
  Asked busy = ask("openai", {200, {}, R"({"error":{"message":"The server is overloaded","type":"server_error"}})"}, false);
  CHECK(busy.requests == 4);
  // Not JSON at all: not the provider's answer (a proxy page, a cut body): asked again.
  Asked junk = ask("openai", {200, {}, "<html>gateway</html>"}, false);
  CHECK(junk.requests == 4);
  CHECK_FALSE(junk.result.completion.usage.usage_complete);
}

TEST_CASE("refusals are answers: the text is kept and the finish reason says refusal", "[paid]") {
  Asked chat = ask("openai",
                   {200, {}, R"({"choices":[{"index":0,"message":{"role":"assistant","content":null,"refusal":"I can't help with that."},"finish_reason":"stop"}],"usage":{"prompt_tokens":9,"completion_tokens":7}})"},
                   false);
  CHECK(chat.requests == 1);
  REQUIRE(chat.result.ok);
  CHECK(chat.result.completion.text == "I can't help with that.");
  CHECK(chat.result.completion.finish_reason == "refusal");
  Asked resp = ask("openai",
                   {200, {}, R"({"id":"resp_1","status":"completed","output":[{"type":"message","content":[{"type":"refusal","refusal":"No."}]}],"usage":{"input_tokens":9,"output_tokens":2}})"},
                   false, "responses");
  CHECK(resp.requests == 1);
  REQUIRE(resp.result.ok);
  CHECK(resp.result.completion.text == "No.");
  CHECK(resp.result.completion.finish_reason == "refusal");
  Asked streamed = ask("openai",
                       sse({R"({"choices":[{"index":0,"delta":{"refusal":"I can't"},"finish_reason":null}]})",
                            R"({"choices":[{"index":0,"delta":{"refusal":" help."},"finish_reason":"stop"}]})",
                            R"({"choices":[],"usage":{"prompt_tokens":9,"completion_tokens":4}})"}),
                       true);
  REQUIRE(streamed.result.ok);
  CHECK(streamed.result.completion.text == "I can't help.");
  CHECK(streamed.result.completion.finish_reason == "refusal");
}

TEST_CASE("the tier that served a request is the tier it is priced at", "[paid]") {
  // OpenAI says service_tier in the body, Anthropic in usage, Gemini in usageMetadata.
  Asked openai = ask("openai",
                     {200, {}, R"({"choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}],"service_tier":"flex","usage":{"prompt_tokens":9,"completion_tokens":2}})"},
                     false);
  REQUIRE(openai.result.ok);
  CHECK(openai.result.completion.usage.service_tier == ServiceTier::kFlex);
  CHECK(openai.result.completion.usage.service_tier_reported);
  Asked def = ask("openai",
                  {200, {}, R"({"choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}],"service_tier":"default","usage":{"prompt_tokens":9,"completion_tokens":2}})"},
                  false);
  CHECK(def.result.completion.usage.service_tier == ServiceTier::kStandard);
  CHECK(def.result.completion.usage.service_tier_reported);
  Asked anthropic = ask("anthropic",
                        {200, {}, R"({"content":[{"type":"text","text":"hi"}],"stop_reason":"end_turn","usage":{"input_tokens":9,"output_tokens":2,"service_tier":"priority"}})"},
                        false);
  CHECK(anthropic.result.completion.usage.service_tier == ServiceTier::kPriority);
  Asked gemini = ask("gemini",
                     {200, {}, R"({"candidates":[{"content":{"parts":[{"text":"hi"}]},"finishReason":"STOP"}],"usageMetadata":{"promptTokenCount":9,"candidatesTokenCount":2,"serviceTier":"flex"}})"},
                     false);
  CHECK(gemini.result.completion.usage.service_tier == ServiceTier::kFlex);
  // Unsaid: the tier asked for stands (the caller's).
  Asked silent = ask("openai", {200, {}, R"({"choices":[{"index":0,"message":{"content":"hi"},"finish_reason":"stop"}],"usage":{"prompt_tokens":9,"completion_tokens":2}})"}, false);
  CHECK_FALSE(silent.result.completion.usage.service_tier_reported);
}

TEST_CASE("searches are counted for every provider that reports them", "[paid]") {
  // OpenAI Responses: one web_search_call item per search, the context size echoed in the tools.
  Asked openai = ask("openai",
                     {200, {}, R"({"id":"r","status":"completed","tools":[{"type":"web_search","search_context_size":"high"}],)"
                               R"("output":[{"type":"web_search_call","status":"completed"},{"type":"web_search_call","status":"completed"},)"
                               R"({"type":"message","content":[{"type":"output_text","text":"Found it."}]}],"usage":{"input_tokens":30,"output_tokens":5}})"},
                     false, "responses");
  REQUIRE(openai.result.ok);
  CHECK(openai.result.completion.usage.search_requests == 2);
  CHECK(openai.result.completion.usage.search_context_size == "high");
  // Gemini: grounding metadata lists the queries it ran.
  Asked gemini = ask("gemini",
                     {200, {}, R"({"candidates":[{"content":{"parts":[{"text":"Yes."}]},"finishReason":"STOP",)"
                               R"("groundingMetadata":{"webSearchQueries":["a","b","c"]}}],"usageMetadata":{"promptTokenCount":9,"candidatesTokenCount":2}})"},
                     false);
  REQUIRE(gemini.result.ok);
  CHECK(gemini.result.completion.usage.search_requests == 3);
}

TEST_CASE("Anthropic's inference_geo is where the request ran (priced by region)", "[paid]") {
  Asked a = ask("anthropic",
                {200, {}, R"({"content":[{"type":"text","text":"hi"}],"stop_reason":"end_turn","usage":{"input_tokens":9,"output_tokens":2,"inference_geo":"us"}})"},
                false);
  REQUIRE(a.result.ok);
  CHECK(a.result.completion.usage.inference_geo == "us");
  Asked none = ask("anthropic",
                   {200, {}, R"({"content":[{"type":"text","text":"hi"}],"stop_reason":"end_turn","usage":{"input_tokens":9,"output_tokens":2,"inference_geo":"not_available"}})"},
                   false);
  CHECK(none.result.completion.usage.inference_geo.empty());
}

TEST_CASE("OpenAI's audio tokens are read apart from text", "[paid]") {
  Asked a = ask("openai",
                {200, {}, R"({"choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}],)"
                          R"("usage":{"prompt_tokens":1000,"completion_tokens":500,"prompt_tokens_details":{"audio_tokens":600,"cached_tokens":0},)"
                          R"("completion_tokens_details":{"audio_tokens":300,"reasoning_tokens":0}}})"},
                false);
  REQUIRE(a.result.ok);
  CHECK(a.result.completion.usage.audio_input_tokens == 600);
  CHECK(a.result.completion.usage.audio_output_tokens == 300);
}

TEST_CASE("an answer nested 100k levels deep is a bad response, not a crash", "[paid][security]") {
  const std::string deep = "{\"choices\":[{\"message\":{\"content\":\"hi\"},\"finish_reason\":\"stop\"}],\"usage\":" +
                           std::string(100000, '[') + std::string(100000, ']') + "}";
  Asked a = ask("openai", Scripted{200, {}, deep}, false);
  CHECK_FALSE(a.result.ok);
  CHECK(a.result.error.find("not valid JSON") != std::string::npos);
  Asked s = ask("openai", sse({deep}), true);
  CHECK_FALSE(s.result.ok);
}
