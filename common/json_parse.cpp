#include "common/json_parse.h"

#include <iterator>
#include <string>

namespace reckon {

std::optional<size_t> json_depth_exceeded(std::string_view text, int max_depth) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') ++i;  // the escaped character cannot end the string
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth) return i;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return std::nullopt;
}

nlohmann::json parse_json(std::string_view text, bool allow_exceptions) {
  if (auto at = json_depth_exceeded(text)) {
    if (!allow_exceptions) return nlohmann::json(nlohmann::json::value_t::discarded);
    throw nlohmann::json::parse_error::create(
        101, *at + 1, "nested deeper than " + std::to_string(kMaxJsonDepth) + " levels", nullptr);
  }
  return nlohmann::json::parse(text, nullptr, allow_exceptions);
}

nlohmann::json parse_json(std::istream& in, bool allow_exceptions) {
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return parse_json(text, allow_exceptions);
}

}  // namespace reckon
