#include "routers/data.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <numeric>
#include <random>
#include <set>

#include "common/csv.h"
#include "common/error.h"
#include "common/text.h"
#include "results/store.h"

namespace reckon {
namespace {

void check_candidates(const std::vector<std::string>& c) {
  if (c.size() < 2) throw InputError("routing needs at least two candidates (got " + std::to_string(c.size()) + ")");
  std::set<std::string> seen(c.begin(), c.end());
  if (seen.size() != c.size()) throw InputError("a candidate is named twice");
}

}  // namespace

RoutingSet load_outcomes(const std::string& path, const OutcomesOptions& opt) {
  check_candidates(opt.candidates);
  std::ifstream in(path);
  if (!in) throw InputError(path + ": cannot open outcomes file");
  CsvReader csv(in);
  auto header = csv.next();
  if (!header) throw InputError(path + ": empty file");
  std::map<std::string, size_t> col;
  for (size_t c = 0; c < header->fields.size(); ++c) col[header->fields[c]] = c;
  auto need = [&](const std::string& name) {
    auto it = col.find(name);
    if (it == col.end()) throw InputError(path + ":1: no column '" + name + "'");
    return it->second;
  };
  std::vector<size_t> text_cols;
  for (const auto& name : split(opt.text_column, ',')) text_cols.push_back(need(trim(name)));
  constexpr size_t kNone = static_cast<size_t>(-1);
  const size_t id_col = col.count(opt.id_column) ? col[opt.id_column] : kNone;
  const size_t skip_col = opt.skip_column.empty() ? kNone : need(opt.skip_column);
  const size_t split_col = opt.split_column.empty() ? kNone : need(opt.split_column);
  std::vector<size_t> feature_cols;
  for (const auto& f : opt.feature_columns) feature_cols.push_back(need(f));
  std::vector<size_t> correct_cols, cost_cols;
  for (const auto& c : opt.candidates) {
    correct_cols.push_back(need(c + "_correct"));
    if (col.count(c + "_cost")) cost_cols.push_back(col[c + "_cost"]);
  }
  if (!opt.costs.empty() && opt.costs.size() != opt.candidates.size())
    throw InputError("--costs needs one value per candidate (" + std::to_string(opt.candidates.size()) + ")");
  RoutingSet s;
  s.candidates = opt.candidates;
  s.feature_names = opt.feature_columns;
  std::vector<double> cost_sum(opt.candidates.size(), 0);
  std::set<std::string> ids;
  while (auto rec = csv.next()) {
    const std::string where = path + ":" + std::to_string(rec->line);
    if (rec->fields.size() != header->fields.size()) throw InputError(where + ": wrong number of fields");
    if (skip_col != kNone && trim(rec->fields[skip_col]) == "1") continue;
    std::string text;
    for (size_t c : text_cols)
      if (!trim(rec->fields[c]).empty()) text += (text.empty() ? "" : "\n") + rec->fields[c];
    if (text.empty()) throw InputError(where + ": empty query text in column '" + opt.text_column + "'");
    std::string id = id_col != kNone ? rec->fields[id_col] : std::to_string(rec->line);
    if (!ids.insert(id).second) continue;  // the same query twice: keep the first
    std::vector<double> ok;
    bool cheaper_solved = false;
    for (size_t k = 0; k < correct_cols.size(); ++k) {
      const std::string& cell = rec->fields[correct_cols[k]];
      auto v = parse_double(cell);
      if (trim(cell).empty() && cheaper_solved) v = 1;  // a cascade label: not run, a cheaper one succeeded
      else if (trim(cell).empty())
        throw InputError(where + ": column '" + opt.candidates[k] + "_correct' is empty, but no cheaper candidate succeeded");
      if (!v || *v < 0 || *v > 1)
        throw InputError(where + ": column '" + opt.candidates[k] + "_correct' must be a score in [0, 1]");
      ok.push_back(*v);
      cheaper_solved = cheaper_solved || *v >= 0.5;
      if (cost_cols.size() == correct_cols.size()) {
        auto c = parse_double(rec->fields[cost_cols[k]]);
        if (!c || *c < 0) throw InputError(where + ": column '" + opt.candidates[k] + "_cost' must be a non-negative number");
        cost_sum[k] += *c;
      }
    }
    std::vector<double> features;
    for (size_t f = 0; f < feature_cols.size(); ++f) {
      auto v = parse_double(rec->fields[feature_cols[f]]);
      if (!v || !std::isfinite(*v)) throw InputError(where + ": feature column '" + opt.feature_columns[f] + "' must be a number");
      features.push_back(*v);
    }
    if (split_col != kNone) {
      const std::string part = trim(rec->fields[split_col]);
      if (part != "train" && part != "test")
        throw InputError(where + ": column '" + opt.split_column + "' must be train or test, not '" + part + "'");
      s.split.push_back(part);
    }
    s.ids.push_back(id);
    s.texts.push_back(text);
    s.correct.push_back(std::move(ok));
    if (!feature_cols.empty()) s.features.push_back(std::move(features));
  }
  if (s.size() < 10) throw InputError(path + ": fewer than 10 usable queries");
  for (size_t k = 0; k < opt.candidates.size(); ++k)
    s.cost.push_back(!opt.costs.empty() ? opt.costs[k]
                     : cost_cols.size() == correct_cols.size() ? cost_sum[k] / static_cast<double>(s.size())
                                                               : static_cast<double>(k + 1));
  s.tokens.assign(opt.candidates.size(), std::nullopt);
  return s;
}

RoutingSet load_from_store(Store& store, const std::string& task, const std::vector<std::string>& candidates) {
  check_candidates(candidates);
  RoutingSet s;
  std::map<std::string, std::vector<std::optional<double>>> score;  // item -> per candidate
  std::vector<double> cost(candidates.size(), 0), tokens(candidates.size(), 0);
  std::vector<int> rows(candidates.size(), 0);
  auto q = store.db().prepare(
      "SELECT r.item_id, AVG(sc.value), AVG(r.cost_usd), AVG(r.input_tokens + r.output_tokens) FROM requests r "
      "JOIN scores sc ON sc.request_id = r.id AND sc.is_primary = 1 "
      "WHERE r.task = ?1 AND r.model = ?2 AND r.status = 'ok' AND r.step IS NULL GROUP BY r.item_id");
  for (size_t k = 0; k < candidates.size(); ++k) {
    q.reset();
    q.bind(1, task).bind(2, candidates[k]);
    int n = 0;
    while (q.step()) {
      auto& v = score[q.text(0)];
      v.resize(candidates.size());
      v[k] = q.real(1);
      cost[k] += q.is_null(2) ? 0 : q.real(2);
      tokens[k] += q.is_null(3) ? 0 : q.real(3);
      ++n;
    }
    if (n == 0) throw InputError(store.path() + ": candidate '" + candidates[k] + "' has no scored results on task '" + task + "'");
    rows[k] = n;
  }
  auto text = store.db().prepare("SELECT prompt FROM items WHERE task = ?1 AND item_id = ?2");
  for (const auto& [item, v] : score) {
    if (std::any_of(v.begin(), v.end(), [](const auto& x) { return !x; }) || v.size() != candidates.size()) continue;
    text.reset();
    text.bind(1, task).bind(2, item);
    std::string t = text.step() && !text.is_null(0) ? text.text(0) : "";
    if (trim(t).empty()) throw InputError(store.path() + ": item '" + item + "' of task '" + task + "' has no prompt text to route on");
    s.ids.push_back(item);
    s.texts.push_back(t);
    std::vector<double> ok;
    for (const auto& x : v) ok.push_back(*x);
    s.correct.push_back(ok);
  }
  if (s.ids.empty()) throw InputError(store.path() + ": no item of task '" + task + "' was answered by every candidate");
  s.candidates = candidates;
  // Unpriced results (cost unknown) fall back to tokens per query as the cost of a call.
  const bool priced = std::all_of(cost.begin(), cost.end(), [](double c) { return c > 0; });
  for (size_t k = 0; k < candidates.size(); ++k) {
    s.cost.push_back(priced ? cost[k] / rows[k] : tokens[k] / rows[k]);
    s.tokens.push_back(tokens[k] / rows[k]);
  }
  // Cheapest first, as labels and TEP assume.
  std::vector<size_t> order(candidates.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return s.cost[a] != s.cost[b] ? s.cost[a] < s.cost[b] : *s.tokens[a] < *s.tokens[b];
  });
  RoutingSet sorted = s;
  for (size_t k = 0; k < order.size(); ++k) {
    sorted.candidates[k] = s.candidates[order[k]];
    sorted.cost[k] = s.cost[order[k]];
    sorted.tokens[k] = s.tokens[order[k]];
    for (size_t i = 0; i < s.size(); ++i) sorted.correct[i][k] = s.correct[i][order[k]];
  }
  return sorted;
}

std::vector<int> cheapest_correct_labels(const RoutingSet& s, const std::vector<size_t>& rows, bool unsolved_class) {
  std::vector<int> labels;
  const int k = static_cast<int>(s.candidates.size());
  for (size_t r : rows) {
    int label = unsolved_class ? k : k - 1;
    for (int c = 0; c < k; ++c)
      if (s.correct[r][c] >= 0.5) {
        label = c;
        break;
      }
    labels.push_back(label);
  }
  return labels;
}

std::vector<PreferencePair> preference_pairs(const RoutingSet& s, const std::vector<size_t>& rows) {
  std::vector<PreferencePair> out;
  const int k = static_cast<int>(s.candidates.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    const auto& ok = s.correct[rows[i]];
    for (int a = 0; a < k; ++a)
      for (int b = 0; b < k; ++b) {
        if (a == b) continue;
        const bool ca = ok[a] >= 0.5, cb = ok[b] >= 0.5;
        if ((ca && !cb) || (ca && cb && s.cost[a] < s.cost[b])) out.push_back({static_cast<int>(i), a, b});
      }
  }
  return out;
}

void split_rows(size_t n, double train_fraction, uint64_t seed, std::vector<size_t>& train, std::vector<size_t>& test) {
  if (!(train_fraction > 0 && train_fraction < 1)) throw InputError("--train-fraction must be between 0 and 1");
  std::vector<size_t> all(n);
  std::iota(all.begin(), all.end(), 0);
  std::mt19937_64 rng(seed);
  std::shuffle(all.begin(), all.end(), rng);
  const size_t cut = static_cast<size_t>(train_fraction * static_cast<double>(n));
  train.assign(all.begin(), all.begin() + static_cast<long>(cut));
  test.assign(all.begin() + static_cast<long>(cut), all.end());
  if (train.empty() || test.empty()) throw InputError("the split leaves no training or no held-out queries");
}

void split_set(const RoutingSet& s, double train_fraction, uint64_t seed, std::vector<size_t>& train, std::vector<size_t>& test) {
  if (s.split.empty()) return split_rows(s.size(), train_fraction, seed, train, test);
  train.clear();
  test.clear();
  for (size_t i = 0; i < s.size(); ++i) (s.split[i] == "train" ? train : test).push_back(i);
  if (train.empty() || test.empty()) throw InputError("the split column leaves no training or no held-out queries");
}

nlohmann::json RoutingSource::to_json() const {
  return {{"outcomes", outcomes}, {"db", db}, {"task", task}, {"text_column", text_column}, {"id_column", id_column},
          {"skip_column", skip_column}, {"split_column", split_column}, {"feature_columns", feature_columns}, {"candidates", candidates}, {"costs", costs}, {"train_fraction", train_fraction},
          {"seed", seed}};
}

RoutingSource RoutingSource::from_json(const nlohmann::json& j) {
  try {
    RoutingSource s;
    s.outcomes = j.at("outcomes");
    s.db = j.at("db");
    s.task = j.at("task");
    s.text_column = j.at("text_column");
    s.id_column = j.at("id_column");
    s.skip_column = j.at("skip_column");
    s.split_column = j.value("split_column", std::string());  // saved before splits and features
    s.feature_columns = j.value("feature_columns", std::vector<std::string>());
    s.candidates = j.at("candidates").get<std::vector<std::string>>();
    s.costs = j.at("costs").get<std::vector<double>>();
    s.train_fraction = j.at("train_fraction");
    s.seed = j.at("seed");
    return s;
  } catch (const nlohmann::json::exception& e) {
    throw InputError(std::string("saved routing source: ") + e.what());
  }
}

RoutingSet RoutingSource::load() const {
  if (!outcomes.empty()) return load_outcomes(outcomes, {candidates, costs, text_column, id_column, skip_column, feature_columns, split_column});
  if (db.empty() || task.empty()) throw InputError("give --outcomes FILE, or --db DB with --task TASK");
  Store store(db, Store::Mode::kReadOnly);
  return load_from_store(store, task, candidates);
}

std::vector<std::string> parse_candidates(const std::string& text) {
  std::vector<std::string> out;
  for (const auto& c : split(text, ',')) out.push_back(trim(c));
  return out;
}

std::vector<double> parse_costs(const std::string& text) {
  auto out = parse_number_list(text, "--costs");
  for (double c : out)
    if (c < 0) throw InputError("--costs: a cost cannot be negative (" + fmt_fixed(c, 4) + ")");
  return out;
}

std::vector<double> measured_costs(const std::string& db, const std::vector<std::string>& candidates,
                                   const std::map<std::string, std::string>& models, const std::string& task,
                                   std::vector<int64_t>* answers) {
  Store store(db, Store::Mode::kReadOnly);
  auto q = store.db().prepare(
      "SELECT COUNT(*), COUNT(cost_usd), TOTAL(cost_usd) FROM requests WHERE model = ?1 AND step IS NULL AND status = 'ok' "
      "AND (?2 = '' OR task = ?2)");
  for (const auto& [candidate, model] : models)
    if (std::find(candidates.begin(), candidates.end(), candidate) == candidates.end())
      throw InputError("--cost-models names '" + candidate + "', which is not one of the candidates");
  std::vector<double> out;
  if (answers) answers->clear();
  for (const auto& c : candidates) {
    auto it = models.find(c);
    const std::string model = it != models.end() ? it->second : c;
    q.reset();
    q.bind(1, model).bind(2, task);
    q.step();
    const int64_t n = q.int64(0), priced = q.int64(1);
    const std::string where = db + ": candidate '" + c + "' (model '" + model + "'" + (task.empty() ? "" : ", task '" + task + "'") + ")";
    if (n == 0)
      throw InputError(where + " has no answers to measure its cost by; name the model that stands for it with --cost-models " + c +
                       "=MODEL (e.g. pipeline:sql-basic@openai:gpt-5-mini, as `reckon pipelines report` lists them)");
    if (priced < n)
      throw InputError(where + ": " + std::to_string(n - priced) + " of its " + std::to_string(n) +
                       " answers are unpriced, so its cost per answer is unknown (give its model a price with `reckon price import` and run it again, or pass --costs)");
    out.push_back(q.real(2) / static_cast<double>(n));
    if (answers) answers->push_back(n);
  }
  return out;
}

}  // namespace reckon
