#pragma once
// k-medoids over points (rows): the representatives of a subset are real items, never averages.
#include <Eigen/Dense>
#include <cstdint>
#include <vector>

namespace reckon {

struct Clustering {
  std::vector<int> medoids;     // row index of each cluster's representative
  std::vector<int> assignment;  // cluster of each row
  std::vector<int> sizes;       // rows per cluster
};

// Euclidean distances between all rows (n × n), through the Gram matrix.
Eigen::MatrixXd pairwise_distances(const Eigen::MatrixXd& points);

// k-medoids (k-medoids++ seeding, then alternating assignment and medoid update until stable).
// k is clamped to the number of rows. Deterministic for a seed.
Clustering k_medoids(const Eigen::MatrixXd& distances, int k, uint64_t seed);

}  // namespace reckon
