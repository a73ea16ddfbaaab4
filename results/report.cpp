#include "results/report.h"

#include "results/answers.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "common/stats.h"
#include "common/text.h"
#include "results/costs.h"
#include "results/summary.h"
#include "results/svg.h"
#include "results/thinking.h"

namespace reckon {
namespace {


std::string pct(std::optional<double> v) {
  if (!v) return "–";
  char b[32];
  std::snprintf(b, sizeof b, "%.1f%%", *v * 100);
  return b;
}

std::string fixed(double v, const char* f = "%.2f") {
  char b[32];
  std::snprintf(b, sizeof b, f, v);
  return b;
}

const char* kStyle = R"css(
:root{--fg:#1b1b1b;--muted:#5a5a5a;--line:#d9d9d9;--alert:#b23c00;--bg:#fff}
*{box-sizing:border-box}
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg);margin:0 auto;max-width:1100px;padding:16px}
h1{font-size:1.6em;margin:.2em 0}h2{font-size:1.25em;margin:1.6em 0 .4em;border-bottom:2px solid var(--line)}h3{font-size:1.05em;margin:1.2em 0 .3em}
.muted{color:var(--muted)}.alert{color:var(--alert);font-weight:600}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(160px,1fr));gap:10px;margin:12px 0}
.card{border:1px solid var(--line);border-radius:8px;padding:10px}.card b{display:block;font-size:1.4em}
.headline{font-size:1.15em;border-left:5px solid var(--alert);padding:8px 12px;background:#fff4ee}
.scroll{overflow-x:auto;-webkit-overflow-scrolling:touch}
table{border-collapse:collapse;margin:6px 0;font-variant-numeric:tabular-nums;min-width:100%}
th,td{padding:4px 8px;border-bottom:1px solid var(--line);text-align:right;white-space:nowrap}
th:first-child,td:first-child{text-align:left}
td:first-child,td.name{white-space:normal;overflow-wrap:anywhere;min-width:8em;max-width:22em}
th{cursor:pointer;user-select:none;background:#f6f6f6;white-space:normal;vertical-align:bottom}
tr.reversed td{background:#fff0e8}
figure.chart{margin:8px 0;overflow-x:auto;-webkit-overflow-scrolling:touch}
figure.chart svg{width:100%;min-width:720px;height:auto;max-width:760px;display:block}
figcaption{font-size:.85em;color:var(--muted)}
svg text{font:12px system-ui,sans-serif;fill:#222}svg .tick{fill:#666;font-size:11px}svg .grid{stroke:#eee}
svg .axis{fill:#444}svg .plabel{font-size:11px}
tr.ans{cursor:pointer}tr.ans.wrong td:nth-child(4){color:var(--alert)}tr.ans.error td{color:var(--alert)}
td.detail{white-space:normal;text-align:left}td.detail pre{white-space:pre-wrap;word-break:break-word;margin:2px 0 8px;font-size:.9em}
.filters{display:flex;flex-wrap:wrap;gap:6px;align-items:center;margin:6px 0}
@media (max-width:600px){body{padding:8px;font-size:14px}th,td{padding:3px 5px}}
@media print{body{max-width:none}h2{break-after:avoid}figure,table{break-inside:avoid}th{cursor:auto}.scroll{overflow:visible}}
)css";

// Click a header to sort its table; numbers sort numerically. The page works without it.
const char* kScript = R"js(
document.querySelectorAll('table.sortable th').forEach(function(th,i){th.addEventListener('click',function(){
var tb=th.closest('table').tBodies[0],rows=Array.from(tb.rows),asc=th.dataset.asc!=='1';th.dataset.asc=asc?'1':'0';
var key=function(r){var t=r.cells[i].textContent.replace(/[$,%×]/g,'');var n=parseFloat(t);return isNaN(n)?t:n;};
rows.sort(function(a,b){var x=key(a),y=key(b);return (x<y?-1:x>y?1:0)*(asc?1:-1);});rows.forEach(function(r){tb.appendChild(r);});});});
document.documentElement.setAttribute('data-ready','1');
)js";

struct Html {
  std::ostringstream o;
  void table_head(std::initializer_list<const char*> cols) {
    o << "<div class=\"scroll\"><table class=\"sortable\"><thead><tr>";
    for (const char* c : cols) o << "<th>" << c << "</th>";
    o << "</tr></thead><tbody>\n";
  }
  void table_end() { o << "</tbody></table></div>\n"; }
  template <typename... Cells>
  void row(const char* cls, const Cells&... cells) {
    o << "<tr" << (cls && *cls ? std::string(" class=\"") + cls + "\"" : std::string()) << ">";
    ((o << "<td>" << xml_escape(cells) << "</td>"), ...);
    o << "</tr>\n";
  }
};

void headline(Html& h, Store& store, const ReportOptions& opt, const ReversalReport& rev) {
  auto q = store.db().prepare(
      std::string("SELECT COUNT(*), SUM(r.status = 'ok'), SUM(r.status = 'error'), TOTAL(CASE WHEN r.cache_hit = 0 THEN r.cost_usd END), "
                  "COUNT(DISTINCT r.model), COUNT(DISTINCT r.task), COUNT(DISTINCT r.run_id) FROM requests r WHERE ") +
      run_scope_sql(opt.run_id.has_value()));  // the summary's runs: each campaign's latest, and imports
  q.bind(1, opt.run_id);
  q.step();
  h.o << "<div class=\"cards\">";
  auto card = [&](const std::string& label, const std::string& value) {
    h.o << "<div class=\"card\"><span class=\"muted\">" << xml_escape(label) << "</span><b>" << xml_escape(value)
        << "</b></div>";
  };
  card("requests", std::to_string(q.int64(0)));
  card("errors", std::to_string(q.int64(2)));
  card("spend", fmt_usd(q.real(3)));
  card("models", std::to_string(q.int64(4)));
  card("tasks", std::to_string(q.int64(5)));
  card("runs", std::to_string(q.int64(6)));
  h.o << "</div>\n";
  if (rev.comparisons > 0 && rev.reversals == 0) {  // nothing to alarm anyone about
    h.o << "<p id=\"reversal-headline\">In all " << rev.comparisons << " pairs compared the cheaper-listed model also cost less.</p>\n";
  } else if (rev.comparisons > 0) {
    h.o << "<p class=\"headline\" id=\"reversal-headline\">The cheaper-listed model <span class=\"alert\">cost more in "
        << rev.reversals << " of " << rev.comparisons << " pairs (" << pct(rev.reversal_rate()) << ")</span>";
    if (auto te = rev.thinking_explained())
      h.o << "; without thinking tokens " << rev.reversals_without_thinking << " remain — thinking explains "
          << pct(te) << " of them";
    if (rev.kendall_tau_mean) h.o << ". Mean Kendall τ-b between listed price and real cost: " << fixed(*rev.kendall_tau_mean, "%.3f");
    h.o << ".</p>\n";
  }
}

void reversal_section(Html& h, const ReversalReport& rev) {
  if (rev.tasks.empty()) return;
  h.o << "<section id=\"reversal\"><h2>Listed price vs real cost</h2><p class=\"muted\">Each dot is a model on the "
         "task's compared items; an orange line joins a reversed pair (the cheaper-listed model cost more). Cost "
         "definition: "
      << (rev.definition == CostDefinition::kPaper ? "paper (listed rates)" : "real (reckon's cost, provider-billed where reported)")
      << ".</p>\n";
  for (const auto& t : rev.tasks) {
    svg::Scatter s;
    s.title = t.task + ": listed price vs real cost";
    s.x_label = "listed price, input + output ($/MTok, log)";
    s.y_label = "cost on the task ($, log)";
    s.log_x = s.log_y = true;
    s.highlight_name = "in a reversed pair";
    s.link_name = "reversed pair";
    std::map<std::string, size_t> index;
    std::set<std::string> reversed;
    for (const auto& p : t.pairs)
      if (p.reversed) reversed.insert(p.cheaper_listed), reversed.insert(p.pricier_listed);
    for (const auto& m : t.models) {
      index[m.model] = s.points.size();
      s.points.push_back({m.model, m.listed_price, m.cost, reversed.count(m.model) > 0});
    }
    for (const auto& p : t.pairs)
      if (p.reversed) s.links.emplace_back(index.at(p.cheaper_listed), index.at(p.pricier_listed));
    h.o << "<h3>" << xml_escape(t.task) << " — " << t.reversals << " of " << t.comparisons << " pairs reversed, "
        << t.items << " items compared</h3>\n"
        << svg::scatter(s);
    h.table_head({"model", "listed $/MTok", "listed rank", "cost", "cost rank", "cost w/o thinking", "$/correct", "cut off"});
    for (const auto& m : t.models)
      h.row(m.listed_rank != m.cost_rank ? "reversed" : "", m.model, fixed(m.listed_price), std::to_string(m.listed_rank),
            fmt_usd(m.cost), std::to_string(m.cost_rank), fmt_usd(m.cost_without_thinking),
            m.cost_per_correct() ? fmt_usd(*m.cost_per_correct()) : std::string("–"),
            std::to_string(m.cut_off) + "/" + std::to_string(m.answers));
    h.table_end();
    if (t.reversals > 0) {
      h.table_head({"cheaper-listed", "pricier-listed", "price ratio", "cost ratio", "without thinking"});
      for (const auto& p : t.pairs)
        if (p.reversed)
          h.row("reversed", p.cheaper_listed, p.pricier_listed, fixed(p.price_ratio()) + "×", fixed(p.magnitude()) + "×",
                p.reversed_without_thinking ? "still reversed" : "not reversed");
      h.table_end();
    }
  }
  h.o << "</section>\n";
}

void leaderboard_section(Html& h, const std::vector<ModelTaskSummary>& rows) {
  if (rows.empty()) return;
  std::map<std::string, std::vector<const ModelTaskSummary*>> by_task;
  for (const auto& r : rows) by_task[r.task].push_back(&r);
  h.o << "<section id=\"leaderboard\"><h2>Leaderboard</h2><p class=\"muted\">Accuracy with its Wilson 95 % interval "
         "(0/1 scores); cost is reckon's real cost of every answer.</p>\n";
  for (auto& [task, models] : by_task) {
    std::sort(models.begin(), models.end(), [](auto* a, auto* b) { return a->accuracy.value_or(-1) > b->accuracy.value_or(-1); });
    h.o << "<h3>" << xml_escape(task) << "</h3>\n";
    std::vector<svg::Bar> bars;
    for (const auto* m : models)
      if (m->accuracy) bars.push_back({m->model, *m->accuracy, m->ci_low, m->ci_high, false});
    if (!bars.empty()) h.o << svg::bar_chart(task + ": accuracy (95 % CI)", bars, "accuracy", true);
    h.table_head({"model", "answers", "errors", "accuracy", "95% CI", "cost", "$/correct", "thinking tok", "p50 ms", "p90 ms"});
    for (const auto* m : models)
      h.row("", m->model, std::to_string(m->requests), std::to_string(m->errors), pct(m->accuracy),
            m->ci_low ? pct(m->ci_low) + "–" + pct(m->ci_high) : std::string("–"), fmt_usd(m->cost_usd),
            m->cost_per_correct() ? fmt_usd(*m->cost_per_correct()) : std::string("–"),
            std::to_string(m->reasoning_tokens),
            m->latency_p50_ms ? fixed(*m->latency_p50_ms, "%.0f") : std::string("–"),
            m->latency_p90_ms ? fixed(*m->latency_p90_ms, "%.0f") : std::string("–"));
    h.table_end();
  }
  h.o << "</section>\n";
}

void pareto_section(Html& h, const std::vector<ModelTaskSummary>& rows) {
  std::map<std::string, std::vector<svg::Point>> by_task;
  for (const auto& r : rows) {
    const int64_t answered = r.requests - r.errors;
    if (!r.accuracy || answered <= 0 || r.cost_usd <= 0) continue;
    by_task[r.task].push_back({r.model, r.cost_usd / static_cast<double>(answered), *r.accuracy, false});
  }
  if (by_task.empty()) return;
  h.o << "<section id=\"pareto\"><h2>Cost–accuracy Pareto front</h2><p class=\"muted\">Mean real cost per answer "
         "against accuracy; the green line joins the models no other model beats on both.</p>\n";
  for (auto& [task, points] : by_task) {
    svg::Scatter s;
    s.title = task + ": cost per answer vs accuracy";
    s.x_label = "cost per answer ($, log)";
    s.y_label = "accuracy";
    s.log_x = true;
    s.y_percent = true;
    s.points = points;
    s.front = svg::pareto_front(s.points);
    s.front_name = "Pareto front";
    h.o << svg::scatter(s);
    h.o << "<p class=\"muted\">On the front: ";
    for (size_t k = 0; k < s.front.size(); ++k) h.o << (k ? ", " : "") << xml_escape(s.points[s.front[k]].label);
    h.o << "</p>\n";
  }
  h.o << "</section>\n";
}

void breakdown_section(Html& h, Store& store, const ReportOptions& opt) {
  auto rows = spend(store, {"model"}, opt.run_id);
  if (rows.empty()) return;
  std::sort(rows.begin(), rows.end(), [](const CostRow& a, const CostRow& b) { return a.total > b.total; });
  std::vector<std::string> labels;
  std::vector<svg::Stack> parts = {{"input", {}}, {"cached", {}}, {"cache writes", {}}, {"visible output", {}},
                                   {"thinking", {}}, {"fees", {}}};
  for (const auto& r : rows) {
    labels.push_back(r.keys.at(0));
    const double v[] = {r.input, r.cache_read, r.cache_write, r.output, r.reasoning, r.fees};
    for (size_t k = 0; k < parts.size(); ++k) parts[k].values.push_back(v[k]);
  }
  h.o << "<section id=\"breakdown\"><h2>Where the money went</h2>\n"
      << svg::stacked_bars("Cost per model by part", labels, parts, "cost ($)");
  h.table_head({"model", "requests", "input", "cached", "cache writes", "visible output", "thinking", "fees", "total",
                "thinking share"});
  for (const auto& r : rows)
    h.row("", r.keys.at(0), std::to_string(r.requests), fmt_usd(r.input), fmt_usd(r.cache_read), fmt_usd(r.cache_write),
          fmt_usd(r.output), fmt_usd(r.reasoning), fmt_usd(r.fees), fmt_usd(r.total),
          pct(r.total > 0 ? std::optional<double>(r.reasoning / r.total) : std::nullopt));
  h.table_end();
  h.o << "</section>\n";
}

void thinking_section(Html& h, Store& store, const ReportOptions& opt) {
  auto q = store.db().prepare(
      "SELECT model, reasoning_tokens FROM requests WHERE status = 'ok' AND reasoning_tokens IS NOT NULL "
      "AND (?1 IS NULL OR run_id = ?1)");
  q.bind(1, opt.run_id);
  std::map<std::string, std::vector<double>> tokens;
  while (q.step()) tokens[q.text(0)].push_back(static_cast<double>(q.int64(1)));
  std::vector<svg::Box> boxes;
  for (auto& [model, v] : tokens) {
    svg::Box b;
    b.label = model;
    b.n = static_cast<int64_t>(v.size());
    std::sort(v.begin(), v.end());
    b.p10 = *quantile(v, 0.1), b.p25 = *quantile(v, 0.25), b.p50 = *quantile(v, 0.5), b.p75 = *quantile(v, 0.75),
    b.p90 = *quantile(v, 0.9);
    if (b.p90 > 0) boxes.push_back(b);
  }
  if (boxes.empty()) return;
  std::sort(boxes.begin(), boxes.end(), [](const svg::Box& a, const svg::Box& b) { return a.p50 > b.p50; });
  auto rep = analyze_thinking(store, opt.run_id, 3);
  h.o << "<section id=\"thinking\"><h2>Thinking tokens</h2><p class=\"muted\">Thinking tokens per answer: whiskers "
         "p10–p90, box p25–p75, bar at the median. Cut off: stopped at the output cap (finish reason length) or "
         "all output thinking, as in the reversal tables.</p>\n"
      << svg::box_plot("Thinking tokens per answer", boxes, "thinking tokens (log)", true);
  h.table_head({"model", "task", "answers", "thinking share of output", "thinking share of cost", "cut off",
                "no visible output"});
  for (const auto& s : rep.shares)
    h.row("", s.model, s.task, std::to_string(s.requests), pct(s.token_share()), pct(s.cost_share()),
          std::to_string(s.cut_off), std::to_string(s.no_visible_output));
  h.table_end();
  h.o << "</section>\n";
}

void selections_section(Html& h, Store& store) {
  auto q = store.db().prepare(
      "SELECT s.id, s.task, s.method, COUNT(i.item_id), TOTAL(i.weight), s.created_at FROM selections s "
      "LEFT JOIN selection_items i ON i.selection_id = s.id GROUP BY s.id ORDER BY s.task, s.id");
  bool any = false;
  while (q.step()) {
    if (!any) {
      h.o << "<section id=\"selections\"><h2>Selections</h2>\n";
      h.table_head({"selection", "task", "method", "items", "weight", "created"});
      any = true;
    }
    h.row("", q.text(0), q.text(1), q.text(2), std::to_string(q.int64(3)), fixed(q.real(4), "%.3f"),
          q.is_null(5) ? std::string() : q.text(5));
  }
  if (any) {
    h.table_end();
    h.o << "</section>\n";
  }
}

// Routers saved by `reckon route train`: their held-out judgement and cost–accuracy curves, the
// routers of one candidate pair in one chart with random routing as the dashed diagonal.
void routers_section(Html& h, Store& store) {
  auto q = store.db().prepare("SELECT name, kind, params FROM routers ORDER BY name");
  std::map<std::string, std::vector<svg::Series>> charts;
  std::map<std::string, std::pair<double, double>> ends;  // pair -> (weak, strong) accuracy
  bool any = false;
  while (q.step()) {
    const auto p = nlohmann::json::parse(q.text(2), nullptr, false);
    if (p.is_discarded() || !p.contains("eval") || !p.contains("candidates")) continue;
    if (!any) {
      h.o << "<section id=\"routers\"><h2>Routers</h2><p class=\"muted\">Judged on held-out queries. APGR: area under "
             "the share of the accuracy gap recovered as calls move to the costlier candidate (random 0.5).</p>\n";
      h.table_head({"router", "kind", "candidates", "held-out accuracy", "APGR", "CPT(50%)", "costly calls"});
      any = true;
    }
    const auto& e = p["eval"];
    const auto cands = p["candidates"].get<std::vector<std::string>>();
    std::string joined;
    for (const auto& c : cands) joined += (joined.empty() ? "" : " → ") + c;
    auto num_or_dash = [](const nlohmann::json& v, double scale, const char* f) {
      return v.is_number() ? fixed(v.get<double>() * scale, f) : std::string("–");
    };
    const auto calls = e.value("calls", std::vector<double>{});
    h.row("", q.text(0), q.text(1), joined, num_or_dash(e["accuracy"], 100, "%.2f") + "%", num_or_dash(e["apgr"], 1, "%.3f"),
          e["cpt50"].is_number() ? num_or_dash(e["cpt50"], 100, "%.1f") + "%" : std::string("–"),
          calls.empty() ? std::string("–") : fixed(100 * calls.back(), "%.1f") + "%");
    if (p.contains("curve") && cands.size() == 2 && !p["curve"].empty()) {
      svg::Series s{q.text(0) + " (" + q.text(1) + ")", {}, false};
      for (const auto& pt : p["curve"]) s.points.emplace_back(pt.at(0).get<double>(), pt.at(1).get<double>());
      charts[joined].push_back(s);
      const auto acc = e.value("candidate_accuracy", std::vector<double>{});
      if (acc.size() == 2) ends[joined] = {acc[0], acc[1]};
    }
  }
  if (!any) return;
  h.table_end();
  for (auto& [pair, series] : charts) {
    if (ends.count(pair)) series.push_back({"random", {{0, ends[pair].first}, {1, ends[pair].second}}, true});
    h.o << svg::line_chart(pair + ": accuracy as calls move to the costlier candidate", series, "share of calls to the costlier candidate",
                           "accuracy", true, true);
  }
  h.o << "</section>\n";
}

// Budget sweeps: the score per budget × SFT share as a heatmap, and one curve per budget.
void sweeps_section(Html& h, Store& store) {
  auto ids = store.db().prepare("SELECT DISTINCT sweep_id FROM sweep_points ORDER BY sweep_id");
  bool any = false;
  while (ids.step()) {
    const std::string id = ids.text(0);
    auto q = store.db().prepare(
        "SELECT budget, sft_fraction, AVG(score), COUNT(score) FROM sweep_points WHERE sweep_id = ?1 AND status = 'ok' "
        "AND cost_ratio = (SELECT MIN(cost_ratio) FROM sweep_points WHERE sweep_id = ?1) GROUP BY budget, sft_fraction");
    q.bind(1, id);
    std::map<double, std::map<double, double>> grid;  // budget -> share -> mean score
    std::set<double> shares;
    while (q.step()) grid[q.real(0)][q.real(1)] = q.real(2), shares.insert(q.real(1));
    if (grid.empty()) continue;
    if (!any) h.o << "<section id=\"sweeps\"><h2>Budget sweeps</h2><p class=\"muted\">Held-out score (APGR for two "
                     "candidates) by total budget and the share of it spent on SFT; the rest buys preference pairs.</p>\n";
    any = true;
    std::vector<std::string> rows, cols;
    for (auto it = shares.rbegin(); it != shares.rend(); ++it) cols.push_back("SFT " + fixed(100 * *it, "%.0f") + "%");
    std::vector<std::vector<std::optional<double>>> values;
    std::vector<svg::Series> curves;
    for (const auto& [budget, by_share] : grid) {
      rows.push_back(fixed(budget, "%.0f"));
      std::vector<std::optional<double>> row;
      svg::Series line{"budget " + fixed(budget, "%.0f"), {}, false};
      for (auto it = shares.rbegin(); it != shares.rend(); ++it) {
        auto v = by_share.find(*it);
        row.push_back(v == by_share.end() ? std::nullopt : std::optional<double>(v->second));
        if (v != by_share.end()) line.points.emplace_back(*it, v->second);
      }
      values.push_back(row);
      std::sort(line.points.begin(), line.points.end());
      curves.push_back(line);
    }
    h.o << "<h3>" << xml_escape(id) << "</h3>\n"
        << svg::heatmap(id + ": score by budget and SFT share", rows, cols, values, "budget", "share of the budget spent on SFT")
        << svg::line_chart(id + ": score against the SFT share, one line per budget", curves, "share of the budget spent on SFT",
                           "score", true, false);
  }
  if (any) h.o << "</section>\n";
}

}  // namespace

// The answers, embedded as JSON (texts clipped, so a 10,000-answer run stays a few MB) and shown by a
// small script: filters by model, task, outcome and text, 100 rows a page, a row opens its texts.
const char* kAnswersScript = R"js(
(function(){var el=document.getElementById('answers-data');if(!el)return;var d=JSON.parse(el.textContent),rows=d.rows,page=0,per=100;
var $=function(id){return document.getElementById(id);};
function opts(sel,key){var seen={};rows.forEach(function(r){seen[r[key]]=1;});Object.keys(seen).sort().forEach(function(v){var o=document.createElement('option');o.value=v;o.textContent=v;sel.appendChild(o);});}
opts($('ans-model'),'model');opts($('ans-task'),'task');
function text(v){return v===null||v===undefined?'':String(v);}
function usd(v){var a=Math.abs(v);if(v===0)return '$0';return(v<0?'-$':'$')+a.toFixed(a>=100?2:a>=1?3:a>=0.01?4:6);}
function cell(tr,v,cls){var td=document.createElement('td');td.textContent=text(v);if(cls)td.className=cls;tr.appendChild(td);}
function matches(r){var m=$('ans-model').value,t=$('ans-task').value,o=$('ans-outcome').value,q=$('ans-q').value.toLowerCase();
return(!m||r.model===m)&&(!t||r.task===t)&&(!o||r.outcome===o)&&(!q||(text(r.prompt)+' '+text(r.answer)+' '+text(r.prediction)).toLowerCase().indexOf(q)>=0);}
function draw(){var hit=rows.filter(matches),tb=$('ans-body');tb.textContent='';var n=Math.max(1,Math.ceil(hit.length/per));if(page>=n)page=n-1;
hit.slice(page*per,page*per+per).forEach(function(r){var tr=document.createElement('tr');tr.className='ans '+r.outcome;
cell(tr,r.task);cell(tr,r.model,'name');cell(tr,r.item_id);cell(tr,r.outcome);cell(tr,r.prediction,'name');cell(tr,r.reference,'name');
cell(tr,r.input_tokens);cell(tr,r.output_tokens);cell(tr,r.thinking_tokens);cell(tr,r.cost_usd===null?'':usd(r.cost_usd)+(r.cache_hit?' (cached)':''));
cell(tr,r.latency_ms===null?'':Math.round(r.latency_ms));
var dt=document.createElement('tr');dt.hidden=true;var td=document.createElement('td');td.colSpan=11;td.className='detail';
[['Prompt',r.prompt],['Answer',r.answer],['Error',r.error]].forEach(function(p){if(!p[1])return;var h=document.createElement('b');h.textContent=p[0];var pre=document.createElement('pre');pre.textContent=p[1];td.appendChild(h);td.appendChild(pre);});
dt.appendChild(td);tr.addEventListener('click',function(){dt.hidden=!dt.hidden;});tb.appendChild(tr);tb.appendChild(dt);});
$('ans-count').textContent=hit.length+' of '+rows.length+' answers'+(d.total>rows.length?' (the report holds the first '+rows.length+' of '+d.total+'; reckon serve pages through all)':'')+' · page '+(page+1)+' of '+n;}
['ans-model','ans-task','ans-outcome'].forEach(function(id){$(id).addEventListener('change',function(){page=0;draw();});});
$('ans-q').addEventListener('input',function(){page=0;draw();});
$('ans-prev').addEventListener('click',function(){if(page>0){page--;draw();}});$('ans-next').addEventListener('click',function(){page++;draw();});
draw();})();
)js";

void answers_section(Html& h, Store& store, const ReportOptions& opt) {
  AnswerFilter f;
  f.run = opt.run_id;
  f.limit = 20000;
  f.clip = 600;
  const nlohmann::json answers = answers_json(store, f);
  if (answers["total"].get<int64_t>() == 0) return;
  std::string data = answers.dump();
  // Inside <script>, "</script" would close the element and "<!--" change how it is parsed: every "<"
  // (only ever inside a JSON string) is written as the escape \u003c instead.
  for (size_t pos = 0; (pos = data.find('<', pos)) != std::string::npos; pos += 6) data.replace(pos, 1, "\\u003c");
  h.o << "<section id=\"answers\"><h2>Answers</h2><p class=\"muted\">Every answer: filter, search, and click a row for "
         "its prompt and full answer (clipped to 600 characters here; <code>reckon serve</code>'s /api/answers has them whole).</p>"
         "<div class=\"filters\"><select id=\"ans-model\" aria-label=\"model\"><option value=\"\">all models</option></select> "
         "<select id=\"ans-task\" aria-label=\"task\"><option value=\"\">all tasks</option></select> "
         "<select id=\"ans-outcome\" aria-label=\"outcome\"><option value=\"\">all outcomes</option><option>correct</option>"
         "<option>wrong</option><option>error</option></select> <input id=\"ans-q\" type=\"search\" placeholder=\"search text\" "
         "aria-label=\"search\"> <button id=\"ans-prev\">‹</button><button id=\"ans-next\">›</button> <span id=\"ans-count\" "
         "class=\"muted\"></span></div><div class=\"scroll\"><table id=\"answers-table\"><thead><tr><th>task</th><th>model</th>"
         "<th>item</th><th>outcome</th><th>prediction</th><th>reference</th><th>input tok</th><th>output tok</th><th>thinking tok</th>"
         "<th>cost</th><th>latency ms</th></tr></thead><tbody id=\"ans-body\"></tbody></table></div>"
         "<script type=\"application/json\" id=\"answers-data\">"
      << data << "</script><script>" << kAnswersScript << "</script></section>\n";
}

std::string render_html_report(Store& store, const ReportOptions& opt) {
  Html h;
  const auto rev = analyze_reversals(store, opt.run_id, opt.definition);
  const auto rows = summarize(store, opt.run_id);
  h.o << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
         "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
         "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; "
         "script-src 'unsafe-inline'; img-src data:\">"
         "<title>"
      << xml_escape(opt.title) << "</title><style>" << kStyle << "</style></head><body>\n<header><h1>"
      << xml_escape(opt.title) << "</h1><p class=\"muted\">" << xml_escape(store.path())
      << (opt.run_id ? " · run " + xml_escape(*opt.run_id) : std::string()) << " · generated " << xml_escape(now_utc_iso())
      << " by reckon " << RECKON_VERSION << "</p>";
  if (!opt.api_note.empty()) h.o << "<p class=\"muted\">" << xml_escape(opt.api_note) << "</p>";
  h.o << "</header>\n";
  headline(h, store, opt, rev);
  reversal_section(h, rev);
  leaderboard_section(h, rows);
  pareto_section(h, rows);
  breakdown_section(h, store, opt);
  thinking_section(h, store, opt);
  selections_section(h, store);
  routers_section(h, store);
  sweeps_section(h, store);
  answers_section(h, store, opt);
  if (rows.empty()) h.o << "<p>This store has no requests yet.</p>\n";
  h.o << "<script>" << kScript << "</script>\n</body></html>\n";
  return h.o.str();
}

}  // namespace reckon
