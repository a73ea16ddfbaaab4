// The command backend: a shell command per stage (TRL, axolotl, a script of the user's), given the
// point's dataset files, an output folder and the hyperparameters; the trained model is then asked
// through any provider (e.g. a vLLM server) to route the held-out queries.
//
// backend_config: base_model, sft, dpo (command templates), model (a provider:model template, e.g.
// "vllm:{model}"), optional base_url, api_key_env, style (trl), timeout_s (3600).
// Placeholders: {train} {eval} {out} {base} {epochs} {beta} {seed} {stage}; values are shell-quoted.
// A stage's model is its {out} folder unless the command prints a line `reckon-model: NAME`.
#include <sys/wait.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>

#include "common/error.h"
#include "common/text.h"
#include "sweeps/backend.h"
#include "tasks/task.h"

namespace reckon {

std::string shell_quote(const std::string& v) {
  std::string out = "'";
  for (char ch : v) out += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
  return out + "'";
}

namespace {

std::string config_text(const nlohmann::json& cfg, const std::string& key, const std::string& fallback, bool required) {
  if (!cfg.contains(key)) {
    if (required) throw InputError("sweep backend config: field '" + key + "' is required");
    return fallback;
  }
  if (!cfg[key].is_string() || cfg[key].get<std::string>().empty())
    throw InputError("sweep backend config: field '" + key + "' must be a non-empty string");
  return cfg[key].get<std::string>();
}

}  // namespace

// Runs one stage; returns the model it produced. Throws with the log's tail when it fails.
std::string run_training_stage(const std::string& command, const std::string& out_dir, double timeout_s, const std::string& stage) {
  const std::string log = out_dir + "/log.txt";
  const std::string line = "timeout --kill-after=10 " + fmt_fixed(timeout_s, 0) + " /bin/sh -c " + shell_quote(command) + " > " +
                           shell_quote(log) + " 2>&1 < /dev/null";
  const int status = std::system(line.c_str());
  std::ifstream in(log, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  const std::string output = text.str();
  const int code = status == -1 ? -1 : WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  if (code != 0) {
    const std::string tail = output.size() > 400 ? "…" + output.substr(output.size() - 400) : output;
    throw std::runtime_error(stage + " command " + (code == 124 ? "timed out after " + fmt_fixed(timeout_s, 0) + " s"
                                                                : "exited with status " + std::to_string(code)) +
                             (tail.empty() ? "" : ": " + trim(tail)));
  }
  std::string model = out_dir;
  std::istringstream lines(output);
  for (std::string l; std::getline(lines, l);)
    if (starts_with(l, "reckon-model:")) model = trim(l.substr(13));
  return model;
}

std::function<PointResult(const SweepPoint&)> prepare_command_backend(const SweepContext& c) {
  const auto& cfg = c.grid.backend_config;
  const std::string base = config_text(cfg, "base_model", "", true), sft = config_text(cfg, "sft", "", true),
                    dpo = config_text(cfg, "dpo", "", true), model_tmpl = config_text(cfg, "model", "", true),
                    base_url = config_text(cfg, "base_url", "", false), key_env = config_text(cfg, "api_key_env", "", false);
  const TrainingStyle style = parse_training_style(config_text(cfg, "style", "trl", false));
  const double timeout_s = cfg.value("timeout_s", 3600.0);
  if (!(timeout_s > 0)) throw InputError("sweep backend config: field 'timeout_s' must be positive");
  parse_model_ref(render_template(model_tmpl, {{"model", "x"}}, "sweep backend config field 'model'"));  // fail early
  return [&c, base, sft, dpo, model_tmpl, base_url, key_env, style, timeout_s](const SweepPoint& p) {
    const auto sample = sample_point(p, c.pool.size(), preference_pairs(c.s, c.pool));
    const auto data = route_datasets(c, sample);
    const std::string dir = c.work_dir + "/b" + fmt_fixed(p.budget, 2) + "-f" + fmt_fixed(p.sft_fraction, 3) + "-r" +
                            fmt_fixed(p.cost_ratio, 2) + "-s" + std::to_string(p.seed);
    std::string model = base;
    auto stage = [&](const std::string& name, const std::string& tmpl, auto& train, auto& eval) {
      const std::string out = dir + "/" + name;
      std::error_code ec;
      std::filesystem::remove_all(out, ec);  // a rerun starts the stage afresh
      std::filesystem::create_directories(out, ec);
      write_dataset(out + "/train.jsonl", train, style);
      write_dataset(out + "/eval.jsonl", eval, style);
      const std::map<std::string, std::string> fields = {
          {"train", shell_quote(out + "/train.jsonl")}, {"eval", shell_quote(out + "/eval.jsonl")}, {"out", shell_quote(out)},
          {"base", shell_quote(model)}, {"epochs", std::to_string(c.grid.epochs)}, {"beta", fmt_fixed(c.grid.beta, 4)},
          {"seed", std::to_string(p.seed)}, {"stage", name}};
      model = run_training_stage(render_template(tmpl, fields, "sweep backend config field '" + name + "'"), out, timeout_s, name);
    };
    if (!data.sft.empty()) stage("sft", sft, data.sft, data.sft_eval);
    if (!data.pairs.empty()) {
      const std::vector<PreferenceRecord> no_eval;  // the held-out split is judged by routing, not pair loss
      stage("dpo", dpo, data.pairs, no_eval);
    }
    ModelRef ref = parse_model_ref(render_template(model_tmpl, {{"model", model}}, "sweep backend config field 'model'"));
    ref.params.base_url = base_url;
    ref.params.api_key_env = key_env;
    return judge_model_routes(c, ref);
  };
}

}  // namespace reckon
