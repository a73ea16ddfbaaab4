#include "common/json_parse.h"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <random>
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
  CHECK(parse_json("{\"a\": " + nested(127) + "}").is_object());
  CHECK_THROWS_WITH(parse_json(nested(129)), Catch::Contains("nested deeper than 128 levels"));
  CHECK_THROWS_WITH(parse_json("{\"a\": " + nested(128) + "}"), Catch::Contains("nested deeper than 128 levels"));
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

namespace {

// The same value at every node: same kinds (an integer stays an integer, a float a float), equal
// numbers, the same text when printed. (Whether an integer is held signed or unsigned is not compared:
// nlohmann holds "-0" as a signed 0, parse_json as an unsigned one — equal, and printed alike.)
bool same_tree(const nlohmann::json& a, const nlohmann::json& b) {
  if (a.is_number_integer() && b.is_number_integer()) return a == b && a.dump() == b.dump();
  if (a.type() != b.type()) return false;
  if (a.is_object()) {
    if (a.size() != b.size()) return false;
    for (auto it = a.begin(); it != a.end(); ++it)
      if (!b.contains(it.key()) || !same_tree(*it, b.at(it.key()))) return false;
    return true;
  }
  if (a.is_array()) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i)
      if (!same_tree(a[i], b[i])) return false;
    return true;
  }
  return a.dump() == b.dump();
}

// parse_json against nlohmann's own parser, the specification it must keep: both accept and agree,
// or both refuse.
void agrees_with_nlohmann(const std::string& text) {
  INFO(text.substr(0, 300));
  nlohmann::json expected;
  std::optional<int> refused;  // nlohmann's exception id
  try {
    expected = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    refused = e.id;
  }
  if (refused) {
    std::optional<int> got;
    try {
      parse_json(text);
    } catch (const nlohmann::json::exception& e) {
      got = e.id;
    }
    CHECK(got == refused);
    return;
  }
  const nlohmann::json got = parse_json(text);
  CHECK(same_tree(got, expected));
}

}  // namespace

TEST_CASE("parse_json reads exactly what nlohmann reads: recorded provider bodies, edge cases, random mutations", "[json]") {
  for (const char* t : {"0", "-0", "-0.0", "1.0", "1E2", "1e400", "18446744073709551615", "18446744073709551616",
                        "9223372036854775807", "9223372036854775808", "-9223372036854775808", "-9223372036854775809",
                        R"({"a":1,"a":2})", R"("\u0000x")", R"("\ud83d\ude00")", R"("\ud800")", R"("\udc00x")",
                        "\xEF\xBB\xBF{\"bom\":1}", "\"\xC3\x28\"", "\"\xF0\x9F\x98\x80\"", "[1,]", "{\"a\":1,}", "{} x",
                        " \t\n[ ]\r\n", "", "nul", "NaN", "\"tab\there\"", "[1e-400]", "[0.1e1, -1.5E-3, 123456789012345678901234]"})
    agrees_with_nlohmann(t);
  std::string big = "[";  // past the size simdjson is used for
  for (int i = 0; i < 300000; ++i) big += std::to_string(i) + ",";
  big.back() = ']';
  agrees_with_nlohmann(big);
  int files = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(test::shared_data("fixtures"))) {
    if (!entry.is_regular_file()) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    const std::string body((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    agrees_with_nlohmann(body);
    ++files;
  }
  CHECK(files > 100);
  std::mt19937 rng(11);
  const std::vector<std::string> pieces = {"{", "}", "[", "]", ",", ":", "\"", "\\", "\\u", "d83d", "dc00", "0", "-", "1", "9", ".",
                                "e", "E", "+", "true", "false", "null", " ", "\n", "\xC3", "\xA9", "\xFF", "\"k\"", "1e309",
                                "99999999999999999999", "\xEF\xBB\xBF", "\t", "\x01"};
  const std::string seed = R"({"id":"chatcmpl-1","choices":[{"index":0,"message":{"role":"assistant","content":"42 \u00e9"},)"
                           R"("finish_reason":"stop"}],"usage":{"prompt_tokens":19,"completion_tokens":10,"cost":1.5e-5}})";
  for (int trial = 0; trial < 5000; ++trial) {
    const std::string t = test::mutate(seed, rng, pieces);
    agrees_with_nlohmann(t);
  }
}
