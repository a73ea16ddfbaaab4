#include "providers/request.h"

#include <catch2/catch.hpp>

#include <filesystem>
#include <random>

#include "tests/support.h"

namespace reckon {
namespace {

// The canonical form as request keys were first defined: an nlohmann object (keys sorted), dumped.
std::string as_first_defined(const ModelRef& model, const std::vector<Message>& messages) {
  const ModelParams& p = model.params;
  nlohmann::json j;
  j["model"] = model.name();
  j["messages"] = nlohmann::json::array();
  for (const auto& m : messages) j["messages"].push_back({{"role", m.role}, {"content", m.content}});
  if (p.temperature) j["temperature"] = *p.temperature;
  if (p.max_tokens) j["max_tokens"] = *p.max_tokens;
  if (!p.reasoning_effort.empty()) j["reasoning_effort"] = p.reasoning_effort;
  if (p.thinking_budget) j["thinking_budget"] = *p.thinking_budget;
  if (p.api != "chat") j["api"] = p.api;
  if (p.service_tier != ServiceTier::kStandard) j["service_tier"] = to_string(p.service_tier);
  return j.dump();
}

// Both texts, or the same refusal (invalid UTF-8 in any string).
void same_as_first_defined(const ModelRef& model, const std::vector<Message>& messages) {
  std::string want, got, want_error, got_error;
  try {
    want = as_first_defined(model, messages);
  } catch (const nlohmann::json::exception& e) {
    want_error = e.what();
  }
  try {
    got = canonical_request_text(model, messages);
  } catch (const nlohmann::json::exception& e) {
    got_error = e.what();
  }
  REQUIRE(got_error == want_error);
  REQUIRE(got == want);
}

}  // namespace

TEST_CASE("the canonical request text is sorted JSON without spaces, every parameter that changes the answer in it", "[request]") {
  ModelRef m{"openai", "gpt-5.4", {}};
  const std::vector<Message> msgs{{"system", "Be brief."}, {"user", "Say \"hi\"\n\tthen \\ stop\x01 \xC3\xA9\x7F"}};
  CHECK(canonical_request_text(m, msgs) ==
        "{\"messages\":[{\"content\":\"Be brief.\",\"role\":\"system\"},"
        "{\"content\":\"Say \\\"hi\\\"\\n\\tthen \\\\ stop\\u0001 \xC3\xA9\x7F\",\"role\":\"user\"}],\"model\":\"openai:gpt-5.4\"}");
  m.params.temperature = 0.5;
  m.params.max_tokens = 100;
  m.params.reasoning_effort = "low";
  m.params.thinking_budget = 2048;
  m.params.api = "responses";
  m.params.service_tier = ServiceTier::kFlex;
  m.params.base_url = "http://127.0.0.1:1/v1";  // where it is sent does not change the answer
  m.params.api_key_env = "OTHER_KEY";
  CHECK(canonical_request_text(m, {{"user", "x"}}) ==
        "{\"api\":\"responses\",\"max_tokens\":100,\"messages\":[{\"content\":\"x\",\"role\":\"user\"}],\"model\":\"openai:gpt-5.4\","
        "\"reasoning_effort\":\"low\",\"service_tier\":\"flex\",\"temperature\":0.5,\"thinking_budget\":2048}");
  m.params = {};
  m.params.temperature = 1.0;
  CHECK(canonical_request_text(m, {}) == "{\"messages\":[],\"model\":\"openai:gpt-5.4\",\"temperature\":1.0}");
}

TEST_CASE("the canonical request text is byte for byte the form request keys were first made from", "[request]") {
  // Real text: every recorded provider body, as message content and as pieces of mutated content.
  std::vector<std::string> texts{"", "plain", "tab\there", "\"quoted\"", "back\\slash", "\x1f\x7f", "caf\xC3\xA9 \xF0\x9F\x98\x80"};
  for (const auto& entry : std::filesystem::recursive_directory_iterator(test::shared_data("fixtures"))) {
    if (!entry.is_regular_file() || texts.size() > 200) continue;
    texts.push_back(test::read_file(entry.path().string()).substr(0, 4000));
  }
  REQUIRE(texts.size() > 100);
  std::mt19937 rng(20261203);
  const std::vector<std::string> pieces{"\x80", "\xC3", "\xED\xA0\x80", "\xF4\x90\x80\x80", "\xC0\xAF", "\x00", "\n", "\\u", "\"", "\xE2\x82\xAC"};
  std::vector<ModelParams> params(6);
  params[1].temperature = 0.1;
  params[2].temperature = 1e-5, params[2].max_tokens = 0, params[2].thinking_budget = -1;
  params[3].api = "responses", params[3].reasoning_effort = "high", params[3].service_tier = ServiceTier::kPriority;
  params[4].temperature = 2.5e300, params[4].max_tokens = 9223372036854775807LL;
  params[5].service_tier = ServiceTier::kBatch, params[5].api = "ch\xC3\xA0t";
  int refused = 0;
  for (size_t i = 0; i < texts.size(); ++i) {
    for (const auto& p : params) {
      ModelRef m{"anthropic", i % 2 ? "claude-\"opus\"" : "claude-opus-4-6", p};
      same_as_first_defined(m, {{"system", texts[(i + 7) % texts.size()]}, {"user", texts[i]}});
    }
    for (int k = 0; k < 20; ++k) {
      std::string content = test::mutate(texts[i], rng, pieces);
      ModelRef m{"openai", "gpt-5.4", params[static_cast<size_t>(k) % params.size()]};
      try {
        as_first_defined(m, {{"user", content}});
      } catch (const nlohmann::json::exception&) {
        ++refused;
      }
      same_as_first_defined(m, {{"user", content}, {"assistant", texts[(i + k) % texts.size()]}});
    }
  }
  CHECK(refused > 100);  // invalid UTF-8 was among the inputs, and both refused it alike
}

}  // namespace reckon
