#include "selectors/scales.h"
#include "common/json_parse.h"

#include <Eigen/Eigenvalues>
#include <Eigen/Sparse>
#include <algorithm>
#include <cmath>
#include <fstream>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/text.h"
#include "routers/features.h"

namespace reckon {

// Summaries written for reckon from the facts of ADeLe's rubrics (Kinds-of-Intelligence-CFI/
// ADeLe-AIEvaluation, src/adele/rubrics/data_v1, MIT licence, © 2025 Lexin Zhou): what each scale
// measures and what its ends mean. `--rubrics DIR` sends the full rubric texts instead.
const std::vector<ScaleDimension>& scale_dimensions() {
  static const std::vector<ScaleDimension> dims = {
      {"AS", "Attention and scan",
       "How much the task needs locating and tracking target information among distractors. 0: the target is the only or an "
       "obvious piece of information; 5: sustained tracking of several targets among many distractors in long or changing input.",
       "AS.txt"},
      {"AT", "Atypicality",
       "How unlikely the task and this very instance are to have been seen before (web, textbooks, tests). 0: a widely known "
       "instance, word for word; 5: a formulation unlike anything in common sources.",
       "AT.txt"},
      {"CEc", "Verbal comprehension",
       "How hard it is to understand the text, story or other semantic content, explicit and implicit. 0: nothing to "
       "understand; 5: dense, abstract or highly implicit material that needs expert interpretation.",
       "CEc.txt"},
      {"CEe", "Verbal expression",
       "How demanding the required expression is: vocabulary, genre, articulating ideas. 0: no expression (a choice, a number); "
       "5: long, sophisticated writing in a demanding genre.",
       "CEe.txt"},
      {"CL", "Conceptualisation, learning and abstraction",
       "How much the task needs forming new concepts, induction, analogy or abstraction from examples. 0: none; 5: building "
       "novel abstractions across domains.",
       "CL.txt"},
      {"KNa", "Knowledge of applied sciences",
       "Depth of knowledge of applied sciences and professions (medicine, law, business, education, agriculture, engineering). "
       "0: none; 1: elementary school; 2: middle school; 3: high school; 4: undergraduate; 5: graduate or beyond.",
       "KNa.txt"},
      {"KNc", "Customary everyday knowledge",
       "Depth of everyday knowledge gained from daily life, social interaction and media rather than schooling. 0: none; "
       "5: obscure everyday or cultural knowledge few people have.",
       "KNc.txt"},
      {"KNf", "Knowledge of formal sciences",
       "Depth of knowledge of mathematics, logic, computer science and statistics. 0: none; 1: elementary school; 2: middle "
       "school; 3: high school; 4: undergraduate; 5: graduate or beyond.",
       "KNf.txt"},
      {"KNn", "Knowledge of natural sciences",
       "Depth of knowledge of physics, chemistry, biology, astronomy, earth sciences and ecology. 0: none; 1: elementary "
       "school; 2: middle school; 3: high school; 4: undergraduate; 5: graduate or beyond.",
       "KNn.txt"},
      {"KNs", "Knowledge of social sciences and humanities",
       "Depth of knowledge of history, psychology, sociology, anthropology, literature, art, philosophy and linguistics. "
       "0: none; 1: elementary school; 2: middle school; 3: high school; 4: undergraduate; 5: graduate or beyond.",
       "KNs.txt"},
      {"MCr", "Identifying relevant information",
       "How much the task needs telling which of the available information matters for the answer and setting the rest "
       "aside. 0: everything given is relevant and plain; 5: the few relevant facts hide among much plausible but "
       "irrelevant or misleading material.",
       nullptr},
      {"MCt", "Critical thinking processes",
       "How much the task needs monitoring and regulating several lines of thought. 0: simple recall; 5: weighing many "
       "competing considerations and checking one's own reasoning throughout.",
       "MCt.txt"},
      {"MCu", "Calibrating knowns and unknowns",
       "How much the task needs judging the limits of one's own knowledge: what one knows, what one does not and how sure "
       "one is. 0: the knowledge is plainly certain or plainly absent; 5: continuous, nuanced appraisal of uncertainty where "
       "knowing when not to answer matters.",
       nullptr},
      {"MS", "Mind modelling and social cognition",
       "How much the task needs modelling the beliefs, desires, intentions and emotions of others (or of oneself). 0: no "
       "agent's mind is involved; 5: nested, conflicting mental states of several agents in a subtle social situation.",
       nullptr},
      {"QLl", "Logical reasoning",
       "How much deduction, rule following and constraint satisfaction the task needs. 0: none; 5: long chains of deduction "
       "with many interacting constraints.",
       "QLl.txt"},
      {"QLq", "Quantitative reasoning",
       "How much working with numbers and quantities the task needs. 0: none; 1: counting or one simple operation; 5: "
       "multi-step advanced quantitative modelling.",
       "QLq.txt"},
      {"SNs", "Spatio-physical reasoning",
       "How much understanding of spatial relations and physical interactions the task needs. 0: none; 5: mentally "
       "manipulating many objects through transformations and predicting their interactions.",
       "SNs.txt"},
      {"VO", "Volume",
       "Time a competent, motivated person needs to read and complete the task. 0: under a second; 1: a few seconds; 2: "
       "under a minute; 3: a few minutes; 4: about an hour; 5: many hours.",
       "VO.txt"},
  };
  return dims;
}

std::map<std::string, std::string> load_rubrics(const std::string& dir) {
  std::map<std::string, std::string> out;
  for (const auto& d : scale_dimensions()) {
    // MCr, MCu and MS have no rubric file in ADeLe's data_v1: `<code>.txt` when the folder has one,
    // else reckon's summary.
    const std::string path = dir + "/" + (d.rubric_file ? d.rubric_file : std::string(d.code) + ".txt");
    std::ifstream in(path, std::ios::binary);
    if (!in && !d.rubric_file) {
      out[d.code] = d.rubric;
      continue;
    }
    if (!in) throw InputError(path + ": rubric file for " + d.code + " (" + d.name + ") not found");
    std::stringstream s;
    s << in.rdbuf();
    out[d.code] = s.str();
  }
  return out;
}

std::vector<Message> scales_prompt(const std::string& item_text, const std::map<std::string, std::string>* full) {
  std::string sys =
      "You annotate the cognitive demands of a task on the 18 General Scales (ADeLe). For each scale, give the level 0-5 "
      "the task demands of whoever solves it, judging from the task text alone (do not solve it).\n\n";
  std::string keys;
  for (const auto& d : scale_dimensions()) {
    sys += std::string("## ") + d.code + ": " + d.name + "\n" + (full ? full->at(d.code) : std::string(d.rubric)) + "\n\n";
    keys += (keys.empty() ? "" : ", ") + std::string("\"") + d.code + "\": <0-5>";
  }
  sys += "Reply with one JSON object and nothing else: {" + keys + "}. Every level is an integer from 0 to 5.";
  return {{"system", sys}, {"user", "Task:\n" + item_text}};
}

std::vector<double> parse_scale_levels(const std::string& answer) {
  std::string text = trim(answer);
  if (starts_with(text, "```")) {  // a fenced block: its inside
    const size_t nl = text.find('\n'), close = text.rfind("```");
    if (nl == std::string::npos || close <= nl) throw InputError("unterminated ``` block");
    text = trim(text.substr(nl + 1, close - nl - 1));
  }
  const auto j = parse_json(text, false);
  if (!j.is_object()) throw InputError("the answer is not one JSON object");
  std::vector<double> levels;
  std::set<std::string> known;
  for (const auto& d : scale_dimensions()) {
    known.insert(d.code);
    if (!j.contains(d.code)) throw InputError(std::string("no level for '") + d.code + "'");
    const auto& v = j[d.code];
    if (!v.is_number_integer()) throw InputError(std::string("level of '") + d.code + "' is not an integer: " + v.dump());
    const auto level = v.get<int64_t>();
    if (level < 0 || level > 5) throw InputError(std::string("level of '") + d.code + "' is " + std::to_string(level) + ", not 0-5");
    levels.push_back(static_cast<double>(level));
  }
  for (const auto& [k, v] : j.items())
    if (!known.count(k)) throw InputError("unknown scale '" + k + "'");
  return levels;
}

namespace {

Eigen::SparseMatrix<double, Eigen::RowMajor> tfidf_rows(const std::vector<std::string>& texts) {
  TextFeaturizer f(16);
  f.fit(texts);
  std::vector<Eigen::Triplet<double>> t;
  for (size_t r = 0; r < texts.size(); ++r) {
    const SparseVec v = f.transform(texts[r]);
    for (size_t k = 0; k < v.idx.size(); ++k)
      if (v.idx[k] < (1u << 16)) t.emplace_back(static_cast<int>(r), static_cast<int>(v.idx[k]), v.val[k]);  // n-grams only
  }
  Eigen::SparseMatrix<double, Eigen::RowMajor> x(static_cast<Eigen::Index>(texts.size()), 1 << 16);
  x.setFromTriplets(t.begin(), t.end());
  return x;
}

}  // namespace

Eigen::MatrixXd text_space(const std::vector<std::string>& texts, int dims) {
  const auto n = static_cast<Eigen::Index>(texts.size());
  if (n < 2) throw InputError("the text item space needs at least 2 items");
  const auto x = tfidf_rows(texts);
  Eigen::MatrixXd k = Eigen::MatrixXd(x * x.transpose());
  // Double centering: the Gram matrix of the centered vectors (kernel PCA with a linear kernel).
  const Eigen::VectorXd row_mean = k.rowwise().mean();
  const double all_mean = row_mean.mean();
  k = (k.colwise() - row_mean).rowwise() - row_mean.transpose();
  k.array() += all_mean;
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(k);
  const int d = static_cast<int>(std::min<Eigen::Index>(dims, n - 1));
  Eigen::MatrixXd out(n, d);
  for (int c = 0; c < d; ++c) {
    const Eigen::Index src = n - 1 - c;  // eigenvalues ascend
    out.col(c) = eig.eigenvectors().col(src) * std::sqrt(std::max(0.0, eig.eigenvalues()(src)));
  }
  return out;
}

Eigen::MatrixXd lite_space(const std::vector<std::string>& texts, const std::vector<std::optional<std::vector<double>>>& levels,
                           double ridge) {
  const auto n = static_cast<Eigen::Index>(texts.size());
  std::vector<int> annotated;
  for (size_t i = 0; i < levels.size(); ++i)
    if (levels[i]) annotated.push_back(static_cast<int>(i));
  if (annotated.size() < 10)
    throw InputError("scales-lite needs at least 10 annotated items to learn from, found " + std::to_string(annotated.size()) +
                     " (run `reckon scales annotate --fraction F`)");
  const auto x = tfidf_rows(texts);
  const auto m = static_cast<Eigen::Index>(annotated.size());
  Eigen::SparseMatrix<double, Eigen::RowMajor> xa(m, x.cols());
  {
    std::vector<Eigen::Triplet<double>> t;
    for (Eigen::Index r = 0; r < m; ++r)
      for (Eigen::SparseMatrix<double, Eigen::RowMajor>::InnerIterator it(x, annotated[static_cast<size_t>(r)]); it; ++it)
        t.emplace_back(static_cast<int>(r), static_cast<int>(it.col()), it.value());
    xa.setFromTriplets(t.begin(), t.end());
  }
  Eigen::MatrixXd y(m, kScaleDimensions);
  for (Eigen::Index r = 0; r < m; ++r)
    for (int c = 0; c < kScaleDimensions; ++c) y(r, c) = (*levels[static_cast<size_t>(annotated[static_cast<size_t>(r)])])[static_cast<size_t>(c)];
  const Eigen::RowVectorXd mean = y.colwise().mean();
  Eigen::MatrixXd kaa = Eigen::MatrixXd(xa * xa.transpose());
  kaa.diagonal().array() += ridge;
  const Eigen::MatrixXd alpha = kaa.ldlt().solve(y.rowwise() - mean);
  Eigen::MatrixXd out = (Eigen::MatrixXd(x * xa.transpose()) * alpha).rowwise() + mean;
  out = out.cwiseMax(0.0).cwiseMin(5.0);
  for (int i : annotated)
    for (int c = 0; c < kScaleDimensions; ++c) out(i, c) = (*levels[static_cast<size_t>(i)])[static_cast<size_t>(c)];
  (void)n;
  return out;
}

Eigen::VectorXd demand_model_predict(const Eigen::MatrixXd& seen, const std::vector<double>& scores, const Eigen::MatrixXd& predict,
                                     double ridge) {
  const Eigen::Index n = seen.rows(), d = seen.cols();
  Eigen::MatrixXd x(n, d + 1);
  x << Eigen::VectorXd::Ones(n), seen;
  const Eigen::VectorXd y = Eigen::Map<const Eigen::VectorXd>(scores.data(), n);
  Eigen::VectorXd w = Eigen::VectorXd::Zero(d + 1);
  const double mean = std::clamp(y.mean(), 0.02, 0.98);
  w(0) = std::log(mean / (1 - mean));
  Eigen::VectorXd penalty = Eigen::VectorXd::Constant(d + 1, ridge);
  penalty(0) = 1e-6;
  for (int iter = 0; iter < 30; ++iter) {
    const Eigen::VectorXd p = (1.0 + (-(x * w)).array().exp()).inverse().matrix();
    const Eigen::VectorXd g = x.transpose() * (p - y) + penalty.cwiseProduct(w);
    const Eigen::VectorXd s = p.array() * (1 - p.array());
    Eigen::MatrixXd h = x.transpose() * s.asDiagonal() * x;
    h.diagonal() += penalty;
    const Eigen::VectorXd step = h.ldlt().solve(g);
    w -= step;
    if (step.norm() < 1e-8) break;
  }
  Eigen::MatrixXd xp(predict.rows(), d + 1);
  xp << Eigen::VectorXd::Ones(predict.rows()), predict;
  return (1.0 + (-(xp * w)).array().exp()).inverse().matrix();
}

}  // namespace reckon
