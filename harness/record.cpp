#include "harness/record.h"

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/json_write.h"
#include "common/text.h"
#include "pricing/cost.h"

namespace reckon {

void record_outcome(RequestRecord& r, const CallResult& res) {
  r.ok = res.ok;
  r.attempts = res.attempts;
  r.http_status = res.http_status;
  if (!res.ok) r.error_class = to_string(res.error_class), r.error = res.error;
  r.latency_ms = res.latency_ms;
  r.ttft_ms = res.ttft_ms;
  r.usage = res.completion.usage;
  if (!res.completion.finish_reason.empty()) r.finish_reason = res.completion.finish_reason;
  if (res.ok) r.response = res.completion.text;
  if (!res.completion.raw_usage.is_null()) {
    r.raw_usage.emplace();
    append_json(*r.raw_usage, res.completion.raw_usage);  // the bytes dump() writes, without its serializer's setup
  }
}

std::string prompt_text(const std::vector<Message>& messages) {
  if (messages.size() == 1) return messages[0].content;
  nlohmann::json j = nlohmann::json::array();
  for (const auto& m : messages) j.push_back({{"role", m.role}, {"content", m.content}});
  return j.dump();
}

RequestRecord Recorder::row_for(const Cell& cell) const {
  RequestRecord r;
  r.fingerprint = cell.fingerprint;
  r.request_key = cell.request_key;
  r.model = c_.models[cell.model].name();
  r.task = c_.tasks[cell.task].name;
  r.item_id = cell.item->id;
  r.repeat = cell.repeat;
  return r;
}

void Recorder::price(RequestRecord& r, const PriceEntry* price, ServiceTier asked) {
  r.run_id = run_id_;
  if (r.created_at.empty()) r.created_at = now_utc_iso();
  Usage u = r.usage;
  if (!u.service_tier_reported) u.service_tier = asked;  // else: what served it
  r.usage.service_tier = u.service_tier;
  u.minute_utc = minute_of_day_utc(r.created_at);
  if (price) {
    try {
      r.cost = cost(u, *price);
    } catch (const InputError& err) {
      r.cost = CostBreakdown{};
      r.cost.price_entry_id = price->id();
      if (!r.error) r.error = std::string("cost: ") + err.what();
    }
  }
  if (!r.cache_hit) report_.spent_usd += r.cost.total_usd.value_or(0);  // a failed call that was billed counts too
}

void Recorder::finish(RequestRecord r, const Cell& cell, std::optional<ScoreResult> judged, bool paid_by_calls) {
  const Item& item = *cell.item;
  r.created_at = now_utc_iso();
  r.prompt = prompt_text(cell.messages());
  if (!r.route) r.route = cell.route;
  r.reference = item.reference;
  const TaskDef& task = c_.tasks[cell.task];
  r.scorer = judged ? "judge" : task.scorer;
  if (r.ok) {
    ScoreResult s = judged ? *judged : find_scorer(task.scorer)->score(item, r.response.value_or(""));
    r.score = s.value;
    r.prediction = s.prediction;
  }
  price(r, paid_by_calls ? nullptr : cell.price, cell.model_ref->params.service_tier);
  const bool done = AnsweredBefore::is_done(r);
  writer_.push(std::move(r));
  ledger_.finished(cell, done);
}

void Recorder::store_item(size_t task, const Item& it) {
  writer_.push_item(c_.tasks[task].name, it.id, it.messages.back().content, it.reference,
                    it.metadata.empty() ? std::nullopt : std::optional<std::string>(nlohmann::json(it.metadata).dump()));
}

}  // namespace reckon
