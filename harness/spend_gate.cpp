#include "harness/spend_gate.h"

#include <algorithm>

namespace reckon {

bool SpendGate::admit(const void* tag, double estimate, double spent) {
  if (!cap_) return true;  // nothing to estimate against
  const double need = spent + in_flight_ + estimate;
  if (need > *cap_) {
    reached_ = true;
    return false;
  }
  // Other runners share the cap: budget is reserved in the store, a few calls' worth at a time.
  if (claims_ && need > reserved_) {
    const double shortfall = need - reserved_, chunk = std::min(std::max(shortfall, 8 * estimate), *cap_ - reserved_);
    if (claims_->reserve(store_, chunk, *cap_)) {
      reserved_ += chunk;
    } else if (chunk > shortfall && claims_->reserve(store_, shortfall, *cap_)) {
      reserved_ += shortfall;
    } else {
      reached_ = true;
      return false;
    }
  }
  if (tag) estimates_.emplace(tag, estimate);
  in_flight_ += estimate;
  return true;
}

void SpendGate::landed(const void* tag) {
  auto it = estimates_.find(tag);
  if (it == estimates_.end()) return;
  in_flight_ -= it->second;
  estimates_.erase(it);
}

}  // namespace reckon
