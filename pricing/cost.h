#pragma once
// The one cost function: Usage x PriceEntry -> CostBreakdown (DESIGN.md, "Real cost").
#include <optional>
#include <string>

#include "common/usage.h"
#include "pricing/price_entry.h"

namespace reckon {

struct CostBreakdown {
  double input_usd = 0;        // uncached prompt tokens
  double cache_read_usd = 0;
  double cache_write_usd = 0;  // 5m + 1h writes
  double output_usd = 0;       // visible output (output - reasoning)
  double reasoning_usd = 0;    // thinking tokens; 0 when the count is unknown (then inside output_usd)
  double fees_usd = 0;         // per-request and per-search fees
  std::optional<double> total_usd;          // nullopt when usage never arrived: unknown, not zero
  std::optional<double> provider_cost_usd;  // kept beside, never mixed in
  std::string price_entry_id;
  bool long_context_tier = false;  // a tier repriced the whole request
  bool off_peak = false;           // an off-peak window's rates applied
};

// Rules, in order:
//  1. rate set = the highest tier whose threshold the prompt (input_tokens, cached included)
//     exceeds, else the base rates; a tier field left unset falls back to the base field;
//  2. batch / flex / priority: the entry's rates for that tier replace the base rates; when a
//     long-context tier also applies, the tier's rates are scaled by the service tier's ratio to
//     the base (input-side fields by the input ratio, output-side by the output ratio);
//     a service tier with no rates in the entry is an error (never silently standard);
//  3. cost = uncached×in + cache_read×cached + w5m×write5m + w1h×write1h
//            + (output − reasoning)×out + reasoning×reasoning_rate + fees.
//  4. an off-peak window (usage.minute_utc inside it) replaces the rates for the whole request;
//  5. a region multiplier (usage.inference_geo) scales every token cost.
// Inconsistent usage is priced without negative tokens (usage_inconsistency); negative counts throw.
CostBreakdown cost(const Usage& usage, const PriceEntry& entry);

// The price-reversal paper's definition: prompt × input + completion × output, thinking inside
// completion; no cache, tier or batch rules. `without_thinking` drops the reasoning tokens.
double paper_cost(const Usage& usage, const PriceEntry& entry, bool without_thinking = false);

}  // namespace reckon
