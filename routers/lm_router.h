#pragma once
// A language model as the router (EllieSQL's strongest routers are fine-tuned Qwen2.5 classifiers):
// fine-tuned elsewhere on "which candidate?" chats (`route train --router lm --backend-config FILE`,
// the sweeps' command backend: TRL, axolotl, a script of yours), then asked through any provider —
// typically a vLLM server — one short chat per query.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/message.h"

namespace reckon {

// Routing as a chat: the query, and the candidate to send it to as the answer.
std::vector<Message> route_prompt(const std::vector<std::string>& candidates, std::string_view query);
// The candidate an answer names: the longest name found in it (so "gpt-4o" is not read as "gpt-4").
std::optional<size_t> named_candidate(const std::vector<std::string>& candidates, const std::string& answer);

}  // namespace reckon
