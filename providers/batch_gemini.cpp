// Gemini's Batch Mode: `models/{model}:batchGenerateContent` with inlined requests (each keyed by
// metadata.key), a long-running operation `batches/{id}` polled until its state ends, then its
// inlined responses (or a responses file, read from the download endpoint). Inlined requests are
// limited to 20 MB per batch; larger plans are split into several batches.
#include "common/json_parse.h"
#include "providers/batch_api.h"
#include "providers/retry.h"

namespace reckon {
namespace {

// The batch itself: the operation's metadata, or the object when the endpoint returns the batch directly.
const nlohmann::json& batch_of(const nlohmann::json& op) {
  static const nlohmann::json none = nlohmann::json::object();
  if (op.contains("metadata") && op["metadata"].is_object()) return op["metadata"];
  return op.is_object() ? op : none;
}

// "BATCH_STATE_SUCCEEDED" and the SDKs' "JOB_STATE_SUCCEEDED" alike → "SUCCEEDED".
std::string state_word(const std::string& s) {
  for (const char* p : {"BATCH_STATE_", "JOB_STATE_"})
    if (s.rfind(p, 0) == 0) return s.substr(std::string(p).size());
  return s;
}

class GeminiBatch : public BatchApi {
 public:
  explicit GeminiBatch(BatchTarget t) : t_(std::move(t)) {
    HttpRequest probe = t_.adapter->build(ChatRequest{t_.model, {{"user", "?"}}}, t_.api_key, t_.base_url);
    for (auto& h : probe.headers)
      if (h.first != "Content-Type") headers_.push_back(h);  // x-goog-api-key
  }
  size_t max_requests() const override { return 100000; }
  size_t max_bytes() const override { return 20u << 20; }

  std::string line(const BatchEntry& e) const override {
    return nlohmann::json{{"request", live_body(t_, e.request)}, {"metadata", {{"key", e.custom_id}}}}.dump();
  }

  std::string create(const std::vector<std::string>& lines, const std::string& tag) override {
    std::string body = "{\"batch\":{\"displayName\":" + nlohmann::json(tag).dump() + ",\"inputConfig\":{\"requests\":{\"requests\":[";
    for (size_t i = 0; i < lines.size(); ++i) body += (i ? "," : "") + lines[i];
    body += "]}}}}";
    const std::string url = t_.base_url + "/v1beta/models/" + t_.model.model + ":batchGenerateContent";
    nlohmann::json op = batch_reply_json(http_call(request(url, std::move(body)), 600), "creating the batch");
    std::string name = op.value("name", batch_of(op).value("name", ""));
    if (name.empty()) throw BatchError("creating the batch: no 'name' in the answer");
    return name;
  }

  std::optional<std::string> find(const std::string& tag) override {
    std::string token;
    for (int page = 0; page < 20; ++page) {
      HttpRequest list = get(t_.base_url + "/v1beta/batches?pageSize=100" + (token.empty() ? "" : "&pageToken=" + token));
      nlohmann::json j = batch_reply_json(http_call(list), "listing batches");
      for (const char* key : {"operations", "batches"})
        if (j.contains(key) && j[key].is_array())
          for (const auto& op : j[key])
            if (batch_of(op).value("displayName", "") == tag) return op.value("name", batch_of(op).value("name", ""));
      token = j.value("nextPageToken", "");
      if (token.empty()) return std::nullopt;
    }
    return std::nullopt;
  }

  BatchStatus poll(const std::string& id) override {
    nlohmann::json op = batch_reply_json(http_call(get(t_.base_url + "/v1beta/" + id)), "polling batch " + id);
    const nlohmann::json& b = batch_of(op);
    BatchStatus s;
    s.state = b.value("state", op.value("state", ""));
    const std::string w = state_word(s.state);
    s.ended = w == "SUCCEEDED" || w == "FAILED" || w == "CANCELLED" || w == "EXPIRED" || op.value("done", false);
    s.failed = w == "FAILED";
    if (const auto& st = b.value("batchStats", nlohmann::json()); st.is_object()) {
      auto num = [&](const char* k) -> int64_t {  // int64 fields arrive as strings in proto JSON
        if (!st.contains(k)) return int64_t{0};
        return st[k].is_string() ? std::strtoll(st[k].get<std::string>().c_str(), nullptr, 10) : st[k].get<int64_t>();
      };
      s.total = num("requestCount");
      s.succeeded = num("successfulRequestCount");
      s.errored = num("failedRequestCount");
    }
    if (op.contains("error") && op["error"].is_object()) s.error = op["error"].value("message", op["error"].dump());
    last_[id] = op;
    return s;
  }

  std::vector<BatchItemResult> results(const std::string& id) override {
    if (!last_.count(id) || !last_[id].value("done", false)) poll(id);
    const nlohmann::json& op = last_[id];
    const nlohmann::json& b = batch_of(op);
    // The output: the operation's response, or the batch's output field.
    nlohmann::json output = op.contains("response") ? op["response"] : b.value("output", nlohmann::json::object());
    if (output.is_object() && output.contains("responsesFile") && output["responsesFile"].is_string()) {
      const std::string file = output["responsesFile"].get<std::string>();
      HttpReply r = http_call(get(t_.base_url + "/download/v1beta/" + file + ":download?alt=media"), 600);
      if (r.status < 200 || r.status >= 300) batch_reply_json(r, "reading " + file);
      return read_gemini_batch_file(*t_.adapter, r.body, file);
    }
    return read_gemini_batch_output(*t_.adapter, output, "batch " + id);
  }

  void cancel(const std::string& id) override {
    batch_reply_json(http_call(request(t_.base_url + "/v1beta/" + id + ":cancel", "{}")), "cancelling batch " + id);
  }

 private:
  HttpRequest request(const std::string& url, std::string body) const {
    HttpRequest r{url, headers_, std::move(body)};
    r.headers.emplace_back("Content-Type", "application/json");
    return r;
  }
  HttpRequest get(const std::string& url) const { return HttpRequest{url, headers_, "", "GET"}; }

  BatchTarget t_;
  Headers headers_;
  std::map<std::string, nlohmann::json> last_;  // the last poll of each batch (its output, once done)
};

// An inlined response or a responses-file line: {"metadata": {"key"}} or {"key"}, then "response" or "error".
BatchItemResult read_gemini_item(const Adapter& adapter, const nlohmann::json& r) {
  BatchItemResult item;
  if (!r.is_object()) throw BatchError("a response that is not an object");
  if (r.contains("metadata") && r["metadata"].is_object()) item.custom_id = r["metadata"].value("key", "");
  if (item.custom_id.empty()) item.custom_id = r.value("key", "");
  if (r.contains("response") && r["response"].is_object()) {
    item.result = read_batch_answer(adapter, r["response"]);
  } else {
    const nlohmann::json& err = r.contains("error") ? r["error"] : nlohmann::json();
    std::optional<long> code;
    if (err.is_object() && err.contains("code") && err["code"].is_number_integer()) code = err["code"].get<long>();
    item.result = batch_item_error(code, err);
  }
  return item;
}

}  // namespace

std::vector<BatchItemResult> read_gemini_batch_output(const Adapter& adapter, const nlohmann::json& output, const std::string& what) {
  std::vector<BatchItemResult> out;
  if (!output.is_object() || !output.contains("inlinedResponses")) return out;
  const nlohmann::json& inl = output["inlinedResponses"];
  const nlohmann::json& list = inl.is_object() && inl.contains("inlinedResponses") ? inl["inlinedResponses"] : inl;
  if (!list.is_array()) throw BatchError(what + ": inlinedResponses is not a list");
  for (size_t i = 0; i < list.size(); ++i) try {
      out.push_back(read_gemini_item(adapter, list[i]));
    } catch (const BatchError& e) {
      throw BatchError(what + ": response " + std::to_string(i + 1) + ": " + e.what());
    } catch (const nlohmann::json::exception& e) {
      throw BatchError(what + ": response " + std::to_string(i + 1) + ": " + e.what());
    }
  return out;
}

std::vector<BatchItemResult> read_gemini_batch_file(const Adapter& adapter, const std::string& jsonl, const std::string& what) {
  std::vector<BatchItemResult> out;
  each_jsonl_line(jsonl, what, [&](const nlohmann::json& j) { out.push_back(read_gemini_item(adapter, j)); });
  return out;
}

std::unique_ptr<BatchApi> make_gemini_batch(BatchTarget t) { return std::make_unique<GeminiBatch>(std::move(t)); }

}  // namespace reckon
