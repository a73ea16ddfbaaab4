// Anthropic's Message Batches: `requests[{custom_id, params}]` in one POST, polled until
// `processing_status` is "ended", then the JSONL at `results_url` (succeeded / errored / canceled /
// expired per item). At most 100,000 requests or 256 MB per batch. A batch carries no metadata, so a
// batch created by a run that died before recording it is found by its size and creation time.
#include <cstdlib>
#include <map>

#include "common/json_parse.h"
#include "providers/batch_api.h"
#include "providers/retry.h"

namespace reckon {
namespace {

class AnthropicBatch : public BatchApi {
 public:
  explicit AnthropicBatch(BatchTarget t) : t_(std::move(t)) {
    HttpRequest probe = t_.adapter->build(ChatRequest{t_.model, {{"user", "?"}}}, t_.api_key, t_.base_url);
    for (auto& h : probe.headers)
      if (h.first != "Content-Type") headers_.push_back(h);  // x-api-key, anthropic-version, beta flags
  }
  size_t max_requests() const override { return 100000; }
  size_t max_bytes() const override { return 256u << 20; }

  std::string line(const BatchEntry& e) const override {
    return nlohmann::json{{"custom_id", e.custom_id}, {"params", live_body(t_, e.request)}}.dump();
  }

  std::string create(const std::vector<std::string>& lines, const std::string& tag) override {
    std::string body = "{\"requests\":[";
    for (size_t i = 0; i < lines.size(); ++i) body += (i ? "," : "") + lines[i];
    body += "]}";
    nlohmann::json b = batch_reply_json(http_call(request(base() + "/messages/batches", std::move(body)), 600), "creating the batch");
    if (!b.contains("id") || !b["id"].is_string()) throw BatchError("creating the batch: no 'id' in the answer");
    return b["id"].get<std::string>();
  }

  // The tag is not on the batch; it ends "-<n>@<epoch>" (the size and the time the caller recorded just
  // before creating it): the newest batch of that size created from a minute before to ten after.
  std::optional<std::string> find(const std::string& tag) override {
    const auto at = tag.rfind('@'), dash = tag.rfind('-', at);
    if (at == std::string::npos || dash == std::string::npos) return std::nullopt;
    const int64_t n = std::strtoll(tag.c_str() + dash + 1, nullptr, 10), when = std::strtoll(tag.c_str() + at + 1, nullptr, 10);
    std::string after;
    for (int page = 0; page < 20; ++page) {
      HttpRequest list = request(base() + "/messages/batches?limit=100" + (after.empty() ? "" : "&after_id=" + after), "");
      list.method = "GET";
      nlohmann::json j = batch_reply_json(http_call(list), "listing batches");
      if (!j.contains("data") || !j["data"].is_array()) return std::nullopt;
      for (const auto& b : j["data"]) {
        auto created = parse_rfc3339(b.value("created_at", ""));
        if (!created || *created < static_cast<double>(when) - 60 || *created > static_cast<double>(when) + 600) continue;
        if (count_of(b) == n && b.contains("id")) return b["id"].get<std::string>();
      }
      if (!j.value("has_more", false) || j["data"].empty()) return std::nullopt;
      after = j["data"].back().value("id", "");
    }
    return std::nullopt;
  }

  BatchStatus poll(const std::string& id) override {
    HttpRequest g = request(base() + "/messages/batches/" + id, "");
    g.method = "GET";
    nlohmann::json b = batch_reply_json(http_call(g), "polling batch " + id);
    BatchStatus s;
    s.state = b.value("processing_status", "");
    s.ended = s.state == "ended";
    if (const auto& c = b.value("request_counts", nlohmann::json()); c.is_object()) {
      s.total = count_of(b);
      s.succeeded = c.value("succeeded", int64_t{0});
      s.errored = c.value("errored", int64_t{0});
    }
    if (b.contains("results_url") && b["results_url"].is_string()) results_url_[id] = b["results_url"].get<std::string>();
    return s;
  }

  std::vector<BatchItemResult> results(const std::string& id) override {
    if (!results_url_.count(id)) poll(id);
    auto url = results_url_.find(id);
    if (url == results_url_.end()) return {};
    HttpRequest g = request(url->second, "");
    g.method = "GET";
    HttpReply r = http_call(g, 600);
    if (r.status < 200 || r.status >= 300) batch_reply_json(r, "reading the results of batch " + id);
    return read_anthropic_batch_results(*t_.adapter, r.body, "results of batch " + id);
  }

  void cancel(const std::string& id) override {
    batch_reply_json(http_call(request(base() + "/messages/batches/" + id + "/cancel", "{}")), "cancelling batch " + id);
  }

 private:
  std::string base() const { return t_.base_url + "/v1"; }
  HttpRequest request(const std::string& url, std::string body) const {
    HttpRequest r{url, headers_, std::move(body)};
    r.headers.emplace_back("Content-Type", "application/json");
    return r;
  }
  static int64_t count_of(const nlohmann::json& b) {
    int64_t n = 0;
    if (b.contains("request_counts") && b["request_counts"].is_object())
      for (const auto& [k, v] : b["request_counts"].items())
        if (v.is_number_integer()) n += v.get<int64_t>();
    return n;
  }

  BatchTarget t_;
  Headers headers_;
  std::map<std::string, std::string> results_url_;
};

}  // namespace

// Each line: {"custom_id", "result": {"type": succeeded | errored | canceled | expired, "message" | "error"}}.
std::vector<BatchItemResult> read_anthropic_batch_results(const Adapter& adapter, const std::string& jsonl, const std::string& what) {
  std::vector<BatchItemResult> out;
  each_jsonl_line(jsonl, what, [&](const nlohmann::json& j) {
    BatchItemResult item;
    item.custom_id = j.value("custom_id", "");
    const nlohmann::json& res = j.contains("result") && j["result"].is_object() ? j["result"] : nlohmann::json::object();
    const std::string type = res.value("type", "");
    if (type == "succeeded" && res.contains("message")) {
      item.result = read_batch_answer(adapter, res["message"]);
    } else if (type == "canceled" || type == "expired") {
      item.kind = BatchItemResult::Kind::kNotRun;
      item.why = type;
    } else {
      item.result = batch_item_error(std::nullopt, res.contains("error") ? res["error"] : res);
    }
    out.push_back(std::move(item));
  });
  return out;
}

std::unique_ptr<BatchApi> make_anthropic_batch(BatchTarget t) { return std::make_unique<AnthropicBatch>(std::move(t)); }

}  // namespace reckon
