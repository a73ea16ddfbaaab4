// Every recording of the AI SDK's provider packages (../shared/data/fixtures/vercel-ai, MANIFEST.tsv) is
// accounted for: replayed through the adapter that speaks its API, or named here with the reason reckon
// does not speak it, so a new file cannot be silently ignored. Replayed files must end as a success with
// usage that obeys the normalized rules, or as a recorded error with its cause — never a crash, never usage
// made up. (Field-by-field values for a hand-checked subset: usage_test.cpp.)
#include <catch2/catch.hpp>
#include <cstdlib>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>

#include "providers/client.h"
#include "tests/loopback_server.h"
#include "tests/support.h"

using namespace reckon;

namespace {

// The API a recording speaks, from the upstream path its package keeps it under.
struct Route {
  const char* provider = nullptr;  // reckon's provider; nullptr: not spoken
  const char* api = "chat";
  bool event_names = false;  // SSE with `event:` lines (Anthropic, OpenAI Responses)
  bool done = false;         // OpenAI Chat-style streams end with data: [DONE]
  std::string why_not;       // when not spoken
};

Route route_of(const std::string& name, const std::string& upstream) {
  const std::string package = name.substr(0, name.find("__"));
  auto has = [&](const char* s) { return upstream.find(s) != std::string::npos; };
  Route r;
  if (name.size() < 5 || (!has(".json") && !has(".chunks.txt"))) {
    r.why_not = "not a recorded HTTP body (test source or script)";
    return r;
  }
  if (has("/reranking/")) {
    r.why_not = "a reranking API, not chat";
    return r;
  }
  if (has("/skills/")) {
    r.why_not = "the Skills management API (create / version), not a model answer";
    return r;
  }
  if (has("/interactions/")) {
    r.why_not = "Gemini's Interactions API (reckon speaks generateContent / streamGenerateContent)";
    return r;
  }
  // Azure OpenAI's recordings are Responses API exchanges; xAI's Responses endpoint is OpenAI-compatible.
  if (package == "azure" && name.find("deepseek") != std::string::npos) return {"openai", "chat", false, true, ""};
  if (package == "openai" || package == "azure" || package == "open-responses" || (package == "xai" && has("/responses/"))) {
    if (has("/completion/")) {
      r.why_not = "the legacy Completions API (reckon sends Chat Completions and Responses)";
      return r;
    }
    if (has("/chat/")) return {"openai", "chat", false, true, ""};
    return {"openai", "responses", true, false, ""};
  }
  if (package == "anthropic") return {"anthropic", "chat", true, false, ""};
  if (package == "google") return {"gemini", "chat", false, false, ""};
  if (package == "deepseek") return {"deepseek", "chat", false, true, ""};
  if (package == "moonshotai") return {"moonshot", "chat", false, true, ""};
  // xAI's Chat Completions, also as recorded by the OpenAI-compatible package: reasoning outside completion_tokens.
  if (package == "xai" || (package == "openai-compatible" && name.find("__xai-") != std::string::npos))
    return {"xai", "chat", false, true, ""};
  // Chat Completions-compatible servers, spoken through the OpenAI-compatible adapter with a base URL.
  if (package == "groq" || package == "mistral" || package == "alibaba" || package == "togetherai" ||
      package == "perplexity" || package == "openai-compatible")
    return {"vllm", "chat", false, true, ""};
  static const std::map<std::string, std::string> unspoken = {
      {"amazon-bedrock", "Bedrock Converse / InvokeModel wire format (AWS SigV4); not a reckon provider"},
      {"cohere", "Cohere v2 chat wire format; not a reckon provider"},
      {"gladia", "speech-to-text API, not chat"},
      {"revai", "speech-to-text API, not chat"},
      {"voyage", "embeddings API, not chat"},
      {"harness-claude-code", "an agent harness's transcript, not a provider API"},
      {"langchain", "a framework's test source, not a provider API"},
      {"mcp", "Model Context Protocol, not a provider API"},
      {"quiverai", "image generation API, not chat"},
  };
  auto it = unspoken.find(package);
  r.why_not = it != unspoken.end() ? it->second : "";
  return r;
}

// Recordings that must end as a recorded error, and why. A file that fails and is not here, or is here and
// succeeds, fails the test: the list is kept true as adapters change.
const std::map<std::string, std::string> kExpectedErrors = {
    {"openai__openai-error.1.json", "an error object, served here with status 200: no output"},
    {"openai__openai-error.1.chunks.txt", "an insufficient_quota error event inside the stream"},
    {"openai__reasoning-model-legacy-parameter-error.json", "an error object (unsupported max_tokens for a reasoning model)"},
    {"openai__reasoning-model-temperature-error.json", "an error object (unsupported temperature)"},
    {"openai__parallel-tool-call-wrapper.1.chunks.txt", "the recording's own response.created / completed JSON is malformed"},
    {"google__google-429-retry-info.json", "a 429 RESOURCE_EXHAUSTED body with RetryInfo"},
};

// Input and output tokens (thinking included) of a plain JSON body, read by the provider's documented rule
// — independently of the adapters — or nothing when the body carries no usage.
struct Expected {
  int64_t input = 0, output = 0;
};
std::optional<Expected> documented_usage(const Route& route, const nlohmann::json& body) {
  auto num = [](const nlohmann::json& o, const char* k) -> int64_t {
    return o.contains(k) && o[k].is_number_integer() ? o[k].get<int64_t>() : 0;
  };
  const std::string provider = route.provider;
  if (provider == "gemini") {
    // totalTokenCount = promptTokenCount + toolUsePromptTokenCount + candidatesTokenCount + thoughtsTokenCount:
    // tool-use prompt tokens are billed as input, thoughts as output (candidates exclude them).
    if (!body.contains("usageMetadata")) return std::nullopt;
    const auto& u = body["usageMetadata"];
    return Expected{num(u, "promptTokenCount") + num(u, "toolUsePromptTokenCount"),
                    num(u, "candidatesTokenCount") + num(u, "thoughtsTokenCount")};
  }
  if (!body.contains("usage") || !body["usage"].is_object()) return std::nullopt;
  const auto& u = body["usage"];
  if (provider == "anthropic") {  // input_tokens excludes cache reads and writes
    if (u.contains("iterations")) return std::nullopt;  // compaction: per-iteration sums (usage_test.cpp)
    return Expected{num(u, "input_tokens") + num(u, "cache_read_input_tokens") + num(u, "cache_creation_input_tokens"),
                    num(u, "output_tokens")};
  }
  if (std::string(route.api) == "responses") return Expected{num(u, "input_tokens"), num(u, "output_tokens")};
  int64_t output = num(u, "completion_tokens");
  if (provider == "xai" && u.contains("completion_tokens_details"))  // xAI: reasoning outside completion_tokens
    output += num(u["completion_tokens_details"], "reasoning_tokens");
  return Expected{num(u, "prompt_tokens"), output};
}

// The visible answer and finish reason of a plain JSON body, by each API's documented shape.
struct Answer {
  std::string text, finish;
};
std::optional<Answer> documented_answer(const Route& route, const nlohmann::json& body) {
  auto str = [](const nlohmann::json& o, const char* k) {
    return o.is_object() && o.contains(k) && o[k].is_string() ? o[k].get<std::string>() : std::string();
  };
  const std::string provider = route.provider;
  Answer a;
  if (provider == "gemini") {  // candidates[0].content.parts[].text, thought parts apart
    if (body.contains("promptFeedback") && body["promptFeedback"].contains("blockReason") &&
        (!body.contains("candidates") || body["candidates"].empty()))
      return Answer{"", "blocked"};  // the prompt refused: an answer with no text (reckon's name for it)
    if (!body.contains("candidates") || !body["candidates"].is_array() || body["candidates"].empty()) return std::nullopt;
    const auto& cand = body["candidates"][0];
    if (cand.contains("content") && cand["content"].contains("parts"))
      for (const auto& part : cand["content"]["parts"])
        if (!part.value("thought", false)) a.text += str(part, "text");
    a.finish = str(cand, "finishReason");
    return a;
  }
  if (provider == "anthropic") {  // content[] blocks of type text; stop_reason
    if (!body.contains("content") || !body["content"].is_array()) return std::nullopt;
    for (const auto& block : body["content"])
      if (str(block, "type") == "text") a.text += str(block, "text");
    a.finish = str(body, "stop_reason");
    return a;
  }
  if (std::string(route.api) == "responses") {  // output[] messages' output_text parts; status or the incomplete reason
    if (!body.contains("output") || !body["output"].is_array()) return std::nullopt;
    for (const auto& item : body["output"])
      if (str(item, "type") == "message" && item.contains("content") && item["content"].is_array())
        for (const auto& part : item["content"])
          if (str(part, "type") == "output_text") a.text += str(part, "text");
    a.finish = str(body, "status");
    if (a.finish == "incomplete" && body.contains("incomplete_details")) a.finish = str(body["incomplete_details"], "reason");
    return a;
  }
  if (!body.contains("choices") || !body["choices"].is_array() || body["choices"].empty()) return std::nullopt;
  const auto& choice = body["choices"][0];  // choices[0].message.content; finish_reason
  if (choice.contains("message")) a.text = str(choice["message"], "content");
  a.finish = str(choice, "finish_reason");
  return a;
}

// What a stream's chunks add up to by each API's documented rules: the usage that counts (OpenAI Chat:
// the chunk that carries it, choices:[] or the last content chunk, or inside the choice for Kimi; Responses:
// response.completed; Anthropic: message_start's usage with message_delta's fields over it; Gemini: the last
// usageMetadata, cumulative), the visible text of the deltas and the last finish reason.
struct StreamTotals {
  std::optional<Expected> usage;
  std::optional<Answer> answer;
};
StreamTotals documented_stream(const Route& route, const std::string& path) {
  std::ifstream in(path);
  std::vector<nlohmann::json> chunks;
  for (std::string line; std::getline(in, line);) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (!j.is_discarded() && j.is_object()) chunks.push_back(std::move(j));
  }
  auto str = [](const nlohmann::json& o, const char* k) {
    return o.is_object() && o.contains(k) && o[k].is_string() ? o[k].get<std::string>() : std::string();
  };
  const std::string provider = route.provider;
  StreamTotals t;
  Answer a;
  if (std::string(route.api) == "responses") {
    for (const auto& c : chunks) {
      const std::string type = str(c, "type");
      if ((type == "response.completed" || type == "response.incomplete") && c.contains("response")) {
        t.usage = documented_usage(route, c["response"]);
        t.answer = documented_answer(route, c["response"]);
      }
    }
    return t;
  }
  if (provider == "anthropic") {
    nlohmann::json usage = nlohmann::json::object();
    for (const auto& c : chunks) {
      const std::string type = str(c, "type");
      if (type == "message_start" && c.contains("message") && c["message"].contains("usage")) usage = c["message"]["usage"];
      if (type == "message_delta") {
        if (c.contains("usage") && c["usage"].is_object())
          for (const auto& [k, v] : c["usage"].items())
            if (!v.is_null()) usage[k] = v;
        if (c.contains("delta")) a.finish = str(c["delta"], "stop_reason");
      }
      if (type == "content_block_delta" && c.contains("delta") && str(c["delta"], "type") == "text_delta") a.text += str(c["delta"], "text");
    }
    t.usage = documented_usage(route, nlohmann::json{{"usage", usage}});
    t.answer = a;
    return t;
  }
  if (provider == "gemini") {
    nlohmann::json last;
    for (const auto& c : chunks) {
      // Interim usageMetadata without promptTokenCount (Vertex) is not the count: the last full one is.
      if (c.contains("usageMetadata") && c["usageMetadata"].contains("promptTokenCount")) last = c["usageMetadata"];
      if (c.contains("promptFeedback") && c["promptFeedback"].contains("blockReason")) a.finish = "blocked";
      if (!c.contains("candidates") || !c["candidates"].is_array() || c["candidates"].empty()) continue;
      const auto& cand = c["candidates"][0];
      if (cand.contains("content") && cand["content"].contains("parts"))
        for (const auto& part : cand["content"]["parts"])
          if (!part.value("thought", false)) a.text += str(part, "text");
      if (!str(cand, "finishReason").empty()) a.finish = str(cand, "finishReason");
    }
    if (!last.is_null()) t.usage = documented_usage(route, nlohmann::json{{"usageMetadata", last}});
    t.answer = a;
    return t;
  }
  nlohmann::json last;
  for (const auto& c : chunks) {
    if (c.contains("usage") && c["usage"].is_object()) last = c["usage"];
    if (!c.contains("choices") || !c["choices"].is_array() || c["choices"].empty()) continue;
    const auto& choice = c["choices"][0];
    if (choice.contains("usage") && choice["usage"].is_object()) last = choice["usage"];
    if (choice.contains("delta")) a.text += str(choice["delta"], "content");
    if (!str(choice, "finish_reason").empty()) a.finish = str(choice, "finish_reason");
  }
  if (!last.is_null()) t.usage = documented_usage(route, nlohmann::json{{"usage", last}});
  t.answer = a;
  return t;
}

}  // namespace

TEST_CASE("every recording of the AI SDK's providers is replayed through its adapter or named with a reason", "[providers][recordings]") {
  const std::string dir = test::shared_data("fixtures/vercel-ai");
  std::ifstream manifest(dir + "/MANIFEST.tsv");
  REQUIRE(manifest.good());
  std::vector<std::pair<std::string, std::string>> files;
  for (std::string line; std::getline(manifest, line);) {
    std::istringstream f(line);
    std::string name, upstream;
    std::getline(f, name, '\t');
    std::getline(f, upstream, '\t');
    if (!name.empty()) files.emplace_back(name, upstream);
  }
  REQUIRE(files.size() >= 280);

  test::LoopbackServer server;
  FakeClock clock;
  size_t replayed = 0, unspoken = 0, succeeded = 0, checked_by_rule = 0, answers_checked = 0;
  std::map<std::string, size_t> errors_by_class;
  for (const auto& [name, upstream] : files) {
    const Route route = route_of(name, upstream);
    INFO(name << " (" << upstream << ")");
    if (!route.provider) {
      CHECK_FALSE(route.why_not.empty());  // a new package must be routed or given a reason
      ++unspoken;
      continue;
    }
    const std::string path = dir + "/" + name;
    const bool stream = name.find(".chunks.txt") != std::string::npos;
    test::Scripted s;
    if (stream) {
      s.content_type = "text/event-stream";
      s.chunks = test::sse_from_chunks_file(path, route.event_names, route.done);
    } else {
      s.body = test::read_file(path);
    }
    server.clear_queue();
    server.enqueue(s);
    server.set_default({500, {}, R"({"error":{"message":"asked twice","type":"server_error"}})"});
    ChatRequest req{{route.provider, "recorded-model", {}}, {{"user", "hi"}}};
    req.model.params.base_url = server.base_url();
    req.model.params.api = route.api;
    req.model.params.stream = stream;
    ClientOptions o;
    o.max_attempts = 1;  // one recording, one answer: what reckon makes of it, not of a retry
    ModelClient client(o, clock);
    CallResult got;
    bool answered = false;
    REQUIRE_NOTHROW(client.submit(req, 0, [&](const ChatRequest&, const CallResult& r) {
      got = r;
      answered = true;
    }));
    REQUIRE_NOTHROW(client.run());
    REQUIRE(answered);
    ++replayed;
    const Usage& u = got.completion.usage;
    if (got.ok) {
      ++succeeded;
      if (stream) {
        const StreamTotals want = documented_stream(route, path);
        if (want.usage) {
          ++checked_by_rule;
          CHECK(u.input_tokens == want.usage->input);
          CHECK(u.output_tokens == want.usage->output);
        }
        if (want.answer) {
          ++answers_checked;
          CHECK(got.completion.text == want.answer->text);
          CHECK(got.completion.finish_reason == want.answer->finish);
        }
      } else {
        const auto body = nlohmann::json::parse(s.body, nullptr, false);
        if (auto want = body.is_discarded() ? std::nullopt : documented_usage(route, body)) {
          ++checked_by_rule;
          CHECK(u.input_tokens == want->input);
          CHECK(u.output_tokens == want->output);
        }
        if (auto want = body.is_discarded() ? std::nullopt : documented_answer(route, body)) {
          ++answers_checked;
          CHECK(got.completion.text == want->text);
          CHECK(got.completion.finish_reason == want->finish);
        }
      }
      // The normalized rules hold for whatever the recording said.
      CHECK(u.input_tokens >= 0);
      CHECK(u.output_tokens >= 0);
      CHECK(u.cache_read_tokens <= u.input_tokens);
      CHECK(u.cache_read_tokens + u.cache_write_tokens() <= u.input_tokens);
      if (u.reasoning_tokens) CHECK(*u.reasoning_tokens <= u.output_tokens);
      CHECK(kExpectedErrors.count(name) == 0);  // listed as failing, but it succeeds: update the list
    } else {
      INFO(to_string(got.error_class) << ": " << got.error);
      CHECK(kExpectedErrors.count(name) == 1);  // a failure nobody has explained
      CHECK_FALSE(got.error.empty());  // a failure names its cause
      CHECK(got.error_class != ErrorClass::kNone);
      ++errors_by_class[to_string(got.error_class)];
      if (std::getenv("RECKON_LIST_RECORDINGS")) WARN(name << ": " << to_string(got.error_class) << ": " << got.error);
    }
  }
  CHECK(replayed + unspoken == files.size());
  CHECK(replayed >= 200);
  CHECK(checked_by_rule >= 190);
  CHECK(answers_checked == succeeded);  // every success, plain or streamed
  std::string classes;
  for (const auto& [c, n] : errors_by_class) classes += " " + c + " " + std::to_string(n);
  WARN("recordings: " << files.size() << " files, " << replayed << " replayed (" << succeeded << " succeeded, " << checked_by_rule << " of them checked by the documented usage rule, " << answers_checked << " by text and finish reason;" << classes
                      << "), " << unspoken << " not spoken");
}
