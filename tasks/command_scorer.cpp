#include "tasks/command_scorer.h"

#include <map>
#include <memory>
#include <mutex>

#include "common/json_parse.h"
#include "common/text.h"
#include "tasks/code_exec.h"

namespace reckon {

ScoreResult read_command_reply(const std::string& line) {
  const std::string text = trim(line);
  const std::string shown = text.size() > 120 ? text.substr(0, 120) + "..." : text;
  const nlohmann::json j = parse_json(text, false);
  std::optional<double> value;
  std::string prediction;
  if (j.is_number()) {
    value = j.get<double>();
  } else if (j.is_object() && j.contains("score") && (j["score"].is_number() || j["score"].is_null())) {
    if (j["score"].is_number()) value = j["score"].get<double>();
    if (j.contains("prediction")) prediction = j["prediction"].is_string() ? j["prediction"].get<std::string>() : j["prediction"].dump();
  } else {
    return {std::nullopt, "command: unreadable reply: " + shown};
  }
  if (value && !(*value >= 0 && *value <= 1)) return {std::nullopt, "command: score " + shown + " is outside [0, 1]"};
  return {value, prediction};
}

ScoreResult command_score(const Item& item, const std::string& response) {
  const nlohmann::json& cmd = item.extra.contains("command") ? item.extra["command"] : nlohmann::json();
  if (!cmd.is_array() || cmd.empty()) return {std::nullopt, "command: the task names no command"};
  std::vector<std::string> argv;
  for (const auto& a : cmd) argv.push_back(a.is_string() ? a.get<std::string>() : a.dump());
  const std::string dir = item.extra.value("command_dir", std::string("."));
  SandboxLimits lim;
  lim.wall_s = item.extra.value("command_timeout_s", 30.0);
  lim.cpu_s = 3600;  // over the scorer's whole life: the timeout bounds each answer
  // One process per command and folder, kept for the run; answers are scored one at a time.
  static std::mutex mu;
  static std::map<std::string, std::unique_ptr<SandboxedCommand>> running;
  std::lock_guard<std::mutex> lock(mu);
  auto& proc = running[cmd.dump() + "\n" + dir + "\n" + std::to_string(lim.wall_s)];
  if (!proc) proc = std::make_unique<SandboxedCommand>(argv, dir, lim);
  const nlohmann::json line = {{"id", item.id},
                               {"prompt", item.messages.empty() ? std::string() : item.messages.back().content},
                               {"response", response},
                               {"reference", item.reference},
                               {"fields", item.fields}};
  std::string why;
  const auto reply = proc->ask(line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), &why);
  if (!reply) return {std::nullopt, "command: " + why};
  return read_command_reply(*reply);
}

}  // namespace reckon
