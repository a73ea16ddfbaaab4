#pragma once
// Labelled queries for routing: per query its text and, per candidate (ordered cheapest first),
// whether it was correct and what it cost — from an outcomes CSV (RouteLLM's format and the like)
// or from a reckon store's results.
#include <optional>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "results/store.h"
#include "routers/features.h"
#include "routers/policy.h"

namespace reckon {

struct RoutingSet {
  std::vector<std::string> candidates;       // cheapest first
  std::vector<std::string> ids, texts;
  std::vector<std::string> feature_names;    // numeric columns a router may use beside the text
  std::vector<std::vector<double>> features; // [query][feature], empty when no feature is named
  std::vector<std::string> split;            // per query "train" / "test" from a split column, else empty
  std::vector<std::vector<double>> correct;  // [query][candidate], 0/1 or a score in [0,1]
  std::vector<double> cost;                  // per candidate: mean cost per query (any unit)
  std::vector<std::optional<double>> tokens; // per candidate: mean tokens per query, when known
  size_t size() const { return ids.size(); }
  Query query(size_t row) const { return features.empty() ? Query(texts[row]) : Query(texts[row], features[row]); }
};

struct OutcomesOptions {
  std::vector<std::string> candidates;  // read `<name>_correct` columns
  std::vector<double> costs;            // per candidate; else `<name>_cost` columns; else 1, 2, 3, ...
  // Several text columns ("question,evidence") are joined, one per line, into the query's text.
  std::string text_column = "prompt", id_column = "prompt_id";
  std::string skip_column;              // rows where this column is 1 are left out (e.g. contaminated)
  std::vector<std::string> feature_columns;  // numeric columns given to routers beside the text
  std::string split_column;             // "train" / "test" per row: the split, instead of a random one
};
// An empty `<candidate>_correct` cell reads as a cascade label (EllieSQL's): the candidate was not run
// because a cheaper one already succeeded, so it counts as correct — a costlier candidate is taken to
// solve what a cheaper one solves. Empty with no cheaper success is an error naming the line.
RoutingSet load_outcomes(const std::string& path, const OutcomesOptions& opt);

// Candidates are models of `task` in the store; items every candidate answered; text = the item's prompt.
RoutingSet load_from_store(Store& store, const std::string& task, const std::vector<std::string>& candidates);

// EllieSQL labels: the cheapest correct candidate; unsolved → the most capable (last) one, or its
// own class (index = candidates.size()) when `unsolved_class`.
std::vector<int> cheapest_correct_labels(const RoutingSet& s, const std::vector<size_t>& rows, bool unsolved_class);
// Preference pairs: a cheaper correct candidate ≻ a costlier one; a correct one ≻ an incorrect one.
std::vector<PreferencePair> preference_pairs(const RoutingSet& s, const std::vector<size_t>& rows);

// Where a router's (or a sweep's) queries come from, saved with it so later commands rebuild the
// same data and the same split.
struct RoutingSource {
  std::string outcomes, db, task, text_column = "prompt", id_column = "prompt_id", skip_column, split_column;
  std::vector<std::string> candidates, feature_columns;
  std::vector<double> costs;
  double train_fraction = 0.7;
  uint64_t seed = 1;
  nlohmann::json to_json() const;
  static RoutingSource from_json(const nlohmann::json& j);
  RoutingSet load() const;  // InputError when neither an outcomes file nor a store and task is named
};

// "a,b,c" → {a, b, c} (trimmed); and the same for non-negative costs.
std::vector<std::string> parse_candidates(const std::string& text);
std::vector<double> parse_costs(const std::string& text);

// What each candidate's answer cost in a store (`route train --costs-from`): the mean cost_usd of the ok
// top-level answer rows (a pipeline's answer row carries the sum of its calls) of the model standing for
// the candidate — `models[candidate]` (e.g. basic → pipeline:sql-basic@openai:gpt-5-mini), else the
// candidate's own name — on `task` when given. `answers` receives how many rows each mean is over.
// InputError naming the store and a candidate with no answers or an unpriced one.
std::vector<double> measured_costs(const std::string& db, const std::vector<std::string>& candidates,
                                   const std::map<std::string, std::string>& models, const std::string& task,
                                   std::vector<int64_t>* answers = nullptr);

// A seeded split into training and held-out rows.
void split_rows(size_t n, double train_fraction, uint64_t seed, std::vector<size_t>& train, std::vector<size_t>& test);
// The set's own split when it carries one (a split column), else split_rows.
void split_set(const RoutingSet& s, double train_fraction, uint64_t seed, std::vector<size_t>& train, std::vector<size_t>& test);

}  // namespace reckon
