#pragma once
// One meaning of token usage for every provider (DESIGN.md, "Normalized usage").
#include <cstdint>
#include <optional>
#include <string>

namespace reckon {

// Which price list a request was billed on.
enum class ServiceTier { kStandard, kBatch, kFlex, kPriority, kFast };
std::string to_string(ServiceTier t);
// "standard"/"default"/"auto"/"" -> standard; batch, flex, priority, fast. nullopt when unknown.
std::optional<ServiceTier> parse_service_tier(const std::string& s);

struct Usage {
  int64_t input_tokens = 0;           // all prompt tokens, cached ones included
  int64_t cache_read_tokens = 0;      // served from a provider cache (subset of input)
  int64_t cache_write_5m_tokens = 0;  // written to a 5-minute cache (subset of input)
  int64_t cache_write_1h_tokens = 0;  // written to a 1-hour cache (subset of input)
  int64_t output_tokens = 0;          // all billed output, thinking included
  std::optional<int64_t> reasoning_tokens;  // thinking part of output; unknown when the provider does not say
  int64_t audio_input_tokens = 0;     // audio part of input (OpenAI prompt_tokens_details.audio_tokens)
  int64_t audio_output_tokens = 0;    // audio part of output (completion_tokens_details.audio_tokens)
  int64_t search_requests = 0;        // billed server-side searches
  std::string search_context_size;    // OpenAI web search: low / medium / high, when the response says
  std::optional<int> minute_utc;      // when the request was made (minute of the day, UTC): off-peak prices
  std::string inference_geo;          // where it ran, when the provider says (Anthropic usage.inference_geo)
  bool usage_complete = true;         // false: usage never arrived, so cost is unknown
  std::optional<double> provider_cost_usd;  // what the provider itself billed, when it says
  ServiceTier service_tier = ServiceTier::kStandard;
  bool service_tier_reported = false;  // the provider said which tier served it (else: the one requested)

  int64_t cache_write_tokens() const { return cache_write_5m_tokens + cache_write_1h_tokens; }
};

// What breaks the normalized rules in usage as a provider reported it (cache reads and writes beyond the
// prompt, thinking beyond the output), or nothing. Such usage is stored as reported, the row flagged with
// this text, and priced by the documented rule (pricing/cost.h): never dropped, never "fixed".
std::optional<std::string> usage_inconsistency(const Usage& u);

// The UTC minute of the day of an ISO 8601 time ("2026-11-28T16:45:00Z" -> 1005); nothing without a time.
std::optional<int> minute_of_day_utc(const std::string& iso);

}  // namespace reckon
