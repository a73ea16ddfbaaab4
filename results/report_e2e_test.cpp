// The HTML report in a real browser: Debian's Chromium, headless, renders `reckon report` of the
// published price-reversal logs; the DOM and a screenshot must show the charts, with no script error.
#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <sstream>

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
