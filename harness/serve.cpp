#include "harness/serve.h"

#include <httplib.h>

#include <arpa/inet.h>

#include <algorithm>
#include <cmath>
#include <cctype>
#include <cstdlib>

#include <map>
#include <mutex>
#include <sstream>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/text.h"
#include "results/answers.h"
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
      {"/api/spend-over-time", "spend per day and model (what was paid), for a chart"},
      {"/api/answers", "the answers, filtered (?model= &task= &run= &outcome=correct|wrong|error &q=text) and paged (?limit= up to 500, &offset=)"},
      {"/api/answers/compare", "two runs on the same items (?a=RUN &b=RUN): the answers whose outcome differs"},
      {"/api/version", "a number that changes whenever the store does: the page polls it and reloads"},
      {"/api/reversal", "price reversals (listed price vs real cost), as `reckon reversal --json`"},
      {"/api/thinking", "thinking-token shares, cross-model ratios and repeat noise, as `reckon thinking --json`"},
  };
  return routes;
}

bool dashboard_host_allowed(const std::string& host_header, const std::string& bound_host, int port,
                            const std::vector<std::string>& allowed) {
  std::string h = host_header;
  std::transform(h.begin(), h.end(), h.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  const std::string suffix = ":" + std::to_string(port);
  if (h.size() > suffix.size() && h.compare(h.size() - suffix.size(), suffix.size(), suffix) == 0) h.resize(h.size() - suffix.size());
  // DNS rebinding needs a name: an address typed as such (127.0.0.1, [::1], this machine's IP) is the origin itself.
  in6_addr v6{};
  in_addr v4{};
  if (inet_pton(AF_INET, h.c_str(), &v4) == 1) return true;
  if (h.size() > 2 && h.front() == '[' && h.back() == ']' && inet_pton(AF_INET6, h.substr(1, h.size() - 2).c_str(), &v6) == 1) return true;
  if (h == "localhost" || h == bound_host) return true;
  return std::find(allowed.begin(), allowed.end(), h) != allowed.end();
}

struct Dashboard::Impl {
  DashboardOptions opt;
  int port = 0;
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
                 "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:; connect-src 'self'");
  res.set_header("Referrer-Policy", "no-referrer");
}

// Query strings: every key must be known (a 400 naming it and the known ones otherwise).
bool params_of(const httplib::Request& req, const std::map<std::string, std::string*>& known, httplib::Response& res) {
  for (const auto& [key, value] : req.params) {
    auto it = known.find(key);
    if (it == known.end()) {
      std::string names;
      for (const auto& k : known) names += (names.empty() ? "" : ", ") + k.first;
      res.status = 400;
      res.set_content("unknown query parameter '" + key + "' (" + names + ")\n", "text/plain");
      return false;
    }
    *it->second = value;
  }
  return true;
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
  // The views take ?model= &task= &run= &from= &to= (YYYY-MM-DD) and ?format=csv; anything else is a 400
  // that names it.
  auto view_route = [self](const char* path, std::function<nlohmann::json(Store&, const ViewFilter&)> rows, std::string view) {
    self->server.Get(path, [self, rows, view](const httplib::Request& req, httplib::Response& res) {
      ViewFilter f;
      std::string format = "json";
      if (!params_of(req, {{"model", &f.model}, {"task", &f.task}, {"run", &f.run}, {"from", &f.from}, {"to", &f.to}, {"format", &format}},
                     res))
        return;
      if (format != "json" && format != "csv") {
        res.status = 400;
        res.set_content("format must be json or csv (got '" + format + "')\n", "text/plain");
        return;
      }
      std::lock_guard<std::mutex> lock(self->mu);
      try {
        if (format == "csv" && !view.empty()) {
          std::ostringstream out;
          export_view(self->store, view, "csv", out, f);
          res.set_content(out.str(), "text/csv; charset=utf-8");
        } else if (format == "csv") {
          res.status = 400;
          res.set_content("this route has no CSV form\n", "text/plain");
        } else {
          res.set_content(rows(self->store, f).dump(), "application/json");
        }
      } catch (const InputError& e) {
        res.status = 400;
        res.set_content(std::string(e.what()) + "\n", "text/plain");
      }
    });
  };
  s.Get("/", [self](const httplib::Request&, httplib::Response& res) {
    std::lock_guard<std::mutex> lock(self->mu);
    std::string page = render_html_report(self->store, self->opt.report);
    // Live: the page polls /api/version and reloads when the store has changed (a campaign writing).
    const std::string poll =
        "<script>(function(){var v=null;setInterval(function(){fetch('/api/version').then(function(r){return r.json();})"
        ".then(function(j){if(v===null)v=j.version;else if(j.version!==v)location.reload();}).catch(function(){});},"
        + std::to_string(self->opt.refresh_ms) + ");})();</script>";
    const size_t end = page.rfind("</body>");
    page.insert(end == std::string::npos ? page.size() : end, poll);
    res.set_content(page, "text/html; charset=utf-8");
  });
  view_route("/api/model-task", [](Store& st, const ViewFilter& f) { return view_json(st, "v_model_task", f); }, "v_model_task");
  view_route("/api/costs", [](Store& st, const ViewFilter& f) { return view_json(st, "v_costs", f); }, "v_costs");
  view_route("/api/spend-over-time", [](Store& st, const ViewFilter& f) { return spend_over_time(st, f); }, "");
  s.Get("/api/answers", [self](const httplib::Request& req, httplib::Response& res) {
    AnswerFilter f;
    std::string run, limit = "100", offset = "0";
    if (!params_of(req, {{"model", &f.model}, {"task", &f.task}, {"run", &run}, {"outcome", &f.outcome}, {"q", &f.search},
                         {"limit", &limit}, {"offset", &offset}}, res))
      return;
    const auto l = parse_double(limit), o = parse_double(offset);
    if (!l || !o || *l < 1 || *l > 500 || *o < 0 || *l != std::floor(*l) || *o != std::floor(*o)) {
      res.status = 400;
      res.set_content("limit must be 1 to 500 and offset a whole number ≥ 0\n", "text/plain");
      return;
    }
    f.limit = static_cast<size_t>(*l), f.offset = static_cast<size_t>(*o);
    if (!run.empty()) f.run = run;
    std::lock_guard<std::mutex> lock(self->mu);
    try {
      res.set_content(answers_json(self->store, f).dump(), "application/json");
    } catch (const InputError& e) {
      res.status = 400;
      res.set_content(std::string(e.what()) + "\n", "text/plain");
    }
  });
  s.Get("/api/answers/compare", [self](const httplib::Request& req, httplib::Response& res) {
    std::string a, b;
    if (!params_of(req, {{"a", &a}, {"b", &b}}, res)) return;
    if (a.empty() || b.empty()) {
      res.status = 400;
      res.set_content("give two runs: ?a=RUN&b=RUN\n", "text/plain");
      return;
    }
    std::lock_guard<std::mutex> lock(self->mu);
    res.set_content(compare_answers(self->store, a, b).dump(), "application/json");
  });
  json_route("/api/version", [](Store& st) {
    // Changes whenever another connection commits (PRAGMA data_version), plus the row count for a
    // reader that reopened.
    auto q = st.db().prepare("SELECT (SELECT COUNT(*) FROM requests)");
    q.step();
    auto dv = st.db().prepare("PRAGMA data_version");
    dv.step();
    return nlohmann::json{{"version", std::to_string(dv.int64(0)) + ":" + std::to_string(q.int64(0))}};
  });
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
  s.set_pre_routing_handler([refuse, self](const httplib::Request& req, httplib::Response& res) {
    if (!dashboard_host_allowed(req.get_header_value("Host"), self->opt.host, self->port, self->opt.allow_hosts)) {
      res.status = 421;
      res.set_content("misdirected request: this dashboard answers only to its own address (--allow-host widens it)\n",
                      "text/plain");
      return httplib::Server::HandlerResponse::Handled;
    }
    if (std::strtoull(req.get_header_value("Content-Length").c_str(), nullptr, 10) > DashboardLimits::kMaxBodyBytes) {
      res.status = 413;  // before anything is read: the announced size alone decides
      res.set_content("payload too large\n", "text/plain");
      return httplib::Server::HandlerResponse::Handled;
    }
    if (req.method == "GET" || req.method == "HEAD") return httplib::Server::HandlerResponse::Unhandled;
    refuse(req, res);
    return httplib::Server::HandlerResponse::Handled;
  });
  // Bounded bodies, short reads and enough threads that a dozen stalled clients leave room for the rest.
  s.set_payload_max_length(DashboardLimits::kMaxBodyBytes);
  s.set_read_timeout(DashboardLimits::kReadTimeoutS, 0);
  s.set_keep_alive_timeout(DashboardLimits::kReadTimeoutS);
  s.set_keep_alive_max_count(20);
  s.new_task_queue = [] { return new httplib::ThreadPool(DashboardLimits::kThreads); };
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
  impl_->port = port;
  return port;
}

void Dashboard::serve() { impl_->server.listen_after_bind(); }

void Dashboard::stop() {
  if (impl_) impl_->server.stop();
}

}  // namespace reckon
