#include "results/schema.h"

namespace reckon {

const std::vector<std::string>& migrations() {
  static const std::vector<std::string> m = {
      // 0 -> 1: the core tables and the stable views (their column names are a contract).
      R"sql(
CREATE TABLE campaigns(
  name TEXT PRIMARY KEY, spec TEXT, created_at TEXT);
CREATE TABLE runs(
  id TEXT PRIMARY KEY, campaign TEXT, kind TEXT NOT NULL, source TEXT,
  started_at TEXT, finished_at TEXT, reckon_version TEXT, params TEXT);
CREATE TABLE models(
  name TEXT PRIMARY KEY, provider TEXT, api_model TEXT, params TEXT);
CREATE TABLE tasks(
  name TEXT PRIMARY KEY, spec TEXT);
CREATE TABLE items(
  task TEXT NOT NULL, item_id TEXT NOT NULL, prompt TEXT, reference TEXT, metadata TEXT,
  PRIMARY KEY(task, item_id));
CREATE TABLE prices(
  id TEXT PRIMARY KEY, model TEXT NOT NULL, provider TEXT, effective_from TEXT NOT NULL,
  listed_price REAL, source TEXT, entry TEXT NOT NULL);
CREATE TABLE requests(
  id INTEGER PRIMARY KEY,
  fingerprint TEXT NOT NULL UNIQUE,
  run_id TEXT NOT NULL, model TEXT NOT NULL, task TEXT NOT NULL, item_id TEXT NOT NULL,
  repeat INTEGER NOT NULL DEFAULT 0, step TEXT,
  status TEXT NOT NULL CHECK(status IN ('ok','error')),
  attempts INTEGER NOT NULL DEFAULT 1, http_status INTEGER, error_class TEXT, error TEXT,
  created_at TEXT, latency_ms REAL, ttft_ms REAL,
  input_tokens INTEGER, cache_read_tokens INTEGER, cache_write_5m_tokens INTEGER,
  cache_write_1h_tokens INTEGER, output_tokens INTEGER, reasoning_tokens INTEGER,
  search_requests INTEGER, usage_complete INTEGER NOT NULL, service_tier TEXT,
  cost_usd REAL, cost_input_usd REAL, cost_cache_read_usd REAL, cost_cache_write_usd REAL,
  cost_output_usd REAL, cost_reasoning_usd REAL, cost_fees_usd REAL, provider_cost_usd REAL,
  price_entry_id TEXT, finish_reason TEXT, prompt TEXT, response TEXT, raw_usage TEXT);
CREATE INDEX requests_by_cell ON requests(run_id, model, task, item_id);
CREATE TABLE scores(
  request_id INTEGER NOT NULL REFERENCES requests(id) ON DELETE CASCADE,
  name TEXT NOT NULL, value REAL, prediction TEXT, reference TEXT,
  is_primary INTEGER NOT NULL DEFAULT 1,
  PRIMARY KEY(request_id, name));
CREATE TABLE selections(
  id TEXT PRIMARY KEY, task TEXT NOT NULL, method TEXT NOT NULL, params TEXT, created_at TEXT);
CREATE TABLE selection_items(
  selection_id TEXT NOT NULL REFERENCES selections(id) ON DELETE CASCADE,
  item_id TEXT NOT NULL, weight REAL NOT NULL, PRIMARY KEY(selection_id, item_id));
CREATE TABLE item_features(
  task TEXT NOT NULL, item_id TEXT NOT NULL, feature_set TEXT NOT NULL, annotator TEXT,
  vector TEXT NOT NULL, cost_usd REAL, PRIMARY KEY(task, item_id, feature_set));
CREATE TABLE routers(
  name TEXT PRIMARY KEY, kind TEXT NOT NULL, params TEXT, model BLOB, created_at TEXT);
CREATE TABLE sweeps(
  id TEXT PRIMARY KEY, spec TEXT NOT NULL, created_at TEXT);

CREATE VIEW v_requests AS
SELECT r.run_id, ru.campaign, r.model, r.task, r.item_id, r.repeat, r.status, r.attempts,
       r.http_status, r.error, r.input_tokens, r.cache_read_tokens,
       r.cache_write_5m_tokens + r.cache_write_1h_tokens AS cache_write_tokens,
       r.output_tokens, r.reasoning_tokens, r.usage_complete, r.cost_usd, r.provider_cost_usd,
       r.latency_ms, r.ttft_ms, r.finish_reason, s.value AS score
FROM requests r
LEFT JOIN runs ru ON ru.id = r.run_id
LEFT JOIN scores s ON s.request_id = r.id AND s.is_primary = 1;

CREATE VIEW v_model_task AS
SELECT run_id, model, task,
       COUNT(*) AS n,
       AVG(score) AS accuracy,
       SUM(cost_usd) AS cost_usd,
       SUM(input_tokens) AS input_tokens,
       SUM(output_tokens) AS output_tokens,
       SUM(reasoning_tokens) AS reasoning_tokens,
       AVG(latency_ms) AS mean_latency_ms
FROM v_requests WHERE status = 'ok'
GROUP BY run_id, model, task;

CREATE VIEW v_costs AS
SELECT r.run_id, r.model, r.task, substr(r.created_at, 1, 10) AS day,
       COUNT(*) AS requests,
       SUM(r.cost_input_usd) AS input_usd, SUM(r.cost_cache_read_usd) AS cache_read_usd,
       SUM(r.cost_cache_write_usd) AS cache_write_usd, SUM(r.cost_output_usd) AS output_usd,
       SUM(r.cost_reasoning_usd) AS reasoning_usd, SUM(r.cost_fees_usd) AS fees_usd,
       SUM(r.cost_usd) AS cost_usd, SUM(r.provider_cost_usd) AS provider_cost_usd,
       SUM(CASE WHEN r.cost_usd IS NULL THEN 1 ELSE 0 END) AS unknown_cost_requests
FROM requests r WHERE r.status = 'ok'
GROUP BY r.run_id, r.model, r.task, day;
)sql",
      // 1 -> 2: campaigns' response cache: the request key (canonical request + repeat, no run) and
      // whether a row was answered from the cache (so spend reports count it once).
      R"sql(
ALTER TABLE requests ADD COLUMN request_key TEXT;
ALTER TABLE requests ADD COLUMN cache_hit INTEGER NOT NULL DEFAULT 0;
CREATE INDEX requests_by_key ON requests(request_key) WHERE request_key IS NOT NULL;
)sql",
      // 2 -> 3: budget sweeps' points (one row per budget × SFT share × cost ratio × seed).
      R"sql(
CREATE TABLE sweep_points(
  sweep_id TEXT NOT NULL REFERENCES sweeps(id) ON DELETE CASCADE,
  budget REAL NOT NULL, sft_fraction REAL NOT NULL, cost_ratio REAL NOT NULL, seed INTEGER NOT NULL,
  sft_examples INTEGER, preference_pairs INTEGER, status TEXT NOT NULL, score REAL, accuracy REAL,
  error TEXT, seconds REAL, finished_at TEXT,
  PRIMARY KEY(sweep_id, budget, sft_fraction, cost_ratio, seed));
)sql",
      // 3 -> 4: a routed campaign model (router:NAME) records each cell's decision on its request; a
      // pipeline's calls are rows with step 'call:<step>' whose sums its answer row carries, so the
      // answer views leave the calls out (spend, from the paid rows, counts each call once).
      R"sql(
ALTER TABLE requests ADD COLUMN route TEXT;
DROP VIEW v_model_task;
CREATE VIEW v_model_task AS
SELECT r.run_id, r.model, r.task,
       COUNT(*) AS n,
       AVG(s.value) AS accuracy,
       SUM(r.cost_usd) AS cost_usd,
       SUM(r.input_tokens) AS input_tokens,
       SUM(r.output_tokens) AS output_tokens,
       SUM(r.reasoning_tokens) AS reasoning_tokens,
       AVG(r.latency_ms) AS mean_latency_ms
FROM requests r LEFT JOIN scores s ON s.request_id = r.id AND s.is_primary = 1
WHERE r.status = 'ok' AND (r.step IS NULL OR r.step NOT LIKE 'call:%')
GROUP BY r.run_id, r.model, r.task;
DROP VIEW v_costs;
CREATE VIEW v_costs AS
SELECT r.run_id, r.model, r.task, substr(r.created_at, 1, 10) AS day,
       COUNT(*) AS requests,
       SUM(r.cost_input_usd) AS input_usd, SUM(r.cost_cache_read_usd) AS cache_read_usd,
       SUM(r.cost_cache_write_usd) AS cache_write_usd, SUM(r.cost_output_usd) AS output_usd,
       SUM(r.cost_reasoning_usd) AS reasoning_usd, SUM(r.cost_fees_usd) AS fees_usd,
       SUM(r.cost_usd) AS cost_usd, SUM(r.provider_cost_usd) AS provider_cost_usd,
       SUM(CASE WHEN r.cost_usd IS NULL THEN 1 ELSE 0 END) AS unknown_cost_requests
FROM requests r WHERE r.status = 'ok' AND (r.step IS NULL OR r.step NOT LIKE 'call:%')
GROUP BY r.run_id, r.model, r.task, day;
)sql",
      // 4 -> 5: money that adds up, and what dashboards asked for. Usage that breaks the normalized rules is
      // kept as reported with a note (usage_note). v_requests.cost_usd is what the row itself paid — a
      // response-cache hit and a pipeline's answer row (its calls paid) pay nothing — so summing it gives the
      // money spent; new columns at the end tell answers from pipeline calls and judge calls, keep every
      // answer's own cost, and give the request's time, step and cost parts. v_model_task gains error and
      // correct counts (n, accuracy and cost keep their meaning: over the answers that came back).
      R"sql(
ALTER TABLE requests ADD COLUMN usage_note TEXT;
DROP VIEW v_requests;
CREATE VIEW v_requests AS
SELECT r.run_id, ru.campaign, r.model, r.task, r.item_id, r.repeat, r.status, r.attempts,
       r.http_status, r.error, r.input_tokens, r.cache_read_tokens,
       r.cache_write_5m_tokens + r.cache_write_1h_tokens AS cache_write_tokens,
       r.output_tokens, r.reasoning_tokens, r.usage_complete,
       CASE WHEN r.cache_hit = 1 AND r.cost_usd IS NOT NULL THEN 0 ELSE r.cost_usd END AS cost_usd,
       r.provider_cost_usd, r.latency_ms, r.ttft_ms, r.finish_reason, s.value AS score,
       CASE WHEN r.step LIKE 'call:%' THEN 'call' WHEN r.step = 'judge' THEN 'judge' ELSE 'answer' END AS row_kind,
       r.cache_hit, r.cost_usd AS answer_cost_usd, r.usage_note,
       r.created_at, r.step, r.cost_input_usd, r.cost_cache_read_usd, r.cost_cache_write_usd, r.cost_output_usd,
       r.cost_reasoning_usd, r.cost_fees_usd
FROM requests r
LEFT JOIN runs ru ON ru.id = r.run_id
LEFT JOIN scores s ON s.request_id = r.id AND s.is_primary = 1;
DROP VIEW v_model_task;
CREATE VIEW v_model_task AS
SELECT r.run_id, r.model, r.task,
       SUM(r.status = 'ok') AS n,
       AVG(CASE WHEN r.status = 'ok' THEN s.value END) AS accuracy,
       SUM(CASE WHEN r.status = 'ok' THEN r.cost_usd END) AS cost_usd,
       SUM(CASE WHEN r.status = 'ok' THEN r.input_tokens END) AS input_tokens,
       SUM(CASE WHEN r.status = 'ok' THEN r.output_tokens END) AS output_tokens,
       SUM(CASE WHEN r.status = 'ok' THEN r.reasoning_tokens END) AS reasoning_tokens,
       AVG(CASE WHEN r.status = 'ok' THEN r.latency_ms END) AS mean_latency_ms,
       SUM(r.status = 'error') AS errors,
       SUM(r.status = 'ok' AND s.value = 1) AS correct
FROM requests r LEFT JOIN scores s ON s.request_id = r.id AND s.is_primary = 1
WHERE r.step IS NULL OR r.step NOT LIKE 'call:%'
GROUP BY r.run_id, r.model, r.task
HAVING SUM(r.status = 'ok') > 0;
)sql",
      // 5 -> 6: several runners on one campaign. Each process that runs a campaign registers itself
      // (renewing its heartbeat); the plan is claimed a block of cells at a time; a block is done
      // once its rows are committed. A runner that is gone (its process ended on this host, or its
      // heartbeat is older than its lease) leaves its unfinished blocks to the others. A spend cap is
      // shared by reserving budget in the runners' rows; the last runner to end clears them.
      R"sql(
CREATE TABLE runners(
  id TEXT PRIMARY KEY, run_id TEXT NOT NULL, host TEXT NOT NULL, pid INTEGER NOT NULL,
  started_ticks INTEGER NOT NULL, lease_s REAL NOT NULL, heartbeat_at REAL NOT NULL,
  ended INTEGER NOT NULL DEFAULT 0,        -- 0 running, 1 ended (reserved = what it spent), 2 gone (reserved kept)
  reserved_usd REAL NOT NULL DEFAULT 0);   -- budget taken from a shared spend cap
CREATE TABLE claims(
  run_id TEXT NOT NULL, block TEXT NOT NULL, runner TEXT NOT NULL, done INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY(run_id, block));
)sql",
      // 6 -> 7: one truth for money. v_costs counts what was paid — the rule `reckon costs` applies: every
      // row with a cost (answers, pipeline calls, judge calls, failed calls the provider billed) that was
      // not served from the response cache — so SUM(cost_usd) over v_costs, over v_requests and `costs`
      // agree to the cent. Before, a cache hit counted its original price again and pipeline calls were
      // left out.
      R"sql(
DROP VIEW v_costs;
CREATE VIEW v_costs AS
SELECT r.run_id, r.model, r.task, substr(r.created_at, 1, 10) AS day,
       COUNT(*) AS requests,
       SUM(r.cost_input_usd) AS input_usd, SUM(r.cost_cache_read_usd) AS cache_read_usd,
       SUM(r.cost_cache_write_usd) AS cache_write_usd, SUM(r.cost_output_usd) AS output_usd,
       SUM(r.cost_reasoning_usd) AS reasoning_usd, SUM(r.cost_fees_usd) AS fees_usd,
       SUM(r.cost_usd) AS cost_usd, SUM(r.provider_cost_usd) AS provider_cost_usd,
       SUM(CASE WHEN r.cost_usd IS NULL THEN 1 ELSE 0 END) AS unknown_cost_requests
FROM requests r WHERE (r.status = 'ok' OR r.cost_usd IS NOT NULL) AND r.cache_hit = 0
GROUP BY r.run_id, r.model, r.task, day;
)sql",
      // 7 -> 8: provider batch APIs. A batch's row and its cells are written before the provider is asked
      // to create it ('creating'); its remote id once it exists ('open'); 'collected' once its rows are
      // committed. A 'creating' row a dead run left is resolved by asking the provider for its tag.
      R"sql(
CREATE TABLE batches(
  id TEXT PRIMARY KEY, run_id TEXT NOT NULL, model TEXT NOT NULL, provider TEXT NOT NULL,
  remote_id TEXT, tag TEXT NOT NULL, owner TEXT NOT NULL,
  state TEXT NOT NULL,            -- creating, open, collected, failed
  remote_state TEXT,              -- the provider's own word at the last poll
  requests INTEGER NOT NULL, succeeded INTEGER, errored INTEGER, estimate_usd REAL, round INTEGER NOT NULL DEFAULT 1,
  created_at TEXT NOT NULL, submitted_at TEXT, ended_at TEXT, collected_at TEXT, error TEXT);
CREATE INDEX batches_by_run ON batches(run_id, state);
CREATE TABLE batch_cells(
  batch_id TEXT NOT NULL REFERENCES batches(id) ON DELETE CASCADE,
  fingerprint TEXT NOT NULL,      -- the cell's, and the batch item's custom_id
  PRIMARY KEY(batch_id, fingerprint));
CREATE INDEX batch_cells_by_fingerprint ON batch_cells(fingerprint);
)sql",
      // 8 -> 9: a request's fingerprint and request key kept as their 32 bytes (SHA-256) instead of 64 hex
      // digits: the unique index and the cache index compare, and hold, half as many bytes per row. Keys
      // that are not 64 lowercase hex digits stay text. reckon_key() is the store's own function
      // (register_key_function); hex(fingerprint) shows a key as before, in upper case.
      R"sql(
UPDATE requests SET fingerprint = reckon_key(fingerprint), request_key = reckon_key(request_key);
)sql",
  };
  return m;
}

}  // namespace reckon
