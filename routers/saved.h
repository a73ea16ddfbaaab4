#pragma once
// Trained routers in a store's `routers` table: saved by `route train`, loaded by `route eval /
// apply` and by campaigns that name a routed model (router:NAME).
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "results/store.h"
#include "routers/router.h"

namespace reckon {

struct SavedRouter {
  std::unique_ptr<Router> router;
  nlohmann::json params;  // the router's params plus its source, held-out judgement and curve
  std::vector<std::string> candidates() const { return params["candidates"].get<std::vector<std::string>>(); }
  std::vector<double> costs() const { return params["costs"].get<std::vector<double>>(); }
};

void save_router(Store& store, const std::string& name, const std::string& kind, const Router& router, const nlohmann::json& params);
// InputError naming the store when there is no such router or it is damaged.
SavedRouter load_saved_router(Store& store, const std::string& name);

}  // namespace reckon
