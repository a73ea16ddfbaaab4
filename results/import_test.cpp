#include "results/import.h"

#include <catch2/catch.hpp>

#include "common/error.h"
#include "tests/support.h"

using namespace reckon;

namespace {

int64_t scalar_int(Store& s, const std::string& sql) {
  auto q = s.db().prepare(sql);
  q.step();
  return q.int64(0);
}

double scalar_real(Store& s, const std::string& sql) {
  auto q = s.db().prepare(sql);
  q.step();
  return q.real(0);
}

const char* kCsv =
    "model,task,item_id,repeat,input_tokens,cache_read_tokens,output_tokens,reasoning_tokens,score,latency_ms,finish_reason,prompt,response\n"
    "gpt-5-mini,gsm8k,1,0,1000,400,500,300,1,1200,stop,\"What is 2+2, really?\",4\n"
    "claude-opus-4-6,gsm8k,1,0,2000,0,100,,0,900,end_turn,q,\"multi\nline answer\"\n";

}  // namespace

TEST_CASE("CSV logs import priced, with unknown thinking kept NULL", "[import]") {
  test::TempDir tmp;
  std::string csv = tmp.write("log.csv", kCsv);
  Store s(tmp.file("r.db"), Store::Mode::kReadWrite);
  ImportResult r = import_files(s, {csv}, {});
  CHECK(r.inserted == 2);
  CHECK(scalar_real(s, "SELECT cost_usd FROM v_requests WHERE model='gpt-5-mini'") == Approx(0.00116));
  CHECK(scalar_int(s, "SELECT reasoning_tokens IS NULL FROM v_requests WHERE model='claude-opus-4-6'") == 1);
  CHECK(scalar_real(s, "SELECT cost_usd FROM v_requests WHERE model='claude-opus-4-6'") == Approx(2000 * 5e-6 + 100 * 25e-6));
  CHECK(scalar_int(s, "SELECT COUNT(*) FROM v_model_task WHERE task='gsm8k'") == 2);
  CHECK(scalar_real(s, "SELECT accuracy FROM v_model_task WHERE model='gpt-5-mini'") == 1.0);
  CHECK(scalar_int(s, "SELECT COUNT(*) FROM prices") == 2);  // each used entry is kept with the store
}

TEST_CASE("re-importing the same file adds nothing", "[import]") {
  test::TempDir tmp;
  std::string csv = tmp.write("log.csv", kCsv);
  Store s(tmp.file("r.db"), Store::Mode::kReadWrite);
  import_files(s, {csv}, {});
  ImportResult again = import_files(s, {csv}, {});
  CHECK(again.inserted == 0);
  CHECK(again.duplicates == 2);
  CHECK(scalar_int(s, "SELECT COUNT(*) FROM requests") == 2);
}

TEST_CASE("JSONL logs with foreign column names import through --map", "[import]") {
  test::TempDir tmp;
  std::string jl = tmp.write("log.jsonl",
                             "{\"llm\":\"gpt-5-mini\",\"bench\":\"aime\",\"id\":7,\"prompt_tokens\":100,\"completion_tokens\":50,"
                             "\"thinking\":20,\"correct\":0.0}\n\n"
                             "{\"llm\":\"gpt-5-mini\",\"bench\":\"aime\",\"id\":8,\"prompt_tokens\":100,\"completion_tokens\":60,"
                             "\"thinking\":null,\"correct\":1}\n");
  ImportOptions o;
  o.rename = {{"model", "llm"}, {"task", "bench"}, {"item_id", "id"}, {"input_tokens", "prompt_tokens"},
              {"output_tokens", "completion_tokens"}, {"reasoning_tokens", "thinking"}, {"score", "correct"}};
  Store s(tmp.file("r.db"), Store::Mode::kReadWrite);
  CHECK(import_files(s, {jl}, o).inserted == 2);
  CHECK(scalar_int(s, "SELECT SUM(reasoning_tokens) FROM v_requests") == 20);
  CHECK(scalar_real(s, "SELECT accuracy FROM v_model_task") == 0.5);
}

TEST_CASE("a malformed row stops the import, names file, line and field, and leaves nothing behind", "[import]") {
  test::TempDir tmp;
  std::string csv = tmp.write("bad.csv",
                              "model,task,item_id,input_tokens,output_tokens\n"
                              "gpt-5-mini,t,1,10,10\n"
                              "gpt-5-mini,t,2,ten,10\n");
  Store s(tmp.file("r.db"), Store::Mode::kReadWrite);
  CHECK_THROWS_WITH(import_files(s, {csv}, {}),
                    Catch::Contains("bad.csv:3") && Catch::Contains("'input_tokens'") && Catch::Contains("ten"));
  CHECK(scalar_int(s, "SELECT COUNT(*) FROM requests") == 0);
  CHECK(scalar_int(s, "SELECT COUNT(*) FROM runs") == 0);

  std::string ragged = tmp.write("ragged.csv", "model,task,item_id\ngpt-5-mini,t\n");
  CHECK_THROWS_WITH(import_files(s, {ragged}, {}), Catch::Contains("ragged.csv:2") && Catch::Contains("2 fields"));
  std::string missing = tmp.write("missing.csv", "model,task\ngpt-5-mini,t\n");
  CHECK_THROWS_WITH(import_files(s, {missing}, {}), Catch::Contains("missing required field 'item_id'"));
  std::string quote = tmp.write("quote.csv", "model,task,item_id\ngpt-5-mini,t,\"1\n");
  CHECK_THROWS_WITH(import_files(s, {quote}, {}), Catch::Contains("quote.csv") && Catch::Contains("unterminated"));
  std::string json = tmp.write("bad.jsonl", "{\"model\":\"gpt-5-mini\",\"task\":\"t\",\"item_id\":1}\n{oops\n");
  CHECK_THROWS_WITH(import_files(s, {json}, {}), Catch::Contains("bad.jsonl:2") && Catch::Contains("not valid JSON"));
  std::string over = tmp.write("over.csv", "model,task,item_id,input_tokens,output_tokens,reasoning_tokens\ngpt-5-mini,t,1,1,5,9\n");
  CHECK_THROWS_WITH(import_files(s, {over}, {}), Catch::Contains("over.csv:2") && Catch::Contains("reasoning_tokens"));
  std::string latin1 = tmp.write("latin1.csv", "model,task,item_id,response\ngpt-5-mini,t,1,caf\xe9 cr\xe8me\n");
  CHECK_THROWS_WITH(import_files(s, {latin1}, {}),
                    Catch::Contains("latin1.csv:2: field 'response' is not valid UTF-8 (byte 4 of the field)"));
  std::string nul = tmp.write("nul.csv", std::string("model,task,item_id,prompt\ngpt-5-mini,t,1,a") + '\0' + "b\n");
  CHECK_THROWS_WITH(import_files(s, {nul}, {}), Catch::Contains("nul.csv:2: field 'prompt' holds a NUL byte"));
  CHECK(scalar_int(s, "SELECT COUNT(*) FROM requests") == 0);
}

TEST_CASE("an unpriced model fails the import unless --allow-unpriced stores unknown cost", "[import]") {
  test::TempDir tmp;
  std::string csv = tmp.write("u.csv", "model,task,item_id,input_tokens,output_tokens\nmystery-model,t,1,10,10\n");
  Store s(tmp.file("r.db"), Store::Mode::kReadWrite);
  CHECK_THROWS_WITH(import_files(s, {csv}, {}),
                    Catch::Contains("u.csv:2") && Catch::Contains("field 'model': no price for 'mystery-model'"));
  ImportOptions o;
  o.allow_unpriced = true;
  CHECK(import_files(s, {csv}, o).inserted == 1);
  CHECK(scalar_int(s, "SELECT cost_usd IS NULL FROM v_requests") == 1);
}

TEST_CASE("the price-reversal logs import, and reckon's cost equals the authors' on every record", "[import][price-reversal]") {
  std::string dir = test::shared_data(
      "mirror/lchen001/pricing-reversal/69f5f1a0e89ee5bdd6599d46a1bf74a55b22f27d/data/consolidated");
  test::TempDir tmp;
  Store s(tmp.file("r.db"), Store::Mode::kReadWrite);
  ImportResult r = import_files(s, {dir}, {});
  CHECK(r.inserted == 2064);  // (60 AIME + 198 GPQA) x 8 models
  CHECK(scalar_int(s, "SELECT COUNT(DISTINCT model) FROM requests") == 8);
  CHECK(scalar_int(s,
                   "SELECT COUNT(*) FROM requests WHERE abs(cost_usd - json_extract(raw_usage, '$.cost')) > "
                   "1e-9 + 1e-9 * cost_usd") == 0);
  CHECK(scalar_real(s, "SELECT SUM(cost_usd) FROM requests WHERE model='gpt-5-mini' AND task='aime'") == Approx(0.61268125));
}

TEST_CASE("the derived per-query CSV imports with --map to the same costs", "[import][price-reversal]") {
  std::string csv = test::shared_data("price_reversal/per_query_aime_gpqa.csv");
  test::TempDir tmp;
  Store s(tmp.file("r.db"), Store::Mode::kReadWrite);
  ImportOptions o;
  o.rename = {{"item_id", "query_index"}, {"input_tokens", "prompt_tokens"}, {"output_tokens", "completion_tokens"},
              {"reasoning_tokens", "thinking_tokens"}, {"reference", "ground_truth"}};
  CHECK(import_files(s, {csv}, o).inserted == 2064);
  CHECK(scalar_real(s, "SELECT SUM(cost_usd) FROM requests WHERE model='gpt-5-mini' AND task='aime'") == Approx(0.61268125));
}
