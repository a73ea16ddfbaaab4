#pragma once
// Pipelines: small programs of model calls that solve one item (METHODS.md §3, EllieSQL). A
// pipeline is a list of steps; each step renders a prompt from the item's fields and earlier steps'
// answers (chain), calls the model, and extracts an answer. A step may repair (on a failed check —
// an SQL error, an unparsable answer — the error text goes back to the model, up to N times) or
// sample k times and take the majority (self-consistency). Few-shot generation is a step whose
// answer (worked examples) a later step's prompt uses. The last step's answer is the pipeline's.
//
// PipelineRun is the control flow alone: it says which calls to make and takes their answers, so the
// campaign (real calls, resume per call) and tests (a scripted model) drive it the same way.
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/message.h"

namespace reckon {

struct PipelineStep {
  std::string name;
  std::string system, user;       // templates: {field} = an item field or an earlier step's answer
  std::string extract = "text";   // text | sql
  bool checked = false;           // run the pipeline's check on this step's answers
  int repairs = 0;                // on a failed check: up to this many repair rounds
  std::string repair_user = "That failed: {error}\nFix it and reply with the corrected answer only.";
  int samples = 1;                // self-consistency: k samples, majority vote on the answers' keys
};

struct Pipeline {
  std::string name, help;
  std::vector<PipelineStep> steps;
};

struct PipelineHooks {
  // Why an answer is not usable (e.g. the SQLite error), or nullopt when it is.
  std::function<std::optional<std::string>(const std::string& answer)> check;
  // What self-consistency compares (e.g. an SQL answer's result rows); default: the normalized text.
  std::function<std::string(const std::string& answer)> vote_key;
};

struct PipelineCall {
  int index = 0;     // the call's number within this item's run: stable across reruns (resume key)
  std::string step;  // e.g. "generate", "generate.repair2", "vote.sample3"
  std::vector<Message> messages;
};

class PipelineRun {
 public:
  PipelineRun(const Pipeline& p, std::map<std::string, std::string> fields, PipelineHooks hooks);

  // The calls to make now: none while answers are awaited or when the run is over.
  std::vector<PipelineCall> next();
  // The answer to call `index`, or nullopt when the call failed (the run fails with `error`).
  void answer(int index, const std::optional<std::string>& text, const std::string& error = "");

  bool done() const { return done_; }
  bool failed() const { return !failure_.empty(); }
  const std::string& failure() const { return failure_; }
  const std::string& final_answer() const { return final_; }
  // Item fields plus every finished step's answer under its name.
  const std::map<std::string, std::string>& fields() const { return fields_; }
  int calls_made() const { return next_index_; }

 private:
  void start_step();
  void finish_step(const std::string& answer);
  std::string extract(const std::string& text) const;

  const Pipeline& p_;
  std::map<std::string, std::string> fields_;
  PipelineHooks hooks_;
  size_t step_ = 0;
  int attempt_ = 0, next_index_ = 0, waiting_ = 0;
  bool issued_ = false;
  std::vector<Message> conversation_;
  std::map<int, std::string> samples_;  // sample number → extracted answer
  std::map<int, int> sample_of_call_;   // call index → sample number
  bool done_ = false;
  std::string failure_, final_;
};

// Majority vote: the key with the most answers wins; a tie goes to the key whose first answer came
// earliest (by sample number). Answers whose key is empty (unusable) win only when all are.
// Returns the index of the winning answer's first occurrence.
size_t majority_vote(const std::vector<std::string>& keys);

// A pipeline declared in a campaign: {"help": "...", "steps": [{"name", "system", "user", "extract":
// "text"|"sql", "checked", "repairs", "repair_user", "samples"}]}. InputError naming the field.
Pipeline parse_pipeline(const std::string& name, const nlohmann::json& j, const std::string& where);

// The built-in pipelines, by name.
const std::vector<Pipeline>& builtin_pipelines();
const Pipeline* find_pipeline(const std::string& name);

}  // namespace reckon
