#include "tasks/extract.h"

#include <catch2/catch.hpp>
#include <random>
#include <regex>
#include <set>
#include <filesystem>
#include <fstream>

#include "tasks/task.h"
#include "tests/mirror_data.h"
#include "tests/support.h"

using namespace reckon;

namespace {

const char* kLogs = "mirror/lchen001/pricing-reversal/69f5f1a0e89ee5bdd6599d46a1bf74a55b22f27d/data/consolidated";

}  // namespace

TEST_CASE("extractor cases: (response, reference, expected score)", "[extract]") {
  struct Case {
    const char* scorer;
    const char* response;
    const char* reference;
    double expected;
  } cases[] = {
      {"last_number", "She has 3 + 4 = 7 apples.\n#### 7", "7", 1},
      {"last_number", "The total is $1,250.", "1250", 1},
      {"last_number", "The answer is 18.", "18", 1},
      {"last_number", "No idea", "18", 0},
      {"last_number", "It's -3.5 degrees", "-3.5", 1},
      {"boxed", "so \\boxed{\\frac{1}{2}}.", "\\frac12", 1},
      {"boxed", "\\boxed{\\dfrac{3}{4}}", "\\frac{3}{4}", 1},
      {"boxed", "\\boxed{336^\\circ}", "336^\\circ", 1},
      {"boxed", "\\boxed{336}", "336^\\circ", 1},
      {"boxed", "first \\boxed{5} then \\boxed{7}", "7", 1},
      {"boxed", "\\boxed{\\left( 3, \\frac{\\pi}{2} \\right)}", "\\left( 3, \\frac{\\pi}{2} \\right)", 1},
      {"boxed", "\\boxed{x = 12}", "12", 1},
      {"boxed", "\\boxed{27}", "27.0", 1},
      {"boxed", "\\boxed{1,000}", "1000", 1},
      {"boxed", "\\boxed{\\text{(B)}}", "(B)", 1},
      {"boxed", "the answer is 204", "204", 0},
      {"boxed", "\\boxed{20", "204", 0},
      {"choice", "Reasoning...\nAnswer: C", "C", 1},
      {"choice", "Answer: **B**", "B", 1},
      {"choice", "Answer: (A)", "A", 1},
      {"choice", "The answer is \\boxed{D}", "D", 1},
      {"choice", "...so it must be\n\n**B**", "B", 1},
      {"choice", "I think A is wrong.\nAnswer: B", "A", 0},
      {"choice", "Let me think about option A and B", "A", 0},
      {"normalized", "The Eiffel Tower!", "eiffel tower", 1},
      {"exact", " yes ", "yes", 1},
  };
  for (const auto& c : cases) {
    INFO(c.scorer << ": " << c.response << " vs " << c.reference);
    Item it;
    it.reference = c.reference;
    CHECK(find_scorer(c.scorer)->score(it, c.response).value == c.expected);
  }
  CHECK(extract_code_block("Here:\n```python\ndef f():\n    return 1\n```\n") == std::string("def f():\n    return 1\n"));
}

TEST_CASE("GSM8K reference solutions score 1319/1319 through the extractor, shuffled near 0", "[extract][gsm8k]") {
  test::TempDir cache;
  auto items = load_items(*find_builtin_task("gsm8k"), test::mirror_access(cache));
  REQUIRE(items.size() == 1319);
  const ScorerInfo* s = find_scorer("last_number");
  int correct = 0, shuffled = 0;
  for (size_t i = 0; i < items.size(); ++i) {
    correct += s->score(items[i], items[i].extra["solution"].get<std::string>()).value.value_or(0) == 1;
    shuffled += s->score(items[i], items[(i + 7) % items.size()].extra["solution"].get<std::string>()).value.value_or(0) == 1;
  }
  CHECK(correct == 1319);
  CHECK(shuffled < 40);
}

TEST_CASE("the built-in math and MMLU tasks load from the mirror", "[tasks]") {
  test::TempDir cache;
  DataAccess d = test::mirror_access(cache);
  CHECK(load_items(*find_builtin_task("math500"), d).size() == 500);
  CHECK(load_items(*find_builtin_task("aime24"), d).size() == 30);
  CHECK(load_items(*find_builtin_task("aime25"), d).size() == 30);
  CHECK(load_items(*find_builtin_task("amc23"), d).size() == 40);
  auto mmlu = load_items(*find_builtin_task("mmlu"), d);
  CHECK(mmlu.size() == 14042);
  CHECK(mmlu[0].reference.size() == 1);
  auto five = load_items(*find_builtin_task("mmlu-5shot"), d);
  CHECK(five.size() == 14042);
  CHECK(five[0].messages[0].content.find("Answer: ") != std::string::npos);
  // Reference answers written as the model would score 1.
  auto aime = load_items(*find_builtin_task("aime24"), d);
  for (const auto& it : aime) CHECK(find_scorer("boxed")->score(it, "\\boxed{" + it.reference + "}").value == 1.0);
}

TEST_CASE("replayed AIME outputs agree with the authors' grading on at least 98% of records", "[extract][price-reversal]") {
  std::string dir = test::shared_data(kLogs);
  int total = 0, agree = 0;
  for (const auto& f : std::filesystem::directory_iterator(dir)) {
    if (f.path().filename().string().rfind("aime-", 0) != 0) continue;
    auto j = nlohmann::json::parse(std::ifstream(f.path()));
    for (const auto& r : j["records"]) {
      Item it;
      it.reference = r["ground_truth"].get<std::string>();
      double ours = *find_scorer("boxed")->score(it, r.value("raw_output", "")).value;
      double theirs = r["score"].is_number() ? r["score"].get<double>() : 0;
      ++total;
      agree += ours == theirs;
    }
  }
  CHECK(total == 480);
  CHECK(static_cast<double>(agree) / total >= 0.98);
  CHECK(agree == 480);  // units such as ^\circ are normalized on both sides
}

TEST_CASE("GPQA: every disagreement with the published grading is a correction reckon can justify", "[extract][price-reversal]") {
  // Each disagreement, classified by hand from the published record: the authors' extracted letter and
  // grade, reckon's letter, and the exact closing span of the response that decides it. All five are
  // Claude Haiku 4.5 answers in bold (or after a last-minute change of mind) that the published
  // grading read as no answer (or as the earlier letter); reckon reads the final `Answer:` line.
  struct Disagreement {
    const char* model;
    int index;
    const char* authors_prediction;
    const char* reckon_letter;
    const char* closing_span;
  };
  const Disagreement expected[] = {
      {"claude-haiku-4.5", 24, "", "B", "= **18 hydrogen atoms**\n\nAnswer: **B**"},
      {"claude-haiku-4.5", 27, "", "A", "via the secretory pathway.\n\nAnswer: **A**"},
      {"claude-haiku-4.5", 126, "", "A", "(two different compounds)\n\nAnswer: **A**"},
      {"claude-haiku-4.5", 153, "", "B", "cyclohexane-1,3-dione ✓\n\nAnswer: **B**"},
      {"claude-haiku-4.5", 180, "A", "B", "B is the closest reasonable answer:\n\nAnswer: B"},
  };
  std::string dir = test::shared_data(kLogs);
  int total = 0, agree = 0;
  std::set<int> found;
  for (const auto& f : std::filesystem::directory_iterator(dir)) {
    if (f.path().filename().string().rfind("gpqa-", 0) != 0) continue;
    auto j = nlohmann::json::parse(std::ifstream(f.path()));
    const std::string model = j["model_name"].get<std::string>();
    for (const auto& r : j["records"]) {
      Item it;
      it.reference = r["ground_truth"].get<std::string>();
      std::string out = r.value("raw_output", "");
      ScoreResult ours = find_scorer("choice")->score(it, out);
      double theirs = r["score"].is_number() ? r["score"].get<double>() : 0;
      ++total;
      if (*ours.value == theirs) {
        ++agree;
        continue;
      }
      const int index = r["index"].get<int>();
      INFO(model << " item " << index << ": authors '" << r["prediction"] << "' graded " << theirs << ", reckon '" << ours.prediction
                 << "'; tail: " << out.substr(out.size() > 120 ? out.size() - 120 : 0));
      const Disagreement* d = nullptr;
      for (const auto& e : expected)
        if (model == e.model && index == e.index) d = &e;
      REQUIRE(d);  // a disagreement nobody has classified
      found.insert(index);
      CHECK(r["prediction"].get<std::string>() == d->authors_prediction);
      CHECK(theirs == 0.0);
      CHECK(ours.prediction == d->reckon_letter);
      CHECK(it.reference == d->reckon_letter);  // so reckon grades it correct
      CHECK(*ours.value == 1.0);
      const std::string span = d->closing_span;
      REQUIRE(out.size() >= span.size());
      CHECK(out.compare(out.size() - span.size(), span.size(), span) == 0);
    }
  }
  CHECK(total == 1584);
  CHECK(found.size() == std::size(expected));  // every classified disagreement still happens
  CHECK(total - agree == static_cast<int>(std::size(expected)));
}

TEST_CASE("TruthfulQA loads 817 questions — true references score 1, false ones 0", "[tasks][truthfulqa]") {
  test::TempDir cache;
  auto items = load_items(*find_builtin_task("truthfulqa"), test::mirror_access(cache));
  REQUIRE(items.size() == 817);
  const ScorerInfo* s = find_scorer("truthful_rouge");
  int best = 0, false_scored_true = 0;
  for (const auto& it : items) {
    best += s->score(it, it.reference).value == 1.0;
    false_scored_true += s->score(it, it.extra["incorrect"][0].get<std::string>()).value == 1.0;
  }
  CHECK(best >= 800);
  CHECK(false_scored_true <= 20);
  CHECK(items[0].metadata.at("category") == "Misconceptions");
}

// The scanner is specified by the regex it replaced: the same answer on every text, including
// random strings over the characters that matter.
TEST_CASE("the last number is the last match of the number pattern, as a regex search finds it", "[extract]") {
  const std::regex spec(R"(-?[$]?[0-9][0-9,]*(?:\.[0-9]+)?)");
  auto by_regex = [&](const std::string& text) -> std::optional<std::string> {
    std::optional<std::string> last;
    for (auto it = std::sregex_iterator(text.begin(), text.end(), spec); it != std::sregex_iterator(); ++it) last = it->str();
    if (!last) return std::nullopt;
    std::string out;
    for (char c : *last)
      if (c != ',' && c != '$') out += c;
    while (!out.empty() && out.back() == '.') out.pop_back();
    return out;
  };
  for (std::string t : {"", "-", "$", "-$", "-$5", "$-5", "--5", "5.", "5..5", "5.5.5", "1,000,", "1,000.25,", "x-$1,2.3y",
                        "-.5", "$.5", "3-4", "12-$3", "a1b22c333", "price: $1,250.00 total"}) {
    CHECK(extract_last_number(t) == by_regex(t));
  }
  CHECK(extract_last_number("The total is $1,250.") == std::optional<std::string>("1250"));  // worked by hand
  CHECK(extract_last_number("x -$3.25, then 7.") == std::optional<std::string>("7"));
  std::mt19937 rng(7);
  const std::string alphabet = "-$0123456789,. a";
  for (int trial = 0; trial < 20000; ++trial) {
    std::string t(static_cast<size_t>(rng() % 12), ' ');
    for (char& c : t) c = alphabet[rng() % alphabet.size()];
    INFO(t);
    REQUIRE(extract_last_number(t) == by_regex(t));
  }
}
