#include "common/json_write.h"

#include <charconv>
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

void append_json(std::string& out, const nlohmann::json& v) {
  char digits[24];
  switch (v.type()) {
    case nlohmann::json::value_t::null: out += "null"; return;
    case nlohmann::json::value_t::boolean: out += v.get<bool>() ? "true" : "false"; return;
    case nlohmann::json::value_t::number_integer:
      out.append(digits, std::to_chars(digits, digits + sizeof digits, v.get<int64_t>()).ptr);
      return;
    case nlohmann::json::value_t::number_unsigned:
      out.append(digits, std::to_chars(digits, digits + sizeof digits, v.get<uint64_t>()).ptr);
      return;
    case nlohmann::json::value_t::string: append_json_string(out, v.get_ref<const std::string&>()); return;
    case nlohmann::json::value_t::array: {
      out += '[';
      bool first = true;
      for (const auto& e : v) {
        if (!first) out += ',';
        first = false;
        append_json(out, e);
      }
      out += ']';
      return;
    }
    case nlohmann::json::value_t::object: {
      out += '{';
      bool first = true;
      for (const auto& [k, e] : v.items()) {
        if (!first) out += ',';
        first = false;
        append_json_string(out, k);
        out += ':';
        append_json(out, e);
      }
      out += '}';
      return;
    }
    default: out += v.dump();  // floats (nlohmann's own shortest form, null for NaN), binary
  }
}

}  // namespace reckon
