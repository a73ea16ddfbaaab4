#include "harness/claims.h"

#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <thread>

#include "tests/support.h"

using namespace reckon;

namespace {

double now_s() { return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count(); }

// A runner row as another process (or host) would have written it.
void add_runner(Store& s, const std::string& id, const std::string& host, int64_t pid, int64_t ticks, double lease, double beat) {
  s.db()
      .prepare("INSERT INTO runners(id, run_id, host, pid, started_ticks, lease_s, heartbeat_at) VALUES(?,?,?,?,?,?,?)")
      .bind(1, id).bind(2, "run-x").bind(3, host).bind(4, pid).bind(5, ticks).bind(6, lease).bind(7, beat)
      .run();
}

void add_claim(Store& s, const std::string& block, const std::string& runner, int done = 0) {
  s.db().prepare("INSERT INTO claims(run_id, block, runner, done) VALUES('run-x', ?, ?, ?)").bind(1, block).bind(2, runner).bind(3, static_cast<int64_t>(done)).run();
}

std::string this_host() {
  char buf[256] = {0};
  gethostname(buf, sizeof buf - 1);
  return buf;
}

}  // namespace

TEST_CASE("a block is claimed once: free, mine, another live runner's, done, or taken from a runner that is gone", "[claims]") {
  test::TempDir tmp;
  const std::string db = tmp.file("c.db");
  Store s(db, Store::Mode::kReadWrite);
  CampaignClaims me(db, "run-x", "1/1", 10);
  // Another host's runner that renews (heartbeat now), one whose heartbeat is 60 s old with a 10 s lease,
  // a runner on this host whose process has ended, and one on this host that is this very process under
  // another start time (a reused pid): only the first is alive.
  pid_t ended = fork();
  if (ended == 0) _exit(0);
  waitpid(ended, nullptr, 0);
  add_runner(s, "live-elsewhere", "other-host", 4242, 1, 10, now_s());
  add_runner(s, "stale-elsewhere", "other-host", 4243, 1, 10, now_s() - 60);
  add_runner(s, "ended-here", this_host(), ended, 1, 10, now_s());
  add_runner(s, "reused-pid", this_host(), getpid(), process_start_ticks(getpid()) + 1, 10, now_s());
  add_claim(s, "1/1:1", "live-elsewhere");
  add_claim(s, "1/1:2", "stale-elsewhere");
  add_claim(s, "1/1:3", "ended-here");
  add_claim(s, "1/1:4", "reused-pid");
  add_claim(s, "1/1:5", "live-elsewhere", 1);
  CHECK(me.claim(s, 0) == ClaimState::kMine);
  CHECK(me.claim(s, 0) == ClaimState::kMine);  // asking again changes nothing
  CHECK(me.claim(s, 1) == ClaimState::kBusy);
  CHECK(me.claim(s, 2) == ClaimState::kTakenOver);
  CHECK(me.claim(s, 3) == ClaimState::kTakenOver);
  CHECK(me.claim(s, 4) == ClaimState::kTakenOver);
  CHECK(me.claim(s, 5) == ClaimState::kDone);
  CHECK(me.live_runners(s) == 2);  // this one and the live one elsewhere
  const auto seen = me.survey(s);
  CHECK(seen.at(0) == ClaimState::kMine);
  CHECK(seen.at(1) == ClaimState::kBusy);
  CHECK(seen.at(5) == ClaimState::kDone);
  // Another scope (a sharded run of the same campaign) never sees these blocks.
  CampaignClaims shard(db, "run-x", "1/2", 10);
  CHECK(shard.claim(s, 0) == ClaimState::kMine);
  const auto sharded = shard.survey(s);  // its own blocks only: 0 and those claimed with it, all its own
  CHECK(sharded.at(0) == ClaimState::kMine);
  CHECK(sharded.at(1) == ClaimState::kMine);  // the other scope's block 1 is busy, this one is not
  // Done is marked only by the holder.
  shard.mark_done(s, 1);
  CHECK(me.claim(s, 1) == ClaimState::kBusy);
  me.mark_done(s, 0);
  CHECK(shard.claim(s, 0) == ClaimState::kMine);
  CHECK(me.survey(s).at(0) == ClaimState::kDone);
}

TEST_CASE("a runner that stops renewing keeps its blocks for its lease and then loses them, while one that ends frees them at once", "[claims]") {
  test::TempDir tmp;
  const std::string db = tmp.file("l.db");
  Store s(db, Store::Mode::kReadWrite);
  {
    CampaignClaims first(db, "run-x", "1/1", 10);
    CHECK(first.claim(s, 7) == ClaimState::kMine);
    CampaignClaims second(db, "run-x", "1/1", 10);
    CHECK(second.claim(s, 7) == ClaimState::kBusy);
  }  // both end: unregistered
  CampaignClaims third(db, "run-x", "1/1", 10);
  CHECK(third.claim(s, 7) == ClaimState::kTakenOver);
  // Elsewhere, renewing with a 0.3 s lease, then silent: busy until the lease runs out (a progress marker:
  // the survey is polled, never a fixed sleep taken as proof).
  add_runner(s, "quiet", "other-host", 1, 1, 0.3, now_s());
  add_claim(s, "1/1:100", "quiet");
  CHECK(third.claim(s, 100) == ClaimState::kBusy);
  bool freed = false;
  for (int i = 0; i < 400 && !freed; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    freed = third.survey(s).at(100) == ClaimState::kTakenOver;
  }
  CHECK(freed);
  CHECK(third.claim(s, 100, false) == ClaimState::kTakenOver);
}
