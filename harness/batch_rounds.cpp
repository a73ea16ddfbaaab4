#include "harness/batch_rounds.h"

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <iostream>
#include <random>
#include <set>
#include <thread>

#include "common/error.h"
#include "common/table.h"
#include "common/text.h"
#include "providers/registry.h"
#include "providers/retry.h"

namespace reckon {
namespace {

std::string new_batch_id() {
  static std::mt19937_64 rng(std::random_device{}());
  static const char* hex = "0123456789abcdef";
  std::string id = "b";
  for (int i = 0; i < 12; ++i) id += hex[rng() % 16];
  return id;
}

std::string this_owner() {
  char host[256] = {0};
  gethostname(host, sizeof host - 1);
  return std::string(host) + ":" + std::to_string(getpid());
}

// A 'creating' row may be another runner's create in progress: on this host while its process lives; on
// another host (whose processes this one cannot see) for ten minutes, longer than a create call may take.
bool maybe_being_created(const std::string& owner, double age_s) {
  const auto colon = owner.rfind(':');
  char host[256] = {0};
  gethostname(host, sizeof host - 1);
  if (colon == std::string::npos || owner.substr(0, colon) != host) return age_s < 600;
  const pid_t pid = static_cast<pid_t>(std::strtol(owner.c_str() + colon + 1, nullptr, 10));
  return pid > 0 && pid != getpid() && kill(pid, 0) == 0;
}

// "42 s", "3 min 12 s", "2 h 05 min".
std::string fmt_duration(double s) {
  const auto t = static_cast<int64_t>(s + 0.5);
  char buf[48];
  if (t < 60) std::snprintf(buf, sizeof buf, "%lld s", static_cast<long long>(t));
  else if (t < 3600) std::snprintf(buf, sizeof buf, "%lld min %02lld s", static_cast<long long>(t / 60), static_cast<long long>(t % 60));
  else std::snprintf(buf, sizeof buf, "%lld h %02lld min", static_cast<long long>(t / 3600), static_cast<long long>(t % 3600 / 60));
  return buf;
}

}  // namespace

void check_batch_ready(const Campaign& c, const RunOptions& opts) {
  for (size_t m = 0; m < c.models.size(); ++m) {
    if (!sends_in_batches(c, opts, m)) continue;
    const CampaignModel& cm = c.models[m];
    const std::string at = c.source + ": models[" + std::to_string(m) + "] (" + cm.name() + ")";
    for (const ModelRef* ref : cm.refs()) {
      if (ref->provider == "router") continue;
      if (!has_batch_api(ref->provider))
        throw InputError(at + ": " + ref->name() + ": provider '" + ref->provider +
                         "' has no batch API reckon speaks (openai, anthropic, gemini, and OpenAI-compatible servers do)");
      if (ref->params.service_tier != ServiceTier::kStandard)
        throw InputError(at + ": " + ref->name() + ": params.service_tier and batch exclude each other (a batch is its own tier)");
    }
  }
  if (opts.detach && !opts.batch) {
    bool any = false;
    for (size_t m = 0; m < c.models.size(); ++m) any = any || sends_in_batches(c, opts, m);
    if (!any) throw InputError(c.source + ": --detach needs batch mode (--batch, or \"batch\": true in the campaign)");
  }
}

BatchRounds::BatchRounds(const Campaign& c, const RunOptions& opts, Store& store, std::string run_id, SpendGate& gate,
                         RunReport& report, Hooks hooks)
    : c_(c), opts_(opts), store_(store), run_id_(std::move(run_id)), gate_(gate), report_(report), hooks_(std::move(hooks)) {
  load_open();
}

BatchRounds::~BatchRounds() = default;

BatchApi* BatchRounds::api(const ModelRef& ref) {
  auto& slot = apis_[ref.name()];
  if (!slot) slot = batch_api_for(ref);
  if (!slot) throw InputError(ref.name() + ": provider '" + ref.provider + "' has no batch API reckon speaks");
  return slot.get();
}

void BatchRounds::load_open() {
  std::map<std::string, const ModelRef*> refs;  // the campaign's models by name, for batches an earlier run sent
  for (const auto& m : c_.models)
    for (const ModelRef* r : m.refs()) refs.emplace(r->name(), r);
  struct Row {
    std::string id, remote, model, tag, state, owner;
    int round;
    double age_s;
  };
  std::vector<Row> rows;
  {
    auto q = store_.db().prepare(
        "SELECT id, IFNULL(remote_id, ''), model, tag, state, owner, round, (julianday('now') - julianday(created_at)) * 86400 "
        "FROM batches WHERE run_id = ? AND state IN ('creating', 'open')");
    q.bind(1, run_id_);
    while (q.step())
      rows.push_back({q.text(0), q.text(1), q.text(2), q.text(3), q.text(4), q.text(5), static_cast<int>(q.int64(6)), q.real(7)});
  }
  for (auto& r : rows) {
    auto ref = refs.find(r.model);
    Open b{r.id, r.remote, r.model, r.tag, ref == refs.end() ? nullptr : ref->second, r.round, {}};
    // Another runner's create may be under way: its cells are held out of new batches, and it is left alone.
    const bool others = r.state == "creating" && maybe_being_created(r.owner, r.age_s);
    if (r.state == "creating" && b.ref && !others) {
      // Created at the provider or not? Its tag says; until the provider answers, its cells stay out of any new batch.
      try {
        if (auto found = api(*b.ref)->find(r.tag)) {
          b.remote = *found;
          store_.db().prepare("UPDATE batches SET remote_id = ?, state = 'open', submitted_at = IFNULL(submitted_at, created_at) WHERE id = ?")
              .bind(1, b.remote).bind(2, b.id).run();
          std::cerr << "batch " << b.remote << " (" << r.model << ") was created by a run that ended before recording it: collecting it\n";
        } else {
          store_.db().prepare("DELETE FROM batches WHERE id = ?").bind(1, b.id).run();  // never created: its cells go again
          continue;
        }
      } catch (const std::exception& e) {
        std::cerr << "batch " << b.id << " (" << r.model << "): cannot tell whether it was created (" << e.what()
                  << "); its cells wait for a later run\n";
      }
    }
    auto q = store_.db().prepare("SELECT fingerprint FROM batch_cells WHERE batch_id = ?");
    q.bind(1, b.id);
    while (q.step()) open_cells_[q.text(0)] = b.id;
    open_.emplace(b.id, std::move(b));
  }
}

bool BatchRounds::takes(const Cell& cell) const {
  return sends_in_batches(c_, opts_, cell.model) || open_cells_.count(cell.fingerprint) > 0;
}

void BatchRounds::add(const Cell* cell) {
  add(Job{cell->fingerprint, cell->model_ref, [cell] { return cell->request(); }, cell->price, cell,
          [this, cell](const CallResult& res) { hooks_.answered(cell, res); }, [this, cell] { hooks_.unsent(cell); }});
}

void BatchRounds::add(Job job) {
  const std::string fp = job.fingerprint;
  const ModelRef* ref = job.ref;
  jobs_[fp] = std::move(job);
  if (auto in = open_cells_.find(fp); in != open_cells_.end()) {
    open_[in->second].cells.insert(fp);
    return;
  }
  queued_[ref].emplace_back(fp, 1);
}

void BatchRounds::unsent(const std::string& fp) {
  auto it = jobs_.find(fp);
  if (it == jobs_.end()) return;
  Job job = std::move(it->second);
  jobs_.erase(it);
  job.unsent();
}

void BatchRounds::drop_queued() {
  auto queued = std::move(queued_);
  queued_.clear();
  for (auto& [ref, fps] : queued)
    for (auto& [fp, round] : fps) unsent(fp);
}

void BatchRounds::submit_queued() {
  auto queued = std::move(queued_);
  queued_.clear();
  for (auto& [ref, fps] : queued) {
    if (!fatal_.empty() || report_.stopped_by_cap) {
      for (auto& [fp, round] : fps) unsent(fp);
      continue;
    }
    BatchApi* a = api(*ref);
    // Batches by round (a resubmitted item goes with others of its round), split at the provider's limits.
    std::map<int, std::vector<std::pair<std::string, std::string>>> by_round;
    for (auto& [fp, round] : fps) {
      const Job& job = jobs_.at(fp);
      ChatRequest req = job.request();
      if (round == 1 && gate_.capped()) {  // submitted requests count toward the cap at their batch-rate estimate
        ChatRequest priced = req;
        priced.model.params.service_tier = ServiceTier::kBatch;
        const double out = static_cast<double>(req.model.params.max_tokens.value_or(1000));
        if (report_.stopped_by_cap || !gate_.admit(job.tag, estimate_cost(priced, job.price, out), report_.spent_usd)) {
          report_.stopped_by_cap = true;
          unsent(fp);
          continue;
        }
      }
      by_round[round].emplace_back(fp, a->line(BatchEntry{fp, std::move(req)}));
    }
    for (auto& [round, entries] : by_round) {
      std::vector<std::string> chunk, lines;
      size_t bytes = 0;
      for (auto& [fp, line] : entries) {
        if (!chunk.empty() && (chunk.size() >= a->max_requests() || bytes + line.size() + 1 > a->max_bytes() - 4096)) {
          submit(*ref, chunk, lines, round);
          bytes = 0;
        }
        bytes += line.size() + 1;
        chunk.push_back(fp);
        lines.push_back(std::move(line));
      }
      if (!chunk.empty()) submit(*ref, chunk, lines, round);
    }
  }
}

// One batch: in the store first, then created, then its remote id recorded.
void BatchRounds::submit(const ModelRef& ref, std::vector<std::string>& cells, std::vector<std::string>& lines, int round) {
  if (!fatal_.empty()) {
    for (const auto& fp : cells) unsent(fp);
    cells.clear(), lines.clear();
    return;
  }
  Open b{new_batch_id(), "", ref.name(), "", &ref, round, {}};
  b.tag = "reckon-" + b.id + "-" + std::to_string(cells.size()) + "@" + std::to_string(std::time(nullptr));
  {
    Transaction tx(store_.db());
    store_.db()
        .prepare("INSERT INTO batches(id, run_id, model, provider, tag, owner, state, requests, round, created_at) "
                 "VALUES(?,?,?,?,?,?,'creating',?,?,?)")
        .bind(1, b.id).bind(2, run_id_).bind(3, b.model).bind(4, ref.provider).bind(5, b.tag).bind(6, this_owner())
        .bind(7, static_cast<int64_t>(cells.size())).bind(8, round).bind(9, now_utc_iso())
        .run();
    auto ins = store_.db().prepare("INSERT OR IGNORE INTO batch_cells(batch_id, fingerprint) VALUES(?, ?)");
    for (const auto& fp : cells) {
      ins.bind(1, b.id).bind(2, fp).run();
      ins.reset();
    }
    tx.commit();
  }
  BatchApi* a = api(ref);
  try {
    b.remote = a->create(lines, b.tag);
  } catch (const std::exception& e) {
    // The answer may have been lost on the way back with the batch created all the same: the provider is asked.
    fatal_ = std::string("creating a batch of ") + std::to_string(cells.size()) + " for " + ref.name() + ": " + e.what();
    std::optional<std::string> found;
    try {
      found = a->find(b.tag);
    } catch (const std::exception& unknown) {
      // Cannot tell: the row stays 'creating' and its cells out of any batch until a later run asks again.
      fatal_ += "; whether it was created is unknown (" + std::string(unknown.what()) + "): a later run asks the provider";
      for (const auto& fp : cells) open_cells_[fp] = b.id, unsent(fp);
      open_.emplace(b.id, std::move(b));
      cells.clear(), lines.clear();
      return;
    }
    if (!found) {  // the provider says it does not exist: its cells may go again
      store_.db().prepare("DELETE FROM batches WHERE id = ?").bind(1, b.id).run();
      for (const auto& fp : cells) unsent(fp);
      cells.clear(), lines.clear();
      return;
    }
    fatal_.clear();
    b.remote = *found;
  }
  store_.db()
      .prepare("UPDATE batches SET remote_id = ?, state = 'open', submitted_at = ? WHERE id = ?")
      .bind(1, b.remote).bind(2, now_utc_iso()).bind(3, b.id)
      .run();
  report_.batched += cells.size();
  b.cells.insert(cells.begin(), cells.end());
  b.requests = static_cast<int64_t>(cells.size());
  open_.emplace(b.id, std::move(b));
  cells.clear(), lines.clear();
}

void BatchRounds::poll_open() {
  // A poll or a read that fails (the network, an answer reckon cannot read) is tried again at the next
  // poll; after kGiveUp in a row the batch is left open for a later run (its cells are counted as waiting).
  const auto failed = [](Open& b, const char* doing, const std::exception& e) {
    std::cerr << doing << " batch " << b.remote << ": " << e.what()
              << (++b.failures < kGiveUp ? " (asked again at the next poll)\n" : " (left for a later run)\n");
  };
  for (auto it = open_.begin(); it != open_.end();) {
    Open& b = it->second;
    if (!pollable(b)) {  // unresolved, of a model no longer in the campaign, none of this plan's cells, or given up
      ++it;
      continue;
    }
    BatchStatus s;
    try {
      s = api(*b.ref)->poll(b.remote);
    } catch (const std::exception& e) {
      failed(b, "polling", e);
      ++it;
      continue;
    }
    store_.db()
        .prepare("UPDATE batches SET remote_state = ?, succeeded = ?, errored = ?, "
                 "ended_at = CASE WHEN ? THEN IFNULL(ended_at, ?) END, error = NULLIF(?, '') WHERE id = ?")
        .bind(1, s.state).bind(2, s.succeeded).bind(3, s.errored).bind(4, static_cast<int64_t>(s.ended)).bind(5, now_utc_iso())
        .bind(6, s.error).bind(7, b.id)
        .run();
    b.last = s;
    if (!s.ended) {
      b.failures = 0;
      ++it;
      continue;
    }
    try {
      collect(b, s);
    } catch (const std::exception& e) {  // nothing was recorded: the results are read whole before any cell settles
      failed(b, "reading the results of", e);
      ++it;
      continue;
    }
    it = open_.erase(it);
  }
}

void BatchRounds::collect(Open& b, const BatchStatus& s) {
  std::vector<BatchItemResult> results;
  if (!s.failed) results = api(*b.ref)->results(b.remote);  // an error here propagates: nothing is lost, the batch stays open
  const int round = b.round;
  for (auto& item : results) {
    if (!b.cells.erase(item.custom_id)) continue;  // done before (its row committed), or not this runner's
    settle(item.custom_id, round, item.result, item.kind == BatchItemResult::Kind::kNotRun, item.why);
  }
  // What the provider did not report on: refused with the batch, or missing from its results.
  const std::vector<std::string> rest(b.cells.begin(), b.cells.end());
  b.cells.clear();
  for (const auto& fp : rest) {
    CallResult res;
    res.attempts = 1;
    res.error_class = s.failed ? ErrorClass::kClient : ErrorClass::kServer;
    res.error = s.failed ? "batch refused: " + (s.error.empty() ? s.state : s.error) : "no result in the batch's output";
    settle(fp, round, res, !s.failed, s.failed ? "" : "no result");
  }
  const std::string id = b.id, state = s.failed ? "failed" : "collected";
  hooks_.after_rows([id, state](Store& st) {
    st.db().prepare("UPDATE batches SET state = ?, collected_at = ? WHERE id = ?").bind(1, state).bind(2, now_utc_iso()).bind(3, id).run();
  });
}

// An item's outcome: recorded, or (not run, or a retryable error) sent again in a later batch while rounds remain.
void BatchRounds::settle(const std::string& fp, int round, const CallResult& result, bool not_run, const std::string& why) {
  auto job = jobs_.find(fp);
  if (job == jobs_.end()) return;
  CallResult res = result;  // served (or refused) by the batch API: its rows say the batch tier
  res.completion.usage.service_tier = ServiceTier::kBatch;
  res.completion.usage.service_tier_reported = true;
  const bool again = not_run || (!res.ok && retryable(res.error_class));
  if (again && round < c_.max_attempts && !cancelling_) {
    queued_[job->second.ref].emplace_back(fp, round + 1);
    return;
  }
  res.attempts = round;
  if (not_run) {
    res.ok = false;
    res.error_class = ErrorClass::kTimeout;
    res.error = "batch item " + (why.empty() ? std::string("not run") : why) + " (" + std::to_string(round) + " batch round" +
                (round > 1 ? "s" : "") + ")";
  }
  ++report_.from_batches;
  Job done = std::move(job->second);  // out of the table first: its callback may add the next step's job
  jobs_.erase(job);
  done.done(res);
}

// One line: each open batch's state and counts as the provider last said (the first three, then how many
// more), the cells waiting, what came back, the spend.
void BatchRounds::show() const {
  if (!opts_.progress || !isatty(STDERR_FILENO)) return;
  size_t cells = 0, open = 0;
  std::string states;
  for (const auto& [id, b] : open_) {
    if (!pollable(b)) continue;
    cells += b.cells.size();
    if (++open <= 3)
      states += " " + b.remote + " " + (b.last.state.empty() ? "submitted" : b.last.state) + " " +
                std::to_string(b.last.succeeded + b.last.errored) + "/" + std::to_string(b.last.total ? b.last.total : b.requests) + ";";
  }
  if (open > 3) states += " +" + std::to_string(open - 3) + " more;";
  std::cerr << "\r" << open << " batches open:" << states << " " << cells << " cells waiting, " << report_.ok << " answered, "
            << report_.errors << " errors, spent " << fmt_usd(report_.spent_usd) << "   " << std::flush;
}

// Ctrl-C: on a terminal, asks whether to cancel the remote batches (their finished items are still
// collected); otherwise they are left running for a later run to collect.
bool BatchRounds::stop_on_interrupt() {
  size_t n = 0;
  for (const auto& [id, b] : open_) n += pollable(b);
  if (n > 0 && isatty(STDIN_FILENO) && isatty(STDERR_FILENO)) {
    std::cerr << "\ncancel the " << n << " batch" << (n > 1 ? "es" : "") << " at the provider? [y/N] " << std::flush;
    std::string answer;
    std::getline(std::cin, answer);
    if (!answer.empty() && (answer[0] == 'y' || answer[0] == 'Y')) {
      cancelling_ = true;
      for (auto& [id, b] : open_)
        if (pollable(b)) try {
            api(*b.ref)->cancel(b.remote);
          } catch (const std::exception& e) {
            std::cerr << "cancelling " << b.remote << ": " << e.what() << "\n";
          }
      return false;  // go on polling: what finished before the cancel is collected
    }
  }
  report_.interrupted = true;
  if (n > 0) std::cerr << "\n" << n << " batch" << (n > 1 ? "es" : "") << " left running at the provider: run the campaign again to collect them\n";
  return true;
}

void BatchRounds::run(const std::atomic<bool>& interrupted) {
  submit_queued();
  const auto waiting = [&] {
    for (const auto& [id, b] : open_)
      if (pollable(b)) return true;
    return !queued_.empty();
  };
  while (waiting()) {
    poll_open();
    submit_queued();  // what came back to be sent again
    show();
    if (opts_.detach || !waiting()) break;
    // Sleep until the next poll, a twentieth of a second at a time so Ctrl-C is heard.
    const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(opts_.batch_poll_s);
    while (std::chrono::steady_clock::now() < until && !(interrupted && !cancelling_))
      std::this_thread::sleep_for(std::chrono::milliseconds(std::min<int64_t>(50, static_cast<int64_t>(opts_.batch_poll_s * 1000) + 1)));
    if (interrupted && !cancelling_ && stop_on_interrupt()) break;
  }
  for (const auto& [id, b] : open_) report_.in_batches += b.cells.size();
  if (opts_.progress && isatty(STDERR_FILENO)) std::cerr << "\n";
}

void BatchRounds::print(Store& store, const std::string& run_id, std::ostream& out) {
  auto q = store.db().prepare(
      "SELECT IFNULL(remote_id, '(' || id || ')'), model, requests, round, state, IFNULL(remote_state, ''), succeeded, errored, "
      "IFNULL(submitted_at, ''), (julianday(ended_at) - julianday(submitted_at)) * 86400 FROM batches WHERE run_id = ? ORDER BY created_at, id");
  q.bind(1, run_id);
  TextTable t({"batch", "model", "requests", "round", "state", "provider says", "succeeded", "errored", "submitted", "turnaround"});
  size_t n = 0;
  while (q.step()) {
    ++n;
    const auto secs = q.opt_real(9);
    t.add({q.text(0), q.text(1), std::to_string(q.int64(2)), std::to_string(q.int64(3)), q.text(4), q.text(5),
           q.is_null(6) ? "" : std::to_string(q.int64(6)), q.is_null(7) ? "" : std::to_string(q.int64(7)), q.text(8),
           secs ? fmt_duration(*secs) : "still open"});
  }
  if (n > 0) out << "\nBatches of this run:\n" << t.render(2);
}

}  // namespace reckon
