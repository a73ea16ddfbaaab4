#include "pricing/catalog.h"
#include "common/json_parse.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/error.h"
#include "common/text.h"

namespace reckon {
namespace embedded {
extern const std::string_view default_price_catalog;
}

PriceCatalog PriceCatalog::builtin() {
  static const PriceCatalog catalog =
      from_json_text(std::string(embedded::default_price_catalog), "built-in price catalog");
  return catalog;
}

PriceCatalog PriceCatalog::from_json_text(const std::string& text, const std::string& where) {
  nlohmann::json j;
  try {
    j = parse_json(text);
  } catch (const nlohmann::json::exception& e) {
    throw InputError(where + ": not valid JSON (" + e.what() + ")");
  }
  if (!j.is_object() || !j.contains("entries") || !j["entries"].is_array())
    throw InputError(where + ": expected an object with an 'entries' array");
  PriceCatalog c;
  size_t i = 0;
  for (const auto& ej : j["entries"]) c.add(price_entry_from_json(ej, where + " entries[" + std::to_string(i++) + "]"));
  return c;
}

PriceCatalog PriceCatalog::from_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw InputError(path + ": cannot open price catalog");
  std::stringstream ss;
  ss << in.rdbuf();
  return from_json_text(ss.str(), path);
}

void PriceCatalog::add(PriceEntry e) {
  for (auto& existing : entries_) {
    if (existing.id() == e.id()) {
      existing = std::move(e);
      return;
    }
  }
  entries_.push_back(std::move(e));
}

void PriceCatalog::add_all(const PriceCatalog& other) {
  for (const auto& e : other.entries_) add(e);
}

PriceCatalog::Lookup PriceCatalog::lookup(const std::string& model, const std::string& date) const {
  Lookup out;
  std::string want = to_lower(trim(model));
  out.tried = {want};
  if (auto colon = want.find(':'); colon != std::string::npos) {
    out.tried.push_back(want.substr(0, colon) + "/" + want.substr(colon + 1));
    out.tried.push_back(want.substr(colon + 1));
  }
  // The full name first, then provider/model, then the bare model (as LiteLLM writes its keys); exact model
  // names beat aliases; within a match kind, the newest entry in force wins.
  for (bool by_alias : {false, true}) {
    for (const auto& name : out.tried) {
      const PriceEntry* best = nullptr;
      for (const auto& e : entries_) {
        if (e.effective_from > date) continue;
        bool match = false;
        if (!by_alias) {
          match = to_lower(e.model) == name;
        } else {
          for (const auto& a : e.aliases) match = match || to_lower(a) == name;
        }
        if (match && (!best || e.effective_from > best->effective_from)) best = &e;
      }
      if (best) {
        out.entry = best;
        out.matched = name;
        return out;
      }
    }
  }
  return out;
}

const PriceEntry* PriceCatalog::find(const std::string& model, const std::string& date) const {
  return lookup(model, date).entry;
}

const PriceEntry* PriceCatalog::find_by_id(const std::string& id) const {
  for (const auto& e : entries_)
    if (e.id() == id) return &e;
  return nullptr;
}

std::string PriceCatalog::to_json_text() const {
  nlohmann::json j;
  j["entries"] = nlohmann::json::array();
  for (const auto& e : entries_) j["entries"].push_back(to_json(e));
  return j.dump(2);
}

}  // namespace reckon
