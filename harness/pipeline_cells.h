#pragma once
// Cells answered by a pipeline: each call is its own row (step "call:<step>", e.g.
// call:generate.repair1) with its usage and cost; a rerun takes this run's finished calls from the
// store and an identical call of any run from the response cache, so an interrupted pipeline
// resumes mid-way without paying again. The cell's row (no step) holds the final answer, its score
// and the sums of its calls; it is marked cache_hit because its calls already paid (spend counts
// each call once).
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "harness/batch_rounds.h"
#include "harness/record.h"
#include "harness/spend_gate.h"
#include "pipelines/pipeline.h"

namespace reckon {

class PipelineCells {
 public:
  // Reads this run's finished calls from `store`. `finished` is called with each cell once its row is
  // written; each call's estimate leaves `gate` when the call ends.
  PipelineCells(const Campaign& c, Store& store, const std::string& run_id, ModelClient& client, AnsweredBefore& before,
                Recorder& recorder, SpendGate& gate, RunReport& report, std::function<void(const Cell*)> finished);
  // Starts the cell's pipeline: its first calls are answered from the store or sent.
  void start(const Cell* cell);
  // A batch model's calls go to `batches` instead of the client: each step is a batch round.
  void route_batches(BatchRounds* batches) { batches_ = batches; }

 private:
  struct CallDone {
    std::string response;
    Usage usage;
    CostBreakdown cost;
  };
  struct Running {
    const Cell* cell;
    std::unique_ptr<PipelineRun> run;
    Usage total;
    CostBreakdown cost;
    bool priced = true;
    int64_t calls = 0;
  };
  void pump(Running& pc);  // sends or answers the next calls until some are in flight or the pipeline is done
  void finish(Running& pc);
  // A call's result (from the client or a batch): its row written, the pipeline told, and pumped on.
  void on_call(Running& me, const PipelineCall& call, const std::string& fp, const std::string& key, const ChatRequest& sent,
               const CallResult& res);
  RequestRecord call_row(const Running& pc, const PipelineCall& call, const std::string& fp, const std::string& key) const;
  static void add_to_total(Running& pc, const Usage& u, const CostBreakdown& cost);

  const Campaign& c_;
  ModelClient& client_;
  AnsweredBefore& before_;
  Recorder& recorder_;
  SpendGate& gate_;
  RunReport& report_;
  std::function<void(const Cell*)> finished_;
  std::map<std::string, CallDone> finished_calls_;  // this run's, by fingerprint
  std::deque<Running> running_;
  BatchRounds* batches_ = nullptr;
};

}  // namespace reckon
