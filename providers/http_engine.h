#pragma once
// Many HTTP requests in flight from one thread. https (and anything through a proxy) goes through
// libcurl's multi interface: connection reuse, HTTP/2 where the server offers it, TLS through OpenSSL.
// Plain http:// goes through reckon's own HTTP/1.1 engine on epoll (http1_engine.h) unless a proxy
// variable is set or RECKON_HTTP_ENGINE=curl asks for libcurl.
#include <functional>
#include <map>
#include <vector>
#include <memory>
#include <optional>
#include <string>

#include "providers/adapter.h"
#include "providers/http1_engine.h"
#include "providers/retry.h"

namespace reckon {

struct HttpResponse {
  long status = 0;
  Headers headers;
  std::string body;             // empty for streamed transfers (bytes went to on_data)
  std::string transport_error;  // curl's error when the transfer failed (reset, timeout, ...)
  bool timed_out = false;
  double total_ms = 0;
  std::optional<double> first_byte_ms;
};

class HttpEngine {
 public:
  using OnData = std::function<void(const char*, size_t)>;  // body bytes as they arrive (streaming)
  using OnDone = std::function<void(HttpResponse&&)>;

  HttpEngine();
  ~HttpEngine();
  HttpEngine(const HttpEngine&) = delete;
  HttpEngine& operator=(const HttpEngine&) = delete;

  // Starts a POST. With on_data set, body bytes go there instead of HttpResponse::body.
  void start(const HttpRequest& req, double timeout_s, OnData on_data, OnDone on_done);
  // Drives transfers, waiting up to max_wait_s for activity; calls on_done for finished ones.
  void poll(double max_wait_s);
  int running() const { return static_cast<int>(transfers_.size()) + plain_.running(); }

 private:
  struct Transfer;
  void poll_curl(int wait_ms, int extra_fd);
  void* multi_;
  Http1Engine plain_;
  bool plain_allowed_;
  std::map<void*, std::unique_ptr<Transfer>> transfers_;
  std::vector<void*> idle_;  // finished easy handles, reset for reuse (cheaper than a new one per call)
};

// One request, waited for (control-plane calls such as fine-tuning jobs; model calls go through
// ModelClient).
HttpResponse http_call(const HttpRequest& req, double timeout_s);

}  // namespace reckon
