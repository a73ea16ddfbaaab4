#pragma once
// A linear policy over sparse query features: multinomial logistic regression, trained by SFT
// (cross-entropy on labels) or DPO (preference pairs against a frozen reference policy) — the one
// trainer routers and budget sweeps share.
#include <cstdint>
#include <string>
#include <vector>

#include "routers/features.h"

namespace reckon {

class LinearPolicy {
 public:
  LinearPolicy() = default;
  LinearPolicy(int classes, uint32_t dim) : classes_(classes), dim_(dim), w_(static_cast<size_t>(classes) * dim, 0.f), b_(classes, 0.f) {}
  int classes() const { return classes_; }
  uint32_t dim() const { return dim_; }
  std::vector<double> logits(const SparseVec& x) const;
  std::vector<double> probs(const SparseVec& x) const;
  // Adds -lr × g_c × x to class c's weights, for every class.
  void step(const SparseVec& x, const std::vector<double>& grad_logits, double lr);

  std::string serialize() const;  // binary: header + float weights
  static LinearPolicy deserialize(const std::string& bytes);

 private:
  int classes_ = 0;
  uint32_t dim_ = 0;
  std::vector<float> w_, b_;
};

struct TrainOptions {
  int epochs = 4;
  double learning_rate = 0.5;
  double beta = 0.1;  // DPO temperature
  uint64_t seed = 1;
};

void train_sft(LinearPolicy& p, const std::vector<SparseVec>& x, const std::vector<int>& labels, const TrainOptions& opt);

struct PreferencePair {
  int query;     // index into x
  int chosen, rejected;  // classes
};

// DPO loss of one pair, −log σ(β[(z_w − z_l) − (z^ref_w − z^ref_l)]) (log-softmax normalizers cancel),
// and its gradient with respect to the policy's logits.
double dpo_loss(const std::vector<double>& logits, const std::vector<double>& ref_logits, int chosen, int rejected,
                double beta, std::vector<double>* grad_logits);

void train_dpo(LinearPolicy& p, const LinearPolicy& reference, const std::vector<SparseVec>& x,
               const std::vector<PreferencePair>& pairs, const TrainOptions& opt);

}  // namespace reckon
