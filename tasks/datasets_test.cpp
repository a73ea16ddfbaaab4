#include "tasks/datasets.h"

#include <catch2/catch.hpp>
#include <httplib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

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

namespace {

// Every file under `dir` whose name holds ".part".
std::vector<std::string> part_files(const std::string& dir) {
  std::vector<std::string> found;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.path().filename().string().find(".part") != std::string::npos) found.push_back(e.path().string());
  return found;
}

}  // namespace

TEST_CASE("a pull stops at the registered size and at its time limit, and leaves no .part behind", "[data][security]") {
  const Dataset* aime = find_dataset("aime25");
  const int64_t registered = aime->files[0].bytes;
  // A server that answers 400 MB for a small file (it once took all of it before the checksum failed):
  // stopped as soon as the size is passed.
  httplib::Server server;
  server.Get("/slow/.*", [&](const httplib::Request&, httplib::Response& res) {
    res.set_chunked_content_provider("text/plain", [&](size_t, httplib::DataSink& sink) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));  // 100 bytes every 200 ms: alive, never done
      return sink.write(std::string(100, 'y').data(), 100);
    });
  });
  std::atomic<int64_t> sent{0};
  server.Get(".*", [&](const httplib::Request&, httplib::Response& res) {
    res.set_chunked_content_provider("text/plain", [&](size_t, httplib::DataSink& sink) {
      std::string chunk(64 << 10, 'x');
      if (sent > (400 << 20)) return false;
      sent += static_cast<int64_t>(chunk.size());
      return sink.write(chunk.data(), chunk.size());
    });
  });
  const int port = server.bind_to_any_port("127.0.0.1");
  std::thread serving([&] { server.listen_after_bind(); });
  test::TempDir cache;
  PullOptions o;
  o.mirror = "http://127.0.0.1:" + std::to_string(port);
  o.cache_dir = cache.path();
  CHECK_THROWS_WITH(pull_dataset(*aime, o), Catch::Contains("larger than its registered " + std::to_string(registered) + " bytes"));
  CHECK(sent < (8 << 20));  // stopped early, not after 400 MB
  CHECK(part_files(cache.path()).empty());
  CHECK_FALSE(fs::exists(cached_path(aime->files[0], cache.path())));

  o.mirror = "http://127.0.0.1:" + std::to_string(port) + "/slow";
  o.timeout_s = 1;
  CHECK_THROWS_WITH(pull_dataset(*aime, o), Catch::Contains("timed out after 1 s"));
  CHECK(part_files(cache.path()).empty());
  server.stop();
  serving.join();
}

TEST_CASE("a .part left by a pull that was killed is removed by the next pull", "[data]") {
  test::TempDir cache;
  const Dataset* aime = find_dataset("aime25");
  const std::string dest = cached_path(aime->files[0], cache.path());
  fs::create_directories(fs::path(dest).parent_path());
  pid_t dead = fork();
  if (dead == 0) _exit(0);
  waitpid(dead, nullptr, 0);  // a process that no longer exists
  const std::string stale = dest + ".part." + std::to_string(dead) + ".1";
  const std::string live = dest + ".part." + std::to_string(getppid()) + ".1";  // a running process: not touched
  { std::ofstream(stale) << "half"; }
  { std::ofstream(live) << "half"; }
  PullOptions o;
  o.mirror = mirror();
  o.cache_dir = cache.path();
  pull_dataset(*aime, o);
  CHECK_FALSE(fs::exists(stale));
  CHECK(fs::exists(live));
}
