#pragma once
// Inline SVG charts drawn by reckon for the HTML report: no script, no network, no fonts to fetch.
// Every label passes through xml_escape — item texts, model names and outputs are untrusted.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/text.h"

namespace reckon::svg {

using reckon::xml_escape;  // common/text.h

// Horizontal bars, one per row, with an optional interval whisker (e.g. a 95 % CI).
struct Bar {
  std::string label;
  double value = 0;
  std::optional<double> low, high;
  bool highlight = false;
};
std::string bar_chart(const std::string& title, const std::vector<Bar>& bars, const std::string& value_label,
                      bool percent);

struct Point {
  std::string label;
  double x = 0, y = 0;
  bool highlight = false;
};
struct Scatter {
  std::string title, x_label, y_label;
  // The legend's words for what the colours mean (an empty one is left out of the legend).
  std::string point_name = "model", highlight_name, link_name, front_name;
  bool log_x = false, log_y = false, y_percent = false;
  std::vector<Point> points;
  std::vector<std::pair<size_t, size_t>> links;  // drawn as red lines (e.g. reversed pairs)
  std::vector<size_t> front;                     // a polyline in the given order (e.g. a Pareto front)
};
std::string scatter(const Scatter& s);

// One horizontal bar per label, split into named parts (e.g. input, cached, output, thinking).
struct Stack {
  std::string name;
  std::vector<double> values;  // one per label
};
std::string stacked_bars(const std::string& title, const std::vector<std::string>& labels,
                         const std::vector<Stack>& parts, const std::string& value_label);

// Distribution per row: whiskers p10–p90, box p25–p75, a tick at the median.
struct Box {
  std::string label;
  double p10 = 0, p25 = 0, p50 = 0, p75 = 0, p90 = 0;
  int64_t n = 0;
};
std::string box_plot(const std::string& title, const std::vector<Box>& boxes, const std::string& value_label,
                     bool log_x);

// Lines over a shared x axis (e.g. cost–accuracy curves), with a legend.
struct Series {
  std::string name;
  std::vector<std::pair<double, double>> points;
  bool dashed = false;
};
std::string line_chart(const std::string& title, const std::vector<Series>& series, const std::string& x_label,
                       const std::string& y_label, bool x_percent, bool y_percent);

// A grid of values (rows × columns) coloured on one scale, each cell labelled; empty cells stay blank.
std::string heatmap(const std::string& title, const std::vector<std::string>& rows, const std::vector<std::string>& cols,
                    const std::vector<std::vector<std::optional<double>>>& values, const std::string& row_label,
                    const std::string& col_label);

// Label placement: each label's box goes beside its point where it overlaps no placed label, no
// point and stays inside the plot area; when the near places are taken, farther out with a leader
// line; when nothing is free, the label is left out (the point keeps its tooltip). Sizes are
// estimated from the character count at `char_w` per character, so the boxes err on the large side.
struct Rect {
  double x = 0, y = 0, w = 0, h = 0;
  bool intersects(const Rect& o) const { return x < o.x + o.w && o.x < x + w && y < o.y + o.h && o.y < y + h; }
  bool inside(const Rect& o) const { return x >= o.x && y >= o.y && x + w <= o.x + o.w && y + h <= o.y + o.h; }
};
struct Placed {
  Rect box;
  bool leader = false;  // drawn away from its point: a line joins them
};
std::vector<std::optional<Placed>> place_labels(const std::vector<std::pair<double, double>>& points,
                                                const std::vector<std::string>& labels, const Rect& area,
                                                double char_w = 6.6, double line_h = 14, double marker_r = 5);

// The indices of the points no other point beats on both axes (lower x, higher y), by increasing x.
std::vector<size_t> pareto_front(const std::vector<Point>& points);

}  // namespace reckon::svg
