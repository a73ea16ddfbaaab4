#pragma once
// Errors that end a command, and the exit-code contract every subcommand keeps.
#include <stdexcept>
#include <string>

namespace reckon {

enum ExitCode : int {
  kExitOk = 0,
  kExitFailure = 1,   // the command ran and the answer is "no" (e.g. a gate failed)
  kExitUsage = 2,     // bad usage or bad input: nothing was done
  kExitInterrupted = 130,
};

// Bad input from outside (a file, a flag, a database): the message names the file, line or field.
class InputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace reckon
