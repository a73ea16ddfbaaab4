#pragma once
// Shared test helpers: temporary folders, the shared data, running the reckon binary.
#include <functional>
#include <random>
#include <string>
#include <vector>

namespace reckon::test {

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }
  // Writes `content` to `name` inside the folder and returns its path.
  std::string write(const std::string& name, const std::string& content) const;

 private:
  std::string path_;
};

// Path under ../shared/data; fails the test when the shared data is missing.
std::string shared_data(const std::string& relative);
std::string read_file(const std::string& path);

// `seed` with 1–3 random edits (insert a piece, erase 1–4 bytes, or replace a byte by a piece): the
// fuzz-like inputs differential tests compare two readers on.
std::string mutate(std::string seed, std::mt19937& rng, const std::vector<std::string>& pieces);

struct CommandResult {
  int exit_code = -1;
  std::string out, err;
};
// Runs build/reckon with `args` (each shell-quoted) and extra environment assignments.
CommandResult run_reckon(const std::vector<std::string>& args, const std::vector<std::string>& env = {});

// Starts build/reckon with `args` in the background (stdout, and with `quiet_stderr` stderr, to
// /dev/null) and returns its pid, for tests that kill or signal it.
int start_reckon(const std::vector<std::string>& args, bool quiet_stderr = true);
// Polls `ready` every 5 ms until it holds (a progress marker: rows in the store, requests at the
// server); false after a minute. Kills and signals wait on these, never on a clock.
bool wait_until(const std::function<bool()>& ready);

}  // namespace reckon::test
