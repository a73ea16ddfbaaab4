#include "common/sha256.h"

#include <catch2/catch.hpp>

#include "common/error.h"
#include "tests/support.h"

using namespace reckon;

TEST_CASE("SHA-256 of known vectors", "[sha256]") {
  CHECK(sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_CASE("SHA-256 of a file matches the mirror manifest", "[sha256]") {
  // gsm8k LICENSE row of MANIFEST.tsv
  std::string p = test::shared_data("mirror/openai/grade-school-math/3101c7d5072418e28b9008a6636bde82a006892c/LICENSE");
  CHECK(sha256_file_hex(p) == "86bbb73e855821d7c401912fd4bf82e34313e6e3b6fd6f909f2b6cc9e209a53b");
  CHECK_THROWS_AS(sha256_file_hex("/nonexistent/file"), InputError);
}
