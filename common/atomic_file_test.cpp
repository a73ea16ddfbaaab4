#include "common/atomic_file.h"

#include <catch2/catch.hpp>

#include <atomic>
#include <filesystem>
#include <thread>
#include <vector>

#include "tests/support.h"

using namespace reckon;

TEST_CASE("a file written atomically is whole for every reader and writer, and nothing is left when it is not finished", "[files]") {
  test::TempDir dir;
  const std::string path = dir.file("report.html");
  {
    AtomicFile unfinished(path);
    unfinished.out() << "half";
  }  // never committed: no file, no temporary
  CHECK(std::filesystem::is_empty(dir.path()));
  // Eight writers of 1 MB each, one letter per writer, and a reader throughout: it only ever sees one
  // writer's whole file (without the rename it would see a truncated or mixed one).
  std::atomic<bool> done{false};
  std::atomic<int> torn{0}, seen{0};
  std::thread reader([&] {
    while (!done) {
      if (!std::filesystem::exists(path)) continue;
      const std::string text = test::read_file(path);
      if (text.empty()) continue;  // the name was between two renames
      ++seen;
      if (text.size() != (1u << 20) || text.find_first_not_of(text[0]) != std::string::npos) ++torn;
    }
  });
  std::vector<std::thread> writers;
  for (int w = 0; w < 8; ++w)
    writers.emplace_back([&, w] {
      for (int k = 0; k < 5; ++k) write_file_atomically(path, std::string(1u << 20, static_cast<char>('a' + w)));
    });
  for (auto& t : writers) t.join();
  done = true;
  reader.join();
  CHECK(torn == 0);
  CHECK(seen > 0);
  const std::string last = test::read_file(path);
  CHECK(last.size() == (1u << 20));
  size_t files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) files += e.is_regular_file();
  CHECK(files == 1);  // no temporary left behind
  CHECK_THROWS_WITH(write_file_atomically(dir.file("no-such-folder/x.csv"), "x"), Catch::Contains("no-such-folder/x.csv: cannot write"));
}
