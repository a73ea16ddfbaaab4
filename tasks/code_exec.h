#pragma once
// Running model-written code: a child process in a throwaway directory, with CPU, memory,
// file-size and process-count limits, a wall-clock timeout that kills its whole process group,
// no network (a new network namespace where the kernel allows it), and as an unprivileged user
// when reckon runs as root.
#include <string>

namespace reckon {

// Generous enough for slow reference solutions (MBPP 123 sums divisors up to 9,999 in Python).
struct SandboxLimits {
  double wall_s = 30;
  int cpu_s = 20;
  long memory_mb = 1024;
  long file_mb = 16;
  int max_processes = 32;
};

struct SandboxResult {
  bool passed = false;       // exit status 0 within the limits
  int exit_code = -1;
  bool timed_out = false;
  bool network_isolated = false;  // false: the kernel refused a network namespace (said in `note`)
  std::string note;
  std::string output;        // the tail of stdout+stderr
};

// Runs `program` with python3 (-I: isolated mode).
SandboxResult run_python_sandboxed(const std::string& program, const SandboxLimits& limits = {});

}  // namespace reckon
