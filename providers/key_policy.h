#pragma once
// Where a key may go. A campaign file is often someone else's (a repository's, run by CI): it may not
// read an arbitrary environment variable as a key (`"api_key_env": "AWS_SECRET_ACCESS_KEY"`), nor send a
// key to a host that is not its provider's. The user widens both on the command line, never in the file.
#include <optional>
#include <string>
#include <vector>

#include "providers/registry.h"

namespace reckon {

struct KeyPolicy {
  std::vector<std::string> extra_key_variables;  // --allow-key-env
  std::vector<std::string> extra_hosts;          // --allow-key-host
  bool endpoint_from_user = false;               // the base URL came from the command line (then it is the user's choice)
};

// The host of an http(s) URL, lowercased, without port or user info ("" when there is none).
std::string url_host(const std::string& url);

// Why `params` (as a campaign file gave them) would send a secret where the user did not mean it, or
// nullopt. A key variable must be one a provider reads, or allowed; a key that is set goes only to the
// provider's own host, loopback, a host allowed, or an endpoint the user gave (command line, or the
// provider SDK's variable such as OPENAI_BASE_URL).
std::optional<std::string> key_policy_violation(const ProviderInfo& info, const ModelParams& params, const KeyPolicy& policy);

}  // namespace reckon
