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
