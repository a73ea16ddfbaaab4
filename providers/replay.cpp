#include "providers/replay.h"
#include "common/json_parse.h"

#include <filesystem>
#include <fstream>

#include "common/error.h"
#include "common/sha256.h"
#include "common/text.h"
#include "results/store.h"

namespace fs = std::filesystem;

namespace reckon {

std::string ReplaySource::key(const std::string& model, const std::vector<Message>& messages) {
  nlohmann::json j = nlohmann::json::array();
  for (const auto& m : messages) j.push_back({{"role", m.role}, {"content", m.content}});
  return sha256_hex(to_lower(model) + "\n" + j.dump());
}

void ReplaySource::add(const std::string& model, const std::vector<Message>& messages, Completion c) {
  answers_[key(model, messages)].push_back(std::move(c));
  ++count_;
}

std::optional<Completion> ReplaySource::find(const std::string& model, const std::vector<Message>& messages,
                                             int64_t repeat) const {
  auto it = answers_.find(key(model, messages));
  if (it == answers_.end() || it->second.empty()) return std::nullopt;
  // More repeats than recordings: cycle, so a k-repeat campaign over single recordings still runs.
  return it->second[static_cast<size_t>(repeat) % it->second.size()];
}

namespace {

Usage usage_from(const nlohmann::json& u, const std::string& where) {
  Usage out;
  auto num = [&](const char* k) -> std::optional<int64_t> {
    if (!u.contains(k) || u[k].is_null()) return std::nullopt;
    if (!u[k].is_number_integer() || u[k].get<int64_t>() < 0) throw InputError(where + ": usage field '" + k + "' must be a non-negative integer");
    return u[k].get<int64_t>();
  };
  auto in = num("input_tokens"), outp = num("output_tokens");
  out.usage_complete = in && outp;
  out.input_tokens = in.value_or(0);
  out.output_tokens = outp.value_or(0);
  out.reasoning_tokens = num("reasoning_tokens");
  out.cache_read_tokens = num("cache_read_tokens").value_or(0);
  out.cache_write_5m_tokens = num("cache_write_tokens").value_or(0);
  return out;
}

}  // namespace

void ReplaySource::load_cassette(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw InputError(path + ": cannot open cassette");
  std::string line;
  size_t n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (trim(line).empty()) continue;
    std::string where = path + ":" + std::to_string(n);
    auto j = parse_json(line, false);
    if (j.is_discarded() || !j.is_object()) throw InputError(where + ": not a JSON object");
    if (!j.contains("model") || !j["model"].is_string()) throw InputError(where + ": missing string field 'model'");
    if (!j.contains("messages") || !j["messages"].is_array()) throw InputError(where + ": missing array field 'messages'");
    std::vector<Message> msgs;
    for (const auto& m : j["messages"]) {
      if (!m.is_object() || !m.contains("role") || !m.contains("content") || !m["role"].is_string() || !m["content"].is_string())
        throw InputError(where + ": each message needs string 'role' and 'content'");
      msgs.push_back({m["role"].get<std::string>(), m["content"].get<std::string>()});
    }
    Completion c;
    if (j.contains("text") && j["text"].is_string()) c.text = j["text"].get<std::string>();
    if (j.contains("finish_reason") && j["finish_reason"].is_string()) c.finish_reason = j["finish_reason"].get<std::string>();
    c.usage = usage_from(j.value("usage", nlohmann::json::object()), where);
    c.raw_usage = j.value("usage", nlohmann::json::object());
    add(j["model"].get<std::string>(), msgs, std::move(c));
  }
}

void ReplaySource::load_store(const std::string& path) {
  Store store(path, Store::Mode::kReadOnly);
  auto q = store.db().prepare(
      "SELECT model, prompt, response, input_tokens, output_tokens, reasoning_tokens, cache_read_tokens, "
      "cache_write_5m_tokens, cache_write_1h_tokens, finish_reason, usage_complete FROM requests "
      "WHERE status = 'ok' AND prompt IS NOT NULL AND response IS NOT NULL ORDER BY model, item_id, repeat, id");
  while (q.step()) {
    Completion c;
    c.text = q.text(2);
    c.usage.usage_complete = q.int64(10) == 1;
    c.usage.input_tokens = q.opt_int64(3).value_or(0);
    c.usage.output_tokens = q.opt_int64(4).value_or(0);
    c.usage.reasoning_tokens = q.opt_int64(5);
    c.usage.cache_read_tokens = q.opt_int64(6).value_or(0);
    c.usage.cache_write_5m_tokens = q.opt_int64(7).value_or(0);
    c.usage.cache_write_1h_tokens = q.opt_int64(8).value_or(0);
    c.finish_reason = q.text(9);
    std::string model = q.text(0);
    if (auto colon = model.find(':'); colon != std::string::npos) model = model.substr(colon + 1);
    add(model, {{"user", q.text(1)}}, std::move(c));
  }
}

void ReplaySource::load_price_reversal(const std::string& path) {
  std::vector<std::string> files;
  if (fs::is_directory(path)) {
    for (const auto& e : fs::directory_iterator(path))
      if (e.path().extension() == ".json") files.push_back(e.path().string());
    std::sort(files.begin(), files.end());
  } else {
    files.push_back(path);
  }
  for (const auto& f : files) {
    std::ifstream in(f);
    auto j = parse_json(in, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("model_name") || !j.contains("records") || !j["records"].is_array())
      throw InputError(f + ": not a price-reversal log (needs model_name and records)");
    std::string model = j["model_name"].get<std::string>();
    size_t i = 0;
    for (const auto& r : j["records"]) {
      std::string where = f + ": records[" + std::to_string(i++) + "]";
      if (!r.is_object() || !r.contains("prompt") || !r["prompt"].is_string()) throw InputError(where + ": missing string field 'prompt'");
      Completion c;
      if (r.contains("raw_output") && r["raw_output"].is_string()) c.text = r["raw_output"].get<std::string>();
      nlohmann::json u{{"input_tokens", r.value("prompt_tokens", nlohmann::json())},
                       {"output_tokens", r.value("completion_tokens", nlohmann::json())},
                       {"reasoning_tokens", r.value("thinking_tokens", nlohmann::json())}};
      c.usage = usage_from(u, where);
      c.raw_usage = u;
      add(model, {{"user", r["prompt"].get<std::string>()}}, std::move(c));
    }
  }
}

void ReplaySource::load(const std::string& path) {
  if (fs::is_directory(path) || ends_with(to_lower(path), ".json")) {
    load_price_reversal(path);
  } else if (ends_with(to_lower(path), ".jsonl")) {
    load_cassette(path);
  } else {
    load_store(path);
  }
}

}  // namespace reckon
