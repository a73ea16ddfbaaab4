#include "common/usage.h"

#include "common/text.h"

namespace reckon {

std::string to_string(ServiceTier t) {
  switch (t) {
    case ServiceTier::kStandard: return "standard";
    case ServiceTier::kBatch: return "batch";
    case ServiceTier::kFlex: return "flex";
    case ServiceTier::kPriority: return "priority";
    case ServiceTier::kFast: return "fast";
  }
  return "standard";
}

std::optional<ServiceTier> parse_service_tier(const std::string& raw) {
  std::string s = to_lower(trim(raw));
  if (s.empty() || s == "standard" || s == "default" || s == "auto" || s == "on_demand") return ServiceTier::kStandard;
  if (s == "batch" || s == "batches") return ServiceTier::kBatch;
  if (s == "flex") return ServiceTier::kFlex;
  if (s == "priority") return ServiceTier::kPriority;
  if (s == "fast") return ServiceTier::kFast;
  return std::nullopt;
}

std::optional<int> minute_of_day_utc(const std::string& iso) {
  if (iso.size() < 16 || (iso[10] != 'T' && iso[10] != ' ') || iso[13] != ':') return std::nullopt;
  auto h = parse_int(iso.substr(11, 2)), m = parse_int(iso.substr(14, 2));
  if (!h || !m || *h < 0 || *h > 23 || *m < 0 || *m > 59) return std::nullopt;
  return static_cast<int>(*h * 60 + *m);
}

std::optional<std::string> usage_inconsistency(const Usage& u) {
  if (!u.usage_complete) return std::nullopt;
  std::string note;
  if (u.cache_read_tokens + u.cache_write_tokens() > u.input_tokens)
    note = "cache reads and writes (" + std::to_string(u.cache_read_tokens + u.cache_write_tokens()) + ") exceed input tokens (" +
           std::to_string(u.input_tokens) + ")";
  if (u.reasoning_tokens && *u.reasoning_tokens > u.output_tokens)
    note += (note.empty() ? "" : "; ") + std::string("reasoning tokens (") + std::to_string(*u.reasoning_tokens) +
            ") exceed output tokens (" + std::to_string(u.output_tokens) + ")";
  if (note.empty()) return std::nullopt;
  return note;
}

}  // namespace reckon
