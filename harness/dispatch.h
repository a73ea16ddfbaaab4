#pragma once
// Dispatch: admitted cells go to the client a window at a time as it drains (memory and the loop
// stay at the window's size however many cells the campaign has); each answer goes to the
// recorder, a judged one by way of the judge, a pipeline's calls by way of its pipeline; a batch
// model's cells are gathered into batch rounds (batch_rounds.h) once the live ones are sent. Calls
// are held back at the spend cap and on Ctrl-C; a run whose calls all fail the same way stops.
// Afterwards, blocks other runners hold are waited for, and those whose runner is gone taken over.
#include <atomic>
#include <memory>
#include <string>
#include <unordered_map>

#include "harness/admit.h"
#include "harness/batch_rounds.h"
#include "harness/judging.h"
#include "harness/pipeline_cells.h"
#include "harness/progress.h"
#include "harness/record.h"
#include "harness/spend_gate.h"
#include "providers/client.h"

namespace reckon {

// What dispatch hands cells between.
struct DispatchParts {
  const Campaign& campaign;
  const RunOptions& options;
  Store& store;
  const std::string& run_id;
  ClaimedWalk& walk;
  AnsweredBefore& before;
  Recorder& recorder;
  SpendGate& gate;
  CampaignClaims* claims;  // null: this runner is alone
  const PriceEntry* judge_price;
  RunReport& report;
};

class Dispatch {
 public:
  // `share_rates`: runners of one campaign share the account's rate limits (each takes 1/n, n counted each second).
  Dispatch(DispatchParts parts, ModelClient& client, ProgressLine& progress, size_t window, bool share_rates);
  // Until every cell is answered (this runner's and, waited for, the others'), or the run stops.
  void run(const std::atomic<bool>& interrupted);
  // The spend cap, Ctrl-C, a fatal error or a streak of one failure stopped the run.
  bool stopped() const;
  // Why the run stopped, if a fatal error, a batch that could not be created, or a streak of failures stopped it.
  std::string fatal() const;
  void show(bool final) { progress_.show(p_.report, retried_, streak_.last_cause(), final); }

 private:
  bool submit_next();
  void on_answer(const Cell* cell, const CallResult& res);
  bool admit(const ChatRequest& req, const void* tag, const std::atomic<bool>& interrupted);
  void release(const Cell* cell) { live_.erase(cell); }

  DispatchParts p_;
  ModelClient& client_;
  ProgressLine& progress_;
  size_t window_;
  bool share_rates_;
  std::chrono::steady_clock::time_point share_checked_;
  FailureStreak streak_;
  size_t retried_ = 0;  // calls that needed more than one attempt
  std::unordered_map<const Cell*, std::unique_ptr<Cell>> live_;  // from planning until the row is written
  JudgeCalls judging_;
  PipelineCells pipelines_;
  BatchRounds batches_;  // cells of batch models, and cells an earlier run left in open batches
};

}  // namespace reckon
