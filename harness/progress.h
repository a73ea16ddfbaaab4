#pragma once
// What a running campaign shows, and when it gives up.
#include <chrono>
#include <cstddef>
#include <string>

#include "harness/campaign.h"

namespace reckon {

// The progress line on a terminal: every finished cell counts (resumed, cached, other runners'),
// so the rate and ETA are this session's pace over what is left; spend is the campaign's (the
// store's before this session, plus this session's); the last line says what happened instead of an ETA.
class ProgressLine {
 public:
  ProgressLine(bool tty, size_t expected_cells, double spent_before)
      : tty_(tty), expected_(expected_cells), spent_before_(spent_before) {}
  bool on_terminal() const { return tty_; }
  // At most four lines a second unless `final`; the session's pace is its answered and failed cells.
  void show(const RunReport& rep, size_t retried, const std::string& last_cause, bool final);

 private:
  bool tty_;
  size_t expected_;
  double spent_before_;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now(), last_ = started_;
};

// A run where every recent call fails the same way (a closed port, a wrong model name, an exhausted
// account the provider reports oddly) stops early and says why, instead of asking the rest in vain.
class FailureStreak {
 public:
  static constexpr size_t kStopAfter = 20;
  // Counts one call's outcome; true when this failure makes the streak long enough to stop.
  bool add(bool ok, const std::string& cause);
  const std::string& last_cause() const { return last_cause_; }
  const std::string& verdict() const { return verdict_; }  // why the run stopped; empty while it goes on

 private:
  std::string last_cause_, last_kind_, verdict_;
  size_t same_ = 0;
};

}  // namespace reckon
