#include "sweeps/datasets.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <set>

#include "common/error.h"
#include "common/sha256.h"

namespace reckon {

TrainingStyle parse_training_style(const std::string& text) {
  if (text == "trl") return TrainingStyle::kTrl;
  if (text == "trl-completion") return TrainingStyle::kTrlCompletion;
  if (text == "openai") return TrainingStyle::kOpenAI;
  throw InputError("--style must be trl, trl-completion or openai, got '" + text + "'");
}

namespace {

nlohmann::json messages_json(const std::vector<Message>& ms) {
  nlohmann::json a = nlohmann::json::array();
  for (const auto& m : ms) a.push_back({{"role", m.role}, {"content", m.content}});
  return a;
}

nlohmann::json assistant(const std::string& text) { return nlohmann::json::array({{{"role", "assistant"}, {"content", text}}}); }

}  // namespace

nlohmann::json to_json(const SftRecord& r, TrainingStyle style) {
  if (style == TrainingStyle::kTrlCompletion) return {{"prompt", messages_json(r.prompt)}, {"completion", assistant(r.completion)}};
  auto all = messages_json(r.prompt);
  all.push_back({{"role", "assistant"}, {"content", r.completion}});
  return {{"messages", all}};  // TRL conversational and OpenAI supervised agree here
}

nlohmann::json to_json(const PreferenceRecord& r, TrainingStyle style) {
  if (style == TrainingStyle::kOpenAI)
    return {{"input", {{"messages", messages_json(r.prompt)}, {"tools", nlohmann::json::array()}, {"parallel_tool_calls", true}}},
            {"preferred_output", assistant(r.chosen)},
            {"non_preferred_output", assistant(r.rejected)}};
  return {{"prompt", messages_json(r.prompt)}, {"chosen", assistant(r.chosen)}, {"rejected", assistant(r.rejected)}};
}

BudgetSplit split_budget(double budget, double sft_fraction, double pair_cost) {
  BudgetSplit b;
  b.sft_examples = static_cast<int64_t>(std::floor(budget * sft_fraction + 1e-9));
  b.preference_pairs = static_cast<int64_t>(std::floor((budget - static_cast<double>(b.sft_examples)) / pair_cost + 1e-9));
  return b;
}

std::vector<Message> prompt_messages(const std::string& stored) {
  if (!stored.empty() && stored.front() == '[') {
    auto j = nlohmann::json::parse(stored, nullptr, false);
    if (j.is_array() && !j.empty()) {
      std::vector<Message> out;
      for (const auto& m : j) {
        if (!m.is_object() || !m.contains("role") || !m.contains("content") || !m["role"].is_string() || !m["content"].is_string())
          return {{"user", stored}};
        out.push_back({m["role"].get<std::string>(), m["content"].get<std::string>()});
      }
      return out;
    }
  }
  return {{"user", stored}};
}

bool is_held_out(const std::vector<Message>& prompt, double held_out, uint64_t seed) {
  std::string key = std::to_string(seed);
  for (const auto& m : prompt) key += '\x1f' + m.role + '\x1e' + m.content;
  const std::string h = sha256_hex(key);
  const double u = static_cast<double>(std::stoull(h.substr(0, 13), nullptr, 16)) / static_cast<double>(1ULL << 52);
  return u < held_out;
}

namespace {

struct Answer {
  std::string model, text;
  double score = 0, cost = 0;
};

// Deterministic orders: the best (score, then cheaper, then name) and the cheapest.
bool better(const Answer& a, const Answer& b) {
  if (a.score != b.score) return a.score > b.score;
  if (a.cost != b.cost) return a.cost < b.cost;
  return a.model < b.model;
}
bool cheaper(const Answer& a, const Answer& b) {
  if (a.cost != b.cost) return a.cost < b.cost;
  return better(a, b);
}

template <class T>
void take_within(std::vector<T>& v, int64_t n, uint64_t seed) {
  if (static_cast<int64_t>(v.size()) <= n) return;
  std::mt19937_64 rng(seed);
  std::shuffle(v.begin(), v.end(), rng);
  v.resize(static_cast<size_t>(n));
}

}  // namespace

TrainingSets build_training_sets(Store& store, const TrainingSetOptions& opt) {
  if (!(opt.held_out >= 0 && opt.held_out < 1)) throw InputError("--held-out must be in [0, 1)");
  if (opt.pairs != "correctness" && opt.pairs != "cost") throw InputError("--pairs must be correctness or cost, got '" + opt.pairs + "'");
  if (!(opt.pair_cost > 0)) throw InputError("--pair-cost must be positive");
  if (!(opt.sft_fraction >= 0 && opt.sft_fraction <= 1)) throw InputError("--sft-fraction must be in [0, 1]");
  if (opt.budget && !(*opt.budget >= 0)) throw InputError("--budget must not be negative");
  const std::set<std::string> models(opt.models.begin(), opt.models.end());
  auto q = store.db().prepare(
      "SELECT r.model, r.prompt, r.response, COALESCE(r.cost_usd, 0), s.value FROM requests r "
      "JOIN scores s ON s.request_id = r.id AND s.is_primary = 1 "
      "WHERE r.status = 'ok' AND r.prompt IS NOT NULL AND r.response IS NOT NULL AND s.value IS NOT NULL "
      "AND (?1 = '' OR r.task = ?1) ORDER BY r.task, r.item_id, r.model, r.repeat");
  q.bind(1, opt.task);
  // Grouped by the prompt as sent (identical prompts under different items are one prompt).
  std::map<std::string, std::vector<Answer>> by_prompt;
  TrainingSets out;
  while (q.step()) {
    if (!models.empty() && !models.count(q.text(0))) continue;
    auto& answers = by_prompt[q.text(1)];
    Answer a{q.text(0), q.text(2), q.real(4), q.real(3)};
    const bool dup = std::any_of(answers.begin(), answers.end(), [&](const Answer& b) { return b.text == a.text; });
    if (dup) {
      ++out.duplicate_responses;
      continue;
    }
    answers.push_back(std::move(a));
  }
  if (by_prompt.empty())
    throw InputError(store.path() + ": no scored answers" + (opt.task.empty() ? std::string() : " for task '" + opt.task + "'"));
  std::vector<SftRecord> sft_train;
  std::vector<PreferenceRecord> pairs_train;
  for (auto& [stored, answers] : by_prompt) {
    ++out.prompts;
    const auto prompt = prompt_messages(stored);
    const bool eval = is_held_out(prompt, opt.held_out, opt.seed);
    out.eval_prompts += eval;
    std::vector<Answer> correct, wrong;
    for (const auto& a : answers) (a.score >= opt.correct_at ? correct : wrong).push_back(a);
    if (correct.empty()) continue;
    std::sort(correct.begin(), correct.end(), opt.cheapest ? cheaper : better);
    std::sort(wrong.begin(), wrong.end(), better);
    (eval ? out.sft_eval : sft_train).push_back({prompt, correct.front().text});
    std::optional<PreferenceRecord> pair;
    if (opt.pairs == "correctness" && !wrong.empty()) {
      pair = PreferenceRecord{prompt, correct.front().text, wrong.back().text};
    } else if (opt.pairs == "cost" && correct.size() > 1) {
      std::sort(correct.begin(), correct.end(), cheaper);
      if (correct.back().cost > correct.front().cost) pair = PreferenceRecord{prompt, correct.front().text, correct.back().text};
    }
    if (pair) (eval ? out.pairs_eval : pairs_train).push_back(std::move(*pair));
  }
  out.sft_available = sft_train.size();
  out.pairs_available = pairs_train.size();
  if (opt.budget) {
    const auto b = split_budget(*opt.budget, opt.sft_fraction, opt.pair_cost);
    take_within(sft_train, b.sft_examples, opt.seed);
    take_within(pairs_train, b.preference_pairs, opt.seed + 1);
  }
  out.sft_train = std::move(sft_train);
  out.pairs_train = std::move(pairs_train);
  out.units_spent = static_cast<double>(out.sft_train.size()) + opt.pair_cost * static_cast<double>(out.pairs_train.size());
  return out;
}

}  // namespace reckon
