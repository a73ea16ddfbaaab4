// Router speed: training each router on 100,000 labelled queries with 2^18 hashed features (target
// under 20 s on 2 cores) and routing decisions per second (target over 50,000). Synthetic queries
// from a fixed vocabulary, fixed seeds.
#include <chrono>
#include <cstdio>
#include <random>

#include "routers/router.h"

using namespace reckon;
using Clock = std::chrono::steady_clock;

int main() {
  std::mt19937_64 rng(7);
  std::vector<std::string> vocab;
  for (int i = 0; i < 5000; ++i) vocab.push_back("w" + std::to_string(i * 7919 % 100003));
  RoutingSet s;
  s.candidates = {"cheap", "costly"};
  s.cost = {1, 10};
  s.tokens = {std::nullopt, std::nullopt};
  const int n = 100000;
  for (int i = 0; i < n; ++i) {
    std::string text;
    const int len = 20 + static_cast<int>(rng() % 60);
    int hard_words = 0;
    for (int w = 0; w < len; ++w) {
      const auto k = rng() % vocab.size();
      hard_words += k < 500;
      text += vocab[k] + ' ';
    }
    s.ids.push_back(std::to_string(i));
    s.texts.push_back(text);
    s.correct.push_back({hard_words > len / 10 ? 0.0 : 1.0, 1.0});
  }
  std::vector<size_t> all(n);
  for (int i = 0; i < n; ++i) all[i] = static_cast<size_t>(i);
  std::printf("%-10s %14s %18s %22s\n", "router", "train (s)", "decisions/s", "decisions/s (2 threads)");
  for (const char* kind : {"rule", "knn", "softmax", "dpo", "mlp", "cascade"}) {
    auto r = find_router(kind).make(s.candidates, s.cost);
    const auto t0 = Clock::now();
    r->train(s, all, {});
    const double train_s = std::chrono::duration<double>(Clock::now() - t0).count();
    const auto t1 = Clock::now();
    size_t costly = 0;
    const int decisions = 20000;
    for (int i = 0; i < decisions; ++i) costly += static_cast<size_t>(r->choose(s.texts[static_cast<size_t>(i)]));
    const double per_s = decisions / std::chrono::duration<double>(Clock::now() - t1).count();
    // The same decisions over both cores of the target machine (choose_batch, as `route apply` uses).
    const std::vector<Query> batch(s.texts.begin(), s.texts.begin() + decisions);
    const auto t2 = Clock::now();
    const auto chosen = choose_batch(*r, batch, 2);
    const double per_s2 = decisions / std::chrono::duration<double>(Clock::now() - t2).count();
    size_t costly2 = 0;
    for (int c : chosen) costly2 += static_cast<size_t>(c);
    std::printf("%-10s %14.2f %18.0f %22.0f   (targets: < 20 s %s, > 50,000/s on 2 cores %s; %zu escalated%s)\n", kind, train_s,
                per_s, per_s2, train_s < 20 ? "met" : "MISSED", per_s2 > 50000 ? "met" : "MISSED", costly,
                costly2 == costly ? "" : ", BATCH DIFFERS");
  }
  return 0;
}
