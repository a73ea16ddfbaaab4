#include "results/export.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "common/csv.h"
#include "common/error.h"

namespace reckon {
namespace {

void check_view(const std::string& view) {
  const auto& views = exportable_views();
  if (std::find(views.begin(), views.end(), view) == views.end())
    throw InputError("--view must be one of v_requests, v_model_task, v_costs (got '" + view + "')");
}

// Sums of prices carry float noise (0.0150000000000001): 12 significant digits keep every cent and
// sub-micro-dollar while dropping it.
std::string clean_text(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.12g", v);
  return buf;
}

double clean(double v) { return std::strtod(clean_text(v).c_str(), nullptr); }

nlohmann::json row_json(const Statement& q) {
  nlohmann::json j = nlohmann::json::object();
  for (int c = 0; c < q.columns(); ++c) {
    switch (q.column_type(c)) {
      case SQLITE_NULL: j[q.column_name(c)] = nullptr; break;
      case SQLITE_INTEGER: j[q.column_name(c)] = q.int64(c); break;
      case SQLITE_FLOAT: j[q.column_name(c)] = clean(q.real(c)); break;
      default: j[q.column_name(c)] = q.text(c);
    }
  }
  return j;
}

bool is_date(const std::string& d) {
  if (d.size() != 10 || d[4] != '-' || d[7] != '-') return false;
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9})
    if (d[i] < '0' || d[i] > '9') return false;
  return true;
}

// The view's query with the filter's conditions; values bound in order by bind_filter.
std::string filtered_select(const std::string& select, const std::string& view, const ViewFilter& f) {
  for (const auto* d : {&f.from, &f.to})
    if (!d->empty() && !is_date(*d)) throw InputError("a date must be YYYY-MM-DD (got '" + *d + "')");
  // The day of a row: v_costs has one; v_requests its time; v_model_task spans days.
  const std::string day = view == "v_costs" ? "day" : view == "v_requests" ? "substr(created_at, 1, 10)" : "";
  if (day.empty() && (!f.from.empty() || !f.to.empty()))
    throw InputError(view + " has no date to filter by (its rows span days): filter v_costs or v_requests by date");
  std::string where;
  auto add = [&](const std::string& cond) { where += (where.empty() ? " WHERE " : " AND ") + cond; };
  if (!f.model.empty()) add("model = ?");
  if (!f.task.empty()) add("task = ?");
  if (!f.run.empty()) add("run_id = ?");
  if (!f.from.empty()) add(day + " >= ?");
  if (!f.to.empty()) add(day + " <= ?");
  return select + where;
}

void bind_filter(Statement& q, const ViewFilter& f) {
  int k = 0;
  for (const auto* v : {&f.model, &f.task, &f.run, &f.from, &f.to})
    if (!v->empty()) q.bind(++k, *v);
}

}  // namespace

const std::vector<std::string>& exportable_views() {
  static const std::vector<std::string> views = {"v_requests", "v_model_task", "v_costs"};
  return views;
}

size_t export_view(Store& store, const std::string& view, const std::string& format, std::ostream& out, const ViewFilter& f) {
  check_view(view);
  if (format != "csv" && format != "jsonl") throw InputError("--format must be csv or jsonl (got '" + format + "')");
  auto q = store.db().prepare(filtered_select("SELECT * FROM " + view, view, f));  // one of the fixed views above
  bind_filter(q, f);
  const int n = q.columns();
  if (format == "csv") {
    for (int c = 0; c < n; ++c) out << (c ? "," : "") << csv_escape(q.column_name(c));
    out << "\n";
  }
  size_t rows = 0;
  while (q.step()) {
    ++rows;
    if (format == "csv") {
      for (int c = 0; c < n; ++c) {
        out << (c ? "," : "");
        if (q.is_null(c)) continue;
        out << (q.column_type(c) == SQLITE_FLOAT ? clean_text(q.real(c)) : csv_escape(q.text(c)));
      }
      out << "\n";
      continue;
    }
    out << row_json(q).dump() << "\n";
  }
  return rows;
}

nlohmann::json view_json(Store& store, const std::string& view, const ViewFilter& f) {
  check_view(view);
  auto q = store.db().prepare(filtered_select("SELECT * FROM " + view, view, f));  // a fixed view name, checked above
  bind_filter(q, f);
  nlohmann::json rows = nlohmann::json::array();
  while (q.step()) rows.push_back(row_json(q));
  return rows;
}


nlohmann::json spend_over_time(Store& store, const ViewFilter& f) {
  auto q = store.db().prepare(
      filtered_select("SELECT day, model, SUM(requests) AS requests, SUM(cost_usd) AS cost_usd FROM v_costs", "v_costs", f) +
      " GROUP BY day, model ORDER BY day, model");
  bind_filter(q, f);
  nlohmann::json rows = nlohmann::json::array();
  while (q.step()) rows.push_back(row_json(q));
  return rows;
}

}  // namespace reckon
