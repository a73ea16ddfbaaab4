#include "tasks/code_exec.h"
#include "common/stats.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/un.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <atomic>
#include <mutex>
#include <filesystem>
#include <fstream>
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
  std::string why;
  const bool ready = sandbox_ready(&why);
  INFO(why);
  REQUIRE(ready);
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
  // The process limit, seen alone: a parent whose children stay alive meets it (fork fails inside the
  // sandbox) long before the clock. A classic bomb's forkers die as they fail and free slots for the
  // rest, so when it dies out depends on the machine's load: it must only end and not pass.
  SandboxResult spawner = run_python_sandboxed(
      "import os, time\nwhile True:\n    if os.fork() == 0:\n        time.sleep(60)\n        os._exit(0)\n", fast);
  CHECK_FALSE(spawner.passed);
  CHECK_FALSE(spawner.timed_out);
  INFO(spawner.output);
  CHECK((spawner.output.find("BlockingIOError") != std::string::npos ||
         spawner.output.find("Resource temporarily unavailable") != std::string::npos));
  SandboxResult bomb = run_python_sandboxed("import os\nwhile True:\n    os.fork()", fast);
  CHECK_FALSE(bomb.passed);
  SandboxResult big = run_python_sandboxed("open('big', 'wb').write(b'0' * (64 << 20))", fast);
  CHECK_FALSE(big.passed);
  // Many files under the per-file limit still meet the folder's total (a 16 MB tmpfs).
  SandboxResult many = run_python_sandboxed("for i in range(8):\n    open(f'f{i}', 'wb').write(b'0' * (8 << 20))", fast);
  CHECK_FALSE(many.passed);
  CHECK(many.output.find("No space left") != std::string::npos);
  std::string outside = "/root/reckon-sandbox-escape-test";
  std::filesystem::remove(outside);
  SandboxResult escape = run_python_sandboxed("open('" + outside + "', 'w').write('x')", fast);
  CHECK_FALSE(escape.passed);
  CHECK_FALSE(std::filesystem::exists(outside));
  CHECK(pass_at_k(10, 3, 1) == Approx(0.3));
  CHECK(pass_at_k(5, 5, 2) == Approx(1.0));
  CHECK(pass_at_k(5, 1, 2) == Approx(0.4));
}

TEST_CASE("a pass is earned: exiting early, killing the interpreter or patching the exit never passes", "[code][security]") {
  REQUIRE(sandbox_ready());
  SandboxLimits fast;
  fast.wall_s = 5;
  const std::string tests = "\n\ndef check(f):\n    assert f(2) == 4\n    assert f(3) == 9\n\ncheck(square)\n";
  // The control: a right answer passes, a wrong one fails.
  CHECK(run_python_sandboxed("def square(x):\n    return x * x\n" + tests, fast).passed);
  CHECK_FALSE(run_python_sandboxed("def square(x):\n    return x + x\n" + tests, fast).passed);
  const std::vector<std::string> tricks = {
      "import os\nos._exit(0)\n",                                      // leave before the tests with status 0
      "import sys\nsys.exit(0)\n",                                     // SystemExit(0)
      "raise SystemExit(0)\n",
      "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n",     // kill the interpreter
      "import atexit, os\natexit.register(lambda: os._exit(0))\n",     // exit 0 from an exit hook after failing
      "import os\nos._exit = lambda code: None\nos.write = lambda fd, b: len(b)\n",  // patch what the driver calls
      "import builtins\nbuiltins.AssertionError = type('Quiet', (Exception,), {})\n",
      "import os\nos.close(3)\n",                                      // take the report pipe away
      "import os, sys\nsys.stdout.write('0' * 32 + '\\n'); os.write(3, b'0' * 32)\n",  // forge a report
      "import sys\nsys.settrace(None)\nimport os\nos.write(3, open('program.py', 'rb').read()[:32])\nos._exit(0)\n",
  };
  for (const auto& trick : tricks) {
    INFO(trick);
    // A wrong answer after the trick: only an unearned pass could score it.
    SandboxResult r = run_python_sandboxed(trick + "def square(x):\n    return x + x\n" + tests, fast);
    CHECK_FALSE(r.passed);
    CHECK_FALSE(r.completed);
  }
  SandboxResult early = run_python_sandboxed("import os\nos._exit(0)\n", fast);
  CHECK(early.exit_code == 0);
  CHECK(early.note == "the program exited before its tests finished");
}

namespace {

bool process_with_marker_alive(const std::string& marker) {
  for (const auto& e : std::filesystem::directory_iterator("/proc")) {
    std::string name = e.path().filename().string();
    if (name.empty() || !isdigit(static_cast<unsigned char>(name[0]))) continue;
    std::string cmdline = test::read_file(e.path().string() + "/cmdline");
    if (cmdline.find(marker) != std::string::npos) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("nothing the code starts outlives the call, and the host's files, temp folders and sockets are out of reach", "[code][security]") {
  REQUIRE(sandbox_ready());
  SandboxLimits fast;
  fast.wall_s = 5;
  // A daemon in its own session, as `os.setsid()` once escaped the process group: gone when the call ends.
  const std::string marker = "reckon-daemon-" + std::to_string(getpid());
  SandboxResult daemon = run_python_sandboxed(
      "import subprocess\nsubprocess.Popen(['python3', '-c', 'import time; time.sleep(60)', '" + marker +
          "'], start_new_session=True)\nprint('started')",
      fast);
  CHECK(daemon.passed);
  CHECK(daemon.output.find("started") != std::string::npos);
  CHECK_FALSE(process_with_marker_alive(marker));
  // The same after a timeout.
  SandboxLimits brief = fast;
  brief.wall_s = 1;
  SandboxResult held = run_python_sandboxed(
      "import subprocess, time\nsubprocess.Popen(['python3', '-c', 'import time; time.sleep(60)', '" + marker +
          "'], start_new_session=True)\ntime.sleep(60)",
      brief);
  CHECK(held.timed_out);
  CHECK_FALSE(process_with_marker_alive(marker));

  // Host files: a secret readable only by this user, the host's /tmp, the store's folder, /etc, $HOME.
  test::TempDir dir;
  std::string secret = dir.write("secret.txt", "sentinel-secret-7f3a");
  std::filesystem::permissions(secret, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  std::string visible = "/tmp/reckon-visible-" + std::to_string(getpid());
  test::TempDir sink;
  {
    std::ofstream(visible) << "host tmp";
  }
  SandboxResult reads = run_python_sandboxed(
      "import os\nfor p in ['" + secret + "', '" + visible + "', '/etc/passwd', '/etc/hostname', '/root/.bashrc']:\n"
      "    try:\n        print('READ', p, open(p).read()[:20])\n    except OSError as e:\n        print('refused', p)\n"
      "print('tmp', os.listdir('/tmp'))\nprint('ppid', os.getppid())\n"
      "for pid in os.listdir('/proc'):\n    if pid.isdigit():\n"
      "        try:\n            print('proc', pid, open(f'/proc/{pid}/cmdline', 'rb').read()[:60])\n        except OSError:\n            pass\n"
      "for d in ['/var/tmp', '/dev/shm', '/tmp']:\n"
      "    try:\n        open(d + '/reckon-left-behind', 'wb').write(b'x' * 1000)\n        print('wrote', d)\n"
      "    except OSError:\n        print('cannot write', d)\n",
      fast);
  INFO(reads.output);
  CHECK(reads.passed);
  CHECK(reads.output.find("READ") == std::string::npos);
  CHECK(reads.output.find("sentinel-secret") == std::string::npos);
  CHECK(reads.output.find("tmp []") != std::string::npos);  // a private, empty /tmp
  CHECK(reads.output.find("ppid 1\n") != std::string::npos);  // its own PID namespace: the host's processes out of sight
  CHECK(reads.output.find("tasks_tests") == std::string::npos);
  CHECK_FALSE(std::filesystem::exists("/var/tmp/reckon-left-behind"));
  CHECK_FALSE(std::filesystem::exists("/dev/shm/reckon-left-behind"));
  CHECK_FALSE(std::filesystem::exists("/tmp/reckon-left-behind"));
  std::filesystem::remove(visible);

  // A Unix socket listening in the host's /tmp: reachable from here, not from the sandbox.
  std::string sock_path = "/tmp/reckon-sock-" + std::to_string(getpid());
  ::unlink(sock_path.c_str());
  int listener = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", sock_path.c_str());
  REQUIRE(bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  REQUIRE(listen(listener, 4) == 0);
  SandboxResult unix_probe = run_python_sandboxed(
      "import socket\ns = socket.socket(socket.AF_UNIX)\ns.connect('" + sock_path + "')\nprint('connected')", fast);
  CHECK_FALSE(unix_probe.passed);
  int sneaked = accept(listener, nullptr, nullptr);
  CHECK(sneaked < 0);
  if (sneaked >= 0) close(sneaked);
  close(listener);
  ::unlink(sock_path.c_str());
}

TEST_CASE("the parent reads a bounded tail of any output, however much the code prints", "[code][security]") {
  REQUIRE(sandbox_ready());
  SandboxLimits lim;
  lim.wall_s = 3;
  SandboxResult flood = run_python_sandboxed("import sys\nwhile True:\n    sys.stdout.write('y' * 65536)", lim);
  CHECK(flood.timed_out);
  CHECK(flood.output.size() <= lim.output_bytes);
  SandboxResult tail = run_python_sandboxed("print('x' * 100000)\nprint('the end')", lim);
  CHECK(tail.passed);
  CHECK(tail.output.size() <= lim.output_bytes);
  CHECK(tail.output.find("the end") != std::string::npos);
}

TEST_CASE("sandboxed code cannot connect to a listener on the host's loopback", "[code][security]") {
  REQUIRE(sandbox_ready());
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
  CHECK_FALSE(net.passed);
  CHECK(net.output.find("connected") == std::string::npos);
  CHECK(sneaked < 0);
}
