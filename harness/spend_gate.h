#pragma once
// The spend cap, on real cost as it accrues, with the calls in flight counted at their estimate.
// Runners of one campaign share the cap: each reserves budget in the store a few calls' worth at a
// time (claims.h), so together they stay under it.
#include <optional>
#include <unordered_map>

#include "harness/claims.h"
#include "results/store.h"

namespace reckon {

class SpendGate {
 public:
  // No cap: every call goes. `claims` null: this runner is alone.
  SpendGate(std::optional<double> cap, CampaignClaims* claims, Store& store) : cap_(cap), claims_(claims), store_(store) {}
  bool capped() const { return cap_.has_value(); }
  // Whether a call estimated at `estimate` may go when `spent` is already paid; if so it is in flight
  // (under `tag`) until landed(tag). Once a call is refused, reached() says so.
  bool admit(const void* tag, double estimate, double spent);
  // A call of `tag` ended (answered or not): its estimate is no longer in flight.
  void landed(const void* tag);
  bool reached() const { return reached_; }
  double in_flight() const { return in_flight_; }

 private:
  std::optional<double> cap_;
  CampaignClaims* claims_;
  Store& store_;
  double in_flight_ = 0;
  double reserved_ = 0;  // this runner's part of a cap the runners share
  std::unordered_multimap<const void*, double> estimates_;
  bool reached_ = false;
};

}  // namespace reckon
