#include "harness/campaign.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <csignal>
#include <deque>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <random>
#include <set>
#include <thread>
#include <tuple>
#include <unordered_map>

#include "common/error.h"
#include "common/jsonl.h"
#include "pipelines/pipeline.h"
#include "pipelines/sql_pipelines.h"
#include "harness/claims.h"
#include "results/prices.h"
#include "results/row_writer.h"
#include "routers/saved.h"
#include "common/sha256.h"
#include "common/stats.h"
#include "common/text.h"
#include "pricing/cost.h"
#include "providers/client.h"
#include "providers/registry.h"
#include "common/table.h"
#include "results/summary.h"

namespace reckon {
namespace {

std::atomic<bool> g_interrupted{false};
extern "C" void on_sigint(int) {
  g_interrupted = true;
  std::signal(SIGINT, SIG_DFL);  // a second Ctrl-C ends at once
}

// Levenshtein distance, for "did you mean" on a mistyped key.
size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j)
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

// Every key of `obj` must be one of `known`; a typo is named with the closest known key.
void check_keys(const nlohmann::json& obj, const std::set<std::string>& known, const std::string& where, const std::string& prefix) {
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    if (known.count(it.key())) continue;
    std::string best;
    size_t best_d = 3;  // suggest only what is close
    for (const auto& k : known)
      if (size_t d = edit_distance(it.key(), k); d < best_d) best_d = d, best = k;
    throw InputError(where + ": unknown field '" + prefix + it.key() + "'" + (best.empty() ? "" : " (did you mean '" + prefix + best + "'?)"));
  }
}

template <class T>
T field(const nlohmann::json& j, const char* key, const std::string& where, const T& fallback) {
  if (!j.contains(key) || j[key].is_null()) return fallback;
  try {
    return j[key].get<T>();
  } catch (const nlohmann::json::exception&) {
    throw InputError(where + ": field '" + key + "' has the wrong type");
  }
}

ModelParams parse_params(const nlohmann::json& p, const std::string& where) {
  ModelParams m;
  if (p.is_null()) return m;
  if (!p.is_object()) throw InputError(where + ": field 'params' must be an object");
  static const std::set<std::string> known{"temperature", "max_tokens", "reasoning_effort", "thinking_budget", "base_url",
                                           "api_key_env", "api", "stream", "service_tier"};
  check_keys(p, known, where, "params.");
  if (p.contains("temperature")) m.temperature = field<double>(p, "temperature", where, 0);
  if (p.contains("max_tokens")) m.max_tokens = field<int64_t>(p, "max_tokens", where, 0);
  if (p.contains("thinking_budget")) m.thinking_budget = field<int64_t>(p, "thinking_budget", where, 0);
  m.reasoning_effort = field<std::string>(p, "reasoning_effort", where, "");
  m.base_url = field<std::string>(p, "base_url", where, "");
  m.api_key_env = field<std::string>(p, "api_key_env", where, "");
  m.api = field<std::string>(p, "api", where, "chat");
  if (m.api != "chat" && m.api != "responses") throw InputError(where + ": field 'params.api' must be chat or responses");
  m.stream = field<bool>(p, "stream", where, false);
  auto tier = parse_service_tier(field<std::string>(p, "service_tier", where, "standard"));
  if (!tier) throw InputError(where + ": field 'params.service_tier' must be standard, batch, flex, priority or fast");
  m.service_tier = *tier;
  return m;
}

struct Cell {
  size_t model = 0, task = 0;
  std::shared_ptr<const Item> item;  // shared by the item's cells; freed when the last one is done
  int64_t repeat = 0;
  const ModelRef* model_ref = nullptr;  // who answers (a routed cell's chosen candidate); the messages are the item's
  std::string request_key, fingerprint;
  const PriceEntry* price = nullptr;  // of the model that answers (a routed cell's chosen candidate)
  std::optional<std::string> route;   // a routed cell's decision
  std::string pipeline;               // the pipeline that answers, if any (the model's, or a routed choice)
  size_t block = 0;                   // its block of the plan (claimed as a whole; see claims.h)
};

std::vector<size_t> select_items(size_t n, const Selection& s) {
  std::vector<size_t> idx(n);
  for (size_t i = 0; i < n; ++i) idx[i] = i;
  size_t want = n;
  if (s.limit) want = std::min(n, *s.limit);
  if (s.fraction) want = std::min(want, static_cast<size_t>(std::ceil(*s.fraction * static_cast<double>(n))));
  if (want == n) return idx;
  if (!s.first) {
    std::mt19937_64 rng(s.seed);
    std::shuffle(idx.begin(), idx.end(), rng);
    idx.resize(want);
    std::sort(idx.begin(), idx.end());
  } else {
    idx.resize(want);
  }
  return idx;
}

double estimate_cost(const ChatRequest& r, const PriceEntry* e, double expected_output) {
  if (!e) return 0;
  double chars = 0;
  for (const auto& m : r.messages) chars += static_cast<double>(m.content.size());
  Usage u;
  u.input_tokens = static_cast<int64_t>(chars / 4.0) + 8;  // ~4 characters per token
  u.output_tokens = static_cast<int64_t>(expected_output);
  u.service_tier = r.model.params.service_tier;
  try {
    return cost(u, *e).total_usd.value_or(0);
  } catch (const InputError&) {
    return paper_cost(u, *e);
  }
}

// What a call's row records of its outcome: status, attempts, timings, usage, the answer.
void record_outcome(RequestRecord& r, const CallResult& res) {
  r.ok = res.ok;
  r.attempts = res.attempts;
  r.http_status = res.http_status;
  if (!res.ok) r.error_class = to_string(res.error_class), r.error = res.error;
  r.latency_ms = res.latency_ms;
  r.ttft_ms = res.ttft_ms;
  r.usage = res.completion.usage;
  if (!res.completion.finish_reason.empty()) r.finish_reason = res.completion.finish_reason;
  if (res.ok) r.response = res.completion.text;
  if (!res.completion.raw_usage.is_null()) r.raw_usage = res.completion.raw_usage.dump();
}

std::string prompt_text(const std::vector<Message>& messages) {
  if (messages.size() == 1) return messages[0].content;
  nlohmann::json j = nlohmann::json::array();
  for (const auto& m : messages) j.push_back({{"role", m.role}, {"content", m.content}});
  return j.dump();
}

}  // namespace

const Pipeline* Campaign::pipeline(const std::string& name) const {
  for (const auto& p : pipelines)
    if (p.name == name) return &p;
  return find_pipeline(name);
}

std::pair<int, int> parse_shard(const std::string& text) {
  auto slash = text.find('/');
  auto i = parse_int(text.substr(0, slash)), n = slash == std::string::npos ? std::nullopt : parse_int(text.substr(slash + 1));
  if (!i || !n || *n < 1 || *i < 1 || *i > *n) throw InputError("--shard must be i/N with 1 <= i <= N, got '" + text + "'");
  return {static_cast<int>(*i - 1), static_cast<int>(*n)};
}

std::pair<int, int> shard_from_environment(const std::function<const char*(const char*)>& getenv_fn) {
  auto var = [&](const char* name) -> std::string {
    const char* v = getenv_fn(name);
    return v ? std::string(v) : std::string();
  };
  auto number = [&](const char* name) -> int64_t {
    auto n = parse_int(var(name));
    if (!n || *n < 0) throw InputError(std::string("--shard auto: ") + name + " must be a non-negative integer, got '" + var(name) + "'");
    return *n;
  };
  if (!var("RECKON_SHARD").empty()) return parse_shard(var("RECKON_SHARD"));
  if (!var("SLURM_ARRAY_TASK_ID").empty()) {  // a Slurm job array: ids from SLURM_ARRAY_TASK_MIN
    if (var("SLURM_ARRAY_TASK_COUNT").empty())
      throw InputError("--shard auto: SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_COUNT is not");
    const int64_t id = number("SLURM_ARRAY_TASK_ID"), count = number("SLURM_ARRAY_TASK_COUNT");
    const int64_t min = var("SLURM_ARRAY_TASK_MIN").empty() ? 0 : number("SLURM_ARRAY_TASK_MIN");
    return parse_shard(std::to_string(id - min + 1) + "/" + std::to_string(count));
  }
  if (!var("JOB_COMPLETION_INDEX").empty()) {  // a Kubernetes Indexed Job: the count comes from the manifest
    if (var("RECKON_SHARD_COUNT").empty())
      throw InputError("--shard auto: JOB_COMPLETION_INDEX is set; pass the Job's completions as RECKON_SHARD_COUNT");
    return parse_shard(std::to_string(number("JOB_COMPLETION_INDEX") + 1) + "/" + std::to_string(number("RECKON_SHARD_COUNT")));
  }
  throw InputError("--shard auto found no job runner's variables: RECKON_SHARD=i/N, SLURM_ARRAY_TASK_ID with "
                   "SLURM_ARRAY_TASK_COUNT (Slurm job arrays), or JOB_COMPLETION_INDEX with RECKON_SHARD_COUNT "
                   "(Kubernetes Indexed Jobs)");
}

void share_rate_limits(ClientOptions& co, int shards) {
  if (shards <= 1) return;
  const double n = static_cast<double>(shards);
  co.requests_per_minute /= n;
  co.tokens_per_minute /= n;
  for (auto& [provider, lim] : co.per_provider) {
    if (lim.requests_per_minute > 0) lim.requests_per_minute /= n;
    if (lim.tokens_per_minute > 0) lim.tokens_per_minute /= n;
  }
}

std::pair<int, int> resolve_shard(const std::string& spec) {
  if (spec == "auto") return shard_from_environment([](const char* n) { return std::getenv(n); });
  return parse_shard(spec);
}

Campaign parse_campaign(const nlohmann::json& j, const std::string& where) {
  if (!j.is_object()) throw InputError(where + ": a campaign must be a JSON object");
  static const std::set<std::string> known{"name", "models", "tasks", "selection", "concurrency", "rate_limits", "max_cost_usd",
                                           "db", "replay", "allow_unpriced", "description", "judge", "retry", "pipelines", "prices"};
  check_keys(j, known, where, "");
  Campaign c;
  c.source = where;
  c.raw = j;
  c.name = field<std::string>(j, "name", where, "");
  if (c.name.empty()) throw InputError(where + ": field 'name' must be a non-empty string");
  if (j.contains("pipelines")) {
    if (!j["pipelines"].is_object()) throw InputError(where + ": field 'pipelines' must be an object of NAME: {\"steps\": [...]}");
    for (const auto& [name, pj] : j["pipelines"].items()) c.pipelines.push_back(parse_pipeline(name, pj, where));
  }
  if (!j.contains("models") || !j["models"].is_array() || j["models"].empty())
    throw InputError(where + ": field 'models' must be a non-empty array");
  for (size_t i = 0; i < j["models"].size(); ++i) {
    const auto& m = j["models"][i];
    std::string at = where + ": models[" + std::to_string(i) + "]";
    CampaignModel cm;
    if (m.is_string()) {
      try {
        cm.ref = parse_model_ref(m.get<std::string>());
      } catch (const InputError& e) {
        throw InputError(at + ": " + e.what());
      }
    } else if (m.is_object()) {
      check_keys(m, {"model", "repeats", "params", "candidates", "pipeline"}, at, "");
      std::string name = field<std::string>(m, "model", at, "");
      if (name.empty()) throw InputError(at + ": field 'model' (provider:model) is required");
      try {
        cm.ref = parse_model_ref(name);
      } catch (const InputError& e) {
        throw InputError(at + ": " + e.what());
      }
      cm.ref.params = parse_params(m.value("params", nlohmann::json()), at);
      cm.repeats = field<int>(m, "repeats", at, 1);
      if (cm.repeats < 1) throw InputError(at + ": field 'repeats' must be at least 1");
      if (m.contains("candidates")) {
        if (cm.ref.provider != "router" || !m["candidates"].is_object())
          throw InputError(at + ": field 'candidates' maps a router's candidates to models: {\"name\": \"provider:model\"} on router:NAME");
        for (const auto& [name, target] : m["candidates"].items()) {
          if (!target.is_string()) throw InputError(at + ": candidates." + name + " must be \"provider:model\"");
          try {
            cm.candidates[name] = parse_model_ref(target.get<std::string>());
          } catch (const InputError& e) {
            throw InputError(at + ": candidates." + name + ": " + e.what());
          }
          cm.candidates[name].params = cm.ref.params;
        }
      }
    } else {
      throw InputError(at + ": must be \"provider:model\" or an object with 'model'");
    }
    if (cm.ref.provider == "router") cm.router = cm.ref.model;
    for (const ModelRef* ref : cm.refs()) {
      if (ref->provider == "router" || find_provider(ref->provider)) continue;
      std::string names;
      for (const auto& p : provider_table()) names += (names.empty() ? "" : ", ") + std::string(p.name);
      throw InputError(at + ": unknown provider '" + ref->provider + "' in '" + ref->name() + "' (one of " + names +
                       ", or router:NAME)");
    }
    if (m.is_object() && m.contains("pipeline")) {
      cm.pipeline = field<std::string>(m, "pipeline", at, "");
      if (!c.pipeline(cm.pipeline)) {
        std::string known;
        for (const auto& p : c.pipelines) known += (known.empty() ? "" : ", ") + p.name;
        for (const auto& p : builtin_pipelines()) known += (known.empty() ? "" : ", ") + p.name;
        throw InputError(at + ": unknown pipeline '" + cm.pipeline + "' (one of " + known + ")");
      }
      if (!cm.router.empty()) throw InputError(at + ": a pipeline runs with a model, not a router");
    }
    c.models.push_back(cm);
  }
  if (!j.contains("tasks") || !j["tasks"].is_array() || j["tasks"].empty())
    throw InputError(where + ": field 'tasks' must be a non-empty array");
  for (size_t i = 0; i < j["tasks"].size(); ++i) {
    const auto& t = j["tasks"][i];
    std::string at = where + ": tasks[" + std::to_string(i) + "]";
    if (t.is_string()) {
      const TaskDef* def = find_builtin_task(t.get<std::string>());
      if (!def) throw InputError(at + ": unknown task '" + t.get<std::string>() + "' (see `reckon tasks list`)");
      c.tasks.push_back(*def);
    } else if (t.is_object() && t.contains("spec_file")) {
      std::string path = t["spec_file"].get<std::string>();
      c.tasks.push_back(parse_task_spec(read_json_file(path, "spec_file (" + at + ")"), path));
    } else if (t.is_object()) {
      c.tasks.push_back(parse_task_spec(t, at));
    } else {
      throw InputError(at + ": must be a built-in task name, a task spec, or {\"spec_file\": PATH}");
    }
  }
  if (j.contains("selection")) {
    const auto& s = j["selection"];
    std::string at = where + ": selection";
    if (!s.is_object()) throw InputError(at + ": must be an object");
    check_keys(s, {"limit", "sample", "first", "stored", "seed"}, at, "");
    if (s.contains("limit")) {
      if (!s["limit"].is_number_integer() || s["limit"].get<int64_t>() < 1)
        throw InputError(at + ": field 'limit' must be a whole number of items, at least 1");
      c.selection.limit = s["limit"].get<size_t>();
    }
    if (s.contains("seed") && (!s["seed"].is_number_integer() || s["seed"].get<int64_t>() < 0))
      throw InputError(at + ": field 'seed' must be a non-negative whole number");
    if (s.contains("sample")) {
      c.selection.fraction = field<double>(s, "sample", at, 1);
      if (*c.selection.fraction <= 0 || *c.selection.fraction > 1) throw InputError(at + ": field 'sample' must be in (0, 1]");
    }
    c.selection.first = field<bool>(s, "first", at, false);
    c.selection.stored = field<std::string>(s, "stored", at, "");
    c.selection.seed = field<uint64_t>(s, "seed", at, 0);
  }
  // Either one number for every provider, or {"default": n, "<provider>": n}.
  if (j.contains("concurrency") && j["concurrency"].is_object()) {
    for (auto it = j["concurrency"].begin(); it != j["concurrency"].end(); ++it) {
      int n = field<int>(j["concurrency"], it.key().c_str(), where + ": concurrency", 0);
      if (n < 1) throw InputError(where + ": field 'concurrency." + it.key() + "' must be at least 1");
      if (it.key() == "default") {
        c.concurrency = n;
      } else {
        c.per_provider[it.key()].max_concurrency = n;
      }
    }
  } else {
    c.concurrency = field<int>(j, "concurrency", where, 16);
    if (c.concurrency < 1) throw InputError(where + ": field 'concurrency' must be at least 1");
  }
  // Either {"rpm", "tpm"} for every provider, or {"<provider>": {"rpm", "tpm"}}.
  if (j.contains("rate_limits")) {
    const auto& rl = j["rate_limits"];
    if (!rl.is_object()) throw InputError(where + ": field 'rate_limits' must be an object");
    for (auto it = rl.begin(); it != rl.end(); ++it) {
      if (it.key() == "rpm" || it.key() == "tpm") continue;
      if (!it->is_object()) throw InputError(where + ": field 'rate_limits." + it.key() + "' must be {rpm, tpm}");
      check_keys(*it, {"rpm", "tpm"}, where + ": rate_limits." + it.key(), "");
      for (const char* k : {"rpm", "tpm"})
        if (it->contains(k) && (!(*it)[k].is_number() || (*it)[k].get<double>() < 0))
          throw InputError(where + ": field 'rate_limits." + it.key() + "." + k + "' must be a non-negative number");
      c.per_provider[it.key()].requests_per_minute = field<double>(*it, "rpm", where + ": rate_limits." + it.key(), -1);
      c.per_provider[it.key()].tokens_per_minute = field<double>(*it, "tpm", where + ": rate_limits." + it.key(), -1);
    }
    c.requests_per_minute = field<double>(rl, "rpm", where + ": rate_limits", 0);
    c.tokens_per_minute = field<double>(rl, "tpm", where + ": rate_limits", 0);
  }
  if (j.contains("retry")) {
    const auto& r = j["retry"];
    const std::string at = where + ": retry";
    if (!r.is_object()) throw InputError(where + ": field 'retry' must be {max_attempts, timeout_s, backoff_s, max_backoff_s}");
    for (auto it = r.begin(); it != r.end(); ++it)
      if (it.key() != "max_attempts" && it.key() != "timeout_s" && it.key() != "backoff_s" && it.key() != "max_backoff_s")
        throw InputError(where + ": unknown field 'retry." + it.key() + "'");
    c.max_attempts = field<int>(r, "max_attempts", at, c.max_attempts);
    c.timeout_s = field<double>(r, "timeout_s", at, c.timeout_s);
    c.backoff_s = field<double>(r, "backoff_s", at, c.backoff_s);
    c.max_backoff_s = field<double>(r, "max_backoff_s", at, c.max_backoff_s);
    if (c.max_attempts < 1) throw InputError(where + ": field 'retry.max_attempts' must be at least 1");
    if (!(c.timeout_s > 0)) throw InputError(where + ": field 'retry.timeout_s' must be positive");
    if (!(c.backoff_s >= 0) || !(c.max_backoff_s >= c.backoff_s))
      throw InputError(where + ": fields 'retry.backoff_s' and 'retry.max_backoff_s' need 0 <= backoff_s <= max_backoff_s");
  }
  if (j.contains("max_cost_usd")) c.max_cost_usd = field<double>(j, "max_cost_usd", where, 0);
  c.db = field<std::string>(j, "db", where, "");
  if (j.contains("replay")) {
    if (j["replay"].is_string()) {
      c.replay.push_back(j["replay"].get<std::string>());
    } else {
      c.replay = field<std::vector<std::string>>(j, "replay", where, {});
    }
  }
  c.allow_unpriced = field<bool>(j, "allow_unpriced", where, false);
  if (j.contains("prices")) {
    std::vector<std::string> files = j["prices"].is_string() ? std::vector<std::string>{j["prices"].get<std::string>()}
                                                             : field<std::vector<std::string>>(j, "prices", where, {});
    const std::filesystem::path base = std::filesystem::path(where).parent_path();
    for (const auto& f : files) {
      const std::filesystem::path path = std::filesystem::path(f).is_absolute() || base.empty() ? std::filesystem::path(f) : base / f;
      if (!std::filesystem::exists(path)) throw InputError(where + ": field 'prices' names " + path.string() + ", which does not exist");
      c.price_files.push_back(path.string());
    }
  }
  if (j.contains("judge")) {
    const auto& jd = j["judge"];
    std::string at = where + ": judge";
    try {
      if (jd.is_string()) {
        c.judge = parse_model_ref(jd.get<std::string>());
      } else if (jd.is_object()) {
        c.judge = parse_model_ref(field<std::string>(jd, "model", at, ""));
        c.judge->params = parse_params(jd.value("params", nlohmann::json()), at);
      } else {
        throw InputError("must be \"provider:model\" or {\"model\", \"params\"}");
      }
    } catch (const InputError& e) {
      throw InputError(at + ": " + e.what());
    }
  }
  return c;
}

Campaign load_campaign_file(const std::string& path) {
  return parse_campaign(read_json_file(path, "campaign file"), path);
}

std::string campaign_run_id(const Campaign& c) {
  nlohmann::json key = c.raw;
  key.erase("db");
  key.erase("max_cost_usd");
  key.erase("concurrency");
  key.erase("rate_limits");
  key.erase("retry");  // how hard to try is not what is asked
  key.erase("prices");  // nor where its prices come from
  return "run-" + sha256_hex(key.dump()).substr(0, 12);
}

RunReport run_campaign(const Campaign& c, const RunOptions& opts) {
  RunReport rep;
  rep.run_id = campaign_run_id(c);
  std::string db_path = !opts.db.empty() ? opts.db : c.db;
  if (db_path.empty()) throw InputError(c.source + ": no database: set field 'db' or pass --db");
  std::optional<double> cap = opts.max_cost_usd ? opts.max_cost_usd : c.max_cost_usd;

  // A key that is not set is a mistake in the setup, named before the store is touched or anything is sent.
  if (!opts.dry_run) {
    std::vector<const ModelRef*> refs;
    for (const auto& m : c.models)
      for (const ModelRef* r : m.refs()) refs.push_back(r);
    if (c.judge) refs.push_back(&*c.judge);
    for (const ModelRef* ref : refs) {
      const ProviderInfo* info = find_provider(ref->provider);
      if (auto unsafe = info ? key_policy_violation(*info, ref->params, opts.keys) : std::nullopt)
        throw InputError(c.source + ": " + ref->name() + ": " + *unsafe + "; nothing was sent or written");
      if (auto missing = info ? missing_api_key(*info, ref->params) : std::nullopt)
        throw InputError(c.source + ": environment variable " + *missing + " is not set (needed for " + ref->name() +
                         "); nothing was sent or written");
    }
    // A scorer that cannot work here (code without its sandbox) refuses before anything is paid for.
    for (const auto& t : c.tasks) {
      const ScorerInfo* s = find_scorer(t.scorer);
      std::string why;
      if (s && s->ready && !s->ready(&why))
        throw InputError(c.source + ": task '" + t.name + "' is scored by " + t.scorer + ", which cannot run here: " + why +
                         "; nothing was sent or written");
    }
  }

  // A stored selection (e.g. chosen by a selector) names the items to run, per task.
  std::map<std::string, std::set<std::string>> stored;
  if (!c.selection.stored.empty()) {
    if (!std::ifstream(db_path).good()) throw InputError(db_path + ": no database holding selection '" + c.selection.stored + "'");
    Store s(db_path, Store::Mode::kReadOnly);
    auto q = s.db().prepare("SELECT sel.task, si.item_id FROM selections sel JOIN selection_items si ON si.selection_id = sel.id WHERE sel.id = ?");
    q.bind(1, c.selection.stored);
    while (q.step()) stored[q.text(0)].insert(q.text(1));
    if (stored.empty()) throw InputError(db_path + ": no stored selection '" + c.selection.stored + "' (field 'selection.stored')");
  }
  // Which items run, per task (a stored selection, then the campaign's sample), from one streamed
  // pass that also checks every row before anything is sent. The items themselves are read again
  // as the run reaches them: a campaign holds the items in flight, not its tasks.
  std::vector<std::vector<bool>> chosen(c.tasks.size());
  std::vector<std::unique_ptr<ItemStream>> streams;  // rewound for the run after this pass
  size_t expected_cells = 0;
  for (size_t t = 0; t < c.tasks.size(); ++t) {
    ItemStream& stream = *streams.emplace_back(std::make_unique<ItemStream>(c.tasks[t], opts.data));
    std::vector<size_t> eligible;  // row numbers the stored selection keeps
    for (size_t row = 0; auto it = stream.next(); ++row)
      if (stored.empty() || stored[c.tasks[t].name].count(it->id)) eligible.push_back(row);
    chosen[t].assign(eligible.empty() ? 0 : eligible.back() + 1, false);
    const auto picked = select_items(eligible.size(), c.selection);
    for (size_t i : picked) chosen[t][eligible[i]] = true;
    for (const auto& m : c.models) expected_cells += picked.size() * static_cast<size_t>(std::max(0, m.repeats));
    stream.rewind();
  }
  PriceSources price_sources{db_path, c.price_files};
  price_sources.files.insert(price_sources.files.end(), opts.catalogs.begin(), opts.catalogs.end());
  const PriceCatalog catalog = load_prices(price_sources);
  std::deque<ModelRef> routed_refs;  // the models behind routers' candidates, for cells to point at
  // A cell's request, built when needed rather than held.
  auto request_of = [&](const Cell& cell) { return ChatRequest{*cell.model_ref, cell.item->messages}; };
  std::vector<const PriceEntry*> prices;  // per campaign model (nullptr for a routed one)
  auto price_of = [&](const ModelRef& ref, const std::string& at) {
    const auto found = catalog.lookup(ref.name(), today_utc());
    if (!found.entry && !c.allow_unpriced)
      throw InputError(c.source + ": " + at + ": " + unpriced_advice(ref.name(), today_utc(), found, price_sources, true));
    return found.entry;
  };
  // A routed model: its router, and the model, pipeline and price behind each of its candidates.
  struct Routing {
    std::optional<SavedRouter> router;
    std::vector<const ModelRef*> targets;
    std::vector<std::string> target_pipelines;
    std::vector<const PriceEntry*> target_prices;
  };
  std::vector<Routing> routing(c.models.size());
  std::set<const PriceEntry*> used_prices;
  for (size_t m = 0; m < c.models.size(); ++m) {
    const std::string at = "models[" + std::to_string(m) + "]";
    auto& [router, targets, target_pipelines, target_prices] = routing[m];
    if (!c.models[m].router.empty()) {
      if (!std::ifstream(db_path).good()) throw InputError(db_path + ": no database holding router '" + c.models[m].router + "'");
      Store s(db_path, Store::Mode::kReadOnly);
      router = load_saved_router(s, c.models[m].router);
      for (const auto& name : router->candidates()) {
        auto mapped = c.models[m].candidates.find(name);
        ModelRef ref;
        std::string pipeline;
        // A candidate may be a pipeline as campaigns store it: pipeline:NAME@provider:model.
        if (starts_with(name, "pipeline:") && name.find('@') != std::string::npos && mapped == c.models[m].candidates.end()) {
          pipeline = name.substr(9, name.find('@') - 9);
          if (!c.pipeline(pipeline))
            throw InputError(c.source + ": " + at + ": router '" + c.models[m].router + "' chooses unknown pipeline '" + pipeline + "'");
          ref = parse_model_ref(name.substr(name.find('@') + 1));
          ref.params = c.models[m].ref.params;
        } else if (mapped != c.models[m].candidates.end()) {
          ref = mapped->second;
        } else {
          try {
            ref = parse_model_ref(name);
          } catch (const InputError&) {
            throw InputError(c.source + ": " + at + ": router '" + c.models[m].router + "' chooses among '" + name +
                             "', which is not provider:model: map it with \"candidates\": {\"" + name + "\": \"provider:model\"}");
          }
          ref.params = c.models[m].ref.params;
        }
        target_prices.push_back(price_of(ref, at + " (candidate " + name + ")"));
        routed_refs.push_back(ref);
        targets.push_back(&routed_refs.back());
        target_pipelines.push_back(pipeline);
      }
      prices.push_back(nullptr);
    } else {
      prices.push_back(price_of(c.models[m].ref, at));
    }
    for (const auto* e : target_prices) used_prices.insert(e);
    used_prices.insert(prices[m]);
  }
  used_prices.erase(nullptr);

  // One cell: its request key, routing decision and fingerprint; nullptr when another shard's.
  auto plan_cell = [&](size_t m, size_t t, const std::shared_ptr<const Item>& item, int r) -> std::unique_ptr<Cell> {
    auto cell = std::make_unique<Cell>(Cell{m, t, item, r, &c.models[m].ref, "", "", prices[m], std::nullopt, c.models[m].pipeline});
    std::string routed;
    if (const auto& rt = routing[m]; rt.router) {
      const std::string& text = item->messages.back().content;
      const auto k = static_cast<size_t>(rt.router->router->choose(text));
      cell->model_ref = rt.targets[k];
      cell->price = rt.target_prices[k];
      cell->pipeline = rt.target_pipelines[k];
      nlohmann::json decision = {{"router", c.models[m].router}, {"candidate", rt.router->candidates()[k]}};
      if (rt.targets.size() == 2) decision["escalation"] = rt.router->router->escalation(text);
      cell->route = decision.dump();
      routed = c.models[m].name() + "\n";  // the same request asked directly is another cell
    }
    if (!cell->pipeline.empty()) routed = c.models[m].name() + "\n";  // its calls are cached one by one
    cell->request_key = sha256_hex(canonical_request(request_of(*cell)).dump() + "\n" + std::to_string(r) +
                                   (cell->pipeline.empty() ? "" : "\n" + cell->pipeline));
    // The shard is decided by the request alone, so every shard agrees without talking.
    if (opts.shard_count > 1 &&
        std::stoull(cell->request_key.substr(0, 12), nullptr, 16) % static_cast<uint64_t>(opts.shard_count) !=
            static_cast<uint64_t>(opts.shard_index))
      return nullptr;
    cell->fingerprint = sha256_hex(rep.run_id + "\n" + routed + cell->request_key);
    return cell;
  };
  // The plan, one cell at a time: task by task, item by item, each item's models and repeats.
  struct Cursor {
    size_t task = 0, row = 0, model = 0;
    int repeat = 0;
    std::shared_ptr<const Item> item;
  } cur;
  std::function<void(size_t task, const Item&)> on_item;  // each item as the plan reaches it
  auto next_cell = [&]() -> std::unique_ptr<Cell> {
    for (;;) {
      if (!cur.item) {
        if (cur.task == c.tasks.size()) return nullptr;
        auto it = streams[cur.task]->next();
        if (!it) {
          streams[cur.task].reset();  // a built-in task's items are let go
          ++cur.task, cur.row = 0;
          continue;
        }
        const size_t row = cur.row++;
        if (row >= chosen[cur.task].size() || !chosen[cur.task][row]) continue;
        cur.item = std::make_shared<const Item>(std::move(*it));
        if (on_item) on_item(cur.task, *cur.item);
        cur.model = 0, cur.repeat = 0;
      }
      if (cur.model == c.models.size()) {
        cur.item.reset();
        continue;
      }
      const size_t m = cur.model;
      const int r = cur.repeat;
      if (++cur.repeat >= c.models[m].repeats) cur.repeat = 0, ++cur.model;
      if (r >= c.models[m].repeats) continue;  // a model asked for no repeats
      if (auto cell = plan_cell(m, cur.task, cur.item, r)) return cell;
    }
  };
  const PriceEntry* judge_price = c.judge ? price_of(*c.judge, "judge") : nullptr;

  if (opts.dry_run) {
    std::optional<Store> history;
    if (std::ifstream(db_path).good()) history.emplace(db_path, Store::Mode::kReadOnly);
    TextTable t({"model", "task", "requests", "input tok (est)", "output tok median", "output tok p90", "cost (median)",
                 "cost (p90)", "basis"});
    // Past output lengths per model and task, then every planned cell priced at them.
    struct Estimate {
      std::vector<double> outs;
      double med = 0, p90 = 0, lo = 0, hi = 0, in_tok = 0;
      size_t requests = 0;
    };
    std::vector<std::vector<Estimate>> est(c.models.size(), std::vector<Estimate>(c.tasks.size()));
    for (size_t m = 0; m < c.models.size(); ++m)
      for (size_t ti = 0; ti < c.tasks.size(); ++ti) {
        auto& e = est[m][ti];
        if (history) {
          auto q = history->db().prepare(
              "SELECT output_tokens FROM requests WHERE (model = ?1 OR model = ?2 OR model LIKE '%:' || ?2) AND task = ?3 "
              "AND status = 'ok' AND output_tokens IS NOT NULL");
          // The same model answers to provider:model, replay:model or a bare imported name.
          q.bind(1, c.models[m].ref.name()).bind(2, c.models[m].ref.model).bind(3, c.tasks[ti].name);
          while (q.step()) e.outs.push_back(q.real(0));
        }
        double cap_out = static_cast<double>(c.models[m].ref.params.max_tokens.value_or(1000));
        e.med = e.outs.empty() ? cap_out : *quantile(e.outs, 0.5);
        e.p90 = e.outs.empty() ? cap_out : *quantile(e.outs, 0.9);
      }
    while (auto cell = next_cell()) {
      ++rep.cells;
      auto& e = est[cell->model][cell->task];
      const ChatRequest req = request_of(*cell);
      e.lo += estimate_cost(req, cell->price, e.med);
      e.hi += estimate_cost(req, cell->price, e.p90);
      for (const auto& msg : req.messages) e.in_tok += static_cast<double>(msg.content.size()) / 4.0;
      ++e.requests;
    }
    double total_lo = 0, total_hi = 0;
    for (size_t m = 0; m < c.models.size(); ++m)
      for (size_t ti = 0; ti < c.tasks.size(); ++ti) {
        const auto& e = est[m][ti];
        total_lo += e.lo;
        total_hi += e.hi;
        t.add({c.models[m].name(), c.tasks[ti].name, std::to_string(e.requests), fmt_fixed(e.in_tok, 0), fmt_fixed(e.med, 0),
               fmt_fixed(e.p90, 0), fmt_usd(e.lo), fmt_usd(e.hi),
               e.outs.empty() ? "max_tokens (no history)" : std::to_string(e.outs.size()) + " past answers"});
      }
    std::cout << "Dry run of " << c.name << " (" << rep.cells << " requests; nothing sent)\n" << t.render(2)
              << "expected cost " << fmt_usd(total_lo) << " (median output) to " << fmt_usd(total_hi)
              << " (p90 output: thinking tokens vary many-fold between runs of one query)\n";
    return rep;
  }

  Store store(db_path, Store::Mode::kReadWrite);
  bool earlier_run = false;  // without one, no cell can be done already
  {
    auto q = store.db().prepare("SELECT COUNT(*) FROM runs WHERE id = ?");
    q.bind(1, rep.run_id);
    q.step();
    earlier_run = q.int64(0) > 0;
    if (opts.resume && !earlier_run)
      throw InputError(db_path + ": no earlier run of campaign '" + c.name + "' to resume (run it without --resume first)");
  }
  {
    Transaction tx(store.db());
    store.db()
        .prepare("INSERT INTO campaigns(name, spec, created_at) VALUES(?,?,?) ON CONFLICT(name) DO UPDATE SET spec = excluded.spec")
        .bind(1, c.name)
        .bind(2, c.raw.dump())
        .bind(3, now_utc_iso())
        .run();
    store.add_run(rep.run_id, "campaign", c.source, c.name);
    for (size_t m = 0; m < c.models.size(); ++m) store.upsert_model(c.models[m].name(), c.models[m].ref.provider);
    for (const PriceEntry* e : used_prices) store.upsert_price(*e);
    for (const auto& t : c.tasks) store.upsert_task(t.name);
    tx.commit();
  }

  // Resume: this run's finished cells are skipped; cache: what any run already answered is reused.
  // Which hashes the store held when the run started, 8 bytes each: a cell asks the store only on
  // a hit, so a run neither holds its cells' keys nor reads the database (while the writer
  // commits to it) for each cell.
  auto key_prefixes = [&](const std::string& sql, bool bind_run) {
    std::vector<uint64_t> keys;
    auto q = store.db().prepare(sql);
    if (bind_run) q.bind(1, rep.run_id);
    while (q.step())
      if (const std::string k = q.text(0); k.size() >= 16) keys.push_back(std::stoull(k.substr(0, 16), nullptr, 16));
    std::sort(keys.begin(), keys.end());
    return keys;
  };
  auto may_hold = [](const std::vector<uint64_t>& keys, const std::string& key) {
    return key.size() >= 16 && std::binary_search(keys.begin(), keys.end(), std::stoull(key.substr(0, 16), nullptr, 16));
  };
  // Done: answered, or answered with an error that was billed and would be billed the same again (a 200
  // the provider sent: an invalid request, an answer reckon cannot read). Transient failures are asked again.
  static const std::string kDone =
      "(status = 'ok' OR (http_status = 200 AND usage_complete = 1 AND error_class IN ('client_error', 'bad_response')))";
  const std::vector<uint64_t> done_keys =
      earlier_run ? key_prefixes("SELECT fingerprint FROM requests WHERE run_id = ? AND " + kDone, true) : std::vector<uint64_t>{};
  const std::vector<uint64_t> cache_keys = key_prefixes(
      "SELECT request_key FROM requests WHERE status = 'ok' AND cache_hit = 0 AND request_key IS NOT NULL", false);
  auto done_q = store.db().prepare("SELECT 1 FROM requests WHERE fingerprint = ? AND run_id = ? AND " + kDone);
  // Asked of the store: a block taken over from a runner that is gone may have cells finished since the start.
  auto is_done_now = [&](const Cell& cell) {
    done_q.reset();
    done_q.bind(1, cell.fingerprint).bind(2, rep.run_id);
    const bool found = done_q.step();
    done_q.reset();  // an open read would pin its snapshot while the writer commits
    return found;
  };
  auto is_done = [&](const Cell& cell) { return may_hold(done_keys, cell.fingerprint) && is_done_now(cell); };
  auto cache_q = store.db().prepare(
      "SELECT response, input_tokens, cache_read_tokens, cache_write_5m_tokens, cache_write_1h_tokens, output_tokens, "
      "reasoning_tokens, finish_reason, usage_complete, provider_cost_usd FROM requests WHERE request_key = ? AND status = 'ok' "
      "AND cache_hit = 0 LIMIT 1");
  // Cells from planning until their row is written (callbacks hold pointers to them).
  std::unordered_map<const Cell*, std::unique_ptr<Cell>> live;
  auto keep = [&](std::unique_ptr<Cell> owned) {
    const Cell* cell = owned.get();
    live.emplace(cell, std::move(owned));
    return cell;
  };
  auto release = [&](const Cell* cell) { live.erase(cell); };

  // Other runners of this campaign on this store: the plan is claimed a block at a time (claims.h).
  std::optional<CampaignClaims> claims;
  if (opts.claims)
    claims.emplace(db_path, rep.run_id, std::to_string(opts.shard_index + 1) + "/" + std::to_string(opts.shard_count), opts.lease_s);
  if (claims) claims->set_plan_blocks((expected_cells + kCellsPerBlock - 1) / kCellsPerBlock);
  // One writer, on a thread of its own: rows are committed in batches (at most ~50 ms of results
  // at risk on a crash) while the network loop goes on.
  RowWriter writer(db_path);
  // A block is marked done (after its rows are committed) once each of its cells is done — answered, or
  // failed the way a rerun would not ask again; with any cell to retry it stays open for the next runner.
  struct BlockProgress {
    size_t planned = 0, finished = 0, open_cells = 0;
    bool closed = false;
  };
  std::unordered_map<size_t, BlockProgress> blocks;
  auto settle = [&](size_t b) {
    auto it = blocks.find(b);
    if (it == blocks.end() || !it->second.closed || it->second.finished < it->second.planned) return;
    if (claims) {
      if (it->second.open_cells == 0) writer.push_after([&claims, b](Store& s) { claims->mark_done(s, b); });
      else writer.push_after([&claims, b](Store& s) { claims->release(s, b); });
    }
    blocks.erase(it);
  };
  auto cell_finished = [&](const Cell& cell, bool done) {
    auto& p = blocks[cell.block];
    ++p.finished;
    if (!done) ++p.open_cells;
    settle(cell.block);
  };
  // Items are stored as the run reaches them (by the writer, with the rows).
  on_item = [&](size_t t, const Item& it) {
    writer.push_item(c.tasks[t].name, it.id, it.messages.back().content, it.reference,
                     it.metadata.empty() ? std::nullopt : std::optional<std::string>(nlohmann::json(it.metadata).dump()));
  };

  // `paid_by_calls`: a pipeline's answer row, already carrying the sum of its calls' costs.
  auto finish_row = [&](RequestRecord r, const Cell& cell, std::optional<ScoreResult> judged = std::nullopt, bool paid_by_calls = false) {
    const Item& item = *cell.item;
    r.run_id = rep.run_id;
    r.created_at = now_utc_iso();
    r.prompt = prompt_text(cell.item->messages);
    if (!r.route) r.route = cell.route;
    r.reference = item.reference;
    const TaskDef& task = c.tasks[cell.task];
    r.scorer = judged ? "judge" : task.scorer;
    if (r.ok) {
      ScoreResult s = judged ? *judged : find_scorer(task.scorer)->score(item, r.response.value_or(""));
      r.score = s.value;
      r.prediction = s.prediction;
    }
    Usage u = r.usage;
    if (!u.service_tier_reported) u.service_tier = cell.model_ref->params.service_tier;  // else: what served it
    r.usage.service_tier = u.service_tier;
    u.minute_utc = minute_of_day_utc(r.created_at);
    if (const PriceEntry* e = paid_by_calls ? nullptr : cell.price) {
      try {
        r.cost = cost(u, *e);
      } catch (const InputError& err) {
        r.cost = CostBreakdown{};
        r.cost.price_entry_id = e->id();
        if (!r.error) r.error = std::string("cost: ") + err.what();
      }
    }
    if (!r.cache_hit) rep.spent_usd += r.cost.total_usd.value_or(0);
    const bool done = r.ok || (r.http_status == 200 && r.usage.usage_complete &&
                               (r.error_class == "client_error" || r.error_class == "bad_response"));  // kDone's rule
    writer.push(std::move(r));
    cell_finished(cell, done);
  };

  // A run where every recent call fails the same way (a closed port, a wrong model name, an exhausted
  // account the provider reports oddly) stops early and says why, instead of asking the rest in vain.
  std::string last_cause, last_kind, early_stop;  // the last failure as said, and with its numbers blanked
  size_t same_failures = 0;
  constexpr size_t kStopAfterSameFailures = 20;
  SystemClock clock;
  ClientOptions co;
  co.max_concurrency = c.concurrency;
  co.requests_per_minute = c.requests_per_minute;
  co.tokens_per_minute = c.tokens_per_minute;
  co.per_provider = c.per_provider;
  share_rate_limits(co, opts.shard_count);
  co.max_attempts = c.max_attempts;
  co.timeout_s = c.timeout_s;
  co.base_backoff_s = c.backoff_s;
  co.max_backoff_s = c.max_backoff_s;
  ModelClient client(co, clock);
  ReplaySource replay;
  for (const auto& src : c.replay) {
    // "dataset:NAME/INNER": a folder inside a pulled dataset, e.g. dataset:price-reversal/data/consolidated
    if (starts_with(src, "dataset:")) {
      std::string spec = src.substr(8);
      auto slash = spec.find('/');
      const Dataset* ds = find_dataset(spec.substr(0, slash));
      if (!ds) throw InputError(c.source + ": field 'replay': unknown dataset in '" + src + "'");
      pull_dataset(*ds, opts.data.pull);
      const auto& f = ds->files.front();
      std::string cache = opts.data.pull.cache_dir.empty() ? default_cache_dir() : opts.data.pull.cache_dir;
      replay.load(cache + "/" + f.owner + "/" + f.repo + "/" + f.commit + (slash == std::string::npos ? "" : spec.substr(slash)));
    } else {
      replay.load(src);
    }
  }
  client.set_replay(&replay);

  // Spend cap on real cost as it accrues, in-flight calls counted at their estimate.
  double inflight_estimate = 0;
  std::map<const Cell*, double> estimates;
  g_interrupted = false;
  auto previous = std::signal(SIGINT, on_sigint);
  bool tty = opts.progress && isatty(STDERR_FILENO);
  auto started = std::chrono::steady_clock::now();
  auto last_progress = started;
  size_t finished = 0;
  // What the campaign had spent before this session, so the line shows the campaign's money, not the session's.
  double spent_before = 0;
  {
    auto q = store.db().prepare("SELECT TOTAL(cost_usd) FROM v_requests WHERE run_id = ?");
    q.bind(1, rep.run_id);
    q.step();
    spent_before = q.real(0);
  }
  size_t retried = 0;  // calls that needed more than one attempt
  // Done counts every finished cell (resumed, cached, another runner's) so the rate and ETA are this
  // session's pace over what is left; the last line says what happened instead of an ETA.
  auto progress = [&](bool final) {
    if (!tty) return;
    auto now = std::chrono::steady_clock::now();
    if (!final && now - last_progress < std::chrono::milliseconds(250)) return;
    last_progress = now;
    const size_t done = finished + rep.skipped_done + rep.cached + rep.by_others;
    double secs = std::chrono::duration<double>(now - started).count();
    double rate = secs > 0 ? static_cast<double>(finished) / secs : 0;
    double eta = rate > 0 ? static_cast<double>(expected_cells > done ? expected_cells - done : 0) / rate : 0;
    std::cerr << "\r" << done << "/" << (final ? std::to_string(done) : "~" + std::to_string(expected_cells)) << " cells  "
              << fmt_fixed(rate, 1) << "/s  spent " << fmt_usd(spent_before + rep.spent_usd) << "  retried " << retried
              << "  errors " << rep.errors;
    if (!last_cause.empty() && rep.errors > 0) std::cerr << " (last: " << last_cause.substr(0, 60) << ")";
    if (final) std::cerr << "  done in " << fmt_fixed(secs, 1) << "s\n";
    else std::cerr << "  ETA " << fmt_fixed(eta, 0) << "s   ";
    std::cerr << std::flush;
  };
  // Judged tasks: the answer row waits for its verdict; the judge's call is its own row (step judge).
  struct JudgeJob {
    RequestRecord answer;
    const Cell* cell;
  };
  std::deque<JudgeJob> judge_jobs;
  std::set<const void*> judge_tags;
  auto judge = [&](RequestRecord answer, const Cell* cell) {
    const Item& item = *cell->item;
    auto list = [](const nlohmann::json& a) {
      std::string out;
      for (const auto& x : a) out += (out.empty() ? "" : "; ") + x.get<std::string>();
      return out;
    };
    std::string prompt = render_template(c.tasks[cell->task].judge_prompt,
                                         {{"question", item.extra.value("question", item.messages.back().content)},
                                          {"answer", answer.response.value_or("")},
                                          {"correct", list(item.extra.value("correct", nlohmann::json::array()))},
                                          {"incorrect", list(item.extra.value("incorrect", nlohmann::json::array()))}},
                                         "judge prompt");
    judge_jobs.push_back({std::move(answer), cell});
    JudgeJob* job = &judge_jobs.back();
    judge_tags.insert(job);
    ChatRequest jr{*c.judge, {{"user", prompt}}};
    client.submit(jr, 0, [&, job](const ChatRequest& req, const CallResult& res) {
      std::optional<ScoreResult> verdict;
      if (res.attempts > 0) {
        RequestRecord j;
        j.fingerprint = sha256_hex(job->answer.fingerprint + "\njudge");
        j.model = c.judge->name();
        j.task = job->answer.task;
        j.item_id = job->answer.item_id;
        j.repeat = job->answer.repeat;
        j.step = "judge";
        record_outcome(j, res);
        j.run_id = rep.run_id;
        j.created_at = now_utc_iso();
        j.prompt = prompt_text(req.messages);
        if (judge_price) {
          try {
            j.cost = cost(j.usage, *judge_price);
          } catch (const InputError&) {
          }
        }
        rep.spent_usd += j.cost.total_usd.value_or(0);  // a failed call that was billed counts too
        if (res.ok) {
          std::string word = to_lower(trim(res.completion.text)).substr(0, 3);
          if (starts_with(word, "yes")) verdict = ScoreResult{1.0, "judge: yes"};
          if (starts_with(word, "no")) verdict = ScoreResult{0.0, "judge: no"};
          if (!verdict) verdict = ScoreResult{std::nullopt, "judge: unreadable verdict"};
          ++rep.judged;
        }
        writer.push(std::move(j));
      }
      finish_row(std::move(job->answer), *job->cell, verdict ? verdict : ScoreResult{std::nullopt, "judge: no verdict"});
      release(job->cell);
    }, job);
  };

  // Pipelines: each call is its own row (step "call:<step>", e.g. call:generate.repair1) with its
  // usage and cost; a rerun takes this run's finished calls from the store and an identical call of
  // any run from the response cache, so an interrupted pipeline resumes mid-way without paying
  // again. The cell's row (no step) holds the final answer, its score and the sums of its calls; it
  // is marked cache_hit because its calls already paid (spend counts each call once).
  struct CallDone {
    std::string response;
    Usage usage;
    CostBreakdown cost;
  };
  std::map<std::string, CallDone> finished_calls;
  {
    auto q = store.db().prepare(
        "SELECT fingerprint, response, input_tokens, output_tokens, reasoning_tokens, cost_usd, cost_input_usd, "
        "cost_cache_read_usd, cost_cache_write_usd, cost_output_usd, cost_reasoning_usd, cost_fees_usd FROM requests "
        "WHERE run_id = ? AND status = 'ok' AND step LIKE 'call:%'");
    q.bind(1, rep.run_id);
    while (q.step()) {
      CallDone d;
      d.response = q.text(1);
      d.usage.input_tokens = q.opt_int64(2).value_or(0);
      d.usage.output_tokens = q.opt_int64(3).value_or(0);
      d.usage.reasoning_tokens = q.opt_int64(4);
      d.cost.total_usd = q.opt_real(5);
      d.cost.input_usd = q.opt_real(6).value_or(0);
      d.cost.cache_read_usd = q.opt_real(7).value_or(0);
      d.cost.cache_write_usd = q.opt_real(8).value_or(0);
      d.cost.output_usd = q.opt_real(9).value_or(0);
      d.cost.reasoning_usd = q.opt_real(10).value_or(0);
      d.cost.fees_usd = q.opt_real(11).value_or(0);
      finished_calls[q.text(0)] = std::move(d);
    }
  }
  struct PipelineCell {
    const Cell* cell;
    std::unique_ptr<PipelineRun> run;
    Usage total;
    CostBreakdown cost;
    bool priced = true;
    int64_t calls = 0;
  };
  std::deque<PipelineCell> pipeline_cells;
  std::function<void(PipelineCell&)> pump;
  auto add_to_total = [](PipelineCell& pc, const Usage& u, const CostBreakdown& cost) {
    pc.total.input_tokens += u.input_tokens;
    pc.total.output_tokens += u.output_tokens;
    if (u.reasoning_tokens) pc.total.reasoning_tokens = pc.total.reasoning_tokens.value_or(0) + *u.reasoning_tokens;
    if (cost.total_usd) {
      pc.cost.total_usd = pc.cost.total_usd.value_or(0) + *cost.total_usd;
      pc.cost.input_usd += cost.input_usd, pc.cost.cache_read_usd += cost.cache_read_usd;
      pc.cost.cache_write_usd += cost.cache_write_usd, pc.cost.output_usd += cost.output_usd;
      pc.cost.reasoning_usd += cost.reasoning_usd, pc.cost.fees_usd += cost.fees_usd;
    } else {
      pc.priced = false;
    }
    ++pc.calls;
  };
  auto finish_pipeline = [&](PipelineCell& pc) {
    const Cell& cell = *pc.cell;
    RequestRecord r;
    r.fingerprint = cell.fingerprint;
    r.model = c.models[cell.model].name();
    r.task = c.tasks[cell.task].name;
    r.item_id = cell.item->id;
    r.repeat = cell.repeat;
    r.cache_hit = true;  // paid by its calls
    r.ok = !pc.run->failed();
    r.attempts = pc.calls;
    if (r.ok) r.response = pc.run->final_answer();
    else r.error_class = "pipeline", r.error = pc.run->failure();
    r.usage = pc.total;
    r.usage.usage_complete = true;
    nlohmann::json route = cell.route ? nlohmann::json::parse(*cell.route) : nlohmann::json::object();
    route["pipeline"] = cell.pipeline;
    route["calls"] = pc.calls;
    if (pc.run->fields().count("link")) route["linked_tables"] = linked_tables(pc.run->fields().at("link"));
    r.route = route.dump();
    (r.ok ? rep.ok : rep.errors)++;
    ++finished;
    if (pc.priced && pc.calls > 0) r.cost = pc.cost;  // the sum of its calls, not the price list again
    finish_row(std::move(r), cell, std::nullopt, true);
    release(&cell);
    progress(false);
  };
  auto call_row = [&](PipelineCell& pc, const PipelineCall& call, const std::string& fp, const std::string& key) {
    RequestRecord r;
    r.fingerprint = fp;
    r.request_key = key;
    r.model = c.models[pc.cell->model].name();
    r.task = c.tasks[pc.cell->task].name;
    r.item_id = pc.cell->item->id;
    r.repeat = pc.cell->repeat;
    r.step = "call:" + call.step;
    r.run_id = rep.run_id;
    r.created_at = now_utc_iso();
    return r;
  };
  auto price_call = [&](PipelineCell& pc, RequestRecord& r) {
    Usage u = r.usage;
    if (!u.service_tier_reported) u.service_tier = pc.cell->model_ref->params.service_tier;
    r.usage.service_tier = u.service_tier;
    u.minute_utc = minute_of_day_utc(r.created_at.empty() ? now_utc_iso() : r.created_at);
    if (const PriceEntry* e = pc.cell->price) {
      try {
        r.cost = cost(u, *e);
      } catch (const InputError& err) {
        r.cost = CostBreakdown{};
        r.cost.price_entry_id = e->id();
      }
    }
  };
  pump = [&](PipelineCell& pc) {
    for (;;) {
      if (pc.run->done()) {
        finish_pipeline(pc);
        return;
      }
      auto calls = pc.run->next();
      if (calls.empty()) return;  // answers awaited
      std::vector<std::pair<int, std::string>> ready;
      for (auto& call : calls) {
        ChatRequest req{*pc.cell->model_ref, call.messages};
        const std::string key = sha256_hex(canonical_request(req).dump() + "\n" + std::to_string(pc.cell->repeat));
        const std::string fp = sha256_hex(pc.cell->fingerprint + "\n" + std::to_string(call.index) + "\n" + call.step);
        if (auto it = finished_calls.find(fp); it != finished_calls.end()) {  // this run already paid for it
          add_to_total(pc, it->second.usage, it->second.cost);
          ready.emplace_back(call.index, it->second.response);
          continue;
        }
        cache_q.reset();
        cache_q.bind(1, key);
        if (cache_q.step()) {  // an identical call of any run
          RequestRecord r = call_row(pc, call, fp, key);
          r.cache_hit = true;
          r.response = cache_q.text(0);
          r.usage.input_tokens = cache_q.opt_int64(1).value_or(0);
          r.usage.output_tokens = cache_q.opt_int64(5).value_or(0);
          r.usage.reasoning_tokens = cache_q.opt_int64(6);
          r.usage.usage_complete = cache_q.int64(8) == 1;
          cache_q.reset();
          r.prompt = prompt_text(req.messages);
          price_call(pc, r);
          add_to_total(pc, r.usage, r.cost);
          ready.emplace_back(call.index, *r.response);
          writer.push(std::move(r));
          continue;
        }
        client.submit(req, pc.cell->repeat, [&, call, fp, key, pcp = &pc](const ChatRequest& sent, const CallResult& res) {
          PipelineCell& me = *pcp;
          if (res.attempts == 0) {  // never sent: the pipeline waits for the next run
            ++rep.not_sent;
            return;
          }
          ++rep.sent;
          RequestRecord r = call_row(me, call, fp, key);
          record_outcome(r, res);
          r.prompt = prompt_text(sent.messages);
          price_call(me, r);
          rep.spent_usd += r.cost.total_usd.value_or(0);  // a failed call that was billed counts too
          if (res.ok) add_to_total(me, r.usage, r.cost);
          const std::optional<std::string> text = res.ok ? std::optional<std::string>(res.completion.text) : std::nullopt;
          writer.push(std::move(r));
          me.run->answer(call.index, text, res.error);
          pump(me);
        }, pc.cell);
      }
      for (const auto& [index, text] : ready) pc.run->answer(index, text);
      if (ready.size() < calls.size()) return;  // some calls are in flight
    }
  };
  auto start_pipeline = [&](const Cell* cell) {
    const Item& item = *cell->item;
    std::map<std::string, std::string> fields = {{"prompt", item.messages.back().content}};
    for (const auto& [k, v] : item.extra.items())
      if (v.is_string()) fields[k] = v.get<std::string>();
    PipelineHooks hooks;
    if (item.extra.contains("db") && item.extra["db"].is_string()) hooks = sql_hooks(item.extra["db"].get<std::string>());
    pipeline_cells.push_back({cell, nullptr, {}, {}, true, 0});
    PipelineCell& pc = pipeline_cells.back();
    try {
      pc.run = std::make_unique<PipelineRun>(*c.pipeline(cell->pipeline), std::move(fields), std::move(hooks));
    } catch (const InputError& e) {
      throw InputError(c.source + ": pipeline '" + cell->pipeline + "' cannot run task '" + c.tasks[cell->task].name +
                       "': " + e.what());
    }
    pump(pc);
  };

  // Cells are handed to the client a window at a time, as it drains: memory and the dispatch loop
  // stay at the window's size however many cells the campaign has.
  // The plan is walked in blocks: a block is claimed before any of its cells is sent; another live
  // runner's block is skipped and waited for at the end. A later pass walks the plan again for the
  // blocks taken over meanwhile (`pass_blocks`), counting its cells only once.
  size_t plan_ordinal = 0, cur_block = SIZE_MAX;
  std::optional<ClaimState> cur_state;
  std::set<size_t> waiting;
  const std::map<size_t, ClaimState>* pass_blocks = nullptr;
  auto close_block = [&] {
    if (cur_block == SIZE_MAX || !cur_state || (*cur_state != ClaimState::kMine && *cur_state != ClaimState::kTakenOver)) return;
    if (auto it = blocks.find(cur_block); it != blocks.end()) {
      it->second.closed = true;
      settle(cur_block);
    }
  };
  auto submit_next = [&]() -> bool {
    for (;;) {
      std::unique_ptr<Cell> planned = next_cell();
      if (!planned) {
        close_block();
        cur_block = SIZE_MAX;
        return false;
      }
      const size_t block = plan_ordinal++ / kCellsPerBlock;
      if (block != cur_block) {
        close_block();
        cur_block = block;
        if (pass_blocks) {
          auto it = pass_blocks->find(block);
          cur_state = it == pass_blocks->end() ? std::nullopt : std::optional<ClaimState>(it->second);
        } else {
          cur_state = claims ? claims->claim(store, block) : ClaimState::kMine;
          if (*cur_state == ClaimState::kBusy) waiting.insert(block);
        }
      }
      if (!pass_blocks) ++rep.cells;
      if (!cur_state) continue;  // a later pass: not one of its blocks
      if (*cur_state == ClaimState::kBusy) {
        ++rep.by_others;
        continue;
      }
      if (*cur_state == ClaimState::kDone) {
        ++rep.skipped_done;
        continue;
      }
      if (pass_blocks) --rep.by_others;  // counted as another runner's when it was skipped
      planned->block = block;
      ++blocks[block].planned;
      if (*cur_state == ClaimState::kTakenOver ? is_done_now(*planned) : is_done(*planned)) {
        ++rep.skipped_done;
        cell_finished(*planned, true);
        continue;
      }
      const Cell* cell = keep(std::move(planned));
      if (!cell->pipeline.empty()) {
        start_pipeline(cell);
        return true;
      }
      cache_q.reset();
      if (may_hold(cache_keys, cell->request_key) && (cache_q.bind(1, cell->request_key), cache_q.step())) {
        RequestRecord r;
        r.fingerprint = cell->fingerprint;
        r.request_key = cell->request_key;
        r.cache_hit = true;
        r.response = cache_q.text(0);
        r.usage.input_tokens = cache_q.opt_int64(1).value_or(0);
        r.usage.cache_read_tokens = cache_q.opt_int64(2).value_or(0);
        r.usage.cache_write_5m_tokens = cache_q.opt_int64(3).value_or(0);
        r.usage.cache_write_1h_tokens = cache_q.opt_int64(4).value_or(0);
        r.usage.output_tokens = cache_q.opt_int64(5).value_or(0);
        r.usage.reasoning_tokens = cache_q.opt_int64(6);
        r.finish_reason = cache_q.text(7);
        r.usage.usage_complete = cache_q.int64(8) == 1;
        r.usage.provider_cost_usd = cache_q.opt_real(9);
        cache_q.reset();  // an open read would pin its snapshot while the writer commits
        r.model = c.models[cell->model].name();
        r.task = c.tasks[cell->task].name;
        r.item_id = cell->item->id;
        r.repeat = cell->repeat;
        finish_row(std::move(r), *cell);
        release(cell);
        ++rep.cached;
        continue;
      }
      cache_q.reset();
      client.submit(request_of(*cell), cell->repeat, [&, cell](const ChatRequest&, const CallResult& res) {
        if (auto e = estimates.find(cell); e != estimates.end()) {
          inflight_estimate -= e->second;
          estimates.erase(e);
        }
        if (res.attempts == 0) {  // never sent: the next run sends it
          ++rep.not_sent;
          release(cell);
          return;
        }
        ++finished;
        ++rep.sent;
        if (res.attempts > 1) ++retried;
        if (res.ok) {
          same_failures = 0;
        } else {
          const std::string cause = std::string(to_string(res.error_class)) + ": " + res.error.substr(0, 200);
          // The same failure, whatever numbers it quotes: curl's "after 0 ms" becomes "after 1 ms" under load.
          std::string kind;
          for (char ch : cause)
            if (!(ch >= '0' && ch <= '9')) kind += ch;
            else if (kind.empty() || kind.back() != '#') kind += '#';
          same_failures = kind == last_kind ? same_failures + 1 : 1;
          last_kind = kind;
          last_cause = cause;
          if (same_failures >= kStopAfterSameFailures && early_stop.empty()) {
            early_stop = "the last " + std::to_string(same_failures) + " calls all failed the same way (" + cause +
                         "); stopped early, rerun to finish once it is fixed";
            client.stop();
          }
        }
        RequestRecord r;
        r.fingerprint = cell->fingerprint;
        r.request_key = cell->request_key;
        r.model = c.models[cell->model].name();
        r.task = c.tasks[cell->task].name;
        r.item_id = cell->item->id;
        r.repeat = cell->repeat;
        record_outcome(r, res);
        (res.ok ? rep.ok : rep.errors)++;
        if (res.ok && c.judge && !c.tasks[cell->task].judge_prompt.empty()) {
          judge(std::move(r), cell);  // the cell is released once graded
        } else {
          finish_row(std::move(r), *cell);
          release(cell);
        }
        progress(false);
      }, cell);
      return true;
    }
  };
  size_t window = 64;
  {
    // Enough waiting calls to keep every provider's slots full; the cells go in item order, the
    // models of one item side by side, so each provider has its share of the window.
    std::map<std::string, int> slots;
    for (const auto& m : c.models) {
      auto p = c.per_provider.find(m.ref.provider);
      slots[m.ref.provider] = p != c.per_provider.end() && p->second.max_concurrency > 0 ? p->second.max_concurrency : c.concurrency;
    }
    for (const auto& [provider, n] : slots) window += static_cast<size_t>(n) * 4;
    client.set_source(submit_next, window);
  }
  // Runners of one campaign share the account's rate limits: each takes 1/n of them, n counted again each second.
  bool rate_limited = co.requests_per_minute > 0 || co.tokens_per_minute > 0;
  for (const auto& [provider, lim] : co.per_provider) rate_limited = rate_limited || lim.requests_per_minute > 0 || lim.tokens_per_minute > 0;
  auto share_checked = std::chrono::steady_clock::now() - std::chrono::seconds(2);
  double reserved_usd = 0;  // this runner's part of a cap the runners share
  client.set_admit([&](const ChatRequest& req, const void* tag) {
    if (g_interrupted) {
      rep.interrupted = true;
      return false;
    }
    if (claims && rate_limited && std::chrono::steady_clock::now() - share_checked > std::chrono::seconds(1)) {
      share_checked = std::chrono::steady_clock::now();
      client.set_rate_share(1.0 / static_cast<double>(std::max<int64_t>(1, claims->live_runners(store))));
    }
    if (judge_tags.count(tag)) return true;  // the answer is paid for: grade it
    if (!cap) return true;  // nothing to estimate against
    const Cell* cell = static_cast<const Cell*>(tag);
    double model_out = static_cast<double>(req.model.params.max_tokens.value_or(1000));
    double est = cell ? estimate_cost(req, cell->price, model_out) : 0;
    const double need = rep.spent_usd + inflight_estimate + est;
    if (need > *cap) {
      rep.stopped_by_cap = true;
      return false;
    }
    // Other runners share the cap: budget is reserved in the store, a few calls' worth at a time.
    if (claims && need > reserved_usd) {
      const double shortfall = need - reserved_usd, chunk = std::min(std::max(shortfall, 8 * est), *cap - reserved_usd);
      if (claims->reserve(store, chunk, *cap)) {
        reserved_usd += chunk;
      } else if (chunk > shortfall && claims->reserve(store, shortfall, *cap)) {
        reserved_usd += shortfall;
      } else {
        rep.stopped_by_cap = true;
        return false;
      }
    }
    if (cell) estimates[cell] = est;
    inflight_estimate += est;
    return true;
  });
  client.run();
  // Blocks other runners held: wait until each is done, taking over those whose runner is gone (then the
  // plan is walked again for them). Every runner ends with the whole campaign answered.
  auto stopped = [&] { return rep.stopped_by_cap || rep.interrupted || !client.fatal_error().empty() || !early_stop.empty(); };
  bool later_pass = false;
  while (!waiting.empty() && !stopped()) {
    std::map<size_t, ClaimState> taken;
    const std::map<size_t, ClaimState> now = claims->survey(store);
    for (auto it = waiting.begin(); it != waiting.end();) {
      auto st = now.find(*it);
      ClaimState s = st == now.end() ? ClaimState::kTakenOver : st->second;
      if (s == ClaimState::kTakenOver) s = claims->claim(store, *it, false);  // its runner is gone: take it (or lose the race)
      if (s == ClaimState::kDone) {
        it = waiting.erase(it);
      } else if (s == ClaimState::kBusy) {
        ++it;
      } else {
        taken[*it] = s;
        it = waiting.erase(it);
      }
    }
    if (taken.empty()) {
      if (g_interrupted) {
        rep.interrupted = true;
        break;
      }
      if (tty) std::cerr << "\rwaiting for " << waiting.size() << " blocks other runners hold   " << std::flush;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      continue;
    }
    for (size_t t = 0; t < c.tasks.size(); ++t) streams[t] = std::make_unique<ItemStream>(c.tasks[t], opts.data);
    cur = Cursor{};
    plan_ordinal = 0;
    cur_block = SIZE_MAX;
    pass_blocks = &taken;
    client.set_source(submit_next, window);
    client.run();
    pass_blocks = nullptr;
    later_pass = true;
  }
  // What the run never reached (a spend cap, Ctrl-C, a fatal error): counted, for the rerun to send.
  if (stopped() && !later_pass)
    while (auto cell = next_cell()) {
      ++rep.cells;
      if (is_done(*cell)) ++rep.skipped_done;
      else ++rep.not_sent;
    }
  writer.close();
  if (claims) claims->settle(rep.spent_usd);
  progress(true);
  std::signal(SIGINT, previous);
  rep.fatal = !client.fatal_error().empty() ? client.fatal_error() : early_stop;
  store.finish_run(rep.run_id);

  // The summary of this run.
  std::cout << "campaign " << c.name << " (run " << rep.run_id << "): " << rep.cells << " cells, " << rep.skipped_done
            << " already done, " << rep.cached << " from the response cache, " << rep.sent << " sent (" << rep.ok << " ok, "
            << rep.errors << " errors), spent " << fmt_usd(rep.spent_usd)
            << (rep.by_others > 0 ? ", " + std::to_string(rep.by_others) + " answered by other runners" : std::string()) << "\n";
  if (rep.stopped_by_cap)
    std::cout << "spend cap " << fmt_usd(*cap) << " reached: " << rep.not_sent
              << " requests not sent; rerun with a higher --max-cost to finish\n";
  if (rep.interrupted) std::cout << "interrupted: " << rep.not_sent << " requests not sent; rerun to finish\n";
  if (!rep.fatal.empty()) std::cout << "stopped: " << rep.fatal << "\n";
  // The causes, not only the count: the run's errors grouped by class and message, most frequent first.
  if (rep.errors > 0) {
    auto q = store.db().prepare(
        "SELECT COUNT(*), IFNULL(error_class, '?'), IFNULL(error, '') FROM requests WHERE run_id = ? AND status = 'error' "
        "GROUP BY 2, 3 ORDER BY 1 DESC, 2 LIMIT 5");
    q.bind(1, rep.run_id);
    std::cout << "errors by cause:\n";
    while (q.step()) {
      std::string why = q.text(2);
      if (why.size() > 160) why = why.substr(0, 160) + "...";
      std::cout << "  " << q.int64(0) << " × " << q.text(1) << (why.empty() ? "" : ": " + why) << "\n";
    }
  }
  std::cout << "\n" << render_summary(summarize(store, rep.run_id));
  return rep;
}

}  // namespace reckon
