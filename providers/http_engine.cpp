#include "providers/http_engine.h"

#include <curl/curl.h>

#include <chrono>
#include <cstdlib>

#include "common/text.h"

namespace reckon {

struct HttpEngine::Transfer {
  CURL* easy = nullptr;
  curl_slist* headers = nullptr;
  std::string body_out;
  HttpResponse response;
  OnData on_data;
  OnDone on_done;
  std::chrono::steady_clock::time_point started;
  char error[CURL_ERROR_SIZE] = {0};
};

namespace {

struct CurlGlobal {
  CurlGlobal() { curl_global_init(CURL_GLOBAL_DEFAULT); }
  ~CurlGlobal() { curl_global_cleanup(); }
};

// Plain http goes through Http1Engine unless the user asked for libcurl or a proxy may be meant to carry
// it (libcurl reads these variables; the native engine does not speak to proxies).
bool plain_engine_allowed() {
  const char* choice = std::getenv("RECKON_HTTP_ENGINE");
  if (choice && std::string(choice) == "curl") return false;
  for (const char* v : {"http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"}) {
    const char* value = std::getenv(v);
    if (value && *value) return false;
  }
  return true;
}

double ms_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t).count();
}

}  // namespace

HttpEngine::HttpEngine() : plain_allowed_(plain_engine_allowed()) {
  static CurlGlobal global;
  multi_ = curl_multi_init();
  curl_multi_setopt(static_cast<CURLM*>(multi_), CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX);
  curl_multi_setopt(static_cast<CURLM*>(multi_), CURLMOPT_MAX_HOST_CONNECTIONS, 0L);
}

HttpEngine::~HttpEngine() {
  for (auto& [easy, t] : transfers_) {
    curl_multi_remove_handle(static_cast<CURLM*>(multi_), t->easy);
    curl_easy_cleanup(t->easy);
    curl_slist_free_all(t->headers);
  }
  for (void* e : idle_) curl_easy_cleanup(static_cast<CURL*>(e));
  curl_multi_cleanup(static_cast<CURLM*>(multi_));
}

void HttpEngine::start(const HttpRequest& req, double timeout_s, OnData on_data, OnDone on_done) {
  if (plain_allowed_) {
    if (auto url = parse_plain_http_url(req.url)) return plain_.start(*url, req, timeout_s, std::move(on_data), std::move(on_done));
  }
  auto t = std::make_unique<Transfer>();
  t->on_data = std::move(on_data);
  t->on_done = std::move(on_done);
  t->body_out = req.body;
  if (!idle_.empty()) {
    t->easy = static_cast<CURL*>(idle_.back());
    idle_.pop_back();
  } else {
    t->easy = curl_easy_init();
  }
  for (const auto& [k, v] : req.headers) t->headers = curl_slist_append(t->headers, (k + ": " + v).c_str());
  t->headers = curl_slist_append(t->headers, "Expect:");
  Transfer* raw = t.get();
  CURL* e = t->easy;
  curl_easy_setopt(e, CURLOPT_URL, req.url.c_str());
  if (req.method == "GET") {
    curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
  } else {
    curl_easy_setopt(e, CURLOPT_POST, 1L);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, raw->body_out.data());
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(raw->body_out.size()));
  }
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->headers);
  curl_easy_setopt(e, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_2TLS);
  curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout_s * 1000));
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, 30000L);
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, raw->error);
  curl_easy_setopt(e, CURLOPT_PRIVATE, raw);
  curl_easy_setopt(e, CURLOPT_USERAGENT, "reckon/" RECKON_VERSION);
  curl_easy_setopt(
      e, CURLOPT_WRITEFUNCTION, +[](char* p, size_t sz, size_t n, void* ud) -> size_t {
        auto* tr = static_cast<Transfer*>(ud);
        if (!tr->response.first_byte_ms) tr->response.first_byte_ms = ms_since(tr->started);
        if (tr->on_data) {
          tr->on_data(p, sz * n);
        } else {
          tr->response.body.append(p, sz * n);
        }
        return sz * n;
      });
  curl_easy_setopt(e, CURLOPT_WRITEDATA, raw);
  curl_easy_setopt(
      e, CURLOPT_HEADERFUNCTION, +[](char* p, size_t sz, size_t n, void* ud) -> size_t {
        auto* tr = static_cast<Transfer*>(ud);
        std::string line(p, sz * n);
        if (starts_with(line, "HTTP/")) tr->response.headers.clear();  // a new response (after 100, redirects)
        auto colon = line.find(':');
        if (colon != std::string::npos) tr->response.headers.emplace_back(trim(line.substr(0, colon)), trim(line.substr(colon + 1)));
        return sz * n;
      });
  curl_easy_setopt(e, CURLOPT_HEADERDATA, raw);
  t->started = std::chrono::steady_clock::now();
  curl_multi_add_handle(static_cast<CURLM*>(multi_), e);
  transfers_[e] = std::move(t);
}

void HttpEngine::poll(double max_wait_s) {
  const int wait_ms = max_wait_s > 0 ? static_cast<int>(max_wait_s * 1000) : 0;
  if (transfers_.empty()) return plain_.poll(wait_ms);
  if (plain_.running() == 0) return poll_curl(wait_ms, -1);
  // Both busy: libcurl's wait also wakes for the plain engine's sockets, and not at all when it has answers waiting.
  poll_curl(plain_.has_finished() ? 0 : wait_ms, plain_.readiness_fd());
  plain_.poll(0);
}

void HttpEngine::poll_curl(int wait_ms, int extra_fd) {
  CURLM* m = static_cast<CURLM*>(multi_);
  int still = 0;
  curl_multi_perform(m, &still);
  if (still > 0 && wait_ms > 0) {
    curl_waitfd extra{extra_fd, CURL_WAIT_POLLIN, 0};
    curl_multi_poll(m, extra_fd >= 0 ? &extra : nullptr, extra_fd >= 0 ? 1 : 0, wait_ms, nullptr);
    curl_multi_perform(m, &still);
  }
  int left = 0;
  while (CURLMsg* msg = curl_multi_info_read(m, &left)) {
    if (msg->msg != CURLMSG_DONE) continue;
    CURL* e = msg->easy_handle;
    auto it = transfers_.find(e);
    if (it == transfers_.end()) continue;
    std::unique_ptr<Transfer> t = std::move(it->second);
    transfers_.erase(it);
    CURLcode rc = msg->data.result;
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &t->response.status);
    t->response.total_ms = ms_since(t->started);
    if (rc != CURLE_OK) {
      t->response.transport_error = t->error[0] ? t->error : curl_easy_strerror(rc);
      t->response.timed_out = rc == CURLE_OPERATION_TIMEDOUT;
    }
    curl_multi_remove_handle(m, e);
    curl_easy_reset(e);
    idle_.push_back(e);
    curl_slist_free_all(t->headers);
    t->on_done(std::move(t->response));
  }
}

HttpResponse http_call(const HttpRequest& req, double timeout_s) {
  HttpEngine engine;
  std::optional<HttpResponse> out;
  engine.start(req, timeout_s, nullptr, [&out](HttpResponse&& r) { out = std::move(r); });
  while (!out) engine.poll(0.2);
  return std::move(*out);
}

}  // namespace reckon
