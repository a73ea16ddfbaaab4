#include "providers/adapter.h"
#include "common/json_parse.h"

namespace reckon {

nlohmann::json parse_json_body(const std::string& body) {
  try {
    return parse_json(body);
  } catch (const nlohmann::json::exception&) {
    std::string excerpt = body.substr(0, 80);
    for (auto& c : excerpt)
      if (c == '\n' || c == '\r') c = ' ';
    throw BadResponse("response is not valid JSON (starts: " + excerpt + ")");
  }
}

std::optional<int64_t> token_field(const nlohmann::json& obj, const char* key) {
  if (!obj.is_object()) return std::nullopt;
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return std::nullopt;
  if (!it->is_number_integer() || it->get<int64_t>() < 0)
    throw BadResponse(std::string("usage field '") + key + "' is not a non-negative integer");
  return it->get<int64_t>();
}

void read_served_tier(const nlohmann::json& obj, const char* key, Usage& u) {
  if (!obj.is_object() || !obj.contains(key) || !obj[key].is_string()) return;
  if (auto t = parse_service_tier(obj[key].get<std::string>())) {
    u.service_tier = *t;
    u.service_tier_reported = true;
  }
}

}  // namespace reckon
