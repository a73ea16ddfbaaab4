#include "results/row_writer.h"

namespace reckon {

RowWriter::RowWriter(std::string db_path, size_t batch_rows, std::chrono::milliseconds max_delay)
    : path_(std::move(db_path)), batch_rows_(std::max<size_t>(1, batch_rows)), max_delay_(max_delay) {
  thread_ = std::thread([this] { loop(); });
}

RowWriter::~RowWriter() {
  try {
    close();
  } catch (...) {  // the owner already saw (or chose to ignore) the error
  }
}

// Waits for room in `queue` (16 batches), or rethrows the writer's error.
template <class Queue>
void RowWriter::wait_for_room(std::unique_lock<std::mutex>& lock, const Queue& queue) {
  drained_.wait(lock, [&] { return error_ || queue.size() < 16 * batch_rows_; });
  if (error_) std::rethrow_exception(error_);
}

void RowWriter::push(RequestRecord r) {
  std::unique_lock<std::mutex> lock(mu_);
  wait_for_room(lock, queue_);
  queue_.push_back(std::move(r));
  if (queue_.size() >= batch_rows_) wake_.notify_one();
}

void RowWriter::push_item(std::string task, std::string item_id, std::optional<std::string> prompt,
                          std::optional<std::string> reference, std::optional<std::string> metadata_json) {
  std::unique_lock<std::mutex> lock(mu_);
  wait_for_room(lock, items_);
  items_.push_back({std::move(task), std::move(item_id), std::move(prompt), std::move(reference), std::move(metadata_json)});
}

void RowWriter::push_after(std::function<void(Store&)> step) {
  std::unique_lock<std::mutex> lock(mu_);
  if (error_) std::rethrow_exception(error_);
  after_.push_back(std::move(step));
}

void RowWriter::close() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    closing_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
  std::lock_guard<std::mutex> lock(mu_);
  if (error_) std::rethrow_exception(error_);
}

size_t RowWriter::written() const {
  std::lock_guard<std::mutex> lock(mu_);
  return written_;
}

void RowWriter::loop() {
  try {
    Store store(path_, Store::Mode::kReadWrite);
    std::vector<RequestRecord> batch;
    std::vector<ItemRow> items;
    std::vector<std::function<void(Store&)>> after;
    for (;;) {
      bool last = false;
      {
        std::unique_lock<std::mutex> lock(mu_);
        wake_.wait_for(lock, max_delay_, [&] { return closing_ || queue_.size() >= batch_rows_; });
        batch.swap(queue_);
        items.swap(items_);
        after.swap(after_);
        last = closing_;
      }
      drained_.notify_all();
      if (!batch.empty() || !items.empty() || !after.empty()) {
        Transaction tx(store.db());
        for (const auto& it : items) store.upsert_item(it.task, it.item_id, it.prompt, it.reference, it.metadata_json);
        for (const auto& r : batch) store.replace_request(r);
        for (const auto& step : after) step(store);
        tx.commit();
        std::lock_guard<std::mutex> lock(mu_);
        written_ += batch.size();
      }
      batch.clear();
      items.clear();
      after.clear();
      if (last) {
        std::lock_guard<std::mutex> lock(mu_);
        if (queue_.empty() && items_.empty() && after_.empty()) return;
      }
    }
  } catch (...) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      error_ = std::current_exception();
    }
    drained_.notify_all();
  }
}

}  // namespace reckon
