#include "providers/client.h"
#include "common/json_parse.h"

#include <algorithm>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "common/text.h"
#include "providers/retry.h"

namespace reckon {

struct ModelClient::Job {
  ChatRequest req;
  int64_t repeat = 0;
  Callback cb;
  const void* tag = nullptr;
  int attempts = 0;
  double not_before = 0;
  bool paced = false;  // not_before is a rate limit's wait (worked out again when the share changes), not a backoff
  double first_start = 0;
  std::string key;  // from the environment; only ever placed in headers
  std::unique_ptr<Adapter> adapter;
  std::string base_url;
};

ModelClient::ModelClient(ClientOptions opts, Clock& clock)
    : opts_(opts), clock_(clock), backoff_(opts.base_backoff_s, opts.max_backoff_s, opts.seed ? opts.seed : std::random_device{}()) {}

ModelClient::~ModelClient() = default;

std::string ModelClient::describe(const HttpRequest& r) {
  std::string out = "POST " + r.url + "\n";
  for (const auto& [k, v] : r.headers) {
    std::string lk = to_lower(k);
    bool secret = lk == "authorization" || lk == "x-api-key" || lk == "x-goog-api-key";
    out += k + ": " + (secret ? "[redacted]" : v) + "\n";
  }
  return out + r.body + "\n";
}

ModelClient::ProviderState& ModelClient::state(const std::string& provider) {
  auto& s = states_[provider];
  if (!s) {
    ProviderLimits lim;
    if (auto it = opts_.per_provider.find(provider); it != opts_.per_provider.end()) lim = it->second;
    double rpm = lim.requests_per_minute >= 0 ? lim.requests_per_minute : opts_.requests_per_minute;
    double tpm = lim.tokens_per_minute >= 0 ? lim.tokens_per_minute : opts_.tokens_per_minute;
    int conc = lim.max_concurrency > 0 ? lim.max_concurrency : opts_.max_concurrency;
    s = std::make_unique<ProviderState>(
        ProviderState{TokenBucket(rpm * rate_share_), TokenBucket(tpm * rate_share_), rpm, tpm, AdaptiveConcurrency(conc), 0});
  }
  return *s;
}

void ModelClient::set_rate_share(double share) {
  if (share == rate_share_) return;
  rate_share_ = share;
  for (auto& [provider, st] : states_) {
    if (st->rpm > 0) st->requests.set_per_minute(st->rpm * share);
    if (st->tpm > 0) st->tokens.set_per_minute(st->tpm * share);
  }
  for (auto& job : pending_)
    if (job->paced) job->not_before = 0;  // waits worked out at the old pace are worked out again
}

void ModelClient::submit(ChatRequest req, int64_t repeat, Callback cb, const void* tag) {
  auto job = std::make_unique<Job>();
  job->tag = tag;
  job->req = std::move(req);
  job->repeat = repeat;
  job->cb = std::move(cb);
  pending_.push_back(std::move(job));
}

void ModelClient::finish(std::unique_ptr<Job> job, CallResult r) {
  r.attempts = job->attempts;
  r.error = redact(r.error, job->key);
  job->cb(job->req, r);
}

void ModelClient::retry_or_finish(std::unique_ptr<Job> job, CallResult r, const Verdict& v) {
  auto& st = state(job->req.model.provider);
  if (v.error_class == ErrorClass::kRateLimit && opts_.adaptive) st.concurrency.on_throttle();
  if (v.fatal) {
    if (fatal_.empty()) fatal_ = job->req.model.name() + ": " + redact(v.message, job->key);
    stop_ = true;
  }
  if (v.retryable && !stop_ && job->attempts < opts_.max_attempts) {
    double wait = backoff_.delay(job->attempts);
    if (v.retry_after) wait = std::max(wait, std::min(*v.retry_after, opts_.max_hint_s));
    job->not_before = clock_.now() + wait;
    job->paced = false;
    pending_.push_back(std::move(job));
    return;
  }
  r.ok = false;
  r.error_class = v.error_class;
  r.error = v.message;
  finish(std::move(job), std::move(r));
}

bool ModelClient::try_dispatch(std::unique_ptr<Job>& job) {
  const ModelRef& m = job->req.model;
  if (job->attempts == 0 && !job->adapter && m.provider != "replay") {
    const ProviderInfo* info = find_provider(m.provider);
    if (!info) {
      CallResult r;
      r.error_class = ErrorClass::kClient;
      r.error = "unknown provider '" + m.provider + "' (see `reckon providers list`)";
      job->attempts = 1;
      fatal_ = r.error;
      stop_ = true;
      finish(std::move(job), r);
      return true;
    }
    if (auto missing = missing_api_key(*info, m.params)) {
      CallResult r;
      r.error_class = ErrorClass::kAuth;
      r.error = "environment variable " + *missing + " is not set (needed for " + m.name() + ")";
      job->attempts = 1;
      fatal_ = r.error;
      stop_ = true;
      finish(std::move(job), r);
      return true;
    }
    const std::string var = api_key_variable(*info, m.params);
    if (const char* k = var.empty() ? nullptr : std::getenv(var.c_str())) job->key = k;
    job->adapter = info->make(m.params);
    job->base_url = endpoint_of(*info, m.params.base_url).url;
  }
  auto admitted = [&] {
    if (job->attempts > 0 || !admit_ || admit_(job->req, job->tag)) return true;
    stop_ = true;
    return false;
  };
  if (m.provider == "replay") {
    if (!admitted()) return false;
    ++job->attempts;
    CallResult r;
    auto c = replay_ ? replay_->find(m.model, job->req.messages, job->repeat) : std::nullopt;
    if (c) {
      r.ok = true;
      r.completion = *c;
    } else {
      r.error_class = ErrorClass::kClient;
      r.error = replay_ ? "no recording for this prompt of " + m.model : "no replay source loaded (use --replay)";
    }
    finish(std::move(job), r);
    return true;
  }
  auto& st = state(m.provider);
  if (st.in_flight >= st.concurrency.limit()) {
    saturated_ = true;
    return false;
  }
  double now = clock_.now();
  double est_tokens = 0;
  for (const auto& msg : job->req.messages) est_tokens += static_cast<double>(msg.content.size()) / 4.0;
  est_tokens += static_cast<double>(m.params.max_tokens.value_or(1000));
  double wait = std::max(st.requests.acquire(1, now), 0.0);
  if (wait == 0) {
    wait = st.tokens.acquire(est_tokens, now);
  }
  if (wait > 0) {
    job->not_before = now + wait;
    job->paced = true;
    return false;
  }
  if (!admitted()) return false;
  attempt(std::move(job));
  return true;
}

namespace {

// A 200 body the adapter could not read as an answer. Bytes that are not JSON at all are not the provider's
// answer (a proxy, a cut transfer): ask again. A JSON body is what the provider sent and billed: an error
// object is classified by its type like an HTTP error, anything else is recorded as it is, never re-sent;
// either way its usage is kept.
Verdict unreadable_answer(const Adapter& adapter, const std::string& body, const std::string& why, Completion& out) {
  out = Completion{};
  out.usage.usage_complete = false;
  const auto j = parse_json(body, false);
  if (j.is_discarded() || !j.is_object()) return Verdict{ErrorClass::kBadResponse, true, false, std::nullopt, why};
  try {
    if (auto u = adapter.usage_of(j)) {
      out.usage = *u;
      out.raw_usage = j.contains("usage") ? j["usage"] : j.value("usageMetadata", nlohmann::json());
    }
  } catch (const std::exception&) {  // the usage itself is unreadable: unknown, not zero
  }
  if (j.contains("error") && !j["error"].is_null()) {
    Verdict v = classify_error_object(j["error"]);
    v.message = "error in a 200 body: " + v.message.substr(std::string("error in stream: ").size());
    return v;
  }
  return Verdict{ErrorClass::kBadResponse, false, false, std::nullopt, why + " (a 200 answer: recorded, not asked again)"};
}

}  // namespace

void ModelClient::attempt(std::unique_ptr<Job> job) {
  ++job->attempts;
  if (job->attempts == 1) job->first_start = clock_.now();
  auto& st = state(job->req.model.provider);
  ++st.in_flight;
  HttpRequest http = job->adapter->build(job->req, job->key, job->base_url);
  bool stream = job->req.model.params.stream;
  std::shared_ptr<StreamDecoder> decoder = stream ? std::shared_ptr<StreamDecoder>(job->adapter->decoder()) : nullptr;
  auto parse_error = std::make_shared<std::string>();
  auto parser = std::make_shared<SseParser>([decoder, parse_error](const SseEvent& e) {
    if (!parse_error->empty()) return;
    try {
      decoder->on_event(e);
    } catch (const std::exception& err) {  // BadResponse, or a JSON value of the wrong type
      *parse_error = err.what();
    }
  });
  auto ttft = std::make_shared<std::optional<double>>();
  auto started = std::make_shared<double>(clock_.now());
  HttpEngine::OnData on_data;
  if (stream) {
    auto t0 = std::chrono::steady_clock::now();
    on_data = [parser, decoder, ttft, t0](const char* p, size_t n) {
      parser->feed(p, n);
      if (!*ttft && decoder->saw_content())
        *ttft = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    };
  }
  // The transfer's callback owns the job; a run abandoned mid-flight (an exception unwinding the client) frees
  // it with the callback instead of leaking it.
  auto owned = std::make_shared<std::unique_ptr<Job>>(std::move(job));
  engine_.start(http, opts_.timeout_s, on_data, [this, owned, decoder, parser, parse_error, ttft, stream](HttpResponse&& resp) {
    std::unique_ptr<Job> job = std::move(*owned);
    auto& st = state(job->req.model.provider);
    --st.in_flight;
    CallResult r;
    r.latency_ms = resp.total_ms;
    r.ttft_ms = *ttft;
    if (resp.status) r.http_status = resp.status;
    Verdict v;
    if (resp.status == 200) {
      if (stream) {
        parser->finish();
        r.completion = decoder->completion();
        if (!parse_error->empty()) {
          v = Verdict{ErrorClass::kBadResponse, true, false, std::nullopt, "malformed stream: " + *parse_error};
        } else if (decoder->error()) {
          auto [cls, msg] = *decoder->error();
          v = Verdict{cls, retryable(cls), cls == ErrorClass::kQuota || cls == ErrorClass::kAuth, std::nullopt, msg};
        } else if (!resp.transport_error.empty() || !decoder->finished()) {
          v = Verdict{resp.timed_out ? ErrorClass::kTimeout : ErrorClass::kStream, true, false, std::nullopt,
                      "stream ended early" + (resp.transport_error.empty() ? std::string() : ": " + resp.transport_error)};
        } else {
          r.ok = true;
        }
      } else if (!resp.transport_error.empty()) {
        v = Verdict{resp.timed_out ? ErrorClass::kTimeout : ErrorClass::kConnection, true, false, std::nullopt,
                    resp.transport_error};
      } else {
        try {
          r.completion = job->adapter->parse(resp.body);
          r.ok = true;
        } catch (const std::exception& e) {  // BadResponse, or a JSON value of the wrong type
          v = unreadable_answer(*job->adapter, resp.body, e.what(), r.completion);
        }
      }
    } else if (resp.status == 0 || (!resp.transport_error.empty() && resp.status < 400)) {
      v = Verdict{resp.timed_out ? ErrorClass::kTimeout : ErrorClass::kConnection, true, false, std::nullopt,
                  resp.transport_error.empty() ? "no response" : resp.transport_error};
    } else {
      v = classify_http_error(resp.status, resp.headers, resp.body, clock_.wall());
    }
    if (r.ok) {
      if (opts_.adaptive) st.concurrency.on_success();
      finish(std::move(job), std::move(r));
      return;
    }
    // Usage stays only where it arrived with the answer's bytes (a 200 stream or body); an HTTP error or a cut
    // transfer carries none.
    if (resp.status != 200) r.completion.usage.usage_complete = false;
    retry_or_finish(std::move(job), std::move(r), v);
  });
}

void ModelClient::run() {
  for (;;) {
    if (stop_) {
      // Report what was never sent; wait for what is in flight.
      while (!pending_.empty()) {
        auto job = std::move(pending_.front());
        pending_.pop_front();
        CallResult r;
        r.error = fatal_.empty() ? "stopped" : "not sent: run stopped: " + fatal_;
        job->attempts = 0;
        job->cb(job->req, r);
      }
      if (engine_.running() == 0) return;
      engine_.poll(0.05);
      continue;
    }
    while (source_ && pending_.size() < window_)
      if (!source_()) source_ = nullptr;
    double now = clock_.now();
    double next_due = -1;
    size_t n = pending_.size();
    for (size_t i = 0; i < n && !pending_.empty() && !stop_; ++i) {
      auto job = std::move(pending_.front());
      pending_.pop_front();
      saturated_ = false;
      if (job->not_before > now || !try_dispatch(job)) {
        if (job && saturated_ && states_.size() == 1) {  // the one provider is full: nothing else can go
          pending_.push_front(std::move(job));
          break;
        }
        if (job) {
          if (next_due < 0 || job->not_before < next_due) next_due = std::max(job->not_before, now);
          pending_.push_back(std::move(job));
        }
      }
    }
    if (pending_.empty() && engine_.running() == 0 && !source_) return;  // a source with more (replay answers at once) refills next turn
    if (engine_.running() > 0) {
      double wait = next_due > now ? std::min(next_due - now, 0.25) : 0.25;
      engine_.poll(wait);
    } else if (next_due > now) {
      clock_.sleep(next_due - now);
    }
  }
}

}  // namespace reckon
