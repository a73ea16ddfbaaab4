// `reckon providers list` and `reckon call MODEL "prompt"`.
#include <iostream>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/table.h"
#include "common/text.h"
#include "harness/commands.h"
#include "results/prices.h"
#include "pricing/catalog.h"
#include "pricing/cost.h"
#include "providers/client.h"

namespace reckon {

Action define_providers(CLI::App& sub) {
  sub.require_subcommand(1);
  auto* list = sub.add_subcommand("list", "List the providers reckon speaks");
  return [list]() -> int {
    (void)list;
    TextTable t({"name", "wire format", "default base URL", "base URL variable", "key variable", "notes"});
    for (const auto& p : provider_table()) t.add({p.name, p.family, p.base_url, p.base_url_env, p.api_key_env, p.notes});
    std::cout << t.render(99);
    return kExitOk;
  };
}

Action define_call(CLI::App& sub) {
  struct Args {
    std::string model, prompt, system, replay;
    ModelParams params;
    int64_t max_tokens = 0, thinking_budget = 0;
    double temperature = -1;
    std::string tier = "standard";
    bool json = false, verbose = false;
    PriceSources prices;
  };
  auto a = std::make_shared<Args>();
  sub.add_option("model", a->model, "provider:model, e.g. openai:gpt-5-mini")->required();
  sub.add_option("prompt", a->prompt, "The user message")->required();
  sub.add_option("--system", a->system, "A system message");
  sub.add_option("--max-tokens", a->max_tokens, "Output cap");
  sub.add_option("--temperature", a->temperature, "Sampling temperature");
  sub.add_option("--effort", a->params.reasoning_effort, "Reasoning effort (OpenAI) or thinking level (Gemini 3)");
  sub.add_option("--thinking-budget", a->thinking_budget, "Thinking budget in tokens (Anthropic, Gemini 2.5)");
  sub.add_option("--base-url", a->params.base_url, "Endpoint base URL (env RECKON_BASE_URL)")->envname("RECKON_BASE_URL");
  sub.add_option("--api-key-env", a->params.api_key_env, "Environment variable holding the key");
  sub.add_option("--api", a->params.api, "openai: chat | responses")->check(CLI::IsMember({"chat", "responses"}));
  sub.add_option("--tier", a->tier, "standard | batch | flex | priority | fast");
  sub.add_flag("--stream", a->params.stream, "Stream the answer (records time to first token)");
  sub.add_option("--replay", a->replay, "Recorded answers for the replay provider (cassette .jsonl, store, or logs)");
  sub.add_flag("--json", a->json, "Print JSON");
  sub.add_flag("--verbose", a->verbose, "Print the HTTP request (keys redacted)");
  sub.add_option("--db", a->prices.db, "Also price with this store's imported prices");
  sub.add_option("--catalog", a->prices.files, "Also price with this catalog (reckon JSON; repeatable)");
  return [a]() -> int {
    ModelRef ref = parse_model_ref(a->model);
    ref.params = a->params;
    if (a->max_tokens > 0) ref.params.max_tokens = a->max_tokens;
    if (a->thinking_budget > 0) ref.params.thinking_budget = a->thinking_budget;
    if (a->temperature >= 0) ref.params.temperature = a->temperature;
    auto tier = parse_service_tier(a->tier);
    if (!tier) throw InputError("--tier must be standard, batch, flex, priority or fast");
    ref.params.service_tier = *tier;
    ChatRequest req{ref, {}};
    if (!a->system.empty()) req.messages.push_back({"system", a->system});
    req.messages.push_back({"user", a->prompt});
    const ProviderInfo* info = find_provider(ref.provider);
    if (!info) throw InputError("unknown provider '" + ref.provider + "' (see `reckon providers list`)");
    if (a->verbose && info->make)
      std::cerr << ModelClient::describe(info->make(ref.params)->build(req, "[redacted]", endpoint_of(*info, ref.params.base_url).url));
    SystemClock clock;
    ModelClient client({}, clock);
    ReplaySource replay;
    if (!a->replay.empty()) {
      replay.load(a->replay);
      client.set_replay(&replay);
    }
    CallResult result;
    client.submit(req, 0, [&](const ChatRequest&, const CallResult& r) { result = r; });
    client.run();
    const Completion& c = result.completion;
    const PriceCatalog catalog = load_prices(a->prices);
    const PriceEntry* price = catalog.find(ref.name(), today_utc());
    Usage u = c.usage;
    if (!u.service_tier_reported) u.service_tier = ref.params.service_tier;
    std::optional<CostBreakdown> cb;
    if (price && u.usage_complete) cb = cost(u, *price);
    auto opt = [](const auto& v) { return v ? nlohmann::json(*v) : nlohmann::json(); };
    if (a->json) {
      // A failure prints the same object with its cause (and any usage that was billed), and exits 1.
      nlohmann::json j{{"ok", result.ok}, {"text", c.text}, {"finish_reason", c.finish_reason},
                       {"usage_complete", u.usage_complete}, {"attempts", result.attempts}, {"latency_ms", result.latency_ms},
                       {"service_tier", to_string(u.service_tier)}};
      j["input_tokens"] = u.usage_complete ? nlohmann::json(u.input_tokens) : nlohmann::json();
      j["cache_read_tokens"] = u.usage_complete ? nlohmann::json(u.cache_read_tokens) : nlohmann::json();
      j["cache_write_tokens"] = u.usage_complete ? nlohmann::json(u.cache_write_tokens()) : nlohmann::json();
      j["output_tokens"] = u.usage_complete ? nlohmann::json(u.output_tokens) : nlohmann::json();
      j["reasoning_tokens"] = u.usage_complete ? opt(u.reasoning_tokens) : nlohmann::json();
      j["cost_usd"] = cb ? opt(cb->total_usd) : nlohmann::json();
      j["provider_cost_usd"] = opt(u.provider_cost_usd);
      j["ttft_ms"] = opt(result.ttft_ms);
      j["usage_note"] = opt(usage_inconsistency(u));
      if (!result.ok) {
        j["error_class"] = to_string(result.error_class);
        j["error"] = result.error;
        j["http_status"] = opt(result.http_status);
      }
      std::cout << j.dump(2) << "\n";
      return result.ok ? kExitOk : kExitFailure;
    }
    if (!result.ok) {
      std::cerr << "reckon: " << ref.name() << " failed after " << result.attempts << " attempt(s): " << result.error << "\n";
      if (cb && cb->total_usd) std::cerr << "reckon: it was billed all the same: " << fmt_usd(*cb->total_usd) << "\n";
      return kExitFailure;
    }
    std::cout << c.text << "\n\n";
    std::cout << "tokens: input " << u.input_tokens << " (cached " << u.cache_read_tokens << ", cache writes "
              << u.cache_write_tokens() << "), output " << u.output_tokens << ", thinking "
              << (u.reasoning_tokens ? std::to_string(*u.reasoning_tokens) : "unknown") << "\n";
    std::cout << "cost: " << (cb && cb->total_usd ? fmt_usd(*cb->total_usd) + " (" + cb->price_entry_id + ")" : "unknown (no price for " + ref.name() + ")");
    if (u.provider_cost_usd) std::cout << ", provider billed " << fmt_usd(*u.provider_cost_usd);
    std::cout << "\nfinish: " << c.finish_reason << ", attempts " << result.attempts << ", latency "
              << fmt_fixed(result.latency_ms, 0) << " ms";
    if (result.ttft_ms) std::cout << ", first token " << fmt_fixed(*result.ttft_ms, 0) << " ms";
    std::cout << "\n";
    return kExitOk;
  };
}

}  // namespace reckon
