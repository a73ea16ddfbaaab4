#include "common/usage.h"

#include "common/text.h"

namespace reckon {

std::string to_string(ServiceTier t) {
  switch (t) {
    case ServiceTier::kStandard: return "standard";
    case ServiceTier::kBatch: return "batch";
    case ServiceTier::kFlex: return "flex";
    case ServiceTier::kPriority: return "priority";
  }
  return "standard";
}

std::optional<ServiceTier> parse_service_tier(const std::string& raw) {
  std::string s = to_lower(trim(raw));
  if (s.empty() || s == "standard" || s == "default" || s == "auto" || s == "on_demand") return ServiceTier::kStandard;
  if (s == "batch" || s == "batches") return ServiceTier::kBatch;
  if (s == "flex") return ServiceTier::kFlex;
  if (s == "priority") return ServiceTier::kPriority;
  return std::nullopt;
}

}  // namespace reckon
