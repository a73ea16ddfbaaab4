#include "providers/request.h"

#include "common/error.h"
#include "common/text.h"

namespace reckon {

ModelRef parse_model_ref(const std::string& text) {
  auto colon = text.find(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size())
    throw InputError("model '" + text + "' must be written provider:model (e.g. openai:gpt-5-mini)");
  return ModelRef{text.substr(0, colon), text.substr(colon + 1), {}};
}

namespace {

// Appends `s` as a JSON string, byte for byte as nlohmann::json::dump() writes it: UTF-8 kept,
// quote, backslash and control characters escaped (\u00xx in lower case).
void append_json_string(std::string& out, std::string_view s) {
  if (invalid_utf8_at(s)) {
    out += nlohmann::json(std::string(s)).dump();  // throws nlohmann's own error, as the key always did
    return;
  }
  out.push_back('"');
  size_t plain = 0;  // start of the bytes not yet copied
  for (size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(s.data() + plain, i - plain);
    plain = i + 1;
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default: {
        static const char* hex = "0123456789abcdef";
        out += "\\u00";
        out.push_back(hex[c >> 4]);
        out.push_back(hex[c & 15]);
      }
    }
  }
  out.append(s.data() + plain, s.size() - plain);
  out.push_back('"');
}

}  // namespace

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
  out += "\"messages\":[";
  for (size_t i = 0; i < messages.size(); ++i) {
    out += i ? ",{\"content\":" : "{\"content\":";
    append_json_string(out, messages[i].content);
    out += ",\"role\":";
    append_json_string(out, messages[i].role);
    out += '}';
  }
  out += "],\"model\":";
  append_json_string(out, model.name());
  if (!p.reasoning_effort.empty()) {
    out += ",\"reasoning_effort\":";
    append_json_string(out, p.reasoning_effort);
  }
  if (p.service_tier != ServiceTier::kStandard) {
    out += ",\"service_tier\":";
    append_json_string(out, to_string(p.service_tier));
  }
  if (p.temperature) out.append(",\"temperature\":").append(nlohmann::json(*p.temperature).dump());
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
