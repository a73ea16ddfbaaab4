#include "providers/gemini.h"

#include "providers/retry.h"

namespace reckon {

Usage gemini_usage(const nlohmann::json& u) {
  if (!u.is_object()) throw BadResponse("usageMetadata is not an object");
  Usage out;
  auto prompt = token_field(u, "promptTokenCount");
  if (!prompt) throw BadResponse("usageMetadata lacks promptTokenCount");
  out.input_tokens = *prompt + token_field(u, "toolUsePromptTokenCount").value_or(0);
  out.cache_read_tokens = token_field(u, "cachedContentTokenCount").value_or(0);
  int64_t thoughts = token_field(u, "thoughtsTokenCount").value_or(0);
  out.output_tokens = token_field(u, "candidatesTokenCount").value_or(0) + thoughts;
  out.reasoning_tokens = thoughts;
  read_served_tier(u, "serviceTier", out);
  return out;
}

namespace {

// A prompt refused before any candidate: promptFeedback.blockReason, no candidates (the prompt is billed).
bool blocked(const nlohmann::json& j) {
  const bool no_candidates = !j.contains("candidates") || !j["candidates"].is_array() || j["candidates"].empty();
  return no_candidates && j.contains("promptFeedback") && j["promptFeedback"].is_object() &&
         j["promptFeedback"].contains("blockReason");
}

void read_candidates(const nlohmann::json& j, Completion& c, bool& content) {
  if (!j.contains("candidates") || !j["candidates"].is_array() || j["candidates"].empty()) return;
  const auto& cand = j["candidates"][0];
  if (cand.contains("content") && cand["content"].contains("parts") && cand["content"]["parts"].is_array()) {
    for (const auto& part : cand["content"]["parts"]) {
      if (!part.contains("text") || !part["text"].is_string()) continue;
      std::string t = part["text"].get<std::string>();
      if (t.empty()) continue;
      content = true;
      if (part.value("thought", false)) {
        c.reasoning_text += t;
      } else {
        c.text += t;
      }
    }
  }
  if (cand.contains("finishReason") && cand["finishReason"].is_string()) c.finish_reason = cand["finishReason"].get<std::string>();
  // Grounding with Google Search: the queries it ran (billed per query, or once per prompt: the price entry says).
  if (cand.contains("groundingMetadata") && cand["groundingMetadata"].is_object() &&
      cand["groundingMetadata"].contains("webSearchQueries") && cand["groundingMetadata"]["webSearchQueries"].is_array())
    c.search_queries = static_cast<int64_t>(cand["groundingMetadata"]["webSearchQueries"].size());
}

class GeminiDecoder : public StreamDecoder {
 public:
  void on_event(const SseEvent& e) override {
    nlohmann::json j = parse_json_body(e.data);
    if (j.contains("error")) {
      Verdict v = classify_error_object(j["error"]);
      error_ = std::make_pair(v.error_class, v.message);
      return;
    }
    read_candidates(j, c_, saw_content_);
    if (blocked(j)) c_.finish_reason = "blocked";
    if (j.contains("modelVersion") && j["modelVersion"].is_string()) c_.response_model = j["modelVersion"].get<std::string>();
    // Cumulative usage in every chunk: keep the last that counts the prompt (Vertex sends interim
    // usageMetadata with only trafficType before the final one).
    if (j.contains("usageMetadata") && j["usageMetadata"].is_object() && j["usageMetadata"].contains("promptTokenCount")) {
      c_.usage = gemini_usage(j["usageMetadata"]);
      c_.raw_usage = j["usageMetadata"];
    }
    if (!c_.finish_reason.empty()) finished_ = true;
  }
  Completion completion() const override {
    Completion c = c_;
    c.usage.search_requests = c_.search_queries;
    // Usage seen before the final chunk is a running count: complete only once the stream finished.
    c.usage.usage_complete = finished_ && !c_.raw_usage.is_null();
    return c;
  }

 private:
  Completion c_;
};

class Gemini : public Adapter {
 public:
  HttpRequest build(const ChatRequest& req, const std::string& key, const std::string& base) const override {
    const ModelParams& p = req.model.params;
    nlohmann::json body;
    body["contents"] = nlohmann::json::array();
    std::string system;
    for (const auto& m : req.messages) {
      if (m.role == "system") {
        system += (system.empty() ? "" : "\n\n") + m.content;
        continue;
      }
      body["contents"].push_back({{"role", m.role == "assistant" ? "model" : "user"}, {"parts", {{{"text", m.content}}}}});
    }
    if (!system.empty()) body["systemInstruction"] = {{"parts", {{{"text", system}}}}};
    nlohmann::json gen = nlohmann::json::object();
    if (p.temperature) gen["temperature"] = *p.temperature;
    if (p.max_tokens) gen["maxOutputTokens"] = *p.max_tokens;
    // Gemini 2.5 takes a budget, Gemini 3 a level; sending both is a 400.
    if (p.thinking_budget) {
      gen["thinkingConfig"] = {{"thinkingBudget", *p.thinking_budget}};
    } else if (!p.reasoning_effort.empty()) {
      gen["thinkingConfig"] = {{"thinkingLevel", p.reasoning_effort}};
    }
    if (!gen.empty()) body["generationConfig"] = gen;
    std::string url = base + "/v1beta/models/" + req.model.model +
                      (p.stream ? ":streamGenerateContent?alt=sse" : ":generateContent");
    HttpRequest h{url, {{"Content-Type", "application/json"}}, body.dump()};
    if (!key.empty()) h.headers.emplace_back("x-goog-api-key", key);
    return h;
  }
  Completion parse(const std::string& body) const override {
    nlohmann::json j = parse_json_body(body);
    if (!j.is_object() || (!j.contains("candidates") && !blocked(j))) throw BadResponse("response has no candidates");
    Completion c;
    bool content = false;
    read_candidates(j, c, content);
    if (blocked(j)) c.finish_reason = "blocked";  // an answer: the prompt was refused, and billed
    if (j.contains("modelVersion") && j["modelVersion"].is_string()) c.response_model = j["modelVersion"].get<std::string>();
    if (j.contains("usageMetadata")) {
      c.usage = gemini_usage(j["usageMetadata"]);
      c.raw_usage = j["usageMetadata"];
    } else {
      c.usage.usage_complete = false;
    }
    c.usage.search_requests = c.search_queries;
    return c;
  }
  std::unique_ptr<StreamDecoder> decoder() const override { return std::make_unique<GeminiDecoder>(); }
  std::optional<Usage> usage_of(const nlohmann::json& body) const override {
    if (!body.is_object() || !body.contains("usageMetadata") || !body["usageMetadata"].is_object() ||
        !body["usageMetadata"].contains("promptTokenCount"))
      return std::nullopt;
    return gemini_usage(body["usageMetadata"]);
  }
};

}  // namespace

std::unique_ptr<Adapter> make_gemini() { return std::make_unique<Gemini>(); }

}  // namespace reckon
