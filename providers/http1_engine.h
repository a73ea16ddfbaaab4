#pragma once
// Plain-http requests (no TLS, no proxy) as HTTP/1.1 on epoll, with keep-alive connections pooled
// per host: the path to model servers on the same machine or network (vLLM, llama.cpp, Ollama, a
// gateway, a loopback test server). libcurl's multi interface visits every transfer on each wake-up
// and writes its request headers a byte at a time through its own printf; this engine touches only
// the sockets that are ready. HttpEngine chooses it for http:// addresses (see there).
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "providers/adapter.h"

namespace reckon {

struct HttpResponse;

// An http:// address split for a connection: nothing when it is not plain http, or names a user.
struct PlainHttpUrl {
  std::string host;         // as written, without IPv6 brackets
  std::string port;         // "80" when not given
  std::string host_header;  // Host: as written in the address
  std::string target;       // path and query ("/" when empty); a fragment is dropped
};
std::optional<PlainHttpUrl> parse_plain_http_url(const std::string& url);

class Http1Engine {
 public:
  using OnData = std::function<void(const char*, size_t)>;
  using OnDone = std::function<void(HttpResponse&&)>;
  using Clock = std::chrono::steady_clock;

  Http1Engine();
  ~Http1Engine();
  Http1Engine(const Http1Engine&) = delete;
  Http1Engine& operator=(const Http1Engine&) = delete;

  void start(const PlainHttpUrl& url, const HttpRequest& req, double timeout_s, OnData on_data, OnDone on_done);
  // Serves ready sockets, waiting up to wait_ms for one; calls on_done for finished requests.
  void poll(int wait_ms);
  int running() const { return static_cast<int>(live_.size() + finished_.size()); }
  int readiness_fd() const { return epoll_; }  // readable when a socket of this engine is ready
  bool has_finished() const { return !finished_.empty(); }  // answers waiting for the next poll
  int connections_opened() const { return opened_; }  // fresh connections made so far (tests)
  size_t idle_connections() const { return idle_count_; }  // kept-alive sockets waiting for a request

 private:
  struct Transfer;
  void connect_fresh(Transfer& t);
  bool use_pooled(Transfer& t);
  void attach(Transfer& t, int fd, bool reused);
  void send_some(Transfer& t);
  void receive(Transfer& t);
  void lost(Transfer& t, const std::string& why);  // the connection failed: retry on a fresh one or fail
  void finish(Transfer& t, std::string error = {}, bool timed_out = false);
  void drop_connection(Transfer& t);
  void register_fd(int fd, uint32_t events);       // the socket's epoll interest, changed only when it differs
  void forget_idle(int fd);                           // an idle socket the server closed (or wrote on unasked)
  void sweep_deadlines();
  // `key`: the host's pool key ("host|port"), which also keys the DNS cache.
  const std::vector<std::vector<char>>& addresses(const PlainHttpUrl& url, const std::string& key, std::string& error);

  int epoll_ = -1;
  int opened_ = 0;
  std::unordered_map<Transfer*, std::unique_ptr<Transfer>> live_;
  std::vector<std::unique_ptr<Transfer>> finished_;          // on_done still to be called (from poll)
  std::map<std::string, std::vector<int>> idle_;              // "host:port" → kept-alive sockets
  size_t idle_count_ = 0;
  // Per socket (indexed by fd): the transfer using it (none while idle in a pool) and its epoll
  // interest. A socket stays registered from connect to close, idle too, so a request on a kept-alive
  // connection costs no epoll_ctl, and a server closing an idle one is seen as it happens.
  struct Socket {
    Transfer* owner = nullptr;
    uint32_t events = 0;      // 0: not registered
    uint32_t generation = 0;  // tells an event for a closed socket from one for its fd's next use
  };
  std::vector<Socket> sockets_;
  uint32_t generation_ = 0;
  struct Resolved {
    Clock::time_point at;
    std::vector<std::vector<char>> addrs;  // sockaddr bytes, in getaddrinfo's order
  };
  std::map<std::string, Resolved> dns_;
  Clock::time_point last_sweep_{};
};

}  // namespace reckon
