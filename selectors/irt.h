#pragma once
// Item response theory, 2PL (optionally multidimensional), fitted by MAP with Eigen:
//   P(correct | model i, item j) = σ(a_j · θ_i − b_j),
// priors θ ~ N(0, I), a ~ N(1, 1) per dimension, b ~ N(0, 3²). Scores in [0, 1] are used as soft
// labels (cross-entropy), so the same fit serves 0/1 and graded matrices.
#include <Eigen/Dense>
#include <cstdint>
#include <vector>

namespace reckon {

struct IrtItems {
  Eigen::MatrixXd a;  // items × dims (discrimination)
  Eigen::VectorXd b;  // items (difficulty)
  Eigen::Index dims() const { return a.cols(); }
};

struct IrtFit {
  IrtItems items;
  Eigen::MatrixXd theta;  // models × dims (ability)
};

struct IrtOptions {
  int dims = 3;  // multidimensional by default: MMLU-like mixes of skills need it (README table)
  int epochs = 250;
  double learning_rate = 0.1;
  uint64_t seed = 1;
};

// Negative log posterior of y (models × items) and, when the pointers are set, its gradient.
double irt_objective(const Eigen::MatrixXd& y, const Eigen::MatrixXd& theta, const IrtItems& items,
                     Eigen::MatrixXd* grad_theta, Eigen::MatrixXd* grad_a, Eigen::VectorXd* grad_b);
// The gradient alone (what training needs: one exp per entry).
void irt_gradient(const Eigen::MatrixXd& y, const Eigen::MatrixXd& theta, const IrtItems& items, Eigen::MatrixXd& grad_theta,
                  Eigen::MatrixXd& grad_a, Eigen::VectorXd& grad_b);

// Full-batch Adam on all parameters; the cost of an epoch is linear in the matrix's entries.
IrtFit fit_irt(const Eigen::MatrixXd& y, const IrtOptions& opt);

// One model's ability from its scores on some items, items fixed (MAP, Newton's method).
Eigen::VectorXd fit_ability(const IrtItems& items, const std::vector<int>& seen, const std::vector<double>& scores);

// Mean predicted score over `which` items (all when empty) at ability θ.
double predicted_mean(const IrtItems& items, const Eigen::VectorXd& theta, const std::vector<int>& which);

}  // namespace reckon
