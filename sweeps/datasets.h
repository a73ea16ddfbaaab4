#pragma once
// Training sets from results: SFT demonstrations (correct responses) and preference pairs (correct
// ≻ incorrect, or cheaper correct ≻ costlier correct), deduplicated by prompt, with a held-out split
// decided by the prompt's text alone so no prompt is ever on both sides; written exactly as TRL and
// OpenAI fine-tuning read them. A budget buys SFT examples (1 unit each) and pairs (pair_cost each).
#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/message.h"
#include "results/store.h"

namespace reckon {

// trl: SFT `messages`, DPO `prompt`/`chosen`/`rejected` (conversational); trl-completion: SFT
// `prompt`/`completion`; openai: supervised `messages`, DPO `input`/`preferred_output`/`non_preferred_output`.
enum class TrainingStyle { kTrl, kTrlCompletion, kOpenAI };
TrainingStyle parse_training_style(const std::string& text);  // InputError naming the choices

struct SftRecord {
  std::vector<Message> prompt;
  std::string completion;
};
struct PreferenceRecord {
  std::vector<Message> prompt;
  std::string chosen, rejected;
};
nlohmann::json to_json(const SftRecord& r, TrainingStyle style);
nlohmann::json to_json(const PreferenceRecord& r, TrainingStyle style);
// One JSON object per line; returns the line count.
template <class Record>
size_t write_jsonl(const std::vector<Record>& records, TrainingStyle style, std::ostream& out) {
  for (const auto& r : records) out << to_json(r, style).dump() << '\n';
  return records.size();
}

// What a budget buys: floor(budget × fraction) SFT examples, then as many pairs as the rest pays for.
struct BudgetSplit {
  int64_t sft_examples = 0, preference_pairs = 0;
};
BudgetSplit split_budget(double budget, double sft_fraction, double pair_cost);

// A stored prompt back as messages: a JSON message array, or one user message.
std::vector<Message> prompt_messages(const std::string& stored_prompt);

// Whether a prompt belongs to the held-out split: a hash of its text and the seed, so the same
// prompt lands on the same side in every export and every sweep.
bool is_held_out(const std::vector<Message>& prompt, double held_out, uint64_t seed);

struct TrainingSetOptions {
  std::string task;                   // empty = every task
  std::vector<std::string> models;    // empty = every model
  bool cheapest = false;              // SFT: the cheapest correct response, not the best-scored one
  std::string pairs = "correctness";  // correctness: correct ≻ incorrect; cost: cheaper correct ≻ costlier correct
  double correct_at = 1.0;            // a response is correct when its primary score reaches this
  double held_out = 0.2;
  uint64_t seed = 1;
  std::optional<double> budget;       // unset = everything available
  double sft_fraction = 1, pair_cost = 1;
};

struct TrainingSets {
  std::vector<SftRecord> sft_train, sft_eval;
  std::vector<PreferenceRecord> pairs_train, pairs_eval;
  size_t prompts = 0, eval_prompts = 0;       // distinct prompts with a scored answer
  size_t duplicate_responses = 0;             // same prompt, same text: kept once
  size_t sft_available = 0, pairs_available = 0;  // in the training split, before the budget
  double units_spent = 0;                     // sft_train + pair_cost × pairs_train
};
TrainingSets build_training_sets(Store& store, const TrainingSetOptions& opt);

}  // namespace reckon
