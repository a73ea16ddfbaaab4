#pragma once
// Price tables published by others, read into reckon's catalog.
#include <string>

#include "pricing/catalog.h"

namespace reckon {

// LiteLLM's model_prices_and_context_window.json (USD per token -> per MTok). Chat-like entries
// with input and output prices are kept; `_above_Nk_tokens` keys become tiers, `tiered_pricing`
// ranges become tiers, `_batches`/`_flex`/`_priority` keys service tiers,
// `search_context_cost_per_query` the per-search fee. A key "gemini/x" also answers to "x"
// when no top-level "x" exists. Entries are dated `effective_from`.
PriceCatalog import_litellm(const std::string& path, const std::string& effective_from);

// The price-reversal paper's constant/model_info.json: one entry per model_name (the name its
// logs use), aliased to api_model_id, dated by _metadata.last_updated.
PriceCatalog import_model_info(const std::string& path);

}  // namespace reckon
