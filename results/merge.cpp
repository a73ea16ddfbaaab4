#include "results/merge.h"

#include <filesystem>

#include "common/error.h"
#include "results/store.h"

namespace reckon {
namespace {

std::string columns_of(Database& db, const std::string& table, bool skip_id) {
  auto s = db.prepare("SELECT name FROM pragma_table_info(?)");
  s.bind(1, table);
  std::string cols;
  while (s.step()) {
    std::string c = s.text(0);
    if (skip_id && c == "id") continue;
    cols += (cols.empty() ? "" : ", ") + c;
  }
  return cols;
}

int64_t count(Database& db, const std::string& sql) {
  auto s = db.prepare(sql);
  s.step();
  return s.int64(0);
}

}  // namespace

MergeResult merge_stores(const std::string& out, const std::vector<std::string>& inputs) {
  namespace fs = std::filesystem;
  if (inputs.empty()) throw InputError("merge needs at least one input database");
  for (const auto& in : inputs) {
    if (fs::exists(out) && fs::exists(in) && fs::equivalent(out, in))
      throw InputError(in + ": the output database cannot also be an input");
    Store check(in, Store::Mode::kReadOnly);  // refuses missing, foreign, older or newer stores
  }
  Store dest(out, Store::Mode::kReadWrite);
  Database& db = dest.db();
  MergeResult res;
  // SQLite cannot ATTACH inside a transaction, so each input is one transaction; every input
  // was validated above, and a rerun after a failure adds only what is missing.
  for (const auto& in : inputs) {
    db.prepare("ATTACH DATABASE ? AS src").bind(1, in).run();
    Transaction tx(db);
    for (const char* t : {"campaigns", "runs", "models", "tasks", "items", "prices", "selections", "selection_items",
                          "item_features", "routers", "sweeps"}) {
      std::string cols = columns_of(db, t, false);
      db.exec(std::string("INSERT OR IGNORE INTO main.") + t + "(" + cols + ") SELECT " + cols + " FROM src." + t);
    }
    int64_t before = count(db, "SELECT COUNT(*) FROM main.requests");
    int64_t incoming = count(db, "SELECT COUNT(*) FROM src.requests");
    db.exec(
        "DELETE FROM main.requests WHERE status = 'error' AND fingerprint IN "
        "(SELECT fingerprint FROM src.requests WHERE status = 'ok')");
    int replaced = db.changes();
    std::string cols = columns_of(db, "requests", true);
    db.exec("INSERT OR IGNORE INTO main.requests(" + cols + ") SELECT " + cols + " FROM src.requests");
    db.exec(
        "INSERT OR IGNORE INTO main.scores(request_id, name, value, prediction, reference, is_primary) "
        "SELECT m.id, s.name, s.value, s.prediction, s.reference, s.is_primary FROM src.scores s "
        "JOIN src.requests r ON r.id = s.request_id JOIN main.requests m ON m.fingerprint = r.fingerprint");
    int64_t after = count(db, "SELECT COUNT(*) FROM main.requests");
    int64_t added = after - before + replaced;
    res.requests_added += static_cast<size_t>(added);
    res.requests_skipped += static_cast<size_t>(incoming - added);
    res.errors_replaced += static_cast<size_t>(replaced);
    tx.commit();
    db.exec("DETACH DATABASE src");
    ++res.inputs;
  }
  return res;
}

}  // namespace reckon
