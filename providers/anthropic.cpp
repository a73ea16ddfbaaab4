#include "providers/anthropic.h"

#include "providers/retry.h"

namespace reckon {
namespace {

// One usage block (top level or one iteration) as totals.
Usage block_usage(const nlohmann::json& u) {
  Usage out;
  int64_t uncached = token_field(u, "input_tokens").value_or(0);
  int64_t read = token_field(u, "cache_read_input_tokens").value_or(0);
  int64_t created = token_field(u, "cache_creation_input_tokens").value_or(0);
  int64_t w5 = created, w1 = 0;
  if (u.contains("cache_creation") && u["cache_creation"].is_object()) {
    auto a = token_field(u["cache_creation"], "ephemeral_5m_input_tokens");
    auto b = token_field(u["cache_creation"], "ephemeral_1h_input_tokens");
    if (a || b) {
      w5 = a.value_or(0);
      w1 = b.value_or(0);
    }
  }
  out.input_tokens = uncached + read + w5 + w1;
  out.cache_read_tokens = read;
  out.cache_write_5m_tokens = w5;
  out.cache_write_1h_tokens = w1;
  out.output_tokens = token_field(u, "output_tokens").value_or(0);
  if (u.contains("output_tokens_details") && u["output_tokens_details"].is_object())
    out.reasoning_tokens = token_field(u["output_tokens_details"], "thinking_tokens");
  return out;
}

}  // namespace

Usage anthropic_usage(const nlohmann::json& u) {
  if (!u.is_object()) throw BadResponse("usage is not an object");
  if (!u.contains("output_tokens")) throw BadResponse("usage lacks output_tokens");
  Usage out = block_usage(u);
  if (u.contains("iterations") && u["iterations"].is_array() && !u["iterations"].empty()) {
    bool fallback = false;
    for (const auto& it : u["iterations"]) fallback = fallback || it.value("type", "") == "fallback_message";
    if (!fallback) {  // top level excludes compaction iterations: bill the executor's sum
      Usage sum;
      sum.reasoning_tokens = out.reasoning_tokens;
      for (const auto& it : u["iterations"]) {
        std::string type = it.value("type", "");
        if (type != "compaction" && type != "message") continue;
        Usage b = block_usage(it);
        sum.input_tokens += b.input_tokens;
        sum.cache_read_tokens += b.cache_read_tokens;
        sum.cache_write_5m_tokens += b.cache_write_5m_tokens;
        sum.cache_write_1h_tokens += b.cache_write_1h_tokens;
        sum.output_tokens += b.output_tokens;
      }
      out = sum;
    }
  }
  if (u.contains("server_tool_use") && u["server_tool_use"].is_object())
    out.search_requests = token_field(u["server_tool_use"], "web_search_requests").value_or(0);
  read_served_tier(u, "service_tier", out);
  if (u.contains("inference_geo") && u["inference_geo"].is_string() && u["inference_geo"] != "not_available")
    out.inference_geo = u["inference_geo"].get<std::string>();
  return out;
}

namespace {

std::pair<ErrorClass, std::string> stream_error(const nlohmann::json& j) {
  Verdict v = classify_error_object(j.contains("error") ? j["error"] : j);
  return {v.error_class, v.message};
}

class MessagesDecoder : public StreamDecoder {
 public:
  void on_event(const SseEvent& e) override {
    nlohmann::json j = parse_json_body(e.data);
    std::string type = j.value("type", e.event);
    if (type == "message_start" && j.contains("message")) {
      const auto& m = j["message"];
      if (m.contains("model") && m["model"].is_string()) c_.response_model = m["model"].get<std::string>();
      if (m.contains("usage") && m["usage"].is_object()) start_ = m["usage"];
    } else if (type == "content_block_delta" && j.contains("delta")) {
      const auto& d = j["delta"];
      std::string dt = d.value("type", "");
      if (dt == "text_delta" && d.contains("text") && d["text"].is_string()) {
        c_.text += d["text"].get<std::string>();
        saw_content_ = true;
      } else if (dt == "thinking_delta" && d.contains("thinking") && d["thinking"].is_string()) {
        c_.reasoning_text += d["thinking"].get<std::string>();
        saw_content_ = true;
      }
    } else if (type == "message_delta") {
      if (j.contains("delta") && j["delta"].is_object() && j["delta"].contains("stop_reason") && j["delta"]["stop_reason"].is_string())
        c_.finish_reason = j["delta"]["stop_reason"].get<std::string>();
      if (j.contains("usage") && j["usage"].is_object()) {
        // Cumulative: the delta's fields win, message_start fills what the delta lacks.
        nlohmann::json merged = start_.is_object() ? start_ : nlohmann::json::object();
        for (auto it = j["usage"].begin(); it != j["usage"].end(); ++it) merged[it.key()] = it.value();
        if (j["usage"].contains("cache_creation_input_tokens") && !j["usage"].contains("cache_creation"))
          merged.erase("cache_creation");  // stale 5m/1h split from message_start
        c_.usage = anthropic_usage(merged);
        c_.raw_usage = merged;
        usage_seen_ = true;
      }
    } else if (type == "message_stop") {
      finished_ = true;
    } else if (type == "error") {
      error_ = stream_error(j);
    }
  }
  Completion completion() const override {
    Completion c = c_;
    c.usage.usage_complete = usage_seen_;
    return c;
  }

 private:
  Completion c_;
  nlohmann::json start_;
  bool usage_seen_ = false;
};

class Messages : public Adapter {
 public:
  HttpRequest build(const ChatRequest& req, const std::string& key, const std::string& base) const override {
    const ModelParams& p = req.model.params;
    nlohmann::json body;
    body["model"] = req.model.model;
    std::string system;
    body["messages"] = nlohmann::json::array();
    for (const auto& m : req.messages) {
      if (m.role == "system") {
        system += (system.empty() ? "" : "\n\n") + m.content;
      } else {
        body["messages"].push_back({{"role", m.role}, {"content", m.content}});
      }
    }
    if (!system.empty()) body["system"] = system;
    int64_t budget = p.thinking_budget.value_or(0);
    // max_tokens is required and must exceed the thinking budget.
    body["max_tokens"] = p.max_tokens.value_or(budget > 0 ? budget + 4096 : 4096);
    if (budget > 0) {
      body["thinking"] = {{"type", "enabled"}, {"budget_tokens", budget}};
    } else if (p.temperature) {
      body["temperature"] = *p.temperature;  // not accepted together with thinking
    }
    if (p.stream) body["stream"] = true;
    HttpRequest h{base + "/v1/messages",
                  {{"Content-Type", "application/json"}, {"anthropic-version", "2023-06-01"}},
                  body.dump()};
    if (!key.empty()) h.headers.emplace_back("x-api-key", key);
    return h;
  }
  Completion parse(const std::string& body) const override {
    nlohmann::json j = parse_json_body(body);
    if (!j.is_object() || !j.contains("content") || !j["content"].is_array()) throw BadResponse("response has no content");
    Completion c;
    for (const auto& block : j["content"]) {
      std::string t = block.value("type", "");
      if (t == "text" && block.contains("text") && block["text"].is_string()) c.text += block["text"].get<std::string>();
      if (t == "thinking" && block.contains("thinking") && block["thinking"].is_string())
        c.reasoning_text += block["thinking"].get<std::string>();
    }
    if (j.contains("stop_reason") && j["stop_reason"].is_string()) c.finish_reason = j["stop_reason"].get<std::string>();
    if (j.contains("model") && j["model"].is_string()) c.response_model = j["model"].get<std::string>();
    if (!j.contains("usage")) {
      c.usage.usage_complete = false;
    } else {
      c.usage = anthropic_usage(j["usage"]);
      c.raw_usage = j["usage"];
    }
    return c;
  }
  std::unique_ptr<StreamDecoder> decoder() const override { return std::make_unique<MessagesDecoder>(); }
  std::optional<Usage> usage_of(const nlohmann::json& body) const override {
    if (!body.is_object() || !body.contains("usage") || !body["usage"].is_object()) return std::nullopt;
    return anthropic_usage(body["usage"]);
  }
};

}  // namespace

std::unique_ptr<Adapter> make_anthropic() { return std::make_unique<Messages>(); }

}  // namespace reckon
