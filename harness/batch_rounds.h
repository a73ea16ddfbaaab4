#pragma once
// Batch rounds: the cells of a batch model go to its provider's batch API (providers/batch_api.h)
// instead of the live client — the same requests at the batch rate. A batch is written to the store
// (its tag and every cell, state 'creating') before the provider is asked to create it, and gets its
// remote id right after; a run that died in between finds it again by its tag. A later run polls the
// batches the earlier ones left open instead of sending their cells again. An ended batch's answers
// are recorded like live ones (score, price at the batch tier, the writer); the batch is marked
// 'collected' only once those rows are committed. Expired or cancelled items (and retryable errors)
// go into a later batch while the retry settings allow, else are recorded as errors with the reason.
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <ostream>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "harness/plan.h"
#include "harness/spend_gate.h"
#include "providers/batch_api.h"
#include "results/store.h"

namespace reckon {

// What batch mode needs of every batch model (a provider with a batch API, no pipeline, no other
// service tier): InputError naming the model otherwise, before anything is written or sent.
void check_batch_ready(const Campaign& c, const RunOptions& opts);

class BatchRounds {
 public:
  struct Hooks {
    std::function<void(const Cell*, const CallResult&)> answered;  // a result: recorded as a live answer would be
    std::function<void(const Cell*)> unsent;                       // never submitted (spend cap, a refused batch)
    std::function<void(std::function<void(Store&)>)> after_rows;   // runs once the rows queued so far are committed
  };
  // Reads this run's open batches (resolving any a dead run left 'creating').
  BatchRounds(const Campaign& c, const RunOptions& opts, Store& store, std::string run_id, SpendGate& gate, RunReport& report,
              Hooks hooks);
  ~BatchRounds();
  // One request that goes by batch: a cell's own, or one of a pipeline's calls (each step its own round).
  // Its fingerprint is the batch item's custom_id.
  struct Job {
    std::string fingerprint;
    const ModelRef* ref = nullptr;
    std::function<ChatRequest()> request;  // built when submitted
    const PriceEntry* price = nullptr;
    const void* tag = nullptr;                      // the spend gate's
    std::function<void(const CallResult&)> done;    // its result: an answer, the provider's error, or given up
    std::function<void()> unsent;                   // never submitted (spend cap, a batch that could not be created)
  };
  // Whether the cell goes by batch: its model is sent in batches, or it is in a batch an earlier run left open.
  bool takes(const Cell& cell) const;
  // Whether a pipeline cell's calls go by batch.
  bool batches_calls_of(const Cell& cell) const { return sends_in_batches(c_, opts_, cell.model); }
  // Whether an earlier run left this request in a batch still open (it is collected, never sent again).
  bool in_open_batch(const std::string& fingerprint) const { return open_cells_.count(fingerprint) > 0; }
  void add(const Cell* cell);
  void add(Job job);
  // Submits what is queued, then polls and collects until every batch holding cells of this plan ended
  // (expired items resubmitted while rounds remain); with --detach, returns once submitted.
  void run(const std::atomic<bool>& interrupted);
  // The run stops before submitting (Ctrl-C in the live phase): what was queued is counted not sent.
  void drop_queued();
  // Why batches could not be submitted, if that stopped the run.
  const std::string& fatal() const { return fatal_; }
  // This run's batches: state, counts and turnaround (submitted → ended), if it has any.
  static void print(Store& store, const std::string& run_id, std::ostream& out);

 private:
  struct Open {
    std::string id, remote, model, tag;
    const ModelRef* ref = nullptr;
    int round = 1;
    int failures = 0;  // polls or reads in a row that failed; at kGiveUp the batch is left for a later run
    int64_t requests = 0;
    BatchStatus last;  // what the provider said at the last poll
    std::unordered_set<std::string> cells;  // fingerprints (the items' custom_ids) of this plan's jobs in it
  };
  static constexpr int kGiveUp = 5;
  bool pollable(const Open& b) const { return !b.remote.empty() && b.ref && !b.cells.empty() && b.failures < kGiveUp; }
  BatchApi* api(const ModelRef& ref);
  void load_open();
  void submit_queued();
  void submit(const ModelRef& ref, std::vector<std::string>& fps, std::vector<std::string>& lines, int round);
  void poll_open();
  void collect(Open& b, const BatchStatus& s);
  void settle(const std::string& fp, int round, const CallResult& res, bool not_run, const std::string& why);
  void unsent(const std::string& fp);
  void show() const;
  bool stop_on_interrupt();

  const Campaign& c_;
  const RunOptions& opts_;
  Store& store_;
  std::string run_id_;
  SpendGate& gate_;
  RunReport& report_;
  Hooks hooks_;
  std::map<std::string, std::unique_ptr<BatchApi>> apis_;   // by model name
  std::map<std::string, Open> open_;                          // by reckon's batch id
  std::unordered_map<std::string, std::string> open_cells_;   // fingerprint → batch id, for jobs an earlier run submitted
  std::unordered_map<std::string, Job> jobs_;                 // by fingerprint, until settled
  std::map<const ModelRef*, std::vector<std::pair<std::string, int>>> queued_;  // fingerprint, round
  std::string fatal_;
  bool cancelling_ = false;
};

}  // namespace reckon
