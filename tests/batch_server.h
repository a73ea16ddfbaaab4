#pragma once
// A loopback server that speaks the three batch APIs as their providers document them: OpenAI
// (files with purpose "batch", /v1/batches, output and error files), Anthropic (Message Batches,
// results JSONL at results_url) and Gemini (batchGenerateContent, batches/{id} operations with
// inlined responses). A batch walks through the provider's states one poll at a time; what each
// item gets (an answer with usage, an error, an expiry) is the test's choice.
#include <httplib.h>

#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace reckon::test {

struct BatchOutcome {
  enum class Kind { kAnswer, kError, kExpire } kind = Kind::kAnswer;
  std::string text = "ok";
  int64_t input_tokens = 100, output_tokens = 20;
  std::string error_type = "invalid_request_error", error_message = "bad request";
};

class BatchServer {
 public:
  using Decide = std::function<BatchOutcome(const std::string& custom_id, const nlohmann::json& body)>;
  explicit BatchServer(Decide decide = nullptr);
  ~BatchServer();
  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  void set_polls_to_end(int n);     // polls of a batch before it ends (it is "in progress" until then)
  void hold(bool held, const std::string& api = "");  // while held, batches (of one API, or all) never end
  // Called when a batch has been created, before the answer goes back (a test kills its client there).
  void on_create(std::function<void()> hook);
  void fail_next_validation();      // the next batch created fails validation as a whole
  void expire_batches(bool on);     // batches end expired: items not yet run come back expired
  void refuse_creates(bool on);     // creating a batch answers 400 (nothing is created)
  void fail_lists(bool on);         // listing batches answers 500
  size_t creates();                 // batches created, over all three APIs
  size_t cancels();
  size_t lists();                   // list calls (how a lost batch is found again)
  std::map<std::string, int> delivered();  // per custom_id: answers delivered (each billed)
  std::vector<nlohmann::json> bodies();    // every request body received in a batch, in order

 private:
  struct Batch {
    std::string id, api, model, tag, endpoint;  // endpoint: OpenAI's /v1/chat/completions or /v1/responses
    std::vector<std::pair<std::string, nlohmann::json>> items;  // custom_id, request body
    int polls = 0;
    bool failed = false, cancelled = false, expired = false, ended = false;
    std::string created_at;
    std::vector<nlohmann::json> results;  // built once, when it ends
  };
  Batch& make(const std::string& api, const std::string& model, const std::string& tag,
              std::vector<std::pair<std::string, nlohmann::json>> items);
  void advance(Batch& b);
  nlohmann::json openai_object(const Batch& b) const;
  nlohmann::json anthropic_object(const Batch& b) const;
  nlohmann::json gemini_object(const Batch& b) const;
  nlohmann::json answer_body(const std::string& api, const std::string& model, const BatchOutcome& o) const;

  httplib::Server svr_;
  std::thread thread_;
  int port_ = 0;
  Decide decide_;
  std::mutex mu_;
  std::map<std::string, Batch> batches_;
  std::vector<std::string> order_;
  std::map<std::string, std::string> files_;  // file id → content
  int polls_to_end_ = 2, next_ = 0;
  std::set<std::string> held_;  // "" = every API
  bool fail_next_ = false, expire_ = false, refuse_creates_ = false, fail_lists_ = false;
  std::function<void()> on_create_;
  size_t creates_ = 0, cancels_ = 0, lists_ = 0;
  std::map<std::string, int> delivered_;
  std::vector<nlohmann::json> bodies_;
};

}  // namespace reckon::test
