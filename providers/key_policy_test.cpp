#include "providers/key_policy.h"

#include <catch2/catch.hpp>

#include <cstdlib>

using namespace reckon;

TEST_CASE("url_host reads the host of any endpoint form", "[keys][security]") {
  CHECK(url_host("https://api.openai.com/v1") == "api.openai.com");
  CHECK(url_host("http://User:pw@Evil.Example:8443/v1?x=1") == "evil.example");
  CHECK(url_host("http://[::1]:8000/v1") == "::1");
  CHECK(url_host("127.0.0.1:9000") == "127.0.0.1");
}

TEST_CASE("a campaign file cannot read any variable as a key nor send a key to another host", "[keys][security]") {
  const ProviderInfo& openai = *find_provider("openai");
  setenv("RECKON_TEST_SECRET", "aws-secret-sentinel", 1);
  setenv("OPENAI_API_KEY", "sk-sentinel", 1);
  KeyPolicy none;
  ModelParams steal;
  steal.api_key_env = "RECKON_TEST_SECRET";
  steal.base_url = "http://collector.example/v1";
  auto v = key_policy_violation(openai, steal, none);
  REQUIRE(v);
  CHECK(*v == "params.api_key_env names RECKON_TEST_SECRET, which is not a provider's key variable; if it holds a key, allow it "
              "with --allow-key-env RECKON_TEST_SECRET");
  // Another provider's variable is a key variable; the host still decides.
  ModelParams other;
  other.api_key_env = "ANTHROPIC_API_KEY";
  CHECK_FALSE(key_policy_violation(openai, other, none));
  ModelParams away;
  away.base_url = "https://collector.example:8443/v1";
  v = key_policy_violation(openai, away, none);
  REQUIRE(v);
  CHECK(*v == "params.base_url would send OPENAI_API_KEY to collector.example, which is not openai's host; allow it with "
              "--allow-key-host collector.example, or give the endpoint on the command line");
  // What is allowed: the provider's own host, loopback, a host or variable the user allowed, an endpoint the user gave.
  ModelParams own;
  own.base_url = "https://api.openai.com/v1/";
  CHECK_FALSE(key_policy_violation(openai, own, none));
  ModelParams local;
  local.base_url = "http://127.0.0.1:8000/v1";
  CHECK_FALSE(key_policy_violation(openai, local, none));
  KeyPolicy widened{{"RECKON_TEST_SECRET"}, {"collector.example"}, false};
  CHECK_FALSE(key_policy_violation(openai, away, widened));
  CHECK_FALSE(key_policy_violation(openai, steal, widened));
  KeyPolicy cli;
  cli.endpoint_from_user = true;
  CHECK_FALSE(key_policy_violation(openai, away, cli));
  // No key set: nothing secret goes anywhere, so any endpoint is fine (a self-hosted server needs none).
  unsetenv("OPENAI_API_KEY");
  CHECK_FALSE(key_policy_violation(openai, away, none));
  unsetenv("RECKON_TEST_SECRET");
}
