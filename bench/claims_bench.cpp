// What claiming the plan costs a campaign that runs alone (issue #21: at most 5 %): the whole engine
// (plan, claims, client, scoring, pricing, the writer) over the same cells answered by the replay
// provider — no network, so the engine's own work is all there is and any overhead shows in full —
// with claims on and off, alternated in one run so the machine's noise falls on both alike.
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "harness/campaign.h"

using namespace reckon;

namespace {

double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + 1e-6 * static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

struct Timing {
  double wall = 0, cpu = 0;
};

Timing run_once(const std::string& dir, const std::string& items, const std::string& cassette, int round, bool claims) {
  nlohmann::json camp = {{"name", "bench-" + std::to_string(round) + (claims ? "-on" : "-off")},
                         {"models", {"replay:gpt-5-mini"}},
                         {"replay", cassette},
                         {"tasks", {{{"name", "numbers"}, {"data", {{"file", items}}}, {"reference_field", "a"},
                                     {"prompt", {{"user", "{q}"}}}, {"scorer", "last_number"}}}},
                         {"concurrency", 32}};
  RunOptions o;
  o.db = dir + "/bench-" + std::to_string(round) + (claims ? "-on" : "-off") + ".db";
  o.progress = false;
  o.claims = claims;
  const Campaign c = parse_campaign(camp, dir + "/bench.json");
  const double cpu0 = cpu_seconds();
  const auto t0 = std::chrono::steady_clock::now();
  const RunReport rep = run_campaign(c, o);
  if (rep.ok != rep.cells) {
    std::fprintf(stderr, "only %zu of %zu cells answered ok\n", rep.ok, rep.cells);
    std::exit(1);
  }
  Timing t{std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), cpu_seconds() - cpu0};
  return t;
}

}  // namespace

int main(int argc, char** argv) {
  const int cells = argc > 1 ? std::atoi(argv[1]) : 4000;
  const int rounds = argc > 2 ? std::atoi(argv[2]) : 3;
  char tmpl[] = "/tmp/reckon-claims-bench-XXXXXX";
  const std::string dir = mkdtemp(tmpl);
  const std::string items = dir + "/items.jsonl", cassette = dir + "/answers.jsonl";
  {
    std::ofstream out(items), rec(cassette);
    for (int i = 0; i < cells; ++i) {
      out << "{\"q\":\"question " << i << "\",\"a\":\"" << i << "\"}\n";
      rec << "{\"model\":\"gpt-5-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"question " << i << "\"}],\"text\":\"" << i
          << "\",\"finish_reason\":\"stop\",\"usage\":{\"input_tokens\":12,\"output_tokens\":3}}\n";
    }
  }
  (void)!std::freopen("/dev/null", "w", stdout);  // each run prints its summary; the table goes to stderr
  Timing on, off;
  for (int r = 0; r < rounds; ++r) {  // alternated, and which goes first too: off/on, on/off, ...
    Timing a, b;
    if (r % 2 == 0) {
      a = run_once(dir, items, cassette, r, false);
      b = run_once(dir, items, cassette, r, true);
    } else {
      b = run_once(dir, items, cassette, r, true);
      a = run_once(dir, items, cassette, r, false);
    }
    off.wall += a.wall, off.cpu += a.cpu, on.wall += b.wall, on.cpu += b.cpu;
  }
  std::fprintf(stderr, "%d cells x %d rounds per mode (whole campaign, replay provider)\n", cells, rounds);
  std::fprintf(stderr, "%-22s %12s %12s\n", "", "cells/s", "CPU us/cell");
  std::fprintf(stderr, "%-22s %12.0f %12.1f\n", "claims off (baseline)", cells * rounds / off.wall, 1e6 * off.cpu / (cells * rounds));
  std::fprintf(stderr, "%-22s %12.0f %12.1f\n", "claims on", cells * rounds / on.wall, 1e6 * on.cpu / (cells * rounds));
  std::fprintf(stderr, "ratio on/off: throughput %.3f, CPU per cell %.3f (target: throughput >= 0.95)\n", off.wall / on.wall,
               on.cpu / off.cpu);
  std::system(("rm -rf " + dir).c_str());
  return 0;
}
