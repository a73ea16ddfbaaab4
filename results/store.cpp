#include "results/store.h"

#include <sqlite3.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <iostream>
#include <optional>
#include <thread>
#include <type_traits>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/text.h"
#include "results/schema.h"

namespace reckon {

namespace {
// A 16 MB page cache (SQLite's default is 2 MB): see the constructor.
constexpr const char* kUsualCache = "PRAGMA cache_size=-16384";
// The busy handler gives up after ~10 s (sqlite.cpp), and another process upgrading a large store holds
// the write lock about that long per million requests: a store still to be upgraded waits for it (saying so
// once) up to this long before the "database is locked" error is its answer.
constexpr auto kUpgradeWait = std::chrono::minutes(10);

// Runs `step` again while the store answers SQLITE_BUSY (5 ms apart), up to `limit`; `waiting` is called
// once, before the first retry.
template <class Step>
void retry_while_busy(Database& db, std::chrono::milliseconds limit, Step step, const std::function<void()>& waiting = {}) {
  const auto start = std::chrono::steady_clock::now();
  for (bool first = true;; first = false) {
    try {
      step();
      return;
    } catch (const InputError&) {
      if ((sqlite3_extended_errcode(db.handle()) & 0xff) != SQLITE_BUSY || std::chrono::steady_clock::now() - start > limit) throw;
      if (first && waiting) waiting();
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
}
}  // namespace

Store::Store(const std::string& path, Mode mode) {
  bool read_only = mode == Mode::kReadOnly;
  if (read_only && !std::filesystem::exists(path)) throw InputError(path + ": no such database");
  db_ = std::make_unique<Database>(path, read_only);
  register_key_function(db_->handle());  // the migration to 32-byte keys uses it
  int64_t version = db_->user_version();
  if (version > schema_version())
    throw InputError(path + ": written by a newer reckon (schema version " + std::to_string(version) +
                     "; this reckon knows up to " + std::to_string(schema_version()) + "). Upgrade reckon to read it.");
  if (read_only) {
    if (version < schema_version())
      throw InputError(path + ": schema version " + std::to_string(version) +
                       " is older than this reckon's; open it once for writing (e.g. `reckon import`) to migrate");
    return;
  }
  // A 16 MB page cache (SQLite's default is 2 MB): the request indexes are keyed by hashes, so
  // each batch touches pages all over them, and a small cache reads them back from the OS.
  // Switching a new file to WAL takes an exclusive lock, and SQLite answers SQLITE_BUSY at once (no busy
  // handler) while another process does the same: wait for it here, up to about 10 s.
  retry_while_busy(*db_, std::chrono::seconds(10), [&] { db_->exec("PRAGMA journal_mode=WAL"); });
  db_->exec(std::string("PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; ") + kUsualCache);
  if (version < schema_version()) {
    // Migrations run under the write lock, and the version is read again once it is held: several
    // processes opening a new or older store at once migrate it once (the others wait, then find it done).
    std::optional<Transaction> tx;
    retry_while_busy(
        *db_, kUpgradeWait,
        [&] {
          if (!sqlite3_get_autocommit(db_->handle())) db_->exec("ROLLBACK");  // a failed BEGIN left half-open
          tx.emplace(*db_);
        },
        [&] { std::cerr << path << ": another process holds this store's write lock (upgrading it, or writing); waiting for it\n"; });
    const int64_t current = db_->user_version();
    if (current == 0) {  // a new file, or someone else's database: never migrate the latter into a store
      auto q = db_->prepare("SELECT COUNT(*) FROM sqlite_master WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite_%'");
      q.step();
      if (q.int64(0) > 0)
        throw InputError(path + ": a SQLite database that is not a reckon store (it has tables of its own); nothing was changed");
    }
    if (current > 0 && current < schema_version()) {
      // A large store's upgrade rewrites its rows (schema 9: every key): say so rather than sit silent, and
      // give it a 64 MB page cache (1,000,000 requests: 14.7 s → 10.9 s), the usual size back after.
      auto rows = db_->prepare("SELECT IFNULL(MAX(id), 0) FROM requests");
      if (rows.step() && rows.int64(0) > 100000)
        std::cerr << path << ": upgrading the store from schema " << current << " to " << schema_version() << " (about "
                  << rows.int64(0) << " requests; once)\n";
      db_->exec("PRAGMA cache_size=-65536");
    }
    for (int64_t v = current; v < schema_version(); ++v) {
      db_->exec(migrations()[static_cast<size_t>(v)]);
      db_->exec("PRAGMA user_version = " + std::to_string(v + 1));
    }
    tx->commit();
    db_->exec(kUsualCache);
  }
}

void Store::add_run(const std::string& id, const std::string& kind, const std::string& source,
                    const std::optional<std::string>& campaign) {
  db_->cached(
         "INSERT INTO runs(id, campaign, kind, source, started_at, reckon_version) VALUES(?,?,?,?,?,?) "
         "ON CONFLICT(id) DO NOTHING")
      .bind(1, id)
      .bind(2, campaign)
      .bind(3, kind)
      .bind(4, source)
      .bind(5, now_utc_iso())
      .bind(6, std::string(RECKON_VERSION))
      .run();
}

void Store::finish_run(const std::string& id) {
  db_->cached("UPDATE runs SET finished_at = ? WHERE id = ?").bind(1, now_utc_iso()).bind(2, id).run();
}

void Store::upsert_model(const std::string& name, const std::string& provider) {
  db_->cached("INSERT INTO models(name, provider) VALUES(?, ?) ON CONFLICT(name) DO NOTHING")
      .bind(1, name)
      .bind(2, provider)
      .run();
}

void Store::upsert_task(const std::string& name) {
  db_->cached("INSERT INTO tasks(name) VALUES(?) ON CONFLICT(name) DO NOTHING").bind(1, name).run();
}

void Store::upsert_item(const std::string& task, const std::string& item_id, const std::optional<std::string>& prompt,
                        const std::optional<std::string>& reference, const std::optional<std::string>& metadata_json) {
  db_->cached(
         "INSERT INTO items(task, item_id, prompt, reference, metadata) VALUES(?,?,?,?,?) ON CONFLICT(task, item_id) DO UPDATE "
         "SET prompt = COALESCE(items.prompt, excluded.prompt), reference = COALESCE(items.reference, excluded.reference), "
         "metadata = COALESCE(items.metadata, excluded.metadata)")
      .bind(1, task)
      .bind(2, item_id)
      .bind(3, prompt)
      .bind(4, reference)
      .bind(5, metadata_json)
      .run();
}

void Store::upsert_price(const PriceEntry& e) {
  db_->cached(
         "INSERT INTO prices(id, model, provider, effective_from, listed_price, source, entry) VALUES(?,?,?,?,?,?,?) "
         "ON CONFLICT(id) DO UPDATE SET provider=excluded.provider, listed_price=excluded.listed_price, "
         "source=excluded.source, entry=excluded.entry")
      .bind(1, e.id())
      .bind(2, e.model)
      .bind(3, e.provider)
      .bind(4, e.effective_from)
      .bind(5, e.listed_price())
      .bind(6, e.source)
      .bind(7, to_json(e).dump())
      .run();
}

bool Store::insert_request(const RequestRecord& r) {
  if (!insert_request_) {
    insert_request_ = std::make_unique<Statement>(db_->handle(), R"sql(
INSERT INTO requests(fingerprint, run_id, model, task, item_id, repeat, step, status, attempts, http_status,
  error_class, error, created_at, latency_ms, ttft_ms, input_tokens, cache_read_tokens, cache_write_5m_tokens,
  cache_write_1h_tokens, output_tokens, reasoning_tokens, search_requests, usage_complete, service_tier,
  cost_usd, cost_input_usd, cost_cache_read_usd, cost_cache_write_usd, cost_output_usd, cost_reasoning_usd,
  cost_fees_usd, provider_cost_usd, price_entry_id, finish_reason, prompt, response, raw_usage, request_key, cache_hit, route,
  usage_note)
VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)
ON CONFLICT(fingerprint) DO NOTHING)sql");
    insert_score_ = std::make_unique<Statement>(
        db_->handle(),
        "INSERT INTO scores(request_id, name, value, prediction, reference, is_primary) VALUES(?,?,?,?,?,1)");
  }
  Statement& s = *insert_request_;
  s.reset();
  const Usage& u = r.usage;
  const bool priced = r.cost.total_usd.has_value();
  auto part = [&](double v) { return priced ? std::optional<double>(v) : std::nullopt; };
  // Texts are bound in place, not copied: each is a member of `r` or one of these locals, all alive until
  // s.run() below. (A temporary passed to put() would not be: name it here first.)
  const std::string status = r.ok ? "ok" : "error";
  const std::string tier = to_string(u.service_tier);
  const std::optional<std::string> price_entry =
      r.cost.price_entry_id.empty() ? std::nullopt : std::optional<std::string>(r.cost.price_entry_id);
  const std::optional<std::string> note = usage_inconsistency(u);
  int i = 1;
  auto put = [&](const auto& v) {
    using V = std::decay_t<decltype(v)>;
    if constexpr (std::is_same_v<V, std::string> || std::is_same_v<V, std::optional<std::string>>) s.bind_in_place(i++, v);
    else s.bind(i++, v);
  };
  auto null = [&] { s.bind_null(i++); };
  auto key = [&](const auto& k) { s.bind_key(i++, k); };
  key(r.fingerprint), put(r.run_id), put(r.model), put(r.task), put(r.item_id);
  put(r.repeat), put(r.step), put(status), put(r.attempts);
  put(r.http_status), put(r.error_class), put(r.error), put(r.created_at), put(r.latency_ms), put(r.ttft_ms);
  if (u.usage_complete) {
    put(u.input_tokens), put(u.cache_read_tokens), put(u.cache_write_5m_tokens), put(u.cache_write_1h_tokens);
    put(u.output_tokens), put(u.reasoning_tokens), put(u.search_requests);
  } else {
    for (int k = 0; k < 7; ++k) null();
  }
  put(static_cast<int64_t>(u.usage_complete)), put(tier);
  put(r.cost.total_usd), put(part(r.cost.input_usd)), put(part(r.cost.cache_read_usd));
  put(part(r.cost.cache_write_usd)), put(part(r.cost.output_usd)), put(part(r.cost.reasoning_usd));
  put(part(r.cost.fees_usd)), put(u.provider_cost_usd);
  put(price_entry);
  put(r.finish_reason), put(r.prompt), put(r.response), put(r.raw_usage);
  key(r.request_key), put(static_cast<int64_t>(r.cache_hit)), put(r.route);
  put(note);
  s.run();
  if (db_->changes() == 0) return false;
  if (r.score || r.prediction) {
    insert_score_->reset();
    insert_score_->bind(1, db_->last_insert_rowid())
        .bind(2, r.scorer)
        .bind(3, r.score)
        .bind(4, r.prediction)
        .bind(5, r.reference)
        .run();
  }
  return true;
}

void Store::replace_request(const RequestRecord& r) {
  if (insert_request(r)) return;  // the usual case: no earlier row to replace
  db_->cached("DELETE FROM requests WHERE fingerprint = ?").bind_key(1, r.fingerprint).run();
  insert_request(r);
}

PriceCatalog Store::stored_prices() {
  PriceCatalog c;
  auto s = db_->prepare("SELECT id, entry FROM prices ORDER BY id");
  while (s.step()) {
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(s.text(1));
    } catch (const nlohmann::json::exception&) {
      throw InputError(path() + ": prices row '" + s.text(0) + "' holds invalid JSON");
    }
    c.add(price_entry_from_json(j, path() + ": prices row '" + s.text(0) + "'"));
  }
  return c;
}

PriceCatalog Store::catalog() {
  PriceCatalog c = PriceCatalog::builtin();
  c.add_all(stored_prices());
  return c;
}

}  // namespace reckon
