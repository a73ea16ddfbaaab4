#include "harness/dispatch.h"

#include <algorithm>
#include <iostream>
#include <thread>

namespace reckon {

Dispatch::Dispatch(DispatchParts parts, ModelClient& client, ProgressLine& progress, size_t window, bool share_rates)
    : p_(parts),
      client_(client),
      progress_(progress),
      window_(window),
      share_rates_(share_rates),
      share_checked_(std::chrono::steady_clock::now() - std::chrono::seconds(2)),
      judging_(parts.campaign, client, parts.recorder, parts.judge_price, parts.report, [this](const Cell* cell) { release(cell); }),
      pipelines_(parts.campaign, parts.store, parts.run_id, client, parts.before, parts.recorder, parts.gate, parts.report,
                 [this](const Cell* cell) {
                   release(cell);
                   show(false);
                 }),
      batches_(parts.campaign, parts.options, parts.store, parts.run_id, parts.gate, parts.report,
               {[this](const Cell* cell, const CallResult& res) { on_answer(cell, res); },
                [this](const Cell* cell) {
                  p_.gate.landed(cell);
                  ++p_.report.not_sent;
                  release(cell);
                },
                [this](std::function<void(Store&)> step) { p_.recorder.after_rows(std::move(step)); }}) {
  pipelines_.route_batches(&batches_);
}

bool Dispatch::submit_next() {
  while (std::unique_ptr<Cell> next = p_.walk.next()) {
    const Cell* cell = next.get();
    live_.emplace(cell, std::move(next));
    if (!cell->pipeline.empty()) {
      pipelines_.start(cell);
      return true;
    }
    if (p_.before.known_at_start(cell->request_key)) {
      if (RequestRecord r = p_.recorder.row_for(*cell); p_.before.serve(r)) {
        p_.recorder.finish(std::move(r), *cell);
        release(cell);
        ++p_.report.cached;
        continue;
      }
    }
    if (batches_.takes(*cell)) {
      batches_.add(cell);
      continue;
    }
    client_.submit(cell->request(), cell->repeat, [this, cell](const ChatRequest&, const CallResult& res) { on_answer(cell, res); },
                   cell);
    return true;
  }
  return false;
}

void Dispatch::on_answer(const Cell* cell, const CallResult& res) {
  RunReport& rep = p_.report;
  p_.gate.landed(cell);
  if (res.attempts == 0) {  // never sent: the next run sends it
    ++rep.not_sent;
    release(cell);
    return;
  }
  ++rep.sent;
  if (res.attempts > 1) ++retried_;
  if (streak_.add(res.ok, std::string(to_string(res.error_class)) + ": " + res.error.substr(0, 200))) client_.stop();
  RequestRecord r = p_.recorder.row_for(*cell);
  record_outcome(r, res);
  (res.ok ? rep.ok : rep.errors)++;
  if (res.ok && judging_.judges(*cell)) {
    judging_.grade(std::move(r), cell);  // the cell is released once graded
  } else {
    p_.recorder.finish(std::move(r), *cell);
    release(cell);
  }
  show(false);
}

bool Dispatch::admit(const ChatRequest& req, const void* tag, const std::atomic<bool>& interrupted) {
  if (interrupted) {
    p_.report.interrupted = true;
    return false;
  }
  if (share_rates_ && std::chrono::steady_clock::now() - share_checked_ > std::chrono::seconds(1)) {
    share_checked_ = std::chrono::steady_clock::now();
    client_.set_rate_share(1.0 / static_cast<double>(std::max<int64_t>(1, p_.claims->live_runners(p_.store))));
  }
  if (judging_.owns(tag) || !p_.gate.capped()) return true;  // a judge grades what is paid for
  const Cell* cell = static_cast<const Cell*>(tag);
  const double out = static_cast<double>(req.model.params.max_tokens.value_or(1000));
  if (p_.gate.admit(cell, cell ? estimate_cost(req, cell->price, out) : 0, p_.report.spent_usd)) return true;
  p_.report.stopped_by_cap = true;
  return false;
}

bool Dispatch::stopped() const {
  const RunReport& rep = p_.report;
  return rep.stopped_by_cap || rep.interrupted || !client_.fatal_error().empty() || !streak_.verdict().empty() ||
         !batches_.fatal().empty();
}

std::string Dispatch::fatal() const {
  if (!client_.fatal_error().empty()) return client_.fatal_error();
  return !batches_.fatal().empty() ? batches_.fatal() : streak_.verdict();
}

void Dispatch::run(const std::atomic<bool>& interrupted) {
  client_.set_source([this] { return submit_next(); }, window_);
  client_.set_admit([this, &interrupted](const ChatRequest& req, const void* tag) { return admit(req, tag, interrupted); });
  client_.run();
  // The batch models' cells, gathered while the live ones went: submitted, polled, collected; then the
  // judge's calls for the answers that came back.
  if (!p_.report.interrupted) {
    batches_.run(interrupted);
    client_.run();
  } else {
    batches_.drop_queued();
  }
  // Blocks other runners held: wait until each is done, taking over those whose runner is gone (then the
  // plan is walked again for them). Every runner ends with the whole campaign answered.
  while (!p_.walk.waiting().empty() && !stopped()) {
    if (p_.walk.take_over_gone()) {
      client_.set_source([this] { return submit_next(); }, window_);
      client_.run();
      continue;
    }
    if (interrupted) {
      p_.report.interrupted = true;
      break;
    }
    if (progress_.on_terminal())
      std::cerr << "\rwaiting for " << p_.walk.waiting().size() << " blocks other runners hold   " << std::flush;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

}  // namespace reckon
