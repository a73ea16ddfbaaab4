#include "harness/serve.h"

#include <arpa/inet.h>
#include <httplib.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <nlohmann/json.hpp>
#include <atomic>
#include <thread>

#include "common/error.h"
#include "results/import.h"
#include "tests/support.h"

using namespace reckon;

namespace {

// The dashboard on a free loopback port, served from a background thread for the test's life.
struct Running {
  Dashboard dash;
  int port;
  std::thread thread;
  explicit Running(DashboardOptions o) : dash((o.port = 0, o)), port(dash.bind()), thread([this] { dash.serve(); }) {}
  ~Running() {
    dash.stop();
    thread.join();
  }
  httplib::Client client() const {
    httplib::Client c("127.0.0.1", port);
    c.set_connection_timeout(5);
    c.set_read_timeout(30);
    return c;
  }
};

std::string rows_csv(const std::string& model, int n) {
  std::string rows = "model,task,item_id,input_tokens,output_tokens,reasoning_tokens,score\n";
  for (int i = 0; i < n; ++i)
    rows += "\"" + model + "\",gsm8k," + std::to_string(i) + ",100,200,50," + (i % 2 ? "1" : "0") + "\n";
  return rows;
}

// A non-loopback IPv4 address of this machine, when it has one.
std::optional<std::string> external_ipv4() {
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return std::nullopt;
  std::optional<std::string> found;
  for (auto* a = list; a && !found; a = a->ifa_next) {
    if (!a->ifa_addr || a->ifa_addr->sa_family != AF_INET) continue;
    auto* in = reinterpret_cast<sockaddr_in*>(a->ifa_addr);
    if ((ntohl(in->sin_addr.s_addr) >> 24) == 127) continue;
    char buf[INET_ADDRSTRLEN];
    found = inet_ntop(AF_INET, &in->sin_addr, buf, sizeof buf);
  }
  freeifaddrs(list);
  return found;
}

// The status code of one raw HTTP request written as is to the dashboard's port.
int raw_status(int port, const std::string& request) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return -1;
  (void)!write(fd, request.data(), request.size());
  char buf[64] = {};
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  int status = -1;
  if (n > 12) std::sscanf(buf, "HTTP/1.%*d %d", &status);
  return status;
}

// Local addresses (hex, as /proc/net/tcp writes them) of the IPv4 sockets listening on `port`.
std::vector<std::string> listening_addresses(int port) {
  std::ifstream in("/proc/net/tcp");
  std::vector<std::string> found;
  std::string line;
  std::getline(in, line);  // header
  char want[8];
  std::snprintf(want, sizeof want, "%04X", port);
  while (std::getline(in, line)) {
    std::istringstream f(line);
    std::string slot, local, remote, state;
    f >> slot >> local >> remote >> state;
    if (state != "0A") continue;  // TCP_LISTEN
    auto colon = local.find(':');
    if (colon != std::string::npos && local.substr(colon + 1) == want) found.push_back(local.substr(0, colon));
  }
  return found;
}

}  // namespace

TEST_CASE("the dashboard serves the report and JSON views, live while another connection writes", "[serve]") {
  test::TempDir tmp;
  const std::string db = tmp.file("live.db");
  Store writer(db, Store::Mode::kReadWrite);
  import_files(writer, {tmp.write("a.csv", rows_csv("gpt-5-mini", 10))}, {});

  DashboardOptions o;
  o.db = db;
  CHECK(o.host == "127.0.0.1");  // loopback unless asked
  Running srv(o);
  auto c = srv.client();

  auto page = c.Get("/");
  REQUIRE(page);
  CHECK(page->status == 200);
  CHECK(page->get_header_value("Content-Type").find("text/html") == 0);
  CHECK(page->get_header_value("X-Content-Type-Options") == "nosniff");
  CHECK(page->body.find("id=\"leaderboard\"") != std::string::npos);

  auto mt = c.Get("/api/model-task");
  REQUIRE(mt);
  CHECK(mt->get_header_value("Content-Type") == "application/json");
  auto rows = nlohmann::json::parse(mt->body);
  REQUIRE(rows.size() == 1);
  CHECK(rows[0]["model"] == "gpt-5-mini");
  CHECK(rows[0]["n"] == 10);

  // A campaign writing in another connection shows on the next poll.
  import_files(writer, {tmp.write("b.csv", rows_csv("claude-haiku-4.5", 4))}, {});
  rows = nlohmann::json::parse(c.Get("/api/model-task")->body);
  CHECK(rows.size() == 2);

  // The other endpoints serve exactly what the CLI prints for the same store.
  auto api = [&](const char* path) {
    auto r = c.Get(path);
    REQUIRE(r);
    REQUIRE(r->status == 200);
    return nlohmann::json::parse(r->body);
  };
  auto cli = [&](std::vector<std::string> args) {
    auto r = test::run_reckon(args);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    return r.out;
  };
  CHECK(api("/api/reversal") == nlohmann::json::parse(cli({"reversal", "--db", db, "--definition", "real", "--json"})));
  CHECK(api("/api/thinking") == nlohmann::json::parse(cli({"thinking", "--db", db, "--json"})));
  nlohmann::json costs = api("/api/costs");
  nlohmann::json exported = nlohmann::json::array();
  std::istringstream lines(cli({"export", "--db", db, "--view", "v_costs", "--format", "jsonl"}));
  for (std::string line; std::getline(lines, line);)
    if (!line.empty()) exported.push_back(nlohmann::json::parse(line));
  CHECK(costs == exported);
  // And those numbers are the store's: 10 + 4 rows of 100 input and 200 output tokens, half of them scored 1.
  REQUIRE(costs.size() == 2);
  int64_t requests = 0;
  for (const auto& row : costs) requests += row["requests"].get<int64_t>();
  CHECK(requests == 14);
  nlohmann::json thinking = api("/api/thinking");
  REQUIRE(thinking["shares"].size() == 2);
  for (const auto& sh : thinking["shares"]) CHECK(sh["reasoning_tokens"].get<int64_t>() == 50 * sh["requests"].get<int64_t>());
}

TEST_CASE("the dashboard's connection cannot write to the store", "[serve][security]") {
  test::TempDir tmp;
  const std::string db = tmp.file("ro.db");
  {
    Store writer(db, Store::Mode::kReadWrite);
    import_files(writer, {tmp.write("a.csv", rows_csv("gpt-5-mini", 2))}, {});
  }
  Store probe = open_dashboard_store(db);
  for (const char* sql : {"INSERT INTO prices(model) VALUES ('x')", "DELETE FROM requests", "UPDATE requests SET score = 1",
                          "CREATE TABLE evil(x)", "DROP VIEW v_costs", "PRAGMA user_version = 99"}) {
    INFO(sql);
    CHECK_THROWS(probe.db().exec(sql));
  }
  Store check(db, Store::Mode::kReadOnly);
  auto n = check.db().prepare("SELECT COUNT(*) FROM requests");
  n.step();
  CHECK(n.int64(0) == 2);
}

TEST_CASE("the dashboard escapes store text, refuses other paths and every write method", "[serve][security]") {
  test::TempDir tmp;
  const std::string db = tmp.file("s.db");
  {
    Store writer(db, Store::Mode::kReadWrite);
    PriceEntry e;
    e.model = "<script>alert(1)</script>";
    e.effective_from = "2020-01-01";
    e.base.input = e.base.output = 1;
    writer.upsert_price(e);
    import_files(writer, {tmp.write("a.csv", rows_csv(e.model, 3))}, {});
  }
  tmp.write("secret.txt", "root:x:0:0");
  DashboardOptions o;
  o.db = db;
  Running srv(o);
  auto c = srv.client();

  auto page = c.Get("/");
  REQUIRE(page);
  CHECK(page->body.find("<script>alert(1)") == std::string::npos);
  CHECK(page->body.find("&lt;script&gt;alert(1)&lt;/script&gt;") != std::string::npos);

  for (const char* path : {"/../secret.txt", "/secret.txt", "/api/../../secret.txt", "/%2e%2e/secret.txt",
                           "/api/model-task/../../secret.txt", "/s.db", "/api/v_requests", "/index.html"}) {
    auto r = c.Get(path);
    REQUIRE(r);
    INFO(path);
    CHECK(r->status == 404);
    CHECK(r->body.find("root:") == std::string::npos);
  }
  // A write with no body at all (no Content-Length) is refused as a method, not as a malformed request.
  for (const char* method : {"POST", "PUT", "PATCH", "OPTIONS"}) {
    INFO(method);
    CHECK(raw_status(srv.port, std::string(method) + " /api/costs HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n") == 405);
  }
  auto post = c.Post("/api/model-task", "{}", "application/json");
  auto put = c.Put("/", "x", "text/plain");
  auto del = c.Delete("/api/costs");
  for (auto* r : {&post, &put, &del}) {
    REQUIRE(*r);
    CHECK((*r)->status == 405);
  }
  // Nothing was written through it.
  Store check(db, Store::Mode::kReadOnly);
  auto n = check.db().prepare("SELECT COUNT(*) FROM requests");
  n.step();
  CHECK(n.int64(0) == 3);
}

TEST_CASE("the dashboard listens on loopback only by default", "[serve][security]") {
  test::TempDir tmp;
  const std::string db = tmp.file("l.db");
  { Store writer(db, Store::Mode::kReadWrite); }
  DashboardOptions o;
  o.db = db;
  Running srv(o);
  CHECK(srv.client().Get("/api/costs"));
  // The kernel's own table of listening sockets: the dashboard's port is bound to 127.0.0.1, nothing else
  // (this holds on a machine with no other address, where a connection attempt could prove nothing).
  std::vector<std::string> bound = listening_addresses(srv.port);
  REQUIRE(bound.size() == 1);
  CHECK(bound[0] == "0100007F");
  if (auto ip = external_ipv4()) {
    httplib::Client outside(*ip, srv.port);
    outside.set_connection_timeout(2);
    CHECK_FALSE(outside.Get("/api/costs"));
  } else {
    WARN("no non-loopback IPv4 address here: the connection from outside was not tried");
  }
}

TEST_CASE("the dashboard listens on the address it is given", "[serve][security]") {
  test::TempDir tmp;
  const std::string db = tmp.file("a.db");
  { Store writer(db, Store::Mode::kReadWrite); }
  DashboardOptions o;
  o.db = db;
  o.host = "0.0.0.0";
  Running srv(o);
  CHECK(srv.client().Get("/api/costs"));  // serving (reached through loopback, as every address is)
  std::vector<std::string> bound = listening_addresses(srv.port);
  REQUIRE(bound.size() == 1);
  CHECK(bound[0] == "00000000");  // the check above can tell the two apart
}

TEST_CASE("the dashboard refuses a missing store instead of creating one", "[serve]") {
  test::TempDir tmp;
  DashboardOptions o;
  o.db = tmp.file("missing.db");
  CHECK_THROWS_AS(Dashboard(o), InputError);
  CHECK_FALSE(std::filesystem::exists(o.db));
}

namespace {

// Sends raw bytes to the dashboard and returns its answer, read until it closes or 5 s pass.
std::string raw_exchange(int port, const std::string& bytes) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return "";
  timeval tv{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  (void)!send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = recv(fd, buf, sizeof buf, 0)) > 0;) out.append(buf, static_cast<size_t>(n));
  close(fd);
  return out;
}

std::string status_line(const std::string& answer) { return answer.substr(0, answer.find("\r\n")); }

}  // namespace

TEST_CASE("the dashboard answers only to its own names: a DNS-rebinding Host is refused", "[serve][security]") {
  CHECK(dashboard_host_allowed("127.0.0.1:8080", "127.0.0.1", 8080, {}));
  CHECK(dashboard_host_allowed("localhost:8080", "127.0.0.1", 8080, {}));
  CHECK(dashboard_host_allowed("[::1]:8080", "127.0.0.1", 8080, {}));
  CHECK(dashboard_host_allowed("LOCALHOST", "127.0.0.1", 8080, {}));
  CHECK(dashboard_host_allowed("10.1.2.3:8080", "0.0.0.0", 8080, {}));
  CHECK_FALSE(dashboard_host_allowed("rebind.example:8080", "127.0.0.1", 8080, {}));
  CHECK_FALSE(dashboard_host_allowed("localhost.rebind.example", "127.0.0.1", 8080, {}));
  CHECK_FALSE(dashboard_host_allowed("", "127.0.0.1", 8080, {}));
  CHECK(dashboard_host_allowed("dash.internal:8080", "127.0.0.1", 8080, {"dash.internal"}));
  test::TempDir tmp;
  const std::string db = tmp.file("h.db");
  { Store writer(db, Store::Mode::kReadWrite); }
  DashboardOptions o;
  o.db = db;
  o.allow_hosts = {"dash.internal"};
  Running srv(o);
  const std::string port = std::to_string(srv.port);
  auto get = [&](const std::string& host) {
    return status_line(raw_exchange(srv.port, "GET /api/costs HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n"));
  };
  CHECK(get("127.0.0.1:" + port) == "HTTP/1.1 200 OK");
  CHECK(get("localhost:" + port) == "HTTP/1.1 200 OK");
  CHECK(get("dash.internal:" + port) == "HTTP/1.1 200 OK");
  CHECK(get("rebind.example:" + port) == "HTTP/1.1 421 Misdirected Request");
}

TEST_CASE("the dashboard refuses oversized bodies and keeps serving while a dozen clients stall", "[serve][security]") {
  test::TempDir tmp;
  const std::string db = tmp.file("b.db");
  { Store writer(db, Store::Mode::kReadWrite); }
  DashboardOptions o;
  o.db = db;
  Running srv(o);
  const std::string host = "Host: 127.0.0.1:" + std::to_string(srv.port) + "\r\n";
  // A body announced at 3 GB (once aborted the process): refused, and the dashboard still answers.
  for (const char* method : {"POST", "PUT", "GET"}) {
    INFO(method);
    std::string big = raw_exchange(srv.port, std::string(method) + " /api/costs HTTP/1.1\r\n" + host +
                                                 "Content-Length: 3000000000\r\n\r\n" + std::string(1000, 'x'));
    CHECK(status_line(big) == "HTTP/1.1 413 Payload Too Large");
  }
  CHECK(srv.client().Get("/api/costs")->status == 200);
  // Sixteen clients drip their headers a byte at a time, each byte inside the read timeout, for longer
  // than a request takes: the dashboard must still answer someone else meanwhile.
  std::atomic<bool> stop{false};
  std::vector<std::thread> drippers;
  for (int i = 0; i < 16; ++i)
    drippers.emplace_back([&, i] {
      int fd = socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in addr{};
      addr.sin_family = AF_INET;
      addr.sin_port = htons(static_cast<uint16_t>(srv.port));
      addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
        const std::string head = "GET / HTTP/1.1\r\n" + host + "X-Slow-" + std::to_string(i) + ": ";
        for (size_t k = 0; !stop && k < 400; ++k) {
          const char c = k < head.size() ? head[k] : 'a';
          if (send(fd, &c, 1, MSG_NOSIGNAL) != 1) break;
          std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
      }
      close(fd);
    });
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // all sixteen connected and dripping
  auto c = srv.client();
  c.set_read_timeout(10);
  auto r = c.Get("/api/costs");
  const bool served_meanwhile = r && r->status == 200 && !stop;
  stop = true;
  for (auto& t : drippers) t.join();
  CHECK(served_meanwhile);
}

TEST_CASE("the dashboard's views take filters and CSV, chart spend over time, and the page reloads when the store changes", "[serve]") {
  test::TempDir tmp;
  const std::string db = tmp.file("f.db");
  Store writer(db, Store::Mode::kReadWrite);
  import_files(writer, {tmp.write("a.csv", rows_csv("gpt-5-mini", 6)), tmp.write("b.csv", rows_csv("claude-haiku-4.5", 4))}, {});
  DashboardOptions o;
  o.db = db;
  o.refresh_ms = 1234;
  Running srv(o);
  auto c = srv.client();
  auto get = [&](const std::string& path) {
    auto r = c.Get(path);
    REQUIRE(r);
    return *r;
  };
  // One model: only its row; with its task too; another task: none.
  auto rows = nlohmann::json::parse(get("/api/model-task?model=gpt-5-mini").body);
  REQUIRE(rows.size() == 1);
  CHECK(rows[0]["n"] == 6);
  CHECK(nlohmann::json::parse(get("/api/model-task?model=gpt-5-mini&task=gsm8k").body).size() == 1);
  CHECK(nlohmann::json::parse(get("/api/model-task?task=mmlu").body).empty());
  // Dates: the day the rows were written, as the store has it.
  std::string today;
  {
    auto q = writer.db().prepare("SELECT MIN(day), MAX(day) FROM v_costs");
    REQUIRE(q.step());
    REQUIRE(q.text(0) == q.text(1));
    today = q.text(0);
  }
  int64_t requests = 0;
  for (const auto& r : nlohmann::json::parse(get("/api/costs?from=" + today + "&to=" + today).body)) requests += r["requests"].get<int64_t>();
  CHECK(requests == 10);
  CHECK(nlohmann::json::parse(get("/api/costs?to=2000-01-01").body).empty());
  // CSV: the header and one line per row, as `reckon export` writes it.
  const auto csv = get("/api/costs?format=csv&model=claude-haiku-4.5");
  CHECK(csv.get_header_value("Content-Type").find("text/csv") == 0);
  CHECK(csv.body.rfind("run_id,model,task,day,requests,", 0) == 0);
  CHECK(std::count(csv.body.begin(), csv.body.end(), '\n') == 2);
  // Mistakes are named: an unknown parameter, a malformed date, dates on a view without them.
  auto bad = get("/api/costs?modle=x");
  CHECK(bad.status == 400);
  CHECK(bad.body.find("unknown query parameter 'modle'") != std::string::npos);
  CHECK(get("/api/costs?from=yesterday").status == 400);
  auto nodate = get("/api/model-task?from=" + today);
  CHECK(nodate.status == 400);
  CHECK(nodate.body.find("v_model_task has no date") != std::string::npos);
  // Spend over time: one point per day and model, its requests those of v_costs.
  const auto series = nlohmann::json::parse(get("/api/spend-over-time").body);
  REQUIRE(series.size() == 2);
  for (const auto& p : series) {
    CHECK(p["day"] == today);
    CHECK(p["requests"] == (p["model"] == "gpt-5-mini" ? 6 : 4));
  }
  // Live: /api/version changes once another connection writes, and the page polls it at the set pace.
  const std::string v1 = nlohmann::json::parse(get("/api/version").body)["version"];
  CHECK(nlohmann::json::parse(get("/api/version").body)["version"] == v1);  // nothing written: the same
  import_files(writer, {tmp.write("c.csv", rows_csv("gpt-5", 2))}, {});
  CHECK(nlohmann::json::parse(get("/api/version").body)["version"] != v1);
  const auto page = get("/");
  CHECK(page.body.find("fetch('/api/version')") != std::string::npos);
  CHECK(page.body.find("},1234);") != std::string::npos);
  CHECK(page.get_header_value("Content-Security-Policy").find("connect-src 'self'") != std::string::npos);
}

TEST_CASE("answers you can read: the report embeds them, serve filters and pages them and compares two runs", "[serve][answers]") {
  test::TempDir tmp;
  const std::string db = tmp.file("ans.db");
  Store writer(db, Store::Mode::kReadWrite);
  // Run A: items 0-5, right on the even ones; one answer tries to break out of the page's script.
  std::string a = "model,task,item_id,input_tokens,output_tokens,score,prompt,response,prediction,reference,status,error\n";
  for (int i = 0; i < 6; ++i)
    a += "gpt-5-mini,gsm8k," + std::to_string(i) + ",10,20," + (i % 2 ? "0" : "1") + ",\"What is " + std::to_string(i) +
         " + 1?\",\"" + (i == 3 ? "</script><script>alert(1)</script>" : "It is " + std::to_string(i + 1)) + "\"," +
         std::to_string(i + 1) + "," + std::to_string(i + 1) + ",ok,\n";
  a += "gpt-5-mini,gsm8k,6,0,0,,\"What is 6 + 1?\",,,7,error,rate limited\n";
  // Run B: the same items, right on items 0-3: items 1 and 3 turn right, 4 turns wrong; 6 is answered.
  std::string b = "model,task,item_id,input_tokens,output_tokens,score,prompt,response,prediction,reference\n";
  for (int i = 0; i < 7; ++i)
    b += "gpt-5-mini,gsm8k," + std::to_string(i) + ",10,20," + (i <= 3 ? "1" : "0") + ",\"What is " + std::to_string(i) +
         " + 1?\",\"It is " + std::to_string(i + 1) + "\"," + std::to_string(i + 1) + "," + std::to_string(i + 1) + "\n";
  import_files(writer, {tmp.write("a.csv", a)}, {});
  import_files(writer, {tmp.write("b.csv", b)}, {});
  std::vector<std::string> runs;
  {
    auto q = writer.db().prepare("SELECT id FROM runs ORDER BY rowid");
    while (q.step()) runs.push_back(q.text(0));
  }
  REQUIRE(runs.size() == 2);

  // The report: the answers as JSON inside the page, with "</" written so that no text closes the script.
  ReportOptions ro;
  ro.run_id = runs[0];
  const std::string html = render_html_report(writer, ro);
  const std::string open = "<script type=\"application/json\" id=\"answers-data\">";
  const size_t begin = html.find(open);
  REQUIRE(begin != std::string::npos);
  const size_t end = html.find("</script>", begin);
  const auto embedded = nlohmann::json::parse(html.substr(begin + open.size(), end - begin - open.size()));
  CHECK(embedded["total"] == 7);
  REQUIRE(embedded["rows"].size() == 7);
  CHECK(embedded["rows"][3]["answer"] == "</script><script>alert(1)</script>");
  CHECK(embedded["rows"][6]["outcome"] == "error");
  CHECK(embedded["rows"][6]["error"] == "rate limited");
  CHECK(html.find("<script>alert(1)") == std::string::npos);
  CHECK(html.find("alert(1)\\u003c/script>") != std::string::npos);

  DashboardOptions o;
  o.db = db;
  Running srv(o);
  auto c = srv.client();
  auto get = [&](const std::string& path) {
    auto r = c.Get(path);
    REQUIRE(r);
    return *r;
  };
  // Run A by outcome: 3 right (0, 2, 4), 3 wrong, 1 error.
  auto count = [&](const std::string& query) { return nlohmann::json::parse(get("/api/answers?run=" + runs[0] + query).body)["total"]; };
  CHECK(count("") == 7);
  CHECK(count("&outcome=correct") == 3);
  CHECK(count("&outcome=wrong") == 3);
  CHECK(count("&outcome=error") == 1);
  CHECK(count("&q=IT%20IS%205") == 1);  // case-insensitive, in the answer
  CHECK(count("&q=%25") == 0);           // a literal %, not a wildcard
  // Pages: 3 + 3 + 1 in item order.
  const auto page2 = nlohmann::json::parse(get("/api/answers?run=" + runs[0] + "&limit=3&offset=3").body);
  REQUIRE(page2["rows"].size() == 3);
  CHECK(page2["rows"][0]["item_id"] == "3");
  CHECK(get("/api/answers?limit=501").status == 400);
  CHECK(get("/api/answers?outcome=maybe").status == 400);
  CHECK(get("/api/answers?colour=red").status == 400);
  // Two runs side by side: items 1 and 3 (wrong → right), 4 (right → wrong), 6 (error → wrong) differ; 0, 2, 5 agree.
  const auto cmp = nlohmann::json::parse(get("/api/answers/compare?a=" + runs[0] + "&b=" + runs[1]).body);
  CHECK(cmp["same"] == 3);
  CHECK(cmp["differ"] == 4);
  std::vector<std::string> items;
  for (const auto& r : cmp["rows"]) items.push_back(r["item_id"]);
  CHECK(items == std::vector<std::string>{"1", "3", "4", "6"});
  CHECK(cmp["rows"][2]["a"]["outcome"] == "correct");
  CHECK(cmp["rows"][2]["b"]["outcome"] == "wrong");
}
