// Requests per second through reckon's transport against a loopback OpenAI-compatible server,
// reported as a ratio to raw libcurl multi on the same server in the same run (noise cancels):
// reckon's client over its own HTTP/1.1 engine (what plain http:// takes) and over libcurl.
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

// HttpEngine reads RECKON_HTTP_ENGINE when it is made: "curl" sends plain http through libcurl too.
void use_curl(bool on) {
  if (on) ::setenv("RECKON_HTTP_ENGINE", "curl", 1);
  else ::unsetenv("RECKON_HTTP_ENGINE");
}

double raw_curl(const std::string& base, int n, int concurrency) {
  use_curl(true);
  HttpEngine engine;
  use_curl(false);
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

double reckon_client(const std::string& base, int n, int concurrency, bool curl) {
  SystemClock clock;
  ClientOptions o;
  o.max_concurrency = concurrency;
  use_curl(curl);
  ModelClient client(o, clock);
  use_curl(false);
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
  std::printf("%-34s %12s %14s %14s %8s %8s\n", "transport (loopback, fixed body)", "raw curl r/s", "reckon/curl r/s",
              "reckon/http1 r/s", "curl", "http1");
  for (int c : {16, 64}) {
    raw_curl(server.base_url(), 200, c);  // warm up connections
    const double base = raw_curl(server.base_url(), n, c);
    const double via_curl = reckon_client(server.base_url(), n, c, true);
    const double native = reckon_client(server.base_url(), n, c, false);
    std::printf("%-34s %12.0f %14.0f %14.0f %8.2f %8.2f\n", ("concurrency " + std::to_string(c)).c_str(), base, via_curl, native,
                via_curl / base, native / base);
  }
  return 0;
}
