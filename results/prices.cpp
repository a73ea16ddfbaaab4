#include "results/prices.h"

#include <filesystem>

#include "results/store.h"

namespace reckon {

PriceCatalog load_prices(const PriceSources& sources) {
  PriceCatalog c = PriceCatalog::builtin();
  // A store another process is creating this moment (version 0, tables on their way) has no prices yet.
  if (!sources.db.empty() && std::filesystem::exists(sources.db) && Database(sources.db, true).user_version() > 0) {
    Store s(sources.db, Store::Mode::kReadOnly);
    c.add_all(s.stored_prices());
  }
  for (const auto& f : sources.files) c.add_all(PriceCatalog::from_file(f));
  return c;
}

PriceCatalog load_prices(Store& store, const std::vector<std::string>& files) {
  PriceCatalog c = store.catalog();
  for (const auto& f : files) c.add_all(PriceCatalog::from_file(f));
  return c;
}

std::string unpriced_advice(const std::string& model, const std::string& date, const PriceCatalog::Lookup& lookup,
                            const PriceSources& sources, bool in_campaign) {
  std::string tried;
  for (const auto& n : lookup.tried) tried += (tried.empty() ? "'" : ", '") + n + "'";
  std::string where = "the built-in catalog";
  if (!sources.db.empty()) where += ", the store " + sources.db;
  for (const auto& f : sources.files) where += ", " + f;
  const std::string db = sources.db.empty() ? "STORE.db" : sources.db;
  const std::string bare = lookup.tried.back();
  return "no price for '" + model + "' in force on " + date + " (tried " + tried + " in " + where +
         "); add one with `reckon price import --db " + db + " --litellm FILE` (a LiteLLM-style JSON with an entry '" + bare +
         "'), or " + (in_campaign ? "name a reckon catalog with \"prices\": FILE in the campaign or --catalog FILE, or set \"allow_unpriced\": true"
                              : "pass a reckon catalog with --catalog FILE");
}

}  // namespace reckon
