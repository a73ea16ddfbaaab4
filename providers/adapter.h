#pragma once
// The seam between reckon and one provider's wire format: build the HTTP request, read the body
// or the SSE stream into a Completion with normalized Usage. Transport, retries and rate limits
// live elsewhere (client.h), the same for every adapter.
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "providers/request.h"
#include "providers/sse.h"

namespace reckon {

struct HttpRequest {
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;  // may hold key material: never logged
  std::string body;
  std::string method = "POST";  // POST (with body) or GET
};

// A response body the adapter cannot read (malformed JSON, missing fields).
class BadResponse : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class StreamDecoder {
 public:
  virtual ~StreamDecoder() = default;
  virtual void on_event(const SseEvent& e) = 0;
  // The completion so far; usage.usage_complete is false until the provider's usage arrived.
  virtual Completion completion() const = 0;
  bool saw_content() const { return saw_content_; }  // first token arrived (time to first token)
  bool finished() const { return finished_; }        // the provider's terminal event arrived
  // An error reported inside an HTTP 200 stream.
  const std::optional<std::pair<ErrorClass, std::string>>& error() const { return error_; }

 protected:
  bool saw_content_ = false, finished_ = false;
  std::optional<std::pair<ErrorClass, std::string>> error_;
};

class Adapter {
 public:
  virtual ~Adapter() = default;
  virtual HttpRequest build(const ChatRequest& req, const std::string& api_key, const std::string& base_url) const = 0;
  // Reads a non-streamed 200 body. Throws BadResponse.
  virtual Completion parse(const std::string& body) const = 0;
  virtual std::unique_ptr<StreamDecoder> decoder() const = 0;
  // The usage in a 200 body `parse` could not read as an answer (an error object, a missing field): that
  // request was billed all the same. Nothing when the body says no usage. Throws BadResponse.
  virtual std::optional<Usage> usage_of(const nlohmann::json& body) const { return std::nullopt; }
};

// Parses JSON or throws BadResponse with a short excerpt (bodies are not secrets, keys never are in them).
nlohmann::json parse_json_body(const std::string& body);
// The service tier a response says served it (OpenAI `service_tier`, Anthropic `usage.service_tier`, Gemini
// `usageMetadata.serviceTier`), when `value` names one reckon prices: priced at that tier, not the one asked.
void read_served_tier(const nlohmann::json& obj, const char* key, Usage& u);
// Optional integer field; BadResponse when present but not a non-negative integer.
std::optional<int64_t> token_field(const nlohmann::json& obj, const char* key);

}  // namespace reckon
