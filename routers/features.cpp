#include "routers/features.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>
#include <unordered_set>

#include "common/error.h"

namespace reckon {
namespace {

uint32_t fnv1a(const char* p, size_t n, uint32_t h = 2166136261u) {
  for (size_t i = 0; i < n; ++i) h = (h ^ static_cast<unsigned char>(p[i])) * 16777619u;
  return h;
}

// ASCII letters and digits, and every byte of a multi-byte UTF-8 character, make up words; inline
// tests instead of the locale-aware <cctype> calls, which dominated the cost of a query.
inline bool word_byte(unsigned char c) { return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') || c >= 0x80; }
inline unsigned char lower(unsigned char c) { return c >= 'A' && c <= 'Z' ? static_cast<unsigned char>(c | 0x20) : c; }
inline bool space_byte(unsigned char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

// Mixes two word hashes into a bigram's (order matters).
uint32_t pair_hash(uint32_t a, uint32_t b) { return (a * 0x9e3779b1u) ^ (b + 0x7f4a7c15u + (a << 6) + (a >> 2)); }

}  // namespace

SqlCues sql_cues(std::string_view text) {
  // Word lists from what BIRD / Spider questions ask for; matched on whole lower-cased words.
  static const std::unordered_set<std::string> aggregation = {"count", "many", "number", "total", "sum", "average", "avg",
                                                               "mean", "amount", "much"};
  static const std::unordered_set<std::string> ordering = {
      "highest", "lowest", "most", "least", "top", "maximum", "minimum", "max", "min", "first", "last", "rank", "ranked",
      "order", "sort", "sorted", "best", "worst", "largest", "smallest", "biggest", "oldest", "youngest", "latest",
      "earliest", "longest", "shortest", "more", "less", "greater", "fewer", "higher", "lower", "top", "descending", "ascending"};
  static const std::unordered_set<std::string> arithmetic = {"percentage", "percent", "ratio", "difference", "divided", "times",
                                                             "rate", "proportion", "calculate", "increase", "decrease", "divide",
                                                             "multiply", "subtract", "minus", "per"};
  static const std::unordered_set<std::string> conditions = {"and", "or", "both", "among", "which", "whose", "where", "with",
                                                             "between", "not", "without", "than", "each", "all", "who"};
  SqlCues c;
  std::string word;
  auto flush = [&] {
    if (word.empty()) return;
    ++c.words;
    c.aggregation += aggregation.count(word) ? 1 : 0;
    c.ordering += ordering.count(word) ? 1 : 0;
    c.arithmetic += arithmetic.count(word) ? 1 : 0;
    c.conditions += conditions.count(word) ? 1 : 0;
    word.clear();
  };
  for (char ch : text) {
    const auto b = static_cast<unsigned char>(ch);
    if (word_byte(b)) word += static_cast<char>(lower(b));
    else {
      flush();
      if (b == '%') ++c.arithmetic;
    }
  }
  flush();
  return c;
}

SchemaCounts schema_counts(const std::string& text) {
  SchemaCounts out;
  const std::string needle = "create table";
  for (size_t pos = 0; pos + needle.size() <= text.size(); ++pos) {
    bool match = true;
    for (size_t k = 0; k < needle.size() && match; ++k) match = lower(static_cast<unsigned char>(text[pos + k])) == needle[k];
    if (!match) continue;
    ++out.tables;
    const size_t open = text.find('(', pos);
    if (open == std::string::npos) break;
    // Column definitions: the top-level items of the parenthesised list, less table constraints.
    int depth = 0;
    size_t item = open + 1;
    auto count_item = [&](size_t begin, size_t end) {
      size_t b = begin;
      while (b < end && space_byte(static_cast<unsigned char>(text[b]))) ++b;
      std::string head;
      for (size_t k = b; k < end && k < b + 11; ++k) head += static_cast<char>(lower(static_cast<unsigned char>(text[k])));
      const bool constraint = head.rfind("primary", 0) == 0 || head.rfind("foreign", 0) == 0 || head.rfind("unique", 0) == 0 ||
                              head.rfind("constraint", 0) == 0 || head.rfind("check", 0) == 0;
      if (b < end && !constraint) ++out.columns;
    };
    size_t k = open;
    for (; k < text.size(); ++k) {
      const char ch = text[k];
      if (ch == '(') ++depth;
      else if (ch == ')' && --depth == 0) break;
      else if (ch == ',' && depth == 1) count_item(item, k), item = k + 1;
    }
    count_item(item, std::min(k, text.size()));
    pos = k;
  }
  return out;
}

std::vector<uint32_t> TextFeaturizer::buckets(std::string_view text) const {
  // Words are runs of letters and digits, lower-cased; any other non-space character is a word of
  // its own. Hashed on the fly: no string is built per word.
  const uint32_t mask = (1u << bits_) - 1;
  std::vector<uint32_t> out;
  out.reserve(text.size() * 2);
  bool have_prev = false, in_word = false;
  uint32_t prev = 0, cur = 2166136261u;
  auto emit = [&](uint32_t h) {
    out.push_back(h & mask);
    if (have_prev) out.push_back(pair_hash(prev, h) & mask);
    prev = h, have_prev = true;
  };
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (word_byte(c)) {
      cur = (cur ^ lower(c)) * 16777619u;
      in_word = true;
      continue;
    }
    if (in_word) emit(cur), cur = 2166136261u, in_word = false;
    if (!space_byte(c)) emit(fnv1a(&ch, 1, 0x811c9dc5u ^ 0x5bd1e995u));
  }
  if (in_word) emit(cur);
  for (size_t i = 0; i + 3 <= text.size(); ++i) out.push_back(fnv1a(text.data() + i, 3, 0x9e3779b9u) & mask);
  return out;
}

void TextFeaturizer::fit(const std::vector<std::string>& texts) {
  std::vector<uint32_t> df(1u << bits_, 0);
  for (const auto& t : texts) {
    auto b = buckets(t);
    std::sort(b.begin(), b.end());
    b.erase(std::unique(b.begin(), b.end()), b.end());
    for (uint32_t k : b) ++df[k];
  }
  idf_.resize(df.size());
  const double n = static_cast<double>(texts.size());
  for (size_t k = 0; k < df.size(); ++k) idf_[k] = static_cast<float>(std::log((1 + n) / (1 + df[k])) + 1);
}

void TextFeaturizer::fit_given(const std::vector<std::string>& names, const std::vector<std::vector<double>>& rows) {
  given_names_ = names;
  given_mean_.assign(names.size(), 0);
  given_sd_.assign(names.size(), 1);
  if (names.empty() || rows.empty()) return;
  const double n = static_cast<double>(rows.size());
  for (const auto& r : rows)
    for (size_t f = 0; f < names.size(); ++f) given_mean_[f] += r.at(f) / n;
  std::vector<double> var(names.size(), 0);
  for (const auto& r : rows)
    for (size_t f = 0; f < names.size(); ++f) var[f] += (r[f] - given_mean_[f]) * (r[f] - given_mean_[f]) / n;
  for (size_t f = 0; f < names.size(); ++f) given_sd_[f] = var[f] > 0 ? std::sqrt(var[f]) : 1;
}

SparseVec TextFeaturizer::transform(const Query& q) const {
  const std::string_view text = q.text;
  const auto b = buckets(text);
  // Count repeats in a small open-addressing table (cheaper than sorting the buckets).
  size_t cap = 16;
  while (cap < 2 * b.size()) cap <<= 1;
  constexpr uint32_t kEmpty = 0xffffffffu;
  std::vector<uint32_t> keys(cap, kEmpty), counts(cap, 0);
  for (uint32_t k : b) {
    size_t slot = (k * 2654435761u) & (cap - 1);
    while (keys[slot] != kEmpty && keys[slot] != k) slot = (slot + 1) & (cap - 1);
    keys[slot] = k;
    ++counts[slot];
  }
  SparseVec v;
  v.idx.reserve(b.size() + kStats + given_names_.size());
  v.val.reserve(b.size() + kStats + given_names_.size());
  static const float kLogTf[] = {0, 0, 0.6931472f, 1.0986123f, 1.3862944f, 1.6094379f, 1.7917595f, 1.9459101f};
  for (size_t slot = 0; slot < cap; ++slot) {
    if (keys[slot] == kEmpty) continue;
    const uint32_t count = counts[slot];
    const float tf = 1 + (count < 8 ? kLogTf[count] : std::log(static_cast<float>(count)));
    v.idx.push_back(keys[slot]);
    v.val.push_back(tf * (idf_.empty() ? 1.0f : idf_[keys[slot]]));
  }
  double norm = 0;
  for (float x : v.val) norm += static_cast<double>(x) * x;
  if (norm > 0)
    for (float& x : v.val) x = static_cast<float>(x / std::sqrt(norm));
  const uint32_t base = 1u << bits_;
  const auto d = dense(q);
  for (uint32_t k = 0; k < d.size(); ++k) v.idx.push_back(base + k), v.val.push_back(static_cast<float>(d[k]));
  return v;
}

std::vector<double> TextFeaturizer::dense(const Query& q) const {
  if (!given_names_.empty() && q.features.size() != given_names_.size()) {
    std::string names;
    for (const auto& n : given_names_) names += (names.empty() ? "" : ", ") + n;
    throw InputError("this router was trained with the features " + names + " beside the text; give them with each query (" +
                     std::to_string(q.features.size()) + " given)");
  }
  // Length and structure, scaled to be comparable with the unit-norm n-gram part.
  const std::string_view text = q.text;
  const double chars = static_cast<double>(text.size());
  double digits = 0, lines = 1, questions = 0;
  for (char c : text) {
    digits += c >= '0' && c <= '9' ? 1 : 0;
    lines += c == '\n' ? 1 : 0;
    questions += c == '?' ? 1 : 0;
  }
  const SchemaCounts schema = stats_ > 4 ? schema_counts(std::string(text)) : SchemaCounts{};
  const SqlCues cues = stats_ > 6 ? sql_cues(text) : SqlCues{};
  auto capped = [](int n) { return std::min(n, 5) / 5.0; };
  const double stats[kStats] = {std::log1p(chars) / 10, chars > 0 ? digits / chars : 0, std::log1p(lines) / 5,
                                std::min(questions, 5.0) / 5, std::log1p(schema.tables) / 3, std::log1p(schema.columns) / 5,
                                std::log1p(cues.words) / 5, capped(cues.aggregation), capped(cues.ordering),
                                capped(cues.arithmetic), capped(cues.conditions)};
  std::vector<double> out(stats, stats + stats_);
  for (size_t f = 0; f < given_names_.size(); ++f)
    out.push_back(std::clamp((q.features[f] - given_mean_[f]) / given_sd_[f], -3.0, 3.0) / 3);
  return out;
}

nlohmann::json TextFeaturizer::to_json() const {
  // IDF stored sparsely: buckets seen in training (others take the unseen value).
  nlohmann::json seen = nlohmann::json::object();
  float unseen = idf_.empty() ? 1.0f : *std::max_element(idf_.begin(), idf_.end());
  std::vector<std::pair<uint32_t, float>> pairs;
  for (size_t k = 0; k < idf_.size(); ++k)
    if (idf_[k] != unseen) pairs.emplace_back(static_cast<uint32_t>(k), idf_[k]);
  return {{"hash_bits", bits_}, {"stats", stats_}, {"fitted", !idf_.empty()}, {"unseen_idf", unseen}, {"idf", pairs},
          {"given", given_names_}, {"given_mean", given_mean_}, {"given_sd", given_sd_}};
}

TextFeaturizer TextFeaturizer::from_json(const nlohmann::json& j) {
  try {
    TextFeaturizer f(j.at("hash_bits").get<int>());
    if (f.bits_ < 8 || f.bits_ > 24) throw InputError("router features: hash_bits out of range");
    f.stats_ = j.value("stats", 4u);  // saved before the schema counts
    if (f.stats_ != 4 && f.stats_ != 6 && f.stats_ != kStats) throw InputError("router features: unknown statistics count");
    f.given_names_ = j.value("given", std::vector<std::string>());  // saved before given features: none
    f.given_mean_ = j.value("given_mean", std::vector<double>());
    f.given_sd_ = j.value("given_sd", std::vector<double>());
    if (f.given_mean_.size() != f.given_names_.size() || f.given_sd_.size() != f.given_names_.size())
      throw InputError("router features: given features do not match their statistics");
    if (j.at("fitted").get<bool>()) {
      f.idf_.assign(1u << f.bits_, j.at("unseen_idf").get<float>());
      for (const auto& p : j.at("idf")) {
        const auto k = p.at(0).get<uint32_t>();
        if (k >= f.idf_.size()) throw InputError("router features: bucket out of range");
        f.idf_[k] = p.at(1).get<float>();
      }
    }
    return f;
  } catch (const nlohmann::json::exception& e) {
    throw InputError(std::string("router features: ") + e.what());
  }
}

}  // namespace reckon
