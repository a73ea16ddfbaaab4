#pragma once
// Thinking-token economics and repeat-run noise (METHODS.md §1): how much of the output and of the
// bill is thinking, how differently models think on the same question, and how much one model's
// thinking varies when it answers the same question again.
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "results/store.h"

namespace reckon {

struct ThinkingShare {
  std::string model, task;
  int64_t requests = 0;
  int64_t reasoning_known = 0;     // rows whose provider said how many tokens were thinking
  int64_t output_tokens = 0, reasoning_tokens = 0;  // over rows where reasoning is known
  double cost_usd = 0, reasoning_cost_usd = 0;      // over priced rows where reasoning is known
  int64_t truncated = 0;           // finish reason length / max_tokens
  int64_t no_visible_output = 0;   // every output token was thinking: the answer never came (often a cap)
  int64_t cut_off = 0;             // either of the two (the report's "cut off", as in its reversal tables)
  std::optional<double> token_share() const {
    return output_tokens ? std::optional<double>(static_cast<double>(reasoning_tokens) / static_cast<double>(output_tokens)) : std::nullopt;
  }
  std::optional<double> cost_share() const {
    return cost_usd > 0 ? std::optional<double>(reasoning_cost_usd / cost_usd) : std::nullopt;
  }
};

// The same question, different models: the longest thinker vs the shortest.
struct CrossModelRatio {
  std::string task, item_id, most_model, least_model;
  double most_tokens = 0, least_tokens = 0;
  double ratio() const { return least_tokens > 0 ? most_tokens / least_tokens : 0; }
};

struct TaskThinkingSpread {
  std::string task;
  int64_t items = 0;  // items at least two models answered with known, non-zero thinking
  std::optional<double> median_ratio, p90_ratio;
  std::vector<CrossModelRatio> top;  // largest ratios first
  // Models whose median answer thinks less than kMinThinkingTokens: ratios against a model that
  // does not think (e.g. 2 tokens) say nothing, so they are left out and named here.
  std::vector<std::string> non_thinking;
};

constexpr double kMinThinkingTokens = 100;

// One model re-answering the same question (repeats within a run).
struct RepeatNoise {
  std::string model, task;
  int64_t queries = 0;  // queries with at least two repeats
  int64_t repeats = 0;  // requests over those queries
  std::optional<double> median_thinking_cv, p90_thinking_cv, median_cost_cv;
  std::optional<double> median_max_min, p90_max_min, max_max_min;  // thinking max/min per query
  std::optional<double> query_cost_p50, query_cost_p90;            // per request, for budgeting
};

struct ThinkingReport {
  std::vector<ThinkingShare> shares;
  std::vector<TaskThinkingSpread> spreads;
  std::vector<RepeatNoise> noise;
};

ThinkingReport analyze_thinking(Store& store, const std::optional<std::string>& run_id, size_t top_k = 5);
std::string render_thinking(const ThinkingReport& r);
nlohmann::json thinking_json(const ThinkingReport& r);

}  // namespace reckon
