#include "providers/http1_response.h"

#include <algorithm>
#include <cctype>
#include <cstring>

#include "common/text.h"

namespace reckon {
namespace {

constexpr size_t kMaxHead = 256 * 1024;  // status line + headers (+ trailers): what libcurl allows, rounded up
constexpr size_t kMaxLine = 64 * 1024;   // one chunk-size line, extensions included

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y)); });
}

// Does a comma-separated header value name `token` (case-insensitively)? `last`: as its final element.
bool has_token(const std::string& value, std::string_view token, bool last = false) {
  std::string final_item;
  size_t start = 0;
  for (;;) {
    const size_t comma = value.find(',', start);
    std::string item = trim(value.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (!last && iequals(item, token)) return true;
    if (!item.empty()) final_item = std::move(item);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return last && iequals(final_item, token);
}

std::string excerpt(const std::string& s) { return s.size() > 60 ? s.substr(0, 60) + "..." : s; }

}  // namespace

void Http1Response::fail(std::string why) {
  if (error_.empty()) error_ = std::move(why);
  keep_alive_ = false;
}

void Http1Response::emit(const char* p, size_t n) {
  if (n == 0) return;
  body_bytes_ += n;
  sink_(p, n);
}

bool Http1Response::take_line(const char*& p, const char* end, std::string& line) {
  const char* lf = static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(end - p)));
  const char* stop = lf ? lf + 1 : end;
  const size_t n = static_cast<size_t>(stop - p);
  const bool in_head = state_ == State::kStatus || state_ == State::kHeaders || state_ == State::kTrailers;
  if (in_head ? (head_bytes_ += n) > kMaxHead : line_.size() + n > kMaxLine) {
    fail(in_head ? "response headers longer than 256 KiB" : "chunk-size line longer than 64 KiB");
    p = end;
    return false;
  }
  line_.append(p, lf ? static_cast<size_t>(lf - p) : n);
  p = stop;
  if (!lf) return false;
  if (!line_.empty() && line_.back() == '\r') line_.pop_back();
  line.swap(line_);
  line_.clear();
  return true;
}

size_t Http1Response::feed(const char* p, size_t n) {
  const char* const begin = p;
  const char* const end = p + n;
  if (n > 0) started_ = true;
  while (p < end && state_ != State::kDone && error_.empty()) {
    switch (state_) {
      case State::kLength:
      case State::kChunkData: {
        const size_t take = static_cast<size_t>(std::min<unsigned long long>(remaining_, static_cast<unsigned long long>(end - p)));
        emit(p, take);
        p += take;
        remaining_ -= take;
        if (remaining_ == 0) state_ = state_ == State::kLength ? State::kDone : State::kChunkEnd;
        break;
      }
      case State::kUntilClose:
        emit(p, static_cast<size_t>(end - p));
        p = end;
        break;
      default: {
        std::string line;
        if (!take_line(p, end, line)) break;
        if (state_ == State::kStatus) {
          if (!line.empty()) on_status_line(line);  // empty lines before a status line are tolerated (RFC 9112 §2.2)
        } else if (state_ == State::kHeaders) {
          on_header_line(line);
        } else if (state_ == State::kChunkSize) {
          on_chunk_size(line);
        } else if (state_ == State::kChunkEnd) {
          if (line.empty()) state_ = State::kChunkSize;
          else fail("chunk data longer than its size");
        } else if (state_ == State::kTrailers) {
          if (line.empty()) state_ = State::kDone;  // trailer fields are read and dropped
        }
      }
    }
  }
  return static_cast<size_t>(p - begin);
}

void Http1Response::on_status_line(const std::string& line) {
  // HTTP/1.x SP 3DIGIT [SP reason]
  if (line.size() < 12 || line.compare(0, 7, "HTTP/1.") != 0 || !std::isdigit(static_cast<unsigned char>(line[7])) || line[8] != ' ' ||
      !std::isdigit(static_cast<unsigned char>(line[9])) || !std::isdigit(static_cast<unsigned char>(line[10])) ||
      !std::isdigit(static_cast<unsigned char>(line[11])) || (line.size() > 12 && line[12] != ' ')) {
    fail("malformed status line: " + excerpt(line));
    return;
  }
  minor_version_ = line[7] - '0';
  status_ = std::stol(line.substr(9, 3));
  if (status_ < 100) {
    fail("malformed status line: " + excerpt(line));
    return;
  }
  headers_.clear();
  state_ = State::kHeaders;
}

void Http1Response::on_header_line(const std::string& line) {
  if (line.empty()) {
    end_of_headers();
    return;
  }
  if (line[0] == ' ' || line[0] == '\t') {  // obsolete line folding: part of the previous value
    if (headers_.empty()) return fail("header continuation before any header");
    std::string more = trim(line);
    if (!more.empty()) headers_.back().second += (headers_.back().second.empty() ? "" : " ") + more;
    return;
  }
  const size_t colon = line.find(':');
  if (colon == std::string::npos || colon == 0) return fail("malformed header line: " + excerpt(line));
  headers_.emplace_back(trim(line.substr(0, colon)), trim(line.substr(colon + 1)));
}

void Http1Response::end_of_headers() {
  if (status_ >= 100 && status_ < 200) {
    if (status_ == 101) return fail("unexpected protocol switch (HTTP 101)");
    state_ = State::kStatus;  // an interim response: the final one follows
    return;
  }
  keep_alive_ = minor_version_ >= 1;
  const std::string* transfer_encoding = nullptr;
  std::string length;
  for (const auto& [name, value] : headers_) {
    if (iequals(name, "connection")) {
      if (has_token(value, "close")) keep_alive_ = false;
      else if (has_token(value, "keep-alive")) keep_alive_ = true;
    } else if (iequals(name, "transfer-encoding")) {
      transfer_encoding = &value;
    } else if (iequals(name, "content-length")) {
      // Repeated or listed lengths must agree (RFC 9110 §8.6); anything else is a framing error.
      size_t start = 0;
      while (start <= value.size()) {
        size_t comma = value.find(',', start);
        std::string one = trim(value.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
        if (!length.empty() && one != length) return fail("conflicting Content-Length values");
        length = one;
        if (comma == std::string::npos) break;
        start = comma + 1;
      }
    }
  }
  if (head_request_ || status_ == 204 || status_ == 304) {
    state_ = State::kDone;
  } else if (transfer_encoding) {
    // Transfer-Encoding overrides Content-Length; a coding other than chunked last ends with the close.
    const bool chunked = has_token(*transfer_encoding, "chunked", true);
    state_ = chunked ? State::kChunkSize : State::kUntilClose;
    if (!chunked) keep_alive_ = false;
  } else if (!length.empty()) {
    if (length.size() > 18 || !std::all_of(length.begin(), length.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }))
      return fail("bad Content-Length: " + excerpt(length));
    remaining_ = std::stoull(length);
    state_ = remaining_ == 0 ? State::kDone : State::kLength;
  } else {
    state_ = State::kUntilClose;
    keep_alive_ = false;
  }
}

void Http1Response::on_chunk_size(const std::string& line) {
  size_t i = 0;
  unsigned long long size = 0;
  while (i < line.size() && std::isxdigit(static_cast<unsigned char>(line[i]))) {
    if (i >= 15) return fail("chunk size too large");
    const char c = static_cast<char>(std::tolower(static_cast<unsigned char>(line[i])));
    size = size * 16 + static_cast<unsigned long long>(c <= '9' ? c - '0' : c - 'a' + 10);
    ++i;
  }
  while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
  if (i == 0 || (i < line.size() && line[i] != ';')) return fail("bad chunk size: " + excerpt(line));
  if (size == 0) {
    state_ = State::kTrailers;
  } else {
    remaining_ = size;
    state_ = State::kChunkData;
  }
}

void Http1Response::end_of_stream() {
  if (state_ == State::kDone || !error_.empty()) return;
  if (state_ == State::kUntilClose) {
    state_ = State::kDone;
    return;
  }
  if (!started_) return fail("empty reply from server");
  if (state_ == State::kLength)
    return fail("connection closed with " + std::to_string(remaining_) + " bytes of the body outstanding");
  fail(state_ == State::kStatus || state_ == State::kHeaders ? "connection closed inside the response headers"
                                                              : "connection closed inside the chunked body");
}

}  // namespace reckon
