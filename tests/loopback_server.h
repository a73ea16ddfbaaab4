#pragma once
// A loopback HTTP server that speaks whatever a test scripts: recorded provider bodies, SSE
// streams, and faults (status codes with retry hints, slow answers, resets, cut streams).
#include <httplib.h>

#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace reckon::test {

struct Scripted {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;                 // plain body (when chunks is empty)
  std::vector<std::string> chunks;  // written one by one (SSE)
  std::string content_type = "application/json";
  bool cut = false;                 // close the connection before finishing the body
  int delay_ms = 0;
};

// SSE wire text for a fixture's `*.chunks.txt` (one JSON payload per line). `with_event_names`
// adds `event: <type>` lines (Anthropic); `done` appends `data: [DONE]` (OpenAI Chat).
std::vector<std::string> sse_from_chunks_file(const std::string& path, bool with_event_names, bool done);

struct SeenRequest {
  std::string path, body;
  httplib::Headers headers;
};

class LoopbackServer {
 public:
  LoopbackServer();
  ~LoopbackServer();
  std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  void enqueue(Scripted s);               // answered in order
  void set_default(Scripted s);           // once the queue is empty
  void clear_queue();                     // drops what is still scripted
  std::vector<SeenRequest> requests();
  size_t request_count();
  // The most requests the server was answering at once (its handlers overlap while they wait out
  // `delay_ms`): how a test sees a client's concurrency without timing it.
  size_t max_in_flight();

 private:
  httplib::Server svr_;
  std::thread thread_;
  int port_ = 0;
  std::mutex mu_;
  std::deque<Scripted> queue_;
  Scripted default_;
  std::vector<SeenRequest> seen_;
  size_t in_flight_ = 0, max_in_flight_ = 0;
};

}  // namespace reckon::test
