#pragma once
// Google Gemini generateContent / streamGenerateContent?alt=sse with thinking.
#include "providers/adapter.h"

namespace reckon {

// Normalizes `usageMetadata`: candidatesTokenCount excludes thoughtsTokenCount, both billed as
// output. Gemini omits thoughtsTokenCount when a model did not think, so absent means 0 here.
Usage gemini_usage(const nlohmann::json& usage_metadata);

std::unique_ptr<Adapter> make_gemini();

}  // namespace reckon
