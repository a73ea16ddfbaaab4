// The shipped dashboards (Datasette metadata, a Grafana dashboard) query reckon's views: every query
// in them runs on a real store and says what `reckon costs` says.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "results/costs.h"
#include "results/import.h"
#include "results/store.h"
#include "tests/support.h"

using namespace reckon;

namespace {

// Every SQL text in a dashboard file: Datasette's canned queries and Grafana's panel targets.
std::vector<std::pair<std::string, std::string>> queries_of(const nlohmann::json& j, const std::string& where = "") {
  std::vector<std::pair<std::string, std::string>> out;
  if (j.is_object()) {
    for (const auto& [key, value] : j.items()) {
      if ((key == "sql" || key == "rawQueryText" || key == "queryText") && value.is_string()) out.emplace_back(where + "/" + key, value);
      for (auto& q : queries_of(value, where + "/" + key)) out.push_back(std::move(q));
    }
  } else if (j.is_array()) {
    for (size_t i = 0; i < j.size(); ++i)
      for (auto& q : queries_of(j[i], where + "/" + std::to_string(i))) out.push_back(std::move(q));
  }
  return out;
}

}  // namespace

TEST_CASE("the Datasette and Grafana dashboards' queries run on a store and count spend as reckon costs does", "[dashboards]") {
  test::TempDir tmp;
  const std::string db = tmp.file("results.db");
  Store store(db, Store::Mode::kReadWrite);
  // Two priced models, one error row: 3 + 2 answers of 1,000 input and 500 output tokens.
  const std::string rows =
      "model,task,item_id,input_tokens,output_tokens,reasoning_tokens,score,status,error\n"
      "openai:gpt-5-mini,gsm8k,1,1000,500,200,1,ok,\n"
      "openai:gpt-5-mini,gsm8k,2,1000,500,300,0,ok,\n"
      "openai:gpt-5-mini,gsm8k,3,1000,500,100,1,ok,\n"
      "openai:gpt-5,gsm8k,1,1000,500,400,1,ok,\n"
      "openai:gpt-5,gsm8k,2,1000,500,250,1,ok,\n"
      "openai:gpt-5,gsm8k,3,0,0,,,error,rate limited\n";
  import_files(store, {tmp.write("r.csv", rows)}, {});
  double paid = 0;
  for (const auto& r : spend(store, {"model"}, std::nullopt)) paid += r.total;
  REQUIRE(paid > 0);
  size_t ran = 0;
  for (const char* file : {"datasette.json", "grafana.json"}) {
    const auto j = nlohmann::json::parse(test::read_file(std::string(RECKON_SOURCE_DIR) + "/dashboards/" + file));
    const auto queries = queries_of(j);
    REQUIRE(queries.size() >= 4);
    for (const auto& [where, sql] : queries) {
      INFO(file << where << ": " << sql);
      auto q = store.db().prepare(sql);  // a typo in a column or view fails here
      int n = 0;
      double spent = 0;
      int spent_col = -1;
      for (int c = 0; c < q.columns(); ++c)
        if (std::string(q.column_name(c)) == "spent_usd") spent_col = c;
      while (q.step()) {
        ++n;
        if (spent_col >= 0 && !q.is_null(spent_col)) spent += q.real(spent_col);
      }
      CHECK(n > 0);  // every panel has something to show on this store
      if (spent_col >= 0 && sql.find("v_costs") != std::string::npos) CHECK(spent == Approx(paid).margin(1e-6));
      ++ran;
    }
  }
  CHECK(ran >= 14);
  // Datasette finds the canned queries under the database's file name.
  const auto ds = nlohmann::json::parse(test::read_file(std::string(RECKON_SOURCE_DIR) + "/dashboards/datasette.json"));
  CHECK(ds["databases"].contains("results"));
}
