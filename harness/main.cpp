#include <csignal>

#include "harness/commands.h"

int main(int argc, char** argv) {
  // Past a file size limit (ulimit -f) a write should fail with EFBIG, which the store reports and
  // rolls back, rather than the process being killed mid-write.
  std::signal(SIGXFSZ, SIG_IGN);
  return reckon::run_cli(argc, argv);
}
