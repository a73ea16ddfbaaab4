#include "common/stats.h"

#include <catch2/catch.hpp>

using namespace reckon;

TEST_CASE("Kendall tau-b matches scipy on untied and tied samples", "[stats]") {
  CHECK(*kendall_tau_b({1, 2, 3, 4}, {1, 3, 2, 4}) == Approx(2.0 / 3.0));
  CHECK(*kendall_tau_b({1, 2, 3}, {3, 2, 1}) == Approx(-1.0));
  // scipy.stats.kendalltau([1,2,2,3],[1,2,3,3]) = 0.8
  CHECK(*kendall_tau_b({1, 2, 2, 3}, {1, 2, 3, 3}) == Approx(0.8));
}

TEST_CASE("Kendall tau-b is undefined for one pair or all ties", "[stats]") {
  CHECK_FALSE(kendall_tau_b({1}, {2}));
  CHECK_FALSE(kendall_tau_b({1, 1, 1}, {1, 2, 3}));
}

TEST_CASE("quantile interpolates and coefficient of variation uses the sample deviation", "[stats]") {
  CHECK(*quantile({4, 1, 3, 2}, 0.5) == Approx(2.5));
  CHECK(*quantile({10}, 0.9) == Approx(10));
  // Unsorted input, worked out by hand: position (n - 1) q between the two order statistics around it.
  CHECK(*quantile({70, 10, 100, 40, 90, 20, 60, 30, 80, 50}, 0.9) == Approx(91));  // 8.1: 90 + 0.1 × 10
  CHECK(*quantile({70, 10, 100, 40, 90, 20, 60, 30, 80, 50}, 0.5) == Approx(55));  // 4.5: between 50 and 60
  CHECK(*quantile({7, 1, 9, 3, 5}, 0.25) == 3);
  CHECK(*quantile({7, 1, 9, 3, 5}, 1.0) == 9);
  CHECK(*quantile({2, 2, 1, 2}, 0.5) == 2);  // ties
  CHECK_FALSE(quantile({}, 0.5));
  CHECK(*coefficient_of_variation({2, 4, 6}) == Approx(2.0 / 4.0));
  CHECK_FALSE(coefficient_of_variation({5}));
}

TEST_CASE("Wilson interval brackets the proportion and stays inside [0,1]", "[stats]") {
  auto ci = wilson_interval(60, 60);
  CHECK(ci.high == Approx(1.0));
  CHECK(ci.low == Approx(0.9398).epsilon(1e-3));
  auto half = wilson_interval(50, 100);
  CHECK(half.low == Approx(0.4038).epsilon(1e-3));
  CHECK(half.high == Approx(0.5962).epsilon(1e-3));
}
