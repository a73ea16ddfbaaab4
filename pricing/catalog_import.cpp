#include "pricing/catalog_import.h"
#include "common/json_parse.h"

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>

#include "common/error.h"
#include "common/text.h"

namespace reckon {
namespace {

nlohmann::json read_json(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw InputError(path + ": cannot open");
  try {
    return parse_json(in);
  } catch (const nlohmann::json::exception& e) {
    throw InputError(path + ": not valid JSON (" + e.what() + ")");
  }
}

// A per-token price field, as USD per MTok. Absent -> nullopt; non-numeric -> error naming key and field.
std::optional<double> per_token(const nlohmann::json& v, const std::string& field, const std::string& where) {
  if (!v.contains(field) || v[field].is_null()) return std::nullopt;
  if (!v[field].is_number() || v[field].get<double>() < 0)
    throw InputError(where + ": field '" + field + "' must be a non-negative number");
  return v[field].get<double>() * 1e6;
}

Rates rates_with_suffix(const nlohmann::json& v, const std::string& suffix, const std::string& where) {
  Rates r;
  r.input = per_token(v, "input_cost_per_token" + suffix, where);
  r.output = per_token(v, "output_cost_per_token" + suffix, where);
  r.cached_input = per_token(v, "cache_read_input_token_cost" + suffix, where);
  r.cache_write_5m = per_token(v, "cache_creation_input_token_cost" + suffix, where);
  r.cache_write_1h = per_token(v, "cache_creation_input_token_cost_above_1hr" + suffix, where);
  // Thinking's own rate, per tier too (output_cost_per_reasoning_token_priority, ..._above_200k_tokens).
  r.reasoning = per_token(v, "output_cost_per_reasoning_token" + suffix, where);
  r.audio_input = per_token(v, "input_cost_per_audio_token" + suffix, where);
  r.audio_output = per_token(v, "output_cost_per_audio_token" + suffix, where);
  return r;
}

// One band of LiteLLM's `tiered_pricing` (all-or-nothing: the band the prompt falls in prices every token
// of the request). What the band leaves out: cache reads and writes at the band's input rate, output at the
// model's flat output rate, thinking at the band's output rate. A band without an input rate prices nothing
// (LiteLLM then uses the flat rates).
// A rate set with nothing left to borrow: a band prices every token of its requests from its own rates, so what
// it leaves out comes from its input and output rates, not from the model's flat ones underneath.
Rates complete(Rates r) {
  if (!r.cached_input) r.cached_input = r.input;
  if (!r.cache_write_5m) r.cache_write_5m = r.input;
  if (!r.cache_write_1h) r.cache_write_1h = r.cache_write_5m;
  if (!r.reasoning) r.reasoning = r.output;
  return r;
}

std::optional<Rates> band_rates(const nlohmann::json& band, const Rates& flat, const std::string& where) {
  Rates r = rates_with_suffix(band, "", where);
  if (!r.input) return std::nullopt;
  if (!r.output) r.output = flat.output;
  return complete(r);
}

bool any_set(const Rates& r) {
  return r.input || r.output || r.cached_input || r.cache_write_5m || r.cache_write_1h || r.reasoning;
}

}  // namespace

PriceCatalog import_litellm(const std::string& path, const std::string& effective_from) {
  nlohmann::json j = read_json(path);
  if (!j.is_object()) throw InputError(path + ": expected a JSON object keyed by model");
  static const std::set<std::string> kModes{"chat", "completion", "responses"};
  // Any rate may start a threshold of its own (LiteLLM: output and cache fields define tiers independently);
  // the threshold is on the prompt, in thousands ("_above_128k_tokens") or in tokens ("_above_128_tokens").
  static const std::regex kTierKey(
      R"(^(input_cost_per_token|output_cost_per_token|cache_read_input_token_cost|cache_creation_input_token_cost|)"
      R"(output_cost_per_reasoning_token)_above_(\d+)(k?)_tokens$)");
  std::string source = "LiteLLM model_prices_and_context_window.json (" + path + ")";

  PriceCatalog out;
  std::set<std::string> keys;
  for (auto it = j.begin(); it != j.end(); ++it) keys.insert(to_lower(it.key()));
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& key = it.key();
    const auto& v = it.value();
    if (key == "sample_spec" || !v.is_object()) continue;
    std::string where = path + ": model '" + key + "'";
    if (v.contains("mode") && (!v["mode"].is_string() || !kModes.count(v["mode"].get<std::string>()))) continue;
    PriceEntry e;
    e.model = key;
    e.effective_from = effective_from;
    e.source = source;
    if (v.contains("litellm_provider") && v["litellm_provider"].is_string())
      e.provider = v["litellm_provider"].get<std::string>();
    e.base = rates_with_suffix(v, "", where);
    std::optional<Rates> flat_band;
    if (v.contains("tiered_pricing")) {
      if (!v["tiered_pricing"].is_array()) throw InputError(where + ": field 'tiered_pricing' must be an array");
      for (const auto& band : v["tiered_pricing"]) {
        if (!band.is_object() || !band.contains("range") || !band["range"].is_array() || band["range"].empty() ||
            !band["range"][0].is_number())
          throw InputError(where + ": each 'tiered_pricing' band needs a numeric 'range'");
        auto lo = static_cast<int64_t>(band["range"][0].get<double>());
        auto r = band_rates(band, e.base, where + " tiered_pricing");
        if (!r) r = complete(e.base);  // a band without an input rate: the flat rates, all of them
        if (lo == 0) {
          flat_band = *r;
        } else {
          e.tiers.push_back({lo, *r});  // a band matches when the prompt is above its start
        }
      }
    }
    if (flat_band) e.base = *flat_band;
    if (!e.base.input || !e.base.output) continue;  // not token-priced (images, audio, ...)
    if (auto slash = key.rfind('/'); slash != std::string::npos && !keys.count(to_lower(key.substr(slash + 1))))
      e.aliases.push_back(key.substr(slash + 1));

    std::map<int64_t, std::string> thresholds;  // prompt tokens -> key suffix
    for (auto f = v.begin(); f != v.end(); ++f) {
      std::smatch m;
      const std::string k = f.key();
      if (!std::regex_match(k, m, kTierKey)) continue;
      thresholds[std::stoll(m[2].str()) * (m[3].str() == "k" ? 1000 : 1)] = "_above_" + m[2].str() + m[3].str() + "_tokens";
    }
    for (const auto& [above, sfx] : thresholds) {
      Tier t{above, rates_with_suffix(v, sfx, where)};
      t.rates.cache_write_1h = per_token(v, "cache_creation_input_token_cost_above_1hr" + sfx, where);
      if (any_set(t.rates)) e.tiers.push_back(t);
    }
    std::sort(e.tiers.begin(), e.tiers.end(),
              [](const Tier& a, const Tier& b) { return a.above_input_tokens < b.above_input_tokens; });
    for (auto [st, sfx] : {std::pair{ServiceTier::kBatch, "_batches"}, std::pair{ServiceTier::kFlex, "_flex"},
                           std::pair{ServiceTier::kPriority, "_priority"}}) {
      Rates r = rates_with_suffix(v, sfx, where);
      if (any_set(r)) e.service[st] = r;
    }
    if (auto fee = per_token(v, "input_cost_per_request", where)) e.per_request_fee = *fee / 1e6;
    if (v.contains("search_context_cost_per_query")) {
      const auto& s = v["search_context_cost_per_query"];
      if (!s.is_object()) throw InputError(where + ": field 'search_context_cost_per_query' must be an object");
      for (const char* size : {"search_context_size_medium", "search_context_size_low", "search_context_size_high"}) {
        if (!s.contains(size) || !s[size].is_number()) continue;
        e.search_fee_by_context[std::string(size).substr(std::string("search_context_size_").size())] = s[size].get<double>();
        if (!e.per_search_fee) e.per_search_fee = s[size].get<double>();  // medium first: the default size
      }
    }
    if (v.contains("off_peak_pricing") && v["off_peak_pricing"].is_object()) {
      const auto& o = v["off_peak_pricing"];
      std::vector<std::string> windows;
      if (o.contains("hours_utc") && o["hours_utc"].is_string()) windows.push_back(o["hours_utc"].get<std::string>());
      if (o.contains("hours_utc") && o["hours_utc"].is_array())
        for (const auto& w : o["hours_utc"])
          if (w.is_string()) windows.push_back(w.get<std::string>());
      for (const auto& w : windows) {
        auto win = parse_utc_window(w);
        if (!win) throw InputError(where + ": field 'off_peak_pricing.hours_utc' holds '" + w + "', not HH:MM-HH:MM");
        e.off_peak_windows.push_back(*win);
      }
      e.off_peak = rates_with_suffix(o, "", where + " off_peak_pricing");
    }
    if (v.contains("web_search_billing_unit") && v["web_search_billing_unit"].is_string())
      e.search_billed_per_prompt = to_lower(v["web_search_billing_unit"].get<std::string>()).find("prompt") != std::string::npos;
    out.add(std::move(e));
  }
  return out;
}

PriceCatalog import_model_info(const std::string& path) {
  nlohmann::json j = read_json(path);
  if (!j.is_object() || !j.contains("models") || !j["models"].is_array())
    throw InputError(path + ": expected an object with a 'models' array (price-reversal model_info.json)");
  std::string date = "1970-01-01";
  if (j.contains("_metadata") && j["_metadata"].contains("last_updated") && j["_metadata"]["last_updated"].is_string())
    date = j["_metadata"]["last_updated"].get<std::string>();
  PriceCatalog out;
  size_t i = 0;
  for (const auto& m : j["models"]) {
    std::string where = path + ": models[" + std::to_string(i++) + "]";
    if (!m.is_object() || !m.contains("model_name") || !m["model_name"].is_string())
      throw InputError(where + ": missing string field 'model_name'");
    auto mtok = [&](const char* f) -> std::optional<double> {
      if (!m.contains(f) || m[f].is_null()) return std::nullopt;
      if (!m[f].is_number()) throw InputError(where + ": field '" + f + "' must be a number");
      return m[f].get<double>();
    };
    PriceEntry e;
    e.model = m["model_name"].get<std::string>();
    where += " (" + e.model + ")";
    if (m.contains("provider") && m["provider"].is_string()) e.provider = to_lower(m["provider"].get<std::string>());
    if (m.contains("api_model_id") && m["api_model_id"].is_string() && m["api_model_id"].get<std::string>() != e.model)
      e.aliases.push_back(m["api_model_id"].get<std::string>());
    e.effective_from = date;
    e.source = "price-reversal model_info.json (" + date + ")";
    e.base.input = mtok("input_price_per_MTok");
    e.base.output = mtok("output_price_per_MTok");
    if (!e.base.input || !e.base.output) throw InputError(where + ": needs input_price_per_MTok and output_price_per_MTok");
    e.base.cached_input = mtok("cached_input_price_per_MTok");
    if (!e.base.cached_input) e.base.cached_input = mtok("cached_input_read_price_per_MTok");
    e.base.cache_write_5m = mtok("cached_input_write_price_per_MTok");
    e.base.cache_write_1h = mtok("cached_input_write_1hr_price_per_MTok");
    if (auto in_long = mtok("input_price_per_MTok_long")) {
      // The paper's notes: "_long" prices apply to prompts over 200k tokens.
      Rates r;
      r.input = in_long;
      r.output = mtok("output_price_per_MTok_long");
      r.cached_input = mtok("cached_input_price_per_MTok_long");
      e.tiers.push_back({200000, r});
    }
    auto bin = mtok("batch_input_price_per_MTok"), bout = mtok("batch_output_price_per_MTok");
    if (bin || bout) e.service[ServiceTier::kBatch] = Rates{bin, std::nullopt, std::nullopt, std::nullopt, bout, std::nullopt};
    out.add(std::move(e));
  }
  return out;
}

}  // namespace reckon
