#include "providers/http1_engine.h"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "providers/http1_response.h"
#include "providers/http_engine.h"

namespace reckon {
namespace {

constexpr auto kConnectTimeout = std::chrono::seconds(30);  // as the libcurl path sets it
constexpr auto kDnsLifetime = std::chrono::seconds(60);      // libcurl's default DNS cache lifetime
constexpr size_t kIdlePerHost = 1024;
constexpr int kEventsPerPoll = 256;

double ms_between(std::chrono::steady_clock::time_point a, std::chrono::steady_clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

std::string errno_text(int e) { return std::strerror(e); }

}  // namespace

std::optional<PlainHttpUrl> parse_plain_http_url(const std::string& url) {
  constexpr std::string_view scheme = "http://";
  if (url.size() <= scheme.size()) return std::nullopt;
  for (size_t i = 0; i < scheme.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(url[i])) != scheme[i]) return std::nullopt;
  const size_t auth_start = scheme.size();
  const size_t auth_end = url.find_first_of("/?#", auth_start);
  const std::string authority = url.substr(auth_start, auth_end == std::string::npos ? std::string::npos : auth_end - auth_start);
  if (authority.empty() || authority.find('@') != std::string::npos) return std::nullopt;  // credentials: libcurl's job
  PlainHttpUrl out;
  out.host_header = authority;
  std::string port;
  if (authority[0] == '[') {
    const size_t close = authority.find(']');
    if (close == std::string::npos) return std::nullopt;
    out.host = authority.substr(1, close - 1);
    if (close + 1 < authority.size()) {
      if (authority[close + 1] != ':') return std::nullopt;
      port = authority.substr(close + 2);
    }
  } else {
    const size_t colon = authority.rfind(':');
    out.host = authority.substr(0, colon);
    if (colon != std::string::npos) port = authority.substr(colon + 1);
  }
  if (out.host.empty() || out.host.find_first_of(" \t\r\n") != std::string::npos) return std::nullopt;
  if (port.empty()) port = "80";
  if (port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos || std::stoi(port) == 0 || std::stoi(port) > 65535)
    return std::nullopt;
  out.port = port;
  if (auth_end == std::string::npos || url[auth_end] == '#') {
    out.target = "/";
  } else {
    const size_t hash = url.find('#', auth_end);
    out.target = url.substr(auth_end, hash == std::string::npos ? std::string::npos : hash - auth_end);
    if (out.target[0] == '?') out.target.insert(0, "/");
  }
  if (out.target.find_first_of(" \r\n") != std::string::npos) return std::nullopt;  // not sendable as written
  return out;
}

struct Http1Engine::Transfer {
  PlainHttpUrl url;
  std::string pool_key;
  bool head = false;
  std::string out;  // the request as sent
  size_t sent = 0;
  OnData on_data;
  OnDone on_done;
  HttpResponse response;
  std::unique_ptr<Http1Response> reader;
  Clock::time_point started, deadline, connect_deadline;
  int fd = -1;
  bool connecting = false, reused = false, retried = false;
  size_t next_address = 0;
  std::string connect_error;
};

Http1Engine::Http1Engine() : epoll_(epoll_create1(EPOLL_CLOEXEC)) {
  if (epoll_ < 0) throw std::runtime_error("epoll_create1: " + errno_text(errno));
}

Http1Engine::~Http1Engine() {
  for (auto& [raw, t] : live_)
    if (t->fd >= 0) ::close(t->fd);
  for (auto& [key, fds] : idle_)
    for (int fd : fds) ::close(fd);
  ::close(epoll_);
}

void Http1Engine::start(const PlainHttpUrl& url, const HttpRequest& req, double timeout_s, OnData on_data, OnDone on_done) {
  auto t = std::make_unique<Transfer>();
  t->url = url;
  t->pool_key = url.host + "|" + url.port;
  t->head = req.method == "HEAD";
  t->on_data = std::move(on_data);
  t->on_done = std::move(on_done);
  const bool with_body = req.method != "GET" && req.method != "HEAD";
  std::string& o = t->out;
  o.reserve(256 + req.body.size());
  o.append(req.method).append(" ").append(url.target).append(" HTTP/1.1\r\nHost: ").append(url.host_header);
  o.append("\r\nUser-Agent: reckon/" RECKON_VERSION "\r\nAccept: */*\r\n");
  for (const auto& [k, v] : req.headers) o.append(k).append(": ").append(v).append("\r\n");
  if (with_body) o.append("Content-Length: ").append(std::to_string(req.body.size())).append("\r\n");
  o.append("\r\n");
  if (with_body) o.append(req.body);
  t->started = Clock::now();
  t->deadline = timeout_s > 0 ? t->started + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(timeout_s))
                              : Clock::time_point::max();
  Transfer* raw = t.get();
  live_.emplace(raw, std::move(t));
  if (!use_pooled(*raw)) connect_fresh(*raw);
}

bool Http1Engine::use_pooled(Transfer& t) {
  auto it = idle_.find(t.pool_key);
  if (it == idle_.end() || it->second.empty()) return false;
  // Sockets the server closed were dropped as the last poll saw them; one closed since then fails
  // unsent, and lost() asks again on a fresh connection.
  const int fd = it->second.back();
  it->second.pop_back();
  --idle_count_;
  attach(t, fd, true);
  return true;
}

void Http1Engine::forget_idle(int fd) {
  for (auto& [key, fds] : idle_) {
    auto it = std::find(fds.begin(), fds.end(), fd);
    if (it == fds.end()) continue;
    fds.erase(it);
    --idle_count_;
    break;
  }
  sockets_[static_cast<size_t>(fd)] = Socket{};
  ::close(fd);
}

void Http1Engine::register_fd(int fd, uint32_t events) {
  Socket& s = sockets_[static_cast<size_t>(fd)];
  if (s.events == events) return;
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = (static_cast<uint64_t>(s.generation) << 32) | static_cast<uint32_t>(fd);
  ::epoll_ctl(epoll_, s.events ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, &ev);
  s.events = events;
}

const std::vector<std::vector<char>>& Http1Engine::addresses(const PlainHttpUrl& url, const std::string& key, std::string& error) {
  static const std::vector<std::vector<char>> none;
  const auto now = Clock::now();
  auto it = dns_.find(key);
  if (it != dns_.end() && now - it->second.at < kDnsLifetime) return it->second.addrs;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  const int rc = ::getaddrinfo(url.host.c_str(), url.port.c_str(), &hints, &res);
  if (rc != 0 || !res) {
    error = "Could not resolve host: " + url.host + " (" + gai_strerror(rc) + ")";
    return none;
  }
  Resolved r{now, {}};
  for (addrinfo* a = res; a; a = a->ai_next) {
    const char* p = reinterpret_cast<const char*>(a->ai_addr);
    r.addrs.emplace_back(p, p + a->ai_addrlen);
  }
  ::freeaddrinfo(res);
  return (dns_[key] = std::move(r)).addrs;
}

void Http1Engine::connect_fresh(Transfer& t) {
  std::string error;
  const auto& addrs = addresses(t.url, t.pool_key, error);
  if (addrs.empty()) return finish(t, error);
  while (t.next_address < addrs.size()) {
    const auto& a = addrs[t.next_address++];
    const auto* sa = reinterpret_cast<const sockaddr*>(a.data());
    const int fd = ::socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      t.connect_error = errno_text(errno);
      continue;
    }
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    ++opened_;
    if (::connect(fd, sa, static_cast<socklen_t>(a.size())) == 0 || errno == EINPROGRESS) {
      t.connecting = true;
      t.connect_deadline = Clock::now() + kConnectTimeout;
      attach(t, fd, false);
      return;
    }
    t.connect_error = errno_text(errno);
    ::close(fd);
  }
  finish(t, "Failed to connect to " + t.url.host + " port " + t.url.port + ": " + t.connect_error);
}

void Http1Engine::attach(Transfer& t, int fd, bool reused) {
  t.fd = fd;
  t.reused = reused;
  t.sent = 0;
  if (sockets_.size() <= static_cast<size_t>(fd)) sockets_.resize(static_cast<size_t>(fd) + 1);
  Socket& s = sockets_[static_cast<size_t>(fd)];
  if (reused) s.owner = &t;  // still registered from its last request
  else s = Socket{&t, 0, ++generation_};
  Transfer* raw = &t;
  t.reader = std::make_unique<Http1Response>(
      [raw](const char* p, size_t n) {
        if (!raw->response.first_byte_ms) raw->response.first_byte_ms = ms_between(raw->started, Clock::now());
        if (raw->on_data) raw->on_data(p, n);
        else raw->response.body.append(p, n);
      },
      t.head);
  if (t.connecting) register_fd(fd, EPOLLOUT);
  else send_some(t);
}

void Http1Engine::send_some(Transfer& t) {
  while (t.sent < t.out.size()) {
    const ssize_t w = ::send(t.fd, t.out.data() + t.sent, t.out.size() - t.sent, MSG_NOSIGNAL);
    if (w > 0) {
      t.sent += static_cast<size_t>(w);
    } else if (w < 0 && errno == EINTR) {
      continue;
    } else if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      break;
    } else {
      return lost(t, "Send failure: " + errno_text(errno));
    }
  }
  register_fd(t.fd, EPOLLIN | (t.sent < t.out.size() ? EPOLLOUT : 0u));
}

void Http1Engine::receive(Transfer& t) {
  char buf[64 * 1024];
  for (;;) {
    const ssize_t r = ::recv(t.fd, buf, sizeof buf, 0);
    if (r > 0) {
      const size_t used = t.reader->feed(buf, static_cast<size_t>(r));
      if (t.reader->failed()) return finish(t, t.reader->error());
      if (t.reader->complete()) {
        // Bytes past the response, or a request not fully sent: the connection's state is unknown, so it is not kept.
        const bool reusable = t.reader->keep_alive() && used == static_cast<size_t>(r) && t.sent == t.out.size();
        if (auto& pool = idle_[t.pool_key]; reusable && pool.size() < kIdlePerHost) {
          pool.push_back(t.fd);  // it stays registered for EPOLLIN: a server closing it is seen
          ++idle_count_;
          sockets_[static_cast<size_t>(t.fd)].owner = nullptr;
          t.fd = -1;
        }
        return finish(t);
      }
      if (static_cast<size_t>(r) < sizeof buf) return;  // drained for now; epoll says when there is more
      continue;
    }
    if (r == 0) {
      t.reader->end_of_stream();
      if (t.reader->complete()) return finish(t);
      return t.reader->started() ? finish(t, t.reader->error()) : lost(t, "Empty reply from server");
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return;
    const std::string why = "Recv failure: " + errno_text(errno);
    return t.reader->started() ? finish(t, why) : lost(t, why);
  }
}

void Http1Engine::lost(Transfer& t, const std::string& why) {
  // A kept-alive connection the server closed just as it was reused: the request never reached it, so it
  // goes once more on a fresh connection (what libcurl does). Anything else is the request's failure.
  if (t.reused && !t.retried && !t.reader->started()) {
    drop_connection(t);
    t.retried = true;
    t.next_address = 0;
    return connect_fresh(t);
  }
  finish(t, why);
}

void Http1Engine::drop_connection(Transfer& t) {
  if (t.fd >= 0) {
    sockets_[static_cast<size_t>(t.fd)] = Socket{};
    ::close(t.fd);  // closing removes it from the epoll set
  }
  t.fd = -1;
}

void Http1Engine::finish(Transfer& t, std::string error, bool timed_out) {
  drop_connection(t);
  if (t.reader) {
    t.response.status = t.reader->status();
    t.response.headers = t.reader->headers();
  }
  t.response.transport_error = std::move(error);
  t.response.timed_out = timed_out;
  t.response.total_ms = ms_between(t.started, Clock::now());
  t.reader.reset();
  auto it = live_.find(&t);
  finished_.push_back(std::move(it->second));
  live_.erase(it);
}

void Http1Engine::sweep_deadlines() {
  const auto now = Clock::now();
  last_sweep_ = now;
  std::vector<Transfer*> late;
  for (auto& [raw, t] : live_)
    if (now >= t->deadline || (t->connecting && now >= t->connect_deadline)) late.push_back(raw);
  for (Transfer* t : late) {
    const bool connect = t->connecting && now >= t->connect_deadline && now < t->deadline;
    const std::string why = connect ? "Connection timed out after " + std::to_string(static_cast<long>(ms_between(t->started, now))) + " milliseconds"
                                    : "Operation timed out after " + std::to_string(static_cast<long>(ms_between(t->started, now))) +
                                          " milliseconds with " + std::to_string(t->reader ? t->reader->body_bytes() : 0) + " bytes received";
    finish(*t, why, true);
  }
}

void Http1Engine::poll(int wait_ms) {
  if (!live_.empty() || idle_count_ > 0) {
    // Deadlines are checked at least every 50 ms while requests are in flight.
    const int wait = finished_.empty() && !live_.empty() ? std::min(std::max(wait_ms, 0), 50) : 0;
    epoll_event events[kEventsPerPoll];
    const int n = ::epoll_wait(epoll_, events, kEventsPerPoll, wait);
    for (int i = 0; i < n; ++i) {
      const int fd = static_cast<int>(static_cast<uint32_t>(events[i].data.u64));
      const auto generation = static_cast<uint32_t>(events[i].data.u64 >> 32);
      // The socket an event was for may have been closed (and its fd reused) earlier in this batch.
      auto current = [&] {
        return static_cast<size_t>(fd) < sockets_.size() && sockets_[static_cast<size_t>(fd)].generation == generation;
      };
      if (!current()) continue;
      Transfer* t = sockets_[static_cast<size_t>(fd)].owner;
      if (!t) {
        forget_idle(fd);
        continue;
      }
      const uint32_t ev = events[i].events;
      if (t->connecting) {
        int err = 0;
        socklen_t len = sizeof err;
        ::getsockopt(t->fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err != 0) {
          t->connect_error = errno_text(err);
          drop_connection(*t);
          connect_fresh(*t);  // the next address, or the failure
          continue;
        }
        if (!(ev & EPOLLOUT)) continue;
        t->connecting = false;
        send_some(*t);
        continue;
      }
      if ((ev & EPOLLOUT) && t->sent < t->out.size()) send_some(*t);
      if (current() && t->fd == fd && !t->connecting && (ev & (EPOLLIN | EPOLLHUP | EPOLLERR))) receive(*t);
    }
    if (Clock::now() - last_sweep_ >= std::chrono::milliseconds(10)) sweep_deadlines();
  }
  // Callbacks run last: they may start requests of their own.
  auto done = std::move(finished_);
  finished_.clear();
  for (auto& t : done) t->on_done(std::move(t->response));
}

}  // namespace reckon
