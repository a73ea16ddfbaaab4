#include "harness/progress.h"

#include <catch2/catch.hpp>

#include "harness/judging.h"

using namespace reckon;

TEST_CASE("a run stops after 20 calls failing the same way, whatever numbers they quote, and says why once", "[campaign][progress]") {
  FailureStreak s;
  for (int i = 0; i < 10; ++i) CHECK_FALSE(s.add(false, "network: connect failed after " + std::to_string(i) + " ms"));
  CHECK_FALSE(s.add(true, ""));  // an answer breaks the streak
  for (int i = 0; i < 19; ++i) CHECK_FALSE(s.add(false, "network: connect failed after " + std::to_string(i * 7) + " ms"));
  CHECK(s.verdict().empty());
  CHECK(s.add(false, "network: connect failed after 1234 ms"));
  CHECK(s.verdict().find("the last 20 calls all failed the same way (network: connect failed after 1234 ms)") != std::string::npos);
  CHECK_FALSE(s.add(false, "network: connect failed after 5 ms"));  // said once
  FailureStreak mixed;
  for (int i = 0; i < 30; ++i) CHECK_FALSE(mixed.add(false, i % 2 ? "server_error: 500" : "rate_limited: 429"));
  CHECK(mixed.last_cause() == "server_error: 500");
}

TEST_CASE("the judge's verdict is its first word", "[campaign][judge]") {
  CHECK(read_verdict("Yes.").value == 1.0);
  CHECK(read_verdict("  no, because the answer is false").value == 0.0);
  CHECK_FALSE(read_verdict("Maybe").value.has_value());
  CHECK(read_verdict("Maybe").prediction == "judge: unreadable verdict");
}
