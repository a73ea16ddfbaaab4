#include "results/import.h"
#include "results/prices.h"
#include "common/json_parse.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <nlohmann/json.hpp>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "common/csv.h"
#include "common/error.h"
#include "common/sha256.h"
#include "common/text.h"

namespace fs = std::filesystem;

namespace reckon {

namespace {

// The columns an import understands, by place: a row's fields are asked for by index, so a CSV file's
// header is resolved once, not once a row. kColumnNames spells them in the same order.
enum Col : size_t {
  kModel, kTask, kItemId,  // required
  kRepeat, kInputTokens, kCacheReadTokens, kCacheWriteTokens, kCacheWrite1hTokens, kOutputTokens,
  kReasoningTokens, kScore, kLatencyMs, kTtftMs, kFinishReason, kProviderCostUsd, kPrompt, kResponse,
  kPrediction, kReference, kStatus, kError, kServiceTier, kCreatedAt, kColumnCount
};
constexpr const char* kColumnNames[] = {
    "model", "task", "item_id",
    "repeat", "input_tokens", "cache_read_tokens", "cache_write_tokens", "cache_write_1h_tokens", "output_tokens",
    "reasoning_tokens", "score", "latency_ms", "ttft_ms", "finish_reason", "provider_cost_usd", "prompt", "response",
    "prediction", "reference", "status", "error", "service_tier", "created_at"};
static_assert(std::size(kColumnNames) == kColumnCount, "a name for every column");

}  // namespace

const std::vector<std::string>& import_columns() {
  static const std::vector<std::string> cols(std::begin(kColumnNames), std::end(kColumnNames));
  return cols;
}

namespace {

// One input row, whatever the file format: column -> text (nullopt when absent or null).
using FieldGetter = std::function<std::optional<std::string>(Col)>;

class RowImporter {
 public:
  RowImporter(Store& store, const ImportOptions& opts, std::string run_id, size_t expected_rows)
      : store_(store), opts_(opts), run_id_(std::move(run_id)), catalog_(load_prices(store, opts.catalogs)) {
    for (const auto& col : import_columns()) {
      auto it = opts.rename.find(col);
      source_.push_back(it == opts.rename.end() ? col : it->second);
    }
    inserted_.reserve(expected_rows);
  }

  ImportResult& result() { return result_; }
  // The file's name for a column (after --map).
  const std::string& source(Col c) const { return source_[c]; }

  // `where` is "file:line". Throws InputError naming the field.
  void add(const FieldGetter& raw, const std::string& where, const std::optional<std::string>& raw_usage = {}) {
    auto get = [&](Col col) -> std::optional<std::string> {
      auto v = raw(col);
      if (!v) return v;
      if (std::all_of(v->begin(), v->end(), [](unsigned char ch) { return std::isspace(ch); })) return std::nullopt;
      if (auto bad = invalid_utf8_at(*v))
        throw InputError(where + ": field '" + name(col) + "' is not valid UTF-8 (byte " + std::to_string(*bad + 1) +
                         " of the field)");
      if (v->find('\0') != std::string::npos) throw InputError(where + ": field '" + name(col) + "' holds a NUL byte");
      return v;
    };
    auto required = [&](Col col) {
      auto v = get(col);
      if (!v) throw InputError(where + ": missing required field '" + name(col) + "'");
      return trim(*v);
    };
    auto count = [&](Col col) -> std::optional<int64_t> {
      auto v = get(col);
      if (!v) return std::nullopt;
      auto n = parse_int(*v);
      if (!n || *n < 0)
        throw InputError(where + ": field '" + name(col) + "' must be a non-negative integer, got '" + *v + "'");
      return n;
    };
    auto number = [&](Col col) -> std::optional<double> {
      auto v = get(col);
      if (!v) return std::nullopt;
      auto d = parse_double(*v);
      if (!d) throw InputError(where + ": field '" + name(col) + "' must be a number, got '" + *v + "'");
      return d;
    };

    RequestRecord r;
    r.run_id = run_id_;
    r.model = required(kModel);
    r.task = required(kTask);
    r.item_id = required(kItemId);
    r.repeat = count(kRepeat).value_or(0);
    auto created = get(kCreatedAt);
    r.created_at = created ? std::move(*created) : now_utc_iso();
    if (r.created_at.size() < 10) throw InputError(where + ": field 'created_at' must be an ISO 8601 date or time");
    if (auto st = get(kStatus)) {
      std::string s = to_lower(trim(*st));
      if (s != "ok" && s != "error") throw InputError(where + ": field 'status' must be 'ok' or 'error', got '" + *st + "'");
      r.ok = s == "ok";
    }
    r.error = get(kError);

    Usage& u = r.usage;
    auto in = count(kInputTokens), out = count(kOutputTokens);
    u.usage_complete = in.has_value() && out.has_value();
    u.input_tokens = in.value_or(0);
    u.output_tokens = out.value_or(0);
    u.cache_read_tokens = count(kCacheReadTokens).value_or(0);
    u.cache_write_5m_tokens = count(kCacheWriteTokens).value_or(0);
    u.cache_write_1h_tokens = count(kCacheWrite1hTokens).value_or(0);
    u.reasoning_tokens = count(kReasoningTokens);
    u.provider_cost_usd = number(kProviderCostUsd);
    if (auto tier = get(kServiceTier)) {
      auto t = parse_service_tier(*tier);
      if (!t) throw InputError(where + ": field 'service_tier' must be standard, batch, flex, priority or fast");
      u.service_tier = *t;
    }
    if (u.reasoning_tokens && *u.reasoning_tokens > u.output_tokens && u.usage_complete)
      throw InputError(where + ": field 'reasoning_tokens' (" + std::to_string(*u.reasoning_tokens) +
                       ") exceeds 'output_tokens' (" + std::to_string(u.output_tokens) + ")");

    r.score = number(kScore);
    r.latency_ms = number(kLatencyMs);
    r.ttft_ms = number(kTtftMs);
    r.finish_reason = get(kFinishReason);
    r.prompt = get(kPrompt);
    r.response = get(kResponse);
    r.prediction = get(kPrediction);
    r.reference = get(kReference);
    r.raw_usage = raw_usage;

    // Rows repeat a few models and days: each (model, day) is looked up once.
    const std::string day = r.created_at.substr(0, 10);
    auto [lookup, fresh] = lookups_.try_emplace(r.model + '\n' + day);
    if (fresh) lookup->second = catalog_.lookup(r.model, day);
    const PriceCatalog::Lookup& found = lookup->second;
    const PriceEntry* price = found.entry;
    if (!price && !opts_.allow_unpriced)
      throw InputError(where + ": field 'model': " +
                       unpriced_advice(r.model, day, found, {store_.path(), opts_.catalogs}) +
                       ", or pass --allow-unpriced to store its cost as unknown");
    if (price) {
      u.minute_utc = minute_of_day_utc(r.created_at);  // off-peak prices by the request's own time
      try {
        r.cost = cost(u, *price);
      } catch (const InputError& e) {
        throw InputError(where + ": " + e.what());
      }
      if (used_prices_.insert(price).second) store_.upsert_price(*price);
    }

    r.fingerprint = sha256_hex(run_id_ + '\n' + r.model + '\n' + r.task + '\n' + r.item_id + '\n' +
                               std::to_string(r.repeat));
    if (seen_models_.insert(r.model).second) store_.upsert_model(r.model, price ? price->provider : "");
    if (seen_tasks_.insert(r.task).second) store_.upsert_task(r.task);
    // An item answered by many rows is written once (again only if its prompt or reference differs).
    const size_t item_text = std::hash<std::string>{}(r.prompt.value_or("\x01") + '\x00' + r.reference.value_or("\x01"));
    if (auto [it, fresh] = items_.try_emplace(r.task + '\n' + r.item_id, item_text); fresh || it->second != item_text) {
      it->second = item_text;
      store_.upsert_item(r.task, r.item_id, r.prompt, r.reference);
    }
    ++result_.rows;
    // This import's rows by the first 64 bits of their fingerprint: 8 bytes a row, not the hex string.
    const uint64_t fp = std::stoull(r.fingerprint.substr(0, 16), nullptr, 16);
    if (store_.insert_request(r)) {
      ++result_.inserted;
      inserted_.insert(fp);
    } else if (inserted_.count(fp)) {
      result_.repeated_in_input.push_back(where + " (model " + r.model + ", task " + r.task + ", item " + r.item_id +
                                          ", repeat " + std::to_string(r.repeat) + ")");
    } else {
      ++result_.duplicates;
    }
  }

 private:
  static const std::string& name(Col c) { return import_columns()[c]; }

  Store& store_;
  const ImportOptions& opts_;
  std::string run_id_;
  PriceCatalog catalog_;
  ImportResult result_;
  std::vector<std::string> source_;  // by Col
  std::set<const PriceEntry*> used_prices_;  // entries of catalog_, which outlives them
  std::set<std::string> seen_models_, seen_tasks_;
  std::unordered_set<uint64_t> inserted_;
  std::unordered_map<std::string, PriceCatalog::Lookup> lookups_;  // by model and day
  std::unordered_map<std::string, size_t> items_;                  // item → hash of the prompt and reference written
};

std::string json_field_text(const nlohmann::json& v) {
  if (v.is_string()) return v.get<std::string>();
  return v.dump();
}

void import_csv(RowImporter& imp, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path + ": cannot open");
  CsvReader reader(in);
  std::vector<std::string> header;
  std::map<std::string, size_t> index;
  try {
    auto h = reader.next();
    if (!h) throw InputError(path + ": empty file (expected a header line)");
    header = h->fields;
    if (!header.empty() && starts_with(header[0], "\xEF\xBB\xBF")) header[0] = header[0].substr(3);
    for (size_t i = 0; i < header.size(); ++i) index[trim(header[i])] = i;
    std::vector<std::optional<size_t>> at(kColumnCount);  // column -> its place in the header
    for (size_t c = 0; c < kColumnCount; ++c)
      if (auto it = index.find(imp.source(Col(c))); it != index.end()) at[c] = it->second;
    while (auto rec = reader.next()) {
      if (rec->fields.size() == 1 && trim(rec->fields[0]).empty()) continue;  // blank line
      std::string where = path + ":" + std::to_string(rec->line);
      if (rec->fields.size() != header.size())
        throw InputError(where + ": " + std::to_string(rec->fields.size()) + " fields, but the header has " +
                         std::to_string(header.size()));
      imp.add(
          [&](Col col) -> std::optional<std::string> {
            if (!at[col]) return std::nullopt;
            return rec->fields[*at[col]];
          },
          where);
    }
  } catch (const InputError& e) {
    std::string msg = e.what();
    if (!starts_with(msg, path)) msg = path + ": " + msg;  // CSV syntax errors name only the line
    throw InputError(msg);
  }
}

void import_jsonl(RowImporter& imp, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path + ": cannot open");
  std::string line;
  size_t lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    if (trim(line).empty()) continue;
    std::string where = path + ":" + std::to_string(lineno);
    nlohmann::json j;
    try {
      j = parse_json(line);
    } catch (const nlohmann::json::exception& e) {
      throw InputError(where + ": not valid JSON (" + e.what() + ")");
    }
    if (!j.is_object()) throw InputError(where + ": each line must be a JSON object");
    imp.add(
        [&](Col c) -> std::optional<std::string> {
          const std::string& col = imp.source(c);
          auto it = j.find(col);
          if (it == j.end() || it->is_null()) return std::nullopt;
          if (it->is_object() || it->is_array()) throw InputError(where + ": field '" + col + "' must be a scalar");
          return json_field_text(*it);
        },
        where);
  }
}

// The price-reversal paper's logs: {model_name, dataset_name, [run_index], records: [{index, prompt,
// raw_output, prompt_tokens, completion_tokens, thinking_tokens, score, prediction, ground_truth}]}.
void import_price_reversal(RowImporter& imp, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path + ": cannot open");
  nlohmann::json j;
  try {
    j = parse_json(in);
  } catch (const nlohmann::json::exception& e) {
    throw InputError(path + ": not valid JSON (" + e.what() + ")");
  }
  for (const char* f : {"model_name", "dataset_name"})
    if (!j.is_object() || !j.contains(f) || !j[f].is_string())
      throw InputError(path + ": missing string field '" + f + "' (expected a price-reversal log)");
  if (!j.contains("records") || !j["records"].is_array()) throw InputError(path + ": missing array field 'records'");
  std::string model = j["model_name"].get<std::string>(), task = j["dataset_name"].get<std::string>();
  std::optional<std::string> repeat;
  if (j.contains("run_index") && !j["run_index"].is_null()) repeat = json_field_text(j["run_index"]);
  static const std::map<std::string, std::string> kFields = {
      {"item_id", "index"},        {"input_tokens", "prompt_tokens"}, {"output_tokens", "completion_tokens"},
      {"reasoning_tokens", "thinking_tokens"}, {"response", "raw_output"}, {"reference", "ground_truth"},
      {"prompt", "prompt"},        {"score", "score"},                {"prediction", "prediction"}};
  size_t i = 0;
  for (const auto& rec : j["records"]) {
    std::string where = path + ": records[" + std::to_string(i++) + "]";
    if (!rec.is_object()) throw InputError(where + ": each record must be an object");
    nlohmann::json usage = nlohmann::json::object();
    for (const char* k : {"prompt_tokens", "completion_tokens", "thinking_tokens", "cost"})
      if (rec.contains(k)) usage[k] = rec[k];
    imp.add(
        [&](Col c) -> std::optional<std::string> {
          const std::string& col = imp.source(c);
          if (col == "model") return model;
          if (col == "task") return task;
          if (col == "repeat") return repeat;
          auto f = kFields.find(col);
          if (f == kFields.end()) return std::nullopt;
          auto it = rec.find(f->second);
          if (it == rec.end() || it->is_null()) return std::nullopt;
          if (it->is_object() || it->is_array()) throw InputError(where + ": field '" + f->second + "' must be a scalar");
          return json_field_text(*it);
        },
        where, usage.dump());
  }
}

std::vector<std::string> expand(const std::vector<std::string>& paths) {
  std::vector<std::string> files;
  for (const auto& p : paths) {
    if (fs::is_directory(p)) {
      std::vector<std::string> inner;
      for (const auto& e : fs::directory_iterator(p))
        if (e.is_regular_file() && e.path().extension() == ".json") inner.push_back(e.path().string());
      if (inner.empty()) throw InputError(p + ": folder holds no .json logs");
      std::sort(inner.begin(), inner.end());
      files.insert(files.end(), inner.begin(), inner.end());
    } else if (!fs::exists(p)) {
      throw InputError(p + ": no such file");
    } else {
      files.push_back(p);
    }
  }
  return files;
}

std::string format_of(const std::string& path, const std::string& requested) {
  if (requested != "auto") return requested;
  std::string lower = to_lower(path);
  if (ends_with(lower, ".csv")) return "csv";
  if (ends_with(lower, ".jsonl") || ends_with(lower, ".ndjson")) return "jsonl";
  if (ends_with(lower, ".json")) return "price-reversal";
  throw InputError(path + ": cannot tell the format from the extension; pass --format csv|jsonl|price-reversal");
}

}  // namespace

ImportResult import_files(Store& store, const std::vector<std::string>& paths, const ImportOptions& opts) {
  static const std::set<std::string> kFormats{"auto", "csv", "jsonl", "price-reversal"};
  if (!kFormats.count(opts.format)) throw InputError("unknown import format '" + opts.format + "'");
  for (const auto& [col, _] : opts.rename)
    if (std::find(import_columns().begin(), import_columns().end(), col) == import_columns().end())
      throw InputError("--map names unknown column '" + col + "'");
  std::vector<std::string> files = expand(paths);
  if (files.empty()) throw InputError("nothing to import");

  std::string run_id = opts.run_id;
  if (run_id.empty()) {
    std::string digest;
    for (const auto& f : files) digest += sha256_file_hex(f);
    run_id = "import-" + sha256_hex(digest).substr(0, 12);
  }
  // A million rows' fingerprints land at random places in their unique index: with the store's usual page
  // cache most inserts re-read an evicted page from the WAL. This import gets up to 64 MB of cache
  // (1M rows: 29 s -> 18 s; more cache measured no faster), and the store its usual size back after.
  struct LargerCache {
    Database& db;
    int64_t usual = 0;
    explicit LargerCache(Database& d) : db(d) {
      auto q = db.prepare("PRAGMA cache_size");
      if (q.step()) usual = q.int64(0);
      db.exec("PRAGMA cache_size=-65536");
    }
    ~LargerCache() {
      try {
        db.exec("PRAGMA cache_size=" + std::to_string(usual));
      } catch (...) {  // a destructor must not throw; the size only matters for speed
      }
    }
  } larger_cache(store.db());
  Transaction tx(store.db());
  store.add_run(run_id, "import", files.size() == 1 ? files[0] : files[0] + " (+" + std::to_string(files.size() - 1) + ")");
  uintmax_t bytes = 0;
  for (const auto& f : files) bytes += fs::file_size(f);
  // Room for this import's fingerprints up front (a request row is rarely under 40 bytes of input).
  RowImporter imp(store, opts, run_id, static_cast<size_t>(std::min<uintmax_t>(bytes / 40, 1u << 24)));
  for (const auto& f : files) {
    std::string fmt = format_of(f, opts.format);
    if (fmt == "csv") {
      import_csv(imp, f);
    } else if (fmt == "jsonl") {
      import_jsonl(imp, f);
    } else {
      import_price_reversal(imp, f);
    }
  }
  if (imp.result().rows == 0)  // a header alone, or an empty log: say so, and leave no empty run behind
    throw InputError((files.size() == 1 ? files[0] : "the input files") + ": no request rows to import");
  store.finish_run(run_id);
  tx.commit();
  imp.result().run_id = run_id;
  return imp.result();
}

}  // namespace reckon
