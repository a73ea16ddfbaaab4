#include "results/report.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <regex>

#include "results/import.h"
#include "results/svg.h"
#include "tests/support.h"

using namespace reckon;

namespace {

size_t count(const std::string& hay, const std::string& needle) {
  size_t n = 0;
  for (size_t p = hay.find(needle); p != std::string::npos; p = hay.find(needle, p + 1)) ++n;
  return n;
}

void add_price(Store& s, const std::string& model, double in, double out) {
  PriceEntry e;
  e.model = model;
  e.effective_from = "2020-01-01";
  e.base.input = in;
  e.base.output = out;
  s.upsert_price(e);
}

const std::string kEvil = "<img src=x onerror=\"alert('x')\">";

}  // namespace

TEST_CASE("svg text is escaped for element content and attributes", "[report]") {
  CHECK(svg::xml_escape("a<b>&\"c'") == "a&lt;b&gt;&amp;&quot;c&#39;");
  auto chart = svg::bar_chart("t<", {{kEvil, 0.5, 0.4, 0.6, false}, {"ok", 0.25, {}, {}, true}}, "accuracy", true);
  CHECK(chart.find("<img") == std::string::npos);
  CHECK(count(chart, "<rect class=\"bar\"") == 2);
  CHECK(count(chart, "class=\"whisker\"") == 1);  // only the bar with an interval
  CHECK(chart.find("50.0%") != std::string::npos);
}

TEST_CASE("the Pareto front keeps exactly the points nothing beats on cost and accuracy", "[report]") {
  std::vector<svg::Point> p = {{"a", 1, 0.5}, {"b", 2, 0.4}, {"c", 3, 0.9}, {"d", 0.5, 0.2}, {"e", 3, 0.7}, {"f", 4, 0.9}};
  // d (cheapest), a (beats b), c (most accurate at cost 3); f ties c's accuracy at a higher cost.
  CHECK(svg::pareto_front(p) == std::vector<size_t>{3, 0, 2});
}

TEST_CASE("a scatter draws one link per reversed pair and the front as a polyline", "[report]") {
  svg::Scatter s;
  s.title = "x";
  s.log_x = s.log_y = true;
  s.points = {{"a", 1, 10}, {"b", 2, 1}, {"c", 4, 20}};
  s.links = {{0, 1}};
  s.front = {0, 2};
  auto out = s.points.size() ? svg::scatter(s) : "";
  CHECK(count(out, "class=\"point\"") == 3);
  CHECK(count(out, "class=\"link\"") == 1);
  CHECK(count(out, "<polyline") == 1);
  // The legend names what the colours mean: only the parts the chart has names for.
  CHECK(count(out, "class=\"legend\"") == 1);  // "model"
  s.highlight_name = "in a reversed pair", s.link_name = "reversed pair", s.front_name = "Pareto front";
  const std::string named = svg::scatter(s);
  CHECK(count(named, "class=\"legend\"") == 4);
  CHECK(named.find(">reversed pair</text>") != std::string::npos);
}

TEST_CASE("labels are placed where they overlap no other label and no point, inside the plot", "[report]") {
  // Ten points in a tight cluster and one against the right edge, in a 400 × 200 plot.
  std::vector<std::pair<double, double>> at;
  std::vector<std::string> labels;
  for (int i = 0; i < 10; ++i) {
    at.emplace_back(150 + 3 * i, 100 + 2 * (i % 3));
    labels.push_back("model-number-" + std::to_string(i));
  }
  at.emplace_back(395, 50);
  labels.push_back("edge-model");
  const svg::Rect area{0, 0, 400, 200};
  const auto placed = svg::place_labels(at, labels, area);
  REQUIRE(placed.size() == 11);
  size_t shown = 0;
  for (size_t i = 0; i < placed.size(); ++i) {
    if (!placed[i]) continue;
    ++shown;
    const svg::Rect& r = placed[i]->box;
    CHECK(r.inside(area));
    CHECK(r.w >= 6.6 * static_cast<double>(labels[i].size()));  // wide enough for its text
    for (size_t j = 0; j < placed.size(); ++j) {
      const svg::Rect marker{at[j].first - 5, at[j].second - 5, 10, 10};
      CHECK_FALSE(r.intersects(marker));
      if (j != i && placed[j]) CHECK_FALSE(r.intersects(placed[j]->box));
    }
  }
  CHECK(shown == 11);  // the plot has room for all of them, some on leader lines
  REQUIRE(placed[10]);
  CHECK(placed[10]->box.x + placed[10]->box.w <= 400);  // the edge point's label went left
  CHECK(placed[10]->box.x < 395);
  size_t leaders = 0;
  for (const auto& p : placed) leaders += p && p->leader;
  CHECK(leaders > 0);  // a cluster of ten cannot all sit beside their points
}

TEST_CASE("the HTML report is self-contained, shows the reversal and escapes everything from the store", "[report]") {
  test::TempDir tmp;
  Store s(tmp.file("r.db"), Store::Mode::kReadWrite);
  add_price(s, "cheap-thinker", 1, 2);  // cheaper listed, but thinks a lot
  add_price(s, "pricey-direct", 5, 10);
  add_price(s, kEvil, 3, 3);
  std::string rows = "model,task,item_id,input_tokens,output_tokens,reasoning_tokens,score\n";
  for (int i = 0; i < 20; ++i) {
    const std::string id = std::to_string(i);
    rows += "cheap-thinker,math<&>," + id + ",100,9000,8500," + (i % 4 ? "1" : "0") + "\n";
    rows += "pricey-direct,math<&>," + id + ",100,300,0," + (i % 2 ? "1" : "0") + "\n";
    rows += "\"" + std::string("<img src=x onerror=\"\"alert('x')\"\">") + "\",math<&>," + id + ",100,100,0,0\n";
  }
  import_files(s, {tmp.write("rows.csv", rows)}, {});
  ReportOptions opt;
  opt.title = "T</title><script>alert(1)</script>";
  const std::string html = render_html_report(s, opt);

  // Self-contained: nothing fetched from anywhere.
  CHECK(html.find("http://") == std::string::npos);
  CHECK(html.find("https://") == std::string::npos);
  CHECK(!std::regex_search(html, std::regex("<[^>]+ (src|href)=")));
  CHECK(html.find("<link") == std::string::npos);
  // Untrusted text never becomes markup.
  CHECK(html.find("<img") == std::string::npos);
  CHECK(html.find("<script>alert") == std::string::npos);
  CHECK(html.find("&lt;img src=x onerror=&quot;alert(&#39;x&#39;)&quot;&gt;") != std::string::npos);
  CHECK(html.find("math&lt;&amp;&gt;") != std::string::npos);
  CHECK(count(html, "<script>") == 2);  // reckon's own: the table sorter and the answers view
  CHECK(count(html, "<script type=\"application/json\" id=\"answers-data\">") == 1);  // the answers, as data
  // The story at a glance: cheap-thinker (listed 3) costs more than pricey-direct (listed 15).
  CHECK(html.find("id=\"reversal-headline\"") != std::string::npos);
  CHECK(std::regex_search(html, std::regex("cost more in 2 of 3 pairs")));
  for (const char* section : {"id=\"reversal\"", "id=\"leaderboard\"", "id=\"pareto\"", "id=\"breakdown\"", "id=\"thinking\"",
                              "id=\"answers\""})
    CHECK(html.find(section) != std::string::npos);
  CHECK(count(html, "<svg") >= 5);
  CHECK(count(html, "class=\"link\"") == 2);
  CHECK(html.find("name=\"viewport\"") != std::string::npos);
  CHECK(html.find("@media print") != std::string::npos);
}

TEST_CASE("an empty store gives a report that says so", "[report]") {
  test::TempDir tmp;
  Store s(tmp.file("r.db"), Store::Mode::kReadWrite);
  const std::string html = render_html_report(s, {});
  CHECK(html.find("no requests yet") != std::string::npos);
  CHECK(html.find("<svg") == std::string::npos);
}

TEST_CASE("routers saved in the store appear with their held-out numbers and curves", "[report]") {
  test::TempDir tmp;
  Store s(tmp.file("r.db"), Store::Mode::kReadWrite);
  nlohmann::json params = {{"candidates", {"weak<b>", "strong"}},
                           {"eval", {{"accuracy", 0.75}, {"apgr", 0.61}, {"cpt50", 0.35}, {"calls", {0.7, 0.3}},
                                     {"candidate_accuracy", {0.68, 0.81}}}},
                           {"curve", {{0, 0.68}, {0.5, 0.78}, {1, 0.81}}}};
  auto q = s.db().prepare("INSERT INTO routers(name, kind, params) VALUES ('r1', 'dpo', ?1)");
  q.bind(1, params.dump());
  q.run();
  const std::string html = render_html_report(s, {});
  CHECK(html.find("id=\"routers\"") != std::string::npos);
  CHECK(html.find("0.610") != std::string::npos);
  CHECK(html.find("weak&lt;b&gt; → strong") != std::string::npos);
  CHECK(count(html, "<polyline class=\"series\"") == 2);  // the router and random
  CHECK(html.find("id=\"leaderboard\"") == std::string::npos);  // no requests: no empty leaderboard
}

TEST_CASE("budget sweeps appear as a heatmap and per-budget curves", "[report]") {
  test::TempDir tmp;
  Store s(tmp.file("r.db"), Store::Mode::kReadWrite);
  s.db().exec("INSERT INTO sweeps(id, spec) VALUES ('sw<1>', '{}')");
  s.db().exec(
      "INSERT INTO sweep_points(sweep_id, budget, sft_fraction, cost_ratio, seed, status, score) VALUES "
      "('sw<1>', 100, 1, 1, 1, 'ok', 0.6), ('sw<1>', 100, 0, 1, 1, 'ok', 0.5), ('sw<1>', 1000, 1, 1, 1, 'ok', 0.58), "
      "('sw<1>', 1000, 0, 1, 1, 'ok', 0.62), ('sw<1>', 1000, 0.5, 1, 1, 'error', NULL)");
  const std::string html = render_html_report(s, {});
  CHECK(html.find("id=\"sweeps\"") != std::string::npos);
  CHECK(html.find("sw&lt;1&gt;") != std::string::npos);
  CHECK(count(html, "<rect class=\"cell\"") == 4);  // the failed point leaves its cell blank
  CHECK(count(html, "<polyline class=\"series\"") == 2);  // one curve per budget
}

TEST_CASE("with no reversal to report the headline is plain, not an alarm", "[report]") {
  test::TempDir tmp;
  Store s(tmp.file("r.db"), Store::Mode::kReadWrite);
  add_price(s, "small", 1, 2);  // cheaper listed and cheaper in fact: the same tokens at a lower price
  add_price(s, "large", 5, 10);
  std::string rows = "model,task,item_id,input_tokens,output_tokens,score\n";
  for (int i = 0; i < 10; ++i) rows += "small,qa," + std::to_string(i) + ",100,100,1\nlarge,qa," + std::to_string(i) + ",100,100,1\n";
  import_files(s, {tmp.write("rows.csv", rows)}, {});
  const std::string html = render_html_report(s, {});
  CHECK(html.find("In all 1 pairs compared the cheaper-listed model also cost less.") != std::string::npos);
  CHECK(html.find("class=\"headline\"") == std::string::npos);
  CHECK(html.find("cost more in") == std::string::npos);
}
