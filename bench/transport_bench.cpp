// Requests per second through reckon's transport against a loopback OpenAI-compatible server,
// reported as a ratio to raw libcurl multi on the same server in the same run (noise cancels).
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "providers/client.h"
#include "tests/loopback_server.h"

using namespace reckon;

namespace {

const char* kBody =
    R"({"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"gpt-5.4","choices":[{"index":0,"message":{"role":"assistant","content":"The answer is 42."},"finish_reason":"stop"}],"usage":{"prompt_tokens":19,"completion_tokens":10,"total_tokens":29,"prompt_tokens_details":{"cached_tokens":0},"completion_tokens_details":{"reasoning_tokens":0}}})";

double raw_curl(const std::string& base, int n, int concurrency) {
  HttpEngine engine;
  HttpRequest req{base + "/chat/completions", {{"Content-Type", "application/json"}}, R"({"model":"gpt-5.4","messages":[{"role":"user","content":"q"}]})"};
  int started = 0, done = 0;
  auto t0 = std::chrono::steady_clock::now();
  while (done < n) {
    while (started < n && engine.running() < concurrency) {
      engine.start(req, 30, nullptr, [&](HttpResponse&&) { ++done; });
      ++started;
    }
    engine.poll(0.01);
  }
  return n / std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

double reckon_client(const std::string& base, int n, int concurrency) {
  SystemClock clock;
  ClientOptions o;
  o.max_concurrency = concurrency;
  ModelClient client(o, clock);
  int ok = 0;
  for (int i = 0; i < n; ++i) {
    ChatRequest r{{"openai", "gpt-5.4", {}}, {{"user", "q"}}};
    r.model.params.base_url = base;
    client.submit(r, i, [&](const ChatRequest&, const CallResult& res) { ok += res.ok; });
  }
  auto t0 = std::chrono::steady_clock::now();
  client.run();
  double rate = n / std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (ok != n) std::fprintf(stderr, "warning: %d of %d requests failed\n", n - ok, n);
  return rate;
}

}  // namespace

int main(int argc, char** argv) {
  int n = argc > 1 ? std::atoi(argv[1]) : 3000;
  test::LoopbackServer server;
  server.set_default({200, {}, kBody});
  std::printf("%-34s %12s %12s %8s\n", "transport (loopback, fixed body)", "raw curl r/s", "reckon r/s", "ratio");
  for (int c : {16, 64}) {
    raw_curl(server.base_url(), 200, c);  // warm up connections
    double base = raw_curl(server.base_url(), n, c);
    double ours = reckon_client(server.base_url(), n, c);
    std::printf("%-34s %12.0f %12.0f %8.2f\n", ("concurrency " + std::to_string(c)).c_str(), base, ours, ours / base);
  }
  return 0;
}
