#pragma once
// Judged tasks (TruthfulQA): the answer's row waits for the judge's verdict; the judge's call is a
// row of its own (step "judge"), priced and counted in spend like any call.
#include <deque>
#include <functional>
#include <set>

#include "harness/record.h"

namespace reckon {

class JudgeCalls {
 public:
  // `graded` is called with each cell once its answer row is written.
  JudgeCalls(const Campaign& c, ModelClient& client, Recorder& recorder, const PriceEntry* judge_price, RunReport& report,
             std::function<void(const Cell*)> graded)
      : c_(c), client_(client), recorder_(recorder), judge_price_(judge_price), report_(report), graded_(std::move(graded)) {}
  // Whether the cell's task is graded by the campaign's judge.
  bool judges(const Cell& cell) const { return c_.judge && !c_.tasks[cell.task].judge_prompt.empty(); }
  // Asks the judge about `answer` (an ok answer of `cell`); its row is written with the verdict.
  void grade(RequestRecord answer, const Cell* cell);
  // Whether a call's tag is a judge's (already paid for answers: never held back by the spend cap).
  bool owns(const void* tag) const { return tags_.count(tag) > 0; }

 private:
  struct Job {
    RequestRecord answer;
    const Cell* cell;
  };
  const Campaign& c_;
  ModelClient& client_;
  Recorder& recorder_;
  const PriceEntry* judge_price_;
  RunReport& report_;
  std::function<void(const Cell*)> graded_;
  std::deque<Job> jobs_;
  std::set<const void*> tags_;
};

// The judge's word: "yes" → 1, "no" → 0, anything else unreadable (no score).
ScoreResult read_verdict(const std::string& text);

}  // namespace reckon
