#include "harness/admit.h"

#include <algorithm>

namespace reckon {

const char* const kDoneSql =
    "(status = 'ok' OR (http_status = 200 AND usage_complete = 1 AND error_class IN ('client_error', 'bad_response')))";

namespace {

uint64_t prefix_of(const std::string& key) { return std::stoull(key.substr(0, 16), nullptr, 16); }

std::vector<uint64_t> key_prefixes(Store& store, const std::string& sql, const std::string* run_id) {
  std::vector<uint64_t> keys;
  auto q = store.db().prepare(sql);
  if (run_id) q.bind(1, *run_id);
  while (q.step())
    if (const std::string k = q.key(0); k.size() >= 16) keys.push_back(prefix_of(k));
  std::sort(keys.begin(), keys.end());
  return keys;
}

bool may_hold(const std::vector<uint64_t>& keys, const std::string& key) {
  return key.size() >= 16 && std::binary_search(keys.begin(), keys.end(), prefix_of(key));
}

}  // namespace

AnsweredBefore::AnsweredBefore(Store& store, std::string run_id, bool earlier_run)
    : store_(store),
      run_id_(std::move(run_id)),
      done_keys_(earlier_run ? key_prefixes(store, std::string("SELECT fingerprint FROM requests WHERE run_id = ? AND ") + kDoneSql, &run_id_)
                             : std::vector<uint64_t>{}),
      cache_keys_(key_prefixes(store, "SELECT request_key FROM requests WHERE status = 'ok' AND cache_hit = 0 AND request_key IS NOT NULL",
                               nullptr)),
      done_q_(store.db().prepare(std::string("SELECT 1 FROM requests WHERE fingerprint = ? AND run_id = ? AND ") + kDoneSql)),
      cache_q_(store.db().prepare(
          "SELECT response, input_tokens, cache_read_tokens, cache_write_5m_tokens, cache_write_1h_tokens, output_tokens, "
          "reasoning_tokens, finish_reason, usage_complete, provider_cost_usd FROM requests WHERE request_key = ? AND status = 'ok' "
          "AND cache_hit = 0 LIMIT 1")) {}

bool AnsweredBefore::is_done(const RequestRecord& r) {
  return r.ok || (r.http_status == 200 && r.usage.usage_complete &&
                  (r.error_class == "client_error" || r.error_class == "bad_response"));
}

bool AnsweredBefore::done_now(const Cell& cell) {
  done_q_.reset();
  done_q_.bind_key(1, cell.fingerprint).bind(2, run_id_);
  const bool found = done_q_.step();
  done_q_.reset();  // an open read would pin its snapshot while the writer commits
  return found;
}

bool AnsweredBefore::done(const Cell& cell) { return may_hold(done_keys_, cell.fingerprint) && done_now(cell); }

bool AnsweredBefore::known_at_start(const std::string& request_key) const { return may_hold(cache_keys_, request_key); }

bool AnsweredBefore::serve(RequestRecord& r) {
  if (!r.request_key) return false;
  cache_q_.reset();
  cache_q_.bind_key(1, *r.request_key);
  if (!cache_q_.step()) {
    cache_q_.reset();
    return false;
  }
  r.cache_hit = true;
  r.response = cache_q_.text(0);
  r.usage.input_tokens = cache_q_.opt_int64(1).value_or(0);
  r.usage.cache_read_tokens = cache_q_.opt_int64(2).value_or(0);
  r.usage.cache_write_5m_tokens = cache_q_.opt_int64(3).value_or(0);
  r.usage.cache_write_1h_tokens = cache_q_.opt_int64(4).value_or(0);
  r.usage.output_tokens = cache_q_.opt_int64(5).value_or(0);
  r.usage.reasoning_tokens = cache_q_.opt_int64(6);
  r.finish_reason = cache_q_.text(7);
  r.usage.usage_complete = cache_q_.int64(8) == 1;
  r.usage.provider_cost_usd = cache_q_.opt_real(9);
  cache_q_.reset();  // an open read would pin its snapshot while the writer commits
  return true;
}

void BlockLedger::finished(const Cell& cell, bool done) {
  auto& p = blocks_[cell.block];
  ++p.finished;
  if (!done) ++p.open_cells;
  settle(cell.block);
}

void BlockLedger::close(size_t block) {
  auto it = blocks_.find(block);
  if (it == blocks_.end()) return;
  it->second.closed = true;
  settle(block);
}

void BlockLedger::settle(size_t b) {
  auto it = blocks_.find(b);
  if (it == blocks_.end() || !it->second.closed || it->second.finished < it->second.planned) return;
  if (claims_) {
    CampaignClaims* claims = claims_;
    if (it->second.open_cells == 0) writer_.push_after([claims, b](Store& s) { claims->mark_done(s, b); });
    else writer_.push_after([claims, b](Store& s) { claims->release(s, b); });
  }
  blocks_.erase(it);
}

void ClaimedWalk::close_block() {
  if (block_ == SIZE_MAX || !state_ || (*state_ != ClaimState::kMine && *state_ != ClaimState::kTakenOver)) return;
  ledger_.close(block_);
}

std::unique_ptr<Cell> ClaimedWalk::next() {
  for (;;) {
    std::unique_ptr<Cell> planned = plan_.next();
    if (!planned) {
      close_block();
      block_ = SIZE_MAX;
      return nullptr;
    }
    const size_t block = ordinal_++ / kCellsPerBlock;
    if (block != block_) {
      close_block();
      block_ = block;
      if (later_pass_) {
        auto it = pass_.find(block);
        state_ = it == pass_.end() ? std::nullopt : std::optional<ClaimState>(it->second);
      } else {
        state_ = claims_ ? claims_->claim(store_, block) : ClaimState::kMine;
        if (*state_ == ClaimState::kBusy) waiting_.insert(block);
      }
    }
    if (!later_pass_) ++counts_.cells;
    if (!state_) continue;  // a later pass: not one of its blocks
    if (*state_ == ClaimState::kBusy) {
      ++counts_.by_others;
      continue;
    }
    if (*state_ == ClaimState::kDone) {
      ++counts_.skipped_done;
      continue;
    }
    if (later_pass_) --counts_.by_others;  // counted as another runner's when it was skipped
    planned->block = block;
    ledger_.planned(*planned);
    if (*state_ == ClaimState::kTakenOver ? before_.done_now(*planned) : before_.done(*planned)) {
      ++counts_.skipped_done;
      ledger_.finished(*planned, true);
      continue;
    }
    return planned;
  }
}

bool ClaimedWalk::take_over_gone() {
  std::map<size_t, ClaimState> taken;
  const std::map<size_t, ClaimState> now = claims_->survey(store_);
  for (auto it = waiting_.begin(); it != waiting_.end();) {
    auto st = now.find(*it);
    ClaimState s = st == now.end() ? ClaimState::kTakenOver : st->second;
    if (s == ClaimState::kTakenOver) s = claims_->claim(store_, *it, false);  // its runner is gone: take it (or lose the race)
    if (s == ClaimState::kDone) {
      it = waiting_.erase(it);
    } else if (s == ClaimState::kBusy) {
      ++it;
    } else {
      taken[*it] = s;
      it = waiting_.erase(it);
    }
  }
  if (taken.empty()) return false;
  pass_ = std::move(taken);
  later_pass_ = true;
  plan_.rewind();
  ordinal_ = 0;
  block_ = SIZE_MAX;
  return true;
}

void ClaimedWalk::count_unreached() {
  if (later_pass_) return;  // a later pass counted its cells on the first
  while (auto cell = plan_.next()) {
    ++counts_.cells;
    if (before_.done(*cell)) ++counts_.skipped_done;
    else ++counts_.not_sent;
  }
}

}  // namespace reckon
