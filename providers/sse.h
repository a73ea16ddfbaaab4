#pragma once
// Incremental Server-Sent Events parser (WHATWG rules): feed bytes as they arrive, get events.
#include <functional>
#include <string>

namespace reckon {

struct SseEvent {
  std::string event;  // "" when no event: line
  std::string data;   // data: lines joined by '\n'
};

class SseParser {
 public:
  explicit SseParser(std::function<void(const SseEvent&)> on_event) : on_event_(std::move(on_event)) {}
  void feed(const char* data, size_t n);
  // Dispatches a final event that was not followed by a blank line (a cut stream).
  void finish();

 private:
  void line(const std::string& l);
  std::function<void(const SseEvent&)> on_event_;
  std::string buf_;
  SseEvent cur_;
  bool has_data_ = false;
};

}  // namespace reckon
