#include "selectors/stored.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "common/csv.h"
#include "common/error.h"
#include "common/text.h"
#include "selectors/scales.h"

namespace reckon {

ResponseMatrix matrix_from_store(Store& store, const std::string& task, size_t* dropped_items, const std::set<std::string>* leave_out) {
  auto q = store.db().prepare(
      "SELECT r.model, r.item_id, AVG(s.value) FROM requests r JOIN scores s ON s.request_id = r.id AND s.is_primary = 1 "
      "WHERE r.task = ?1 AND r.status = 'ok' AND r.step IS NULL GROUP BY r.model, r.item_id");
  q.bind(1, task);
  std::map<std::string, std::map<std::string, double>> by_model;
  std::map<std::string, int> answered;
  while (q.step()) {
    if (leave_out && leave_out->count(q.text(0))) continue;
    by_model[q.text(0)][q.text(1)] = std::clamp(q.real(2), 0.0, 1.0);
    ++answered[q.text(1)];
  }
  if (by_model.empty()) throw InputError(store.path() + ": no scored results for task '" + task + "'");
  ResponseMatrix m;
  for (const auto& [item, n] : answered)
    if (n == static_cast<int>(by_model.size())) m.items.push_back(item);
  if (dropped_items) *dropped_items = answered.size() - m.items.size();
  if (m.items.empty()) throw InputError(store.path() + ": no item of task '" + task + "' was answered by every model");
  m.y.resize(static_cast<Eigen::Index>(by_model.size()), static_cast<Eigen::Index>(m.items.size()));
  Eigen::Index r = 0;
  for (const auto& [model, scores] : by_model) {
    m.models.push_back(model);
    for (size_t c = 0; c < m.items.size(); ++c) {
      const double v = scores.at(m.items[c]);
      if (v != 0 && v != 1) m.binary = false;
      m.y(r, static_cast<Eigen::Index>(c)) = v;
    }
    ++r;
  }
  return m;
}

std::string matrix_csv(const ResponseMatrix& m) {
  std::ostringstream o;
  o << "model";
  for (const auto& i : m.items) o << ',' << csv_escape(i);
  o << '\n';
  for (size_t r = 0; r < m.models.size(); ++r) {
    o << csv_escape(m.models[r]);
    for (Eigen::Index c = 0; c < m.y.cols(); ++c) o << ',' << m.y(static_cast<Eigen::Index>(r), c);
    o << '\n';
  }
  return o.str();
}

void save_selection(Store& store, const std::string& name, const std::string& task, const Plan& plan,
                    const std::vector<std::string>& item_ids) {
  nlohmann::json params = plan.to_json();
  params["item_ids"] = item_ids;
  Transaction tx(store.db());
  auto del = store.db().prepare("DELETE FROM selections WHERE id = ?1");
  del.bind(1, name);
  del.run();
  auto ins = store.db().prepare("INSERT INTO selections(id, task, method, params, created_at) VALUES (?1, ?2, ?3, ?4, ?5)");
  ins.bind(1, name).bind(2, task).bind(3, plan.method).bind(4, params.dump()).bind(5, now_utc_iso());
  ins.run();
  auto item = store.db().prepare("INSERT INTO selection_items(selection_id, item_id, weight) VALUES (?1, ?2, ?3)");
  for (size_t k = 0; k < plan.items.size(); ++k) {
    item.reset();
    item.bind(1, name).bind(2, item_ids.at(static_cast<size_t>(plan.items[k]))).bind(3, plan.weights[k]);
    item.run();
  }
  tx.commit();
}

StoredSelection load_selection(Store& store, const std::string& name) {
  auto q = store.db().prepare("SELECT task, params FROM selections WHERE id = ?1");
  q.bind(1, name);
  if (!q.step()) throw InputError(store.path() + ": no stored selection '" + name + "'");
  StoredSelection s;
  s.task = q.text(0);
  auto j = nlohmann::json::parse(q.is_null(1) ? "" : q.text(1), nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("item_ids"))
    throw InputError(store.path() + ": selection '" + name + "' was not made by `reckon select` (no estimator stored)");
  s.plan = Plan::from_json(j);
  s.item_ids = j["item_ids"].get<std::vector<std::string>>();
  for (int i : s.plan.items)
    if (i < 0 || i >= static_cast<int>(s.item_ids.size())) throw InputError(store.path() + ": selection '" + name + "' is damaged");
  return s;
}

void save_scale_annotation(Store& store, const std::string& task, const ScaleAnnotation& a) {
  auto q = store.db().prepare(
      "INSERT OR REPLACE INTO item_features(task, item_id, feature_set, annotator, vector, cost_usd) VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
  q.bind(1, task).bind(2, a.item_id).bind(3, kScalesFeatureSet).bind(4, a.annotator).bind(5, nlohmann::json(a.levels).dump());
  q.bind(6, a.cost_usd);
  q.run();
}

std::vector<ScaleAnnotation> load_scale_annotations(Store& store, const std::string& task, size_t* former) {
  auto q = store.db().prepare(
      "SELECT item_id, COALESCE(annotator, ''), vector, cost_usd FROM item_features WHERE task = ?1 AND feature_set = ?2 ORDER BY item_id");
  q.bind(1, task).bind(2, kScalesFeatureSet);
  std::vector<ScaleAnnotation> out;
  size_t old = 0;
  while (q.step()) {
    ScaleAnnotation a{q.text(0), q.text(1), {}, std::nullopt};
    const auto v = nlohmann::json::parse(q.text(2), nullptr, false);
    if (v.is_array() && v.size() == static_cast<size_t>(kFormerScaleDimensions)) {
      ++old;
      continue;
    }
    if (!v.is_array() || v.size() != static_cast<size_t>(kScaleDimensions))
      throw InputError(store.path() + ": item_features of '" + task + "' item '" + a.item_id + "' is not a vector of 18 levels");
    for (const auto& x : v) {
      if (!x.is_number()) throw InputError(store.path() + ": item_features of '" + task + "' item '" + a.item_id + "' has a non-number");
      a.levels.push_back(x.get<double>());
    }
    if (!q.is_null(3)) a.cost_usd = q.real(3);
    out.push_back(std::move(a));
  }
  if (former) *former = old;
  else if (old)
    throw InputError(store.path() + ": " + std::to_string(old) + " items of task '" + task +
                     "' carry demand levels on reckon's former 16 scales (with UG, without MCr, MCu and MS), which cannot be "
                     "converted to ADeLe's 18: run `reckon scales annotate` again (it redoes them) or `reckon scales import` the "
                     "published levels");
  return out;
}

std::vector<ScaleAnnotation> read_published_levels(const std::string& path, const std::string& id_column,
                                                   std::vector<std::string>* ignored) {
  std::ifstream in(path);
  if (!in) throw InputError(path + ": cannot open levels file");
  CsvReader csv(in);
  const auto header = csv.next();
  if (!header) throw InputError(path + ": empty file");
  std::map<std::string, size_t> col;
  for (size_t c = 0; c < header->fields.size(); ++c) col[trim(header->fields[c])] = c;
  if (!col.count(id_column)) throw InputError(path + ":1: no id column '" + id_column + "' (give --id-column)");
  std::vector<size_t> scale_col;
  std::set<std::string> used = {id_column};
  for (const auto& d : scale_dimensions()) {
    auto it = col.find(d.code);
    if (it == col.end()) throw InputError(path + ":1: no column for the scale " + d.code + " (" + d.name + ")");
    scale_col.push_back(it->second);
    used.insert(d.code);
  }
  if (ignored)
    for (const auto& f : header->fields)
      if (!used.count(trim(f))) ignored->push_back(trim(f));
  const std::string annotator = "published:" + std::filesystem::path(path).filename().string();
  std::vector<ScaleAnnotation> out;
  std::set<std::string> seen;
  while (auto rec = csv.next()) {
    const std::string where = path + ":" + std::to_string(rec->line);
    if (rec->fields.size() != header->fields.size())
      throw InputError(where + ": " + std::to_string(rec->fields.size()) + " fields, the header has " + std::to_string(header->fields.size()));
    const std::string id = trim(rec->fields[col[id_column]]);
    if (id.empty()) throw InputError(where + ": empty id in column '" + id_column + "'");
    if (!seen.insert(id).second) throw InputError(where + ": item '" + id + "' appears twice");
    ScaleAnnotation a{id, annotator, {}, std::nullopt};
    for (size_t k = 0; k < scale_col.size(); ++k) {
      const std::string cell = trim(rec->fields[scale_col[k]]);
      const auto v = parse_double(cell);
      if (!v || *v < 0 || *v > 5 || *v != std::floor(*v))
        throw InputError(where + ": column " + scale_dimensions()[k].code + ": '" + cell + "' is not a level 0–5");
      a.levels.push_back(*v);
    }
    out.push_back(std::move(a));
  }
  if (out.empty()) throw InputError(path + ": no items (only a header)");
  return out;
}

std::map<std::string, std::vector<double>> scale_levels_by_item(const std::vector<ScaleAnnotation>& annotations) {
  std::map<std::string, std::vector<double>> out;
  for (const auto& a : annotations) out[a.item_id] = a.levels;
  return out;
}

bool store_has_results(Store& store, const std::string& task) {
  auto q = store.db().prepare(
      "SELECT 1 FROM requests r JOIN scores s ON s.request_id = r.id AND s.is_primary = 1 WHERE r.task = ?1 AND r.status = 'ok' LIMIT 1");
  q.bind(1, task);
  return q.step();
}

ResponseMatrix cold_start_items(Store& store, const std::string& task, const std::map<std::string, nlohmann::json>* item_meta) {
  std::set<std::string> ids;
  if (item_meta) {
    for (const auto& [id, m] : *item_meta) ids.insert(id);
  } else {
    auto q = store.db().prepare("SELECT item_id FROM items WHERE task = ?1 UNION SELECT item_id FROM item_features WHERE task = ?1");
    q.bind(1, task);
    while (q.step()) ids.insert(q.text(0));
  }
  if (ids.empty()) throw InputError(store.path() + ": task '" + task + "' has no results and no known items (give --items ITEMS.jsonl)");
  ResponseMatrix m;
  m.items.assign(ids.begin(), ids.end());
  m.y = Eigen::MatrixXd(0, static_cast<Eigen::Index>(m.items.size()));
  return m;
}

}  // namespace reckon
