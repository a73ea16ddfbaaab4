#include "sweeps/sweep.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <memory>
#include <numeric>
#include <random>
#include <set>
#include <sstream>

#include "common/error.h"
#include "common/stats.h"
#include "common/table.h"
#include "common/text.h"
#include "routers/evaluate.h"
#include "routers/features.h"
#include "routers/policy.h"
#include "sweeps/backend.h"

namespace reckon {

nlohmann::json SweepGrid::to_json() const {
  nlohmann::json j = {{"budgets", budgets}, {"sft_fractions", sft_fractions}, {"cost_ratios", cost_ratios}, {"seeds", seeds},
                      {"train_fraction", train_fraction}, {"epochs", epochs}, {"beta", beta}, {"backend", backend}};
  if (!backend_config.empty()) j["backend_config"] = backend_config;  // older sweeps have none
  return j;
}

SweepGrid SweepGrid::from_json(const nlohmann::json& j) {
  SweepGrid g;
  try {
    g.budgets = j.at("budgets").get<std::vector<double>>();
    g.sft_fractions = j.at("sft_fractions").get<std::vector<double>>();
    g.cost_ratios = j.at("cost_ratios").get<std::vector<double>>();
    g.seeds = j.at("seeds").get<int>();
    g.train_fraction = j.at("train_fraction").get<double>();
    g.epochs = j.at("epochs").get<int>();
    g.beta = j.at("beta").get<double>();
    g.backend = j.at("backend").get<std::string>();
    if (j.contains("backend_config")) g.backend_config = j.at("backend_config");
  } catch (const nlohmann::json::exception& e) {
    throw InputError(std::string("sweep grid: ") + e.what());
  }
  g.check();
  return g;
}

void SweepGrid::check() const {
  if (budgets.empty()) throw InputError("sweep grid: field 'budgets' needs at least one budget");
  for (double b : budgets)
    if (!(b >= 1)) throw InputError("sweep grid: field 'budgets': " + fmt_fixed(b, 2) + " buys nothing (at least 1 unit)");
  if (sft_fractions.empty()) throw InputError("sweep grid: field 'sft_fractions' is empty");
  for (double f : sft_fractions)
    if (!(f >= 0 && f <= 1)) throw InputError("sweep grid: field 'sft_fractions': " + fmt_fixed(f, 3) + " is not in [0, 1]");
  if (cost_ratios.empty()) throw InputError("sweep grid: field 'cost_ratios' is empty");
  for (double r : cost_ratios)
    if (!(r > 0)) throw InputError("sweep grid: field 'cost_ratios': a preference pair must cost more than 0");
  if (seeds < 1) throw InputError("sweep grid: field 'seeds' must be at least 1");
  if (!(train_fraction > 0 && train_fraction < 1)) throw InputError("sweep grid: field 'train_fraction' must be in (0, 1)");
  if (epochs < 1) throw InputError("sweep grid: field 'epochs' must be at least 1");
  if (!(beta > 0)) throw InputError("sweep grid: field 'beta' must be positive");
  bool known = false;
  for (const auto& b : sweep_backends()) known |= backend == b.name;
  if (!known) throw InputError("sweep grid: unknown backend '" + backend + "' (builtin, command or openai)");
  if (!backend_config.is_object()) throw InputError("sweep grid: field 'backend_config' must be a JSON object");
}

std::vector<SweepPoint> plan_sweep(const SweepGrid& g) {
  g.check();
  std::vector<SweepPoint> out;
  for (double b : g.budgets)
    for (double r : g.cost_ratios)
      for (double f : g.sft_fractions)
        for (int s = 1; s <= g.seeds; ++s) {
          const auto split = split_budget(b, f, r);
          out.push_back(SweepPoint{b, f, r, s, split.sft_examples, split.preference_pairs});
        }
  return out;
}

const std::vector<SweepBackend>& sweep_backends() {
  static const std::vector<SweepBackend> table = {
      {"builtin", "the routers' linear policy over query features, SFT then DPO on CPU", prepare_builtin_backend},
      {"command", "a shell command per stage (e.g. TRL), the result served by a provider", prepare_command_backend},
      {"openai", "OpenAI's fine-tuning API: upload, supervised then DPO jobs, evaluate the ft: model", prepare_openai_backend},
  };
  return table;
}

size_t run_sweep(Store& store, const std::string& name, const RoutingSet& s, const SweepGrid& g, const nlohmann::json& source,
                 const std::function<void(size_t, size_t)>& progress, std::string work_dir) {
  const auto points = plan_sweep(g);
  const nlohmann::json spec = {{"grid", g.to_json()}, {"source", source}};
  {
    auto q = store.db().prepare("SELECT spec FROM sweeps WHERE id = ?1");
    q.bind(1, name);
    if (q.step()) {
      if (nlohmann::json::parse(q.text(0), nullptr, false) != spec)
        throw InputError("sweep '" + name + "' exists with a different grid or data; choose another --name");
    } else {
      auto ins = store.db().prepare("INSERT INTO sweeps(id, spec, created_at) VALUES (?1, ?2, ?3)");
      ins.bind(1, name).bind(2, spec.dump()).bind(3, now_utc_iso());
      ins.run();
    }
  }
  std::set<std::tuple<double, double, double, int>> done;
  {
    auto q = store.db().prepare("SELECT budget, sft_fraction, cost_ratio, seed FROM sweep_points WHERE sweep_id = ?1 AND status = 'ok'");
    q.bind(1, name);
    while (q.step()) done.insert({q.real(0), q.real(1), q.real(2), static_cast<int>(q.int64(3))});
  }
  if (work_dir.empty()) work_dir = store.path() + ".sweeps/" + name;
  SweepContext ctx{s, {}, {}, g, work_dir};
  split_rows(s.size(), g.train_fraction, 12345, ctx.pool, ctx.held_out);  // one held-out split for every point
  const SweepBackend* backend = nullptr;
  for (const auto& b : sweep_backends())
    if (g.backend == b.name) backend = &b;
  auto train_and_judge = backend->prepare(ctx);
  auto put = store.db().prepare(
      "INSERT OR REPLACE INTO sweep_points(sweep_id, budget, sft_fraction, cost_ratio, seed, sft_examples, preference_pairs, "
      "status, score, accuracy, error, seconds, finished_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)");
  size_t ran = 0, seen = 0;
  for (const auto& p : points) {
    ++seen;
    if (done.count({p.budget, p.sft_fraction, p.cost_ratio, p.seed})) continue;
    const auto t0 = std::chrono::steady_clock::now();
    PointResult r;
    try {
      r = train_and_judge(p);
    } catch (const std::exception& e) {
      r.ok = false;
      r.error = e.what();
    }
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    put.reset();
    put.bind(1, name).bind(2, p.budget).bind(3, p.sft_fraction).bind(4, p.cost_ratio).bind(5, static_cast<int64_t>(p.seed));
    put.bind(6, p.sft_examples).bind(7, p.preference_pairs).bind(8, r.ok ? "ok" : "error");
    if (r.ok) put.bind(9, r.score).bind(10, r.accuracy).bind_null(11);
    else put.bind_null(9).bind_null(10).bind(11, r.error);
    put.bind(12, secs).bind(13, now_utc_iso());
    put.run();
    ++ran;
    if (progress) progress(seen, points.size());
  }
  return ran;
}

SweepReport sweep_report(Store& store, const std::string& name) {
  SweepReport rep;
  rep.name = name;
  auto exists = store.db().prepare("SELECT spec FROM sweeps WHERE id = ?1");
  exists.bind(1, name);
  if (!exists.step()) throw InputError(store.path() + ": no sweep named '" + name + "'");
  const auto spec = nlohmann::json::parse(exists.text(0), nullptr, false);
  rep.backend = spec.is_object() && spec.contains("grid") ? spec["grid"].value("backend", "builtin") : "builtin";
  auto q = store.db().prepare(
      "SELECT budget, cost_ratio, sft_fraction, status, score, error FROM sweep_points WHERE sweep_id = ?1 "
      "ORDER BY budget, cost_ratio, sft_fraction DESC, seed");
  q.bind(1, name);
  std::map<std::tuple<double, double, double>, std::vector<double>> scores;
  std::map<std::tuple<double, double, double>, int> errors;
  std::vector<std::tuple<double, double, double>> keys;
  while (q.step()) {
    const auto key = std::make_tuple(q.real(0), q.real(1), q.real(2));
    if (!scores.count(key) && !errors.count(key)) keys.push_back(key);
    if (q.text(3) == "ok") scores[key].push_back(q.real(4));
    else {
      ++errors[key];
      rep.flags.push_back("budget " + fmt_fixed(std::get<0>(key), 0) + ", SFT share " + fmt_fixed(std::get<2>(key), 2) +
                          ": a point failed: " + q.text(5));
    }
  }
  for (const auto& key : keys) {
    SweepCell c;
    std::tie(c.budget, c.cost_ratio, c.sft_fraction) = key;
    const auto& v = scores[key];
    c.points = static_cast<int>(v.size());
    c.errors = errors[key];
    if (!v.empty()) {
      c.mean = mean(v);
      double var = 0;
      for (double x : v) var += (x - *c.mean) * (x - *c.mean);
      c.sd = v.size() > 1 ? std::sqrt(var / static_cast<double>(v.size() - 1)) : 0;
    }
    rep.cells.push_back(c);
  }
  // Per budget (and cost ratio): the best share, and whether DPO alone fell far below every SFT share.
  std::map<std::pair<double, double>, std::vector<const SweepCell*>> by_budget;
  for (const auto& c : rep.cells) by_budget[{c.budget, c.cost_ratio}].push_back(&c);
  for (const auto& [bk, cells] : by_budget) {
    const SweepCell* best = nullptr;
    const SweepCell* dpo_only = nullptr;
    double min_sft = INFINITY;
    for (const auto* c : cells) {
      if (!c->mean) continue;
      if (!best || *c->mean > *best->mean) best = c;
      if (c->sft_fraction == 0) dpo_only = c;
      else min_sft = std::min(min_sft, *c->mean);
    }
    if (best && bk.second == rep.cells.front().cost_ratio) rep.best_fraction.emplace_back(bk.first, best->sft_fraction);
    if (dpo_only && std::isfinite(min_sft) && *dpo_only->mean < min_sft - std::max(0.02, 2 * dpo_only->sd.value_or(0)))
      rep.flags.push_back("budget " + fmt_fixed(bk.first, 0) + " (pair cost " + fmt_fixed(bk.second, 2) +
                          "): cold-start failure — DPO alone scores " + fmt_fixed(*dpo_only->mean, 3) +
                          ", below every share with some SFT (lowest " + fmt_fixed(min_sft, 3) + ")");
  }
  return rep;
}

std::string render_sweep_report(const SweepReport& r) {
  std::ostringstream o;
  std::vector<double> fractions;
  for (const auto& c : r.cells)
    if (std::find(fractions.begin(), fractions.end(), c.sft_fraction) == fractions.end()) fractions.push_back(c.sft_fraction);
  std::sort(fractions.rbegin(), fractions.rend());
  std::vector<std::string> header = {"budget", "pair cost"};
  for (double f : fractions) header.push_back("SFT " + fmt_fixed(100 * f, 0) + "%");
  TextTable t(header);
  std::map<std::pair<double, double>, std::map<double, const SweepCell*>> grid;
  for (const auto& c : r.cells) grid[{c.budget, c.cost_ratio}][c.sft_fraction] = &c;
  for (const auto& [bk, row] : grid) {
    std::vector<std::string> cells = {fmt_fixed(bk.first, 0), fmt_fixed(bk.second, 2)};
    for (double f : fractions) {
      auto it = row.find(f);
      if (it == row.end() || !it->second->mean) cells.push_back(it == row.end() ? "" : "error");
      else cells.push_back(fmt_fixed(*it->second->mean, 3) + " ± " + fmt_fixed(*it->second->sd, 3));
    }
    t.add(cells);
  }
  o << "Sweep " << r.name << " (" << r.backend << "): held-out score ("
    << (r.backend == "builtin" ? "APGR for two candidates, else accuracy" : "accuracy of the trained model's routes")
    << "), mean ± sd over seeds\n"
    << t.render();
  for (const auto& [b, f] : r.best_fraction) o << "best SFT share at budget " << fmt_fixed(b, 0) << ": " << fmt_fixed(100 * f, 0) << "%\n";
  for (const auto& f : r.flags) o << "! " << f << "\n";
  return o.str();
}

nlohmann::json sweep_report_json(const SweepReport& r) {
  nlohmann::json cells = nlohmann::json::array();
  for (const auto& c : r.cells)
    cells.push_back({{"budget", c.budget}, {"sft_fraction", c.sft_fraction}, {"cost_ratio", c.cost_ratio}, {"points", c.points},
                     {"errors", c.errors}, {"mean", c.mean ? nlohmann::json(*c.mean) : nlohmann::json(nullptr)},
                     {"sd", c.sd ? nlohmann::json(*c.sd) : nlohmann::json(nullptr)}});
  nlohmann::json best = nlohmann::json::array();
  for (const auto& [b, f] : r.best_fraction) best.push_back({{"budget", b}, {"sft_fraction", f}});
  return {{"sweep", r.name}, {"backend", r.backend}, {"cells", cells}, {"best", best}, {"flags", r.flags}};
}

}  // namespace reckon
