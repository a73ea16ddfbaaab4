#include "tests/fuzz/targets.h"

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "common/csv.h"
#include "common/json_parse.h"
#include "common/text.h"
#include "common/error.h"
#include "harness/campaign.h"
#include "harness/plan.h"
#include "tasks/command_scorer.h"
#include "pricing/catalog.h"
#include "pricing/catalog_import.h"
#include "pricing/cost.h"
#include "providers/adapter.h"
#include "providers/batch_api.h"
#include "providers/anthropic.h"
#include "providers/gemini.h"
#include "providers/http1_response.h"
#include "providers/openai.h"
#include "results/import.h"
#include "routers/data.h"
#include "selectors/matrix.h"
#include "selectors/selector.h"
#include "selectors/stored.h"
#include "selectors/scales.h"
#include "tasks/extract.h"
#include "tasks/sql_exec.h"
#include "tasks/task.h"

namespace reckon::fuzz {
namespace {

std::string text(const uint8_t* d, size_t n) { return std::string(reinterpret_cast<const char*>(d), n); }

std::string temp_file(const std::string& suffix, const std::string& content) {
  std::string path = "/tmp/reckon-fuzz-" + std::to_string(getpid()) + suffix;
  std::ofstream(path, std::ios::binary) << content;
  return path;
}

}  // namespace

int csv(const uint8_t* d, size_t n) {
  std::istringstream in(text(d, n));
  CsvReader r(in);
  try {
    while (auto rec = r.next()) {
      for (const auto& f : rec->fields) (void)csv_escape(f);
    }
  } catch (const InputError&) {
  }
  return 0;
}

int sse(const uint8_t* d, size_t n) {
  std::string input = text(d, n);
  std::vector<std::unique_ptr<Adapter>> adapters;
  adapters.push_back(make_openai_chat(Dialect::kOpenAI));
  adapters.push_back(make_openai_chat(Dialect::kXai));
  adapters.push_back(make_openai_chat(Dialect::kDeepSeek));
  adapters.push_back(make_openai_chat(Dialect::kOpenRouter));
  adapters.push_back(make_openai_chat(Dialect::kKimi));
  adapters.push_back(make_openai_responses());
  adapters.push_back(make_anthropic());
  adapters.push_back(make_gemini());
  for (const auto& a : adapters) {
    try {
      (void)a->parse(input);
    } catch (const BadResponse&) {
    } catch (const nlohmann::json::exception&) {  // a value of the wrong type: the client reports it as a bad response
    }
    auto dec = a->decoder();
    SseParser p([&](const SseEvent& e) {
      try {
        dec->on_event(e);
      } catch (const BadResponse&) {
      } catch (const nlohmann::json::exception&) {
      }
    });
    // Split the input in two at a byte chosen by the input itself.
    size_t cut = n ? d[0] % (n + 1) : 0;
    p.feed(input.data(), cut);
    p.feed(input.data() + cut, n - cut);
    p.finish();
    Completion c = dec->completion();
    // Usage is kept as reported; whatever breaks the rules is flagged, and never priced below zero.
    if (c.usage.usage_complete && c.usage.reasoning_tokens && *c.usage.reasoning_tokens > c.usage.output_tokens &&
        !usage_inconsistency(c.usage))
      __builtin_trap();
    if (c.usage.usage_complete && c.usage.input_tokens >= 0 && c.usage.output_tokens >= 0) {
      PriceEntry e;
      e.model = "fuzz";
      e.base.input = e.base.output = 1;
      try {
        const CostBreakdown cb = cost(c.usage, e);
        if (cb.input_usd < 0 || cb.output_usd < 0 || cb.reasoning_usd < 0) __builtin_trap();
      } catch (const InputError&) {  // negative counts are refused, not priced
      }
    }
  }
  return 0;
}

int import_jsonl(const uint8_t* d, size_t n) {
  std::string input = text(d, n);
  bool as_csv = n && (d[0] & 1);
  std::string path = temp_file(as_csv ? ".csv" : ".jsonl", input);
  try {
    Store s(":memory:", Store::Mode::kReadWrite);
    ImportOptions o;
    o.allow_unpriced = (n > 1 && (d[1] & 1));
    import_files(s, {path}, o);
  } catch (const InputError&) {
  }
  unlink(path.c_str());
  return 0;
}

int catalog(const uint8_t* d, size_t n) {
  std::string input = text(d, n);
  try {
    PriceCatalog c = PriceCatalog::from_json_text(input, "fuzz");
    Usage u;
    u.input_tokens = 300000;
    u.cache_read_tokens = 1000;
    u.output_tokens = 5000;
    u.reasoning_tokens = 4000;
    for (const auto& e : c.entries()) (void)cost(u, e);
  } catch (const InputError&) {
  }
  std::string path = temp_file(".json", input);
  try {
    PriceCatalog c = import_litellm(path, "2026-01-01");
    for (const auto& e : c.entries()) (void)e.listed_price();
  } catch (const InputError&) {
  }
  try {
    (void)import_model_info(path);
  } catch (const InputError&) {
  }
  unlink(path.c_str());
  return 0;
}

int campaign(const uint8_t* d, size_t n) {
  auto j = nlohmann::json::parse(text(d, n), nullptr, false);
  if (j.is_discarded()) return 0;
  try {
    const Campaign c = parse_campaign(j, "fuzz");
    // Its prompt variants rendered over an item, as the plan does before anything is sent.
    Item it;
    it.messages = {{"system", "s"}, {"user", "q"}};
    it.fields = {{"q", "question"}};
    for (const auto& v : c.prompts) {
      try {
        (void)variant_messages(it, v, "fuzz");
      } catch (const InputError&) {
      }
    }
  } catch (const InputError&) {
  }
  try {
    (void)parse_task_spec(j, "fuzz");
  } catch (const InputError&) {
  }
  return 0;
}

int extract(const uint8_t* d, size_t n) {
  std::string input = text(d, n);
  (void)extract_last_number(input);
  (void)extract_boxed(input);
  (void)normalize_math(input);
  (void)extract_choice(input);
  (void)extract_code_block(input);
  (void)extract_sql(input);
  (void)normalize_text(input);
  Item it;
  it.reference = input.substr(0, input.size() / 2);
  for (const char* s : {"exact", "normalized", "last_number", "boxed", "choice"}) (void)find_scorer(s)->score(it, input);
  (void)read_command_reply(input);  // a user's scorer program's reply line
  try {
    (void)parse_scale_levels(input);  // an annotator's answer: Scales++ demand levels
  } catch (const InputError&) {
  }
  return 0;
}

int matrix(const uint8_t* d, size_t n) {
  const std::string path = temp_file(".csv", text(d, n));
  try {
    const ResponseMatrix m = read_response_matrix(path);
    if (m.y.size() <= 400) {  // keep each input fast: exercise selection on small matrices
      SelectionContext ctx(m.y, m.items, nullptr, IrtOptions{1, 20, 0.1, 1});
      const int budget = std::min(3, static_cast<int>(m.items.size()));
      for (const char* method : {"random", "anchor", "irt"}) {
        const Plan p = find_selector(method).select(ctx, budget, 1);
        std::vector<double> scores;
        for (int j : p.items) scores.push_back(m.y(0, j));
        (void)p.estimate(scores);
      }
    }
  } catch (const InputError&) {
  }
  try {
    (void)read_response_matrix(path, {"question_id", "", true});  // ADeLe's layout: a row per item
  } catch (const InputError&) {
  }
  try {
    (void)load_outcomes(path, {{"weak", "strong"}});
  } catch (const InputError&) {
  }
  try {  // EllieSQL's shape: cascade labels, two text columns, feature and split columns
    OutcomesOptions o;
    o.candidates = {"basic", "intermediate", "advanced"};
    o.text_column = "question,evidence";
    o.id_column = "bird_question_id";
    o.feature_columns = {"n_linked_tables", "n_linked_columns"};
    (void)load_outcomes(path, o);
  } catch (const InputError&) {
  }
  try {
    (void)read_published_levels(path, "question_id");
  } catch (const InputError&) {
  }
  std::remove(path.c_str());
  return 0;
}

int json(const uint8_t* d, size_t n) {
  const std::string input = text(d, n);
  // Whatever parses can be copied and printed (the recursion a deep value would overflow).
  const nlohmann::json j = parse_json(input, false);
  if (!j.is_discarded()) {
    const nlohmann::json copy = j;
    (void)copy.dump();
  }
  // Repair yields valid UTF-8 that JSON can print, and leaves valid text as it was.
  const std::string fixed = valid_utf8(input);
  if (invalid_utf8_at(fixed)) std::abort();
  if (!invalid_utf8_at(input) && fixed != input) std::abort();
  (void)nlohmann::json(fixed).dump();
  return 0;
}

// The first byte picks the reader; the rest is what the provider sent. Only BatchError may come out, and
// every item read has its kind and, when answered, a result that is ok or says why not.
int batch(const uint8_t* d, size_t n) {
  if (n == 0) return 0;
  const std::string body = text(d + 1, n - 1);
  static const auto openai = make_openai_chat(Dialect::kOpenAI);
  static const auto anthropic = make_anthropic();
  static const auto gemini = make_gemini();
  try {
    std::vector<BatchItemResult> items;
    switch (d[0] % 4) {
      case 0: items = read_openai_batch_file(*openai, body, "fuzz"); break;
      case 1: items = read_anthropic_batch_results(*anthropic, body, "fuzz"); break;
      case 2: items = read_gemini_batch_file(*gemini, body, "fuzz"); break;
      default: {
        nlohmann::json j = parse_json(body, false);
        if (!j.is_discarded()) items = read_gemini_batch_output(*gemini, j, "fuzz");
      }
    }
    for (const auto& it : items)
      if (it.kind == BatchItemResult::Kind::kAnswered && !it.result.ok && it.result.error.empty()) __builtin_trap();
  } catch (const BatchError&) {
  }
  return 0;
}

int http1(const uint8_t* d, size_t n) {
  // The first byte chooses a piece size and whether the request was HEAD; the rest is the server's bytes.
  // Read in one piece and in small pieces, the response must come out the same: anything else is a bug.
  if (n == 0) return 0;
  const size_t piece = 1 + d[0] % 7;
  const bool head = d[0] & 0x80;
  const std::string wire = text(d + 1, n - 1);
  struct Reading {
    std::string body;
    size_t used = 0;
    Http1Response r;
    explicit Reading(bool head) : r([this](const char* p, size_t k) { body.append(p, k); }, head) {}
  };
  Reading whole(head), pieces(head);
  whole.used = whole.r.feed(wire.data(), wire.size());
  for (size_t at = 0; at < wire.size() && !pieces.r.complete() && !pieces.r.failed(); at += piece)
    pieces.used += pieces.r.feed(wire.data() + at, std::min(piece, wire.size() - at));
  whole.r.end_of_stream();
  pieces.r.end_of_stream();
  if (whole.r.complete() != pieces.r.complete() || whole.r.failed() != pieces.r.failed() || whole.body != pieces.body ||
      whole.r.status() != pieces.r.status() || whole.r.headers() != pieces.r.headers() || whole.r.keep_alive() != pieces.r.keep_alive() ||
      (whole.r.complete() && whole.used != pieces.used) || whole.used > wire.size())
    __builtin_trap();
  return 0;
}

const std::vector<Target>& targets() {
  static const std::vector<Target> t = {{"csv", csv},           {"sse", sse},           {"import_jsonl", import_jsonl},
                                        {"catalog", catalog},   {"campaign", campaign}, {"extract", extract},
                                        {"matrix", matrix},
                                        {"json", json},         {"batch", batch},       {"http1", http1}};
  return t;
}

}  // namespace reckon::fuzz
