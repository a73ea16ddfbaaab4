#pragma once
// Parsing JSON from outside (provider answers, campaign files, task data, catalogs, imports) with a
// nesting limit. nlohmann parses any depth, but copying or printing a value recurses once per
// level, so a 100k-deep `usage` from a hostile server would overflow the stack later: anything
// deeper than kMaxJsonDepth is refused as a parse error at the byte where the limit was crossed.
#include <functional>
#include <istream>
#include <optional>
#include <string_view>

#include <nlohmann/json.hpp>

namespace simdjson::dom {
class element;
}

namespace reckon {

inline constexpr int kMaxJsonDepth = 128;

// Byte offset of the bracket that opens level max_depth + 1 (strings skipped), or nullopt.
std::optional<size_t> json_depth_exceeded(std::string_view text, int max_depth = kMaxJsonDepth);

// As nlohmann::json::parse(text, nullptr, allow_exceptions), with the nesting limit: a parse_error
// (id 101) when too deep, or a discarded value without exceptions.
nlohmann::json parse_json(std::string_view text, bool allow_exceptions = true);
nlohmann::json parse_json(std::istream& in, bool allow_exceptions = true);

// For hot paths that read a few fields of a small document: `read` gets simdjson's DOM of `text`
// (valid only during the call; no nlohmann values built). False, without calling `read`, when
// simdjson refuses the text or it is over the size simdjson is used for: the caller then reads
// parse_json's value, whose errors are nlohmann's.
bool read_json_dom(std::string_view text, const std::function<void(const simdjson::dom::element&)>& read);
// nlohmann's value for a part of such a DOM (as parse_json builds it).
nlohmann::json to_json(const simdjson::dom::element& e);

}  // namespace reckon
