#pragma once
// Scales++ (Bean et al., arXiv 2510.26384; METHODS.md §2): every item gets a vector of cognitive-demand
// levels 0–5 on ADeLe's 18 General Scales (its rubrics), annotated by a model from the item
// text alone, so a subset can be chosen for a benchmark no model has been run on. Here: the rubric
// summaries and the annotation prompt, the strict parser of an annotator's answer, and the item
// spaces the `scales`, `scales-lite` and `text` selectors cluster in.
#include <Eigen/Dense>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/message.h"

namespace reckon {

struct ScaleDimension {
  const char* code;         // ADeLe's code, e.g. "QLq"
  const char* name;
  const char* rubric;       // reckon's own summary of the rubric: what is measured, and levels 0 and 5
  const char* rubric_file;  // the ADeLe rubric file with the full text (for --rubrics DIR); nullptr: none published
};
// The 18 scales in ADeLe's alphabetical order (AS, AT, CEc, CEe, CL, KNa, KNc, KNf, KNn, KNs, MCr, MCt,
// MCu, MS, QLl, QLq, SNs, VO), the order of every stored vector. Unguessability (UG) is not a scale.
const std::vector<ScaleDimension>& scale_dimensions();
constexpr int kScaleDimensions = 18;
// Vectors stored before the 18 scales: 16 levels, with UG and without MCr, MCu and MS.
constexpr int kFormerScaleDimensions = 16;

// The full ADeLe rubric texts from a folder (one file per dimension, as ADeLe names them); an
// InputError names a missing file.
std::map<std::string, std::string> load_rubrics(const std::string& dir);

// The annotation request for one item: the rubrics (summaries, or full texts when given), the item,
// and the answer format (one JSON object with every code as key and an integer level 0–5).
std::vector<Message> scales_prompt(const std::string& item_text, const std::map<std::string, std::string>* full_rubrics = nullptr);

// Parses an annotator's answer strictly: one JSON object (a ```json fence allowed) with exactly the
// 18 codes, each an integer 0–5. InputError saying what is wrong.
std::vector<double> parse_scale_levels(const std::string& answer);

// Cold-start item space from text alone: hashed TF-IDF of each text, reduced to its `dims` leading
// principal coordinates (eigenvectors of the items' Gram matrix).
Eigen::MatrixXd text_space(const std::vector<std::string>& texts, int dims);

// Scales++ Lite: every item's demand levels, predicted from its TF-IDF by kernel ridge regression
// trained on the annotated items (which keep their own levels). At least 10 annotated items.
Eigen::MatrixXd lite_space(const std::vector<std::string>& texts, const std::vector<std::optional<std::vector<double>>>& levels,
                           double ridge = 1.0);

// A logistic model of one model's correctness on item coordinates, fitted on the items it was
// scored on (L2 penalty `ridge` on the slopes): its predicted probabilities for `predict` rows.
Eigen::VectorXd demand_model_predict(const Eigen::MatrixXd& seen, const std::vector<double>& scores, const Eigen::MatrixXd& predict,
                                     double ridge = 1.0);

}  // namespace reckon
