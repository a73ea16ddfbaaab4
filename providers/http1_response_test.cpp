#include "providers/http1_response.h"

#include <catch2/catch.hpp>

#include <string>

namespace reckon {
namespace {

struct Read {
  std::string body;
  Http1Response r;
  explicit Read(bool head = false) : r([this](const char* p, size_t n) { body.append(p, n); }, head) {}
};

// Feeds `wire` in the given piece sizes; returns the bytes the response said were its own.
size_t feed_in_pieces(Http1Response& r, const std::string& wire, size_t piece) {
  size_t used = 0;
  for (size_t at = 0; at < wire.size() && !r.complete() && !r.failed(); at += piece) {
    const size_t n = std::min(piece, wire.size() - at);
    used += r.feed(wire.data() + at, n);
  }
  return used;
}

const char* header(const Http1Response& r, const std::string& name) {
  for (const auto& [k, v] : r.headers())
    if (k == name) return v.c_str();
  return nullptr;
}

}  // namespace

TEST_CASE("a Content-Length response reads the same however the bytes are split, and leaves what follows it", "[http1]") {
  const std::string wire = "HTTP/1.1 200 OK\r\nContent-Type:  application/json \r\nContent-Length: 11\r\n\r\nhello world";
  for (size_t split = 0; split <= wire.size(); ++split) {
    Read x;
    size_t used = x.r.feed(wire.data(), split);
    used += x.r.feed(wire.data() + split, wire.size() - split);
    INFO("split at " << split);
    REQUIRE(x.r.complete());
    CHECK_FALSE(x.r.failed());
    CHECK(used == wire.size());
    CHECK(x.r.status() == 200);
    CHECK(x.body == "hello world");
    CHECK(x.r.keep_alive());
    REQUIRE(x.r.headers().size() == 2);
    CHECK(std::string(header(x.r, "Content-Type")) == "application/json");  // trimmed, as libcurl's path gives it
  }
  Read next;  // a second response on the same bytes is not this one's
  const std::string two = wire + "HTTP/1.1 204 No Content\r\n\r\n";
  CHECK(next.r.feed(two.data(), two.size()) == wire.size());
  CHECK(next.body == "hello world");
}

TEST_CASE("a chunked body is decoded byte by byte, extensions and trailers dropped", "[http1]") {
  const std::string wire =
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\nContent-Length: 999\r\n\r\n"
      "5;name=value\r\nhello\r\n6 \r\n world\r\nA\r\n, chunked!\r\n0\r\nX-Trailer: t\r\n\r\n";
  Read x;
  CHECK(feed_in_pieces(x.r, wire, 1) == wire.size());
  REQUIRE(x.r.complete());
  CHECK(x.body == "hello world, chunked!");  // Transfer-Encoding wins over Content-Length
  CHECK(x.r.body_bytes() == 21);
  CHECK(x.r.keep_alive());
}

TEST_CASE("interim 1xx responses are skipped, and the final response's headers are the ones kept", "[http1]") {
  Read x;
  const std::string wire = "HTTP/1.1 100 Continue\r\nX-A: 1\r\n\r\nHTTP/1.1 429 Too Many Requests\r\nRetry-After: 2\r\nContent-Length: 2\r\n\r\n{}";
  x.r.feed(wire.data(), wire.size());
  REQUIRE(x.r.complete());
  CHECK(x.r.status() == 429);
  CHECK(header(x.r, "X-A") == nullptr);
  CHECK(std::string(header(x.r, "Retry-After")) == "2");
  CHECK(x.body == "{}");
}

TEST_CASE("bodies without a length end with the connection, and some responses have no body at all", "[http1]") {
  SECTION("HTTP/1.0 without a length: the close ends it, and the connection is not kept") {
    Read x;
    const std::string wire = "HTTP/1.0 200 OK\r\n\r\nevery byte until close";
    CHECK(x.r.feed(wire.data(), wire.size()) == wire.size());
    CHECK_FALSE(x.r.complete());
    x.r.end_of_stream();
    REQUIRE(x.r.complete());
    CHECK(x.body == "every byte until close");
    CHECK_FALSE(x.r.keep_alive());
  }
  SECTION("Connection: close is honoured, keep-alive on HTTP/1.0 too") {
    Read a;
    std::string wire = "HTTP/1.1 200 OK\r\nConnection: Close\r\nContent-Length: 0\r\n\r\n";
    a.r.feed(wire.data(), wire.size());
    CHECK(a.r.complete());
    CHECK_FALSE(a.r.keep_alive());
    Read b;
    wire = "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 1\r\n\r\nx";
    b.r.feed(wire.data(), wire.size());
    CHECK(b.r.complete());
    CHECK(b.r.keep_alive());
  }
  SECTION("204, 304 and the answer to HEAD end with their headers") {
    for (const std::string wire : {"HTTP/1.1 204 No Content\r\n\r\n", "HTTP/1.1 304 Not Modified\r\nContent-Length: 50\r\n\r\n"}) {
      Read x;
      CHECK(x.r.feed(wire.data(), wire.size()) == wire.size());
      CHECK(x.r.complete());
      CHECK(x.body.empty());
    }
    Read head(true);
    const std::string wire = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n";
    head.r.feed(wire.data(), wire.size());
    CHECK(head.r.complete());
  }
  SECTION("a folded header line continues the value before it") {
    Read x;
    const std::string wire = "HTTP/1.1 200 OK\r\nX-Long: first\r\n  second\r\nContent-Length: 0\r\n\r\n";
    x.r.feed(wire.data(), wire.size());
    CHECK(std::string(header(x.r, "X-Long")) == "first second");
  }
}

TEST_CASE("a malformed or cut response fails with a reason instead of an answer", "[http1]") {
  struct Case {
    std::string wire;
    bool close;  // the connection closes after the bytes
    std::string reason;
  };
  const std::vector<Case> cases = {
      {"HTTP/2 200 OK\r\n\r\n", false, "malformed status line"},
      {"HTTP/1.1 20 OK\r\n\r\n", false, "malformed status line"},
      {"SSH-2.0-OpenSSH\r\n", false, "malformed status line"},
      {"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", false, "malformed header line"},
      {"HTTP/1.1 200 OK\r\nContent-Length: 12a\r\n\r\n", false, "bad Content-Length"},
      {"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", false, "conflicting Content-Length"},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", false, "bad chunk size"},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n", false, "chunk data longer than its size"},
      {"HTTP/1.1 101 Switching Protocols\r\n\r\n", false, "HTTP 101"},
      {"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", true, "7 bytes of the body outstanding"},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab", true, "inside the chunked body"},
      {"HTTP/1.1 200 OK\r\nContent-", true, "inside the response headers"},
  };
  for (const auto& c : cases) {
    INFO(c.wire);
    Read x;
    x.r.feed(c.wire.data(), c.wire.size());
    if (c.close) x.r.end_of_stream();
    REQUIRE(x.r.failed());
    CHECK_FALSE(x.r.complete());
    CHECK_FALSE(x.r.keep_alive());
    CHECK_THAT(x.r.error(), Catch::Contains(c.reason));
  }
  Read empty;
  empty.r.end_of_stream();
  CHECK_FALSE(empty.r.started());  // nothing came: the request may go again on a fresh connection
  CHECK_THAT(empty.r.error(), Catch::Contains("empty reply"));

  Read huge;  // headers are bounded (libcurl's limit is 100 KiB; this one 256 KiB)
  std::string wire = "HTTP/1.1 200 OK\r\n";
  const std::string line = "X-Pad: " + std::string(1000, 'p') + "\r\n";
  while (wire.size() < 300 * 1024) wire += line;
  huge.r.feed(wire.data(), wire.size());
  CHECK_THAT(huge.r.error(), Catch::Contains("256 KiB"));
}

}  // namespace reckon
