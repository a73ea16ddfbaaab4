#pragma once
// `reckon serve`: a local, read-only dashboard over a store — the HTML report, re-rendered on every
// visit so it is live while a campaign writes (WAL), and JSON endpoints other dashboards can poll.
#include <memory>
#include <string>
#include <vector>

#include "results/report.h"

namespace reckon {

struct DashboardOptions {
  std::string db;
  std::string host = "127.0.0.1";  // loopback unless the user says otherwise
  int port = 8080;                 // 0: any free port
  // Host headers answered besides the bound address (and `localhost` on loopback): a page on another
  // name that resolves here (DNS rebinding) is refused.
  std::vector<std::string> allow_hosts;
  ReportOptions report;
  int refresh_ms = 5000;  // how often the page asks whether the store changed
};

// Limits that keep one client from taking the dashboard from everyone.
struct DashboardLimits {
  static constexpr size_t kMaxBodyBytes = 64 << 10;  // a GET has no business sending more
  static constexpr int kReadTimeoutS = 3;            // per read, headers included
  static constexpr int kThreads = 64;                // connections served at once
};

// Whether a request's Host header names this dashboard (port optional): an IP address, `localhost`, the
// bound host, or a name the user allowed. Any other name is what a DNS-rebinding page would send.
bool dashboard_host_allowed(const std::string& host_header, const std::string& bound_host, int port,
                            const std::vector<std::string>& allowed);

// The routes, the only paths served (GET only; anything else is 404, other methods 405).
struct DashboardRoute {
  const char* path;
  const char* help;
};
const std::vector<DashboardRoute>& dashboard_routes();

// The store as the dashboard holds it: opened read-only, with `query_only` on top, so no statement sent
// through it can change the file. InputError when the store is missing or not reckon's.
Store open_dashboard_store(const std::string& db);

class Dashboard {
 public:
  explicit Dashboard(DashboardOptions opt);  // opens the store read-only; InputError when it cannot
  ~Dashboard();
  int bind();    // binds host:port; returns the port (useful with port 0); InputError when it cannot
  void serve();  // blocks until stop()
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace reckon
