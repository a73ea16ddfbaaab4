#pragma once
// Every provider reckon speaks, by name, in one table: `reckon providers list` prints it.
#include <memory>
#include <string>
#include <vector>

#include "providers/adapter.h"

namespace reckon {

struct ProviderInfo {
  const char* name;
  const char* family;          // the wire format: openai-chat, anthropic-messages, gemini, replay
  const char* base_url;        // default; a model's base_url parameter overrides it
  const char* api_key_env;     // "" = no key needed (local servers, replay)
  const char* notes;
  std::unique_ptr<Adapter> (*make)(const ModelParams& params);  // nullptr for replay
};

const std::vector<ProviderInfo>& provider_table();
const ProviderInfo* find_provider(const std::string& name);

}  // namespace reckon
