#pragma once
// Query features for routers: hashed word, word-bigram and character-trigram TF-IDF (2^bits
// buckets, L2-normalized) plus a few length and structure statistics. Sparse, so 2^18 buckets cost
// nothing per query beyond its own n-grams.
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace reckon {

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
  SparseVec transform(const std::string& text) const;
  // Buckets plus the dense statistics appended after them.
  uint32_t dim() const { return (1u << bits_) + stats_; }
  nlohmann::json to_json() const;
  static TextFeaturizer from_json(const nlohmann::json& j);

  // log length, digit share, line count, question marks; and for text-to-SQL prompts the tables and
  // columns of the schema they carry (0 elsewhere). Routers saved before the last two keep 4.
  static constexpr uint32_t kStats = 6;

 private:
  std::vector<uint32_t> buckets(const std::string& text) const;
  int bits_;
  uint32_t stats_ = kStats;
  std::vector<float> idf_;  // empty before fit
};

}  // namespace reckon
