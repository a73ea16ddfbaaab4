#include "results/answers.h"

#include "common/error.h"
#include "common/text.h"
#include "results/summary.h"

namespace reckon {
namespace {

// Cut at a UTF-8 character boundary and mark the cut.
std::string clipped(std::string s, size_t clip) {
  if (clip == 0 || s.size() <= clip) return s;
  size_t cut = clip;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  s.resize(cut);
  return s + "…";
}

nlohmann::json opt_text(const Statement& q, int c, size_t clip) { return q.is_null(c) ? nlohmann::json() : nlohmann::json(clipped(q.text(c), clip)); }
nlohmann::json opt_real(const Statement& q, int c) { return q.is_null(c) ? nlohmann::json() : nlohmann::json(q.real(c)); }
nlohmann::json opt_int(const Statement& q, int c) { return q.is_null(c) ? nlohmann::json() : nlohmann::json(q.int64(c)); }

const char* const kOutcome =
    "CASE WHEN r.status = 'error' THEN 'error' WHEN s.value IS NULL THEN 'unscored' WHEN s.value >= 0.5 THEN 'correct' ELSE 'wrong' END";

}  // namespace

nlohmann::json answers_json(Store& store, const AnswerFilter& f) {
  if (!f.outcome.empty() && f.outcome != "correct" && f.outcome != "wrong" && f.outcome != "error")
    throw InputError("outcome must be correct, wrong or error (got '" + f.outcome + "')");
  // ?1 run (NULL: default scope), ?2 model, ?3 task, ?4 outcome, ?5 search pattern.
  const std::string where = std::string(" WHERE r.step IS NULL AND ") + run_scope_sql(f.run.has_value()) +
                            " AND (?2 = '' OR r.model = ?2) AND (?3 = '' OR r.task = ?3) AND (?4 = '' OR " + kOutcome +
                            " = ?4) AND (?5 = '' OR lower(COALESCE(r.prompt, '') || ' ' || COALESCE(r.response, '') || ' ' || "
                            "COALESCE(s.prediction, '')) LIKE ?5 ESCAPE '\\')";
  const std::string from = " FROM requests r LEFT JOIN scores s ON s.request_id = r.id AND s.is_primary = 1";
  std::string pattern;
  if (!f.search.empty()) {
    pattern = "%";
    for (char ch : to_lower(f.search)) pattern += (ch == '%' || ch == '_' || ch == '\\') ? std::string("\\") + ch : std::string(1, ch);
    pattern += "%";
  }
  auto bind = [&](Statement& q) {
    q.bind(1, f.run).bind(2, f.model).bind(3, f.task).bind(4, f.outcome).bind(5, pattern);
  };
  auto count = store.db().prepare("SELECT COUNT(*)" + from + where);
  bind(count);
  count.step();
  auto q = store.db().prepare(
      "SELECT r.run_id, r.model, r.task, r.item_id, r.repeat, " + std::string(kOutcome) +
      ", r.prompt, r.response, s.prediction, s.reference, s.value, r.input_tokens, r.output_tokens, r.reasoning_tokens, "
      "r.cost_usd, r.cache_hit, r.latency_ms, r.error, r.http_status" +
      from + where + " ORDER BY r.task, r.model, r.item_id, r.repeat, r.id LIMIT ?6 OFFSET ?7");
  bind(q);
  q.bind(6, static_cast<int64_t>(f.limit)).bind(7, static_cast<int64_t>(f.offset));
  nlohmann::json rows = nlohmann::json::array();
  while (q.step()) {
    rows.push_back({{"run_id", q.text(0)},
                    {"model", q.text(1)},
                    {"task", q.text(2)},
                    {"item_id", q.text(3)},
                    {"repeat", q.int64(4)},
                    {"outcome", q.text(5)},
                    {"prompt", opt_text(q, 6, f.clip)},
                    {"answer", opt_text(q, 7, f.clip)},
                    {"prediction", opt_text(q, 8, f.clip)},
                    {"reference", opt_text(q, 9, f.clip)},
                    {"score", opt_real(q, 10)},
                    {"input_tokens", opt_int(q, 11)},
                    {"output_tokens", opt_int(q, 12)},
                    {"thinking_tokens", opt_int(q, 13)},
                    {"cost_usd", opt_real(q, 14)},
                    {"cache_hit", q.int64(15) != 0},
                    {"latency_ms", opt_real(q, 16)},
                    {"error", opt_text(q, 17, f.clip)},
                    {"http_status", opt_int(q, 18)}});
  }
  return {{"total", count.int64(0)}, {"rows", rows}};
}

nlohmann::json compare_answers(Store& store, const std::string& run_a, const std::string& run_b, size_t limit) {
  // One answer per cell and run: the latest row (a retried cell keeps its last attempt).
  const std::string cell =
      "SELECT r.model, r.task, r.item_id, r.repeat, " + std::string(kOutcome) +
      " AS outcome, s.prediction, r.response FROM requests r LEFT JOIN scores s ON s.request_id = r.id AND s.is_primary = 1 "
      "WHERE r.step IS NULL AND r.run_id = ?%d AND r.id = (SELECT MAX(x.id) FROM requests x WHERE x.run_id = r.run_id AND "
      "x.model = r.model AND x.task = r.task AND x.item_id = r.item_id AND x.repeat = r.repeat AND x.step IS NULL)";
  char a[1024], b[1024];
  std::snprintf(a, sizeof a, cell.c_str(), 1);
  std::snprintf(b, sizeof b, cell.c_str(), 2);
  auto q = store.db().prepare(std::string("SELECT A.model, A.task, A.item_id, A.repeat, A.outcome, B.outcome, A.prediction, "
                                          "B.prediction, A.response, B.response FROM (") +
                              a + ") A JOIN (" + b +
                              ") B ON A.model = B.model AND A.task = B.task AND A.item_id = B.item_id AND A.repeat = B.repeat "
                              "ORDER BY A.task, A.model, A.item_id, A.repeat");
  q.bind(1, run_a).bind(2, run_b);
  nlohmann::json rows = nlohmann::json::array();
  int64_t same = 0, differ = 0;
  while (q.step()) {
    if (q.text(4) == q.text(5)) {
      ++same;
      continue;
    }
    if (static_cast<size_t>(differ++) >= limit) continue;
    rows.push_back({{"model", q.text(0)}, {"task", q.text(1)}, {"item_id", q.text(2)}, {"repeat", q.int64(3)},
                    {"a", {{"outcome", q.text(4)}, {"prediction", opt_text(q, 6, 0)}, {"answer", opt_text(q, 8, 2000)}}},
                    {"b", {{"outcome", q.text(5)}, {"prediction", opt_text(q, 7, 0)}, {"answer", opt_text(q, 9, 2000)}}}});
  }
  return {{"a", run_a}, {"b", run_b}, {"same", same}, {"differ", differ}, {"rows", rows}};
}

}  // namespace reckon
