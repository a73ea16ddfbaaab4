#include "harness/pipeline_cells.h"

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/sha256.h"
#include "pipelines/sql_pipelines.h"

namespace reckon {

PipelineCells::PipelineCells(const Campaign& c, Store& store, const std::string& run_id, ModelClient& client,
                             AnsweredBefore& before, Recorder& recorder, SpendGate& gate, RunReport& report,
                             std::function<void(const Cell*)> finished)
    : c_(c), client_(client), before_(before), recorder_(recorder), gate_(gate), report_(report), finished_(std::move(finished)) {
  auto q = store.db().prepare(
      "SELECT fingerprint, response, input_tokens, output_tokens, reasoning_tokens, cost_usd, cost_input_usd, "
      "cost_cache_read_usd, cost_cache_write_usd, cost_output_usd, cost_reasoning_usd, cost_fees_usd FROM requests "
      "WHERE run_id = ? AND status = 'ok' AND step LIKE 'call:%'");
  q.bind(1, run_id);
  while (q.step()) {
    CallDone d;
    d.response = q.text(1);
    d.usage.input_tokens = q.opt_int64(2).value_or(0);
    d.usage.output_tokens = q.opt_int64(3).value_or(0);
    d.usage.reasoning_tokens = q.opt_int64(4);
    d.cost.total_usd = q.opt_real(5);
    d.cost.input_usd = q.opt_real(6).value_or(0);
    d.cost.cache_read_usd = q.opt_real(7).value_or(0);
    d.cost.cache_write_usd = q.opt_real(8).value_or(0);
    d.cost.output_usd = q.opt_real(9).value_or(0);
    d.cost.reasoning_usd = q.opt_real(10).value_or(0);
    d.cost.fees_usd = q.opt_real(11).value_or(0);
    finished_calls_[q.key(0)] = std::move(d);
  }
}

void PipelineCells::add_to_total(Running& pc, const Usage& u, const CostBreakdown& cost) {
  pc.total.input_tokens += u.input_tokens;
  pc.total.output_tokens += u.output_tokens;
  if (u.reasoning_tokens) pc.total.reasoning_tokens = pc.total.reasoning_tokens.value_or(0) + *u.reasoning_tokens;
  if (cost.total_usd) {
    pc.cost.total_usd = pc.cost.total_usd.value_or(0) + *cost.total_usd;
    pc.cost.input_usd += cost.input_usd, pc.cost.cache_read_usd += cost.cache_read_usd;
    pc.cost.cache_write_usd += cost.cache_write_usd, pc.cost.output_usd += cost.output_usd;
    pc.cost.reasoning_usd += cost.reasoning_usd, pc.cost.fees_usd += cost.fees_usd;
  } else {
    pc.priced = false;
  }
  ++pc.calls;
}

void PipelineCells::finish(Running& pc) {
  const Cell& cell = *pc.cell;
  RequestRecord r = recorder_.row_for(cell);
  r.request_key.reset();  // its calls are the requests
  r.cache_hit = true;     // paid by its calls
  r.ok = !pc.run->failed();
  r.attempts = pc.calls;
  if (r.ok) r.response = pc.run->final_answer();
  else r.error_class = "pipeline", r.error = pc.run->failure();
  r.usage = pc.total;
  r.usage.usage_complete = true;
  nlohmann::json route = cell.route ? nlohmann::json::parse(*cell.route) : nlohmann::json::object();
  route["pipeline"] = cell.pipeline;
  route["calls"] = pc.calls;
  if (pc.run->fields().count("link")) route["linked_tables"] = linked_tables(pc.run->fields().at("link"));
  r.route = route.dump();
  (r.ok ? report_.ok : report_.errors)++;
  if (pc.priced && pc.calls > 0) r.cost = pc.cost;  // the sum of its calls, not the price list again
  recorder_.finish(std::move(r), cell, std::nullopt, true);
  finished_(&cell);
}

RequestRecord PipelineCells::call_row(const Running& pc, const PipelineCall& call, const std::string& fp,
                                      const std::string& key) const {
  RequestRecord r = recorder_.row_for(*pc.cell);
  r.fingerprint = fp;
  r.request_key = key;
  r.step = "call:" + call.step;
  return r;
}

void PipelineCells::on_call(Running& me, const PipelineCall& call, const std::string& fp, const std::string& key,
                            const ChatRequest& sent, const CallResult& res) {
  gate_.landed(me.cell);  // each call of the cell was admitted at its own estimate
  ++report_.sent;
  RequestRecord r = call_row(me, call, fp, key);
  record_outcome(r, res);
  r.prompt = prompt_text(sent.messages);
  recorder_.price(r, me.cell->price, me.cell->model_ref->params.service_tier);
  if (res.ok) add_to_total(me, r.usage, r.cost);
  const std::optional<std::string> text = res.ok ? std::optional<std::string>(res.completion.text) : std::nullopt;
  recorder_.write(std::move(r));
  me.run->answer(call.index, text, res.error);
  pump(me);
}

void PipelineCells::pump(Running& pc) {
  const ServiceTier asked = pc.cell->model_ref->params.service_tier;
  for (;;) {
    if (pc.run->done()) {
      finish(pc);
      return;
    }
    auto calls = pc.run->next();
    if (calls.empty()) return;  // answers awaited
    std::vector<std::pair<int, std::string>> ready;
    for (auto& call : calls) {
      ChatRequest req{*pc.cell->model_ref, call.messages};
      const std::string key = sha256_hex(canonical_request_text(req.model, req.messages) + "\n" + std::to_string(pc.cell->repeat));
      const std::string fp = sha256_hex(pc.cell->fingerprint + "\n" + std::to_string(call.index) + "\n" + call.step);
      if (auto it = finished_calls_.find(fp); it != finished_calls_.end()) {  // this run already paid for it
        add_to_total(pc, it->second.usage, it->second.cost);
        ready.emplace_back(call.index, it->second.response);
        continue;
      }
      // An identical call of any run, this one's included (its rows may be committed by now).
      if (RequestRecord r = call_row(pc, call, fp, key); before_.serve(r)) {
        r.prompt = prompt_text(req.messages);
        recorder_.price(r, pc.cell->price, asked);
        add_to_total(pc, r.usage, r.cost);
        ready.emplace_back(call.index, *r.response);
        recorder_.write(std::move(r));
        continue;
      }
      if (batches_ && (batches_->batches_calls_of(*pc.cell) || batches_->in_open_batch(fp))) {
        Running* me = &pc;
        batches_->add(BatchRounds::Job{fp, pc.cell->model_ref, [req] { return req; }, pc.cell->price, pc.cell,
                                       [this, me, call, fp, key, req](const CallResult& res) { on_call(*me, call, fp, key, req, res); },
                                       [this, me] {
                                         gate_.landed(me->cell);
                                         ++report_.not_sent;
                                       }});
        continue;
      }
      client_.submit(req, pc.cell->repeat, [this, call, fp, key, pcp = &pc](const ChatRequest& sent, const CallResult& res) {
        if (res.attempts == 0) {  // never sent: the pipeline waits for the next run
          gate_.landed(pcp->cell);
          ++report_.not_sent;
          return;
        }
        on_call(*pcp, call, fp, key, sent, res);
      }, pc.cell);
    }
    for (const auto& [index, text] : ready) pc.run->answer(index, text);
    if (ready.size() < calls.size()) return;  // some calls are in flight
  }
}

void PipelineCells::start(const Cell* cell) {
  const Item& item = *cell->item;
  std::map<std::string, std::string> fields = {{"prompt", cell->messages().back().content}};
  for (const auto& [k, v] : item.extra.items())
    if (v.is_string()) fields[k] = v.get<std::string>();
  PipelineHooks hooks;
  if (item.extra.contains("db") && item.extra["db"].is_string()) hooks = sql_hooks(item.extra["db"].get<std::string>());
  running_.push_back({cell, nullptr, {}, {}, true, 0});
  Running& pc = running_.back();
  try {
    pc.run = std::make_unique<PipelineRun>(*c_.pipeline(cell->pipeline), std::move(fields), std::move(hooks));
  } catch (const InputError& e) {
    throw InputError(c_.source + ": pipeline '" + cell->pipeline + "' cannot run task '" + c_.tasks[cell->task].name +
                     "': " + e.what());
  }
  pump(pc);
}

}  // namespace reckon
