#include "sweeps/backend.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <random>
#include <stdexcept>

#include "common/atomic_file.h"
#include "common/error.h"
#include "common/text.h"
#include "providers/client.h"
#include "routers/lm_router.h"

namespace reckon {

PointSample sample_point(const SweepPoint& p, size_t pool_size, std::vector<PreferencePair> all_pairs) {
  std::mt19937_64 rng(static_cast<uint64_t>(p.seed) * 1000003u + static_cast<uint64_t>(p.budget));
  std::vector<size_t> order(pool_size);
  std::iota(order.begin(), order.end(), 0);
  std::shuffle(order.begin(), order.end(), rng);
  order.resize(std::min<size_t>(static_cast<size_t>(p.sft_examples), order.size()));
  std::shuffle(all_pairs.begin(), all_pairs.end(), rng);
  all_pairs.resize(std::min<size_t>(all_pairs.size(), static_cast<size_t>(p.preference_pairs)));
  return {std::move(order), std::move(all_pairs)};
}

std::vector<Message> route_prompt(const RoutingSet& s, const std::string& query) { return route_prompt(s.candidates, query); }

RouteDatasets route_datasets(const SweepContext& c, const PointSample& sample) {
  const RoutingSet& s = c.s;
  RouteDatasets d;
  const auto labels = cheapest_correct_labels(s, c.pool, false);
  for (size_t i : sample.sft) d.sft.push_back({route_prompt(s, s.texts[c.pool[i]]), s.candidates[static_cast<size_t>(labels[i])]});
  for (const auto& p : sample.pairs)
    d.pairs.push_back({route_prompt(s, s.texts[c.pool[static_cast<size_t>(p.query)]]), s.candidates[static_cast<size_t>(p.chosen)],
                       s.candidates[static_cast<size_t>(p.rejected)]});
  const auto eval_labels = cheapest_correct_labels(s, c.held_out, false);
  for (size_t i = 0; i < c.held_out.size(); ++i)
    d.sft_eval.push_back({route_prompt(s, s.texts[c.held_out[i]]), s.candidates[static_cast<size_t>(eval_labels[i])]});
  return d;
}

template <class Record>
void write_dataset(const std::string& path, const std::vector<Record>& records, TrainingStyle style) {
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
  AtomicFile file(path);
  write_jsonl(records, style, file.out());
  file.commit();
}
template void write_dataset(const std::string&, const std::vector<SftRecord>&, TrainingStyle);
template void write_dataset(const std::string&, const std::vector<PreferenceRecord>&, TrainingStyle);

PointResult judge_model_routes(const SweepContext& c, const ModelRef& model) {
  const RoutingSet& s = c.s;
  SystemClock clock;
  ClientOptions co;
  co.max_concurrency = 16;
  co.max_attempts = 4;
  ModelClient client(co, clock);
  std::vector<std::optional<std::string>> answers(c.held_out.size());
  std::string first_error;
  size_t failed = 0;
  for (size_t i = 0; i < c.held_out.size(); ++i) {
    ChatRequest req{model, route_prompt(s, s.texts[c.held_out[i]])};
    req.model.params.temperature = 0;
    req.model.params.max_tokens = 32;
    client.submit(std::move(req), 0, [&answers, &first_error, &failed, i](const ChatRequest&, const CallResult& r) {
      if (r.ok) answers[i] = r.completion.text;
      else if (!failed++) first_error = r.error;
    });
  }
  client.run();
  if (!client.fatal_error().empty()) throw std::runtime_error("evaluating " + model.name() + ": " + client.fatal_error());
  if (failed)
    throw std::runtime_error("evaluating " + model.name() + ": " + std::to_string(failed) + " of " + std::to_string(c.held_out.size()) +
                             " routing calls failed (first: " + first_error + ")");
  PointResult r;
  const double n = static_cast<double>(c.held_out.size());
  for (size_t i = 0; i < c.held_out.size(); ++i) {
    const size_t k = named_candidate(s.candidates, answers[i].value_or("")).value_or(s.candidates.size() - 1);
    r.accuracy += s.correct[c.held_out[i]][k] / n;
  }
  r.score = r.accuracy;
  return r;
}

}  // namespace reckon
