#pragma once
// What reckon asks a model, and what comes back, independent of any provider's wire format.
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/message.h"
#include "common/usage.h"

namespace reckon {

// Per-model request parameters (campaign file or flags).
struct ModelParams {
  std::optional<double> temperature;
  std::optional<int64_t> max_tokens;
  std::string reasoning_effort;            // OpenAI reasoning_effort / reasoning.effort; Gemini 3 thinkingLevel
  std::optional<int64_t> thinking_budget;  // Anthropic budget_tokens; Gemini 2.5 thinkingBudget
  std::string base_url;                    // overrides the provider's default
  std::string api_key_env;                 // overrides the provider's usual variable
  std::string api = "chat";                // openai: chat | responses
  bool stream = false;
  ServiceTier service_tier = ServiceTier::kStandard;
};

// "provider:model", e.g. "openai:gpt-5-mini", "anthropic:claude-opus-4-6".
struct ModelRef {
  std::string provider, model;
  ModelParams params;
  std::string name() const { return provider + ":" + model; }
};
// Parses "provider:model"; InputError naming the text when there is no provider part.
ModelRef parse_model_ref(const std::string& text);

struct ChatRequest {
  ModelRef model;
  std::vector<Message> messages;
};

// The canonical form of a request as text: a JSON object with sorted keys and no spaces (model,
// messages, and the parameters that change the answer; no key material, no address). What request
// keys and fingerprints hash, so these bytes must never change: the keys of every store depend on them.
std::string canonical_request_text(const ModelRef& model, const std::vector<Message>& messages);

// What one model call produced, once all retries are over.
struct Completion {
  std::string text;            // visible answer
  std::string reasoning_text;  // thinking text when the provider returns it
  std::string finish_reason;
  std::string response_model;
  Usage usage;
  nlohmann::json raw_usage;  // the provider's own usage object(s), for audit
  int64_t search_queries = 0;  // searches the answer reports outside its usage (Gemini grounding)
};

enum class ErrorClass { kNone, kRateLimit, kOverloaded, kServer, kTimeout, kConnection, kBadResponse, kClient, kAuth, kQuota, kStream };
std::string to_string(ErrorClass c);

struct CallResult {
  bool ok = false;
  Completion completion;  // usage may be partial (usage_complete = false) even on failure
  ErrorClass error_class = ErrorClass::kNone;
  std::string error;      // message safe to store: never contains key material
  std::optional<int64_t> http_status;
  int64_t attempts = 0;
  double latency_ms = 0;
  std::optional<double> ttft_ms;
};

}  // namespace reckon
