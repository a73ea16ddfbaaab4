#include "providers/request.h"

#include "common/error.h"

namespace reckon {

ModelRef parse_model_ref(const std::string& text) {
  auto colon = text.find(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size())
    throw InputError("model '" + text + "' must be written provider:model (e.g. openai:gpt-5-mini)");
  return ModelRef{text.substr(0, colon), text.substr(colon + 1), {}};
}

nlohmann::json canonical_request(const ChatRequest& r) {
  const ModelParams& p = r.model.params;
  nlohmann::json j;  // nlohmann::json objects keep keys sorted: canonical by construction
  j["model"] = r.model.name();
  j["messages"] = nlohmann::json::array();
  for (const auto& m : r.messages) j["messages"].push_back({{"role", m.role}, {"content", m.content}});
  if (p.temperature) j["temperature"] = *p.temperature;
  if (p.max_tokens) j["max_tokens"] = *p.max_tokens;
  if (!p.reasoning_effort.empty()) j["reasoning_effort"] = p.reasoning_effort;
  if (p.thinking_budget) j["thinking_budget"] = *p.thinking_budget;
  if (p.api != "chat") j["api"] = p.api;
  if (p.service_tier != ServiceTier::kStandard) j["service_tier"] = to_string(p.service_tier);
  return j;
}

std::string to_string(ErrorClass c) {
  switch (c) {
    case ErrorClass::kNone: return "";
    case ErrorClass::kRateLimit: return "rate_limit";
    case ErrorClass::kOverloaded: return "overloaded";
    case ErrorClass::kServer: return "server_error";
    case ErrorClass::kTimeout: return "timeout";
    case ErrorClass::kConnection: return "connection";
    case ErrorClass::kBadResponse: return "bad_response";
    case ErrorClass::kClient: return "client_error";
    case ErrorClass::kAuth: return "auth";
    case ErrorClass::kQuota: return "quota";
    case ErrorClass::kStream: return "stream_cut";
  }
  return "";
}

}  // namespace reckon
