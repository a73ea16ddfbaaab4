#pragma once
// Provider batch APIs: the same answers at the batch rate (half price at OpenAI, Anthropic and
// Google), delivered within 24 hours. One BatchApi speaks one provider's batch wire format for one
// model: create a batch from entries (each with a custom_id reckon chose), find a batch it created
// by the tag it set (for a crash between "created" and "recorded"), poll it, read its results per
// custom_id, cancel it. The request bodies are the adapter's own (adapter.h): a batch asks exactly
// what a live call would have asked.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "providers/adapter.h"
#include "providers/http_call.h"
#include "providers/request.h"

namespace reckon {

// A batch API call that failed (HTTP error, unreadable answer): the message names what and why.
class BatchError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct BatchEntry {
  std::string custom_id;  // [A-Za-z0-9_-]{1,64}: every provider accepts it
  ChatRequest request;
};

struct BatchStatus {
  std::string state;         // the provider's own word (validating, in_progress, ended, BATCH_STATE_RUNNING, ...)
  bool ended = false;        // no more results will come (completed, failed, expired, cancelled)
  bool failed = false;       // refused as a whole (validation): no item ran; `error` says why
  int64_t total = 0, succeeded = 0, errored = 0;  // as the provider counts them, when it does
  std::string error;
};

struct BatchItemResult {
  std::string custom_id;
  enum class Kind { kAnswered, kNotRun } kind = Kind::kAnswered;  // not run: expired or cancelled, may go again
  CallResult result;  // answered: ok with the completion (priced at the batch tier), or the provider's error
  std::string why;    // not run: the provider's reason
};

class BatchApi {
 public:
  virtual ~BatchApi() = default;
  // The provider's limits on one batch.
  virtual size_t max_requests() const = 0;
  virtual size_t max_bytes() const = 0;
  // The entry as the batch carries it (its size counts toward max_bytes). Throws InputError for a request
  // the batch API cannot carry.
  virtual std::string line(const BatchEntry& e) const = 0;
  // Creates a batch of `lines` tagged with `tag` (metadata or display name); its remote id. Throws BatchError.
  virtual std::string create(const std::vector<std::string>& lines, const std::string& tag) = 0;
  // The batch created with `tag`, among the account's recent batches; nothing when there is none.
  virtual std::optional<std::string> find(const std::string& tag) = 0;
  virtual BatchStatus poll(const std::string& id) = 0;
  // The answers of an ended batch, by custom_id (items the provider did not report are absent).
  virtual std::vector<BatchItemResult> results(const std::string& id) = 0;
  virtual void cancel(const std::string& id) = 0;
};

// Where one model's batches go, and how its answers are read.
struct BatchTarget {
  ModelRef model;
  std::string base_url;  // the provider's endpoint (endpoint_of)
  std::string api_key;   // may be empty (local servers)
  std::shared_ptr<const Adapter> adapter;
};

std::unique_ptr<BatchApi> make_openai_batch(BatchTarget t);
std::unique_ptr<BatchApi> make_anthropic_batch(BatchTarget t);
std::unique_ptr<BatchApi> make_gemini_batch(BatchTarget t);

// The batch API behind a model (its provider's; key from the environment, endpoint as for live calls);
// nullptr when its provider has none reckon speaks.
std::unique_ptr<BatchApi> batch_api_for(const ModelRef& model);
// Whether the model's provider has a batch API reckon speaks.
bool has_batch_api(const std::string& provider);

// The readers of a batch's results, apart from the HTTP that fetches them: BatchError (naming `what` and the
// line) for anything they cannot read. OpenAI's output and error files; Anthropic's results JSONL; Gemini's
// operation (inlined responses) and responses file.
std::vector<BatchItemResult> read_openai_batch_file(const Adapter& adapter, const std::string& jsonl, const std::string& what);
std::vector<BatchItemResult> read_anthropic_batch_results(const Adapter& adapter, const std::string& jsonl, const std::string& what);
std::vector<BatchItemResult> read_gemini_batch_output(const Adapter& adapter, const nlohmann::json& output, const std::string& what);
std::vector<BatchItemResult> read_gemini_batch_file(const Adapter& adapter, const std::string& jsonl, const std::string& what);

// Shared by the implementations: each non-blank line of a JSONL body, parsed, with its 1-based number; a
// line that is not JSON, or that `fn` cannot read (a field of the wrong type), is a BatchError naming `what`.
void each_jsonl_line(const std::string& body, const std::string& what, const std::function<void(const nlohmann::json&)>& fn);
// Shared by the implementations: the body a live call of `request` would send (never streamed: a batch
// answers whole), as JSON, built by the target's adapter.
nlohmann::json live_body(const BatchTarget& t, ChatRequest request);
// Also shared: the JSON of a reply, or BatchError naming `what`, the status and an excerpt.
nlohmann::json batch_reply_json(const HttpReply& r, const std::string& what);
// An answer body read by the model's adapter into a result priced at the batch tier; a body it cannot
// read becomes a bad-response error (the provider billed it all the same, when it says usage).
CallResult read_batch_answer(const Adapter& adapter, const nlohmann::json& body);
// A provider's error for one item (HTTP status, error object) as a call's failure.
CallResult batch_item_error(std::optional<long> status, const nlohmann::json& error);

}  // namespace reckon
