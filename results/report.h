#pragma once
// `reckon report --html`: one self-contained HTML file (inline CSS and SVG, no network) that tells
// a store's story at a glance — listed price vs real cost first, then leaderboards with CIs, the
// cost–accuracy Pareto front, where the money went, and how much models think.
#include <optional>
#include <string>

#include "results/reversal.h"
#include "results/store.h"

namespace reckon {

struct ReportOptions {
  std::optional<std::string> run_id;             // only this run
  CostDefinition definition = CostDefinition::kReal;
  std::string title = "reckon report";
  std::string api_note;                          // shown by `reckon serve`: where the JSON endpoints are
};

// Everything taken from the store (model names, task names, item ids) is escaped: it is untrusted.
std::string render_html_report(Store& store, const ReportOptions& opt);

}  // namespace reckon
