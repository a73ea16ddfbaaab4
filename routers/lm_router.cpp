#include "routers/lm_router.h"

#include <stdexcept>

#include "common/error.h"
#include "common/text.h"
#include "providers/client.h"
#include "routers/router.h"

namespace reckon {

std::vector<Message> route_prompt(const std::vector<std::string>& candidates, std::string_view query) {
  std::string names;
  for (const auto& c : candidates) names += (names.empty() ? "" : ", ") + c;
  return {{"system", "Route the user's query to the cheapest model that will answer it correctly. Candidates, cheapest first: " +
                         names + ". Reply with the candidate's name only."},
          {"user", std::string(query)}};
}

std::optional<size_t> named_candidate(const std::vector<std::string>& candidates, const std::string& answer) {
  const std::string a = to_lower(answer);
  std::optional<size_t> best;
  for (size_t k = 0; k < candidates.size(); ++k)
    if (a.find(to_lower(candidates[k])) != std::string::npos && (!best || candidates[k].size() > candidates[*best].size())) best = k;
  return best;
}

namespace {

// `lm`: the fine-tuned model names the candidate; an answer naming none goes to the most capable one,
// as a cautious router would. P(correct) is read as "the chosen one and every costlier one".
class LmRouter : public Router {
 public:
  LmRouter(std::vector<std::string> candidates, std::vector<double> costs)
      : candidates_(std::move(candidates)), costs_(std::move(costs)) {}
  void train(const RoutingSet& s, const std::vector<size_t>& rows, const RouterOptions& opt) override {
    if (!opt.fine_tune)
      throw InputError("the lm router fine-tunes a language model: give `route train --router lm --backend-config FILE.json`");
    const LmTrained t = opt.fine_tune(s, rows);
    model_ = t.model, base_url_ = t.base_url, api_key_env_ = t.api_key_env;
    parse_model_ref(model_);  // fail now, not on the first query
  }
  int choose(const Query& q) const override {
    SystemClock clock;
    ClientOptions co;
    co.max_concurrency = 1;
    co.max_attempts = 4;
    ModelClient client(co, clock);
    ChatRequest req{parse_model_ref(model_), route_prompt(candidates_, q.text)};
    req.model.params.base_url = base_url_;
    req.model.params.api_key_env = api_key_env_;
    req.model.params.temperature = 0;
    req.model.params.max_tokens = 32;
    std::optional<std::string> answer;
    std::string error;
    client.submit(std::move(req), 0, [&](const ChatRequest&, const CallResult& r) {
      if (r.ok) answer = r.completion.text;
      else error = r.error;
    });
    client.run();
    if (!client.fatal_error().empty()) error = client.fatal_error();
    if (!answer) throw std::runtime_error("routing model " + model_ + ": " + (error.empty() ? "no answer" : error));
    return static_cast<int>(named_candidate(candidates_, *answer).value_or(candidates_.size() - 1));
  }
  double escalation(const Query& q) const override { return choose(q); }
  std::vector<double> p_correct(const Query& q) const override { return chosen_and_costlier(choose(q), candidates_.size()); }
  nlohmann::json params() const override {
    return {{"kind", "lm"}, {"candidates", candidates_}, {"costs", costs_}, {"model", model_}, {"base_url", base_url_},
            {"api_key_env", api_key_env_}};
  }
  std::string model_blob() const override { return ""; }
  void restore(const nlohmann::json& j, const std::string&) {
    model_ = j.at("model").get<std::string>();
    base_url_ = j.value("base_url", std::string());
    api_key_env_ = j.value("api_key_env", std::string());
  }

 private:
  std::vector<std::string> candidates_;
  std::vector<double> costs_;
  std::string model_, base_url_, api_key_env_;
};

}  // namespace

std::unique_ptr<Router> make_lm_router(const std::vector<std::string>& candidates, const std::vector<double>& costs) {
  return std::make_unique<LmRouter>(candidates, costs);
}

std::unique_ptr<Router> load_lm_router(const nlohmann::json& j, const std::string& blob) {
  auto r = std::make_unique<LmRouter>(j.at("candidates").get<std::vector<std::string>>(), j.at("costs").get<std::vector<double>>());
  r->restore(j, blob);
  return r;
}

}  // namespace reckon
