#pragma once
// A price catalog: effective-dated entries looked up by model name and date.
#include <optional>
#include <string>
#include <vector>

#include "pricing/price_entry.h"

namespace reckon {

class PriceCatalog {
 public:
  // The catalog compiled into reckon (data/prices.json).
  static PriceCatalog builtin();
  // reckon's JSON format: {"entries": [ ... ]}. `where` names the file in errors.
  static PriceCatalog from_json_text(const std::string& text, const std::string& where);
  static PriceCatalog from_file(const std::string& path);

  // Adds an entry; an entry with the same id replaces the earlier one (later sources win).
  void add(PriceEntry e);
  void add_all(const PriceCatalog& other);

  // The entry in force for `model` on `date` (YYYY-MM-DD): the latest effective_from <= date
  // among entries whose name or alias matches. Names match case-insensitively; a
  // "provider:" prefix is tried as "provider/model" and then without the provider.
  const PriceEntry* find(const std::string& model, const std::string& date) const;
  // The same search, saying how: the name that matched, and every name tried in order.
  struct Lookup {
    const PriceEntry* entry = nullptr;
    std::string matched;             // the name (or alias) the entry answered to
    std::vector<std::string> tried;  // "vllm:my-model", "vllm/my-model", "my-model"
  };
  Lookup lookup(const std::string& model, const std::string& date) const;
  const PriceEntry* find_by_id(const std::string& id) const;

  const std::vector<PriceEntry>& entries() const { return entries_; }
  std::string to_json_text() const;

 private:
  std::vector<PriceEntry> entries_;
};

}  // namespace reckon
