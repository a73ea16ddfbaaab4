#include "harness/campaign.h"

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "common/error.h"
#include "common/jsonl.h"
#include "pipelines/pipeline.h"
#include "common/sha256.h"
#include "common/text.h"
#include "providers/client.h"
#include "providers/registry.h"

namespace reckon {
namespace {

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

// "prompts": {NAME: {"system", "user"}}: the variants, then every model crossed with each of them.
void cross_with_prompts(Campaign& c, const nlohmann::json& pj, const std::string& where) {
  if (!pj.is_object() || pj.empty())
    throw InputError(where + ": field 'prompts' must be an object of NAME: {\"user\": TEMPLATE, \"system\": TEMPLATE}");
  for (const auto& [name, v] : pj.items()) {
    const std::string at = where + ": prompts." + name;
    if (name.empty() || name.find('@') != std::string::npos) throw InputError(at + ": a variant's name must be non-empty, without '@'");
    if (!v.is_object()) throw InputError(at + ": must be {\"user\": TEMPLATE, \"system\": TEMPLATE}");
    check_keys(v, {"user", "system"}, at, "");
    PromptVariant p{name, std::nullopt, field<std::string>(v, "user", at, "")};
    if (p.user.empty()) throw InputError(at + ": field 'user' (the template, e.g. \"{prompt}\\nAnswer with a number.\") is required");
    if (v.contains("system")) p.system = field<std::string>(v, "system", at, "");
    c.prompts.push_back(std::move(p));
  }
  std::vector<CampaignModel> crossed;
  for (const auto& m : c.models)
    for (const auto& p : c.prompts) {
      crossed.push_back(m);
      crossed.back().prompt = p;
    }
  c.models = std::move(crossed);
}

// One entry of "models": "provider:model" or {"model", "repeats", "params", "candidates", "pipeline"}.
CampaignModel parse_model(const nlohmann::json& m, const std::string& at, const Campaign& c) {
  CampaignModel cm;
  if (m.is_string()) {
    try {
      cm.ref = parse_model_ref(m.get<std::string>());
    } catch (const InputError& e) {
      throw InputError(at + ": " + e.what());
    }
  } else if (m.is_object()) {
    check_keys(m, {"model", "repeats", "params", "candidates", "pipeline", "batch"}, at, "");
    std::string name = field<std::string>(m, "model", at, "");
    if (name.empty()) throw InputError(at + ": field 'model' (provider:model) is required");
    try {
      cm.ref = parse_model_ref(name);
    } catch (const InputError& e) {
      throw InputError(at + ": " + e.what());
    }
    cm.ref.params = parse_params(m.value("params", nlohmann::json()), at);
    cm.repeats = field<int>(m, "repeats", at, 1);
    cm.batch = field<bool>(m, "batch", at, c.batch);
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
  if (m.is_string()) cm.batch = c.batch;
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
  return cm;
}

void parse_tasks(Campaign& c, const nlohmann::json& j, const std::string& where) {
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
}

void parse_adaptive(Campaign& c, const nlohmann::json& s, const std::string& at_selection, const std::string& where) {
  const std::string at = at_selection + ".adaptive";
  const nlohmann::json& a = s["adaptive"];
  if (!a.is_object()) throw InputError(at + ": must be an object, e.g. {\"budget\": 20, \"round\": 5}");
  check_keys(a, {"budget", "round", "target_se", "min_items", "seed", "responses"}, at, "");
  for (const char* other : {"limit", "sample", "first", "stored"})
    if (s.contains(other))
      throw InputError(at_selection + ": 'adaptive' chooses each model's items itself and cannot be combined with '" + other + "'");
  auto whole = [&](const char* name, int fallback, int low) {
    if (!a.contains(name)) return fallback;
    if (!a[name].is_number_integer() || a[name].get<int64_t>() < low || a[name].get<int64_t>() > 1000000)
      throw InputError(at + ": field '" + name + "' must be a whole number, at least " + std::to_string(low));
    return static_cast<int>(a[name].get<int64_t>());
  };
  AdaptiveSelection sel;
  sel.budget = whole("budget", sel.budget, 1);
  sel.round = whole("round", sel.round, 1);
  sel.min_items = whole("min_items", sel.min_items, 1);
  sel.seed = static_cast<uint64_t>(whole("seed", static_cast<int>(sel.seed), 0));
  sel.target_se = field<double>(a, "target_se", at, 0);
  if (!(sel.target_se >= 0 && sel.target_se < 10)) throw InputError(at + ": field 'target_se' must be a standard error in [0, 10) (0: budget only)");
  if (a.contains("responses")) {
    const std::filesystem::path base = std::filesystem::path(where).parent_path();
    const std::filesystem::path f = field<std::string>(a, "responses", at, "");
    const std::filesystem::path path = f.is_absolute() || base.empty() ? f : base / f;
    if (!std::filesystem::exists(path)) throw InputError(at + ": field 'responses' names " + path.string() + ", which does not exist");
    sel.responses = path.string();
  }
  c.selection.adaptive = sel;
}

void parse_selection(Campaign& c, const nlohmann::json& s, const std::string& where) {
  std::string at = where + ": selection";
  if (!s.is_object()) throw InputError(at + ": must be an object");
  check_keys(s, {"limit", "sample", "first", "stored", "seed", "adaptive"}, at, "");
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
  if (s.contains("adaptive")) parse_adaptive(c, s, at, where);
}

// "concurrency" and "rate_limits", for every provider or per provider.
void parse_limits(Campaign& c, const nlohmann::json& j, const std::string& where) {
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
}

void parse_retry(Campaign& c, const nlohmann::json& r, const std::string& where) {
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

// "judge": "provider:model" or {"model", "params"}.
ModelRef parse_judge(const nlohmann::json& jd, const std::string& where) {
  std::string at = where + ": judge";
  try {
    if (jd.is_string()) {
      return parse_model_ref(jd.get<std::string>());
    } else if (jd.is_object()) {
      ModelRef ref = parse_model_ref(field<std::string>(jd, "model", at, ""));
      ref.params = parse_params(jd.value("params", nlohmann::json()), at);
      return ref;
    } else {
      throw InputError("must be \"provider:model\" or {\"model\", \"params\"}");
    }
  } catch (const InputError& e) {
    throw InputError(at + ": " + e.what());
  }
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
                                           "db", "replay", "allow_unpriced", "description", "judge", "retry", "pipelines", "prices", "prompts",
                                           "batch"};
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
  c.batch = field<bool>(j, "batch", where, false);
  for (size_t i = 0; i < j["models"].size(); ++i) {
    c.models.push_back(parse_model(j["models"][i], where + ": models[" + std::to_string(i) + "]", c));
  }
  if (j.contains("prompts")) cross_with_prompts(c, j["prompts"], where);
  parse_tasks(c, j, where);
  if (j.contains("selection")) parse_selection(c, j["selection"], where);
  parse_limits(c, j, where);
  if (j.contains("retry")) parse_retry(c, j["retry"], where);
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
  if (j.contains("judge")) c.judge = parse_judge(j["judge"], where);
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
  key.erase("batch");   // nor how it is sent (a run sent live may be finished in batches, and back)
  for (auto& m : key["models"])
    if (m.is_object()) m.erase("batch");
  return "run-" + sha256_hex(key.dump()).substr(0, 12);
}

}  // namespace reckon
