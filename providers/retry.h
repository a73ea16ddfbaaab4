#pragma once
// What a failed HTTP attempt means: retry (after how long) or stop, and why — for every provider's
// error shapes and rate-limit hints (PROVIDERS.md B10).
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "providers/request.h"

namespace reckon {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct Verdict {
  ErrorClass error_class = ErrorClass::kNone;
  bool retryable = false;
  bool fatal = false;                 // stops the whole run: quota, billing, auth, unknown model
  std::optional<double> retry_after;  // seconds, from the provider's hint
  std::string message;
};

// Classifies an HTTP error response. `wall_now` (epoch seconds) reads absolute reset times.
Verdict classify_http_error(long status, const Headers& headers, const std::string& body, double wall_now);

// An error object that arrived inside an HTTP 200 (a stream event, or a body): classified by its type, code
// or status as the HTTP error would be — rate limits, overload, server errors and timeouts may be retried;
// quota and auth stop the run; anything else (an invalid request, Groq's tool_use_failed, ...) is the
// answer to this request and is recorded without asking again. `message` starts "error in stream: ".
Verdict classify_error_object(const nlohmann::json& error);
// Whether an attempt that failed this way may be sent again.
bool retryable(ErrorClass c);

// Retry hints, each returning seconds from now.
std::optional<double> parse_retry_after(const std::string& value, double wall_now);  // seconds or HTTP-date
std::optional<double> parse_go_duration(const std::string& value);                   // "1s", "6m0s", "12ms"
std::optional<double> parse_rfc3339(const std::string& value);                       // epoch seconds
std::optional<double> gemini_retry_delay(const std::string& body);                   // RetryInfo.retryDelay

// Exponential backoff with full jitter: uniform(0, min(cap, base * 2^(attempt-1))).
class Backoff {
 public:
  Backoff(double base_s, double cap_s, uint64_t seed = std::random_device{}()) : base_(base_s), cap_(cap_s), rng_(seed) {}
  double delay(int attempt);

 private:
  double base_, cap_;
  std::mt19937_64 rng_;
};

// Removes key material from text that may be stored or printed.
std::string redact(std::string text, const std::string& secret);

}  // namespace reckon
