#include "harness/plan.h"

#include <catch2/catch.hpp>
#include <set>

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
