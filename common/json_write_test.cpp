#include "common/json_write.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <limits>
#include <random>
#include <sstream>

#include "tests/support.h"

using namespace reckon;

namespace {

std::string written(const nlohmann::json& v) {
  std::string out = "prefix:";
  append_json(out, v);
  REQUIRE(out.rfind("prefix:", 0) == 0);  // appended, never replaced
  return out.substr(7);
}

// Every JSON value in the recorded provider bodies: whole files, JSONL lines and SSE data lines.
std::vector<nlohmann::json> recorded_values() {
  std::vector<nlohmann::json> values;
  auto add = [&](const std::string& text) {
    auto v = nlohmann::json::parse(text, nullptr, false);
    if (!v.is_discarded()) values.push_back(std::move(v));
  };
  for (const auto& entry : std::filesystem::recursive_directory_iterator(test::shared_data("fixtures"))) {
    if (!entry.is_regular_file()) continue;
    const std::string body = test::read_file(entry.path().string());
    add(body);
    std::istringstream lines(body);
    for (std::string line; std::getline(lines, line);) add(line.rfind("data:", 0) == 0 ? line.substr(5) : line);
  }
  return values;
}

}  // namespace

TEST_CASE("a value is written as nlohmann's dump writes it, by hand", "[json]") {
  CHECK(written(nullptr) == "null");
  CHECK(written(true) == "true");
  CHECK(written(-9223372036854775807LL - 1) == "-9223372036854775808");
  CHECK(written(std::numeric_limits<uint64_t>::max()) == "18446744073709551615");
  CHECK(written(0.5) == "0.5");
  CHECK(written(2.0) == "2.0");
  CHECK(written(std::numeric_limits<double>::quiet_NaN()) == "null");
  CHECK(written(nlohmann::json::parse(R"({"z":[1,{"b":"\n","a":null}],"a":"caf\u00e9\u0001"})")) ==
        "{\"a\":\"caf\xC3\xA9\\u0001\",\"z\":[1,{\"a\":null,\"b\":\"\\n\"}]}");
  CHECK(written(nlohmann::json::array()) == "[]");
  CHECK(written(nlohmann::json::object()) == "{}");
}

TEST_CASE("every recorded provider value, and mutations of them, is written byte for byte as dump() writes it", "[json]") {
  const auto values = recorded_values();
  REQUIRE(values.size() > 500);
  for (const auto& v : values) REQUIRE(written(v) == v.dump());
  // Mutated strings inside real values: controls, quotes, multi-byte text; invalid UTF-8 refused alike.
  std::mt19937 rng(20261203);
  const std::vector<std::string> pieces{"\x80", "\xC3", "\xED\xA0\x80", "\x00", "\n", "\\", "\"", "\xE2\x82\xAC", "\x7f"};
  int refused = 0;
  for (size_t k = 0; k < 3000; ++k) {
    nlohmann::json v = {{"value", values[(k * 7919) % values.size()]}};
    v["mutated"] = test::mutate("usage \"tokens\" caf\xC3\xA9", rng, pieces);
    v["n"] = static_cast<double>(k) / 7.0;
    std::string want, got, want_error, got_error;
    try {
      want = v.dump();
    } catch (const nlohmann::json::exception& e) {
      want_error = e.what();
      ++refused;
    }
    try {
      got = written(v);
    } catch (const nlohmann::json::exception& e) {
      got_error = e.what();
    }
    REQUIRE(got_error == want_error);
    REQUIRE(got == want);
  }
  CHECK(refused > 100);
}
