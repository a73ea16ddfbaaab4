#include "providers/batch_api.h"

#include <cstdlib>

#include "common/json_parse.h"
#include "providers/registry.h"
#include "providers/retry.h"

namespace reckon {

nlohmann::json batch_reply_json(const HttpReply& r, const std::string& what) {
  if (r.status == 0) throw BatchError(what + ": " + r.error);
  const std::string excerpt = r.body.substr(0, 300);
  if (r.status < 200 || r.status >= 300) {
    Verdict v = classify_http_error(r.status, {}, r.body, 0);
    throw BatchError(what + ": HTTP " + std::to_string(r.status) + " (" + to_string(v.error_class) + "): " +
                     (v.message.empty() ? excerpt : v.message));
  }
  try {
    return parse_json(r.body);
  } catch (const std::exception& e) {
    throw BatchError(what + ": unreadable answer (" + e.what() + "): " + excerpt);
  }
}

void each_jsonl_line(const std::string& body, const std::string& what, const std::function<void(const nlohmann::json&)>& fn) {
  size_t at = 0, n = 0;
  while (at < body.size()) {
    size_t end = body.find('\n', at);
    if (end == std::string::npos) end = body.size();
    ++n;
    std::string_view text(body.data() + at, end - at);
    at = end + 1;
    if (text.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    try {
      fn(parse_json(text));
    } catch (const BatchError&) {
      throw;
    } catch (const std::exception& e) {
      throw BatchError(what + " line " + std::to_string(n) + ": " + e.what());
    }
  }
}

nlohmann::json live_body(const BatchTarget& t, ChatRequest request) {
  request.model.params.stream = false;
  return parse_json(t.adapter->build(request, "", t.base_url).body);
}

CallResult read_batch_answer(const Adapter& adapter, const nlohmann::json& body) {
  CallResult res;
  res.attempts = 1;
  res.http_status = 200;
  try {
    res.completion = adapter.parse(body.dump());
    res.ok = true;
  } catch (const BadResponse& e) {
    res.error_class = ErrorClass::kBadResponse;
    res.error = e.what();
    try {
      if (auto u = adapter.usage_of(body)) res.completion.usage = *u;
    } catch (const BadResponse&) {
    }
  }
  // Served by the batch API: priced at its rates whatever the body says (OpenAI's says "default").
  res.completion.usage.service_tier = ServiceTier::kBatch;
  res.completion.usage.service_tier_reported = true;
  return res;
}

CallResult batch_item_error(std::optional<long> status, const nlohmann::json& error) {
  CallResult res;
  res.attempts = 1;
  res.http_status = status;
  Verdict v = error.is_null() ? Verdict{} : classify_error_object(error);
  res.error_class = v.error_class == ErrorClass::kNone ? ErrorClass::kClient : v.error_class;
  std::string msg = v.message;
  if (const std::string prefix = "error in stream: "; msg.rfind(prefix, 0) == 0) msg = msg.substr(prefix.size());
  res.error = "batch item: " + (msg.empty() ? error.dump().substr(0, 300) : msg);
  return res;
}

std::unique_ptr<BatchApi> batch_api_for(const ModelRef& model) {
  const ProviderInfo* info = find_provider(model.provider);
  if (!info || !info->make_batch) return nullptr;
  BatchTarget t;
  t.model = model;
  t.base_url = endpoint_of(*info, model.params.base_url).url;
  const std::string var = api_key_variable(*info, model.params);
  if (const char* k = var.empty() ? nullptr : std::getenv(var.c_str())) t.api_key = k;
  t.adapter = std::shared_ptr<const Adapter>(info->make(model.params));
  return info->make_batch(std::move(t));
}

bool has_batch_api(const std::string& provider) {
  const ProviderInfo* info = find_provider(provider);
  return info && info->make_batch;
}

}  // namespace reckon
