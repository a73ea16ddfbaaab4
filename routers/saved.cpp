#include "routers/saved.h"

#include "common/error.h"
#include "common/text.h"

namespace reckon {

void save_router(Store& store, const std::string& name, const std::string& kind, const Router& router, const nlohmann::json& params) {
  auto q = store.db().prepare("INSERT OR REPLACE INTO routers(name, kind, params, model, created_at) VALUES (?1, ?2, ?3, ?4, ?5)");
  q.bind(1, name).bind(2, kind).bind(3, params.dump()).bind_blob(4, router.model_blob()).bind(5, now_utc_iso());
  q.run();
}

SavedRouter load_saved_router(Store& store, const std::string& name) {
  auto q = store.db().prepare("SELECT kind, params, model FROM routers WHERE name = ?1");
  q.bind(1, name);
  if (!q.step()) throw InputError(store.path() + ": no router named '" + name + "'");
  SavedRouter r;
  r.params = nlohmann::json::parse(q.text(1), nullptr, false);
  if (r.params.is_discarded() || !r.params.contains("candidates") || !r.params.contains("source"))
    throw InputError(store.path() + ": router '" + name + "' is damaged");
  r.router = find_router(q.text(0)).load(r.params, q.blob(2));
  return r;
}

}  // namespace reckon
