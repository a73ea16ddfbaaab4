// Replays every fuzz corpus input and crash reproducer (tests/fuzz/corpus/<target>/) through its
// target in the ordinary (and sanitizer) build, so a fixed crash stays fixed.
#include <catch2/catch.hpp>
#include <filesystem>

#include "tests/fuzz/targets.h"
#include "tests/support.h"

namespace fs = std::filesystem;

TEST_CASE("every fuzz corpus input and crash reproducer runs cleanly through its target", "[fuzz]") {
  std::string root = std::string(RECKON_SOURCE_DIR) + "/tests/fuzz/corpus";
  size_t inputs = 0;
  for (const auto& t : reckon::fuzz::targets()) {
    fs::path dir = fs::path(root) / t.name;
    REQUIRE(fs::is_directory(dir));
    for (const auto& f : fs::directory_iterator(dir)) {
      std::string bytes = reckon::test::read_file(f.path().string());
      INFO(t.name << ": " << f.path().filename().string());
      CHECK(t.fn(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()) == 0);
      ++inputs;
    }
  }
  CHECK(inputs >= 12);
}
