#include "harness/judging.h"

#include "common/sha256.h"
#include "common/text.h"

namespace reckon {

ScoreResult read_verdict(const std::string& text) {
  const std::string word = to_lower(trim(text)).substr(0, 3);
  if (starts_with(word, "yes")) return ScoreResult{1.0, "judge: yes"};
  if (starts_with(word, "no")) return ScoreResult{0.0, "judge: no"};
  return ScoreResult{std::nullopt, "judge: unreadable verdict"};
}

void JudgeCalls::grade(RequestRecord answer, const Cell* cell) {
  const Item& item = *cell->item;
  auto list = [](const nlohmann::json& a) {
    std::string out;
    for (const auto& x : a) out += (out.empty() ? "" : "; ") + x.get<std::string>();
    return out;
  };
  std::string prompt = render_template(c_.tasks[cell->task].judge_prompt,
                                       {{"question", item.extra.value("question", item.messages.back().content)},
                                        {"answer", answer.response.value_or("")},
                                        {"correct", list(item.extra.value("correct", nlohmann::json::array()))},
                                        {"incorrect", list(item.extra.value("incorrect", nlohmann::json::array()))}},
                                       "judge prompt");
  jobs_.push_back({std::move(answer), cell});
  Job* job = &jobs_.back();
  tags_.insert(job);
  ChatRequest jr{*c_.judge, {{"user", prompt}}};
  client_.submit(jr, 0, [this, job](const ChatRequest& req, const CallResult& res) {
    std::optional<ScoreResult> verdict;
    if (res.attempts > 0) {
      RequestRecord j;
      j.fingerprint = sha256_hex(job->answer.fingerprint + "\njudge");
      j.model = c_.judge->name();
      j.task = job->answer.task;
      j.item_id = job->answer.item_id;
      j.repeat = job->answer.repeat;
      j.step = "judge";
      record_outcome(j, res);
      j.prompt = prompt_text(req.messages);
      recorder_.price(j, judge_price_, c_.judge->params.service_tier);
      if (res.ok) {
        verdict = read_verdict(res.completion.text);
        ++report_.judged;
      }
      recorder_.write(std::move(j));
    }
    recorder_.finish(std::move(job->answer), *job->cell, verdict ? verdict : ScoreResult{std::nullopt, "judge: no verdict"});
    graded_(job->cell);
  }, job);
}

}  // namespace reckon
