#pragma once
// A model's prices as in force from a date. Rates are USD per million tokens.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "common/usage.h"

namespace reckon {

// One set of per-MTok rates. Unset fields fall back (see cost.h): cached input,
// cache writes -> input; 1h cache write -> 5m cache write; reasoning -> output.
struct Rates {
  std::optional<double> input, cached_input, cache_write_5m, cache_write_1h, output, reasoning;
  std::optional<double> audio_input, audio_output;  // audio tokens (default: the text rates)
};

// Long-context tier: when a request's prompt exceeds `above_input_tokens`, these rates
// apply to the *whole* request.
struct Tier {
  int64_t above_input_tokens = 0;
  Rates rates;
};

struct PriceEntry {
  std::string model;                 // canonical name, e.g. "gpt-5.2", "gemini/gemini-3-flash-preview"
  std::string provider;              // openai, anthropic, gemini, ...
  std::vector<std::string> aliases;  // other names the same prices answer to
  std::string effective_from;        // YYYY-MM-DD
  std::string source;                // where the numbers come from, with its date
  Rates base;
  std::vector<Tier> tiers;           // sorted by threshold
  std::map<ServiceTier, Rates> service;  // batch / flex / priority / fast rates (fast falls back to priority)
  double per_request_fee = 0;        // USD per request
  double per_search_fee = 0;         // USD per billed search
  // OpenAI bills a web search by its context size: USD per search for "low" / "medium" / "high" (a size the
  // map lacks, or a search with no size said, pays per_search_fee, else the medium price).
  std::map<std::string, double> search_fee_by_context;
  // Gemini 2.5 grounding is billed once per prompt that searched, Gemini 3 per query (the default).
  bool search_billed_per_prompt = false;
  // Off-peak prices (DeepSeek): during any window (UTC minutes [start, end), wrapping past midnight; start ==
  // end is the whole day) these rates replace the ones that would apply, for the whole request; a rate left
  // out keeps the standard one.
  std::vector<std::pair<int, int>> off_peak_windows;
  Rates off_peak;
  // Regional / data-residency multipliers by the region the provider says served the request (Anthropic
  // inference_geo): every token cost times the factor.
  std::map<std::string, double> region_multipliers;

  // "model@effective_from": stored with every priced request, so re-pricing is a join.
  std::string id() const { return model + "@" + effective_from; }
  // Listed price as the price-reversal literature uses it: input + output per MTok.
  double listed_price() const { return base.input.value_or(0) + base.output.value_or(0); }
};

// "HH:MM-HH:MM" (UTC) as minutes of the day; nothing when malformed.
std::optional<std::pair<int, int>> parse_utc_window(const std::string& text);
bool in_window(const std::pair<int, int>& window, int minute);

// reckon's JSON form of an entry (data/prices.json). Throws InputError naming `where` and the field.
PriceEntry price_entry_from_json(const nlohmann::json& j, const std::string& where);
nlohmann::json to_json(const PriceEntry& e);

}  // namespace reckon
