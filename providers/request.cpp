#include "providers/request.h"

#include "common/error.h"
#include "common/json_write.h"

namespace reckon {

ModelRef parse_model_ref(const std::string& text) {
  auto colon = text.find(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size())
    throw InputError("model '" + text + "' must be written provider:model (e.g. openai:gpt-5-mini)");
  return ModelRef{text.substr(0, colon), text.substr(colon + 1), {}};
}

std::string canonical_request_text(const ModelRef& model, const std::vector<Message>& messages) {
  const ModelParams& p = model.params;
  std::string out;
  size_t size = 128 + model.provider.size() + model.model.size();
  for (const auto& m : messages) size += 32 + m.role.size() + m.content.size();
  out.reserve(size);
  // Keys in byte order, as a sorted JSON object has them; no spaces.
  out += '{';
  if (p.api != "chat") {
    out += "\"api\":";
    append_json_string(out, p.api);
    out += ',';
  }
  if (p.max_tokens) out.append("\"max_tokens\":").append(std::to_string(*p.max_tokens)).append(",");
  out += "\"messages\":";
  append_json_messages(out, messages);
  out += ",\"model\":";
  append_json_string(out, model.name());
  if (!p.reasoning_effort.empty()) {
    out += ",\"reasoning_effort\":";
    append_json_string(out, p.reasoning_effort);
  }
  if (p.service_tier != ServiceTier::kStandard) {
    out += ",\"service_tier\":";
    append_json_string(out, to_string(p.service_tier));
  }
  if (p.temperature) {
    out += ",\"temperature\":";
    append_json_number(out, *p.temperature);
  }
  if (p.thinking_budget) out.append(",\"thinking_budget\":").append(std::to_string(*p.thinking_budget));
  out += '}';
  return out;
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
