#include "selectors/irt.h"

#include <cmath>
#include <random>

namespace reckon {
namespace {

constexpr double kThetaPrior = 1.0;       // 1 / var of θ
constexpr double kAPrior = 1.0;           // 1 / var of a around 1
constexpr double kBPrior = 1.0 / 9.0;     // 1 / var of b

// Adam state for one parameter block.
template <typename M>
struct Adam {
  M m, v;
  explicit Adam(const M& like) : m(M::Zero(like.rows(), like.cols())), v(M::Zero(like.rows(), like.cols())) {}
  void step(M& p, const M& g, double lr, int t) {
    constexpr double b1 = 0.9, b2 = 0.999, eps = 1e-8;
    m = b1 * m + (1 - b1) * g;
    v = b2 * v + (1 - b2) * g.cwiseProduct(g);
    const double c1 = 1 - std::pow(b1, t), c2 = 1 - std::pow(b2, t);
    p.array() -= lr * (m.array() / c1) / ((v.array() / c2).sqrt() + eps);
  }
};

Eigen::ArrayXXd logits(const Eigen::MatrixXd& theta, const IrtItems& items) {
  Eigen::MatrixXd z = theta * items.a.transpose();
  z.rowwise() -= items.b.transpose();
  return z.array();
}

double sigmoid(double z) { return 1 / (1 + std::exp(-z)); }

}  // namespace

double irt_objective(const Eigen::MatrixXd& y, const Eigen::MatrixXd& theta, const IrtItems& items,
                     Eigen::MatrixXd* grad_theta, Eigen::MatrixXd* grad_a, Eigen::VectorXd* grad_b) {
  const Eigen::ArrayXXd z = logits(theta, items);
  // Cross-entropy in a stable form: softplus(z) − y·z.
  const Eigen::ArrayXXd softplus = z.max(0) + (-z.abs()).exp().log1p();
  double f = (softplus - y.array() * z).sum();
  f += 0.5 * kThetaPrior * theta.squaredNorm() + 0.5 * kAPrior * (items.a.array() - 1).square().sum() +
       0.5 * kBPrior * items.b.squaredNorm();
  if (grad_theta && grad_a && grad_b) irt_gradient(y, theta, items, *grad_theta, *grad_a, *grad_b);
  return f;
}

void irt_gradient(const Eigen::MatrixXd& y, const Eigen::MatrixXd& theta, const IrtItems& items, Eigen::MatrixXd& grad_theta,
                  Eigen::MatrixXd& grad_a, Eigen::VectorXd& grad_b) {
  const Eigen::MatrixXd r = ((1 / (1 + (-logits(theta, items)).exp())) - y.array()).matrix();  // ∂f/∂z
  grad_theta = r * items.a + kThetaPrior * theta;
  grad_a = r.transpose() * theta + kAPrior * (items.a.array() - 1).matrix();
  grad_b = -r.colwise().sum().transpose() + kBPrior * items.b;
}

IrtFit fit_irt(const Eigen::MatrixXd& y, const IrtOptions& opt) {
  const Eigen::Index n = y.rows(), m = y.cols(), d = opt.dims;
  std::mt19937_64 rng(opt.seed);
  std::normal_distribution<double> noise(0, 0.1);
  IrtFit fit;
  // Start from what the data say: ability from each model's mean score, difficulty from each item's.
  fit.theta.resize(n, d);
  for (Eigen::Index i = 0; i < n; ++i) {
    const double p = std::clamp(y.row(i).mean(), 0.02, 0.98);
    for (Eigen::Index k = 0; k < d; ++k) fit.theta(i, k) = (k == 0 ? std::log(p / (1 - p)) : 0) + noise(rng);
  }
  fit.items.a = Eigen::MatrixXd::Constant(m, d, 1.0);
  for (Eigen::Index j = 0; j < m; ++j)
    for (Eigen::Index k = 0; k < d; ++k) fit.items.a(j, k) += noise(rng);
  fit.items.b.resize(m);
  for (Eigen::Index j = 0; j < m; ++j) {
    const double p = std::clamp(y.col(j).mean(), 0.02, 0.98);
    fit.items.b(j) = -std::log(p / (1 - p));
  }
  Adam<Eigen::MatrixXd> at(fit.theta), aa(fit.items.a);
  Adam<Eigen::VectorXd> ab(fit.items.b);
  Eigen::MatrixXd gt, ga;
  Eigen::VectorXd gb;
  // Adam's steps do not depend on the gradient's scale, so one learning rate fits any matrix size.
  for (int t = 1; t <= opt.epochs; ++t) {
    irt_gradient(y, fit.theta, fit.items, gt, ga, gb);
    at.step(fit.theta, gt, opt.learning_rate, t);
    aa.step(fit.items.a, ga, opt.learning_rate, t);
    ab.step(fit.items.b, gb, opt.learning_rate, t);
  }
  return fit;
}

Eigen::VectorXd fit_ability(const IrtItems& items, const std::vector<int>& seen, const std::vector<double>& scores) {
  const Eigen::Index d = items.dims();
  // The log posterior is concave in θ: Newton's method with step halving always climbs.
  auto log_post = [&](const Eigen::VectorXd& t) {
    double f = -0.5 * kThetaPrior * t.squaredNorm();
    for (size_t k = 0; k < seen.size(); ++k) {
      const double z = items.a.row(seen[k]).dot(t) - items.b(seen[k]);
      f += scores[k] * z - (std::max(z, 0.0) + std::log1p(std::exp(-std::fabs(z))));
    }
    return f;
  };
  Eigen::VectorXd theta = Eigen::VectorXd::Zero(d);
  double f = log_post(theta);
  for (int iter = 0; iter < 100; ++iter) {
    Eigen::VectorXd g = -kThetaPrior * theta;
    Eigen::MatrixXd h = -kThetaPrior * Eigen::MatrixXd::Identity(d, d);
    for (size_t k = 0; k < seen.size(); ++k) {
      const Eigen::VectorXd a = items.a.row(seen[k]).transpose();
      const double p = sigmoid(a.dot(theta) - items.b(seen[k]));
      g += (scores[k] - p) * a;
      h -= p * (1 - p) * a * a.transpose();
    }
    Eigen::VectorXd step = -h.ldlt().solve(g);  // ascent direction
    double t = 1;
    Eigen::VectorXd next = theta + step;
    double fn = log_post(next);
    while (fn < f && t > 1e-6) {
      t /= 2;
      next = theta + t * step;
      fn = log_post(next);
    }
    if (fn < f) break;
    const double moved = (next - theta).norm();
    theta = next;
    f = fn;
    if (moved < 1e-9) break;
  }
  return theta;
}

double predicted_mean(const IrtItems& items, const Eigen::VectorXd& theta, const std::vector<int>& which) {
  if (which.empty()) {
    const Eigen::ArrayXd z = (items.a * theta - items.b).array();
    return (1 / (1 + (-z).exp())).mean();
  }
  double s = 0;
  for (int j : which) s += sigmoid(items.a.row(j).dot(theta) - items.b(j));
  return s / static_cast<double>(which.size());
}

}  // namespace reckon
