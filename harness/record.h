#pragma once
// Record: every finished cell and call becomes a row — stamped with the run, scored, priced by
// what served it and what was billed — and goes to the writer. Spend counts every call that was
// billed (a failed one too), and nothing served from the store.
#include <optional>
#include <string>
#include <vector>

#include "harness/admit.h"
#include "harness/campaign.h"
#include "harness/plan.h"
#include "providers/client.h"
#include "results/row_writer.h"

namespace reckon {

// What a call's row records of its outcome: status, attempts, timings, usage, the answer.
void record_outcome(RequestRecord& r, const CallResult& res);
// The prompt as stored: the text of a single message, else the messages as JSON.
std::string prompt_text(const std::vector<Message>& messages);

class Recorder {
 public:
  Recorder(const Campaign& c, std::string run_id, RowWriter& writer, BlockLedger& ledger, RunReport& report)
      : c_(c), run_id_(std::move(run_id)), writer_(writer), ledger_(ledger), report_(report) {}

  // A row naming the cell: fingerprint, request key, model, task, item, repeat.
  RequestRecord row_for(const Cell& cell) const;
  // Stamps `r` with the run and the time (if not set), prices it with `price` under the tier that
  // served it (`asked` when the provider did not say), and counts it in spend unless served from the store.
  void price(RequestRecord& r, const PriceEntry* price, ServiceTier asked);
  // The cell's own row: its prompt, reference and route, its score (the judge's verdict when
  // `judged`), its price (`paid_by_calls`: a pipeline's row already carries its calls' costs);
  // written, and the cell counted finished in its block.
  void finish(RequestRecord r, const Cell& cell, std::optional<ScoreResult> judged = std::nullopt, bool paid_by_calls = false);
  // Runs `step` once every row queued before it is committed.
  void after_rows(std::function<void(Store&)> step) { writer_.push_after(std::move(step)); }
  // A row beside a cell's (a judge's verdict, a pipeline's call), already priced.
  void write(RequestRecord r) { writer_.push(std::move(r)); }
  // The items are stored as the run reaches them, by the writer with the rows.
  void store_item(size_t task, const Item& item);

 private:
  const Campaign& c_;
  std::string run_id_;
  RowWriter& writer_;
  BlockLedger& ledger_;
  RunReport& report_;
};

}  // namespace reckon
