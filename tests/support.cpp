#include "tests/support.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <thread>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace fs = std::filesystem;

namespace reckon::test {

TempDir::TempDir() {
  std::string tmpl = (fs::temp_directory_path() / "reckon-test-XXXXXX").string();
  if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

std::string TempDir::write(const std::string& name, const std::string& content) const {
  std::string p = file(name);
  fs::create_directories(fs::path(p).parent_path());
  std::ofstream(p, std::ios::binary) << content;
  return p;
}

std::string shared_data(const std::string& relative) {
  std::string p = std::string(RECKON_SHARED_DATA) + "/" + relative;
  INFO("shared data expected at " << p << " (the project sits beside ../shared)");
  REQUIRE(fs::exists(p));
  return p;
}

std::string mutate(std::string t, std::mt19937& rng, const std::vector<std::string>& pieces) {
  for (int edits = 1 + static_cast<int>(rng() % 3); edits > 0; --edits) {
    const size_t at = rng() % (t.size() + 1);
    const std::string& p = pieces[rng() % pieces.size()];
    switch (rng() % 3) {
      case 0: t.insert(at, p); break;
      case 1: t.erase(at, 1 + rng() % 4); break;
      default: t.replace(at, 1, p);
    }
  }
  return t;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

namespace {
std::string quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}
}  // namespace

CommandResult run_reckon(const std::vector<std::string>& args, const std::vector<std::string>& env) {
  TempDir tmp;
  std::string cmd = "env";
  for (const auto& e : env) cmd += " " + quote(e);
  cmd += " " + quote(RECKON_BINARY);
  for (const auto& a : args) cmd += " " + quote(a);
  cmd += " >" + quote(tmp.file("out")) + " 2>" + quote(tmp.file("err"));
  int status = std::system(cmd.c_str());
  CommandResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = read_file(tmp.file("out"));
  r.err = read_file(tmp.file("err"));
  return r;
}

int start_reckon(const std::vector<std::string>& args, bool quiet_stderr) {
  pid_t pid = fork();
  if (pid == 0) {
    int devnull = open("/dev/null", O_WRONLY);
    dup2(devnull, 1);
    if (quiet_stderr) dup2(devnull, 2);
    std::vector<char*> argv{const_cast<char*>(RECKON_BINARY)};
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(RECKON_BINARY, argv.data());
    _exit(127);
  }
  return pid;
}

bool wait_until(const std::function<bool()>& ready) {
  for (int i = 0; i < 12000; ++i) {
    if (ready()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return false;
}

}  // namespace reckon::test
