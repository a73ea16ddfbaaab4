#pragma once
// The results store: one SQLite file (WAL), versioned schema, request rows with usage and cost.
#include <memory>
#include <optional>
#include <string>

#include "common/usage.h"
#include "pricing/catalog.h"
#include "pricing/cost.h"
#include "results/sqlite.h"

namespace reckon {

// One request as stored (attempt-final). Fields mirror the `requests` table.
struct RequestRecord {
  std::string fingerprint;  // the cell's identity in its run; unique in a store
  std::optional<std::string> request_key;  // SHA-256 of canonical request + repeat (the response cache key)
  bool cache_hit = false;
  std::string run_id, model, task, item_id;
  int64_t repeat = 0;
  std::optional<std::string> step;
  bool ok = true;
  int64_t attempts = 1;
  std::optional<int64_t> http_status;
  std::optional<std::string> error_class, error;
  std::string created_at;  // ISO 8601 UTC; its date picks the price entry in force
  std::optional<double> latency_ms, ttft_ms;
  Usage usage;
  CostBreakdown cost;
  std::optional<std::string> finish_reason, prompt, response, raw_usage;
  std::optional<std::string> route;  // a routed model's decision (JSON: router, candidate, escalation)
  // The primary score, when the request was scored.
  std::optional<double> score;
  std::optional<std::string> prediction, reference;
  std::string scorer = "score";
};

class Store {
 public:
  enum class Mode { kReadWrite, kReadOnly };
  // Opens or creates the store. Read-write applies pending migrations; a store written by a
  // newer reckon is refused with a message saying so. Read-only requires an existing,
  // current store.
  Store(const std::string& path, Mode mode);

  Database& db() { return *db_; }
  const std::string& path() const { return db_->path(); }

  void add_run(const std::string& id, const std::string& kind, const std::string& source,
               const std::optional<std::string>& campaign = std::nullopt);
  void finish_run(const std::string& id);
  void upsert_model(const std::string& name, const std::string& provider = "");
  void upsert_task(const std::string& name);
  void upsert_item(const std::string& task, const std::string& item_id, const std::optional<std::string>& prompt,
                   const std::optional<std::string>& reference, const std::optional<std::string>& metadata_json = std::nullopt);
  // Records the entry in the store's `prices` table so a request's price_entry_id resolves here.
  void upsert_price(const PriceEntry& e);
  // Inserts unless a request with the same fingerprint is stored; returns true when inserted.
  bool insert_request(const RequestRecord& r);
  // Replaces the row with the same fingerprint (a retried cell), or inserts.
  void replace_request(const RequestRecord& r);

  // Prices in the store (imported with `reckon price import`, or used by stored requests).
  PriceCatalog stored_prices();
  // The catalog to price with: built-in entries, overridden by the store's own.
  PriceCatalog catalog();

 private:
  std::unique_ptr<Database> db_;
  std::unique_ptr<Statement> insert_request_, insert_score_;
};

}  // namespace reckon
