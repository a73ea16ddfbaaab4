// The openai backend: OpenAI's fine-tuning API. Per point: upload the datasets (purpose
// fine-tune), a supervised job from the base model, then a DPO job (β) from the SFT result (or the
// base), each polled until it ends; the resulting ft: model routes the held-out queries.
//
// backend_config: base_model; optional base_url (https://api.openai.com/v1), api_key_env
// (OPENAI_API_KEY), poll_s (15), max_wait_s (86400), suffix.
#include <chrono>
#include "common/json_parse.h"
#include <cstdlib>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "common/error.h"
#include "common/text.h"
#include "providers/http_engine.h"
#include "sweeps/backend.h"

namespace reckon {

namespace {

class FineTuningApi {
 public:
  FineTuningApi(std::string base_url, std::string key_env, double poll_s, double max_wait_s)
      : base_(std::move(base_url)), key_env_(std::move(key_env)), poll_s_(poll_s), max_wait_s_(max_wait_s) {}

  std::string upload(const std::string& name, const std::string& jsonl) {
    const std::string boundary = "reckon-" + std::to_string(std::chrono::steady_clock::now().time_since_epoch().count());
    std::string body = "--" + boundary + "\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nfine-tune\r\n";
    body += "--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"" + name +
            "\"\r\nContent-Type: application/jsonl\r\n\r\n" + jsonl + "\r\n--" + boundary + "--\r\n";
    return call("POST", "/files", body, "multipart/form-data; boundary=" + boundary).at("id").get<std::string>();
  }

  // Creates a job and waits for it; returns the fine-tuned model's name.
  std::string train(const nlohmann::json& job) {
    const auto created = call("POST", "/fine_tuning/jobs", job.dump(), "application/json");
    const std::string id = created.at("id").get<std::string>();
    const auto start = std::chrono::steady_clock::now();
    nlohmann::json j = created;
    for (;;) {
      const std::string status = j.value("status", "");
      if (status == "succeeded") {
        if (!j.contains("fine_tuned_model") || !j["fine_tuned_model"].is_string())
          throw std::runtime_error("fine-tuning job " + id + " succeeded without a fine_tuned_model");
        return j["fine_tuned_model"].get<std::string>();
      }
      if (status == "failed" || status == "cancelled") {
        std::string why = status;
        if (j.contains("error") && j["error"].is_object() && j["error"].contains("message") && j["error"]["message"].is_string())
          why += ": " + j["error"]["message"].get<std::string>();
        throw std::runtime_error("fine-tuning job " + id + " " + why);
      }
      if (std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() > max_wait_s_)
        throw std::runtime_error("fine-tuning job " + id + " still '" + status + "' after " + fmt_fixed(max_wait_s_, 0) + " s");
      std::this_thread::sleep_for(std::chrono::duration<double>(poll_s_));
      j = call("GET", "/fine_tuning/jobs/" + id, "", "");
    }
  }

 private:
  // One control-plane call; transient failures (429, 5xx, connection) are retried a few times.
  nlohmann::json call(const std::string& method, const std::string& path, const std::string& body, const std::string& type) {
    const char* key = std::getenv(key_env_.c_str());
    if (!key || !*key) throw InputError("the openai sweep backend needs the API key in " + key_env_);
    HttpRequest req{base_ + path, {{"Authorization", std::string("Bearer ") + key}}, body, method};
    if (!type.empty()) req.headers.emplace_back("Content-Type", type);
    std::string last;
    for (int attempt = 1; attempt <= 4; ++attempt) {
      const HttpResponse r = http_call(req, 300);
      if (r.transport_error.empty() && r.status < 300) {
        auto j = parse_json(r.body, false);
        if (!j.is_object()) throw std::runtime_error(method + " " + path + ": the answer is not a JSON object");
        return j;
      }
      last = r.transport_error.empty() ? "HTTP " + std::to_string(r.status) : r.transport_error;
      auto err = parse_json(r.body, false);
      if (err.is_object() && err.contains("error") && err["error"].is_object() && err["error"].value("message", "") != "")
        last += ": " + err["error"]["message"].get<std::string>();
      const bool transient = !r.transport_error.empty() || r.status == 429 || r.status >= 500;
      if (!transient) break;
      std::this_thread::sleep_for(std::chrono::duration<double>(poll_s_ * attempt));
    }
    throw std::runtime_error(method + " " + path + " failed: " + last);
  }

  std::string base_, key_env_;
  double poll_s_, max_wait_s_;
};

std::string as_jsonl(const auto& records) {
  std::ostringstream o;
  write_jsonl(records, TrainingStyle::kOpenAI, o);
  return o.str();
}

}  // namespace

std::function<PointResult(const SweepPoint&)> prepare_openai_backend(const SweepContext& c) {
  const auto& cfg = c.grid.backend_config;
  if (!cfg.contains("base_model") || !cfg["base_model"].is_string())
    throw InputError("sweep backend config: field 'base_model' is required (e.g. gpt-4.1-nano-2025-04-14)");
  const std::string base_model = cfg["base_model"].get<std::string>();
  const std::string base_url = cfg.value("base_url", std::string("https://api.openai.com/v1"));
  const std::string key_env = cfg.value("api_key_env", std::string("OPENAI_API_KEY"));
  const std::string suffix = cfg.value("suffix", std::string("reckon"));
  const double poll_s = cfg.value("poll_s", 15.0), max_wait_s = cfg.value("max_wait_s", 86400.0);
  if (!(poll_s > 0) || !(max_wait_s > 0)) throw InputError("sweep backend config: 'poll_s' and 'max_wait_s' must be positive");
  return [&c, base_model, base_url, key_env, suffix, poll_s, max_wait_s](const SweepPoint& p) {
    const auto sample = sample_point(p, c.pool.size(), preference_pairs(c.s, c.pool));
    const auto data = route_datasets(c, sample);
    FineTuningApi api(base_url, key_env, poll_s, max_wait_s);
    std::string model = base_model;
    if (!data.sft.empty()) {
      const std::string train = api.upload("sft_train.jsonl", as_jsonl(data.sft));
      const std::string eval = api.upload("sft_eval.jsonl", as_jsonl(data.sft_eval));
      model = api.train({{"model", model}, {"training_file", train}, {"validation_file", eval}, {"seed", p.seed}, {"suffix", suffix},
                         {"method", {{"type", "supervised"}, {"supervised", {{"hyperparameters", {{"n_epochs", c.grid.epochs}}}}}}}});
    }
    if (!data.pairs.empty()) {
      const std::string train = api.upload("dpo_train.jsonl", as_jsonl(data.pairs));
      model = api.train({{"model", model}, {"training_file", train}, {"seed", p.seed}, {"suffix", suffix},
                         {"method", {{"type", "dpo"}, {"dpo", {{"hyperparameters", {{"beta", c.grid.beta}, {"n_epochs", c.grid.epochs}}}}}}}});
    }
    ModelRef ref{"openai", model, {}};
    ref.params.base_url = base_url;
    ref.params.api_key_env = key_env;
    return judge_model_routes(c, ref);
  };
}

}  // namespace reckon
