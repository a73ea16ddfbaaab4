#pragma once
// Shared test helpers: temporary folders, the shared data, running the reckon binary.
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

struct CommandResult {
  int exit_code = -1;
  std::string out, err;
};
// Runs build/reckon with `args` (each shell-quoted) and extra environment assignments.
CommandResult run_reckon(const std::vector<std::string>& args, const std::vector<std::string>& env = {});

}  // namespace reckon::test
