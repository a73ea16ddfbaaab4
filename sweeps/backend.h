#pragma once
// What the sweep's trainer backends share: the point's sample of the training pool, routing written
// as text for backends that fine-tune a language model, and judging a model's routes on the
// held-out split through a provider.
#include <string>
#include <vector>

#include "providers/request.h"
#include "routers/data.h"
#include "sweeps/datasets.h"
#include "sweeps/sweep.h"

namespace reckon {

// Which pool rows get an SFT label and which preference pairs, drawn by the point's seed (and
// budget), so every backend trains on the same data at the same point.
struct PointSample {
  std::vector<size_t> sft;  // indices into the pool
  std::vector<PreferencePair> pairs;
};
PointSample sample_point(const SweepPoint& p, size_t pool_size, std::vector<PreferencePair> all_pairs);

// Routing as a chat: the query, and the candidate to send it to as the answer.
std::vector<Message> route_prompt(const RoutingSet& s, const std::string& query);
// The point's datasets as chat records (training pool), and the held-out split as SFT records.
struct RouteDatasets {
  std::vector<SftRecord> sft, sft_eval;
  std::vector<PreferenceRecord> pairs;
};
RouteDatasets route_datasets(const SweepContext& c, const PointSample& sample);

// Writes records as JSON Lines at `path` (folders created); InputError naming the path on failure.
template <class Record>
void write_dataset(const std::string& path, const std::vector<Record>& records, TrainingStyle style);

// Asks `model` to route every held-out query and scores its choices: score = accuracy = mean
// correctness of the chosen candidates. An answer naming no candidate goes to the last (most
// capable) one, as a cautious router would; their count is in the result's note.
PointResult judge_model_routes(const SweepContext& c, const ModelRef& model);

// The command backend's pieces, shared with `route train --router lm`: a value quoted for /bin/sh, and
// one training stage run as a shell command (its log in `out_dir`/log.txt, killed after `timeout_s`);
// returns the model it produced — `out_dir` unless the command printed `reckon-model: NAME`.
std::string shell_quote(const std::string& v);
std::string run_training_stage(const std::string& command, const std::string& out_dir, double timeout_s, const std::string& stage);

// The registry's entries (sweep.cpp's table).
std::function<PointResult(const SweepPoint&)> prepare_builtin_backend(const SweepContext& c);
std::function<PointResult(const SweepPoint&)> prepare_command_backend(const SweepContext& c);
std::function<PointResult(const SweepPoint&)> prepare_openai_backend(const SweepContext& c);

}  // namespace reckon
