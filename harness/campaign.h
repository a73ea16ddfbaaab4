#pragma once
// Campaigns: models × tasks × items × repeats, run through the providers, scored, priced and
// stored. Every cell has a fingerprint: a rerun skips finished cells, retries failed ones, and an
// identical request already answered (any run) is served from the store's response cache.
#include <map>
#include <optional>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "providers/client.h"
#include "pipelines/pipeline.h"
#include "providers/request.h"
#include "providers/key_policy.h"
#include "tasks/task.h"

namespace reckon {

// A prompt variant ("prompts": {NAME: {"system", "user"}}): every model is asked through each, as
// its own model prompt:NAME@provider:model. {prompt} is the task's own prompt; {field} an item's field.
struct PromptVariant {
  std::string name;
  std::optional<std::string> system;  // replaces the task's system message
  std::string user;                   // replaces the task's last user message
};

struct CampaignModel {
  ModelRef ref;  // provider "router" for a routed model (router:NAME)
  int repeats = 1;
  // A routed model: the router saved in the campaign's store under this name decides, per item,
  // which candidate answers; `candidates` maps the router's candidate names to models when they are
  // not provider:model names themselves.
  std::string router;
  std::map<std::string, ModelRef> candidates;
  // A pipeline run with this model ({"model": M, "pipeline": NAME}): stored as pipeline:NAME@M.
  std::string pipeline;
  std::optional<PromptVariant> prompt;  // asked through this variant of the tasks' prompts
  bool batch = false;  // sent through its provider's batch API (batch_rounds.h), at the batch rate
  std::string name() const {
    const std::string base = pipeline.empty() ? ref.name() : "pipeline:" + pipeline + "@" + ref.name();
    return prompt ? "prompt:" + prompt->name + "@" + base : base;
  }
  // Every model this entry may call: itself and its router candidates.
  std::vector<const ModelRef*> refs() const {
    std::vector<const ModelRef*> out{&ref};
    for (const auto& [_, r] : candidates) out.push_back(&r);
    return out;
  }
};

// "selection": {"adaptive": {...}}: each model's items chosen as it answers, a round of `round` items
// at a time, the most informative at its current ability under a 1-D 2PL fitted on source models
// (selectors/adaptive.h; the run's loop in harness/adaptive_rounds.h).
struct AdaptiveSelection {
  int budget = 20;        // items per model and task at most
  int round = 5;          // items asked at once (a round), per model and task
  double target_se = 0;   // stop a model's test once its ability's standard error is at most this (0: budget only)
  int min_items = 3;      // asked before the standard error may stop a test
  uint64_t seed = 1;      // of the item parameters' fit
  std::string responses;  // source models' results as a matrix CSV (model,<item ids>); the store's own otherwise
};

struct Selection {
  std::optional<size_t> limit;   // a seeded random sample of this many items per task
  std::optional<double> fraction;
  bool first = false;            // take the first N instead (only when asked)
  uint64_t seed = 0;
  std::string stored;            // a selection stored in the database (selections table), by id
  std::optional<AdaptiveSelection> adaptive;
};

struct Campaign {
  std::string name;
  std::string source;  // the file it came from, for messages
  std::vector<CampaignModel> models;
  std::vector<TaskDef> tasks;
  Selection selection;
  int concurrency = 16;
  double requests_per_minute = 0, tokens_per_minute = 0;
  std::map<std::string, ProviderLimits> per_provider;  // "concurrency"/"rate_limits" keyed by provider
  // "retry": {"max_attempts", "timeout_s", "backoff_s", "max_backoff_s"}; the client's defaults otherwise.
  int max_attempts = ClientOptions{}.max_attempts;
  double timeout_s = ClientOptions{}.timeout_s, backoff_s = ClientOptions{}.base_backoff_s,
         max_backoff_s = ClientOptions{}.max_backoff_s;
  std::optional<double> max_cost_usd;
  std::string db;
  std::vector<std::string> replay;  // sources for replay: models
  bool allow_unpriced = false;
  std::vector<std::string> price_files;  // "prices": reckon catalogs, resolved against the campaign's folder
  std::optional<ModelRef> judge;    // grades tasks that have a judge prompt (TruthfulQA)
  std::vector<PromptVariant> prompts;  // "prompts": each model is crossed with each (models then holds the crossings)
  bool batch = false;               // "batch": every model through its provider's batch API unless it says otherwise
  std::vector<Pipeline> pipelines;  // declared in the file ("pipelines": {NAME: {...}}), beside the built-in ones
  // A pipeline by name: the campaign's own first, then the built-in ones; nullptr when unknown.
  const Pipeline* pipeline(const std::string& name) const;
  nlohmann::json raw;               // as written (stored with the campaign)
};

// Parses a campaign file; InputError names the file and the field.
Campaign parse_campaign(const nlohmann::json& j, const std::string& where);
Campaign load_campaign_file(const std::string& path);

struct RunOptions {
  std::string db;                   // overrides the campaign's
  bool resume = false;              // require an earlier run of this campaign
  bool dry_run = false;
  std::optional<double> max_cost_usd;
  int shard_index = 0, shard_count = 1;  // --shard i/N (0-based index here)
  DataAccess data;
  bool progress = true;             // on a terminal only
  KeyPolicy keys;                   // where keys may go (widened on the command line only)
  std::vector<std::string> catalogs;  // --catalog: price catalogs after the campaign's own
  double lease_s = 10;              // --lease: how long a runner that stops renewing keeps its claims
  bool claims = true;               // false: the caller vouches this is the only runner (the benchmark's baseline)
  bool batch = false;               // --batch: every model through its provider's batch API
  bool detach = false;              // --detach: submit the batches and exit; a later run collects them
  double batch_poll_s = 30;         // --poll: seconds between polls of open batches
};

struct RunReport {
  std::string run_id;
  size_t cells = 0, skipped_done = 0, cached = 0, sent = 0, ok = 0, errors = 0, not_sent = 0, judged = 0;
  size_t by_others = 0;  // cells other runners of the campaign answered meanwhile
  size_t batched = 0;    // cells submitted in batches this session
  size_t from_batches = 0;  // cells whose batch result (answer or error) this session recorded
  size_t in_batches = 0; // cells still in open batches when the run ended (a later run collects them)
  double spent_usd = 0;
  bool stopped_by_cap = false, interrupted = false;
  std::string fatal;
};

// Returns the process exit code's meaning in RunReport; prints the summary to stdout.
RunReport run_campaign(const Campaign& c, const RunOptions& opts);

// The deterministic run id of a campaign (its canonical content), so a rerun continues it.
std::string campaign_run_id(const Campaign& c);

// Parses "i/N" (1-based i) into a 0-based index and a count.
std::pair<int, int> parse_shard(const std::string& text);
// `--shard`: "i/N", or "auto" — from the job runner's environment: RECKON_SHARD=i/N; a Slurm job array
// (SLURM_ARRAY_TASK_ID, SLURM_ARRAY_TASK_COUNT, SLURM_ARRAY_TASK_MIN); a Kubernetes Indexed Job
// (JOB_COMPLETION_INDEX, with the Job's completions passed as RECKON_SHARD_COUNT). Returns (0-based index, N).
std::pair<int, int> resolve_shard(const std::string& spec);
// Shards run at once against one account: each takes 1/N of the campaign's rate limits (0 stays unlimited).
void share_rate_limits(ClientOptions& co, int shards);
std::pair<int, int> shard_from_environment(const std::function<const char*(const char*)>& getenv_fn);

}  // namespace reckon
