#include "tasks/datasets.h"

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "common/error.h"
#include "common/text.h"
#include "tests/support.h"

using namespace reckon;
namespace fs = std::filesystem;

namespace {

std::string mirror() { return test::shared_data("mirror"); }

}  // namespace

TEST_CASE("the dataset registry matches the mirror's MANIFEST.tsv row for row", "[data]") {
  std::string manifest = test::read_file(test::shared_data("mirror/MANIFEST.tsv"));
  auto from_manifest = parse_dataset_registry(manifest, "MANIFEST.tsv");
  const auto& reg = dataset_registry();
  REQUIRE(reg.size() == from_manifest.size());
  for (size_t i = 0; i < reg.size(); ++i) {
    REQUIRE(reg[i].name == from_manifest[i].name);
    REQUIRE(reg[i].files.size() == from_manifest[i].files.size());
    for (size_t k = 0; k < reg[i].files.size(); ++k) {
      CHECK(reg[i].files[k].relative_path() == from_manifest[i].files[k].relative_path());
      CHECK(reg[i].files[k].sha256 == from_manifest[i].files[k].sha256);
    }
  }
  CHECK(find_dataset("gsm8k") != nullptr);
  CHECK(find_dataset("price-reversal")->files.size() > 20);
}

TEST_CASE("pulling from a mirror folder verifies and caches and a second pull reads the cache", "[data]") {
  test::TempDir cache;
  PullOptions o;
  o.mirror = mirror();
  o.cache_dir = cache.path();
  const Dataset* ds = find_dataset("gsm8k");
  auto paths = pull_dataset(*ds, o);
  REQUIRE(paths.size() == 2);
  CHECK(fs::file_size(paths[0]) == 749738);
  // With an empty mirror the cached, verified files are still used.
  test::TempDir empty;
  o.mirror = empty.path();
  CHECK(pull_dataset(*ds, o) == paths);
  // file:// URLs work as mirrors too.
  test::TempDir cache2;
  o.mirror = "file://" + mirror();
  o.cache_dir = cache2.path();
  CHECK(pull_dataset(*ds, o).size() == 2);
}

TEST_CASE("a checksum mismatch is an error and nothing is cached", "[data]") {
  test::TempDir bad, cache;
  const Dataset* ds = find_dataset("gsm8k");
  for (const auto& f : ds->files) bad.write(f.relative_path(), "tampered\n");
  PullOptions o;
  o.mirror = bad.path();
  o.cache_dir = cache.path();
  CHECK_THROWS_WITH(pull_dataset(*ds, o), Catch::Contains("checksum mismatch") && Catch::Contains("not used or cached"));
  CHECK_FALSE(fs::exists(cached_path(ds->files[0], cache.path())));
  CHECK_FALSE(fs::exists(cached_path(ds->files[0], cache.path()) + ".part"));
}

TEST_CASE("a missing file in the mirror is reported with its URL", "[data]") {
  test::TempDir empty, cache;
  PullOptions o;
  o.mirror = empty.path();
  o.cache_dir = cache.path();
  CHECK_THROWS_WITH(pull_dataset(*find_dataset("aime25"), o), Catch::Contains("cannot download file://"));
  o.mirror = empty.path() + "/does-not-exist";
  CHECK_THROWS_WITH(pull_dataset(*find_dataset("aime25"), o), Catch::Contains("not a folder"));
}
