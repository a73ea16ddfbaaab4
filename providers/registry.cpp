#include "providers/registry.h"

#include <cstdlib>

#include "providers/anthropic.h"
#include "providers/gemini.h"
#include "providers/openai.h"

namespace reckon {
namespace {

template <Dialect D>
std::unique_ptr<Adapter> chat(const ModelParams&) {
  return make_openai_chat(D);
}
std::unique_ptr<Adapter> openai(const ModelParams& p) {
  return p.api == "responses" ? make_openai_responses() : make_openai_chat(Dialect::kOpenAI);
}
std::unique_ptr<Adapter> anthropic(const ModelParams&) { return make_anthropic(); }
std::unique_ptr<Adapter> gemini(const ModelParams&) { return make_gemini(); }

}  // namespace

const std::vector<ProviderInfo>& provider_table() {
  static const std::vector<ProviderInfo> table = {
      {"openai", "openai-chat / openai-responses", "https://api.openai.com/v1", "OPENAI_API_KEY",
       "Chat Completions (api=chat) or Responses (api=responses); reasoning_effort; stream_options.include_usage", openai,
       "OPENAI_BASE_URL", make_openai_batch},
      {"anthropic", "anthropic-messages", "https://api.anthropic.com", "ANTHROPIC_API_KEY",
       "extended thinking (thinking_budget); cache reads and 5m/1h writes; thinking tokens when reported", anthropic,
       "ANTHROPIC_BASE_URL", make_anthropic_batch},
      {"gemini", "gemini", "https://generativelanguage.googleapis.com", "GEMINI_API_KEY",
       "thinkingBudget (2.5) or thinkingLevel (3); thoughtsTokenCount billed as output", gemini, "",
       make_gemini_batch},
      {"deepseek", "openai-chat", "https://api.deepseek.com", "DEEPSEEK_API_KEY",
       "reasoning_content; prompt_cache_hit_tokens", chat<Dialect::kDeepSeek>},
      {"xai", "openai-chat", "https://api.x.ai/v1", "XAI_API_KEY",
       "reasoning tokens outside completion_tokens; cost_in_usd_ticks kept as billed cost", chat<Dialect::kXai>},
      {"openrouter", "openai-chat", "https://openrouter.ai/api/v1", "OPENROUTER_API_KEY",
       "usage.cost kept as billed cost", chat<Dialect::kOpenRouter>},
      {"moonshot", "openai-chat", "https://api.moonshot.ai/v1", "MOONSHOT_API_KEY",
       "Kimi; usage.cached_tokens at the top level", chat<Dialect::kKimi>},
      {"vllm", "openai-chat", "http://127.0.0.1:8000/v1", "", "self-hosted; reasoning count unknown; batch if the server has OpenAI's batch endpoints",
       chat<Dialect::kSelfHosted>, "", make_openai_batch},
      {"llamacpp", "openai-chat", "http://127.0.0.1:8080/v1", "", "llama-server; reasoning count unknown",
       chat<Dialect::kSelfHosted>},
      {"ollama", "openai-chat", "http://127.0.0.1:11434/v1", "", "OpenAI-compatible endpoint; reasoning count unknown",
       chat<Dialect::kSelfHosted>},
      {"replay", "replay", "", "", "recorded answers: a cassette JSONL, an earlier reckon store, or price-reversal logs",
       nullptr},
  };
  return table;
}

Endpoint endpoint_of(const ProviderInfo& info, const std::string& base_url_param) {
  Endpoint e{base_url_param, !base_url_param.empty()};
  if (!e.custom && *info.base_url_env) {
    if (const char* v = std::getenv(info.base_url_env); v && *v) e = {v, true};
  }
  if (!e.custom) e.url = info.base_url;
  while (!e.url.empty() && e.url.back() == '/') e.url.pop_back();
  return e;
}

std::string api_key_variable(const ProviderInfo& info, const ModelParams& params) {
  return params.api_key_env.empty() ? info.api_key_env : params.api_key_env;
}

std::optional<std::string> missing_api_key(const ProviderInfo& info, const ModelParams& params) {
  if (!*info.api_key_env || endpoint_of(info, params.base_url).custom) return std::nullopt;
  const std::string var = api_key_variable(info, params);
  const char* v = std::getenv(var.c_str());
  if (v && *v) return std::nullopt;
  return var;
}

const ProviderInfo* find_provider(const std::string& name) {
  for (const auto& p : provider_table())
    if (name == p.name) return &p;
  return nullptr;
}

}  // namespace reckon
