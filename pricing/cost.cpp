#include "pricing/cost.h"

#include <algorithm>

#include "common/error.h"

namespace reckon {
namespace {

constexpr double kPerMTok = 1e-6;

struct Resolved {
  double input, cached_input, cache_write_5m, cache_write_1h, output, reasoning, audio_input, audio_output;
};

Resolved resolve(const Rates& r) {
  Resolved o{};
  o.input = r.input.value_or(0);
  o.cached_input = r.cached_input.value_or(o.input);
  o.cache_write_5m = r.cache_write_5m.value_or(o.input);
  o.cache_write_1h = r.cache_write_1h.value_or(o.cache_write_5m);
  o.output = r.output.value_or(0);
  o.reasoning = r.reasoning.value_or(o.output);
  o.audio_input = r.audio_input.value_or(o.input);
  o.audio_output = r.audio_output.value_or(o.output);
  return o;
}

// Fields set in `over` win; the rest come from `base`.
Rates overlay(const Rates& base, const Rates& over) {
  Rates r = base;
  if (over.input) r.input = over.input;
  if (over.cached_input) r.cached_input = over.cached_input;
  if (over.cache_write_5m) r.cache_write_5m = over.cache_write_5m;
  if (over.cache_write_1h) r.cache_write_1h = over.cache_write_1h;
  if (over.output) r.output = over.output;
  if (over.reasoning) r.reasoning = over.reasoning;
  if (over.audio_input) r.audio_input = over.audio_input;
  if (over.audio_output) r.audio_output = over.audio_output;
  return r;
}

}  // namespace

CostBreakdown cost(const Usage& u, const PriceEntry& e) {
  CostBreakdown c;
  c.price_entry_id = e.id();
  c.provider_cost_usd = u.provider_cost_usd;
  if (!u.usage_complete) return c;  // unknown, not zero

  if (u.input_tokens < 0 || u.output_tokens < 0 || u.cache_read_tokens < 0 || u.cache_write_5m_tokens < 0 ||
      u.cache_write_1h_tokens < 0 || u.reasoning_tokens.value_or(0) < 0)
    throw InputError("usage for " + e.model + " has negative token counts");
  // Usage that breaks the normalized rules (usage_inconsistency) is priced as reported, never as negative
  // tokens: cache reads and writes each at their rate, the uncached rest of the prompt at the input rate (none
  // when the cache counts exceed the prompt); the output count as the billed total, thinking at most all of it.
  // Audio tokens (a part of input and of output) at their own rates.
  const int64_t audio_in = std::min(u.audio_input_tokens, u.input_tokens);
  const int64_t uncached = std::max<int64_t>(0, u.input_tokens - u.cache_read_tokens - u.cache_write_tokens() - audio_in);
  const int64_t reasoning = std::min(u.reasoning_tokens.value_or(0), u.output_tokens);
  const int64_t audio_out = std::min(u.audio_output_tokens, u.output_tokens - reasoning);

  // Every threshold the prompt passes applies, lowest first: a tier that restates only the output rate (above
  // 32k) and one that restates only the input rate (above 128k) each hold from their own threshold.
  const Tier* tier = nullptr;
  Rates rates = e.base;
  for (const auto& t : e.tiers)
    if (u.input_tokens > t.above_input_tokens) {
      tier = &t;
      rates = overlay(rates, t.rates);
    }
  c.long_context_tier = tier != nullptr;
  if (u.service_tier != ServiceTier::kStandard) {
    auto it = e.service.find(u.service_tier);
    if (it == e.service.end() && u.service_tier == ServiceTier::kFast) it = e.service.find(ServiceTier::kPriority);
    if (it == e.service.end())
      throw InputError("no " + to_string(u.service_tier) + " price for " + e.model + " in entry " + e.id());
    if (!tier) {
      rates = overlay(e.base, it->second);
      // Thinking is output: at the tier's rate. A base reasoning rate the tier does not restate scales with
      // the tier's output price (Google bills Gemini's thinking under priority / flex / batch that way).
      if (!it->second.reasoning && e.base.reasoning) {
        const Resolved base = resolve(e.base), svc = resolve(rates);
        rates.reasoning = *e.base.reasoning * (base.output > 0 ? svc.output / base.output : 1);
      }
    } else {
      Resolved base = resolve(e.base), svc = resolve(overlay(e.base, it->second));
      double in_ratio = base.input > 0 ? svc.input / base.input : 1;
      double out_ratio = base.output > 0 ? svc.output / base.output : 1;
      Resolved t = resolve(rates);
      rates = Rates{t.input * in_ratio,          t.cached_input * in_ratio, t.cache_write_5m * in_ratio,
                    t.cache_write_1h * in_ratio, t.output * out_ratio,      t.reasoning * out_ratio,
                    t.audio_input * in_ratio,    t.audio_output * out_ratio};
    }
  }
  // Off-peak windows: their rates replace whatever would apply (tier or service tier), for the whole request.
  if (!e.off_peak_windows.empty() && u.minute_utc) {
    for (const auto& w : e.off_peak_windows)
      if (in_window(w, *u.minute_utc)) {
        rates = overlay(rates, e.off_peak);
        c.off_peak = true;
        break;
      }
  }
  const Resolved r = resolve(rates);
  c.input_usd = (static_cast<double>(uncached) * r.input + static_cast<double>(audio_in) * r.audio_input) * kPerMTok;
  c.cache_read_usd = static_cast<double>(u.cache_read_tokens) * r.cached_input * kPerMTok;
  c.cache_write_usd = (static_cast<double>(u.cache_write_5m_tokens) * r.cache_write_5m +
                       static_cast<double>(u.cache_write_1h_tokens) * r.cache_write_1h) * kPerMTok;
  c.output_usd = (static_cast<double>(u.output_tokens - reasoning - audio_out) * r.output +
                  static_cast<double>(audio_out) * r.audio_output) * kPerMTok;
  c.reasoning_usd = static_cast<double>(reasoning) * r.reasoning * kPerMTok;
  // Searches: per query, or once per prompt that searched; at the price of their context size when the entry
  // has one.
  const int64_t searches = e.search_billed_per_prompt ? std::min<int64_t>(u.search_requests, 1) : u.search_requests;
  double per_search = e.per_search_fee;
  if (!e.search_fee_by_context.empty()) {
    auto it = e.search_fee_by_context.find(u.search_context_size.empty() ? "medium" : u.search_context_size);
    if (it == e.search_fee_by_context.end()) it = e.search_fee_by_context.find("medium");
    if (it != e.search_fee_by_context.end()) per_search = it->second;
  }
  c.fees_usd = e.per_request_fee + static_cast<double>(searches) * per_search;
  // A regional (data-residency) multiplier scales every token cost of a request served in that region.
  if (auto it = e.region_multipliers.find(u.inference_geo); !u.inference_geo.empty() && it != e.region_multipliers.end()) {
    for (double* part : {&c.input_usd, &c.cache_read_usd, &c.cache_write_usd, &c.output_usd, &c.reasoning_usd}) *part *= it->second;
  }
  c.total_usd = c.input_usd + c.cache_read_usd + c.cache_write_usd + c.output_usd + c.reasoning_usd + c.fees_usd;
  return c;
}

double paper_cost(const Usage& u, const PriceEntry& e, bool without_thinking) {
  double completion = static_cast<double>(u.output_tokens);
  if (without_thinking) completion -= static_cast<double>(u.reasoning_tokens.value_or(0));
  return (static_cast<double>(u.input_tokens) * e.base.input.value_or(0) + completion * e.base.output.value_or(0)) *
         kPerMTok;
}

}  // namespace reckon
