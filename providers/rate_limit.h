#pragma once
// Running as fast as the account allows and no faster: token buckets for requests and tokens per
// minute, and AIMD concurrency that halves on a 429 and creeps back on success.
#include <algorithm>

namespace reckon {

class TokenBucket {
 public:
  // per_minute <= 0 means unlimited.
  explicit TokenBucket(double per_minute = 0) : rate_(per_minute / 60.0), capacity_(per_minute), tokens_(per_minute) {}
  bool unlimited() const { return rate_ <= 0; }
  // A new budget from now on (another runner joined or left the account): what is saved stays, up to it.
  void set_per_minute(double per_minute) {
    rate_ = per_minute / 60.0;
    capacity_ = per_minute;
    tokens_ = std::min(tokens_, capacity_);
  }
  // Seconds until `amount` is available at time `now`; 0 means take it now (and it is taken).
  double acquire(double amount, double now) {
    if (unlimited()) return 0;
    refill(now);
    amount = std::min(amount, capacity_);  // a request larger than a minute's budget waits for a full bucket
    if (tokens_ >= amount) {
      tokens_ -= amount;
      return 0;
    }
    return (amount - tokens_) / rate_;
  }

 private:
  void refill(double now) {
    if (last_ >= 0) tokens_ = std::min(capacity_, tokens_ + (now - last_) * rate_);
    last_ = now;
  }
  double rate_, capacity_, tokens_, last_ = -1;
};

class AdaptiveConcurrency {
 public:
  explicit AdaptiveConcurrency(int max) : max_(std::max(1, max)), limit_(max_) {}
  int limit() const { return static_cast<int>(limit_); }
  void on_throttle() { limit_ = std::max(1.0, limit_ / 2); }
  void on_success() { limit_ = std::min(static_cast<double>(max_), limit_ + 1.0 / limit_); }

 private:
  int max_;
  double limit_;
};

}  // namespace reckon
