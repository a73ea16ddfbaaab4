#include "pipelines/pipeline.h"

#include <algorithm>

#include "common/error.h"
#include "common/text.h"
#include "tasks/extract.h"
#include "tasks/sql_exec.h"
#include "tasks/task.h"

namespace reckon {

size_t majority_vote(const std::vector<std::string>& keys) {
  if (keys.empty()) throw InputError("majority vote over no answers");
  std::map<std::string, std::pair<int, size_t>> tally;  // key → (count, first position)
  for (size_t i = 0; i < keys.size(); ++i) {
    auto [it, fresh] = tally.try_emplace(keys[i], 0, i);
    ++it->second.first;
  }
  const bool any_usable = std::any_of(keys.begin(), keys.end(), [](const std::string& k) { return !k.empty(); });
  const std::pair<int, size_t>* best = nullptr;
  for (const auto& [key, v] : tally) {
    if (any_usable && key.empty()) continue;
    if (!best || v.first > best->first || (v.first == best->first && v.second < best->second)) best = &v;
  }
  return best->second;
}

PipelineRun::PipelineRun(const Pipeline& p, std::map<std::string, std::string> fields, PipelineHooks hooks)
    : p_(p), fields_(std::move(fields)), hooks_(std::move(hooks)) {
  if (p_.steps.empty()) throw InputError("pipeline '" + p_.name + "' has no steps");
  start_step();
}

void PipelineRun::start_step() {
  const PipelineStep& s = p_.steps[step_];
  const std::string where = "pipeline " + p_.name + ", step " + s.name;
  conversation_.clear();
  if (!s.system.empty()) conversation_.push_back({"system", render_template(s.system, fields_, where)});
  conversation_.push_back({"user", render_template(s.user, fields_, where)});
  attempt_ = 0;
  samples_.clear();
  issued_ = false;
}

std::vector<PipelineCall> PipelineRun::next() {
  if (done_ || waiting_ > 0 || issued_) return {};
  const PipelineStep& s = p_.steps[step_];
  std::vector<PipelineCall> out;
  if (s.samples > 1) {
    for (int k = 1; k <= s.samples; ++k) {
      sample_of_call_[next_index_] = k;
      out.push_back({next_index_++, s.name + ".sample" + std::to_string(k), conversation_});
    }
  } else {
    out.push_back({next_index_++, attempt_ == 0 ? s.name : s.name + ".repair" + std::to_string(attempt_), conversation_});
  }
  waiting_ = static_cast<int>(out.size());
  issued_ = true;
  return out;
}

std::string PipelineRun::extract(const std::string& text) const {
  return p_.steps[step_].extract == "sql" ? extract_sql(text) : trim(text);
}

void PipelineRun::answer(int index, const std::optional<std::string>& text, const std::string& error) {
  if (done_) return;
  --waiting_;
  const PipelineStep& s = p_.steps[step_];
  if (!text) {
    failure_ = "step " + s.name + ": " + (error.empty() ? std::string("the call failed") : error);
    done_ = true;
    return;
  }
  const std::string ans = extract(*text);
  if (s.samples > 1) {
    samples_[sample_of_call_.at(index)] = ans;
    if (waiting_ > 0) return;
    std::vector<std::string> answers, keys;
    for (const auto& [k, a] : samples_) {
      answers.push_back(a);
      const bool usable = !(s.checked && hooks_.check && hooks_.check(a));
      keys.push_back(!usable ? "" : hooks_.vote_key ? hooks_.vote_key(a) : normalize_text(a));
    }
    finish_step(answers[majority_vote(keys)]);
    return;
  }
  if (s.checked && hooks_.check) {
    if (auto why = hooks_.check(ans); why && attempt_ < s.repairs) {
      conversation_.push_back({"assistant", *text});
      auto f = fields_;
      f["error"] = *why;
      f["answer"] = ans;
      conversation_.push_back({"user", render_template(s.repair_user, f, "pipeline " + p_.name + ", step " + s.name + " repair")});
      ++attempt_;
      issued_ = false;
      return;
    }
  }
  finish_step(ans);  // usable, or out of repairs: the last answer stands and is scored as it is
}

void PipelineRun::finish_step(const std::string& answer) {
  fields_[p_.steps[step_].name] = answer;
  if (++step_ == p_.steps.size()) {
    final_ = answer;
    done_ = true;
    return;
  }
  start_step();
}

}  // namespace reckon
