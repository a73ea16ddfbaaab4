#include "harness/progress.h"

#include <iostream>

#include "common/text.h"

namespace reckon {

void ProgressLine::show(const RunReport& rep, size_t retried, const std::string& last_cause, bool final) {
  if (!tty_) return;
  const size_t sent_finished = rep.ok + rep.errors;
  auto now = std::chrono::steady_clock::now();
  if (!final && now - last_ < std::chrono::milliseconds(250)) return;
  last_ = now;
  const size_t done = sent_finished + rep.skipped_done + rep.cached + rep.by_others;
  double secs = std::chrono::duration<double>(now - started_).count();
  double rate = secs > 0 ? static_cast<double>(sent_finished) / secs : 0;
  double eta = rate > 0 ? static_cast<double>(expected_ > done ? expected_ - done : 0) / rate : 0;
  std::cerr << "\r" << done << "/" << (final ? std::to_string(done) : "~" + std::to_string(expected_)) << " cells  "
            << fmt_fixed(rate, 1) << "/s  spent " << fmt_usd(spent_before_ + rep.spent_usd) << "  retried " << retried
            << "  errors " << rep.errors;
  if (!last_cause.empty() && rep.errors > 0) std::cerr << " (last: " << last_cause.substr(0, 60) << ")";
  if (final) std::cerr << "  done in " << fmt_fixed(secs, 1) << "s\n";
  else std::cerr << "  ETA " << fmt_fixed(eta, 0) << "s   ";
  std::cerr << std::flush;
}

bool FailureStreak::add(bool ok, const std::string& cause) {
  if (ok) {
    same_ = 0;
    return false;
  }
  // The same failure, whatever numbers it quotes: curl's "after 0 ms" becomes "after 1 ms" under load.
  std::string kind;
  for (char ch : cause)
    if (!(ch >= '0' && ch <= '9')) kind += ch;
    else if (kind.empty() || kind.back() != '#') kind += '#';
  same_ = kind == last_kind_ ? same_ + 1 : 1;
  last_kind_ = kind;
  last_cause_ = cause;
  if (same_ < kStopAfter || !verdict_.empty()) return false;
  verdict_ = "the last " + std::to_string(same_) + " calls all failed the same way (" + cause +
             "); stopped early, rerun to finish once it is fixed";
  return true;
}

}  // namespace reckon
