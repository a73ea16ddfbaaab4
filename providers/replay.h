#pragma once
// The `replay` provider: answers from recorded responses, offline and deterministic.
// Sources: a cassette JSONL, an earlier reckon store, or the price-reversal logs. Answers are
// keyed by model and the canonical messages; several recordings of one prompt answer repeats
// 0, 1, 2, ... in order.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "providers/request.h"

namespace reckon {

class ReplaySource {
 public:
  // Cassette lines: {"model": "...", "messages": [{"role","content"}...], "text": "...",
  //  "finish_reason": "...", "usage": {"input_tokens", "output_tokens", "reasoning_tokens",
  //  "cache_read_tokens", "cache_write_tokens"}}. InputError names file and line.
  void load_cassette(const std::string& path);
  // Every ok request with a prompt and a response in a reckon store (prompt = one user message).
  void load_store(const std::string& path);
  // The paper's consolidated logs (a file or a folder): model_name answers each record's prompt.
  void load_price_reversal(const std::string& path);
  // Chooses by the extension / kind of path.
  void load(const std::string& path);

  // The model name is what follows "replay:" (e.g. replay:gpt-5-mini).
  std::optional<Completion> find(const std::string& model, const std::vector<Message>& messages, int64_t repeat) const;
  size_t size() const { return count_; }

  static std::string key(const std::string& model, const std::vector<Message>& messages);

 private:
  void add(const std::string& model, const std::vector<Message>& messages, Completion c);
  std::map<std::string, std::vector<Completion>> answers_;
  size_t count_ = 0;
};

}  // namespace reckon
