#include "tasks/code_exec.h"

#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <vector>

namespace fs = std::filesystem;

namespace reckon {
namespace {

constexpr uid_t kNobody = 65534;

// Runs program.py as __main__ and writes the nonce (read from stdin, kept only in a local) to fd 3
// only when the program returned normally. os.write/os._exit are bound before the program runs, so
// patching them cannot turn a failure into a pass; SystemExit (even status 0) is a failure.
constexpr const char* kDriver = R"PY(
import os, sys
def _main():
    write, leave = os.write, os._exit
    nonce = sys.stdin.buffer.readline().strip()
    os.close(0)
    os.open(os.devnull, os.O_RDONLY)
    ok = False
    try:
        with open('program.py', 'rb') as f:
            source = f.read()
        exec(compile(source, 'program.py', 'exec'), {'__name__': '__main__'})
        ok = True
    except BaseException:
        try:
            import traceback
            traceback.print_exc()
        except BaseException:
            pass
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BaseException:
        ok = False
    if ok:
        write(3, nonce)
    leave(0 if ok else 1)
_main()
)PY";

std::string find_bwrap() {
  if (const char* env = std::getenv("RECKON_BWRAP")) return env;  // a seam for tests and odd installs
  for (const char* p : {"/usr/bin/bwrap", "/usr/local/bin/bwrap", "/bin/bwrap"})
    if (access(p, X_OK) == 0) return p;
  return "";
}

std::string find_python() {
  for (const char* p : {"/usr/bin/python3", "/usr/local/bin/python3"})
    if (access(p, X_OK) == 0) return p;
  return "";
}

// How bwrap is started: as root, first as a spare uid (an unprivileged user namespace), else as root
// (bwrap unshares the user namespace itself and drops every capability).
enum class RunAs { kSelf, kSpareUid };

// A uid no account uses, fresh for each call: it owns no file, and RLIMIT_NPROC (counted per uid)
// is this sandbox's alone, so one run's fork bomb cannot starve a neighbour running at the same time.
uid_t spare_uid() {
  uint32_t r = 0;
  while (getrandom(&r, sizeof r, 0) != sizeof r) {
  }
  return 2000000000u + r % 100000000u;
}

// Tasks (threads count) owned by `uid` now: RLIMIT_NPROC counts them all, so the sandbox's budget is
// added on top of what the user already runs.
long tasks_of(uid_t uid) {
  long n = 0;
  DIR* proc = opendir("/proc");
  if (!proc) return 0;
  while (dirent* e = readdir(proc)) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    struct stat st{};
    std::string base = std::string("/proc/") + e->d_name;
    if (stat(base.c_str(), &st) != 0 || st.st_uid != uid) continue;
    std::error_code ec;
    for (auto it = fs::directory_iterator(base + "/task", ec); !ec && it != fs::directory_iterator(); it.increment(ec)) ++n;
  }
  closedir(proc);
  return n;
}

// What every sandbox shares: every namespace unshared, read-only system folders, size-capped tmpfs
// for /tmp, /dev/shm and /sandbox, an unprivileged uid inside, a clean environment.
std::vector<std::string> sandbox_args(const std::string& bwrap, const SandboxLimits& lim, RunAs as) {
  const std::string size = std::to_string(lim.file_mb << 20);
  std::vector<std::string> a = {bwrap, "--unshare-all", "--die-with-parent", "--new-session", "--hostname", "sandbox",
                                "--ro-bind", "/usr", "/usr"};
  for (const char* top : {"/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"}) {
    std::error_code ec;
    if (fs::is_symlink(top, ec)) {
      a.insert(a.end(), {"--symlink", fs::read_symlink(top, ec).string(), top});
    } else if (fs::is_directory(top, ec)) {
      a.insert(a.end(), {"--ro-bind", top, top});
    }
  }
  // The dynamic linker's cache only; the rest of /etc (users, hosts, credentials) stays out.
  a.insert(a.end(), {"--ro-bind-try", "/etc/ld.so.cache", "/etc/ld.so.cache", "--proc", "/proc", "--dev", "/dev",
                     "--size", size, "--tmpfs", "/dev/shm", "--size", size, "--tmpfs", "/tmp", "--size", size, "--tmpfs",
                     "/sandbox", "--uid", std::to_string(kNobody), "--gid", std::to_string(kNobody), "--clearenv",
                     "--setenv", "PATH", "/usr/bin:/bin", "--setenv", "HOME", "/sandbox", "--setenv", "LANG", "C.UTF-8",
                     "--setenv", "PYTHONDONTWRITEBYTECODE", "1"});
  if (as == RunAs::kSelf && geteuid() == 0) a.insert(a.end(), {"--cap-drop", "ALL"});
  return a;
}

std::vector<std::string> bwrap_args(const std::string& bwrap, const std::string& python, int program_fd, const SandboxLimits& lim,
                                    RunAs as) {
  std::vector<std::string> a = sandbox_args(bwrap, lim, as);
  a.insert(a.end(), {"--file", std::to_string(program_fd), "/sandbox/program.py", "--chdir", "/sandbox", python, "-I", "-c", kDriver});
  return a;
}

void limit(int resource, rlim_t value) {
  rlimit r{value, value};
  setrlimit(resource, &r);
}

std::string random_nonce() {
  unsigned char bytes[16];
  size_t got = 0;
  while (got < sizeof bytes) {
    ssize_t n = getrandom(bytes + got, sizeof bytes - got, 0);
    if (n > 0) got += static_cast<size_t>(n);
  }
  static const char* hex = "0123456789abcdef";
  std::string s;
  for (unsigned char b : bytes) s += {hex[b >> 4], hex[b & 15]};
  return s;
}

// The child puts its pipes on 0-3: every fd it starts from sits above them, so no dup2 clobbers another.
int above_stdio(int fd) {
  if (fd < 0 || fd >= 10) return fd;
  int moved = fcntl(fd, F_DUPFD_CLOEXEC, 10);
  close(fd);
  return moved;
}

struct Pipe {
  int read = -1, write = -1;
  bool open() {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) return false;
    read = above_stdio(fds[0]);
    write = above_stdio(fds[1]);
    return read >= 0 && write >= 0;
  }
  void close_read() { if (read >= 0) ::close(read), read = -1; }
  void close_write() { if (write >= 0) ::close(write), write = -1; }
  ~Pipe() { close_read(), close_write(); }
};

// Starts bwrap (argv) in a process group of its own under the limits, as the spare uid when asked,
// with `fds` on 0, 1, 2 (and 3 when given); `keep_fd` stays open across exec for bwrap to read.
pid_t spawn(std::vector<char*>& argv, const SandboxLimits& lim, RunAs as, std::vector<int> fds, int keep_fd = -1) {
  // Everything the child needs is worked out before fork: after it, only async-signal-safe calls.
  char* envp[] = {nullptr};
  const uid_t run_uid = as == RunAs::kSpareUid ? spare_uid() : getuid();
  const rlim_t nproc = static_cast<rlim_t>(tasks_of(run_uid) + lim.max_processes + 2);  // + bwrap's two
  pid_t pid = fork();
  if (pid != 0) return pid;
  setpgid(0, 0);
  for (size_t i = 0; i < fds.size(); ++i) dup2(fds[i], static_cast<int>(i));
  if (keep_fd >= 0) fcntl(keep_fd, F_SETFD, 0);  // bwrap reads it by number
  limit(RLIMIT_CPU, static_cast<rlim_t>(lim.cpu_s));
  limit(RLIMIT_AS, static_cast<rlim_t>(lim.memory_mb) << 20);
  limit(RLIMIT_FSIZE, static_cast<rlim_t>(lim.file_mb) << 20);
  limit(RLIMIT_CORE, 0);
  limit(RLIMIT_NPROC, nproc);
  if (as == RunAs::kSpareUid) {
    if (setgroups(0, nullptr) != 0 || setgid(run_uid) != 0 || setuid(run_uid) != 0) _exit(126);
  }
  execve(argv[0], argv.data(), envp);
  _exit(127);
}

SandboxResult run(const std::string& program, const SandboxLimits& lim, RunAs as) {
  SandboxResult res;
  std::string bwrap = find_bwrap(), python = find_python();
  if (bwrap.empty() || access(bwrap.c_str(), X_OK) != 0) {
    res.note = "bubblewrap (bwrap) is not installed: code is not run without it (apt-get install bubblewrap)";
    return res;
  }
  if (python.empty()) {
    res.note = "python3 is not installed: code is not run";
    return res;
  }
  // The program reaches the sandbox through a memory file bwrap copies in: nothing on the host's disk.
  int program_fd = above_stdio(memfd_create("reckon-program", MFD_CLOEXEC));
  if (program_fd < 0) {
    res.note = std::string("memfd_create failed: ") + std::strerror(errno);
    return res;
  }
  for (size_t off = 0; off < program.size();) {
    ssize_t n = write(program_fd, program.data() + off, program.size() - off);
    if (n <= 0) {
      close(program_fd);
      res.note = "cannot hand the program to the sandbox";
      return res;
    }
    off += static_cast<size_t>(n);
  }
  lseek(program_fd, 0, SEEK_SET);
  Pipe in, out, done;
  if (!in.open() || !out.open() || !done.open()) {
    close(program_fd);
    res.note = "pipe failed";
    return res;
  }
  // Everything the child needs is built before fork: after it, only async-signal-safe calls.
  std::vector<std::string> args = bwrap_args(bwrap, python, program_fd, lim, as);
  std::vector<char*> argv;
  for (auto& s : args) argv.push_back(s.data());
  argv.push_back(nullptr);
  const std::string nonce = random_nonce();

  const pid_t pid = spawn(argv, lim, as, {in.read, out.write, out.write, done.write}, program_fd);
  close(program_fd);
  in.close_read();
  out.close_write();
  done.close_write();
  if (pid < 0) {
    res.note = "fork failed";
    return res;
  }
  std::string line = nonce + "\n";
  (void)!write(in.write, line.data(), line.size());
  in.close_write();

  auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(lim.wall_s);
  std::string report;
  int status = 0;
  bool reaped = false;
  char buf[8192];
  for (;;) {
    pollfd fds[2] = {{out.read, POLLIN, 0}, {done.read, POLLIN, 0}};
    int n = poll(fds, 2, 20);
    for (int i = 0; i < 2 && n > 0; ++i) {
      if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      int fd = fds[i].fd;
      ssize_t got = read(fd, buf, sizeof buf);
      if (got <= 0) {
        if (i == 0) out.close_read(); else done.close_read();
        continue;
      }
      if (i == 0) {
        res.output.append(buf, static_cast<size_t>(got));
        if (res.output.size() > 2 * lim.output_bytes) res.output.erase(0, res.output.size() - lim.output_bytes);
      } else if (report.size() < 256) {
        report.append(buf, static_cast<size_t>(got));
      }
    }
    if (!reaped && waitpid(pid, &status, WNOHANG) == pid) reaped = true;
    // With its own PID namespace, everything inside dies with bwrap, so the pipes close too.
    if (reaped && out.read < 0 && done.read < 0) break;
    if (std::chrono::steady_clock::now() > deadline) {
      if (!reaped) {
        res.timed_out = true;
        kill(-pid, SIGKILL);
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        reaped = true;
      }
      if (std::chrono::steady_clock::now() > deadline + std::chrono::seconds(2)) break;  // a pipe held open: give up reading
    }
  }
  if (res.output.size() > lim.output_bytes) res.output.erase(0, res.output.size() - lim.output_bytes);
  res.ran = true;
  res.completed = !res.timed_out && report == nonce;
  if (!res.timed_out && WIFEXITED(status)) res.exit_code = WEXITSTATUS(status);
  res.passed = res.completed && res.exit_code == 0;
  if (!res.timed_out && !res.completed && res.exit_code == 0)
    res.note = "the program exited before its tests finished";
  return res;
}

std::once_flag g_probe_once;
bool g_ready = false;
RunAs g_as = RunAs::kSelf;
std::string g_why;

void probe() {
  SandboxLimits lim;
  lim.wall_s = 10;
  std::vector<RunAs> tries = geteuid() == 0 ? std::vector<RunAs>{RunAs::kSpareUid, RunAs::kSelf} : std::vector<RunAs>{RunAs::kSelf};
  for (RunAs as : tries) {
    SandboxResult r = run("print('ready')", lim, as);
    if (r.passed && r.output.find("ready") != std::string::npos) {
      g_ready = true;
      g_as = as;
      return;
    }
    if (g_why.empty()) {
      g_why = !r.note.empty() ? r.note : "bubblewrap could not start a sandbox here: " + r.output.substr(0, 300);
    }
  }
}

}  // namespace

bool sandbox_ready(std::string* why) {
  std::call_once(g_probe_once, probe);
  if (!g_ready && why) *why = g_why;
  return g_ready;
}

SandboxedCommand::SandboxedCommand(std::vector<std::string> argv, std::string folder, SandboxLimits limits)
    : argv_(std::move(argv)), folder_(std::move(folder)), limits_(limits) {}

SandboxedCommand::~SandboxedCommand() { stop(); }

void SandboxedCommand::stop() {
  if (pid_ > 0) {
    kill(-pid_, SIGKILL);
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
  for (int* fd : {&to_, &from_, &err_})
    if (*fd >= 0) close(*fd), *fd = -1;
  pending_.clear();
}

bool SandboxedCommand::start(std::string* why) {
  if (!sandbox_ready(why)) return false;
  if (argv_.empty()) {
    *why = "no command to run";
    return false;
  }
  // Its stdin is a socket, so a write after it ended fails (MSG_NOSIGNAL) instead of raising SIGPIPE.
  int sv[2];
  Pipe out, err;
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0 || !out.open() || !err.open()) {
    *why = "cannot open pipes to the command";
    return false;
  }
  const int mine = above_stdio(sv[0]), theirs = above_stdio(sv[1]);
  std::vector<std::string> args = sandbox_args(find_bwrap(), limits_, g_as);
  args.insert(args.end(), {"--ro-bind", folder_, "/work", "--chdir", "/work"});
  args.insert(args.end(), argv_.begin(), argv_.end());
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_ = spawn(argv, limits_, g_as, {theirs, out.write, err.write});
  close(theirs);
  if (pid_ < 0) {
    close(mine);
    *why = "fork failed";
    return false;
  }
  to_ = mine;
  from_ = out.read, out.read = -1;
  err_ = err.read, err.read = -1;
  err_tail_.clear();
  return true;
}

std::optional<std::string> SandboxedCommand::ask(const std::string& line, std::string* why) {
  std::string ignored;
  if (!why) why = &ignored;
  if (pid_ < 0 && !start(why)) return std::nullopt;
  const std::string out = line + "\n";
  for (size_t off = 0; off < out.size();) {
    ssize_t n = send(to_, out.data() + off, out.size() - off, MSG_NOSIGNAL);
    if (n <= 0) {
      if (n < 0 && errno == EINTR) continue;
      stop();
      *why = "the command stopped reading" + (err_tail_.empty() ? std::string() : ": " + err_tail_);
      return std::nullopt;
    }
    off += static_cast<size_t>(n);
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(limits_.wall_s);
  char buf[4096];
  for (;;) {
    if (auto nl = pending_.find('\n'); nl != std::string::npos) {
      std::string reply = pending_.substr(0, nl);
      pending_.erase(0, nl + 1);
      return reply;
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
    if (left <= 0) {
      stop();
      *why = "no reply within " + std::to_string(limits_.wall_s) + " s (stopped; the next answer starts it again)";
      return std::nullopt;
    }
    pollfd fds[2] = {{from_, POLLIN, 0}, {err_, POLLIN, 0}};
    if (poll(fds, 2, static_cast<int>(std::min<long long>(left, 1000))) <= 0) continue;
    if (fds[1].revents & (POLLIN | POLLHUP)) {
      ssize_t n = read(err_, buf, sizeof buf);
      if (n > 0) {
        err_tail_.append(buf, static_cast<size_t>(n));
        if (err_tail_.size() > limits_.output_bytes) err_tail_.erase(0, err_tail_.size() - limits_.output_bytes);
      }
    }
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t n = read(from_, buf, sizeof buf);
      if (n > 0) {
        if (pending_.size() < (1u << 20)) pending_.append(buf, static_cast<size_t>(n));
        continue;
      }
      // Ended: its stderr says why, if anything does.
      while (err_ >= 0 && poll(fds + 1, 1, 100) > 0 && (n = read(err_, buf, sizeof buf)) > 0) err_tail_.append(buf, static_cast<size_t>(n));
      const std::string tail = err_tail_.size() > 300 ? err_tail_.substr(err_tail_.size() - 300) : err_tail_;
      stop();
      *why = "the command ended without replying" + (tail.empty() ? std::string() : ": " + tail);
      return std::nullopt;
    }
  }
}

SandboxResult run_python_sandboxed(const std::string& program, const SandboxLimits& lim) {
  std::string why;
  if (!sandbox_ready(&why)) {
    SandboxResult res;
    res.note = why;
    return res;
  }
  return run(program, lim, g_as);
}

}  // namespace reckon
