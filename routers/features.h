#pragma once
// Query features for routers: hashed word, word-bigram and character-trigram TF-IDF (2^bits
// buckets, L2-normalized) plus a few length and structure statistics. Sparse, so 2^18 buckets cost
// nothing per query beyond its own n-grams.
#include <cstdint>
#include <span>
#include <string_view>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace reckon {

// A query as routers see it: its text and the numeric features its source gives beside it (an
// outcomes file's feature columns, in the order the router was trained with; none for plain text).
struct Query {
  std::string_view text;
  std::span<const double> features;
  Query(const std::string& t) : text(t) {}  // NOLINT: a text alone is a query
  Query(const char* t) : text(t) {}         // NOLINT
  Query(std::string_view t, std::span<const double> f) : text(t), features(f) {}
};

struct SparseVec {
  std::vector<uint32_t> idx;
  std::vector<float> val;
};

// The tables and columns declared by the CREATE TABLE statements a text carries (a text-to-SQL
// prompt's schema): EllieSQL's complexity signal, a task-declared routing feature.
struct SchemaCounts {
  int tables = 0, columns = 0;
};
SchemaCounts schema_counts(const std::string& text);

class TextFeaturizer {
 public:
  explicit TextFeaturizer(int hash_bits = 18) : bits_(hash_bits) {}
  // Document frequencies from the training texts (IDF); transform() works before fit() with IDF = 1.
  void fit(const std::vector<std::string>& texts);
  // The numeric features given beside the text (named; [row][feature]): standardized with the
  // training rows' mean and deviation, clipped at ±3 σ, appended after the statistics.
  void fit_given(const std::vector<std::string>& names, const std::vector<std::vector<double>>& rows);
  // InputError when the query lacks the given features the featurizer was fitted with.
  SparseVec transform(const Query& q) const;
  // The statistics, then the given features (standardized, /3): the dense tail of transform().
  std::vector<double> dense(const Query& q) const;
  uint32_t dense_dim() const { return stats_ + static_cast<uint32_t>(given_names_.size()); }
  // Buckets, the dense statistics, then the given features.
  uint32_t dim() const { return (1u << bits_) + stats_ + static_cast<uint32_t>(given_names_.size()); }
  const std::vector<std::string>& given_names() const { return given_names_; }
  nlohmann::json to_json() const;
  static TextFeaturizer from_json(const nlohmann::json& j);

  // log length, digit share, line count, question marks; for text-to-SQL prompts the tables and
  // columns of the schema they carry (0 elsewhere); then word count and the text-to-SQL cue words
  // (aggregation, ordering and superlatives, arithmetic, conditions). Routers saved before keep 4 or 6.
  static constexpr uint32_t kStats = 11;

 private:
  std::vector<uint32_t> buckets(std::string_view text) const;
  int bits_;
  uint32_t stats_ = kStats;
  std::vector<float> idf_;  // empty before fit
  std::vector<std::string> given_names_;
  std::vector<double> given_mean_, given_sd_;
};

// Counts of text-to-SQL cue words in a text: what a question asks the SQL to do.
struct SqlCues {
  int words = 0, aggregation = 0, ordering = 0, arithmetic = 0, conditions = 0;
};
SqlCues sql_cues(std::string_view text);

}  // namespace reckon
