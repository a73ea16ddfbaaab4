#include "harness/serve.h"

#include <httplib.h>

#include <mutex>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "results/costs.h"
#include "results/export.h"
#include "results/reversal.h"
#include "results/thinking.h"

namespace reckon {

const std::vector<DashboardRoute>& dashboard_routes() {
  static const std::vector<DashboardRoute> routes = {
      {"/", "the HTML report, rendered on each visit"},
      {"/api/model-task", "v_model_task rows: per run, model and task: answers, accuracy, cost, tokens, latency"},
      {"/api/costs", "v_costs rows: spend per run, model, task and day, by part"},
      {"/api/reversal", "price reversals (listed price vs real cost), as `reckon reversal --json`"},
      {"/api/thinking", "thinking-token shares, cross-model ratios and repeat noise, as `reckon thinking --json`"},
  };
  return routes;
}

struct Dashboard::Impl {
  DashboardOptions opt;
  Store store;
  std::mutex mu;  // one SQLite connection, many server threads
  httplib::Server server;
  explicit Impl(DashboardOptions o) : opt(std::move(o)), store(open_dashboard_store(opt.db)) {}
};

Store open_dashboard_store(const std::string& db) {
  Store store(db, Store::Mode::kReadOnly);
  store.db().exec("PRAGMA query_only = 1");  // belt and braces over the read-only open
  return store;
}

namespace {

void secure_headers(httplib::Response& res) {
  res.set_header("X-Content-Type-Options", "nosniff");
  res.set_header("Cache-Control", "no-store");
  res.set_header("Content-Security-Policy",
                 "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:");
  res.set_header("Referrer-Policy", "no-referrer");
}

}  // namespace

Dashboard::Dashboard(DashboardOptions opt) : impl_(std::make_unique<Impl>(std::move(opt))) {
  auto& s = impl_->server;
  Impl* self = impl_.get();
  auto json_route = [self](const char* path, std::function<nlohmann::json(Store&)> body) {
    self->server.Get(path, [self, body](const httplib::Request&, httplib::Response& res) {
      std::lock_guard<std::mutex> lock(self->mu);
      res.set_content(body(self->store).dump(), "application/json");
    });
  };
  s.Get("/", [self](const httplib::Request&, httplib::Response& res) {
    std::lock_guard<std::mutex> lock(self->mu);
    res.set_content(render_html_report(self->store, self->opt.report), "text/html; charset=utf-8");
  });
  json_route("/api/model-task", [](Store& st) { return view_json(st, "v_model_task"); });
  json_route("/api/costs", [](Store& st) { return view_json(st, "v_costs"); });
  json_route("/api/reversal", [self](Store& st) {
    return reversal_json(analyze_reversals(st, self->opt.report.run_id, self->opt.report.definition));
  });
  json_route("/api/thinking", [self](Store& st) { return thinking_json(analyze_thinking(st, self->opt.report.run_id)); });
  // Only GET: the dashboard changes nothing.
  auto refuse = [](const httplib::Request&, httplib::Response& res) {
    res.status = 405;
    res.set_header("Allow", "GET");
    res.set_content("method not allowed: the dashboard is read-only\n", "text/plain");
  };
  // Before routing, so a write with no body (which the server would otherwise reject as a bad request
  // while waiting for its length) is refused as what it is: a method the dashboard does not take.
  s.set_pre_routing_handler([refuse](const httplib::Request& req, httplib::Response& res) {
    if (req.method == "GET" || req.method == "HEAD") return httplib::Server::HandlerResponse::Unhandled;
    refuse(req, res);
    return httplib::Server::HandlerResponse::Handled;
  });
  s.set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (res.status == 404) res.set_content("not found\n", "text/plain");
  });
  s.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
    res.status = 500;
    std::string what = "internal error";
    try {
      std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what = e.what();
    }
    res.set_content("error: " + what + "\n", "text/plain");
  });
  s.set_post_routing_handler([](const httplib::Request&, httplib::Response& res) { secure_headers(res); });
}

Dashboard::~Dashboard() { stop(); }

int Dashboard::bind() {
  auto& s = impl_->server;
  const auto& o = impl_->opt;
  int port = o.port == 0 ? s.bind_to_any_port(o.host) : (s.bind_to_port(o.host, o.port) ? o.port : -1);
  if (port < 0) throw InputError("serve: cannot listen on " + o.host + ":" + std::to_string(o.port));
  return port;
}

void Dashboard::serve() { impl_->server.listen_after_bind(); }

void Dashboard::stop() {
  if (impl_) impl_->server.stop();
}

}  // namespace reckon
