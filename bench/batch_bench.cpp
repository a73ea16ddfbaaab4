// Issue #24's benchmark: 100,000 cells submitted through a batch API and collected, against the
// loopback batch server (tests/batch_server: OpenAI's files + batches, so two batches of 50,000), with
// the reckon binary as a child so its own time, CPU and peak memory are measured (wait4) apart from
// the server's. Beside it in the same run, the baseline: the same cells answered by the replay
// provider (the engine with no network at all) — the batch path's cost over the engine's floor.
#include <sys/resource.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "tests/batch_server.h"

namespace {

struct Measured {
  double wall = 0, cpu = 0, peak_mb = 0;
  int exit_code = -1;
};

Measured run_reckon(const std::vector<std::string>& args) {
  const auto t0 = std::chrono::steady_clock::now();
  pid_t pid = fork();
  if (pid == 0) {
    int null = open("/dev/null", O_WRONLY);
    dup2(null, 1), dup2(null, 2);
    std::vector<char*> argv{const_cast<char*>(RECKON_BINARY)};
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(RECKON_BINARY, argv.data());
    _exit(127);
  }
  int status = 0;
  rusage u{};
  wait4(pid, &status, 0, &u);
  Measured m;
  m.wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  m.cpu = static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + 1e-6 * static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
  m.peak_mb = static_cast<double>(u.ru_maxrss) / 1024.0;
  m.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return m;
}

}  // namespace

int main(int argc, char** argv) {
  const int cells = argc > 1 ? std::atoi(argv[1]) : 100000;
  char tmpl[] = "/tmp/reckon-batch-bench-XXXXXX";
  const std::string dir = mkdtemp(tmpl);
  const std::string items = dir + "/items.jsonl", cassette = dir + "/answers.jsonl", prices = dir + "/prices.json";
  {
    std::ofstream out(items), rec(cassette), pr(prices);
    for (int i = 0; i < cells; ++i) {
      out << "{\"q\":\"question " << i << "\",\"a\":\"" << i << "\"}\n";
      rec << "{\"model\":\"tester\",\"messages\":[{\"role\":\"user\",\"content\":\"question " << i << "\"}],\"text\":\"" << i
          << "\",\"finish_reason\":\"stop\",\"usage\":{\"input_tokens\":100,\"output_tokens\":20}}\n";
    }
    pr << R"({"entries":[{"model":"tester","effective_from":"2026-01-01","source":"bench","input":1,"output":4,"batch":{"input":0.5,"output":2}}]})";
  }
  // The server answers each question with its number (the scorer's reference).
  reckon::test::BatchServer server([](const std::string&, const nlohmann::json& body) {
    reckon::test::BatchOutcome o;
    const std::string text = body["messages"][0]["content"].get<std::string>();
    o.text = text.substr(text.rfind(' ') + 1);
    return o;
  });
  server.set_polls_to_end(2);
  auto campaign = [&](const std::string& name, const nlohmann::json& model, bool batch) {
    nlohmann::json c = {{"name", name},
                        {"models", {model}},
                        {"prices", prices},
                        {"batch", batch},
                        {"concurrency", 32},
                        {"tasks", {{{"name", "numbers"}, {"data", {{"file", items}}}, {"reference_field", "a"},
                                    {"prompt", {{"user", "{q}"}}}, {"scorer", "last_number"}}}}};
    if (!batch) c["replay"] = cassette;
    const std::string path = dir + "/" + name + ".json";
    std::ofstream(path) << c.dump();
    return path;
  };
  setenv("OPENAI_API_KEY", "sk-bench", 1);
  const std::string batch_camp =
      campaign("batch", {{"model", "openai:tester"}, {"params", {{"base_url", server.base_url() + "/v1"}}}}, true);
  const std::string replay_camp = campaign("replay", "replay:tester", false);

  const Measured replay = run_reckon({"run", replay_camp, "--db", dir + "/replay.db", "--quiet"});
  const Measured batch = run_reckon({"run", batch_camp, "--db", dir + "/batch.db", "--quiet", "--poll", "0.05"});
  if (replay.exit_code != 0 || batch.exit_code != 0) {
    std::fprintf(stderr, "a run failed (replay exit %d, batch exit %d); files in %s\n", replay.exit_code, batch.exit_code, dir.c_str());
    return 1;
  }
  std::printf("%d cells, one run, 2 cores (batches created: %zu)\n", cells, server.creates());
  std::printf("%-34s %10s %10s %12s %10s\n", "path", "wall s", "CPU s", "CPU µs/cell", "peak MB");
  auto row = [&](const char* name, const Measured& m) {
    std::printf("%-34s %10.2f %10.2f %12.1f %10.1f\n", name, m.wall, m.cpu, 1e6 * m.cpu / cells, m.peak_mb);
  };
  row("replay provider (engine floor)", replay);
  row("batch API (submit, poll, collect)", batch);
  std::printf("batch / replay: wall %.2f×, CPU %.2f×, peak memory %.2f×\n", batch.wall / replay.wall, batch.cpu / replay.cpu,
              batch.peak_mb / replay.peak_mb);
  std::string cleanup = "rm -rf '" + dir + "'";
  return std::system(cleanup.c_str()) == 0 ? 0 : 1;
}
