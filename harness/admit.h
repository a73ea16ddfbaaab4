#pragma once
// Admit: which planned cells this runner sends. A cell is skipped when this run finished it
// (resume), answered from the store when any run asked the identical request (the response cache),
// and walked in blocks claimed against the other runners of the campaign (claims.h): another live
// runner's block is skipped and waited for at the end, a gone runner's taken over.
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "harness/claims.h"
#include "harness/plan.h"
#include "results/row_writer.h"
#include "results/store.h"

namespace reckon {

// AnsweredBefore::is_done on stored rows, as an SQL condition on `requests`: transient failures are asked again.
extern const char* const kDoneSql;

// What the store already holds for a run: its finished cells and every run's answers. The hashes
// the store held at the start are kept, 8 bytes each: a cell asks the store only on a likely hit,
// so a run neither holds its cells' keys nor reads the database for each cell while the writer commits.
class AnsweredBefore {
 public:
  AnsweredBefore(Store& store, std::string run_id, bool earlier_run);
  // This run finished the cell before it started (resume).
  bool done(const Cell& cell);
  // Asked of the store now: a block taken over from a runner that is gone may have cells finished since the start.
  bool done_now(const Cell& cell);
  // Whether the store held an answer to this request key when the run started (8-byte prefixes: a
  // yes is confirmed by serve); a cell asks the store only then.
  bool known_at_start(const std::string& request_key) const;
  // Serves `row` from the response cache: an answer to the identical request (row.request_key) of any
  // run, this one's included, gives it the original's answer, usage and finish reason, marked as a
  // cache hit; false when there is none.
  bool serve(RequestRecord& row);
  // Whether a finished row leaves its cell done: answered, or failed in a way a rerun would be billed
  // for the same again (a 200 the provider sent: an invalid request, an answer reckon cannot read).
  static bool is_done(const RequestRecord& r);

 private:
  Store& store_;
  std::string run_id_;
  std::vector<uint64_t> done_keys_, cache_keys_;
  Statement done_q_, cache_q_;
};

// Per block of the plan: how many of its cells were planned and finished. A block is marked done
// (after its rows are committed) once each of its cells is done; with any cell to retry it is let
// go for the next runner.
class BlockLedger {
 public:
  BlockLedger(CampaignClaims* claims, RowWriter& writer) : claims_(claims), writer_(writer) {}
  void planned(const Cell& cell) { ++blocks_[cell.block].planned; }
  void finished(const Cell& cell, bool done);
  void close(size_t block);  // no more cells of it will be planned in this pass

 private:
  struct Progress {
    size_t planned = 0, finished = 0, open_cells = 0;
    bool closed = false;
  };
  void settle(size_t block);
  CampaignClaims* claims_;
  RowWriter& writer_;
  std::unordered_map<size_t, Progress> blocks_;
};

// The plan walked a block at a time: a block is claimed before any of its cells is sent. A later
// pass walks the plan again for the blocks taken over meanwhile, counting their cells only once.
class ClaimedWalk {
 public:
  ClaimedWalk(CampaignPlan& plan, CampaignClaims* claims, Store& store, AnsweredBefore& before, BlockLedger& ledger,
              RunReport& counts)
      : plan_(plan), claims_(claims), store_(store), before_(before), ledger_(ledger), counts_(counts) {}
  // The next cell to answer (its block this runner's, not done); nullptr at the end of the pass.
  std::unique_ptr<Cell> next();
  // Blocks other runners held when the walk met them, and not yet seen finished.
  const std::set<size_t>& waiting() const { return waiting_; }
  // One look at the blocks waited for: those done are forgotten, those whose runner is gone are
  // taken over. Returns whether any was taken (then the plan has been rewound for a pass over them).
  bool take_over_gone();
  // Counts what is left of the plan, unsent, after a run that stopped early.
  void count_unreached();

 private:
  void close_block();
  CampaignPlan& plan_;
  CampaignClaims* claims_;
  Store& store_;
  AnsweredBefore& before_;
  BlockLedger& ledger_;
  RunReport& counts_;  // cells, skipped_done and by_others are the walk's to count
  size_t ordinal_ = 0, block_ = SIZE_MAX;
  std::optional<ClaimState> state_;
  std::set<size_t> waiting_;
  std::map<size_t, ClaimState> pass_;  // a later pass: the blocks it walks
  bool later_pass_ = false;
};

}  // namespace reckon
