#pragma once
// One HTTP exchange, start to end, on the calling thread: for the few control calls of a batch API
// (upload, create, poll, fetch results), where the many-in-flight engine (http_engine.h) buys nothing.
#include <string>

#include "providers/adapter.h"

namespace reckon {

struct HttpReply {
  long status = 0;    // 0: no response (error says why)
  std::string body;
  std::string error;  // transport failure; never holds key material
};

// Sends `req` (any method; the body is sent when not empty or when the method is POST). At most
// `max_bytes` of body are read (a larger answer is an error, not a truncated body).
HttpReply http_call(const HttpRequest& req, double timeout_s = 120, size_t max_bytes = size_t{1} << 31);

// A multipart/form-data body of text fields and one file part: (body, content type).
std::pair<std::string, std::string> multipart_body(const std::vector<std::pair<std::string, std::string>>& fields,
                                                   const std::string& file_field, const std::string& filename,
                                                   const std::string& content);

}  // namespace reckon
