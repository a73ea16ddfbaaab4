#include "pricing/price_entry.h"

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/text.h"

namespace reckon {
namespace {

const char* kRateFields[] = {"input",     "cached_input", "cache_write_5m", "cache_write_1h",
                             "output",    "reasoning",    "audio_input",    "audio_output"};

std::optional<double>* rate_field(Rates& r, const std::string& name) {
  if (name == "input") return &r.input;
  if (name == "cached_input") return &r.cached_input;
  if (name == "cache_write_5m") return &r.cache_write_5m;
  if (name == "cache_write_1h") return &r.cache_write_1h;
  if (name == "output") return &r.output;
  if (name == "reasoning") return &r.reasoning;
  if (name == "audio_input") return &r.audio_input;
  if (name == "audio_output") return &r.audio_output;
  return nullptr;
}

Rates rates_from_json(const nlohmann::json& j, const std::string& where) {
  Rates r;
  for (const char* f : kRateFields) {
    if (!j.contains(f) || j[f].is_null()) continue;
    if (!j[f].is_number() || j[f].get<double>() < 0)
      throw InputError(where + ": field '" + f + "' must be a non-negative number (USD per MTok)");
    *rate_field(r, f) = j[f].get<double>();
  }
  return r;
}

nlohmann::json rates_to_json(const Rates& r) {
  nlohmann::json j = nlohmann::json::object();
  Rates copy = r;
  for (const char* f : kRateFields)
    if (auto* v = rate_field(copy, f); v->has_value()) j[f] = **v;
  return j;
}

bool valid_date(const std::string& d) {
  return d.size() == 10 && d[4] == '-' && d[7] == '-' &&
         std::all_of(d.begin(), d.end(), [](char c) { return (c >= '0' && c <= '9') || c == '-'; });
}

}  // namespace

PriceEntry price_entry_from_json(const nlohmann::json& j, const std::string& where) {
  if (!j.is_object()) throw InputError(where + ": a price entry must be a JSON object");
  PriceEntry e;
  auto str = [&](const char* f, bool required) -> std::string {
    if (!j.contains(f)) {
      if (required) throw InputError(where + ": missing field '" + f + "'");
      return "";
    }
    if (!j[f].is_string()) throw InputError(where + ": field '" + f + "' must be a string");
    return j[f].get<std::string>();
  };
  e.model = str("model", true);
  std::string at = where + " (model " + e.model + ")";
  e.provider = str("provider", false);
  e.source = str("source", false);
  e.effective_from = str("effective_from", true);
  if (!valid_date(e.effective_from)) throw InputError(at + ": field 'effective_from' must be YYYY-MM-DD");
  if (j.contains("aliases")) {
    if (!j["aliases"].is_array()) throw InputError(at + ": field 'aliases' must be an array of strings");
    for (const auto& a : j["aliases"]) {
      if (!a.is_string()) throw InputError(at + ": field 'aliases' must be an array of strings");
      e.aliases.push_back(a.get<std::string>());
    }
  }
  e.base = rates_from_json(j, at);
  if (!e.base.input || !e.base.output) throw InputError(at + ": fields 'input' and 'output' are required");
  if (j.contains("tiers")) {
    if (!j["tiers"].is_array()) throw InputError(at + ": field 'tiers' must be an array");
    for (const auto& t : j["tiers"]) {
      if (!t.is_object() || !t.contains("above_input_tokens") || !t["above_input_tokens"].is_number_integer())
        throw InputError(at + ": each tier needs an integer 'above_input_tokens'");
      e.tiers.push_back({t["above_input_tokens"].get<int64_t>(), rates_from_json(t, at + " tier")});
    }
    std::sort(e.tiers.begin(), e.tiers.end(),
              [](const Tier& a, const Tier& b) { return a.above_input_tokens < b.above_input_tokens; });
  }
  for (ServiceTier st : {ServiceTier::kBatch, ServiceTier::kFlex, ServiceTier::kPriority, ServiceTier::kFast}) {
    std::string key = to_string(st);
    if (!j.contains(key)) continue;
    if (!j[key].is_object()) throw InputError(at + ": field '" + key + "' must be an object of rates");
    e.service[st] = rates_from_json(j[key], at + " " + key);
  }
  for (auto [field, dest] : {std::pair{"per_request_fee", &e.per_request_fee}, std::pair{"per_search_fee", &e.per_search_fee}}) {
    if (!j.contains(field)) continue;
    if (!j[field].is_number() || j[field].get<double>() < 0)
      throw InputError(at + ": field '" + field + "' must be a non-negative number (USD)");
    *dest = j[field].get<double>();
  }
  if (j.contains("search_fee_by_context")) {
    const auto& m = j["search_fee_by_context"];
    if (!m.is_object()) throw InputError(at + ": field 'search_fee_by_context' must be an object of USD per search by size");
    for (auto it = m.begin(); it != m.end(); ++it) {
      if (!it.value().is_number() || it.value().get<double>() < 0)
        throw InputError(at + ": field 'search_fee_by_context." + it.key() + "' must be a non-negative number (USD)");
      e.search_fee_by_context[it.key()] = it.value().get<double>();
    }
  }
  if (j.contains("off_peak")) {
    const auto& o = j["off_peak"];
    if (!o.is_object() || !o.contains("hours_utc") || !o["hours_utc"].is_array())
      throw InputError(at + ": field 'off_peak' needs 'hours_utc': a list of \"HH:MM-HH:MM\" windows");
    for (const auto& w : o["hours_utc"]) {
      auto win = w.is_string() ? parse_utc_window(w.get<std::string>()) : std::nullopt;
      if (!win) throw InputError(at + ": field 'off_peak.hours_utc' holds '" + w.dump() + "', not HH:MM-HH:MM");
      e.off_peak_windows.push_back(*win);
    }
    e.off_peak = rates_from_json(o, at + " off_peak");
  }
  if (j.contains("region_multipliers")) {
    const auto& m = j["region_multipliers"];
    if (!m.is_object()) throw InputError(at + ": field 'region_multipliers' must be an object of factors by region");
    for (auto it = m.begin(); it != m.end(); ++it) {
      if (!it.value().is_number() || it.value().get<double>() <= 0)
        throw InputError(at + ": field 'region_multipliers." + it.key() + "' must be a positive number");
      e.region_multipliers[it.key()] = it.value().get<double>();
    }
  }
  if (j.contains("search_billing")) {
    if (!j["search_billing"].is_string() || (j["search_billing"] != "per_prompt" && j["search_billing"] != "per_query"))
      throw InputError(at + ": field 'search_billing' must be \"per_prompt\" or \"per_query\"");
    e.search_billed_per_prompt = j["search_billing"] == "per_prompt";
  }
  return e;
}

std::optional<std::pair<int, int>> parse_utc_window(const std::string& text) {
  auto dash = text.find('-');
  if (dash == std::string::npos) return std::nullopt;
  auto minute = [](std::string t) -> std::optional<int> {
    t = trim(t);
    auto colon = t.find(':');
    if (colon == std::string::npos) return std::nullopt;
    auto h = parse_int(t.substr(0, colon)), m = parse_int(t.substr(colon + 1));
    if (!h || !m || *h < 0 || *h > 24 || *m < 0 || *m > 59 || (*h == 24 && *m != 0)) return std::nullopt;
    return static_cast<int>((*h * 60 + *m) % 1440);
  };
  auto a = minute(text.substr(0, dash)), b = minute(text.substr(dash + 1));
  if (!a || !b) return std::nullopt;
  return std::make_pair(*a, *b);
}

bool in_window(const std::pair<int, int>& w, int minute) {
  if (w.first == w.second) return true;  // the whole day
  if (w.first < w.second) return minute >= w.first && minute < w.second;
  return minute >= w.first || minute < w.second;  // wraps past midnight
}

nlohmann::json to_json(const PriceEntry& e) {
  nlohmann::json j = rates_to_json(e.base);
  j["model"] = e.model;
  if (!e.provider.empty()) j["provider"] = e.provider;
  if (!e.aliases.empty()) j["aliases"] = e.aliases;
  j["effective_from"] = e.effective_from;
  if (!e.source.empty()) j["source"] = e.source;
  if (!e.tiers.empty()) {
    j["tiers"] = nlohmann::json::array();
    for (const auto& t : e.tiers) {
      auto tj = rates_to_json(t.rates);
      tj["above_input_tokens"] = t.above_input_tokens;
      j["tiers"].push_back(tj);
    }
  }
  for (const auto& [st, r] : e.service) j[to_string(st)] = rates_to_json(r);
  if (e.per_request_fee) j["per_request_fee"] = e.per_request_fee;
  if (e.per_search_fee) j["per_search_fee"] = e.per_search_fee;
  if (!e.search_fee_by_context.empty()) j["search_fee_by_context"] = e.search_fee_by_context;
  if (e.search_billed_per_prompt) j["search_billing"] = "per_prompt";
  if (!e.off_peak_windows.empty()) {
    nlohmann::json o = rates_to_json(e.off_peak);
    o["hours_utc"] = nlohmann::json::array();
    for (auto [a, b] : e.off_peak_windows) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%02d:%02d-%02d:%02d", a / 60, a % 60, b / 60, b % 60);
      o["hours_utc"].push_back(buf);
    }
    j["off_peak"] = o;
  }
  if (!e.region_multipliers.empty()) j["region_multipliers"] = e.region_multipliers;
  return j;
}

}  // namespace reckon
