#pragma once
// The one price resolution every command uses (campaigns, eval, call, import, price quote/show/list):
// the built-in catalog, then the entries imported into the store, then catalog files (a campaign's
// "prices", --catalog), later sources replacing an entry with the same id; a lookup then takes the
// latest entry in force by effective date, by the full name before the bare model name.
#include <string>
#include <vector>

#include "pricing/catalog.h"

namespace reckon {

struct PriceSources {
  std::string db;                  // a store whose imported prices count ("" or missing file: none)
  std::vector<std::string> files;  // reckon JSON catalogs, in order
};

PriceCatalog load_prices(const PriceSources& sources);
// The same with the store already open (imports).
class Store;
PriceCatalog load_prices(Store& store, const std::vector<std::string>& files);

// Why nothing priced `model` on `date`: the names tried, where, and the commands that add a price.
// `in_campaign`: the fixes a campaign file offers ("prices", "allow_unpriced") besides the commands'.
std::string unpriced_advice(const std::string& model, const std::string& date, const PriceCatalog::Lookup& lookup,
                            const PriceSources& sources, bool in_campaign = false);

}  // namespace reckon
