// The HTML report in a real browser: Debian's Chromium, headless, renders `reckon report` of the
// published price-reversal logs; the DOM and a screenshot must show the charts, with no script error.
#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <sstream>

#include <nlohmann/json.hpp>

#include "tests/png.h"
#include "tests/support.h"

using namespace reckon;

namespace {

const char* kConsolidated = "mirror/lchen001/pricing-reversal/69f5f1a0e89ee5bdd6599d46a1bf74a55b22f27d/data/consolidated";

std::string find_chromium() {
  for (const char* p : {"/usr/bin/chromium", "/usr/bin/chromium-browser"})
    if (std::filesystem::exists(p)) return p;
  return "";
}

struct Shell {
  int code;
  std::string out, err;
};

Shell sh(const test::TempDir& tmp, const std::string& cmd) {
  const std::string out = tmp.file("sh.out"), err = tmp.file("sh.err");
  const int rc = std::system((cmd + " >" + out + " 2>" + err).c_str());
  return {WIFEXITED(rc) ? WEXITSTATUS(rc) : -1, test::read_file(out), test::read_file(err)};
}

// Chromium's log lines about the page (console messages, script errors), not about dbus or the GPU.
std::string page_log(const std::string& err) {
  std::string out, line;
  std::istringstream in(err);
  while (std::getline(in, line))
    if (line.find("CONSOLE") != std::string::npos || line.find("Uncaught") != std::string::npos) out += line + "\n";
  return out;
}

size_t count(const std::string& hay, const std::string& needle) {
  size_t n = 0;
  for (size_t p = hay.find(needle); p != std::string::npos; p = hay.find(needle, p + 1)) ++n;
  return n;
}

// Share of pixels within `tol` of a colour.
double share(const test::Image& img, int r, int g, int b, int tol = 40) {
  size_t hits = 0;
  for (int y = 0; y < img.height; ++y)
    for (int x = 0; x < img.width; ++x) {
      const uint8_t* p = img.at(x, y);
      if (std::abs(p[0] - r) + std::abs(p[1] - g) + std::abs(p[2] - b) <= tol) ++hits;
    }
  return static_cast<double>(hits) / (static_cast<double>(img.width) * img.height);
}

// Run in the page once it has loaded: what a reader would see wrong, written to <body data-checks>.
// Overlapping text boxes within a chart (rotated axis titles aside), text cut at a chart's edge, the
// page or a table scrolling sideways, and the smallest chart text as drawn on screen.
const char* kLayoutChecks = R"JS(
window.addEventListener("load", function () {
  const out = {overlaps: [], scrolled: [], pageScroll: 0, minFont: 1e9, minFontText: ""};
  out.pageScroll = document.documentElement.scrollWidth - window.innerWidth;
  document.querySelectorAll(".scroll").forEach(function (e) {
    if (e.scrollWidth > e.clientWidth + 1) out.scrolled.push((e.querySelector("th") || e).textContent.slice(0, 40));
  });
  document.querySelectorAll("svg").forEach(function (svg, si) {
    const name = svg.getAttribute("aria-label") || String(si);
    const frame = svg.getBoundingClientRect(), scale = frame.width / svg.viewBox.baseVal.width;
    const texts = Array.from(svg.querySelectorAll("text")).filter(t => t.textContent.trim() !== "" && !t.getAttribute("transform"));
    const boxes = texts.map(t => t.getBoundingClientRect());
    texts.forEach(function (t, i) {
      const px = parseFloat(getComputedStyle(t).fontSize) * scale;
      if (px < out.minFont) out.minFont = px, out.minFontText = name + ": " + t.textContent;
      if (boxes[i].right > frame.right + 0.5 || boxes[i].left < frame.left - 0.5) out.overlaps.push(name + ": cut at the edge: " + t.textContent);
    });
    for (let i = 0; i < boxes.length; ++i)
      for (let j = i + 1; j < boxes.length; ++j) {
        const a = boxes[i], b = boxes[j];
        if (a.left < b.right - 0.5 && b.left < a.right - 0.5 && a.top < b.bottom - 0.5 && b.top < a.bottom - 0.5)
          out.overlaps.push(name + ": " + texts[i].textContent + " | " + texts[j].textContent);
      }
  });
  document.body.setAttribute("data-checks", JSON.stringify(out));
});
)JS";

// The checks' result from a dumped DOM (the attribute's JSON, HTML-escaped).
nlohmann::json layout_checks(const std::string& dom) {
  const std::string key = "data-checks=\"";
  const size_t at = dom.find(key);
  if (at == std::string::npos) return nullptr;
  std::string v = dom.substr(at + key.size(), dom.find('"', at + key.size()) - at - key.size());
  for (const auto& [from, to] : std::vector<std::pair<std::string, std::string>>{{"&quot;", "\""}, {"&lt;", "<"}, {"&gt;", ">"}, {"&amp;", "&"}})
    for (size_t p = v.find(from); p != std::string::npos; p = v.find(from, p + to.size())) v.replace(p, from.size(), to);
  return nlohmann::json::parse(v);
}

}  // namespace

TEST_CASE("the HTML report renders in headless Chromium with its charts and no script errors", "[e2e]") {
  std::string chromium = find_chromium();
  if (chromium.empty()) {
    REQUIRE(std::system("bash " RECKON_SOURCE_DIR "/scripts/install-e2e-deps.sh") == 0);
    chromium = find_chromium();
  }
  REQUIRE_FALSE(chromium.empty());

  test::TempDir tmp;
  const std::string db = tmp.file("r.db"), html = tmp.file("report.html");
  auto imp = test::run_reckon({"import", "--db", db, "--format", "price-reversal", test::shared_data(kConsolidated)});
  REQUIRE(imp.exit_code == 0);
  // A hostile model name: must stay text in the page.
  const std::string evil = tmp.write(
      "evil.csv", "model,task,item_id,input_tokens,output_tokens,score\n"
                  "\"<img src=x onerror=\"\"document.title='pwned'\"\">\",aime,1,10,10,1\n");
  REQUIRE(test::run_reckon({"import", "--db", db, "--allow-unpriced", evil}).exit_code == 0);
  auto rep = test::run_reckon({"report", "--db", db, "--html", html, "--title", "e2e report"});
  INFO(rep.err);
  REQUIRE(rep.exit_code == 0);

  const std::string flags = chromium +
                            " --headless --no-sandbox --disable-gpu --no-first-run --disable-background-networking"
                            " --disable-component-update --disable-sync --hide-scrollbars --user-data-dir=" +
                            tmp.file("profile") + " --enable-logging=stderr --v=0 ";
  const std::string url = "file://" + html;

  SECTION("the DOM after scripts ran") {
    auto dom = sh(tmp, "timeout 120 " + flags + "--dump-dom " + url);
    INFO(page_log(dom.err));
    REQUIRE(dom.code == 0);
    CHECK(dom.out.find("data-ready=\"1\"") != std::string::npos);  // the page's script ran to its end
    CHECK(dom.err.find("Uncaught") == std::string::npos);
    CHECK(dom.out.find("<title>e2e report</title>") != std::string::npos);
    CHECK(dom.out.find("<img") == std::string::npos);
    CHECK(dom.out.find("cost more in 11 of 56 pairs") != std::string::npos);
    // Two reversal scatters, two leaderboards, two Pareto charts, the breakdown and the thinking boxes.
    CHECK(count(dom.out, "<svg") >= 8);
    CHECK(count(dom.out, "class=\"link\"") == 11);  // one line per reversed pair
    // The answers view drew its first page: 100 rows, each with its hidden detail row.
    CHECK(count(dom.out, "<tr class=\"ans ") == 100);
    CHECK(dom.out.find("answers · page 1 of ") != std::string::npos);
  }

  SECTION("charts that read: no label overlaps another or leaves its chart, no sideways scroll at 1280 px, text of 11 px or more at 390 px") {
    std::string page = test::read_file(html);
    page.replace(page.rfind("</body>"), 7, std::string("<script>") + kLayoutChecks + "</script></body>");
    const std::string checked = tmp.write("checked.html", page);
    for (int w : {1280, 390}) {
      auto dom = sh(tmp, "timeout 120 " + flags + "--window-size=" + std::to_string(w) + ",2400 --dump-dom file://" + checked);
      INFO("width " << w << "\n" << page_log(dom.err));
      REQUIRE(dom.code == 0);
      const nlohmann::json c = layout_checks(dom.out);
      REQUIRE(c.is_object());
      INFO(c.dump(1));
      CHECK(c["overlaps"].empty());
      CHECK(c["pageScroll"].get<double>() <= 0);
      if (w == 1280) CHECK(c["scrolled"].empty());  // every table fits a desktop window
      CHECK(c["minFont"].get<double>() >= 11 - 0.01);
    }
  }

  SECTION("a desktop and a phone screenshot") {
    for (auto [w, h] : {std::pair{1280, 2400}, std::pair{390, 2400}}) {
      const std::string png = tmp.file("shot-" + std::to_string(w) + ".png");
      auto shot = sh(tmp, "timeout 120 " + flags + "--window-size=" + std::to_string(w) + "," + std::to_string(h) +
                              " --screenshot=" + png + " " + url);
      INFO(page_log(shot.err));
      REQUIRE(shot.code == 0);
      auto img = test::read_png(png);
      CHECK(img.width == w);
      CHECK(img.height == h);
      CHECK(share(img, 255, 255, 255, 6) < 0.97);  // not a blank page
      CHECK(share(img, 0xD5, 0x5E, 0x00) > 0.00005);  // reversed pairs drawn in the alert colour
      CHECK(share(img, 0x00, 0x72, 0xB2) > 0.00005);  // points and bars in the primary colour
    }
  }
}
