#include "providers/sse.h"

namespace reckon {

void SseParser::feed(const char* data, size_t n) {
  buf_.append(data, n);
  size_t start = 0;
  for (;;) {
    size_t nl = buf_.find_first_of("\r\n", start);
    if (nl == std::string::npos) break;
    size_t next = nl + 1;
    if (buf_[nl] == '\r') {
      if (next == buf_.size()) break;  // wait: \r may be followed by \n in the next chunk
      if (buf_[next] == '\n') ++next;
    }
    line(buf_.substr(start, nl - start));
    start = next;
  }
  buf_.erase(0, start);
}

void SseParser::finish() {
  if (!buf_.empty()) {
    line(buf_);
    buf_.clear();
  }
  if (has_data_) line("");
}

void SseParser::line(const std::string& l) {
  if (l.empty()) {
    if (has_data_) on_event_(cur_);
    cur_ = SseEvent{};
    has_data_ = false;
    return;
  }
  if (l[0] == ':') return;  // comment / keep-alive
  auto colon = l.find(':');
  std::string field = l.substr(0, colon);
  std::string value = colon == std::string::npos ? "" : l.substr(colon + 1);
  if (!value.empty() && value[0] == ' ') value.erase(0, 1);
  if (field == "event") {
    cur_.event = value;
  } else if (field == "data") {
    if (has_data_) cur_.data += '\n';
    cur_.data += value;
    has_data_ = true;
  }
}

}  // namespace reckon
