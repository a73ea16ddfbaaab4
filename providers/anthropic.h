#pragma once
// Anthropic Messages API with extended thinking and prompt caching.
#include "providers/adapter.h"

namespace reckon {

// Normalizes a Messages `usage` object: input_tokens there excludes cache reads and writes;
// thinking is known only from output_tokens_details.thinking_tokens (else NULL, never 0);
// with compaction `iterations`, the executor's iterations are summed.
Usage anthropic_usage(const nlohmann::json& usage);

std::unique_ptr<Adapter> make_anthropic();

}  // namespace reckon
