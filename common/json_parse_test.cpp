#include "common/json_parse.h"

#include <catch2/catch.hpp>

#include <sstream>

#include "common/error.h"
#include "common/jsonl.h"
#include "tests/support.h"

using namespace reckon;

namespace {
std::string nested(int depth, const std::string& inner = "1") {
  return std::string(static_cast<size_t>(depth), '[') + inner + std::string(static_cast<size_t>(depth), ']');
}
}  // namespace

TEST_CASE("JSON deeper than 128 levels is refused where it crosses the limit, and brackets in strings do not count", "[json][security]") {
  CHECK_FALSE(json_depth_exceeded(nested(128)));
  CHECK(json_depth_exceeded(nested(129)) == std::optional<size_t>(128));  // the 129th '[' sits at byte 128
  CHECK_FALSE(json_depth_exceeded(R"({"a": "[[[[[[[[", "b": "\"[[[[["})", 2));
  CHECK(json_depth_exceeded(R"({"a": {"b": [1]}})", 2) == std::optional<size_t>(12));
  CHECK(parse_json(nested(128)).is_array());
  CHECK(parse_json(nested(100000), false).is_discarded());
  CHECK_THROWS_WITH(parse_json("{\"usage\": " + nested(100000) + "}"), Catch::Contains("nested deeper than 128 levels"));
  std::istringstream in(nested(5000));
  CHECK(parse_json(in, false).is_discarded());
}

TEST_CASE("a deeply nested campaign file or task data line is an input error naming the place, not a crash", "[json][security]") {
  test::TempDir tmp;
  const std::string camp = tmp.write("deep.json", "{\n  \"name\": \"x\",\n  \"params\": " + nested(70000) + "\n}\n");
  CHECK_THROWS_AS(read_json_file(camp, "campaign"), InputError);
  CHECK_THROWS_WITH(read_json_file(camp, "campaign"), Catch::Contains("deep.json:3:140") && Catch::Contains("nested deeper"));
  CHECK_THROWS_WITH(parse_jsonl_object("{\"q\": " + nested(70000) + "}", "items.jsonl", 7), Catch::Contains("items.jsonl:7"));
}
