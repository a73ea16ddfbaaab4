#include "results/svg.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

namespace reckon::svg {
namespace {

constexpr double kWidth = 720;
constexpr double kLabelWidth = 200;  // left gutter for row labels
constexpr double kRowHeight = 22;
// Colour-blind-safe palette (Okabe–Ito).
const char* const kPalette[] = {"#0072B2", "#56B4E9", "#009E73", "#E69F00", "#D55E00", "#CC79A7", "#F0E442", "#000000"};
constexpr const char* kAlert = "#D55E00";

std::string num(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.1f", v);
  return b;
}

// Three significant digits, no exponent for the magnitudes reports show.
std::string compact(double v, bool percent) {
  char b[32];
  if (percent) {
    std::snprintf(b, sizeof b, "%.1f%%", v * 100);
    return b;
  }
  const double a = std::fabs(v);
  if (a == 0) return "0";
  if (a >= 1e6) std::snprintf(b, sizeof b, "%.3gM", v / 1e6);
  else if (a >= 1e4) std::snprintf(b, sizeof b, "%.3gk", v / 1e3);
  else if (a >= 1) std::snprintf(b, sizeof b, "%.4g", v);
  else std::snprintf(b, sizeof b, "%.3g", v);
  return b;
}

// 26 characters of 12 px text fit the 200 px gutter for row labels.
std::string truncate_label(const std::string& s, size_t max = 26) {
  if (s.size() <= max) return s;
  size_t cut = max - 1;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;  // keep UTF-8 whole
  return s.substr(0, cut) + "…";
}

// Maps data values to pixels; log scales need positive values (others are clamped to the minimum).
struct Axis {
  double lo = 0, hi = 1, px0 = 0, px1 = 1;
  bool log = false;
  void fit(double mn, double mx, bool want_log) {
    log = want_log && mn > 0;
    if (log) {
      lo = std::floor(std::log10(mn));
      hi = std::ceil(std::log10(mx));
      if (hi <= lo) hi = lo + 1;
      return;
    }
    lo = std::min(0.0, mn);
    hi = mx > lo ? mx : lo + 1;
    // Round the top up to a tidy step so ticks land on round numbers.
    const double step = tick_step();
    hi = std::ceil(hi / step) * step;
  }
  double tick_step() const {
    const double raw = (hi - lo) / 5;
    const double mag = std::pow(10, std::floor(std::log10(raw)));
    for (double m : {1.0, 2.0, 2.5, 5.0, 10.0})
      if (raw <= m * mag) return m * mag;
    return 10 * mag;
  }
  double operator()(double v) const {
    double t = log ? (std::log10(std::max(v, std::pow(10, lo))) - lo) / (hi - lo) : (v - lo) / (hi - lo);
    return px0 + std::clamp(t, 0.0, 1.0) * (px1 - px0);
  }
  std::vector<double> ticks() const {
    std::vector<double> t;
    if (log) {
      for (double e = lo; e <= hi + 1e-9; ++e) t.push_back(std::pow(10, e));
      return t;
    }
    const double step = tick_step();
    for (double v = lo; v <= hi + step * 1e-6; v += step) t.push_back(v);
    return t;
  }
};

void open_svg(std::ostringstream& o, double height, const std::string& title) {
  o << "<figure class=\"chart\"><svg role=\"img\" viewBox=\"0 0 " << num(kWidth)
    << ' ' << num(height) << "\" aria-label=\"" << xml_escape(title) << "\"><title>" << xml_escape(title)
    << "</title>";
}

void close_svg(std::ostringstream& o, const std::string& title) {
  o << "</svg><figcaption>" << xml_escape(title) << "</figcaption></figure>\n";
}

void x_ticks(std::ostringstream& o, const Axis& x, double top, double bottom, bool percent) {
  for (double t : x.ticks()) {
    const double px = x(t);
    o << "<line class=\"grid\" x1=\"" << num(px) << "\" y1=\"" << num(top) << "\" x2=\"" << num(px) << "\" y2=\""
      << num(bottom) << "\"/><text class=\"tick\" x=\"" << num(px) << "\" y=\"" << num(bottom + 17)
      << "\" text-anchor=\"middle\">" << xml_escape(compact(t, percent)) << "</text>";
  }
}

}  // namespace

std::string bar_chart(const std::string& title, const std::vector<Bar>& bars, const std::string& value_label,
                      bool percent) {
  const double top = 10, bottom = top + kRowHeight * static_cast<double>(bars.size());
  double mx = 0, mn = 0;
  for (const auto& b : bars) {
    mx = std::max({mx, b.value, b.high.value_or(b.value)});
    mn = std::min({mn, b.value, b.low.value_or(b.value)});
  }
  Axis x;
  x.px0 = kLabelWidth;
  x.px1 = kWidth - 70;
  x.fit(mn, mx, false);
  if (percent && mn >= 0 && mx <= 1) x.lo = 0, x.hi = 1;  // shares read best on the whole 0–100 % axis
  std::ostringstream o;
  open_svg(o, bottom + 40, title);
  x_ticks(o, x, top, bottom, percent);
  for (size_t i = 0; i < bars.size(); ++i) {
    const auto& b = bars[i];
    const double y = top + kRowHeight * static_cast<double>(i);
    const double x0 = x(std::min(0.0, b.value)), x1 = x(std::max(0.0, b.value));
    o << "<text class=\"label\" x=\"" << num(kLabelWidth - 6) << "\" y=\"" << num(y + 15)
      << "\" text-anchor=\"end\">" << xml_escape(truncate_label(b.label)) << "</text>";
    o << "<rect class=\"bar\" x=\"" << num(x0) << "\" y=\"" << num(y + 4) << "\" width=\"" << num(std::max(x1 - x0, 1.0))
      << "\" height=\"" << num(kRowHeight - 8) << "\" fill=\"" << (b.highlight ? kAlert : kPalette[0]) << "\"><title>"
      << xml_escape(b.label) << ": " << xml_escape(compact(b.value, percent)) << "</title></rect>";
    if (b.low && b.high) {
      const double ym = y + kRowHeight / 2;
      o << "<path class=\"whisker\" d=\"M" << num(x(*b.low)) << ' ' << num(ym) << "H" << num(x(*b.high)) << "M"
        << num(x(*b.low)) << ' ' << num(ym - 5) << "v10M" << num(x(*b.high)) << ' ' << num(ym - 5)
        << "v10\" stroke=\"#222\" fill=\"none\"/>";
    }
    o << "<text class=\"value\" x=\"" << num(x(b.high.value_or(b.value)) + 6) << "\" y=\"" << num(y + 15) << "\">"
      << xml_escape(compact(b.value, percent)) << "</text>";
  }
  o << "<text class=\"axis\" x=\"" << num((x.px0 + x.px1) / 2) << "\" y=\"" << num(bottom + 32)
    << "\" text-anchor=\"middle\">" << xml_escape(value_label) << "</text>";
  close_svg(o, title);
  return o.str();
}

std::vector<std::optional<Placed>> place_labels(const std::vector<std::pair<double, double>>& points,
                                                const std::vector<std::string>& labels, const Rect& area, double char_w,
                                                double line_h, double marker_r) {
  std::vector<Rect> taken;  // the markers, then each label as it is placed
  for (const auto& [px, py] : points) taken.push_back({px - marker_r, py - marker_r, 2 * marker_r, 2 * marker_r});
  // Labels of points in the densest places first, where there is least choice.
  std::vector<size_t> order(points.size());
  std::vector<int> neighbours(points.size(), 0);
  for (size_t i = 0; i < points.size(); ++i) {
    order[i] = i;
    for (size_t j = 0; j < points.size(); ++j)
      if (i != j && std::hypot(points[i].first - points[j].first, points[i].second - points[j].second) < 60) ++neighbours[i];
  }
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return neighbours[a] > neighbours[b]; });
  std::vector<std::optional<Placed>> out(points.size());
  for (size_t i : order) {
    const double w = char_w * static_cast<double>(labels[i].size()) + 2, h = line_h;
    const auto [px, py] = points[i];
    auto free = [&](const Rect& r) {
      if (!r.inside(area)) return false;
      for (const auto& t : taken)
        if (r.intersects(t)) return false;
      return true;
    };
    // Beside the point: right, left, above, below; then on rings farther out, joined by a line.
    const double g = marker_r + 2;
    std::vector<std::pair<Rect, bool>> candidates = {
        {{px + g, py - h, w, h}, false},         {{px + g, py, w, h}, false},          {{px - g - w, py - h, w, h}, false},
        {{px - g - w, py, w, h}, false},         {{px - w / 2, py - g - h, w, h}, false}, {{px - w / 2, py + g, w, h}, false},
        {{px + g, py - h / 2, w, h}, false},     {{px - g - w, py - h / 2, w, h}, false}};
    for (double ring : {28.0, 44.0, 64.0, 90.0})
      for (int k = 0; k < 16; ++k) {
        const double a = k * 3.14159265358979 / 8, cx = px + ring * std::cos(a), cy = py - ring * std::sin(a);
        candidates.push_back({{std::cos(a) >= 0 ? cx : cx - w, cy - h / 2, w, h}, true});
      }
    for (const auto& [r, leader] : candidates)
      if (free(r)) {
        out[i] = Placed{r, leader};
        taken.push_back(r);
        break;
      }
  }
  return out;
}

std::string scatter(const Scatter& s) {
  const double height = 420, top = 34, bottom = height - 50;
  Axis x, y;
  x.px0 = 70;
  x.px1 = kWidth - 20;
  y.px0 = bottom;
  y.px1 = top;
  double xmn = INFINITY, xmx = -INFINITY, ymn = INFINITY, ymx = -INFINITY;
  for (const auto& p : s.points) {
    if (s.log_x && p.x <= 0) continue;
    xmn = std::min(xmn, p.x), xmx = std::max(xmx, p.x), ymn = std::min(ymn, p.y), ymx = std::max(ymx, p.y);
  }
  if (!std::isfinite(xmn)) xmn = 1, xmx = 10, ymn = 0, ymx = 1;
  x.fit(xmn, xmx, s.log_x);
  y.fit(ymn, ymx, s.log_y);
  if (s.y_percent && ymn >= 0 && ymx <= 1) y.lo = 0, y.hi = 1, y.log = false;
  std::ostringstream o;
  open_svg(o, height, s.title);
  // The legend, along the top: what each colour and line means.
  double lx = x.px0;
  auto legend = [&](const std::string& name, const std::string& mark) {
    if (name.empty()) return;
    o << mark << "<text class=\"legend\" x=\"" << num(lx + 16) << "\" y=\"16\">" << xml_escape(name) << "</text>";
    lx += 28 + 6.6 * static_cast<double>(name.size());
  };
  legend(s.point_name, "<circle cx=\"" + num(lx + 6) + "\" cy=\"12\" r=\"5\" fill=\"" + kPalette[0] + "\"/>");
  legend(s.highlight_name, "<circle cx=\"" + num(lx + 6) + "\" cy=\"12\" r=\"5\" fill=\"" + kAlert + "\"/>");
  legend(s.link_name, "<line x1=\"" + num(lx) + "\" y1=\"12\" x2=\"" + num(lx + 12) + "\" y2=\"12\" stroke=\"" + kAlert +
                          "\" stroke-width=\"2\"/>");
  legend(s.front_name, "<line x1=\"" + num(lx) + "\" y1=\"12\" x2=\"" + num(lx + 12) + "\" y2=\"12\" stroke=\"" + kPalette[2] +
                           "\" stroke-width=\"2\"/>");
  x_ticks(o, x, top, bottom, false);
  for (double t : y.ticks()) {
    o << "<line class=\"grid\" x1=\"" << num(x.px0) << "\" y1=\"" << num(y(t)) << "\" x2=\"" << num(x.px1)
      << "\" y2=\"" << num(y(t)) << "\"/><text class=\"tick\" x=\"" << num(x.px0 - 6) << "\" y=\"" << num(y(t) + 4)
      << "\" text-anchor=\"end\">" << xml_escape(compact(t, s.y_percent)) << "</text>";
  }
  if (s.front.size() > 1) {
    o << "<polyline class=\"front\" fill=\"none\" stroke=\"" << kPalette[2] << "\" stroke-width=\"2\" points=\"";
    for (size_t i : s.front) o << num(x(s.points[i].x)) << ',' << num(y(s.points[i].y)) << ' ';
    o << "\"/>";
  }
  for (const auto& [a, b] : s.links)
    o << "<line class=\"link\" x1=\"" << num(x(s.points[a].x)) << "\" y1=\"" << num(y(s.points[a].y)) << "\" x2=\""
      << num(x(s.points[b].x)) << "\" y2=\"" << num(y(s.points[b].y)) << "\" stroke=\"" << kAlert
      << "\" stroke-width=\"1.5\" stroke-opacity=\"0.6\"/>";
  std::vector<std::pair<double, double>> at;
  std::vector<std::string> labels;
  for (const auto& p : s.points) {
    at.emplace_back(x(p.x), y(p.y));
    labels.push_back(truncate_label(p.label, 24));
  }
  // Labels go where they overlap nothing, inside the plot (and its margin on the right).
  const auto placed = place_labels(at, labels, Rect{x.px0 + 1, top, kWidth - 2 - (x.px0 + 1), bottom - top - 1});
  for (size_t i = 0; i < s.points.size(); ++i) {
    const auto& p = s.points[i];
    const auto [px, py] = at[i];
    o << "<circle class=\"point\" cx=\"" << num(px) << "\" cy=\"" << num(py) << "\" r=\"5\" fill=\""
      << (p.highlight ? kAlert : kPalette[0]) << "\"><title>" << xml_escape(p.label) << " (" << xml_escape(compact(p.x, false))
      << ", " << xml_escape(compact(p.y, s.y_percent)) << ")</title></circle>";
    if (!placed[i]) continue;
    const Rect& r = placed[i]->box;
    if (placed[i]->leader) {
      const double lx2 = std::clamp(px, r.x, r.x + r.w), ly2 = std::clamp(py, r.y, r.y + r.h);
      o << "<line class=\"leader\" x1=\"" << num(px) << "\" y1=\"" << num(py) << "\" x2=\"" << num(lx2) << "\" y2=\""
        << num(ly2) << "\" stroke=\"#999\" stroke-width=\"0.75\"/>";
    }
    o << "<text class=\"plabel\" x=\"" << num(r.x + 1) << "\" y=\"" << num(r.y + r.h - 3.5) << "\">" << xml_escape(labels[i])
      << "</text>";
  }
  o << "<text class=\"axis\" x=\"" << num((x.px0 + x.px1) / 2) << "\" y=\"" << num(height - 8)
    << "\" text-anchor=\"middle\">" << xml_escape(s.x_label) << "</text><text class=\"axis\" transform=\"translate(14 "
    << num((top + bottom) / 2) << ") rotate(-90)\" text-anchor=\"middle\">" << xml_escape(s.y_label) << "</text>";
  close_svg(o, s.title);
  return o.str();
}

std::string stacked_bars(const std::string& title, const std::vector<std::string>& labels,
                         const std::vector<Stack>& parts, const std::string& value_label) {
  const double top = 30, bottom = top + kRowHeight * static_cast<double>(labels.size());
  double mx = 0;
  for (size_t i = 0; i < labels.size(); ++i) {
    double sum = 0;
    for (const auto& p : parts) sum += std::max(0.0, p.values.at(i));
    mx = std::max(mx, sum);
  }
  Axis x;
  x.px0 = kLabelWidth;
  x.px1 = kWidth - 70;
  x.fit(0, mx > 0 ? mx : 1, false);
  std::ostringstream o;
  open_svg(o, bottom + 40, title);
  double lx = kLabelWidth;  // legend along the top
  for (size_t k = 0; k < parts.size(); ++k) {
    o << "<rect x=\"" << num(lx) << "\" y=\"6\" width=\"12\" height=\"12\" fill=\"" << kPalette[k % 8]
      << "\"/><text class=\"legend\" x=\"" << num(lx + 16) << "\" y=\"16\">" << xml_escape(parts[k].name) << "</text>";
    lx += 24 + 7.0 * static_cast<double>(parts[k].name.size());
  }
  x_ticks(o, x, top, bottom, false);
  for (size_t i = 0; i < labels.size(); ++i) {
    const double y = top + kRowHeight * static_cast<double>(i);
    o << "<text class=\"label\" x=\"" << num(kLabelWidth - 6) << "\" y=\"" << num(y + 15) << "\" text-anchor=\"end\">"
      << xml_escape(truncate_label(labels[i])) << "</text>";
    double acc = 0;
    for (size_t k = 0; k < parts.size(); ++k) {
      const double v = std::max(0.0, parts[k].values[i]);
      if (v <= 0) continue;
      o << "<rect class=\"seg\" x=\"" << num(x(acc)) << "\" y=\"" << num(y + 4) << "\" width=\""
        << num(std::max(x(acc + v) - x(acc), 0.5)) << "\" height=\"" << num(kRowHeight - 8) << "\" fill=\""
        << kPalette[k % 8] << "\"><title>" << xml_escape(labels[i]) << " — " << xml_escape(parts[k].name) << ": "
        << xml_escape(compact(v, false)) << "</title></rect>";
      acc += v;
    }
    o << "<text class=\"value\" x=\"" << num(x(acc) + 6) << "\" y=\"" << num(y + 15) << "\">"
      << xml_escape(compact(acc, false)) << "</text>";
  }
  o << "<text class=\"axis\" x=\"" << num((x.px0 + x.px1) / 2) << "\" y=\"" << num(bottom + 32)
    << "\" text-anchor=\"middle\">" << xml_escape(value_label) << "</text>";
  close_svg(o, title);
  return o.str();
}

std::string box_plot(const std::string& title, const std::vector<Box>& boxes, const std::string& value_label,
                     bool log_x) {
  const double top = 10, bottom = top + kRowHeight * static_cast<double>(boxes.size());
  double mn = INFINITY, mx = 0;
  for (const auto& b : boxes) {
    if (b.p10 > 0) mn = std::min(mn, b.p10);
    mx = std::max(mx, b.p90);
  }
  if (!std::isfinite(mn)) mn = 1;
  Axis x;
  x.px0 = kLabelWidth;
  x.px1 = kWidth - 70;
  x.fit(log_x ? mn : 0, mx > 0 ? mx : 1, log_x);
  std::ostringstream o;
  open_svg(o, bottom + 40, title);
  x_ticks(o, x, top, bottom, false);
  for (size_t i = 0; i < boxes.size(); ++i) {
    const auto& b = boxes[i];
    const double y = top + kRowHeight * static_cast<double>(i), ym = y + kRowHeight / 2;
    o << "<text class=\"label\" x=\"" << num(kLabelWidth - 6) << "\" y=\"" << num(y + 15) << "\" text-anchor=\"end\">"
      << xml_escape(truncate_label(b.label)) << "</text>";
    o << "<g class=\"box\"><title>" << xml_escape(b.label) << ": p10 " << compact(b.p10, false) << ", p25 "
      << compact(b.p25, false) << ", median " << compact(b.p50, false) << ", p75 " << compact(b.p75, false) << ", p90 "
      << compact(b.p90, false) << " (n=" << b.n << ")</title><path d=\"M" << num(x(b.p10)) << ' ' << num(ym) << "H"
      << num(x(b.p90)) << "\" stroke=\"#222\"/><rect x=\"" << num(x(b.p25)) << "\" y=\"" << num(y + 4)
      << "\" width=\"" << num(std::max(x(b.p75) - x(b.p25), 1.0)) << "\" height=\"" << num(kRowHeight - 8)
      << "\" fill=\"" << kPalette[1] << "\" stroke=\"#222\"/><path d=\"M" << num(x(b.p50)) << ' ' << num(y + 3) << "V"
      << num(y + kRowHeight - 3) << "\" stroke=\"#000\" stroke-width=\"2\"/></g>";
    o << "<text class=\"value\" x=\"" << num(x(b.p90) + 6) << "\" y=\"" << num(y + 15) << "\">"
      << xml_escape(compact(b.p50, false)) << "</text>";
  }
  o << "<text class=\"axis\" x=\"" << num((x.px0 + x.px1) / 2) << "\" y=\"" << num(bottom + 32)
    << "\" text-anchor=\"middle\">" << xml_escape(value_label) << "</text>";
  close_svg(o, title);
  return o.str();
}

std::string line_chart(const std::string& title, const std::vector<Series>& series, const std::string& x_label,
                       const std::string& y_label, bool x_percent, bool y_percent) {
  const double height = 380, top = 34, bottom = height - 50;
  double xmn = INFINITY, xmx = -INFINITY, ymn = INFINITY, ymx = -INFINITY;
  for (const auto& s : series)
    for (const auto& [x, y] : s.points) xmn = std::min(xmn, x), xmx = std::max(xmx, x), ymn = std::min(ymn, y), ymx = std::max(ymx, y);
  if (!std::isfinite(xmn)) xmn = 0, xmx = 1, ymn = 0, ymx = 1;
  Axis x, y;
  x.px0 = 70, x.px1 = kWidth - 20, y.px0 = bottom, y.px1 = top;
  x.fit(xmn, xmx, false);
  if (x_percent && xmn >= 0 && xmx <= 1) x.lo = 0, x.hi = 1;
  // Accuracy curves read best on their own range, not 0–100 %.
  y.lo = ymn, y.hi = ymx > ymn ? ymx : ymn + 1;
  const double step = y.tick_step();
  y.lo = std::floor(y.lo / step) * step, y.hi = std::ceil(y.hi / step) * step;
  std::ostringstream o;
  open_svg(o, height, title);
  x_ticks(o, x, top, bottom, x_percent);
  for (double t : y.ticks())
    o << "<line class=\"grid\" x1=\"" << num(x.px0) << "\" y1=\"" << num(y(t)) << "\" x2=\"" << num(x.px1) << "\" y2=\""
      << num(y(t)) << "\"/><text class=\"tick\" x=\"" << num(x.px0 - 6) << "\" y=\"" << num(y(t) + 4)
      << "\" text-anchor=\"end\">" << xml_escape(compact(t, y_percent)) << "</text>";
  double lx = x.px0;
  for (size_t k = 0; k < series.size(); ++k) {
    const auto& s = series[k];
    o << "<polyline class=\"series\" fill=\"none\" stroke=\"" << kPalette[k % 8] << "\" stroke-width=\"2\""
      << (s.dashed ? " stroke-dasharray=\"5 4\"" : "") << " points=\"";
    for (const auto& [px, py] : s.points) o << num(x(px)) << ',' << num(y(py)) << ' ';
    o << "\"><title>" << xml_escape(s.name) << "</title></polyline>";
    o << "<rect x=\"" << num(lx) << "\" y=\"8\" width=\"12\" height=\"12\" fill=\"" << kPalette[k % 8]
      << "\"/><text class=\"legend\" x=\"" << num(lx + 16) << "\" y=\"18\">" << xml_escape(truncate_label(s.name, 26)) << "</text>";
    lx += 30 + 7.0 * static_cast<double>(std::min<size_t>(s.name.size(), 26));
  }
  o << "<text class=\"axis\" x=\"" << num((x.px0 + x.px1) / 2) << "\" y=\"" << num(height - 8)
    << "\" text-anchor=\"middle\">" << xml_escape(x_label) << "</text><text class=\"axis\" transform=\"translate(14 "
    << num((top + bottom) / 2) << ") rotate(-90)\" text-anchor=\"middle\">" << xml_escape(y_label) << "</text>";
  close_svg(o, title);
  return o.str();
}

std::string heatmap(const std::string& title, const std::vector<std::string>& rows, const std::vector<std::string>& cols,
                    const std::vector<std::vector<std::optional<double>>>& values, const std::string& row_label,
                    const std::string& col_label) {
  const double left = 90, top = 40, cell_h = 30;
  const double cell_w = cols.empty() ? 0 : (kWidth - left - 10) / static_cast<double>(cols.size());
  const double height = top + cell_h * static_cast<double>(rows.size()) + 30;
  double lo = INFINITY, hi = -INFINITY;
  for (const auto& r : values)
    for (const auto& v : r)
      if (v) lo = std::min(lo, *v), hi = std::max(hi, *v);
  std::ostringstream o;
  open_svg(o, height, title);
  o << "<text class=\"axis\" x=\"" << num(left + (kWidth - left) / 2) << "\" y=\"14\" text-anchor=\"middle\">"
    << xml_escape(col_label) << "</text><text class=\"axis\" x=\"8\" y=\"" << num(top - 6) << "\">" << xml_escape(row_label)
    << "</text>";
  for (size_t c = 0; c < cols.size(); ++c)
    o << "<text class=\"tick\" x=\"" << num(left + cell_w * (static_cast<double>(c) + 0.5)) << "\" y=\"" << num(top - 6)
      << "\" text-anchor=\"middle\">" << xml_escape(cols[c]) << "</text>";
  for (size_t r = 0; r < rows.size(); ++r) {
    const double y = top + cell_h * static_cast<double>(r);
    o << "<text class=\"label\" x=\"" << num(left - 6) << "\" y=\"" << num(y + 19) << "\" text-anchor=\"end\">"
      << xml_escape(rows[r]) << "</text>";
    for (size_t c = 0; c < cols.size() && c < values[r].size(); ++c) {
      if (!values[r][c]) continue;
      // White (lowest) to the primary blue (highest).
      const double t = hi > lo ? (*values[r][c] - lo) / (hi - lo) : 1;
      const int red = static_cast<int>(255 - t * 255), green = static_cast<int>(255 - t * (255 - 0x72)), blue = static_cast<int>(255 - t * (255 - 0xB2));
      char fill[16];
      std::snprintf(fill, sizeof fill, "#%02X%02X%02X", red, green, blue);
      const double x = left + cell_w * static_cast<double>(c);
      o << "<rect class=\"cell\" x=\"" << num(x) << "\" y=\"" << num(y) << "\" width=\"" << num(cell_w - 2) << "\" height=\""
        << num(cell_h - 2) << "\" fill=\"" << fill << "\"><title>" << xml_escape(rows[r]) << ", " << xml_escape(cols[c]) << ": "
        << xml_escape(compact(*values[r][c], false)) << "</title></rect><text class=\"value\" x=\"" << num(x + cell_w / 2 - 1)
        << "\" y=\"" << num(y + 19) << "\" text-anchor=\"middle\" fill=\"" << (t > 0.6 ? "#fff" : "#222") << "\">"
        << xml_escape(compact(*values[r][c], false)) << "</text>";
    }
  }
  close_svg(o, title);
  return o.str();
}

std::vector<size_t> pareto_front(const std::vector<Point>& points) {
  std::vector<size_t> order(points.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  // Cheapest first; at equal cost the most accurate first, so it alone can join the front.
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return points[a].x != points[b].x ? points[a].x < points[b].x : points[a].y > points[b].y;
  });
  std::vector<size_t> front;
  double best = -INFINITY;
  for (size_t i : order)
    if (points[i].y > best) {
      front.push_back(i);
      best = points[i].y;
    }
  return front;
}

}  // namespace reckon::svg
