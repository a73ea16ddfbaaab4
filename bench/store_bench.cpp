// Rows the store writes per second: one transaction per row (what a naive writer does) against
// the campaign's batches (one transaction per 256 rows, WAL), in one run; and bytes on disk per
// request. Prints one JSON object (bench/perf.py reads it).
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "common/sha256.h"
#include "results/store.h"

using namespace reckon;

namespace {

constexpr size_t kBatch = 256;  // as harness/campaign.cpp flushes

RequestRecord row(const std::string& run, size_t i) {
  RequestRecord r;
  r.fingerprint = sha256_hex(run + std::to_string(i));
  r.request_key = sha256_hex("key" + run + std::to_string(i));
  r.run_id = run;
  r.model = "openai:gpt-5.4";
  r.task = "perf";
  r.item_id = "q" + std::to_string(i);
  r.created_at = "2026-11-28T10:00:00Z";
  r.latency_ms = 51.2;
  r.usage.input_tokens = 19;
  r.usage.output_tokens = 10;
  r.usage.reasoning_tokens = 0;
  r.usage.usage_complete = true;
  r.cost.total_usd = 0.000197;
  r.finish_reason = "stop";
  r.prompt = "What is 6 times 7? Item " + std::to_string(i);
  r.response = "The answer is 42.";
  r.raw_usage = R"({"prompt_tokens":19,"completion_tokens":10,"total_tokens":29})";
  r.score = 1.0;
  r.prediction = "42";
  r.reference = "42";
  r.scorer = "last_number";
  return r;
}

double write(Store& store, const std::string& run, size_t n, size_t batch) {
  store.add_run(run, "bench", "store_bench");
  auto t0 = std::chrono::steady_clock::now();
  for (size_t i = 0; i < n; i += batch) {
    Transaction tx(store.db());
    for (size_t k = i; k < std::min(n, i + batch); ++k) store.replace_request(row(run, k));
    tx.commit();
  }
  return static_cast<double>(n) / std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: store_bench DB [ROWS]\n");
    return 2;
  }
  const std::string path = argv[1];
  const size_t n = argc > 2 ? std::strtoul(argv[2], nullptr, 10) : 50000;
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
  double per_row = 0, batched = 0;
  {
    Store store(path, Store::Mode::kReadWrite);
    // Fewer rows one at a time: each commit is a WAL append, far slower than a batched row.
    per_row = write(store, "run-per-row", n / 10, 1);
    batched = write(store, "run-batched", n, kBatch);
    store.db().exec("DELETE FROM requests WHERE run_id = 'run-per-row'; PRAGMA wal_checkpoint(TRUNCATE); VACUUM;");
  }
  const auto bytes = std::filesystem::file_size(path);
  std::printf("{\"rows\": %zu, \"batch\": %zu, \"per_row_rows_per_s\": %.0f, \"batched_rows_per_s\": %.0f, "
              "\"bytes_per_request\": %.0f}\n",
              n, kBatch, per_row, batched, static_cast<double>(bytes) / static_cast<double>(n));
  return 0;
}
