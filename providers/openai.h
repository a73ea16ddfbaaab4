#pragma once
// OpenAI Chat Completions and Responses, and every OpenAI-compatible server with its quirks.
#include "providers/adapter.h"

namespace reckon {

// Where an OpenAI-compatible server departs from OpenAI's usage semantics (PROVIDERS.md B5-B9).
enum class Dialect {
  kOpenAI,      // reasoning_tokens inside completion_tokens; cached_tokens inside prompt_tokens
  kDeepSeek,    // prompt_cache_hit_tokens / miss; usage on the last content chunk when streaming
  kXai,         // reasoning_tokens OUTSIDE completion_tokens; cost_in_usd_ticks (1e-10 USD)
  kOpenRouter,  // usage.cost is the billed cost
  kKimi,        // usage.cached_tokens at the top level
  kSelfHosted,  // vLLM, llama.cpp, Ollama: no reasoning count (unknown), no cost
};

// Normalizes a Chat Completions `usage` object.
Usage openai_chat_usage(const nlohmann::json& usage, Dialect d);
// Normalizes a Responses API `usage` object.
Usage openai_responses_usage(const nlohmann::json& usage);

// A non-streamed Chat Completions body, parsed; throws BadResponse.
Completion openai_chat_completion(const nlohmann::json& body, Dialect d);
// The same, read by simdjson without building nlohmann values for the answer (the adapter's path): nothing
// when the body is not of the ordinary shape, which openai_chat_completion then reads.
std::optional<Completion> openai_chat_completion_fast(std::string_view body, Dialect d);

std::unique_ptr<Adapter> make_openai_chat(Dialect d);
std::unique_ptr<Adapter> make_openai_responses();

}  // namespace reckon
