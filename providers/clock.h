#pragma once
// Time as a seam: backoff and rate limits are tested with FakeClock, without real waiting.
#include <chrono>
#include <thread>

namespace reckon {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual double now() = 0;   // monotonic seconds
  virtual double wall() = 0;  // seconds since the Unix epoch (to read HTTP dates and RFC 3339 resets)
  virtual void sleep(double seconds) = 0;
};

class SystemClock : public Clock {
 public:
  double now() override {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
  }
  double wall() override {
    return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  }
  void sleep(double s) override {
    if (s > 0) std::this_thread::sleep_for(std::chrono::duration<double>(s));
  }
};

// Sleeping advances time instantly; tests read how long reckon chose to wait.
class FakeClock : public Clock {
 public:
  explicit FakeClock(double wall_start = 1.7e9) : wall_start_(wall_start) {}
  double now() override { return t_; }
  double wall() override { return wall_start_ + t_; }
  void sleep(double s) override {
    if (s > 0) {
      t_ += s;
      slept_ += s;
    }
  }
  void advance(double s) { t_ += s; }
  double slept() const { return slept_; }

 private:
  double wall_start_, t_ = 0, slept_ = 0;
};

}  // namespace reckon
