#pragma once
// Every provider reckon speaks, by name, in one table: `reckon providers list` prints it.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "providers/adapter.h"
#include "providers/batch_api.h"

namespace reckon {

struct ProviderInfo {
  const char* name;
  const char* family;          // the wire format: openai-chat, anthropic-messages, gemini, replay
  const char* base_url;        // default; a model's base_url parameter overrides it
  const char* api_key_env;     // "" = no key needed (local servers, replay)
  const char* notes;
  std::unique_ptr<Adapter> (*make)(const ModelParams& params);  // nullptr for replay
  const char* base_url_env = "";  // the provider SDK's own variable for its endpoint (OPENAI_BASE_URL), if any
  std::unique_ptr<BatchApi> (*make_batch)(BatchTarget) = nullptr;  // its batch API (batch_api.h), if reckon speaks one
};

// Where a model's requests go: its base_url parameter, else the provider SDK's variable when set, else the
// provider's default. `custom` says whether the user chose it (then an API key is optional).
struct Endpoint {
  std::string url;
  bool custom = false;
};
Endpoint endpoint_of(const ProviderInfo& info, const std::string& base_url_param);

// The variable a model's key is read from (its api_key_env parameter, else the provider's); empty when the
// provider reads none.
std::string api_key_variable(const ProviderInfo& info, const ModelParams& params);
// That variable's name when the key is needed but not set: the provider needs one and the endpoint is its own.
std::optional<std::string> missing_api_key(const ProviderInfo& info, const ModelParams& params);

const std::vector<ProviderInfo>& provider_table();
const ProviderInfo* find_provider(const std::string& name);

}  // namespace reckon
