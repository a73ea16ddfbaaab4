#pragma once
// Several runners on one campaign and store (two terminals, a retried CI job, a second pod for one
// index): each registers in the store and claims the plan a block of cells at a time before
// sending any of them, so no cell is asked twice while its claimant lives. A runner that is gone —
// its process ended on this host (seen at once), or its heartbeat is older than its lease — leaves
// its unfinished blocks to whoever asks next. Blocks are counted in the plan's own order, which
// every runner of the same campaign (and shard) computes alike.
#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "results/store.h"

namespace reckon {

inline constexpr size_t kCellsPerBlock = 32;

enum class ClaimState {
  kMine,       // newly claimed: its cells are this runner's (finished ones known from the start of the run)
  kTakenOver,  // claimed from a runner that is gone: its cells may have finished since, so each is checked
  kBusy,       // a live runner holds it
  kDone,       // finished by someone
};

class CampaignClaims {
 public:
  // Registers this process as a runner of `run_id` (own connection; a heartbeat thread renews the
  // lease every lease_s / 3). `scope` keeps blocks of different sharding apart ("1/1", "2/4").
  CampaignClaims(const std::string& db_path, std::string run_id, std::string scope, double lease_s);
  ~CampaignClaims();  // unregisters: unfinished blocks go to the others at once
  CampaignClaims(const CampaignClaims&) = delete;
  CampaignClaims& operator=(const CampaignClaims&) = delete;

  // Claims block `block` in one short transaction on `store` (the caller's connection).
  ClaimState claim(Store& store, size_t block);
  // Every block of this run and scope that someone claimed, as claim() would find it now (kTakenOver: its
  // holder is gone, so claim() would take it) — one read for a runner waiting on many blocks.
  std::map<size_t, ClaimState> survey(Store& store);
  // The statement that marks a block done: run by the row writer after the block's rows, in their transaction.
  void mark_done(Store& store, size_t block) const;
  // A block this runner finished with cells still to retry: let go (after its rows), so a runner that
  // waits on it takes it instead of waiting for this one to end — two runners each holding such a block
  // would otherwise wait on each other for ever.
  void release(Store& store, size_t block) const;
  const std::string& runner_id() const { return id_; }
  // Live runners of this run, this one included (a runner reaped as gone is not counted).
  int64_t live_runners(Store& store);
  // A shared spend cap: takes `amount` more of it for this runner when everything the runners of this
  // session reserved (the gone ones' whole reservations, the ended ones' spend) leaves room; false if not.
  bool reserve(Store& store, double amount, double cap);
  // At the end: this runner's reservation becomes what it spent (the rest goes back to the others).
  void settle(double spent_usd) { spent_at_end_ = spent_usd; }

 private:
  void reap(Store& store);  // forgets runners that are gone
  void beat();
  std::string db_path_, run_id_, scope_, id_, host_;
  double lease_s_;
  std::optional<double> spent_at_end_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread heartbeat_;
};

// This process's start time in clock ticks since boot (/proc/self/stat field 22): with the pid, it names
// a process uniquely, so a pid reused by another program is not taken for a live runner.
int64_t process_start_ticks(pid_t pid);

}  // namespace reckon
