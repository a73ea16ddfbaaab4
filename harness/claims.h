#pragma once
// Several runners on one campaign and store (two terminals, a retried CI job, a second pod for one
// index): each registers in the store and claims the plan a block of cells at a time before
// sending any of them, so no cell is asked twice while its claimant lives. A runner that is gone —
// its process ended on this host (seen at once), or its heartbeat is older than its lease — leaves
// its unfinished blocks to whoever asks next. Blocks are counted in the plan's own order, which
// every runner of the same campaign (and shard) computes alike.
#include <atomic>
#include <condition_variable>
#include <exception>
#include <cstdint>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>

#include "results/store.h"

namespace reckon {

inline constexpr size_t kCellsPerBlock = 32;
inline constexpr size_t kClaimAhead = 32;  // blocks per claiming transaction

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

  // Claims block `block`. With `ahead`, the plan's walk in order: a thread of its own (own connection)
  // claims blocks kClaimAhead at a time, a few transactions ahead of the walk, so the network loop never
  // waits on the store's write lock. Without, on `store` (the caller's connection) at once: a waiting
  // runner taking over one block.
  ClaimState claim(Store& store, size_t block, bool ahead = true);
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
  // How many blocks the plan has at most: claiming ahead stops there.
  void set_plan_blocks(size_t n) {
    std::lock_guard<std::mutex> lock(mu_);
    plan_blocks_ = n;
  }
  // Live runners of this run, this one included (a runner reaped as gone is not counted).
  int64_t live_runners(Store& store);
  // A shared spend cap: takes `amount` more of it for this runner when everything the runners of this
  // session reserved (the gone ones' whole reservations, the ended ones' spend) leaves room; false if not.
  bool reserve(Store& store, double amount, double cap);
  // At the end: this runner's reservation becomes what it spent (the rest goes back to the others).
  void settle(double spent_usd) { spent_at_end_ = spent_usd; }

 private:
  void reap(Store& store, bool at_once = false);  // marks runners that are gone (at most every 0.5 s unless `at_once`)
  ClaimState claim_one(Store& store, size_t block);
  void beat();
  void claim_ahead();  // the claimer thread
  std::string block_key(size_t block) const { return scope_ + ":" + std::to_string(block); }
  void update_held(Store& store, size_t block, const char* set) const;
  std::string db_path_, run_id_, scope_, id_, host_;
  double lease_s_;
  size_t plan_blocks_ = SIZE_MAX;
  // The claimer: blocks up to `wanted_` are claimed in order from `next_`; results wait in `ready_`.
  std::map<size_t, ClaimState> ready_;
  size_t next_ = 0, wanted_ = 0;
  std::exception_ptr claimer_error_;
  std::condition_variable claimed_;
  std::thread claimer_;
  std::mutex taken_mu_;
  std::set<size_t> taken_over_;  // blocks this runner took from others: their cells are checked one by one
  std::atomic<int64_t> reaped_ns_{0};  // steady-clock time of the last reap (the claimer and the caller both reap)
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
