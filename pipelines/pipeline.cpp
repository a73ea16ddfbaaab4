#include "pipelines/pipeline.h"

#include <algorithm>
#include <set>

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

Pipeline parse_pipeline(const std::string& name, const nlohmann::json& j, const std::string& where) {
  const std::string at = where + ": pipelines." + name;
  if (!j.is_object()) throw InputError(at + " must be an object with 'steps'");
  for (const auto& [k, v] : j.items())
    if (k != "steps" && k != "help") throw InputError(at + ": unknown field '" + k + "'");
  if (!j.contains("steps") || !j["steps"].is_array() || j["steps"].empty()) throw InputError(at + ": field 'steps' must be a non-empty array");
  Pipeline p{name, j.value("help", std::string()), {}};
  std::set<std::string> names;
  for (size_t i = 0; i < j["steps"].size(); ++i) {
    const auto& sj = j["steps"][i];
    const std::string sat = at + ".steps[" + std::to_string(i) + "]";
    if (!sj.is_object()) throw InputError(sat + " must be an object");
    static const std::set<std::string> known{"name", "system", "user", "extract", "checked", "repairs", "repair_user", "samples"};
    for (const auto& [k, v] : sj.items())
      if (!known.count(k)) throw InputError(sat + ": unknown field '" + k + "'");
    PipelineStep st;
    try {
      st.name = sj.at("name").get<std::string>();
      st.user = sj.at("user").get<std::string>();
      st.system = sj.value("system", std::string());
      st.extract = sj.value("extract", std::string("text"));
      st.checked = sj.value("checked", false);
      st.repairs = sj.value("repairs", 0);
      st.repair_user = sj.value("repair_user", st.repair_user);
      st.samples = sj.value("samples", 1);
    } catch (const nlohmann::json::exception&) {
      throw InputError(sat + ": needs string fields 'name' and 'user'; 'checked' a boolean, 'repairs' and 'samples' integers");
    }
    if (st.name.empty() || st.name.find_first_of(" .{}") != std::string::npos) throw InputError(sat + ": 'name' must be a word");
    if (!names.insert(st.name).second) throw InputError(sat + ": step name '" + st.name + "' is used twice");
    if (st.extract != "text" && st.extract != "sql") throw InputError(sat + ": 'extract' must be text or sql");
    if (st.repairs < 0 || st.repairs > 10) throw InputError(sat + ": 'repairs' must be 0-10");
    if (st.samples < 1 || st.samples > 50) throw InputError(sat + ": 'samples' must be 1-50");
    if (st.repairs > 0 && st.samples > 1) throw InputError(sat + ": a step either repairs or samples, not both");
    p.steps.push_back(std::move(st));
  }
  return p;
}

}  // namespace reckon
