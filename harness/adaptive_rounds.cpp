#include "harness/adaptive_rounds.h"

#include <filesystem>
#include <map>
#include <set>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/sha256.h"
#include "common/table.h"
#include "common/text.h"
#include "harness/admit.h"
#include "selectors/matrix.h"
#include "selectors/stored.h"

namespace reckon {

void check_adaptive_ready(const Campaign& c, const RunOptions& opts) {
  if (!c.selection.adaptive) return;
  const std::string at = c.source + ": selection.adaptive";
  if (opts.shard_count > 1)
    throw InputError(at + ": an adaptive campaign cannot be split with --shard (each round depends on the last one's answers); "
                     "start several runners without --shard instead: they share each round's cells");
  std::map<std::string, size_t> names;
  for (size_t m = 0; m < c.models.size(); ++m)
    if (auto [it, fresh] = names.emplace(c.models[m].name(), m); !fresh)
      throw InputError(at + ": models[" + std::to_string(it->second) + "] and models[" + std::to_string(m) + "] are both stored as " +
                       it->first + ", so their answers (which steer each test) cannot be told apart; give one a prompt variant or leave it out");
  bool batch = opts.batch || c.batch;
  for (const auto& m : c.models) batch = batch || m.batch;
  if (batch)
    throw InputError(at + ": adaptive rounds go live, one round after another; a batch API would take up to a day per round "
                     "(leave out \"batch\" / --batch)");
}

AdaptiveRounds::AdaptiveRounds(const Campaign& c, const RunOptions& opts, const std::string& run_id, Store* store, bool keep)
    : c_(c), opts_(opts), run_id_(run_id) {
  const AdaptiveSelection& a = *c.selection.adaptive;
  opt_ = {a.budget, a.target_se, a.min_items};
  tasks_.resize(c.tasks.size());
  for (size_t t = 0; t < c.tasks.size(); ++t) load_or_fit(t, store, keep);
  tests_ = fresh_tests();
}

namespace {

// Item id → (a, b) of the 1-D fit, then a₁..a_d, b of the multidimensional one: what a campaign keeps.
using KeptParams = std::map<std::string, std::vector<double>>;

// Both fits on the source models' results `m`, for the task's items (`task_ids`, in the task's order) they cover.
KeptParams fit_params(const ResponseMatrix& m, const std::vector<std::string>& task_ids, uint64_t seed, const std::string& at) {
  std::unordered_map<std::string, Eigen::Index> column;
  for (size_t j = 0; j < m.items.size(); ++j) column[m.items[j]] = static_cast<Eigen::Index>(j);
  std::vector<std::string> ids;
  for (const auto& id : task_ids)
    if (column.count(id)) ids.push_back(id);
  if (ids.empty()) throw InputError(at + ": the source models' results name none of the task's item ids");
  if (m.models.size() < 2)
    throw InputError(at + ": the item parameters need results of at least 2 source models; there are " + std::to_string(m.models.size()));
  Eigen::MatrixXd y(m.y.rows(), static_cast<Eigen::Index>(ids.size()));
  for (size_t j = 0; j < ids.size(); ++j) y.col(static_cast<Eigen::Index>(j)) = m.y.col(column[ids[j]]);
  const IrtItems fit = adaptive_items(y, seed), multi = adaptive_estimate_items(y, seed);
  KeptParams kept;
  for (size_t j = 0; j < ids.size(); ++j) {
    const auto jj = static_cast<Eigen::Index>(j);
    std::vector<double>& v = kept[ids[j]];
    v = {fit.a(jj, 0), fit.b(jj)};
    for (Eigen::Index d = 0; d < multi.dims(); ++d) v.push_back(multi.a(jj, d));
    v.push_back(multi.b(jj));
  }
  return kept;
}

KeptParams read_kept(Store& store, const std::string& task, const std::string& feature_set) {
  KeptParams kept;
  auto q = store.db().prepare("SELECT item_id, vector FROM item_features WHERE task = ? AND feature_set = ?");
  q.bind(1, task).bind(2, feature_set);
  while (q.step()) kept[q.text(0)] = nlohmann::json::parse(q.text(1)).get<std::vector<double>>();
  return kept;
}

// First writer wins; every runner then reads back the same parameters.
void keep_params(Store& store, const std::string& task, const std::string& feature_set, const KeptParams& kept, size_t source_models) {
  Transaction tx(store.db());
  auto ins = store.db().prepare("INSERT OR IGNORE INTO item_features(task, item_id, feature_set, annotator, vector) VALUES(?, ?, ?, ?, ?)");
  const std::string by = "1-D and multidimensional 2PL on " + std::to_string(source_models) + " source models";
  for (const auto& [id, v] : kept) {
    ins.reset();
    ins.bind(1, task).bind(2, id).bind(3, feature_set).bind(4, by).bind(5, nlohmann::json(v).dump()).run();
  }
  tx.commit();
}

}  // namespace

// The source models' results a task's item parameters are fitted on: the `responses` file, or the store's
// results of models this campaign does not measure.
ResponseMatrix AdaptiveRounds::source_results(const std::string& task, Store* store, const std::string& at) const {
  const AdaptiveSelection& a = *c_.selection.adaptive;
  if (!a.responses.empty()) return read_response_matrix(a.responses);
  if (!store) throw InputError(at + ": no store with source results yet; give source models' results as \"responses\": FILE.csv");
  std::set<std::string> measured;
  for (const auto& model : c_.models) measured.insert(model.name());
  try {
    return matrix_from_store(*store, task, nullptr, &measured);
  } catch (const InputError& e) {
    throw InputError(at + ": the item parameters are fitted on other models' results, and " + e.what() +
                     " besides this campaign's models; run other models on the task first, or give \"responses\": FILE.csv");
  }
}

// A task's item parameters: kept by an earlier run of this campaign, or fitted on the source models.
void AdaptiveRounds::load_or_fit(size_t t, Store* store, bool keep) {
  const TaskDef& task = c_.tasks[t];
  const AdaptiveSelection& a = *c_.selection.adaptive;
  const std::string at = c_.source + ": selection.adaptive (task '" + task.name + "')";
  const std::string feature_set = "irt2pl:" + run_id_;
  std::vector<std::string> task_ids;  // the task's items in its own order: ties between items go to the earlier one
  {
    ItemStream stream(task, opts_.data);
    while (auto it = stream.next()) task_ids.push_back(it->id);
  }
  KeptParams kept;
  if (store) kept = read_kept(*store, task.name, feature_set);
  if (kept.empty()) {
    const ResponseMatrix m = source_results(task.name, store, at);
    kept = fit_params(m, task_ids, a.seed, at);
    if (store && keep) {
      keep_params(*store, task.name, feature_set, kept, m.models.size());
      kept = read_kept(*store, task.name, feature_set);
    }
  }
  TaskItems& ti = tasks_[t];
  for (const auto& id : task_ids)
    if (kept.count(id)) ti.ids.push_back(id);
  const auto n = static_cast<Eigen::Index>(ti.ids.size());
  if (a.budget > n)
    throw InputError(c_.source + ": selection.adaptive.budget: " + std::to_string(a.budget) + " items, but task '" + task.name +
                     "' has only " + std::to_string(n) + " with item parameters (source results)");
  ti.params.a.resize(n, 1);
  ti.params.b.resize(n);
  const size_t width = kept.at(ti.ids.front()).size();
  if (width < 2) throw InputError(at + ": kept item parameters in the store are malformed (fewer than 2 values)");
  if (width > 3) ti.estimate = IrtItems{Eigen::MatrixXd(n, static_cast<Eigen::Index>(width - 3)), Eigen::VectorXd(n)};
  for (Eigen::Index j = 0; j < n; ++j) {
    const std::vector<double>& v = kept.at(ti.ids[static_cast<size_t>(j)]);
    if (v.size() != width) throw InputError(at + ": kept item parameters in the store differ in length between items");
    ti.params.a(j, 0) = v[0];
    ti.params.b(j) = v[1];
    if (!ti.estimate) continue;
    for (size_t d = 0; d + 3 < width; ++d) ti.estimate->a(j, static_cast<Eigen::Index>(d)) = v[2 + d];
    ti.estimate->b(j) = v.back();
  }
}

std::vector<std::vector<AdaptiveTest>> AdaptiveRounds::fresh_tests() const {
  std::vector<std::vector<AdaptiveTest>> out(tasks_.size());
  for (size_t t = 0; t < tasks_.size(); ++t)
    for (size_t m = 0; m < c_.models.size(); ++m)
      out[t].emplace_back(tasks_[t].params, opt_, tasks_[t].estimate ? &*tasks_[t].estimate : nullptr);
  return out;
}

ItemsPerModel AdaptiveRounds::current(Store& store) {
  // Every answered cell of the run: a model's item counts once all its repeats are done; its score is
  // their mean primary score (a done cell without one, e.g. an answer the scorer could not read, scores 0).
  std::vector<std::vector<std::unordered_map<std::string, double>>> answered(tasks_.size());
  std::unordered_map<std::string, size_t> model_index;
  for (size_t m = 0; m < c_.models.size(); ++m) model_index[c_.models[m].name()] = m;
  for (size_t t = 0; t < tasks_.size(); ++t) {
    answered[t].resize(c_.models.size());
    auto q = store.db().prepare(
        std::string("SELECT r.model, r.item_id, COUNT(*), TOTAL(IFNULL(s.value, 0)) FROM requests r LEFT JOIN scores s ON "
                    "s.request_id = r.id AND s.is_primary = 1 WHERE r.run_id = ? AND r.task = ? AND r.step IS NULL AND ") +
        kDoneSql + " GROUP BY r.model, r.item_id");
    q.bind(1, run_id_).bind(2, c_.tasks[t].name);
    while (q.step()) {
      auto m = model_index.find(q.text(0));
      if (m == model_index.end()) continue;
      const int64_t done = q.int64(2);
      if (done >= c_.models[m->second].repeats)
        answered[t][m->second][q.text(1)] = std::clamp(q.real(3) / static_cast<double>(done), 0.0, 1.0);
    }
  }
  tests_ = fresh_tests();
  const int k = c_.selection.adaptive->round;
  for (round_ = 1;; ++round_) {
    ItemsPerModel round(tasks_.size(), std::vector<std::set<std::string>>(c_.models.size()));
    bool complete = true, any = false;
    std::vector<std::vector<std::vector<int>>> chosen(tasks_.size(), std::vector<std::vector<int>>(c_.models.size()));
    for (size_t t = 0; t < tasks_.size(); ++t)
      for (size_t m = 0; m < c_.models.size(); ++m) {
        chosen[t][m] = tests_[t][m].next_round(k);
        for (int j : chosen[t][m]) {
          const std::string& id = tasks_[t].ids[static_cast<size_t>(j)];
          round[t][m].insert(id);
          any = true;
          complete = complete && answered[t][m].count(id);
        }
      }
    if (!any || !complete) return round;  // every test is over, or this round is still to be answered
    for (size_t t = 0; t < tasks_.size(); ++t)
      for (size_t m = 0; m < c_.models.size(); ++m)
        for (int j : chosen[t][m]) tests_[t][m].record(j, answered[t][m].at(tasks_[t].ids[static_cast<size_t>(j)]));
  }
}

ItemsPerModel AdaptiveRounds::for_dry_run() const {
  ItemsPerModel out(tasks_.size(), std::vector<std::set<std::string>>(c_.models.size()));
  for (size_t t = 0; t < tasks_.size(); ++t)
    for (size_t m = 0; m < c_.models.size(); ++m)
      for (int j : AdaptiveTest(tasks_[t].params, opt_).next_round(opt_.budget)) out[t][m].insert(tasks_[t].ids[static_cast<size_t>(j)]);
  return out;
}

std::string AdaptiveRounds::key(const ItemsPerModel& round) {
  std::string text;
  for (size_t t = 0; t < round.size(); ++t)
    for (size_t m = 0; m < round[t].size(); ++m) {
      text += std::to_string(t) + "/" + std::to_string(m) + ":";
      for (const auto& id : round[t][m]) text += id + "\x1f";
      text += "\n";
    }
  return sha256_hex(text).substr(0, 16);
}

bool AdaptiveRounds::empty(const ItemsPerModel& round) {
  for (const auto& per_model : round)
    for (const auto& ids : per_model)
      if (!ids.empty()) return false;
  return true;
}

std::vector<AdaptiveRounds::Estimate> AdaptiveRounds::estimates() const {
  std::vector<Estimate> out;
  for (size_t t = 0; t < tasks_.size(); ++t)
    for (size_t m = 0; m < c_.models.size(); ++m)
      out.push_back({c_.tasks[t].name, c_.models[m].name(), tests_[t][m].result(), static_cast<int>(tasks_[t].ids.size()),
                     tests_[t][m].done()});
  return out;
}

std::string AdaptiveRounds::render() const {
  TextTable table({"task", "model", "asked", "of", "ability", "±se", "estimate", "95% CI", "test"});
  for (const auto& e : estimates()) {
    const AdaptiveResult& r = e.result;
    table.add({e.task, e.model, std::to_string(r.asked.size()), std::to_string(e.items), fmt_fixed(r.theta, 2), fmt_fixed(r.se, 2),
               fmt_fixed(100 * r.estimate, 1) + "%", fmt_fixed(100 * r.low, 1) + "–" + fmt_fixed(100 * r.high, 1) + "%",
               e.finished ? "finished" : "round " + std::to_string(round_) + " to answer"});
  }
  return "Adaptive testing (" + std::to_string(opt_.budget) + " items at most, rounds of " +
         std::to_string(c_.selection.adaptive->round) + "): full-benchmark estimates\n" + table.render(2);
}

}  // namespace reckon
