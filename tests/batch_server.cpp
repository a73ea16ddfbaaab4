#include "tests/batch_server.h"

#include <chrono>
#include <ctime>

namespace reckon::test {
namespace {

std::string iso_now() {
  std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

void reply(httplib::Response& res, const nlohmann::json& j, int status = 200) {
  res.status = status;
  res.set_content(j.dump(), "application/json");
}

const nlohmann::json kRefused = {{"type", "error"}, {"error", {{"type", "invalid_request_error"}, {"message", "requests: too many"}}}};
const nlohmann::json kListFailed = {{"type", "error"}, {"error", {{"type", "api_error"}, {"message", "Internal server error"}}}};

nlohmann::json not_found() { return {{"error", {{"message", "No such batch"}, {"type", "invalid_request_error"}}}}; }

}  // namespace

BatchServer::BatchServer(Decide decide) : decide_(std::move(decide)) {
  if (!decide_) decide_ = [](const std::string&, const nlohmann::json&) { return BatchOutcome{}; };
  svr_.new_task_queue = [] { return new httplib::ThreadPool(8); };

  // --- OpenAI: files, batches, file contents.
  svr_.Post("/v1/files", [this](const httplib::Request& req, httplib::Response& res) {
    if (!req.is_multipart_form_data() || !req.has_file("file") || req.get_file_value("purpose").content != "batch")
      return reply(res, {{"error", {{"message", "expected multipart with purpose=batch and a file"}, {"type", "invalid_request_error"}}}}, 400);
    std::lock_guard<std::mutex> lock(mu_);
    const std::string id = "file-" + std::to_string(++next_);
    files_[id] = req.get_file_value("file").content;
    reply(res, {{"id", id}, {"object", "file"}, {"bytes", files_[id].size()}, {"purpose", "batch"}, {"status", "processed"}});
  });
  svr_.Post("/v1/batches", [this](const httplib::Request& req, httplib::Response& res) {
    auto j = nlohmann::json::parse(req.body);
    std::lock_guard<std::mutex> lock(mu_);
    if (refuse_creates_) return reply(res, kRefused, 400);
    auto f = files_.find(j.value("input_file_id", ""));
    if (f == files_.end() || j.value("completion_window", "") != "24h")
      return reply(res, {{"error", {{"message", "bad input_file_id or window"}, {"type", "invalid_request_error"}}}}, 400);
    std::vector<std::pair<std::string, nlohmann::json>> items;
    std::string model;
    size_t at = 0;
    while (at < f->second.size()) {
      size_t end = f->second.find('\n', at);
      if (end == std::string::npos) end = f->second.size();
      if (end > at) {
        auto line = nlohmann::json::parse(f->second.substr(at, end - at));
        if (line.value("url", "") != j.value("endpoint", "") || line.value("method", "") != "POST")
          return reply(res, {{"error", {{"message", "line url/method does not match the endpoint"}, {"type", "invalid_request_error"}}}}, 400);
        model = line["body"].value("model", "");
        items.emplace_back(line.value("custom_id", ""), line["body"]);
      }
      at = end + 1;
    }
    std::string tag = j.contains("metadata") && j["metadata"].is_object() ? j["metadata"].value("reckon_batch", "") : "";
    Batch& b = make("openai", model, tag, std::move(items));
    b.endpoint = j.value("endpoint", "");
    reply(res, openai_object(b));
  });
  svr_.Get("/v1/batches", [this](const httplib::Request&, httplib::Response& res) {
    std::lock_guard<std::mutex> lock(mu_);
    ++lists_;
    if (fail_lists_) return reply(res, kListFailed, 500);
    nlohmann::json data = nlohmann::json::array();
    for (auto it = order_.rbegin(); it != order_.rend(); ++it)
      if (batches_[*it].api == "openai") data.push_back(openai_object(batches_[*it]));
    reply(res, {{"object", "list"}, {"data", data}, {"has_more", false}});
  });
  svr_.Get(R"(/v1/batches/([^/]+))", [this](const httplib::Request& req, httplib::Response& res) {
    std::lock_guard<std::mutex> lock(mu_);
    auto b = batches_.find(req.matches[1]);
    if (b == batches_.end()) return reply(res, not_found(), 404);
    advance(b->second);
    reply(res, openai_object(b->second));
  });
  svr_.Post(R"(/v1/batches/([^/]+)/cancel)", [this](const httplib::Request& req, httplib::Response& res) {
    std::lock_guard<std::mutex> lock(mu_);
    auto b = batches_.find(req.matches[1]);
    if (b == batches_.end()) return reply(res, not_found(), 404);
    ++cancels_;
    b->second.cancelled = true;
    reply(res, openai_object(b->second));
  });
  svr_.Get(R"(/v1/files/([^/]+)/content)", [this](const httplib::Request& req, httplib::Response& res) {
    std::lock_guard<std::mutex> lock(mu_);
    auto f = files_.find(req.matches[1]);
    if (f == files_.end()) return reply(res, not_found(), 404);
    res.set_content(f->second, "application/octet-stream");
  });

  // --- Anthropic: Message Batches.
  svr_.Post("/v1/messages/batches", [this](const httplib::Request& req, httplib::Response& res) {
    if (req.get_header_value("anthropic-version").empty()) return reply(res, not_found(), 400);
    auto j = nlohmann::json::parse(req.body);
    std::vector<std::pair<std::string, nlohmann::json>> items;
    std::string model;
    for (const auto& r : j["requests"]) {
      items.emplace_back(r.value("custom_id", ""), r["params"]);
      model = r["params"].value("model", "");
    }
    std::lock_guard<std::mutex> lock(mu_);
    if (refuse_creates_) return reply(res, kRefused, 400);
    reply(res, anthropic_object(make("anthropic", model, "", std::move(items))));
  });
  svr_.Get("/v1/messages/batches", [this](const httplib::Request&, httplib::Response& res) {
    std::lock_guard<std::mutex> lock(mu_);
    ++lists_;
    if (fail_lists_) return reply(res, kListFailed, 500);
    nlohmann::json data = nlohmann::json::array();
    for (auto it = order_.rbegin(); it != order_.rend(); ++it)
      if (batches_[*it].api == "anthropic") data.push_back(anthropic_object(batches_[*it]));
    reply(res, {{"data", data}, {"has_more", false}, {"first_id", nullptr}, {"last_id", nullptr}});
  });
  svr_.Get(R"(/v1/messages/batches/([^/]+))", [this](const httplib::Request& req, httplib::Response& res) {
    std::lock_guard<std::mutex> lock(mu_);
    auto b = batches_.find(req.matches[1]);
    if (b == batches_.end()) return reply(res, not_found(), 404);
    advance(b->second);
    reply(res, anthropic_object(b->second));
  });
  svr_.Get(R"(/v1/messages/batches/([^/]+)/results)", [this](const httplib::Request& req, httplib::Response& res) {
    std::lock_guard<std::mutex> lock(mu_);
    auto b = batches_.find(req.matches[1]);
    if (b == batches_.end() || !b->second.ended) return reply(res, not_found(), 404);
    std::string out;
    for (const auto& r : b->second.results) out += r.dump() + "\n";
    res.set_content(out, "application/binary");
  });
  svr_.Post(R"(/v1/messages/batches/([^/]+)/cancel)", [this](const httplib::Request& req, httplib::Response& res) {
    std::lock_guard<std::mutex> lock(mu_);
    auto b = batches_.find(req.matches[1]);
    if (b == batches_.end()) return reply(res, not_found(), 404);
    ++cancels_;
    b->second.cancelled = true;
    reply(res, anthropic_object(b->second));
  });

  // --- Gemini: Batch Mode with inlined requests.
  svr_.Post(R"(/v1beta/models/([^/:]+):batchGenerateContent)", [this](const httplib::Request& req, httplib::Response& res) {
    if (req.get_header_value("x-goog-api-key").empty() && !req.has_param("key"))
      return reply(res, {{"error", {{"code", 401}, {"message", "no key"}, {"status", "UNAUTHENTICATED"}}}}, 401);
    auto j = nlohmann::json::parse(req.body);
    const auto& batch = j["batch"];
    std::vector<std::pair<std::string, nlohmann::json>> items;
    for (const auto& r : batch["inputConfig"]["requests"]["requests"]) items.emplace_back(r["metadata"].value("key", ""), r["request"]);
    std::lock_guard<std::mutex> lock(mu_);
    reply(res, gemini_object(make("gemini", req.matches[1], batch.value("displayName", ""), std::move(items))));
  });
  svr_.Get("/v1beta/batches", [this](const httplib::Request&, httplib::Response& res) {
    std::lock_guard<std::mutex> lock(mu_);
    ++lists_;
    nlohmann::json ops = nlohmann::json::array();
    for (auto it = order_.rbegin(); it != order_.rend(); ++it)
      if (batches_[*it].api == "gemini") ops.push_back(gemini_object(batches_[*it]));
    reply(res, {{"operations", ops}});
  });
  svr_.Get(R"(/v1beta/batches/([^/:]+))", [this](const httplib::Request& req, httplib::Response& res) {
    std::lock_guard<std::mutex> lock(mu_);
    auto b = batches_.find("batches/" + std::string(req.matches[1]));
    if (b == batches_.end()) return reply(res, {{"error", {{"code", 404}, {"message", "not found"}, {"status", "NOT_FOUND"}}}}, 404);
    advance(b->second);
    reply(res, gemini_object(b->second));
  });
  svr_.Post(R"(/v1beta/batches/([^/:]+):cancel)", [this](const httplib::Request& req, httplib::Response& res) {
    std::lock_guard<std::mutex> lock(mu_);
    auto b = batches_.find("batches/" + std::string(req.matches[1]));
    if (b == batches_.end()) return reply(res, {{"error", {{"code", 404}, {"message", "not found"}}}}, 404);
    ++cancels_;
    b->second.cancelled = true;
    reply(res, nlohmann::json::object());
  });

  port_ = svr_.bind_to_any_port("127.0.0.1");
  thread_ = std::thread([this] { svr_.listen_after_bind(); });
  while (!svr_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

BatchServer::~BatchServer() {
  svr_.stop();
  thread_.join();
}

BatchServer::Batch& BatchServer::make(const std::string& api, const std::string& model, const std::string& tag,
                                      std::vector<std::pair<std::string, nlohmann::json>> items) {
  ++creates_;
  const std::string n = std::to_string(++next_);
  std::string id = api == "openai" ? "batch_" + n : api == "anthropic" ? "msgbatch_" + n : "batches/" + n;
  for (const auto& [_, body] : items) bodies_.push_back(body);
  Batch& b = batches_[id];
  b.id = id, b.api = api, b.model = model, b.tag = tag, b.items = std::move(items);
  b.created_at = iso_now();
  b.failed = fail_next_;
  fail_next_ = false;
  if (b.failed) b.ended = true;
  order_.push_back(id);
  if (on_create_) on_create_();
  return b;
}

void BatchServer::advance(Batch& b) {
  if (b.ended) return;
  ++b.polls;
  if (!b.cancelled && (held_.count("") || held_.count(b.api) || b.polls < polls_to_end_)) return;
  b.ended = true;
  b.expired = expire_ && !b.cancelled;
  size_t i = 0;
  for (const auto& [id, body] : b.items) {
    BatchOutcome o = decide_(id, body);
    if (b.expired || b.cancelled) o.kind = BatchOutcome::Kind::kExpire;
    const bool not_run = o.kind == BatchOutcome::Kind::kExpire;
    if (o.kind == BatchOutcome::Kind::kAnswer) ++delivered_[id];
    nlohmann::json r;
    if (b.api == "openai") {
      r = {{"id", "batch_req_" + std::to_string(++i)}, {"custom_id", id}};
      if (not_run) {
        r["response"] = nullptr;
        r["error"] = {{"code", b.cancelled ? "batch_cancelled" : "batch_expired"},
                      {"message", "This request could not be executed before the completion window expired."}};
      } else if (o.kind == BatchOutcome::Kind::kError) {
        r["response"] = {{"status_code", 400}, {"request_id", "req_" + std::to_string(i)},
                         {"body", {{"error", {{"message", o.error_message}, {"type", o.error_type}, {"param", nullptr}, {"code", nullptr}}}}}};
        r["error"] = nullptr;
      } else {
        r["response"] = {{"status_code", 200}, {"request_id", "req_" + std::to_string(i)},
                         {"body", answer_body(b.endpoint == "/v1/responses" ? "responses" : "openai", b.model, o)}};
        r["error"] = nullptr;
      }
    } else if (b.api == "anthropic") {
      r = {{"custom_id", id}};
      if (not_run) r["result"] = {{"type", b.cancelled ? "canceled" : "expired"}};
      else if (o.kind == BatchOutcome::Kind::kError)
        r["result"] = {{"type", "errored"}, {"error", {{"type", "error"}, {"error", {{"type", o.error_type}, {"message", o.error_message}}}}}};
      else r["result"] = {{"type", "succeeded"}, {"message", answer_body("anthropic", b.model, o)}};
    } else {
      if (not_run) continue;  // Gemini reports no per-item expiry: the item is missing from the output
      r = {{"metadata", {{"key", id}}}};
      if (o.kind == BatchOutcome::Kind::kError) r["error"] = {{"code", 400}, {"message", o.error_message}, {"status", "INVALID_ARGUMENT"}};
      else r["response"] = answer_body("gemini", b.model, o);
    }
    b.results.push_back(r);
  }
  if (b.api == "openai") {  // the output file holds the 200s, the error file the rest
    std::string out, err;
    for (const auto& r : b.results) (!r["response"].is_null() && r["response"]["status_code"] == 200 ? out : err) += r.dump() + "\n";
    if (!out.empty()) files_[b.id + "-out"] = out;
    if (!err.empty()) files_[b.id + "-err"] = err;
  }
}

nlohmann::json BatchServer::answer_body(const std::string& api, const std::string& model, const BatchOutcome& o) const {
  if (api == "openai")
    return {{"id", "chatcmpl-1"}, {"object", "chat.completion"}, {"model", model}, {"service_tier", "default"},
            {"choices", {{{"index", 0}, {"message", {{"role", "assistant"}, {"content", o.text}}}, {"finish_reason", "stop"}}}},
            {"usage", {{"prompt_tokens", o.input_tokens}, {"completion_tokens", o.output_tokens}, {"total_tokens", o.input_tokens + o.output_tokens}}}};
  if (api == "responses")
    return {{"id", "resp_1"}, {"object", "response"}, {"status", "completed"}, {"model", model}, {"service_tier", "default"},
            {"output", {{{"type", "message"}, {"role", "assistant"}, {"content", {{{"type", "output_text"}, {"text", o.text}}}}}}},
            {"usage", {{"input_tokens", o.input_tokens}, {"output_tokens", o.output_tokens}, {"total_tokens", o.input_tokens + o.output_tokens}}}};
  if (api == "anthropic")
    return {{"id", "msg_1"}, {"type", "message"}, {"role", "assistant"}, {"model", model},
            {"content", {{{"type", "text"}, {"text", o.text}}}}, {"stop_reason", "end_turn"},
            {"usage", {{"input_tokens", o.input_tokens}, {"output_tokens", o.output_tokens}}}};
  return {{"candidates", {{{"content", {{"parts", {{{"text", o.text}}}}, {"role", "model"}}}, {"finishReason", "STOP"}}}},
          {"usageMetadata", {{"promptTokenCount", o.input_tokens}, {"candidatesTokenCount", o.output_tokens},
                             {"totalTokenCount", o.input_tokens + o.output_tokens}}},
          {"modelVersion", model}};
}

nlohmann::json BatchServer::openai_object(const Batch& b) const {
  std::string status = b.failed ? "failed" : !b.ended ? (b.cancelled ? "cancelling" : b.polls == 0 ? "validating" : "in_progress")
                       : b.cancelled ? "cancelled" : b.expired ? "expired" : "completed";
  int64_t ok = 0, failed = 0;
  for (const auto& r : b.results) (!r["response"].is_null() && r["response"]["status_code"] == 200 ? ok : failed)++;
  nlohmann::json j = {{"id", b.id}, {"object", "batch"}, {"endpoint", b.endpoint}, {"completion_window", "24h"},
                      {"status", status}, {"created_at", 1700000000}, {"metadata", {{"reckon_batch", b.tag}}},
                      {"request_counts", {{"total", b.items.size()}, {"completed", ok}, {"failed", failed}}},
                      {"output_file_id", nullptr}, {"error_file_id", nullptr}, {"errors", nullptr}};
  if (b.failed)
    j["errors"] = {{"object", "list"}, {"data", {{{"code", "invalid_json_line"}, {"message", "This line is not parseable as valid JSON."}, {"line", 1}}}}};
  if (files_.count(b.id + "-out")) j["output_file_id"] = b.id + "-out";
  if (files_.count(b.id + "-err")) j["error_file_id"] = b.id + "-err";
  return j;
}

nlohmann::json BatchServer::anthropic_object(const Batch& b) const {
  int64_t succeeded = 0, errored = 0, canceled = 0, expired = 0;
  for (const auto& r : b.results) {
    const std::string t = r["result"]["type"];
    (t == "succeeded" ? succeeded : t == "errored" ? errored : t == "canceled" ? canceled : expired)++;
  }
  const int64_t processing = b.ended ? 0 : static_cast<int64_t>(b.items.size());
  nlohmann::json j = {{"id", b.id}, {"type", "message_batch"},
                      {"processing_status", b.ended ? "ended" : b.cancelled ? "canceling" : "in_progress"},
                      {"request_counts", {{"processing", processing}, {"succeeded", succeeded}, {"errored", errored},
                                          {"canceled", canceled}, {"expired", expired}}},
                      {"created_at", b.created_at}, {"expires_at", b.created_at}, {"ended_at", nullptr},
                      {"cancel_initiated_at", nullptr}, {"results_url", nullptr}};
  if (b.ended) j["results_url"] = base_url() + "/v1/messages/batches/" + b.id + "/results";
  return j;
}

nlohmann::json BatchServer::gemini_object(const Batch& b) const {
  std::string state = b.failed ? "BATCH_STATE_FAILED" : !b.ended ? (b.polls == 0 ? "BATCH_STATE_PENDING" : "BATCH_STATE_RUNNING")
                      : b.cancelled ? "BATCH_STATE_CANCELLED" : b.expired ? "BATCH_STATE_EXPIRED" : "BATCH_STATE_SUCCEEDED";
  int64_t ok = 0;
  for (const auto& r : b.results) ok += r.contains("response");
  nlohmann::json meta = {{"@type", "type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatch"},
                         {"model", "models/" + b.model}, {"name", b.id}, {"displayName", b.tag}, {"state", state},
                         {"batchStats", {{"requestCount", std::to_string(b.items.size())}, {"successfulRequestCount", std::to_string(ok)},
                                         {"failedRequestCount", std::to_string(b.results.size() - ok)}}}};
  nlohmann::json op = {{"name", b.id}, {"metadata", meta}};
  if (b.ended) op["done"] = true;
  if (b.failed) op["error"] = {{"code", 400}, {"message", "Invalid request in batch input"}};
  else if (b.ended && !b.expired && !b.cancelled)
    op["response"] = {{"@type", "type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatchOutput"},
                      {"inlinedResponses", {{"inlinedResponses", b.results}}}};
  return op;
}

void BatchServer::set_polls_to_end(int n) { std::lock_guard<std::mutex> l(mu_); polls_to_end_ = n; }
void BatchServer::hold(bool held, const std::string& api) {
  std::lock_guard<std::mutex> l(mu_);
  if (held) held_.insert(api);
  else held_.erase(api);
}
void BatchServer::on_create(std::function<void()> hook) { std::lock_guard<std::mutex> l(mu_); on_create_ = std::move(hook); }
void BatchServer::fail_next_validation() { std::lock_guard<std::mutex> l(mu_); fail_next_ = true; }
void BatchServer::refuse_creates(bool on) { std::lock_guard<std::mutex> l(mu_); refuse_creates_ = on; }
void BatchServer::fail_lists(bool on) { std::lock_guard<std::mutex> l(mu_); fail_lists_ = on; }
void BatchServer::expire_batches(bool on) { std::lock_guard<std::mutex> l(mu_); expire_ = on; }
size_t BatchServer::creates() { std::lock_guard<std::mutex> l(mu_); return creates_; }
size_t BatchServer::cancels() { std::lock_guard<std::mutex> l(mu_); return cancels_; }
size_t BatchServer::lists() { std::lock_guard<std::mutex> l(mu_); return lists_; }
std::map<std::string, int> BatchServer::delivered() { std::lock_guard<std::mutex> l(mu_); return delivered_; }
std::vector<nlohmann::json> BatchServer::bodies() { std::lock_guard<std::mutex> l(mu_); return bodies_; }

}  // namespace reckon::test
