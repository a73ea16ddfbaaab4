#include "tasks/code_exec.h"
#include "common/stats.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <atomic>
#include <mutex>
#include <filesystem>
#include <thread>

#include "tasks/task.h"
#include "tests/mirror_data.h"
#include "tests/support.h"

using namespace reckon;

namespace {

// Scores every item with `response_of` on 4 threads; returns how many passed.
int score_all(const std::vector<Item>& items, std::string (*response_of)(const std::vector<Item>&, size_t), std::vector<std::string>* failed) {
  std::atomic<size_t> next{0};
  std::atomic<int> passed{0};
  std::mutex mu;
  auto worker = [&] {
    for (size_t i = next++; i < items.size(); i = next++) {
      if (find_scorer("code_python")->score(items[i], response_of(items, i)).value == 1.0) {
        ++passed;
      } else if (failed) {
        std::lock_guard<std::mutex> lock(mu);
        failed->push_back(items[i].id);
      }
    }
  };
  std::vector<std::thread> pool;
  for (int t = 0; t < 4; ++t) pool.emplace_back(worker);
  for (auto& t : pool) t.join();
  return passed;
}

std::string own(const std::vector<Item>& items, size_t i) { return items[i].reference; }
std::string shuffled(const std::vector<Item>& items, size_t i) { return items[(i + items.size() / 2) % items.size()].reference; }

}  // namespace

TEST_CASE("canonical HumanEval solutions pass 164/164 and shuffled ones almost never", "[code][humaneval]") {
  test::TempDir cache;
  auto items = load_items(*find_builtin_task("humaneval"), test::mirror_access(cache));
  REQUIRE(items.size() == 164);
  std::vector<std::string> failed;
  CHECK(score_all(items, own, &failed) == 164);
  for (const auto& f : failed) WARN("failed: " << f);
  CHECK(score_all(items, shuffled, nullptr) < 10);
}

TEST_CASE("sanitized MBPP reference code passes all 427", "[code][mbpp]") {
  test::TempDir cache;
  auto items = load_items(*find_builtin_task("mbpp"), test::mirror_access(cache));
  REQUIRE(items.size() == 427);
  std::vector<std::string> failed;
  CHECK(score_all(items, own, &failed) == 427);
  for (const auto& f : failed) WARN("failed: " << f);
}

TEST_CASE("the sandbox stops timeouts, fork bombs, memory hogs and writes outside its folder", "[code][security]") {
  SandboxLimits fast;
  fast.wall_s = 2;
  fast.cpu_s = 2;
  CHECK(run_python_sandboxed("print('ok')").passed);
  CHECK_FALSE(run_python_sandboxed("raise SystemExit(3)").passed);
  SandboxResult loop = run_python_sandboxed("while True: pass", fast);
  CHECK_FALSE(loop.passed);
  SandboxResult sleeper = run_python_sandboxed("import time\ntime.sleep(60)", fast);
  CHECK(sleeper.timed_out);
  SandboxResult hog = run_python_sandboxed("x = bytearray(4 * 1024 * 1024 * 1024)", fast);
  CHECK_FALSE(hog.passed);
  // The fork bomb is stopped by the process limit (fork fails inside the sandbox), not by the clock.
  SandboxResult bomb = run_python_sandboxed("import os\nwhile True:\n    os.fork()", fast);
  CHECK_FALSE(bomb.passed);
  CHECK_FALSE(bomb.timed_out);
  INFO(bomb.output);
  CHECK((bomb.output.find("BlockingIOError") != std::string::npos ||
         bomb.output.find("Resource temporarily unavailable") != std::string::npos));
  SandboxResult big = run_python_sandboxed("open('big', 'wb').write(b'0' * (64 << 20))", fast);
  CHECK_FALSE(big.passed);
  std::string outside = "/root/reckon-sandbox-escape-test";
  std::filesystem::remove(outside);
  SandboxResult escape = run_python_sandboxed("open('" + outside + "', 'w').write('x')", fast);
  CHECK_FALSE(escape.passed);
  CHECK_FALSE(std::filesystem::exists(outside));
  CHECK(pass_at_k(10, 3, 1) == Approx(0.3));
  CHECK(pass_at_k(5, 5, 2) == Approx(1.0));
  CHECK(pass_at_k(5, 1, 2) == Approx(0.4));
}

namespace {

// Whether this kernel lets a process make a network namespace the way the sandbox does (as root directly,
// otherwise inside a user namespace).
bool kernel_grants_network_namespace() {
  pid_t pid = fork();
  if (pid == 0) {
    if (unshare(CLONE_NEWNET) == 0) _exit(0);
    if (geteuid() != 0 && unshare(CLONE_NEWUSER | CLONE_NEWNET) == 0) _exit(0);
    _exit(1);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

}  // namespace

TEST_CASE("sandboxed code cannot connect to a listener on the host's loopback", "[code][security]") {
  // A real listener in this process: reachable from here, so only isolation can keep the child out.
  int listener = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  REQUIRE(listener >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  REQUIRE(listen(listener, 8) == 0);
  socklen_t len = sizeof addr;
  REQUIRE(getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  const std::string port = std::to_string(ntohs(addr.sin_port));
  {  // the control: this process can connect
    int probe = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(connect(probe, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    close(probe);
    int accepted = accept(listener, nullptr, nullptr);
    CHECK(accepted >= 0);
    if (accepted >= 0) close(accepted);
  }
  SandboxLimits fast;
  fast.wall_s = 5;
  SandboxResult net = run_python_sandboxed(
      "import socket\ns = socket.create_connection(('127.0.0.1', " + port + "), timeout=2)\nprint('connected')", fast);
  const int sneaked = accept(listener, nullptr, nullptr);  // non-blocking: -1 unless the child got through
  if (sneaked >= 0) close(sneaked);
  close(listener);
  if (kernel_grants_network_namespace()) {
    REQUIRE(net.network_isolated);
    CHECK_FALSE(net.passed);
    CHECK(net.output.find("connected") == std::string::npos);
    CHECK(sneaked < 0);
  } else {
    // Said plainly: without namespaces the scorer runs code with the host's network and says so.
    WARN("this kernel refuses network namespaces: network isolation cannot be shown here (" << net.note << ")");
    CHECK_FALSE(net.network_isolated);
    CHECK_FALSE(net.note.empty());
  }
}


