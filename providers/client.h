#pragma once
// Runs model calls: many in flight on one thread, retried with backoff and the provider's hints,
// paced by rate limits, and answered by `replay` without the network. Keys come from the
// environment and never leave this file's HTTP headers.
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "providers/clock.h"
#include "providers/http_engine.h"
#include "providers/rate_limit.h"
#include "providers/registry.h"
#include "providers/replay.h"

namespace reckon {

struct ProviderLimits {
  int max_concurrency = 0;          // 0 = the client-wide value
  double requests_per_minute = -1;  // < 0 = the client-wide value
  double tokens_per_minute = -1;
};

struct ClientOptions {
  std::map<std::string, ProviderLimits> per_provider;  // by provider name
  int max_concurrency = 32;    // per provider
  int max_attempts = 6;
  double base_backoff_s = 0.5;
  double max_backoff_s = 60;   // a provider hint longer than this is still honoured up to max_hint_s
  double max_hint_s = 600;
  double timeout_s = 600;
  double requests_per_minute = 0;  // per provider; 0 = unlimited
  double tokens_per_minute = 0;
  bool adaptive = true;        // AIMD on 429
  uint64_t seed = 0;           // 0 = random jitter
};

class ModelClient {
 public:
  using Callback = std::function<void(const ChatRequest&, const CallResult&)>;

  ModelClient(ClientOptions opts, Clock& clock);
  ~ModelClient();

  void set_replay(const ReplaySource* replay) { replay_ = replay; }
  // Consulted just before a call is first sent; returning false stops the run cleanly (spend cap,
  // Ctrl-C): in-flight calls finish, the rest are reported not sent.
  void set_admit(std::function<bool(const ChatRequest&, const void* tag)> admit) { admit_ = std::move(admit); }
  // Queues a call; `repeat` picks the recording for replay; `tag` is handed back to admit.
  // The callback runs on this thread.
  void submit(ChatRequest req, int64_t repeat, Callback cb, const void* tag = nullptr);
  // Asked for more calls whenever fewer than `window` wait to be sent: `more` submits some and
  // returns false once it has none left. Keeps a run of any size at a window's memory, and the
  // dispatch loop at a window's length.
  void set_source(std::function<bool()> more, size_t window) {
    source_ = std::move(more);
    window_ = window;
  }
  // Runs until every submitted call finished, or stop() / a fatal error. Calls never sent are
  // reported with attempts == 0 (the caller records nothing for them: a rerun sends them).
  void run();
  void stop() { stop_ = true; }
  // This client's share of every requests- and tokens-per-minute limit (1 = all of it): runners sharing an
  // account divide it among themselves as they come and go.
  void set_rate_share(double share);
  // Set when a quota, billing, auth or unknown-model error stopped the run.
  const std::string& fatal_error() const { return fatal_; }
  int in_flight() const { return engine_.running(); }

  // Usable in --verbose output: the request with key material removed.
  static std::string describe(const HttpRequest& r);

 private:
  struct Job;
  struct ProviderState {
    TokenBucket requests, tokens;
    double rpm = 0, tpm = 0;  // the limits before any sharing
    AdaptiveConcurrency concurrency;
    int in_flight = 0;
  };
  ProviderState& state(const std::string& provider);
  bool try_dispatch(std::unique_ptr<Job>& job);
  void attempt(std::unique_ptr<Job> job);
  void finish(std::unique_ptr<Job> job, CallResult r);
  void retry_or_finish(std::unique_ptr<Job> job, CallResult r, const Verdict& v);

  ClientOptions opts_;
  Clock& clock_;
  HttpEngine engine_;
  Backoff backoff_;
  const ReplaySource* replay_ = nullptr;
  std::function<bool(const ChatRequest&, const void* tag)> admit_;
  std::function<bool()> source_;
  size_t window_ = 0;
  bool saturated_ = false;  // the last try_dispatch found its provider at its concurrency limit
  std::deque<std::unique_ptr<Job>> pending_;
  std::map<std::string, std::unique_ptr<ProviderState>> states_;
  bool stop_ = false;
  std::string fatal_;
  double rate_share_ = 1;
};

}  // namespace reckon
