#include "harness/plan.h"

#include <catch2/catch.hpp>
#include <set>

#include "common/error.h"
#include "tests/support.h"

using namespace reckon;

namespace {

// Five numbered items; model a asked twice per item, model b once.
Campaign two_models(const test::TempDir& tmp, const std::string& selection) {
  std::string rows;
  for (int i = 0; i < 5; ++i) rows += R"({"q":"item )" + std::to_string(i) + R"(","a":")" + std::to_string(i) + "\"}\n";
  const std::string items = tmp.write("items.jsonl", rows);
  return parse_campaign(nlohmann::json::parse(R"({"name":"p","models":[{"model":"openai:gpt-5.4","repeats":2},"openai:gpt-5-mini"],
      "tasks":[{"name":"t","data":{"file":")" + items + R"("},"reference_field":"a","prompt":{"user":"{q}"},"scorer":"last_number"}],
      "selection":)" + selection + "}"),
                        "p.json");
}

struct Walked {
  std::vector<std::string> order;  // "item/model/repeat"
  std::set<std::string> fingerprints, keys;
};

Walked walk(CampaignPlan& plan) {
  Walked w;
  while (auto cell = plan.next()) {
    w.order.push_back(cell->item->id + "/" + std::to_string(cell->model) + "/" + std::to_string(cell->repeat));
    w.fingerprints.insert(cell->fingerprint);
    w.keys.insert(cell->request_key);
  }
  return w;
}

}  // namespace

TEST_CASE("the plan walks item by item, each item's models and repeats, with one fingerprint per cell", "[campaign][plan]") {
  test::TempDir tmp;
  const Campaign c = two_models(tmp, R"({"limit":3,"seed":1})");
  RunOptions opts;
  CampaignPlan plan(c, opts, "run-1", tmp.file("none.db"));
  CHECK(plan.expected_cells() == 9);  // 3 items × (2 + 1)
  std::vector<std::string> items_seen;
  plan.on_item = [&](size_t task, const Item& it) {
    CHECK(task == 0);
    items_seen.push_back(it.id);
  };
  const Walked w = walk(plan);
  REQUIRE(w.order.size() == 9);
  REQUIRE(items_seen.size() == 3);
  for (size_t i = 0; i < 3; ++i) {  // the models of one item side by side, repeats of a model together
    CHECK(w.order[3 * i] == items_seen[i] + "/0/0");
    CHECK(w.order[3 * i + 1] == items_seen[i] + "/0/1");
    CHECK(w.order[3 * i + 2] == items_seen[i] + "/1/0");
  }
  CHECK(w.fingerprints.size() == 9);
  CHECK(w.keys.size() == 9);  // a repeat is another request
  // The same selection every time, and the walk again from the start gives the same cells.
  plan.rewind();
  const Walked again = walk(plan);
  CHECK(again.order == w.order);
  CHECK(again.fingerprints == w.fingerprints);
  // Another run of the same requests: the same request keys (the response cache), other fingerprints.
  CampaignPlan other(c, opts, "run-2", tmp.file("none.db"));
  const Walked o = walk(other);
  CHECK(o.keys == w.keys);
  for (const auto& f : o.fingerprints) CHECK(w.fingerprints.count(f) == 0);
}

TEST_CASE("shards split the plan: every cell in exactly one shard", "[campaign][plan]") {
  test::TempDir tmp;
  const Campaign c = two_models(tmp, "{}");
  RunOptions whole;
  CampaignPlan all(c, whole, "run-1", tmp.file("none.db"));
  const Walked w = walk(all);
  REQUIRE(w.fingerprints.size() == 15);
  std::set<std::string> seen;
  size_t total = 0;
  for (int i = 0; i < 3; ++i) {
    RunOptions shard;
    shard.shard_index = i, shard.shard_count = 3;
    CampaignPlan part(c, shard, "run-1", tmp.file("none.db"));
    const Walked p = walk(part);
    total += p.fingerprints.size();
    seen.insert(p.fingerprints.begin(), p.fingerprints.end());
  }
  CHECK(total == 15);
  CHECK(seen == w.fingerprints);
}

TEST_CASE("a selection keeps a seeded sample, or the first N when asked", "[campaign][plan]") {
  Selection s;
  s.limit = 4, s.seed = 3;
  const auto a = select_items(10, s), b = select_items(10, s);
  CHECK(a == b);
  CHECK(a.size() == 4);
  CHECK(std::is_sorted(a.begin(), a.end()));
  CHECK(std::set<size_t>(a.begin(), a.end()).size() == 4);
  s.first = true;
  CHECK(select_items(10, s) == std::vector<size_t>{0, 1, 2, 3});
  Selection f;
  f.fraction = 0.25;  // ceil(0.25 × 10) = 3
  CHECK(select_items(10, f).size() == 3);
  CHECK(select_items(2, s).size() == 2);
}

namespace {

// `n` numbered items, model a asked twice per item and model b once.
Campaign many_items(const test::TempDir& tmp, int n) {
  std::string rows;
  for (int i = 0; i < n; ++i) rows += R"({"q":"item )" + std::to_string(i) + R"(","a":")" + std::to_string(i) + "\"}\n";
  const std::string items = tmp.write("items.jsonl", rows);
  return parse_campaign(nlohmann::json::parse(R"({"name":"p","models":[{"model":"openai:gpt-5.4","repeats":2},"openai:gpt-5-mini"],
      "tasks":[{"name":"t","data":{"file":")" + items + R"("},"reference_field":"a","prompt":{"user":"{q}"},"scorer":"last_number"}]})"),
                        "p.json");
}

// What a walk of up to `limit` cells saw, in order: "item:<id>" as on_item was called, "cell:<fingerprint>".
// With `error`, an InputError ends the walk and its message lands there.
std::vector<std::string> trace(CampaignPlan& plan, size_t limit = SIZE_MAX, std::string* error = nullptr) {
  std::vector<std::string> seen;
  plan.on_item = [&](size_t, const Item& it) { seen.push_back("item:" + it.id); };
  try {
    for (size_t n = 0; n < limit; ++n) {
      auto cell = plan.next();
      if (!cell) break;
      seen.push_back("cell:" + cell->fingerprint);
    }
  } catch (const InputError& e) {
    if (!error) throw;
    *error = e.what();
  }
  return seen;
}

}  // namespace

TEST_CASE("planned ahead on a thread of its own, the plan hands out the same cells and items in the same order", "[campaign][plan]") {
  test::TempDir tmp;
  const Campaign c = many_items(tmp, 300);
  RunOptions opts;
  CampaignPlan alone(c, opts, "run-1", tmp.file("none.db"));
  const std::vector<std::string> expected = trace(alone);
  REQUIRE(expected.size() == 300 + 900);  // each item, then its three cells
  CHECK(expected[0].rfind("item:", 0) == 0);
  CHECK(expected[1].rfind("cell:", 0) == 0);

  for (size_t depth : {2, 7, 64, 4096}) {
    INFO("depth " << depth);
    CampaignPlan ahead(c, opts, "run-1", tmp.file("none.db"));
    ahead.plan_ahead(depth);
    CHECK(trace(ahead) == expected);
    CHECK_FALSE(ahead.next());  // the end, again
  }

  SECTION("a rewind midway walks again from the start, still ahead") {
    CampaignPlan ahead(c, opts, "run-1", tmp.file("none.db"));
    ahead.plan_ahead(16);
    const std::vector<std::string> first = trace(ahead, 100);
    REQUIRE(first.size() == 100 + 34);  // 100 cells: 34 items reached (the 34th's first cell is the 100th)
    CHECK(std::equal(first.begin(), first.end(), expected.begin()));
    ahead.rewind();
    CHECK(trace(ahead) == expected);
  }

  SECTION("a row that went bad after the check is thrown from next(), after the cells before it") {
    std::string rows;
    for (int i = 0; i < 300; ++i) rows += i == 200 ? "{not json\n" : R"({"q":"item )" + std::to_string(i) + R"(","a":")" + std::to_string(i) + "\"}\n";
    CampaignPlan a(c, opts, "run-1", tmp.file("none.db")), b(c, opts, "run-1", tmp.file("none.db"));
    tmp.write("items.jsonl", rows);  // changed under the run, after both plans checked it
    a.rewind();
    b.rewind();
    b.plan_ahead(8);
    std::string error_a, error_b;
    const std::vector<std::string> seen_a = trace(a, SIZE_MAX, &error_a), seen_b = trace(b, SIZE_MAX, &error_b);
    CHECK_THAT(error_a, Catch::Contains("items.jsonl"));
    CHECK(seen_a.size() == 200 * 4);  // the 200 items before it, each with its three cells
    CHECK(seen_b == seen_a);
    CHECK(error_b == error_a);
  }
}
