#include "providers/key_policy.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>

namespace reckon {

std::string url_host(const std::string& url) {
  size_t start = url.find("://");
  start = start == std::string::npos ? 0 : start + 3;
  size_t end = url.find_first_of("/?#", start);
  std::string authority = url.substr(start, end == std::string::npos ? std::string::npos : end - start);
  if (size_t at = authority.rfind('@'); at != std::string::npos) authority.erase(0, at + 1);
  std::string host;
  if (!authority.empty() && authority[0] == '[') {  // [::1]:8000
    size_t close = authority.find(']');
    host = authority.substr(1, close == std::string::npos ? std::string::npos : close - 1);
  } else {
    host = authority.substr(0, authority.find(':'));
  }
  std::transform(host.begin(), host.end(), host.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return host;
}

namespace {

bool loopback(const std::string& host) {
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

bool provider_reads(const std::string& var) {
  for (const auto& p : provider_table())
    if (*p.api_key_env && var == p.api_key_env) return true;
  return false;
}

bool listed(const std::vector<std::string>& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

}  // namespace

std::optional<std::string> key_policy_violation(const ProviderInfo& info, const ModelParams& params, const KeyPolicy& policy) {
  const std::string var = api_key_variable(info, params);
  if (!params.api_key_env.empty() && !provider_reads(var) && !listed(policy.extra_key_variables, var))
    return "params.api_key_env names " + var + ", which is not a provider's key variable; if it holds a key, allow it with --allow-key-env " + var;
  if (var.empty() || params.base_url.empty() || policy.endpoint_from_user) return std::nullopt;
  const char* key = std::getenv(var.c_str());
  if (!key || !*key) return std::nullopt;  // nothing secret would be sent
  const std::string host = url_host(params.base_url);
  if (host == url_host(info.base_url) || loopback(host) || listed(policy.extra_hosts, host)) return std::nullopt;
  return "params.base_url would send " + var + " to " + (host.empty() ? params.base_url : host) + ", which is not " + info.name +
         "'s host; allow it with --allow-key-host " + host + ", or give the endpoint on the command line";
}

}  // namespace reckon
