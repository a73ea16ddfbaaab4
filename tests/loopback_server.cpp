#include "tests/loopback_server.h"

#include <algorithm>
#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>

namespace reckon::test {

std::vector<std::string> sse_from_chunks_file(const std::string& path, bool with_event_names, bool done) {
  std::ifstream in(path);
  std::vector<std::string> out;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    std::string ev;
    if (with_event_names) {
      auto j = nlohmann::json::parse(line, nullptr, false);
      if (!j.is_discarded() && j.contains("type")) ev = "event: " + j["type"].get<std::string>() + "\n";
    }
    out.push_back(ev + "data: " + line + "\n\n");
  }
  if (done) out.push_back("data: [DONE]\n\n");
  return out;
}

LoopbackServer::LoopbackServer() {
  default_.body = R"({"error":{"message":"no scripted response","type":"server_error","code":null,"param":null}})";
  default_.status = 500;
  // Enough workers for the concurrency tests: each keep-alive connection holds one.
  svr_.new_task_queue = [] { return new httplib::ThreadPool(96); };
  svr_.Post(R"(.*)", [this](const httplib::Request& req, httplib::Response& res) {
    Scripted s;
    {
      std::lock_guard<std::mutex> lock(mu_);
      seen_.push_back({req.path, req.body, req.headers});
      max_in_flight_ = std::max(max_in_flight_, ++in_flight_);
      if (!queue_.empty()) {
        s = queue_.front();
        queue_.pop_front();
      } else {
        s = default_;
      }
    }
    if (s.delay_ms) std::this_thread::sleep_for(std::chrono::milliseconds(s.delay_ms));
    {
      std::lock_guard<std::mutex> lock(mu_);
      --in_flight_;
    }
    res.status = s.status;
    for (const auto& [k, v] : s.headers) res.set_header(k, v);
    if (s.chunks.empty() && !s.cut) {
      res.set_content(s.body, s.content_type.c_str());
      return;
    }
    std::vector<std::string> parts = s.chunks.empty() ? std::vector<std::string>{s.body.substr(0, s.body.size() / 2)} : s.chunks;
    bool cut = s.cut;
    res.set_chunked_content_provider(s.content_type, [parts, cut](size_t, httplib::DataSink& sink) {
      for (const auto& p : parts)
        if (!sink.write(p.data(), p.size())) return false;
      if (cut) return false;  // drop the connection: the client sees a transfer cut short
      sink.done();
      return true;
    });
  });
  port_ = svr_.bind_to_any_port("127.0.0.1");
  thread_ = std::thread([this] { svr_.listen_after_bind(); });
  while (!svr_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

LoopbackServer::~LoopbackServer() {
  svr_.stop();
  thread_.join();
}

void LoopbackServer::enqueue(Scripted s) {
  std::lock_guard<std::mutex> lock(mu_);
  queue_.push_back(std::move(s));
}

void LoopbackServer::set_default(Scripted s) {
  std::lock_guard<std::mutex> lock(mu_);
  default_ = std::move(s);
}

void LoopbackServer::clear_queue() {
  std::lock_guard<std::mutex> lock(mu_);
  queue_.clear();
}

std::vector<SeenRequest> LoopbackServer::requests() {
  std::lock_guard<std::mutex> lock(mu_);
  return seen_;
}

size_t LoopbackServer::max_in_flight() {
  std::lock_guard<std::mutex> lock(mu_);
  return max_in_flight_;
}

size_t LoopbackServer::request_count() {
  std::lock_guard<std::mutex> lock(mu_);
  return seen_.size();
}

}  // namespace reckon::test
