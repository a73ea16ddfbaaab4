#include "providers/http1_engine.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "providers/http_engine.h"

namespace reckon {
namespace {

// A TCP server on loopback whose every connection runs `handler` on its own thread: the bytes on the
// wire are the test's to choose (keep-alive, early closes, stalls), which an HTTP library would not allow.
class RawServer {
 public:
  using Handler = std::function<void(int fd, int connection, const std::atomic<bool>& stop)>;
  explicit RawServer(Handler h) : handler_(std::move(h)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    ::listen(fd_, 512);
    acceptor_ = std::thread([this] {
      while (!stop_) {
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, 20) <= 0) continue;
        const int c = ::accept(fd_, nullptr, nullptr);
        if (c < 0) continue;
        const int index = accepted_++;
        std::lock_guard<std::mutex> lock(mu_);
        connections_.emplace_back([this, c, index] {
          handler_(c, index, stop_);
          ::close(c);
        });
      }
    });
  }
  ~RawServer() {
    stop_ = true;
    acceptor_.join();
    for (auto& t : connections_) t.join();
    ::close(fd_);
  }
  std::string url(const std::string& path) const { return "http://127.0.0.1:" + std::to_string(port_) + path; }
  int accepted() const { return accepted_; }
  int port() const { return port_; }

 private:
  Handler handler_;
  int fd_ = -1, port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> accepted_{0};
  std::mutex mu_;
  std::vector<std::thread> connections_;
  std::thread acceptor_;
};

// Reads one request (head, then a Content-Length body); false when the client closed first.
bool read_request(int fd, std::string& head, std::string& body, std::string& pending) {
  for (;;) {
    const size_t end = pending.find("\r\n\r\n");
    if (end != std::string::npos) {
      head = pending.substr(0, end + 4);
      size_t length = 0;
      const size_t at = head.find("Content-Length: ");
      if (at != std::string::npos) length = std::stoul(head.substr(at + 16));
      while (pending.size() < end + 4 + length) {
        char buf[4096];
        const ssize_t r = ::recv(fd, buf, sizeof buf, 0);
        if (r <= 0) return false;
        pending.append(buf, static_cast<size_t>(r));
      }
      body = pending.substr(end + 4, length);
      pending.erase(0, end + 4 + length);
      return true;
    }
    char buf[4096];
    const ssize_t r = ::recv(fd, buf, sizeof buf, 0);
    if (r <= 0) return false;
    pending.append(buf, static_cast<size_t>(r));
  }
}

void send_all(int fd, const std::string& s) {
  size_t off = 0;
  while (off < s.size()) {
    const ssize_t w = ::send(fd, s.data() + off, s.size() - off, MSG_NOSIGNAL);
    if (w <= 0) return;
    off += static_cast<size_t>(w);
  }
}

std::string ok_response(const std::string& body) {
  return "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

// Runs the engine until every started request is done.
void drain(Http1Engine& e) {
  for (int i = 0; i < 2000 && e.running() > 0; ++i) e.poll(50);
}

struct Outcome {
  std::optional<HttpResponse> response;
  void operator()(HttpResponse&& r) { response = std::move(r); }
};

HttpRequest post(const std::string& url, const std::string& body) {
  return HttpRequest{url, {{"Content-Type", "application/json"}, {"Authorization", "Bearer sk-test"}}, body, "POST"};
}

}  // namespace

TEST_CASE("plain http addresses are split for a connection, and others are left to libcurl", "[http1]") {
  auto u = parse_plain_http_url("http://localhost:8000/v1/chat/completions?x=1#frag");
  REQUIRE(u);
  CHECK(u->host == "localhost");
  CHECK(u->port == "8000");
  CHECK(u->host_header == "localhost:8000");
  CHECK(u->target == "/v1/chat/completions?x=1");
  u = parse_plain_http_url("HTTP://[::1]:9/x");
  REQUIRE(u);
  CHECK(u->host == "::1");
  CHECK(u->host_header == "[::1]:9");
  u = parse_plain_http_url("http://example.org");
  REQUIRE(u);
  CHECK(u->port == "80");
  CHECK(u->target == "/");
  CHECK(parse_plain_http_url("http://h?q=1")->target == "/?q=1");
  for (const char* other : {"https://api.openai.com/v1", "http://user:pw@host/", "http://host:99999/", "http://host:0/", "http://:80/",
                            "http:/x", "ftp://host/", "http://[::1/", "http://host/a b"})
    CHECK_FALSE(parse_plain_http_url(other));
}

TEST_CASE("requests share one kept-alive connection and go out as HTTP/1.1 with their headers and body", "[http1]") {
  std::mutex mu;
  std::vector<std::string> heads, bodies;
  RawServer server([&](int fd, int, const std::atomic<bool>&) {
    std::string head, body, pending;
    while (read_request(fd, head, body, pending)) {
      {
        std::lock_guard<std::mutex> lock(mu);
        heads.push_back(head);
        bodies.push_back(body);
      }
      send_all(fd, ok_response("answer to " + body));
    }
  });
  Http1Engine engine;
  const auto url = parse_plain_http_url(server.url("/v1/chat/completions"));
  for (int i = 0; i < 3; ++i) {
    Outcome out;
    const std::string body = "{\"n\":" + std::to_string(i) + "}";
    engine.start(*url, post(server.url("/v1/chat/completions"), body), 5, nullptr, std::ref(out));
    drain(engine);
    REQUIRE(out.response);
    CHECK(out.response->transport_error.empty());
    CHECK(out.response->status == 200);
    CHECK(out.response->body == "answer to " + body);
    CHECK(out.response->first_byte_ms.has_value());
  }
  CHECK(server.accepted() == 1);
  CHECK(engine.connections_opened() == 1);
  REQUIRE(heads.size() == 3);
  const std::string port = std::to_string(server.port());
  CHECK(heads[1] ==
        "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1:" + port +
            "\r\nUser-Agent: reckon/" RECKON_VERSION
            "\r\nAccept: */*\r\nContent-Type: application/json\r\nAuthorization: Bearer sk-test\r\nContent-Length: 7\r\n\r\n");
  CHECK(bodies[2] == "{\"n\":2}");
}

TEST_CASE("a kept-alive connection the server dropped is replaced, and the request reaches the server once", "[http1]") {
  std::atomic<int> served{0}, dropped{0};
  RawServer server([&](int fd, int connection, const std::atomic<bool>&) {
    std::string head, body, pending;
    if (!read_request(fd, head, body, pending)) return;
    if (connection == 0) {
      send_all(fd, ok_response("first"));
      // The server then takes the next request on this connection and closes without answering, as a
      // server does whose keep-alive timer fired just as the request arrived.
      if (read_request(fd, head, body, pending)) ++dropped;
      return;
    }
    ++served;
    send_all(fd, ok_response("from a fresh connection"));
  });
  Http1Engine engine;
  const auto url = parse_plain_http_url(server.url("/"));
  Outcome first, second;
  engine.start(*url, post(server.url("/"), "a"), 5, nullptr, std::ref(first));
  drain(engine);
  engine.start(*url, post(server.url("/"), "b"), 5, nullptr, std::ref(second));
  drain(engine);
  REQUIRE(second.response);
  CHECK(second.response->transport_error.empty());
  CHECK(second.response->body == "from a fresh connection");
  CHECK(dropped == 1);
  CHECK(served == 1);
  CHECK(server.accepted() == 2);
}

TEST_CASE("an idle kept-alive connection the server closes is let go as it closes, and the next request opens another", "[http1]") {
  std::atomic<bool> close_idle{false};
  std::atomic<int> requests{0};
  RawServer server([&](int fd, int connection, const std::atomic<bool>& stop) {
    std::string head, body, pending;
    if (!read_request(fd, head, body, pending)) return;
    ++requests;
    send_all(fd, ok_response("from connection " + std::to_string(connection)));
    if (connection > 0) {
      while (read_request(fd, head, body, pending)) ++requests, send_all(fd, ok_response("again"));
      return;
    }
    while (!close_idle && !stop) std::this_thread::sleep_for(std::chrono::milliseconds(2));
    // returning closes the connection the engine holds idle
  });
  Http1Engine engine;
  const auto url = parse_plain_http_url(server.url("/"));
  Outcome first, second;
  engine.start(*url, post(server.url("/"), "a"), 5, nullptr, std::ref(first));
  drain(engine);
  REQUIRE(first.response);
  CHECK(first.response->body == "from connection 0");
  CHECK(engine.idle_connections() == 1);
  close_idle = true;
  // Nothing is in flight: polling alone notices the close (the socket stays watched while idle).
  for (int i = 0; i < 400 && engine.idle_connections() > 0; ++i) {
    engine.poll(0);
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  CHECK(engine.idle_connections() == 0);
  engine.start(*url, post(server.url("/"), "b"), 5, nullptr, std::ref(second));
  drain(engine);
  REQUIRE(second.response);
  CHECK(second.response->transport_error.empty());
  CHECK(second.response->body == "from connection 1");
  CHECK(engine.idle_connections() == 1);
  CHECK(requests == 2);
  CHECK(engine.connections_opened() == 2);
}

TEST_CASE("a stalled server times the request out, a closed port refuses it, a cut body fails it", "[http1]") {
  RawServer stall([](int fd, int, const std::atomic<bool>& stop) {
    std::string head, body, pending;
    read_request(fd, head, body, pending);
    send_all(fd, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial");
    while (!stop) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  });
  RawServer cut([](int fd, int, const std::atomic<bool>&) {
    std::string head, body, pending;
    read_request(fd, head, body, pending);
    send_all(fd, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial");
  });
  int closed_port = 0;
  {
    RawServer gone([](int, int, const std::atomic<bool>&) {});
    closed_port = gone.port();
  }
  Http1Engine engine;
  Outcome timed, refused, truncated;
  const auto t0 = std::chrono::steady_clock::now();
  engine.start(*parse_plain_http_url(stall.url("/")), post(stall.url("/"), "x"), 0.3, nullptr, std::ref(timed));
  const std::string closed = "http://127.0.0.1:" + std::to_string(closed_port) + "/";
  engine.start(*parse_plain_http_url(closed), post(closed, "x"), 5, nullptr, std::ref(refused));
  engine.start(*parse_plain_http_url(cut.url("/")), post(cut.url("/"), "x"), 5, nullptr, std::ref(truncated));
  drain(engine);
  const double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  REQUIRE(timed.response);
  CHECK(timed.response->timed_out);
  CHECK(timed.response->status == 200);  // what came before the stall, as libcurl reports it
  CHECK_THAT(timed.response->transport_error, Catch::Contains("timed out") && Catch::Contains("with 7 bytes received"));
  CHECK(timed.response->total_ms >= 300);
  CHECK(waited < 2.0);
  REQUIRE(refused.response);
  CHECK(refused.response->status == 0);
  CHECK_FALSE(refused.response->timed_out);
  CHECK_THAT(refused.response->transport_error, Catch::Contains("Failed to connect to 127.0.0.1 port " + std::to_string(closed_port)));
  REQUIRE(truncated.response);
  CHECK_FALSE(truncated.response->timed_out);
  CHECK_THAT(truncated.response->transport_error, Catch::Contains("93 bytes of the body outstanding"));
}

TEST_CASE("a streamed body reaches its sink piece by piece before the response ends", "[http1]") {
  RawServer server([](int fd, int, const std::atomic<bool>&) {
    std::string head, body, pending;
    read_request(fd, head, body, pending);
    send_all(fd, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n");
    for (const char* event : {"data: {\"a\":1}\n\n", "data: {\"a\":2}\n\n", "data: [DONE]\n\n"}) {
      const std::string e = event;
      char size[16];
      std::snprintf(size, sizeof size, "%zx\r\n", e.size());
      send_all(fd, size + e + "\r\n");
      std::this_thread::sleep_for(std::chrono::milliseconds(30));
    }
    send_all(fd, "0\r\n\r\n");
  });
  Http1Engine engine;
  std::vector<std::string> pieces;
  Outcome out;
  engine.start(*parse_plain_http_url(server.url("/s")), post(server.url("/s"), "{}"), 5,
               [&](const char* p, size_t n) { pieces.emplace_back(p, n); }, std::ref(out));
  drain(engine);
  REQUIRE(out.response);
  CHECK(out.response->transport_error.empty());
  CHECK(out.response->body.empty());
  CHECK(pieces.size() >= 2);  // the server paused between events (two may still land in one read on a busy machine)
  std::string joined;
  for (const auto& p : pieces) joined += p;
  CHECK(joined == "data: {\"a\":1}\n\ndata: {\"a\":2}\n\ndata: [DONE]\n\n");
}

TEST_CASE("many requests in flight each get their own answer", "[http1]") {
  RawServer server([](int fd, int, const std::atomic<bool>&) {
    std::string head, body, pending;
    while (read_request(fd, head, body, pending)) send_all(fd, ok_response(head.substr(0, head.find(" HTTP/1.1")) + "|" + body));
  });
  Http1Engine engine;
  const int n = 200;
  std::vector<Outcome> outs(n);
  for (int i = 0; i < n; ++i) {
    const std::string u = server.url("/q/" + std::to_string(i));
    engine.start(*parse_plain_http_url(u), post(u, "body " + std::to_string(i)), 10, nullptr, std::ref(outs[i]));
  }
  drain(engine);
  for (int i = 0; i < n; ++i) {
    REQUIRE(outs[i].response);
    CHECK(outs[i].response->body == "POST /q/" + std::to_string(i) + "|body " + std::to_string(i));
  }
  // Then a second wave reuses the connections the first opened.
  const int opened = engine.connections_opened();
  for (int i = 0; i < n; ++i) {
    const std::string u = server.url("/r");
    engine.start(*parse_plain_http_url(u), post(u, "again"), 10, nullptr, [](HttpResponse&&) {});
  }
  drain(engine);
  CHECK(engine.connections_opened() == opened);
}

TEST_CASE("HttpEngine sends plain http natively beside libcurl, and libcurl takes it when asked or proxied", "[http1]") {
  RawServer server([](int fd, int, const std::atomic<bool>&) {
    std::string head, body, pending;
    while (read_request(fd, head, body, pending)) {
      if (body == "slow") std::this_thread::sleep_for(std::chrono::milliseconds(300));
      // libcurl's request names itself by its Accept-Encoding line; the native one sends none.
      send_all(fd, ok_response(std::string(head.find("Accept-Encoding") != std::string::npos ? "curl" : "native") + ":" + body));
    }
  });
  SECTION("both paths busy at once: the fast native answer is not held behind libcurl's slow one") {
    HttpEngine engine;
    std::vector<std::string> order;
    const std::string with_user = "http://u:p@127.0.0.1:" + std::to_string(server.port()) + "/";  // credentials: libcurl's path
    engine.start(post(with_user, "slow"), 5, nullptr, [&](HttpResponse&& r) { order.push_back(r.body); });
    engine.start(post(server.url("/"), "fast"), 5, nullptr, [&](HttpResponse&& r) { order.push_back(r.body); });
    for (int i = 0; i < 200 && engine.running() > 0; ++i) engine.poll(0.05);
    CHECK(order == std::vector<std::string>{"native:fast", "curl:slow"});
  }
  SECTION("RECKON_HTTP_ENGINE=curl and a proxy variable send it through libcurl") {
    for (const char* var : {"RECKON_HTTP_ENGINE", "http_proxy"}) {
      const std::string value = std::string(var) == "http_proxy" ? "http://127.0.0.1:" + std::to_string(server.port()) : "curl";
      ::setenv(var, value.c_str(), 1);
      ::setenv("no_proxy", "*", 1);  // libcurl then goes direct; the native engine still stands aside
      std::string body;
      {
        HttpEngine engine;
        engine.start(post(server.url("/"), "x"), 5, nullptr, [&](HttpResponse&& r) { body = r.body; });
        for (int i = 0; i < 200 && engine.running() > 0; ++i) engine.poll(0.05);
      }
      ::unsetenv(var);
      ::unsetenv("no_proxy");
      CHECK(body == "curl:x");
    }
  }
}

}  // namespace reckon
