#include "providers/openai.h"

#include "providers/retry.h"

#include <simdjson.h>

#include <array>

#include "common/json_parse.h"
#include "common/json_write.h"

namespace reckon {

Usage openai_chat_usage(const nlohmann::json& u, Dialect d) {
  if (!u.is_object()) throw BadResponse("usage is not an object");
  Usage out;
  auto prompt = token_field(u, "prompt_tokens"), completion = token_field(u, "completion_tokens");
  if (!prompt || !completion) throw BadResponse("usage lacks prompt_tokens or completion_tokens");
  out.input_tokens = *prompt;
  out.output_tokens = *completion;
  const nlohmann::json empty = nlohmann::json::object();
  const auto& pd = u.contains("prompt_tokens_details") && u["prompt_tokens_details"].is_object() ? u["prompt_tokens_details"] : empty;
  const auto& cd = u.contains("completion_tokens_details") && u["completion_tokens_details"].is_object() ? u["completion_tokens_details"] : empty;
  out.cache_read_tokens = token_field(pd, "cached_tokens").value_or(0);
  out.cache_write_5m_tokens = token_field(pd, "cache_write_tokens").value_or(0);
  out.reasoning_tokens = token_field(cd, "reasoning_tokens");
  out.audio_input_tokens = token_field(pd, "audio_tokens").value_or(0);
  out.audio_output_tokens = token_field(cd, "audio_tokens").value_or(0);
  switch (d) {
    case Dialect::kOpenAI:
      break;
    case Dialect::kDeepSeek:
      if (auto hit = token_field(u, "prompt_cache_hit_tokens")) out.cache_read_tokens = *hit;
      break;
    case Dialect::kXai:
      // reasoning is billed as output but reported outside completion_tokens
      out.output_tokens += out.reasoning_tokens.value_or(0);
      if (u.contains("cost_in_usd_ticks") && u["cost_in_usd_ticks"].is_number())
        out.provider_cost_usd = u["cost_in_usd_ticks"].get<double>() * 1e-10;
      break;
    case Dialect::kOpenRouter:
      if (u.contains("cost") && u["cost"].is_number()) out.provider_cost_usd = u["cost"].get<double>();
      break;
    case Dialect::kKimi:
      if (auto c = token_field(u, "cached_tokens")) out.cache_read_tokens = *c;
      break;
    case Dialect::kSelfHosted:
      break;
  }
  return out;  // as reported, even when it breaks the rules: usage_inconsistency flags it
}

Usage openai_responses_usage(const nlohmann::json& u) {
  if (!u.is_object()) throw BadResponse("usage is not an object");
  Usage out;
  auto in = token_field(u, "input_tokens"), outp = token_field(u, "output_tokens");
  if (!in || !outp) throw BadResponse("usage lacks input_tokens or output_tokens");
  out.input_tokens = *in;
  out.output_tokens = *outp;
  if (u.contains("input_tokens_details")) {
    out.cache_read_tokens = token_field(u["input_tokens_details"], "cached_tokens").value_or(0);
    out.cache_write_5m_tokens = token_field(u["input_tokens_details"], "cache_write_tokens").value_or(0);
  }
  if (u.contains("output_tokens_details")) out.reasoning_tokens = token_field(u["output_tokens_details"], "reasoning_tokens");
  return out;
}

Completion openai_chat_completion(const nlohmann::json& j, Dialect d) {
  if (!j.is_object() || !j.contains("choices") || !j["choices"].is_array() || j["choices"].empty())
    throw BadResponse("response has no choices");
  Completion c;
  const auto& ch = j["choices"][0];
  if (ch.contains("message") && ch["message"].is_object()) {
    const auto& m = ch["message"];
    if (m.contains("content") && m["content"].is_string()) c.text = m["content"].get<std::string>();
    // A refusal is the answer: its text kept, its finish reason said.
    if (c.text.empty() && m.contains("refusal") && m["refusal"].is_string() && !m["refusal"].get<std::string>().empty()) {
      c.text = m["refusal"].get<std::string>();
      c.finish_reason = "refusal";
    }
    for (const char* k : {"reasoning_content", "reasoning"})
      if (m.contains(k) && m[k].is_string()) c.reasoning_text = m[k].get<std::string>();
  }
  if (ch.contains("finish_reason") && ch["finish_reason"].is_string() && c.finish_reason != "refusal")
    c.finish_reason = ch["finish_reason"].get<std::string>();
  if (j.contains("model") && j["model"].is_string()) c.response_model = j["model"].get<std::string>();
  if (!j.contains("usage") || !j["usage"].is_object()) {
    c.usage.usage_complete = false;  // the server said nothing: unknown, not zero
  } else {
    c.usage = openai_chat_usage(j["usage"], d);
    c.raw_usage = j["usage"];
    read_served_tier(j, "service_tier", c.usage);
  }
  return c;
}

namespace {

// The last value of each wanted key in a simdjson object (of repeated keys the last wins, as parse_json has it).
template <size_t N>
std::array<std::optional<simdjson::dom::element>, N> fields(const simdjson::dom::object& o, const std::array<std::string_view, N>& keys) {
  std::array<std::optional<simdjson::dom::element>, N> out;
  for (auto f : o)
    for (size_t i = 0; i < N; ++i)
      if (f.key == keys[i]) out[i] = f.value;
  return out;
}

std::optional<std::string> string_of(const std::optional<simdjson::dom::element>& e) {
  if (!e || !e->is_string()) return std::nullopt;
  return std::string(std::string_view(*e));
}

}  // namespace

// The ordinary body (an object whose first choice is an object with an object or no message) is read
// straight from simdjson's DOM: the answer's fields need no nlohmann values, only `usage` becomes one (it is
// stored, and openai_chat_usage reads it). Anything else goes to openai_chat_completion, which decides.
std::optional<Completion> openai_chat_completion_fast(std::string_view body, Dialect d) {
  std::optional<Completion> out;
  read_json_dom(body, [&](const simdjson::dom::element& root) {
    if (!root.is_object()) return;
    auto top = fields(simdjson::dom::object(root), std::array<std::string_view, 4>{"choices", "model", "usage", "service_tier"});
    if (!top[0] || !top[0]->is_array()) return;
    const simdjson::dom::array choices(*top[0]);
    if (choices.size() == 0) return;
    const simdjson::dom::element ch = choices.at(0).value_unsafe();
    if (!ch.is_object()) return;
    auto choice = fields(simdjson::dom::object(ch), std::array<std::string_view, 2>{"message", "finish_reason"});
    Completion c;
    if (choice[0] && !choice[0]->is_null()) {
      if (!choice[0]->is_object()) return;
      auto m = fields(simdjson::dom::object(*choice[0]), std::array<std::string_view, 4>{"content", "refusal", "reasoning_content", "reasoning"});
      if (auto t = string_of(m[0])) c.text = std::move(*t);
      auto refusal = string_of(m[1]);
      if (c.text.empty() && refusal && !refusal->empty()) {  // a refusal is the answer: its text kept, its finish reason said
        c.text = std::move(*refusal);
        c.finish_reason = "refusal";
      }
      for (size_t k : {2, 3})
        if (auto r = string_of(m[k])) c.reasoning_text = std::move(*r);
    }
    if (auto f = string_of(choice[1]); f && c.finish_reason != "refusal") c.finish_reason = std::move(*f);
    if (auto model = string_of(top[1])) c.response_model = std::move(*model);
    if (!top[2] || !top[2]->is_object()) {
      c.usage.usage_complete = false;  // the server said nothing: unknown, not zero
    } else {
      c.raw_usage = to_json(*top[2]);
      c.usage = openai_chat_usage(c.raw_usage, d);
      if (top[3]) read_served_tier(nlohmann::json{{"service_tier", to_json(*top[3])}}, "service_tier", c.usage);
    }
    out = std::move(c);
  });
  return out;
}

namespace {

std::string tier_name(ServiceTier t) { return t == ServiceTier::kStandard ? "" : to_string(t); }

std::optional<std::pair<ErrorClass, std::string>> in_stream_error(const nlohmann::json& j) {
  if (!j.contains("error") || j["error"].is_null()) return std::nullopt;
  Verdict v = classify_error_object(j["error"]);
  return std::make_pair(v.error_class, v.message);
}

class ChatDecoder : public StreamDecoder {
 public:
  explicit ChatDecoder(Dialect d) : d_(d) {}
  void on_event(const SseEvent& e) override {
    if (e.data == "[DONE]") {
      finished_ = true;
      return;
    }
    nlohmann::json j = parse_json_body(e.data);
    // An error may share its chunk with usage (OpenRouter's "Token limit reached" after finish_reason
    // length): the usage is what was billed, so it is read all the same.
    if (auto err = in_stream_error(j)) error_ = err;
    if (j.contains("model") && j["model"].is_string()) c_.response_model = j["model"].get<std::string>();
    if (j.contains("choices") && j["choices"].is_array()) {
      for (const auto& ch : j["choices"]) {
        if (!ch.contains("delta") || !ch["delta"].is_object()) continue;
        const auto& delta = ch["delta"];
        for (const char* k : {"content", "refusal"})
          if (delta.contains(k) && delta[k].is_string() && !delta[k].get<std::string>().empty()) {
            c_.text += delta[k].get<std::string>();
            saw_content_ = true;
            refused_ = refused_ || std::string(k) == "refusal";
          }
        for (const char* k : {"reasoning_content", "reasoning"})
          if (delta.contains(k) && delta[k].is_string() && !delta[k].get<std::string>().empty()) {
            c_.reasoning_text += delta[k].get<std::string>();
            saw_content_ = true;
          }
        if (ch.contains("finish_reason") && ch["finish_reason"].is_string()) c_.finish_reason = ch["finish_reason"].get<std::string>();
      }
    }
    // OpenAI/xAI: a final chunk with choices: []; DeepSeek/Kimi/llama.cpp: the last content chunk.
    if (j.contains("service_tier") && j["service_tier"].is_string()) tier_ = j["service_tier"].get<std::string>();
    if (j.contains("usage") && j["usage"].is_object()) {
      c_.usage = openai_chat_usage(j["usage"], d_);
      c_.raw_usage = j["usage"];
      usage_seen_ = true;
    }
  }
  Completion completion() const override {
    Completion c = c_;
    c.usage.usage_complete = usage_seen_;
    if (refused_) c.finish_reason = "refusal";
    if (!tier_.empty()) read_served_tier(nlohmann::json{{"service_tier", tier_}}, "service_tier", c.usage);
    return c;
  }

 private:
  Dialect d_;
  Completion c_;
  std::string tier_;
  bool usage_seen_ = false, refused_ = false;
};

class OpenAIChat : public Adapter {
 public:
  explicit OpenAIChat(Dialect d) : d_(d) {}
  HttpRequest build(const ChatRequest& req, const std::string& key, const std::string& base) const override {
    const ModelParams& p = req.model.params;
    // Written straight out, keys in sorted order (the bytes an nlohmann object dumped had).
    std::string body;
    size_t size = 160 + req.model.model.size();
    for (const auto& m : req.messages) size += 32 + m.role.size() + m.content.size();
    body.reserve(size);
    bool first = true;
    auto key_of = [&](const char* k) {
      body += first ? "{\"" : ",\"";
      first = false;
      body.append(k).append("\":");
    };
    // OpenAI's reasoning models take max_completion_tokens; compatible servers take max_tokens.
    if (p.max_tokens) {
      key_of(d_ == Dialect::kOpenAI ? "max_completion_tokens" : "max_tokens");
      body += std::to_string(*p.max_tokens);
    }
    key_of("messages");
    append_json_messages(body, req.messages);
    key_of("model");
    append_json_string(body, req.model.model);
    if (!p.reasoning_effort.empty()) {
      key_of("reasoning_effort");
      append_json_string(body, p.reasoning_effort);
    }
    if (auto t = tier_name(p.service_tier); !t.empty()) {
      key_of("service_tier");
      append_json_string(body, t);
    }
    if (p.stream) {
      key_of("stream");
      body += "true";
      key_of("stream_options");
      body += "{\"include_usage\":true}";
    }
    if (p.temperature) {
      key_of("temperature");
      append_json_number(body, *p.temperature);
    }
    body += '}';
    HttpRequest h{base + "/chat/completions", {{"Content-Type", "application/json"}}, std::move(body)};
    if (!key.empty()) h.headers.emplace_back("Authorization", "Bearer " + key);
    return h;
  }
  Completion parse(const std::string& body) const override {
    if (auto c = openai_chat_completion_fast(body, d_)) return std::move(*c);
    return openai_chat_completion(parse_json_body(body), d_);
  }
  std::unique_ptr<StreamDecoder> decoder() const override { return std::make_unique<ChatDecoder>(d_); }
  std::optional<Usage> usage_of(const nlohmann::json& body) const override {
    if (!body.is_object() || !body.contains("usage") || !body["usage"].is_object()) return std::nullopt;
    return openai_chat_usage(body["usage"], d_);
  }

 private:
  Dialect d_;
};

Completion responses_completion(const nlohmann::json& resp) {
  Completion c;
  bool refused = false;
  if (resp.contains("output") && resp["output"].is_array()) {
    for (const auto& item : resp["output"]) {
      std::string type = item.value("type", "");
      if (type == "message" && item.contains("content") && item["content"].is_array()) {
        for (const auto& part : item["content"]) {
          if (part.value("type", "") == "output_text" && part.contains("text") && part["text"].is_string())
            c.text += part["text"].get<std::string>();
          if (part.value("type", "") == "refusal" && part.contains("refusal") && part["refusal"].is_string()) {
            c.text += part["refusal"].get<std::string>();
            refused = true;
          }
        }
      } else if (type == "reasoning" && item.contains("summary") && item["summary"].is_array()) {
        for (const auto& s : item["summary"])
          if (s.contains("text") && s["text"].is_string()) c.reasoning_text += s["text"].get<std::string>();
      }
    }
  }
  std::string status = resp.value("status", "");
  c.finish_reason = status == "incomplete" && resp.contains("incomplete_details") && resp["incomplete_details"].is_object()
                        ? resp["incomplete_details"].value("reason", "incomplete")
                        : status;
  if (refused) c.finish_reason = "refusal";
  if (resp.contains("model") && resp["model"].is_string()) c.response_model = resp["model"].get<std::string>();
  if (resp.contains("usage") && resp["usage"].is_object()) {
    c.usage = openai_responses_usage(resp["usage"]);
    c.raw_usage = resp["usage"];
    read_served_tier(resp, "service_tier", c.usage);
    // Web searches are billed per call, by the context size the request's tool asked for (echoed in `tools`).
    if (resp.contains("output") && resp["output"].is_array())
      for (const auto& item : resp["output"])
        if (item.is_object() && item.value("type", "") == "web_search_call") ++c.usage.search_requests;
    if (resp.contains("tools") && resp["tools"].is_array())
      for (const auto& tool : resp["tools"])
        if (tool.is_object() && tool.value("type", "").rfind("web_search", 0) == 0 && tool.contains("search_context_size") &&
            tool["search_context_size"].is_string())
          c.usage.search_context_size = tool["search_context_size"].get<std::string>();
  } else {
    c.usage.usage_complete = false;
  }
  return c;
}

class ResponsesDecoder : public StreamDecoder {
 public:
  void on_event(const SseEvent& e) override {
    nlohmann::json j = parse_json_body(e.data);
    std::string type = j.value("type", e.event);
    if (type == "response.output_text.delta" && j.contains("delta") && j["delta"].is_string()) {
      text_ += j["delta"].get<std::string>();
      saw_content_ = true;
    } else if (type == "response.reasoning_summary_text.delta" || type == "response.refusal.delta") {
      saw_content_ = true;
    } else if (type == "error") {
      if (auto err = in_stream_error(j)) error_ = err;
    } else if ((type == "response.completed" || type == "response.incomplete" || type == "response.failed") &&
               j.contains("response")) {
      final_ = responses_completion(j["response"]);
      finished_ = true;
      if (type == "response.failed" && !error_) {
        const auto& r = j["response"];
        if (r.contains("error") && r["error"].is_object()) {
          Verdict v = classify_error_object(r["error"]);
          error_ = std::make_pair(v.error_class, v.message);
        } else {
          error_ = std::make_pair(ErrorClass::kServer, std::string("error in stream: response.failed"));
        }
      }
    }
  }
  Completion completion() const override {
    if (final_) return *final_;
    Completion c;
    c.text = text_;
    c.usage.usage_complete = false;
    return c;
  }

 private:
  std::string text_;
  std::optional<Completion> final_;
};

class OpenAIResponses : public Adapter {
 public:
  HttpRequest build(const ChatRequest& req, const std::string& key, const std::string& base) const override {
    const ModelParams& p = req.model.params;
    nlohmann::json body;
    body["model"] = req.model.model;
    body["input"] = nlohmann::json::array();
    for (const auto& m : req.messages) body["input"].push_back({{"role", m.role}, {"content", m.content}});
    if (p.temperature) body["temperature"] = *p.temperature;
    if (p.max_tokens) body["max_output_tokens"] = *p.max_tokens;
    if (!p.reasoning_effort.empty()) body["reasoning"] = {{"effort", p.reasoning_effort}};
    if (auto t = tier_name(p.service_tier); !t.empty()) body["service_tier"] = t;
    if (p.stream) body["stream"] = true;
    body["store"] = false;
    HttpRequest h{base + "/responses", {{"Content-Type", "application/json"}}, body.dump()};
    if (!key.empty()) h.headers.emplace_back("Authorization", "Bearer " + key);
    return h;
  }
  Completion parse(const std::string& body) const override {
    nlohmann::json j = parse_json_body(body);
    if (!j.is_object() || !j.contains("output")) throw BadResponse("response has no output");
    return responses_completion(j);
  }
  std::unique_ptr<StreamDecoder> decoder() const override { return std::make_unique<ResponsesDecoder>(); }
  std::optional<Usage> usage_of(const nlohmann::json& body) const override {
    if (!body.is_object() || !body.contains("usage") || !body["usage"].is_object()) return std::nullopt;
    return openai_responses_usage(body["usage"]);
  }
};

}  // namespace

std::unique_ptr<Adapter> make_openai_chat(Dialect d) { return std::make_unique<OpenAIChat>(d); }
std::unique_ptr<Adapter> make_openai_responses() { return std::make_unique<OpenAIResponses>(); }

}  // namespace reckon
