#pragma once
// An HTTP/1.x response read from a byte stream as it arrives (RFC 9112): status line, headers,
// then a body framed by Content-Length, chunked transfer coding, or the connection's close.
// Informational 1xx responses are skipped. Body bytes go to a sink as they are decoded, so a
// streamed (SSE) answer is seen before the response ends.
#include <cstddef>
#include <functional>
#include <string>

#include "providers/retry.h"

namespace reckon {

class Http1Response {
 public:
  using Sink = std::function<void(const char*, size_t)>;
  // `no_body`: the request was HEAD (a response to it has headers only).
  explicit Http1Response(Sink sink, bool no_body = false) : sink_(std::move(sink)), head_request_(no_body) {}

  // Reads up to `n` bytes; returns how many belong to this response (fewer once it is complete:
  // the rest belong to whatever the server sent next). Sets error() on a malformed response.
  size_t feed(const char* p, size_t n);
  // The connection closed: completes a body delimited by the close, or records the truncation.
  void end_of_stream();

  bool complete() const { return state_ == State::kDone; }
  bool failed() const { return !error_.empty(); }
  const std::string& error() const { return error_; }
  bool started() const { return started_; }  // any byte of a response arrived
  long status() const { return status_; }
  const Headers& headers() const { return headers_; }
  // The server may take another request on this connection once the response is complete.
  bool keep_alive() const { return keep_alive_; }
  size_t body_bytes() const { return body_bytes_; }

 private:
  enum class State { kStatus, kHeaders, kChunkSize, kChunkData, kChunkEnd, kTrailers, kLength, kUntilClose, kDone };
  bool take_line(const char*& p, const char* end, std::string& line);
  void on_status_line(const std::string& line);
  void on_header_line(const std::string& line);
  void end_of_headers();
  void on_chunk_size(const std::string& line);
  void emit(const char* p, size_t n);
  void fail(std::string why);

  Sink sink_;
  bool head_request_;
  State state_ = State::kStatus;
  std::string line_;     // a line not yet ended by LF
  size_t head_bytes_ = 0;  // status line and headers so far (bounded)
  bool started_ = false;
  long status_ = 0;
  int minor_version_ = 1;
  Headers headers_;
  bool keep_alive_ = true;
  unsigned long long remaining_ = 0;  // of a chunk or of Content-Length
  size_t body_bytes_ = 0;
  std::string error_;
};

}  // namespace reckon
