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

}  // namespace

const std::vector<std::string>& exportable_views() {
  static const std::vector<std::string> views = {"v_requests", "v_model_task", "v_costs"};
  return views;
}

size_t export_view(Store& store, const std::string& view, const std::string& format, std::ostream& out) {
  check_view(view);
  if (format != "csv" && format != "jsonl") throw InputError("--format must be csv or jsonl (got '" + format + "')");
  auto q = store.db().prepare("SELECT * FROM " + view);  // the name is one of the fixed views above
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

nlohmann::json view_json(Store& store, const std::string& view) {
  check_view(view);
  auto q = store.db().prepare("SELECT * FROM " + view);  // a fixed view name, checked above
  nlohmann::json rows = nlohmann::json::array();
  while (q.step()) rows.push_back(row_json(q));
  return rows;
}

}  // namespace reckon
