#pragma once
// The store's writer during a campaign: rows are queued by the network loop and committed by a
// thread of its own, in batches, on its own connection (WAL lets the campaign read meanwhile).
// The loop never waits on SQLite or on the disk's fsync at a checkpoint; at most `max_delay` of
// finished rows (or `batch_rows`) is uncommitted at any moment, so a killed run loses no more.
#include <chrono>
#include <condition_variable>
#include <exception>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "results/store.h"

namespace reckon {

class RowWriter {
 public:
  RowWriter(std::string db_path, size_t batch_rows = 256, std::chrono::milliseconds max_delay = std::chrono::milliseconds(50));
  ~RowWriter();
  RowWriter(const RowWriter&) = delete;
  RowWriter& operator=(const RowWriter&) = delete;

  // Queues a row (replacing a row of the same fingerprint, as Store::replace_request). Throws the
  // writer's error (e.g. disk full) once it has failed: nothing is dropped silently. Waits while
  // 16 batches are already queued, so a slow disk slows the run instead of filling memory.
  void push(RequestRecord r);
  // Queues an item for the items table (Store::upsert_item), written with the next batch.
  void push_item(std::string task, std::string item_id, std::optional<std::string> prompt,
                 std::optional<std::string> reference, std::optional<std::string> metadata_json);
  // Queues a statement to run after everything queued before it, in the same transaction or a later one
  // (a block marked done only once its rows are committed).
  void push_after(std::function<void(Store&)> step);
  // Commits everything queued, then stops the thread; rethrows the writer's error. Idempotent.
  void close();
  size_t written() const;

 private:
  void loop();
  template <class Queue>
  void wait_for_room(std::unique_lock<std::mutex>& lock, const Queue& queue);
  std::string path_;
  size_t batch_rows_;
  std::chrono::milliseconds max_delay_;
  mutable std::mutex mu_;
  std::condition_variable wake_, drained_;
  std::vector<RequestRecord> queue_;
  struct ItemRow {
    std::string task, item_id;
    std::optional<std::string> prompt, reference, metadata_json;
  };
  std::vector<ItemRow> items_;
  std::vector<std::function<void(Store&)>> after_;
  bool closing_ = false;
  std::exception_ptr error_;
  size_t written_ = 0;
  std::thread thread_;
};

}  // namespace reckon
