// run_campaign: the engine's one path, plan → admit → dispatch → record → report (DESIGN.md,
// "Campaigns"). Each step is a unit of its own (plan.h, admit.h, spend_gate.h, record.h,
// dispatch.h, judging.h, pipeline_cells.h, progress.h); this file wires them to the client and the store.
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <filesystem>
#include <iostream>
#include <map>

#include "common/error.h"
#include "common/text.h"
#include "harness/adaptive_rounds.h"
#include "harness/admit.h"
#include "harness/batch_rounds.h"
#include "harness/campaign.h"
#include "harness/claims.h"
#include "harness/dispatch.h"
#include "harness/dry_run.h"
#include "harness/plan.h"
#include "providers/client.h"
#include "results/row_writer.h"
#include "results/summary.h"
#include "tasks/datasets.h"

namespace reckon {
namespace {

std::atomic<bool> g_interrupted{false};
extern "C" void on_sigint(int) {
  g_interrupted = true;
  std::signal(SIGINT, SIG_DFL);  // a second Ctrl-C ends at once
}

// Writes the campaign, its run, models, prices and tasks; whether the run was there before.
bool open_run(Store& store, const Campaign& c, const std::string& run_id, const CampaignPlan& plan, bool resume) {
  bool earlier_run = false;
  {  // the read ends before the write begins: an open read would pin a snapshot another runner may have passed
    auto q = store.db().prepare("SELECT COUNT(*) FROM runs WHERE id = ?");
    q.bind(1, run_id);
    q.step();
    earlier_run = q.int64(0) > 0;
  }
  if (resume && !earlier_run)
    throw InputError(store.path() + ": no earlier run of campaign '" + c.name + "' to resume (run it without --resume first)");
  Transaction tx(store.db());
  store.db()
      .prepare("INSERT INTO campaigns(name, spec, created_at) VALUES(?,?,?) ON CONFLICT(name) DO UPDATE SET spec = excluded.spec")
      .bind(1, c.name)
      .bind(2, c.raw.dump())
      .bind(3, now_utc_iso())
      .run();
  store.add_run(run_id, "campaign", c.source, c.name);
  for (const auto& m : c.models) store.upsert_model(m.name(), m.ref.provider);
  for (const PriceEntry* e : plan.used_prices()) store.upsert_price(*e);
  for (const auto& t : c.tasks) store.upsert_task(t.name);
  tx.commit();
  return earlier_run;
}

// What the run had spent before this session, so progress shows the campaign's money, not the session's.
double spent_so_far(Store& store, const std::string& run_id) {
  auto q = store.db().prepare("SELECT TOTAL(cost_usd) FROM v_requests WHERE run_id = ?");
  q.bind(1, run_id);
  q.step();
  return q.real(0);
}

ClientOptions client_options(const Campaign& c, int shards) {
  ClientOptions co;
  co.max_concurrency = c.concurrency;
  co.requests_per_minute = c.requests_per_minute;
  co.tokens_per_minute = c.tokens_per_minute;
  co.per_provider = c.per_provider;
  share_rate_limits(co, shards);
  co.max_attempts = c.max_attempts;
  co.timeout_s = c.timeout_s;
  co.base_backoff_s = c.backoff_s;
  co.max_backoff_s = c.max_backoff_s;
  return co;
}

// Recorded answers for replay: models: files, folders, or "dataset:NAME/INNER" (a folder inside a pulled dataset).
void load_replay(ReplaySource& replay, const Campaign& c, const DataAccess& data) {
  for (const auto& src : c.replay) {
    if (!starts_with(src, "dataset:")) {
      replay.load(src);
      continue;
    }
    std::string spec = src.substr(8);
    auto slash = spec.find('/');
    const Dataset* ds = find_dataset(spec.substr(0, slash));
    if (!ds) throw InputError(c.source + ": field 'replay': unknown dataset in '" + src + "'");
    pull_dataset(*ds, data.pull);
    const auto& f = ds->files.front();
    std::string cache = data.pull.cache_dir.empty() ? default_cache_dir() : data.pull.cache_dir;
    replay.load(cache + "/" + f.owner + "/" + f.repo + "/" + f.commit + (slash == std::string::npos ? "" : spec.substr(slash)));
  }
}

// Enough waiting calls to keep every provider's slots full; the cells go in item order, the models of
// one item side by side, so each provider has its share of the window.
size_t dispatch_window(const Campaign& c) {
  size_t window = 64;
  std::map<std::string, int> slots;
  for (const auto& m : c.models) {
    auto p = c.per_provider.find(m.ref.provider);
    slots[m.ref.provider] = p != c.per_provider.end() && p->second.max_concurrency > 0 ? p->second.max_concurrency : c.concurrency;
  }
  for (const auto& [provider, n] : slots) window += static_cast<size_t>(n) * 4;
  return window;
}

bool rate_limited(const ClientOptions& co) {
  bool limited = co.requests_per_minute > 0 || co.tokens_per_minute > 0;
  for (const auto& [provider, lim] : co.per_provider) limited = limited || lim.requests_per_minute > 0 || lim.tokens_per_minute > 0;
  return limited;
}

// The closing lines: counts, spend, why it stopped, the errors by cause, then the run's summary table.
void print_run_report(const Campaign& c, const RunReport& rep, std::optional<double> cap, Store& store) {
  std::cout << "campaign " << c.name << " (run " << rep.run_id << "): " << rep.cells << " cells, " << rep.skipped_done
            << " already done, " << rep.cached << " from the response cache, " << rep.sent << " sent (" << rep.ok << " ok, "
            << rep.errors << " errors), spent " << fmt_usd(rep.spent_usd)
            << (rep.by_others > 0 ? ", " + std::to_string(rep.by_others) + " answered by other runners" : std::string()) << "\n";
  if (rep.batched > 0 || rep.in_batches > 0 || rep.from_batches > 0)
    std::cout << rep.batched << " cells submitted in batches this session, " << rep.from_batches << " results collected from batches"
              << (rep.in_batches > 0 ? "; " + std::to_string(rep.in_batches) +
                                           " cells still in batches at the provider: run the campaign again to collect them\n"
                                     : "; every batch collected\n");
  if (rep.stopped_by_cap)
    std::cout << "spend cap " << fmt_usd(*cap) << " reached: " << rep.not_sent
              << " requests not sent; rerun with a higher --max-cost to finish\n";
  if (rep.interrupted) std::cout << "interrupted: " << rep.not_sent << " requests not sent; rerun to finish\n";
  if (!rep.fatal.empty()) std::cout << "stopped: " << rep.fatal << "\n";
  // The causes, not only the count: the run's errors grouped by class and message, most frequent first.
  if (rep.errors > 0) {
    auto q = store.db().prepare(
        "SELECT COUNT(*), IFNULL(error_class, '?'), IFNULL(error, '') FROM requests WHERE run_id = ? AND status = 'error' "
        "GROUP BY 2, 3 ORDER BY 1 DESC, 2 LIMIT 5");
    q.bind(1, rep.run_id);
    std::cout << "errors by cause:\n";
    while (q.step()) {
      std::string why = q.text(2);
      if (why.size() > 160) why = why.substr(0, 160) + "...";
      std::cout << "  " << q.int64(0) << " × " << q.text(1) << (why.empty() ? "" : ": " + why) << "\n";
    }
  }
  BatchRounds::print(store, rep.run_id, std::cout);
  std::cout << "\n" << render_summary(summarize(store, rep.run_id));
}

// What a run's passes share: an ordinary campaign is one pass; an adaptive one, a pass per round.
struct Session {
  const Campaign& c;
  const RunOptions& opts;
  const std::string& db_path;
  std::optional<double> cap;
  Store& store;
  bool earlier_run;
  double spent_before;
};

// One pass of the engine over `plan`: admit → dispatch → record, the counts added to `rep`. `scope`
// keeps the pass's claimed blocks apart from another pass's (an adaptive campaign's rounds).
void run_pass(Session& s, CampaignPlan& plan, const std::string& scope, RunReport& rep) {
  const Campaign& c = s.c;
  const RunOptions& opts = s.opts;
  AnsweredBefore before(s.store, rep.run_id, s.earlier_run);
  // Other runners of this campaign on this store: the plan is claimed a block at a time (claims.h).
  std::optional<CampaignClaims> claims;
  if (opts.claims) {
    claims.emplace(s.db_path, rep.run_id, std::to_string(opts.shard_index + 1) + "/" + std::to_string(opts.shard_count) + scope, opts.lease_s);
    claims->set_plan_blocks((plan.expected_cells() + kCellsPerBlock - 1) / kCellsPerBlock);
  }
  CampaignClaims* shared = claims ? &*claims : nullptr;
  // One writer, on a thread of its own: rows are committed in batches (at most ~50 ms of results at
  // risk on a crash) while the network loop goes on.
  RowWriter writer(s.db_path);
  BlockLedger ledger(shared, writer);
  ClaimedWalk walk(plan, shared, s.store, before, ledger, rep);
  Recorder recorder(c, rep.run_id, writer, ledger, rep);
  plan.on_item = [&](size_t t, const Item& it) { recorder.store_item(t, it); };

  const ClientOptions co = client_options(c, opts.shard_count);
  SystemClock clock;
  ModelClient client(co, clock);
  ReplaySource replay;
  load_replay(replay, c, opts.data);
  client.set_replay(&replay);
  SpendGate gate(s.cap, shared, s.store);
  const double spent_at_start = rep.spent_usd;
  ProgressLine progress(opts.progress && isatty(STDERR_FILENO), plan.expected_cells(), s.spent_before + spent_at_start);
  Dispatch dispatch({c, opts, s.store, rep.run_id, walk, before, recorder, gate, shared, plan.judge_price(), rep}, client, progress,
                    dispatch_window(c), claims && rate_limited(co));
  g_interrupted = false;
  auto previous = std::signal(SIGINT, on_sigint);
  dispatch.run(g_interrupted);
  // What the run never reached (a spend cap, Ctrl-C, a fatal error): counted, for the rerun to send.
  if (dispatch.stopped()) walk.count_unreached();
  writer.close();
  if (claims) claims->settle(rep.spent_usd - spent_at_start);  // this pass's part: each pass registers as a runner
  dispatch.show(true);
  std::signal(SIGINT, previous);
  rep.fatal = dispatch.fatal();
  s.earlier_run = true;
}

// An adaptive campaign: a pass per round until every test is over, or a round comes back unfinished
// (errors, the spend cap, Ctrl-C): the rerun rebuilds the same round from the store and finishes it.
// `plan`, when given, is the plan of `round` already built (it points into `round`).
void run_rounds(Session& s, AdaptiveRounds& rounds, ItemsPerModel& round, std::unique_ptr<CampaignPlan> plan, RunReport& rep) {
  const bool tty = s.opts.progress && isatty(STDERR_FILENO);
  while (!AdaptiveRounds::empty(round)) {
    if (!plan) plan = std::make_unique<CampaignPlan>(s.c, s.opts, rep.run_id, s.db_path, &round);
    if (tty) std::cerr << "adaptive testing: round " << rounds.round() << " (" << plan->expected_cells() << " cells)\n";
    run_pass(s, *plan, "@adaptive:" + AdaptiveRounds::key(round), rep);
    plan.reset();
    if (rep.stopped_by_cap || rep.interrupted || !rep.fatal.empty()) return;
    const int was = rounds.round();
    ItemsPerModel next = rounds.current(s.store);
    if (rounds.round() == was && !AdaptiveRounds::empty(next)) {
      std::cout << "adaptive testing: round " << was << " has cells without an answer (see the errors below); rerun to finish it\n";
      return;
    }
    round = std::move(next);
  }
}

}  // namespace

// plan → admit → dispatch → record → report (DESIGN.md, "Campaigns"): each step is a unit of its own.
RunReport run_campaign(const Campaign& c, const RunOptions& opts) {
  RunReport rep;
  rep.run_id = campaign_run_id(c);
  const std::string db_path = !opts.db.empty() ? opts.db : c.db;
  if (db_path.empty()) throw InputError(c.source + ": no database: set field 'db' or pass --db");
  const std::optional<double> cap = opts.max_cost_usd ? opts.max_cost_usd : c.max_cost_usd;
  check_batch_ready(c, opts);
  check_adaptive_ready(c, opts);
  if (!opts.dry_run) check_ready_to_send(c, opts);
  // An adaptive campaign plans a round at a time; the item parameters are fitted (and kept) first.
  std::optional<Store> adaptive_store;
  std::optional<AdaptiveRounds> rounds;
  ItemsPerModel round;
  if (c.selection.adaptive) {
    const bool exists = std::filesystem::exists(db_path);
    if (!opts.dry_run || exists) adaptive_store.emplace(db_path, opts.dry_run ? Store::Mode::kReadOnly : Store::Mode::kReadWrite);
    rounds.emplace(c, opts, rep.run_id, adaptive_store ? &*adaptive_store : nullptr, !opts.dry_run);
    round = opts.dry_run ? rounds->for_dry_run() : rounds->current(*adaptive_store);
    adaptive_store.reset();
  }
  auto plan = std::make_unique<CampaignPlan>(c, opts, rep.run_id, db_path, rounds ? &round : nullptr);
  if (opts.dry_run) {
    if (rounds)
      std::cout << "adaptive testing: priced as each model's first " << c.selection.adaptive->budget
                << " items at the prior (the budget; a standard-error target may stop sooner)\n";
    rep.cells = print_dry_run(c, opts, *plan, db_path);
    return rep;
  }

  Store store(db_path, Store::Mode::kReadWrite);
  const bool earlier_run = open_run(store, c, rep.run_id, *plan, opts.resume);
  Session session{c, opts, db_path, cap, store, earlier_run, spent_so_far(store, rep.run_id)};
  if (rounds) {
    run_rounds(session, *rounds, round, std::move(plan), rep);
  } else {
    run_pass(session, *plan, "", rep);
  }
  store.finish_run(rep.run_id);
  print_run_report(c, rep, cap, store);
  if (rounds) std::cout << "\n" << rounds->render();
  return rep;
}

}  // namespace reckon
