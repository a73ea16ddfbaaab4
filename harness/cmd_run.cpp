// `reckon run CAMPAIGN.json`, `reckon eval --model M --task T`, `reckon tasks list|show`.
#include <iostream>

#include "common/error.h"
#include "common/table.h"
#include "harness/campaign.h"
#include "harness/commands.h"

namespace reckon {
namespace {

struct RunFlags {
  std::string db, shard, mirror, cache;
  std::vector<std::string> key_envs, key_hosts, catalogs;
  double lease = 10, poll = 30;
  bool resume = false, dry_run = false, quiet = false, batch = false, detach = false;
  double max_cost = -1;
  void add_to(CLI::App& sub) {
    sub.add_option("--db", db, "Store to write (overrides the campaign's 'db')");
    sub.add_flag("--resume", resume, "Continue an earlier run of this campaign (finished cells are skipped)");
    sub.add_flag("--dry-run", dry_run, "Print the requests and expected cost; send nothing");
    sub.add_option("--max-cost", max_cost, "Spend cap in USD (real cost as it accrues)");
    sub.add_option("--shard", shard,
                   "Run only shard i of N (i/N, or auto: from RECKON_SHARD, a Slurm array or a Kubernetes Indexed Job); "
                   "`reckon merge` recombines");
    sub.add_option("--mirror", mirror, "Data mirror folder or URL (env RECKON_DATA_MIRROR)");
    sub.add_option("--cache", cache, "Data cache folder");
    sub.add_flag("--quiet", quiet, "No progress display");
    sub.add_option("--lease", lease, "Seconds a runner that stops renewing (a lost node) keeps its claimed cells; on this host a "
                   "runner that ended frees them at once")->check(CLI::Range(1.0, 3600.0))->capture_default_str();
    sub.add_option("--catalog", catalogs, "Price catalog (reckon JSON) used after the built-in one, the store's and the campaign's (repeatable)");
    sub.add_option("--allow-key-env", key_envs, "Let the campaign read a key from this variable (repeatable)");
    sub.add_option("--allow-key-host", key_hosts, "Let keys go to this host (repeatable); a provider's own host and loopback always may");
    sub.add_flag("--batch", batch, "Send every model through its provider's batch API: the batch rate (half price at OpenAI, "
                 "Anthropic, Google), answers within 24 h; a killed run resumes by polling what it submitted");
    sub.add_flag("--detach", detach, "With batches: submit them and exit; run the campaign again to collect what finished");
    sub.add_option("--poll", poll, "Seconds between polls of open batches")->check(CLI::Range(0.01, 3600.0))->capture_default_str();
  }
  RunOptions options() const {
    RunOptions o;
    o.db = db;
    o.resume = resume;
    o.dry_run = dry_run;
    if (max_cost >= 0) o.max_cost_usd = max_cost;
    if (!shard.empty()) std::tie(o.shard_index, o.shard_count) = resolve_shard(shard);
    o.data.pull.mirror = mirror;
    o.data.pull.cache_dir = cache;
    o.progress = !quiet;
    o.keys.extra_key_variables = key_envs;
    o.keys.extra_hosts = key_hosts;
    o.catalogs = catalogs;
    o.lease_s = lease;
    o.batch = batch;
    o.detach = detach;
    o.batch_poll_s = poll;
    return o;
  }
};

int exit_code(const RunReport& r) {
  if (!r.fatal.empty() || r.errors > 0) return kExitFailure;
  if (r.interrupted) return kExitInterrupted;
  return kExitOk;
}

}  // namespace

Action define_run(CLI::App& sub) {
  auto file = std::make_shared<std::string>();
  auto flags = std::make_shared<RunFlags>();
  sub.add_option("campaign", *file, "Campaign file (JSON)")->required();
  flags->add_to(sub);
  sub.footer("Exit: 0 all cells ok, 1 some failed or the run was stopped by an error, 2 bad input, 130 interrupted.");
  return [file, flags]() -> int { return exit_code(run_campaign(load_campaign_file(*file), flags->options())); };
}

Action define_eval(CLI::App& sub) {
  struct Args {
    std::string model, task, replay, base_url;
    int limit = 0, repeats = 1, concurrency = 16;
    uint64_t seed = 0;
    bool allow_unpriced = false;
  };
  auto a = std::make_shared<Args>();
  auto flags = std::make_shared<RunFlags>();
  sub.add_option("--model", a->model, "provider:model")->required();
  sub.add_option("--task", a->task, "Built-in task (see `reckon tasks list`)")->required();
  sub.add_option("--limit", a->limit, "A seeded random sample of this many items");
  sub.add_option("--seed", a->seed, "Sample seed");
  sub.add_option("--repeats", a->repeats, "Answers per item");
  sub.add_option("--concurrency", a->concurrency, "Requests in flight");
  sub.add_option("--replay", a->replay, "Recorded answers for replay: models");
  sub.add_option("--base-url", a->base_url, "Endpoint base URL (a local or proxy server)");
  sub.add_flag("--allow-unpriced", a->allow_unpriced, "Run a model with no price: its cost is stored as unknown");
  flags->add_to(sub);
  return [a, flags]() -> int {
    nlohmann::json model{{"model", a->model}, {"repeats", a->repeats}};
    if (!a->base_url.empty()) model["params"] = {{"base_url", a->base_url}};
    nlohmann::json j{{"name", "eval " + a->model + " " + a->task},
                     {"models", {model}},
                     {"tasks", {a->task}},
                     {"concurrency", a->concurrency}};
    if (a->limit > 0) j["selection"] = {{"limit", a->limit}, {"seed", a->seed}};
    if (!a->replay.empty()) j["replay"] = a->replay;
    if (a->allow_unpriced) j["allow_unpriced"] = true;
    RunOptions o = flags->options();
    o.keys.endpoint_from_user = true;  // every endpoint of `eval` is on its command line
    if (o.db.empty()) o.db = "reckon.db";
    return exit_code(run_campaign(parse_campaign(j, "reckon eval"), o));
  };
}

Action define_tasks(CLI::App& sub) {
  sub.require_subcommand(1);
  auto* list = sub.add_subcommand("list", "Built-in tasks and scorers");
  auto* show = sub.add_subcommand("show", "One task: its data, scorer and first item");
  auto name = std::make_shared<std::string>();
  auto mirror = std::make_shared<std::string>();
  show->add_option("name", *name, "Task name")->required();
  show->add_option("--mirror", *mirror, "Data mirror");
  return [=]() -> int {
    if (list->parsed()) {
      TextTable t({"task", "dataset", "scorer", "description"});
      for (const auto& task : builtin_tasks()) t.add({task.name, task.dataset, task.scorer, task.description});
      std::cout << t.render(99) << "\n";
      TextTable s({"scorer", "rule"});
      for (const auto& sc : scorer_table()) s.add({sc.name, sc.help});
      std::cout << s.render(99);
      return kExitOk;
    }
    const TaskDef* t = find_builtin_task(*name);
    if (!t) throw InputError("unknown task '" + *name + "' (see `reckon tasks list`)");
    DataAccess d;
    d.pull.mirror = *mirror;
    auto items = load_items(*t, d);
    std::cout << t->name << ": " << t->description << "\ndataset " << t->dataset << ", scorer " << t->scorer << ", "
              << items.size() << " items\n";
    if (!items.empty()) {
      std::cout << "\nfirst item (" << items[0].id << "), reference: " << items[0].reference << "\n";
      for (const auto& m : items[0].messages) std::cout << "[" << m.role << "]\n" << m.content << "\n";
    }
    return kExitOk;
  };
}

}  // namespace reckon
