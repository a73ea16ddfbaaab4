#pragma once
// `reckon serve`: a local, read-only dashboard over a store — the HTML report, re-rendered on every
// visit so it is live while a campaign writes (WAL), and JSON endpoints other dashboards can poll.
#include <memory>
#include <string>

#include "results/report.h"

namespace reckon {

struct DashboardOptions {
  std::string db;
  std::string host = "127.0.0.1";  // loopback unless the user says otherwise
  int port = 8080;                 // 0: any free port
  ReportOptions report;
};

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
