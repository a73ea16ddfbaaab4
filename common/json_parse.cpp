#include "common/json_parse.h"

#include <iterator>
#include <string>

#include <simdjson.h>

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

namespace {

constexpr size_t kSimdjsonMaxBytes = 1 << 20;

// simdjson's DOM of `text` from the thread's parser (held to the nesting limit), when simdjson is used
// for a document this size and accepts it.
bool simdjson_root(std::string_view text, simdjson::dom::element& root) {
  thread_local simdjson::dom::parser parser;
  thread_local const bool limited = parser.allocate(1 << 12, kMaxJsonDepth) == simdjson::SUCCESS;
  return limited && text.size() <= kSimdjsonMaxBytes && parser.parse(text.data(), text.size()).get(root) == simdjson::SUCCESS;
}

}  // namespace

// nlohmann's own types are kept: a non-negative integer is unsigned, and of repeated keys the last wins.
nlohmann::json to_json(const simdjson::dom::element& e) {
  switch (e.type()) {
    case simdjson::dom::element_type::OBJECT: {
      nlohmann::json out = nlohmann::json::object();
      for (auto field : simdjson::dom::object(e)) out[std::string(field.key)] = to_json(field.value);
      return out;
    }
    case simdjson::dom::element_type::ARRAY: {
      nlohmann::json out = nlohmann::json::array();
      for (auto v : simdjson::dom::array(e)) out.push_back(to_json(v));
      return out;
    }
    case simdjson::dom::element_type::STRING: return std::string(std::string_view(e));
    case simdjson::dom::element_type::INT64: {
      const int64_t v = int64_t(e);
      return v >= 0 ? nlohmann::json(static_cast<uint64_t>(v)) : nlohmann::json(v);
    }
    case simdjson::dom::element_type::UINT64: return uint64_t(e);
    case simdjson::dom::element_type::DOUBLE: return double(e);
    case simdjson::dom::element_type::BOOL: return bool(e);
    case simdjson::dom::element_type::NULL_VALUE: break;
  }
  return nullptr;
}

// simdjson reads the text (several times faster than nlohmann's lexer) and the value is built from
// its DOM; whatever simdjson refuses — bad JSON, but also what nlohmann accepts and simdjson does
// not, such as integers past 64 bits — goes to nlohmann, so results and error messages are nlohmann's.
// simdjson is held to the same nesting limit, so what it accepts needs no separate depth scan. Its
// buffers grow to the largest document a thread has read and stay, so large documents (catalogs, whole
// files) go to nlohmann alone: the speed matters for the many small ones (answers, item rows).
nlohmann::json parse_json(std::string_view text, bool allow_exceptions) {
  simdjson::dom::element root;
  if (simdjson_root(text, root)) return to_json(root);
  if (auto at = json_depth_exceeded(text)) {
    if (!allow_exceptions) return nlohmann::json(nlohmann::json::value_t::discarded);
    throw nlohmann::json::parse_error::create(
        101, *at + 1, "nested deeper than " + std::to_string(kMaxJsonDepth) + " levels", nullptr);
  }
  return nlohmann::json::parse(text, nullptr, allow_exceptions);
}

bool read_json_dom(std::string_view text, const std::function<void(const simdjson::dom::element&)>& read) {
  simdjson::dom::element root;
  if (!simdjson_root(text, root)) return false;
  read(root);
  return true;
}

nlohmann::json parse_json(std::istream& in, bool allow_exceptions) {
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return parse_json(text, allow_exceptions);
}

}  // namespace reckon
