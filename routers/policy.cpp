#include "routers/policy.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>
#include <random>

#include "common/error.h"

namespace reckon {

std::vector<double> LinearPolicy::logits(const SparseVec& x) const {
  std::vector<double> z(b_.begin(), b_.end());
  // Weights are laid out feature-major: one cache line serves every class of a feature.
  const size_t k_classes = static_cast<size_t>(classes_);
  for (size_t k = 0; k < x.idx.size(); ++k) {
    const float* w = &w_[static_cast<size_t>(x.idx[k]) * k_classes];
    for (size_t c = 0; c < k_classes; ++c) z[c] += static_cast<double>(w[c]) * x.val[k];
  }
  return z;
}

std::vector<double> LinearPolicy::probs(const SparseVec& x) const {
  auto z = logits(x);
  const double mx = *std::max_element(z.begin(), z.end());
  double sum = 0;
  for (double& v : z) sum += (v = std::exp(v - mx));
  for (double& v : z) v /= sum;
  return z;
}

void LinearPolicy::step(const SparseVec& x, const std::vector<double>& g, double lr) {
  const size_t k_classes = static_cast<size_t>(classes_);
  for (size_t k = 0; k < x.idx.size(); ++k) {
    float* w = &w_[static_cast<size_t>(x.idx[k]) * k_classes];
    for (size_t c = 0; c < k_classes; ++c) w[c] -= static_cast<float>(lr * g[c]) * x.val[k];
  }
  for (size_t c = 0; c < k_classes; ++c) b_[c] -= static_cast<float>(lr * g[c]);
}

std::string LinearPolicy::serialize() const {
  std::string out(8, '\0');
  const uint32_t hdr[2] = {static_cast<uint32_t>(classes_), dim_};
  std::memcpy(out.data(), hdr, 8);
  out.append(reinterpret_cast<const char*>(b_.data()), b_.size() * sizeof(float));
  out.append(reinterpret_cast<const char*>(w_.data()), w_.size() * sizeof(float));
  return out;
}

LinearPolicy LinearPolicy::deserialize(const std::string& bytes) {
  if (bytes.size() < 8) throw InputError("router model: truncated");
  uint32_t hdr[2];
  std::memcpy(hdr, bytes.data(), 8);
  if (hdr[0] < 1 || hdr[0] > 64 || hdr[1] > (1u << 25)) throw InputError("router model: bad header");
  LinearPolicy p(static_cast<int>(hdr[0]), hdr[1]);
  const size_t need = 8 + (p.b_.size() + p.w_.size()) * sizeof(float);
  if (bytes.size() != need) throw InputError("router model: size does not match its header");
  std::memcpy(p.b_.data(), bytes.data() + 8, p.b_.size() * sizeof(float));
  std::memcpy(p.w_.data(), bytes.data() + 8 + p.b_.size() * sizeof(float), p.w_.size() * sizeof(float));
  return p;
}

void train_sft(LinearPolicy& p, const std::vector<SparseVec>& x, const std::vector<int>& labels, const TrainOptions& opt) {
  std::vector<size_t> order(x.size());
  std::iota(order.begin(), order.end(), 0);
  std::mt19937_64 rng(opt.seed);
  for (int e = 0; e < opt.epochs; ++e) {
    std::shuffle(order.begin(), order.end(), rng);
    const double lr = opt.learning_rate / (1 + e);  // decaying steps settle the last epochs
    for (size_t i : order) {
      auto g = p.probs(x[i]);
      g[labels[i]] -= 1;  // ∂ cross-entropy / ∂ logits
      p.step(x[i], g, lr);
    }
  }
}

double dpo_loss(const std::vector<double>& z, const std::vector<double>& zr, int chosen, int rejected, double beta,
                std::vector<double>* grad) {
  const double m = beta * ((z[chosen] - z[rejected]) - (zr[chosen] - zr[rejected]));
  const double loss = std::log1p(std::exp(-std::fabs(m))) + std::max(-m, 0.0);  // −log σ(m), stable
  if (grad) {
    grad->assign(z.size(), 0.0);
    const double s = 1 / (1 + std::exp(m));  // σ(−m)
    (*grad)[chosen] -= beta * s;
    (*grad)[rejected] += beta * s;
  }
  return loss;
}

void train_dpo(LinearPolicy& p, const LinearPolicy& reference, const std::vector<SparseVec>& x,
               const std::vector<PreferencePair>& pairs, const TrainOptions& opt) {
  std::vector<std::vector<double>> ref(x.size());
  std::vector<size_t> order(pairs.size());
  std::iota(order.begin(), order.end(), 0);
  std::mt19937_64 rng(opt.seed);
  std::vector<double> g;
  for (int e = 0; e < opt.epochs; ++e) {
    std::shuffle(order.begin(), order.end(), rng);
    const double lr = opt.learning_rate / (1 + e);
    for (size_t k : order) {
      const auto& pr = pairs[k];
      auto& zr = ref[static_cast<size_t>(pr.query)];
      if (zr.empty()) zr = reference.logits(x[static_cast<size_t>(pr.query)]);
      dpo_loss(p.logits(x[static_cast<size_t>(pr.query)]), zr, pr.chosen, pr.rejected, opt.beta, &g);
      p.step(x[static_cast<size_t>(pr.query)], g, lr / opt.beta);  // β scales the gradient; keep the step size
    }
  }
}

}  // namespace reckon
