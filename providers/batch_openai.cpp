// OpenAI's Batch API (and servers that implement it): a JSONL input file uploaded with purpose
// "batch", one batch per file with a 24 h window, polled until it ends, then its output and error
// files read. At most 50,000 requests or 200 MB per batch.
#include <array>
#include <map>

#include "common/json_parse.h"
#include "common/text.h"
#include "providers/batch_api.h"
#include "providers/retry.h"

namespace reckon {
namespace {

// The path of a URL (what a batch line's "url" names): "https://api.openai.com/v1/chat/completions" → "/v1/chat/completions".
std::string url_path(const std::string& url) {
  auto scheme = url.find("://");
  auto slash = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  return slash == std::string::npos ? "/" : url.substr(slash);
}

class OpenAIBatch : public BatchApi {
 public:
  explicit OpenAIBatch(BatchTarget t) : t_(std::move(t)) {
    HttpRequest probe = t_.adapter->build(ChatRequest{t_.model, {{"user", "?"}}}, t_.api_key, t_.base_url);
    endpoint_ = url_path(probe.url);
    for (auto& h : probe.headers)
      if (h.first == "Authorization") auth_.push_back(h);
  }
  size_t max_requests() const override { return 50000; }
  size_t max_bytes() const override { return 200u << 20; }

  std::string line(const BatchEntry& e) const override {
    return nlohmann::json{{"custom_id", e.custom_id}, {"method", "POST"}, {"url", endpoint_}, {"body", live_body(t_, e.request)}}.dump();
  }

  std::string create(const std::vector<std::string>& lines, const std::string& tag) override {
    std::string content;
    for (const auto& l : lines) content += l + "\n";
    auto [body, type] = multipart_body({{"purpose", "batch"}}, "file", tag + ".jsonl", content);
    HttpRequest up{t_.base_url + "/files", auth_, std::move(body)};
    up.headers.emplace_back("Content-Type", type);
    nlohmann::json file = batch_reply_json(http_call(up, 600), "uploading the batch input file");
    if (!file.contains("id") || !file["id"].is_string()) throw BatchError("uploading the batch input file: no 'id' in the answer");
    nlohmann::json create = {{"input_file_id", file["id"]},
                             {"endpoint", endpoint_},
                             {"completion_window", "24h"},
                             {"metadata", {{"reckon_batch", tag}}}};
    nlohmann::json batch = batch_reply_json(http_call(json_request(t_.base_url + "/batches", create.dump())), "creating the batch");
    if (!batch.contains("id") || !batch["id"].is_string()) throw BatchError("creating the batch: no 'id' in the answer");
    return batch["id"].get<std::string>();
  }

  std::optional<std::string> find(const std::string& tag) override {
    std::string after;
    for (int page = 0; page < 20; ++page) {  // the 2,000 most recent batches
      HttpRequest list{t_.base_url + "/batches?limit=100" + (after.empty() ? "" : "&after=" + after), auth_, "", "GET"};
      nlohmann::json j = batch_reply_json(http_call(list), "listing batches");
      if (!j.contains("data") || !j["data"].is_array()) return std::nullopt;
      for (const auto& b : j["data"]) {
        const auto& m = b.value("metadata", nlohmann::json::object());
        if (m.is_object() && m.value("reckon_batch", "") == tag && b.contains("id")) return b["id"].get<std::string>();
      }
      if (!j.value("has_more", false) || j["data"].empty()) return std::nullopt;
      after = j["data"].back().value("id", "");
    }
    return std::nullopt;
  }

  BatchStatus poll(const std::string& id) override {
    nlohmann::json b = batch_reply_json(http_call(get(t_.base_url + "/batches/" + id)), "polling batch " + id);
    BatchStatus s;
    s.state = b.value("status", "");
    s.ended = s.state == "completed" || s.state == "failed" || s.state == "expired" || s.state == "cancelled";
    s.failed = s.state == "failed";
    if (const auto& c = b.value("request_counts", nlohmann::json()); c.is_object()) {
      s.total = c.value("total", int64_t{0});
      s.succeeded = c.value("completed", int64_t{0});  // "completed successfully", beside "failed"
      s.errored = c.value("failed", int64_t{0});
    }
    if (b.contains("errors") && b["errors"].is_object() && b["errors"].contains("data") && b["errors"]["data"].is_array())
      for (const auto& e : b["errors"]["data"]) {
        if (!s.error.empty()) s.error += "; ";
        s.error += e.value("message", e.dump());
        if (e.contains("line") && e["line"].is_number()) s.error += " (line " + std::to_string(e["line"].get<int64_t>()) + ")";
      }
    files_[id] = {b.value("output_file_id", nlohmann::json()), b.value("error_file_id", nlohmann::json())};
    return s;
  }

  std::vector<BatchItemResult> results(const std::string& id) override {
    if (!files_.count(id)) poll(id);
    std::vector<BatchItemResult> out;
    for (const auto& f : files_[id]) {
      if (!f.is_string()) continue;
      HttpReply r = http_call(get(t_.base_url + "/files/" + f.get<std::string>() + "/content"), 600);
      if (r.status < 200 || r.status >= 300) batch_reply_json(r, "reading file " + f.get<std::string>());
      for (auto& item : read_openai_batch_file(*t_.adapter, r.body, "file " + f.get<std::string>())) out.push_back(std::move(item));
    }
    return out;
  }

  void cancel(const std::string& id) override {
    batch_reply_json(http_call(json_request(t_.base_url + "/batches/" + id + "/cancel", "{}")), "cancelling batch " + id);
  }

 private:
  HttpRequest get(const std::string& url) const { return HttpRequest{url, auth_, "", "GET"}; }
  HttpRequest json_request(const std::string& url, std::string body) const {
    HttpRequest r{url, auth_, std::move(body)};
    r.headers.emplace_back("Content-Type", "application/json");
    return r;
  }

  BatchTarget t_;
  std::string endpoint_;
  Headers auth_;
  std::map<std::string, std::array<nlohmann::json, 2>> files_;  // per batch: output and error file ids
};

}  // namespace

// Each line: {"custom_id", "response": {"status_code", "body"}, "error": {"code", "message"}}.
std::vector<BatchItemResult> read_openai_batch_file(const Adapter& adapter, const std::string& jsonl, const std::string& what) {
  std::vector<BatchItemResult> out;
  each_jsonl_line(jsonl, what, [&](const nlohmann::json& j) {
    BatchItemResult item;
    item.custom_id = j.value("custom_id", "");
    const nlohmann::json& resp = j.contains("response") ? j["response"] : nlohmann::json();
    const nlohmann::json& err = j.contains("error") ? j["error"] : nlohmann::json();
    if (resp.is_object() && resp.value("status_code", 0) == 200 && resp.contains("body")) {
      item.result = read_batch_answer(adapter, resp["body"]);
    } else if (err.is_object() && (err.value("code", "") == "batch_expired" || err.value("code", "") == "batch_cancelled")) {
      item.kind = BatchItemResult::Kind::kNotRun;
      item.why = err.value("message", err.value("code", ""));
    } else if (resp.is_object()) {
      const nlohmann::json& body = resp.contains("body") ? resp["body"] : nlohmann::json();
      item.result = batch_item_error(resp.value("status_code", 0L), body.is_object() && body.contains("error") ? body["error"] : body);
    } else {
      item.result = batch_item_error(std::nullopt, err);
    }
    out.push_back(std::move(item));
  });
  return out;
}

std::unique_ptr<BatchApi> make_openai_batch(BatchTarget t) { return std::make_unique<OpenAIBatch>(std::move(t)); }

}  // namespace reckon
