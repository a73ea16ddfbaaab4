// `reckon price list|show|quote|import`.
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/table.h"
#include "common/text.h"
#include "harness/commands.h"
#include "pricing/catalog_import.h"
#include "pricing/cost.h"
#include "results/prices.h"
#include "results/store.h"

namespace reckon {
namespace {

struct CatalogArgs {
  std::string db, catalog, date;
  void add_to(CLI::App* app) {
    app->add_option("--db", db, "Also use the prices stored in this store");
    app->add_option("--catalog", catalog, "Also use this price catalog (reckon JSON)");
  }
  PriceSources sources() const { return {db, catalog.empty() ? std::vector<std::string>{} : std::vector<std::string>{catalog}}; }
  PriceCatalog load() const {
    if (!db.empty() && !std::filesystem::exists(db)) throw InputError(db + ": no such store");
    return load_prices(sources());
  }
  const PriceEntry& find(const PriceCatalog& c, const std::string& model) const {
    std::string d = date.empty() ? today_utc() : date;
    const auto found = c.lookup(model, d);
    if (!found.entry) throw InputError(unpriced_advice(model, d, found, sources()));
    if (found.matched != to_lower(trim(model))) std::cerr << "priced as '" << found.matched << "' (" << found.entry->id() << ")\n";
    return *found.entry;
  }
};

std::string rate(const std::optional<double>& v) { return v ? fmt_fixed(*v, 4) : "-"; }

}  // namespace

Action define_price(CLI::App& sub) {
  sub.require_subcommand(1);
  auto args = std::make_shared<CatalogArgs>();

  auto* list = sub.add_subcommand("list", "List the catalog's entries");
  args->add_to(list);
  auto list_json = std::make_shared<bool>(false);
  list->add_flag("--json", *list_json, "Print the catalog as reckon JSON");

  auto* show = sub.add_subcommand("show", "Show the entry in force for a model");
  args->add_to(show);
  auto model = std::make_shared<std::string>();
  show->add_option("model", *model, "Model name (provider:model also works)")->required();
  show->add_option("--date", args->date, "Date the price must be in force (YYYY-MM-DD; default today)");

  auto* quote = sub.add_subcommand("quote", "Price one request's usage");
  args->add_to(quote);
  auto usage = std::make_shared<Usage>();
  auto reasoning = std::make_shared<int64_t>(-1);
  auto tier = std::make_shared<std::string>("standard");
  auto quote_json = std::make_shared<bool>(false);
  quote->add_option("model", *model, "Model name")->required();
  quote->add_option("--input", usage->input_tokens, "Prompt tokens, cached ones included")->required();
  quote->add_option("--output", usage->output_tokens, "Output tokens, thinking included")->required();
  quote->add_option("--reasoning", *reasoning, "Thinking tokens (part of --output)");
  quote->add_option("--cache-read", usage->cache_read_tokens, "Prompt tokens read from a cache");
  quote->add_option("--cache-write", usage->cache_write_5m_tokens, "Prompt tokens written to a 5-minute cache");
  quote->add_option("--cache-write-1h", usage->cache_write_1h_tokens, "Prompt tokens written to a 1-hour cache");
  quote->add_option("--searches", usage->search_requests, "Billed searches");
  quote->add_option("--tier", *tier, "standard | batch | flex | priority | fast");
  quote->add_option("--date", args->date, "Date the price must be in force (default today)");
  quote->add_flag("--json", *quote_json, "Print JSON");

  auto* import = sub.add_subcommand("import", "Import a published price table into a store's catalog");
  auto import_db = std::make_shared<std::string>();
  auto litellm = std::make_shared<std::string>();
  auto model_info = std::make_shared<std::string>();
  auto effective = std::make_shared<std::string>();
  import->add_option("--db", *import_db, "Store whose catalog receives the entries")->required();
  auto* lopt = import->add_option("--litellm", *litellm, "LiteLLM model_prices_and_context_window.json");
  auto* mopt = import->add_option("--model-info", *model_info, "price-reversal constant/model_info.json");
  lopt->excludes(mopt);
  import->add_option("--effective-from", *effective, "Date the LiteLLM prices are in force from (default today)");

  return [=]() -> int {
    if (list->parsed()) {
      PriceCatalog c = args->load();
      if (*list_json) {
        std::cout << c.to_json_text() << "\n";
        return kExitOk;
      }
      TextTable t({"model", "provider", "from", "input", "cached", "output", "listed", "tiers", "service"});
      for (const auto& e : c.entries()) {
        std::string svc;
        for (const auto& [st, _] : e.service) svc += (svc.empty() ? "" : ",") + to_string(st);
        t.add({e.model, e.provider, e.effective_from, rate(e.base.input), rate(e.base.cached_input), rate(e.base.output),
               fmt_fixed(e.listed_price(), 4), std::to_string(e.tiers.size()), svc});
      }
      std::cout << t.render(3) << "(USD per million tokens; listed = input + output)\n";
      return kExitOk;
    }
    if (show->parsed()) {
      PriceCatalog c = args->load();
      const PriceEntry& e = args->find(c, *model);
      std::cout << "entry " << e.id() << "  listed price $" << fmt_fixed(e.listed_price(), 4) << "/MTok\n"
                << to_json(e).dump(2) << "\n";
      return kExitOk;
    }
    if (quote->parsed()) {
      PriceCatalog c = args->load();
      const PriceEntry& e = args->find(c, *model);
      if (*reasoning >= 0) usage->reasoning_tokens = *reasoning;
      auto st = parse_service_tier(*tier);
      if (!st) throw InputError("--tier must be standard, batch, flex, priority or fast");
      usage->service_tier = *st;
      CostBreakdown b = cost(*usage, e);
      if (*quote_json) {
        std::cout << nlohmann::json{{"price_entry_id", b.price_entry_id}, {"input_usd", b.input_usd},
                                    {"cache_read_usd", b.cache_read_usd}, {"cache_write_usd", b.cache_write_usd},
                                    {"output_usd", b.output_usd}, {"reasoning_usd", b.reasoning_usd},
                                    {"fees_usd", b.fees_usd}, {"total_usd", *b.total_usd},
                                    {"long_context_tier", b.long_context_tier}}
                         .dump(2)
                  << "\n";
        return kExitOk;
      }
      TextTable t({"part", "USD"});
      t.add({"uncached input", fmt_usd(b.input_usd)});
      t.add({"cache read", fmt_usd(b.cache_read_usd)});
      t.add({"cache write", fmt_usd(b.cache_write_usd)});
      t.add({"visible output", fmt_usd(b.output_usd)});
      t.add({usage->reasoning_tokens ? "thinking" : "thinking (unknown: inside output)", fmt_usd(b.reasoning_usd)});
      t.add({"fees", fmt_usd(b.fees_usd)});
      t.add({"total", fmt_usd(*b.total_usd)});
      std::cout << "priced with " << b.price_entry_id << (b.long_context_tier ? " (long-context tier)" : "") << "\n"
                << t.render(1);
      return kExitOk;
    }
    // import
    if (litellm->empty() && model_info->empty()) throw InputError("price import needs --litellm FILE or --model-info FILE");
    PriceCatalog c = litellm->empty() ? import_model_info(*model_info)
                                      : import_litellm(*litellm, effective->empty() ? today_utc() : *effective);
    Store store(*import_db, Store::Mode::kReadWrite);
    Transaction tx(store.db());
    for (const auto& e : c.entries()) store.upsert_price(e);
    tx.commit();
    std::cout << "imported " << c.entries().size() << " price entries into " << *import_db << "\n";
    return kExitOk;
  };
}

}  // namespace reckon
