#include "harness/claims.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <fstream>
#include <sstream>

#include "common/text.h"

namespace reckon {
namespace {

double now_s() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string hostname() {
  char buf[256] = {0};
  if (gethostname(buf, sizeof buf - 1) != 0) return "unknown";
  return buf;
}

}  // namespace

int64_t process_start_ticks(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // The command name (field 2) is in parentheses and may hold spaces: count fields after its ')'.
  const size_t close = stat.rfind(')');
  if (close == std::string::npos) return -1;
  std::istringstream fields(stat.substr(close + 2));
  std::string field;
  for (int i = 3; i <= 22 && fields >> field; ++i)
    if (i == 22) return std::stoll(field);
  return -1;
}

CampaignClaims::CampaignClaims(const std::string& db_path, std::string run_id, std::string scope, double lease_s)
    : db_path_(db_path), run_id_(std::move(run_id)), scope_(std::move(scope)), id_(random_hex(16)), host_(hostname()),
      lease_s_(lease_s) {
  Store store(db_path_, Store::Mode::kReadWrite);
  Transaction tx(store.db());
  reap(store, true);
  // Nobody running: an earlier session's rows (ended, or killed with their reservations) are history.
  auto live = store.db().prepare("SELECT COUNT(*) FROM runners WHERE run_id = ? AND ended = 0");
  live.bind(1, run_id_);
  live.step();
  if (live.int64(0) == 0) store.db().prepare("DELETE FROM runners WHERE run_id = ?").bind(1, run_id_).run();
  live.reset();
  reaped_ns_ = 0;  // the first claim looks again
  store.db()
      .prepare("INSERT INTO runners(id, run_id, host, pid, started_ticks, lease_s, heartbeat_at) VALUES(?,?,?,?,?,?,?)")
      .bind(1, id_)
      .bind(2, run_id_)
      .bind(3, host_)
      .bind(4, static_cast<int64_t>(getpid()))
      .bind(5, process_start_ticks(getpid()))
      .bind(6, lease_s_)
      .bind(7, now_s())
      .run();
  tx.commit();
  heartbeat_ = std::thread([this] { beat(); });
  claimer_ = std::thread([this] { claim_ahead(); });
}

CampaignClaims::~CampaignClaims() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  heartbeat_.join();
  claimer_.join();
  try {
    Store store(db_path_, Store::Mode::kReadWrite);
    Transaction tx(store.db());
    auto end = store.db().prepare(spent_at_end_ ? "UPDATE runners SET ended = 1, reserved_usd = ? WHERE id = ?"
                                                : "UPDATE runners SET ended = 1 WHERE id = ?2");
    if (spent_at_end_) end.bind(1, *spent_at_end_);
    end.bind(2, id_).run();
    // The last runner out clears the session, so a later run starts with the whole cap.
    auto live = store.db().prepare("SELECT COUNT(*) FROM runners WHERE run_id = ? AND ended = 0");
    live.bind(1, run_id_);
    live.step();
    if (live.int64(0) == 0) store.db().prepare("DELETE FROM runners WHERE run_id = ?").bind(1, run_id_).run();
    tx.commit();
  } catch (const std::exception&) {  // the lease runs out instead
  }
}

void CampaignClaims::beat() {
  try {
    Store store(db_path_, Store::Mode::kReadWrite);
    auto renew = store.db().prepare("UPDATE runners SET heartbeat_at = ? WHERE id = ?");
    std::unique_lock<std::mutex> lock(mu_);
    while (!wake_.wait_for(lock, std::chrono::duration<double>(lease_s_ / 3), [this] { return stopping_; })) {
      lock.unlock();
      try {
        renew.reset();
        renew.bind(1, now_s()).bind(2, id_).run();
      } catch (const std::exception&) {  // a busy store: the next beat renews it
      }
      lock.lock();
    }
  } catch (const std::exception&) {
  }
}

void CampaignClaims::reap(Store& store, bool at_once) {
  const int64_t t = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
  if (!at_once && t - reaped_ns_ < 500'000'000) return;
  reaped_ns_ = t;
  std::vector<std::string> gone;
  const double now = now_s();
  auto q = store.db().prepare(
      "SELECT id, host, pid, started_ticks, lease_s, heartbeat_at FROM runners WHERE run_id = ? AND id != ? AND ended = 0");
  q.bind(1, run_id_).bind(2, id_);
  while (q.step()) {
    const pid_t pid = static_cast<pid_t>(q.int64(2));
    bool dead = now - q.real(5) > q.real(4);  // the lease ran out
    if (!dead && q.text(1) == host_)          // on this host the kernel says at once
      dead = (::kill(pid, 0) != 0 && errno == ESRCH) || process_start_ticks(pid) != q.int64(3);
    if (dead) gone.push_back(q.text(0));
  }
  q.reset();
  // Marked, not deleted: what a gone runner reserved may have been spent, so it stays counted against a cap.
  for (const auto& id : gone) store.db().prepare("UPDATE runners SET ended = 2 WHERE id = ?").bind(1, id).run();
}

ClaimState CampaignClaims::claim(Store& store, size_t block, bool ahead) {
  if (ahead) {
    std::unique_lock<std::mutex> lock(mu_);
    if (block >= next_ || ready_.count(block)) {  // the walk, in order: the claimer answers
      wanted_ = std::max(wanted_, block + kClaimAhead);
      wake_.notify_all();
      claimed_.wait(lock, [&] { return ready_.count(block) || claimer_error_ || stopping_; });
      if (claimer_error_) std::rethrow_exception(claimer_error_);
      auto it = ready_.find(block);
      if (it != ready_.end()) {
        const ClaimState s = it->second;
        ready_.erase(ready_.begin(), std::next(it));  // blocks behind the walk are not asked for again
        return s;
      }
    }
  }
  Transaction tx(store.db());
  reap(store, true);
  const ClaimState s = claim_one(store, block);
  tx.commit();
  return s;
}

void CampaignClaims::claim_ahead() {
  try {
    Store store(db_path_, Store::Mode::kReadWrite);
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
      wake_.wait(lock, [this] { return stopping_ || (next_ < wanted_ && next_ < plan_blocks_); });
      if (stopping_) return;
      const size_t from = next_, to = std::min(next_ + kClaimAhead, plan_blocks_);
      lock.unlock();
      std::map<size_t, ClaimState> got;
      {
        Transaction tx(store.db());
        reap(store);
        for (size_t b = from; b < to; ++b) got[b] = claim_one(store, b);
        tx.commit();
      }
      lock.lock();
      ready_.insert(got.begin(), got.end());
      next_ = to;
      claimed_.notify_all();
    }
  } catch (...) {
    std::lock_guard<std::mutex> lock(mu_);
    claimer_error_ = std::current_exception();
    claimed_.notify_all();
  }
}

// Inside the caller's transaction: take the block when nobody holds it, or when its holder is no longer a
// runner (or let it go); never a done one.
ClaimState CampaignClaims::claim_one(Store& store, size_t block) {
  const std::string key = block_key(block);
  std::optional<ClaimState> state;
  std::string before;
  bool existed = false;  // claimed before (by a runner now gone, or let go with cells to retry)
  {
    auto q = store.db().prepare("SELECT runner, done FROM claims WHERE run_id = ? AND block = ?");
    q.bind(1, run_id_).bind(2, key);
    if (q.step()) {
      existed = true;
      before = q.text(0);
      if (q.int64(1) == 1) state = ClaimState::kDone;
      else if (before == id_) {
        std::lock_guard<std::mutex> taken(taken_mu_);
        state = taken_over_.count(block) ? ClaimState::kTakenOver : ClaimState::kMine;
      }
    }
  }
  if (!state && !before.empty()) {
    auto live = store.db().prepare("SELECT 1 FROM runners WHERE id = ? AND ended = 0");
    live.bind(1, before);
    if (live.step()) state = ClaimState::kBusy;
  }
  if (!state) {
    store.db()
        .prepare("INSERT INTO claims(run_id, block, runner) VALUES(?,?,?) ON CONFLICT(run_id, block) DO UPDATE SET runner = excluded.runner")
        .bind(1, run_id_)
        .bind(2, key)
        .bind(3, id_)
        .run();
    state = existed ? ClaimState::kTakenOver : ClaimState::kMine;
    if (existed) {
      std::lock_guard<std::mutex> taken(taken_mu_);
      taken_over_.insert(block);
    }
  }
  return *state;
}

std::map<size_t, ClaimState> CampaignClaims::survey(Store& store) {
  {
    Transaction tx(store.db());
    reap(store, true);
    tx.commit();
  }
  std::map<size_t, ClaimState> out;
  auto q = store.db().prepare(
      "SELECT c.block, c.done, c.runner, r.id IS NOT NULL FROM claims c LEFT JOIN runners r ON r.id = c.runner AND r.ended = 0 "
      "WHERE c.run_id = ? AND c.block LIKE ? || ':%'");
  q.bind(1, run_id_).bind(2, scope_);
  while (q.step()) {
    const std::string key = q.text(0);
    const size_t block = std::stoull(key.substr(scope_.size() + 1));
    out[block] = q.int64(1) == 1 ? ClaimState::kDone
                 : q.text(2) == id_ ? ClaimState::kMine
                 : q.int64(3) == 1 ? ClaimState::kBusy
                                   : ClaimState::kTakenOver;
  }
  return out;
}

// The one row of `block` this runner holds, changed by `set` (a SET clause) while it is not done.
void CampaignClaims::update_held(Store& store, size_t block, const char* set) const {
  store.db()
      .prepare(std::string("UPDATE claims SET ") + set + " WHERE run_id = ? AND block = ? AND runner = ? AND done = 0")
      .bind(1, run_id_)
      .bind(2, block_key(block))
      .bind(3, id_)
      .run();
}

void CampaignClaims::mark_done(Store& store, size_t block) const { update_held(store, block, "done = 1"); }

void CampaignClaims::release(Store& store, size_t block) const { update_held(store, block, "runner = ''"); }

int64_t CampaignClaims::live_runners(Store& store) {
  {
    Transaction tx(store.db());
    reap(store, true);
    tx.commit();
  }
  auto q = store.db().prepare("SELECT COUNT(*) FROM runners WHERE run_id = ? AND ended = 0");
  q.bind(1, run_id_);
  q.step();
  return q.int64(0);
}

bool CampaignClaims::reserve(Store& store, double amount, double cap) {
  Transaction tx(store.db());
  reap(store, true);
  auto q = store.db().prepare("SELECT TOTAL(reserved_usd) FROM runners WHERE run_id = ?");
  q.bind(1, run_id_);
  q.step();
  const double taken = q.real(0);
  q.reset();
  if (taken + amount > cap + 1e-12) return false;
  store.db().prepare("UPDATE runners SET reserved_usd = reserved_usd + ? WHERE id = ?").bind(1, amount).bind(2, id_).run();
  tx.commit();
  return true;
}

}  // namespace reckon
