#include "selectors/cluster.h"

#include <algorithm>
#include <limits>
#include <random>

namespace reckon {

Eigen::MatrixXd pairwise_distances(const Eigen::MatrixXd& points) {
  const Eigen::MatrixXd gram = points * points.transpose();
  const Eigen::VectorXd sq = gram.diagonal();
  Eigen::MatrixXd d2 = (-2 * gram).colwise() + sq;
  d2.rowwise() += sq.transpose();
  return d2.cwiseMax(0).cwiseSqrt();
}

Clustering k_medoids(const Eigen::MatrixXd& distances, int k, uint64_t seed) {
  const int n = static_cast<int>(distances.rows());
  k = std::clamp(k, 1, std::max(n, 1));
  std::mt19937_64 rng(seed);
  Clustering c;
  // Seeding: each next medoid drawn with probability ∝ squared distance to the nearest one so far.
  c.medoids.push_back(static_cast<int>(std::uniform_int_distribution<int>(0, n - 1)(rng)));
  Eigen::VectorXd nearest = distances.col(c.medoids[0]);
  while (static_cast<int>(c.medoids.size()) < k) {
    Eigen::VectorXd w = nearest.array().square();
    for (int m : c.medoids) w(m) = 0;
    int next = -1;
    if (w.sum() > 0) {
      std::discrete_distribution<int> pick(w.data(), w.data() + w.size());
      next = pick(rng);
    } else {  // every row coincides with a medoid: take any unused row
      for (int i = 0; i < n && next < 0; ++i)
        if (std::find(c.medoids.begin(), c.medoids.end(), i) == c.medoids.end()) next = i;
    }
    c.medoids.push_back(next);
    nearest = nearest.cwiseMin(distances.col(next));
  }
  c.assignment.assign(n, 0);
  for (int iter = 0; iter < 100; ++iter) {
    for (int i = 0; i < n; ++i) {
      double best = std::numeric_limits<double>::infinity();
      for (int q = 0; q < k; ++q)
        if (distances(i, c.medoids[q]) < best) best = distances(i, c.medoids[q]), c.assignment[i] = q;
    }
    for (int q = 0; q < k; ++q) c.assignment[c.medoids[q]] = q;  // a medoid stays in its own cluster
    bool changed = false;
    std::vector<std::vector<int>> members(k);
    for (int i = 0; i < n; ++i) members[c.assignment[i]].push_back(i);
    for (int q = 0; q < k; ++q) {
      int best_row = c.medoids[q];
      double best = std::numeric_limits<double>::infinity();
      for (int cand : members[q]) {
        double s = 0;
        for (int other : members[q]) s += distances(cand, other);
        if (s < best - 1e-12) best = s, best_row = cand;
      }
      if (best_row != c.medoids[q]) c.medoids[q] = best_row, changed = true;
    }
    if (!changed) break;
  }
  c.sizes.assign(k, 0);
  for (int q : c.assignment) ++c.sizes[q];
  return c;
}

}  // namespace reckon
