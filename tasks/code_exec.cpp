#include "tasks/code_exec.h"

#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace fs = std::filesystem;

namespace reckon {
namespace {

constexpr uid_t kNobody = 65534;

void limit(int resource, rlim_t value) {
  rlimit r{value, value};
  setrlimit(resource, &r);
}

std::string python_path() {
  for (const char* p : {"/usr/bin/python3", "/usr/local/bin/python3"})
    if (access(p, X_OK) == 0) return p;
  return "python3";
}

}  // namespace

SandboxResult run_python_sandboxed(const std::string& program, const SandboxLimits& lim) {
  SandboxResult res;
  std::string tmpl = (fs::temp_directory_path() / "reckon-sandbox-XXXXXX").string();
  if (!mkdtemp(tmpl.data())) {
    res.note = "cannot create a sandbox directory";
    return res;
  }
  std::string dir = tmpl;
  { std::ofstream(dir + "/program.py") << program; }
  bool root = geteuid() == 0;
  if (root) {
    chown(dir.c_str(), kNobody, kNobody);
    chown((dir + "/program.py").c_str(), kNobody, kNobody);
  }
  chmod(dir.c_str(), 0700);
  int status_pipe[2];
  if (pipe2(status_pipe, O_CLOEXEC) != 0) {
    res.note = "pipe failed";
    fs::remove_all(dir);
    return res;
  }
  std::string out_path = dir + "/.output";
  std::string python = python_path();
  pid_t pid = fork();
  if (pid == 0) {
    setpgid(0, 0);
    close(status_pipe[0]);
    char isolated = 0;
    if (unshare(CLONE_NEWNET) == 0) {
      isolated = 1;
    } else if (!root && unshare(CLONE_NEWUSER | CLONE_NEWNET) == 0) {
      isolated = 1;
    }
    (void)!write(status_pipe[1], &isolated, 1);
    int out = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (out >= 0) {
      if (root) fchown(out, kNobody, kNobody);
      dup2(out, 1);
      dup2(out, 2);
    }
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) dup2(devnull, 0);
    if (chdir(dir.c_str()) != 0) _exit(126);
    limit(RLIMIT_CPU, static_cast<rlim_t>(lim.cpu_s));
    limit(RLIMIT_AS, static_cast<rlim_t>(lim.memory_mb) << 20);
    limit(RLIMIT_FSIZE, static_cast<rlim_t>(lim.file_mb) << 20);
    limit(RLIMIT_CORE, 0);
    limit(RLIMIT_NPROC, static_cast<rlim_t>(lim.max_processes));
    if (root) {  // root ignores RLIMIT_NPROC and may write anywhere: drop to nobody
      setgroups(0, nullptr);
      if (setgid(kNobody) != 0 || setuid(kNobody) != 0) _exit(126);
    }
    const char* env[] = {"PATH=/usr/bin:/bin", "HOME=/nonexistent", "LANG=C.UTF-8", "PYTHONDONTWRITEBYTECODE=1", nullptr};
    execle(python.c_str(), python.c_str(), "-I", "program.py", static_cast<char*>(nullptr), env);
    _exit(127);
  }
  close(status_pipe[1]);
  char isolated = 0;
  if (pid > 0 && read(status_pipe[0], &isolated, 1) == 1) res.network_isolated = isolated == 1;
  close(status_pipe[0]);
  if (pid < 0) {
    res.note = "fork failed";
    fs::remove_all(dir);
    return res;
  }
  if (!res.network_isolated) res.note = "the kernel refused a network namespace: the code ran with the host's network";
  auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(lim.wall_s);
  int status = 0;
  for (;;) {
    pid_t w = waitpid(pid, &status, WNOHANG);
    if (w == pid) break;
    if (std::chrono::steady_clock::now() > deadline) {
      res.timed_out = true;
      kill(-pid, SIGKILL);
      waitpid(pid, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  kill(-pid, SIGKILL);  // whatever it forked goes too
  if (!res.timed_out && WIFEXITED(status)) res.exit_code = WEXITSTATUS(status);
  res.passed = !res.timed_out && WIFEXITED(status) && WEXITSTATUS(status) == 0;
  std::ifstream in(out_path);
  std::stringstream ss;
  ss << in.rdbuf();
  res.output = ss.str();
  if (res.output.size() > 2000) res.output = res.output.substr(res.output.size() - 2000);
  std::error_code ec;
  fs::remove_all(dir, ec);
  return res;
}

}  // namespace reckon
