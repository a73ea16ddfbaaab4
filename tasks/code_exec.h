#pragma once
// Running model-written code inside bubblewrap (the sandbox Flatpak uses), never a home-made one:
// every namespace unshared (no network, its own PIDs, so nothing outlives the call), read-only
// system folders, no home, a private size-capped /tmp and /dev/shm, and the program's folder a
// size-capped tmpfs that is gone when the call ends. The code runs as an unprivileged user outside
// too (a fresh unused uid when reckon is root, else the user, with no capabilities), under per-process CPU,
// memory, file-size and process-count limits. Its output comes back through pipes opened before it
// starts, so reckon never opens a path the code could have replaced. A pass must be earned: a
// driver runs the program and, only when it returned normally, writes a per-run nonce (given on a
// pipe, never in a file) to a pipe the parent checks, so exiting early with status 0 fails.
// Without a working bubblewrap, code is not run at all (sandbox_ready says why).
#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

namespace reckon {

// Generous enough for slow reference solutions (MBPP 123 sums divisors up to 9,999 in Python).
struct SandboxLimits {
  double wall_s = 30;
  int cpu_s = 20;
  long memory_mb = 1024;    // address space of each process
  long file_mb = 16;        // each file, and each of the folder, /tmp and /dev/shm in total
  int max_processes = 32;
  size_t output_bytes = 2000;  // the tail of stdout+stderr kept
};

struct SandboxResult {
  bool passed = false;     // the program ran to its end (nonce seen) and exited 0 within the limits
  bool ran = false;        // false: the sandbox could not start (note says why); nothing was run
  bool completed = false;  // the driver reported the program returned normally
  int exit_code = -1;
  bool timed_out = false;
  std::string note;
  std::string output;  // the tail of stdout+stderr
};

// Whether code can be run here; `why` gets the reason when not (bubblewrap missing or refused).
// Probed once per process.
bool sandbox_ready(std::string* why = nullptr);

// Runs `program` with python3 -I inside the sandbox.
SandboxResult run_python_sandboxed(const std::string& program, const SandboxLimits& limits = {});

// A long-lived program in the same sandbox (a user's scorer), asked one line at a time: `folder` is
// bound read-only at /work, its working directory; `argv[0]` is found on the sandbox's PATH
// (/usr/bin:/bin). Started on first use; a line not answered within limits.wall_s, or the program
// ending, stops it with the reason (the next ask starts it again). Its stderr's tail is kept for messages.
class SandboxedCommand {
 public:
  SandboxedCommand(std::vector<std::string> argv, std::string folder, SandboxLimits limits);
  ~SandboxedCommand();
  SandboxedCommand(const SandboxedCommand&) = delete;
  SandboxedCommand& operator=(const SandboxedCommand&) = delete;
  // Sends `line` (no newline in it) and returns the program's next line; nullopt with `why` when none came.
  std::optional<std::string> ask(const std::string& line, std::string* why);

 private:
  bool start(std::string* why);
  void stop();
  std::vector<std::string> argv_;
  std::string folder_;
  SandboxLimits limits_;
  pid_t pid_ = -1;
  int to_ = -1, from_ = -1, err_ = -1;
  std::string pending_, err_tail_;  // read past the last line; the tail of stderr
};

}  // namespace reckon
