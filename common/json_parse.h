#pragma once
// Parsing JSON from outside (provider answers, campaign files, task data, catalogs, imports) with a
// nesting limit. nlohmann parses any depth, but copying or printing a value recurses once per
// level, so a 100k-deep `usage` from a hostile server would overflow the stack later: anything
// deeper than kMaxJsonDepth is refused as a parse error at the byte where the limit was crossed.
#include <istream>
#include <optional>
#include <string_view>

#include <nlohmann/json.hpp>

namespace reckon {

inline constexpr int kMaxJsonDepth = 128;

// Byte offset of the bracket that opens level max_depth + 1 (strings skipped), or nullopt.
std::optional<size_t> json_depth_exceeded(std::string_view text, int max_depth = kMaxJsonDepth);

// As nlohmann::json::parse(text, nullptr, allow_exceptions), with the nesting limit: a parse_error
// (id 101) when too deep, or a discarded value without exceptions.
nlohmann::json parse_json(std::string_view text, bool allow_exceptions = true);
nlohmann::json parse_json(std::istream& in, bool allow_exceptions = true);

}  // namespace reckon
