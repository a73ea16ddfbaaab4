#pragma once
// Small string and number helpers shared by parsers and reports.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace reckon {

std::string to_lower(std::string_view s);
std::string trim(std::string_view s);
std::vector<std::string> split(std::string_view s, char sep);
bool ends_with(std::string_view s, std::string_view suffix);
bool starts_with(std::string_view s, std::string_view prefix);

// Strict parses: the whole (trimmed) text must be the number. nullopt otherwise.
std::optional<int64_t> parse_int(std::string_view s);
std::optional<double> parse_double(std::string_view s);
// "1, 2.5,3" → {1, 2.5, 3}; InputError naming `what` and the bad part. Empty text → empty list.
std::vector<double> parse_number_list(std::string_view text, const std::string& what);
// "a=x, b=y" → {a: x, b: y} (trimmed; empty parts skipped); InputError naming `what` and a part without a
// name, an '=' or a value.
std::map<std::string, std::string> parse_assignments(std::string_view text, const std::string& what);

// Today's date in UTC as YYYY-MM-DD (the date a price entry must be in force on).
std::string today_utc();
// Current time in UTC, ISO 8601 with seconds.
std::string now_utc_iso();
// Bytes as lowercase hex digits, two per byte (digests, store keys).
std::string to_hex(const unsigned char* bytes, size_t n);
// A random hex id of n characters (run ids).
std::string random_hex(size_t n);

// Fixed-point formatting for tables: "12.35", "0.0001".
std::string fmt_fixed(double v, int decimals);
// USD with enough precision for small costs: "$0.000123", "$12.35".
std::string fmt_usd(double v);

// Escapes &, <, >, " and ' so any text is safe in XML/HTML element content and attribute values.
std::string xml_escape(std::string_view s);

// Where `s` stops being valid UTF-8 (overlongs, surrogates and code points past U+10FFFF included), or
// nullopt when all of it is.
std::optional<size_t> invalid_utf8_at(std::string_view s);
// `s` with each invalid sequence replaced by U+FFFD (unchanged when valid): what the store keeps, so
// every later JSON export of it works.
std::string valid_utf8(std::string_view s);

}  // namespace reckon
