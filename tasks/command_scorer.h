#pragma once
// Your own scorer (the `command` scorer): a program that reads one JSON line per answer on stdin —
// {"id", "prompt", "response", "reference", "fields"} — and writes one line back per answer: a score
// in [0, 1], or {"score": x or null, "prediction": "..."}. It runs in the code sandbox (code_exec.h:
// no network, read-only system, its folder read-only at /work), started once per command and kept
// for the run's answers in order; a reply that does not come within the task's timeout, or cannot
// be read, leaves the answer unscored with the reason as its prediction.
#include <string>

#include "tasks/task.h"

namespace reckon {

// The task spec's fields an item carries for its scorer: "command" (argv), "command_dir" (bound at
// /work; default the current folder) and "command_timeout_s" (default 30).
ScoreResult command_score(const Item& item, const std::string& response);

// One reply line as a score: a number in [0, 1] or {"score", "prediction"}; anything else unscored.
ScoreResult read_command_reply(const std::string& line);

}  // namespace reckon
