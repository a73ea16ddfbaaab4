#include "common/text.h"

#include <catch2/catch.hpp>

#include "common/table.h"

using namespace reckon;

TEST_CASE("strict number parsing rejects trailing junk and accepts integral floats", "[text]") {
  CHECK(parse_int("42") == 42);
  CHECK(parse_int(" 7 ") == 7);
  CHECK(parse_int("12.0") == 12);
  CHECK_FALSE(parse_int("12.5"));
  CHECK_FALSE(parse_int("12abc"));
  CHECK_FALSE(parse_int(""));
  CHECK(parse_double("0.25") == 0.25);
  CHECK_FALSE(parse_double("nan"));
  CHECK_FALSE(parse_double("1,5"));
}

TEST_CASE("split keeps empty fields and fmt_usd keeps small costs readable", "[text]") {
  CHECK(split("a,,b", ',') == std::vector<std::string>{"a", "", "b"});
  CHECK(fmt_usd(0.000123) == "$0.000123");
  CHECK(fmt_usd(12.3456) == "$12.346");
  CHECK(fmt_usd(642.961) == "$642.96");
}

TEST_CASE("text tables align columns by display width", "[text]") {
  TextTable t({"model", "cost"});
  t.add({"a", "1"});
  t.add({"τ-long", "100"});
  std::string s = t.render();
  CHECK(s.find("a          1") != std::string::npos);
  CHECK(s.find("τ-long   100") != std::string::npos);
}

TEST_CASE("UTF-8 validation finds the first bad byte and repair replaces each bad sequence with U+FFFD", "[text]") {
  CHECK_FALSE(invalid_utf8_at("plain ascii"));
  CHECK_FALSE(invalid_utf8_at("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"));  // é, €, 😀
  CHECK(invalid_utf8_at("caf\xE9") == std::optional<size_t>(3));           // Latin-1 é
  CHECK(invalid_utf8_at("\xC0\xAF") == std::optional<size_t>(0));           // overlong '/'
  CHECK(invalid_utf8_at("a\xED\xA0\x80") == std::optional<size_t>(1));      // a UTF-16 surrogate
  CHECK(invalid_utf8_at("\xF4\x90\x80\x80") == std::optional<size_t>(0));   // past U+10FFFF
  CHECK(invalid_utf8_at("ok\xE2\x82") == std::optional<size_t>(2));         // cut short
  CHECK(valid_utf8("caf\xE9!") == "caf\xEF\xBF\xBD!");
  CHECK(valid_utf8("\xE2\x82") == "\xEF\xBF\xBD\xEF\xBF\xBD");
  CHECK(valid_utf8("\xE2\x82\xAC") == "\xE2\x82\xAC");
}
