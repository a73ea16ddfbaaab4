#include "common/json_write.h"

#include <nlohmann/json.hpp>

#include "common/text.h"

namespace reckon {

void append_json_string(std::string& out, std::string_view s) {
  if (invalid_utf8_at(s)) {
    out += nlohmann::json(std::string(s)).dump();  // throws nlohmann's own error, as dump() does
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

void append_json_messages(std::string& out, const std::vector<Message>& messages) {
  out += '[';
  for (size_t i = 0; i < messages.size(); ++i) {
    out += i ? ",{\"content\":" : "{\"content\":";
    append_json_string(out, messages[i].content);
    out += ",\"role\":";
    append_json_string(out, messages[i].role);
    out += '}';
  }
  out += ']';
}

void append_json_number(std::string& out, double v) { out += nlohmann::json(v).dump(); }

}  // namespace reckon
