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

class TextFeaturizer {
 public:
  explicit TextFeaturizer(int hash_bits = 18) : bits_(hash_bits) {}
  // Document frequencies from the training texts (IDF); transform() works before fit() with IDF = 1.
  void fit(const std::vector<std::string>& texts);
  SparseVec transform(const std::string& text) const;
  // Buckets plus the dense statistics appended after them.
  uint32_t dim() const { return (1u << bits_) + kStats; }
  nlohmann::json to_json() const;
  static TextFeaturizer from_json(const nlohmann::json& j);

  static constexpr uint32_t kStats = 4;  // log length, digit share, line count, question marks

 private:
  std::vector<uint32_t> buckets(const std::string& text) const;
  int bits_;
  std::vector<float> idf_;  // empty before fit
};

}  // namespace reckon
