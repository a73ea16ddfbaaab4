// The visual side of a store: `reckon report --html` and the live `reckon serve` dashboard.
#include <csignal>
#include <fstream>
#include <iostream>

#include "common/atomic_file.h"
#include "common/error.h"
#include "harness/commands.h"
#include "harness/serve.h"
#include "results/report.h"

namespace reckon {
namespace {

struct ReportArgs {
  std::string db, run, definition = "real", title = "reckon report";
};

void add_report_options(CLI::App& sub, ReportArgs& a) {
  sub.add_option("--db", a.db, "Store to read")->required();
  sub.add_option("--run", a.run, "Only this run");
  sub.add_option("--definition", a.definition, "Cost of the price-reversal charts: real (reckon's) or paper")
      ->check(CLI::IsMember({"paper", "real"}))
      ->capture_default_str();
  sub.add_option("--title", a.title, "Page title")->capture_default_str();
}

ReportOptions report_options(const ReportArgs& a) {
  ReportOptions o;
  if (!a.run.empty()) o.run_id = a.run;
  o.definition = a.definition == "paper" ? CostDefinition::kPaper : CostDefinition::kReal;
  o.title = a.title;
  return o;
}

Dashboard* g_dashboard = nullptr;
extern "C" void stop_dashboard(int) {
  if (g_dashboard) g_dashboard->stop();
}

}  // namespace

Action define_report(CLI::App& sub) {
  struct Args : ReportArgs {
    std::string html;
  };
  auto a = std::make_shared<Args>();
  add_report_options(sub, *a);
  sub.add_option("--html", a->html, "Write one self-contained HTML file (inline CSS and SVG charts)")->required();
  return [a] {
    Store store(a->db, Store::Mode::kReadOnly);
    const std::string page = render_html_report(store, report_options(*a));
    write_file_atomically(a->html, page);
    std::cerr << "report: wrote " << a->html << " (" << page.size() / 1024 << " KiB)\n";
    return kExitOk;
  };
}

Action define_serve(CLI::App& sub) {
  struct Args : ReportArgs {
    std::string host = "127.0.0.1";
    int port = 8080;
    std::vector<std::string> allow_hosts;
    double refresh_s = 5;
  };
  auto a = std::make_shared<Args>();
  add_report_options(sub, *a);
  sub.add_option("--refresh", a->refresh_s, "Seconds between the page's checks for new rows (it reloads when the store changed)")
      ->capture_default_str()
      ->check(CLI::Range(0.5, 3600.0));
  sub.add_option("--host", a->host, "Address to listen on (loopback by default; anything else exposes the store)")
      ->capture_default_str();
  sub.add_option("--port", a->port, "Port (0: any free port)")->capture_default_str()->check(CLI::Range(0, 65535));
  sub.add_option("--allow-host", a->allow_hosts, "Also answer requests addressed to this Host name (repeatable; e.g. behind a proxy)");
  return [a] {
    DashboardOptions o;
    o.db = a->db;
    o.host = a->host;
    o.port = a->port;
    o.allow_hosts = a->allow_hosts;
    o.refresh_ms = static_cast<int>(a->refresh_s * 1000);
    o.report = report_options(*a);
    o.report.api_note =
        "Live: the page reloads when the store changes. JSON (?model= &task= &run= &from= &to= YYYY-MM-DD, ?format=csv): "
        "/api/model-task, /api/costs, /api/spend-over-time; also /api/reversal, /api/thinking";
    Dashboard d(o);
    const int port = d.bind();
    g_dashboard = &d;
    std::signal(SIGINT, stop_dashboard);
    std::signal(SIGTERM, stop_dashboard);
    std::cerr << "serve: http://" << a->host << ":" << port << "/ (read-only; Ctrl-C to stop)" << std::endl;
    d.serve();
    g_dashboard = nullptr;
    return kExitOk;
  };
}

}  // namespace reckon
