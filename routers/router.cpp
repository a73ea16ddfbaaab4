#include "routers/router.h"

#include <Eigen/Dense>
#include <algorithm>
#include <random>
#include <cmath>
#include <cstring>
#include <numeric>
#include <thread>
#include <unordered_map>

#include "common/error.h"

namespace reckon {
namespace {

std::vector<SparseVec> featurize(const TextFeaturizer& f, const RoutingSet& s, const std::vector<size_t>& rows) {
  std::vector<SparseVec> x;
  x.reserve(rows.size());
  for (size_t r : rows) x.push_back(f.transform(s.query(r)));
  return x;
}

// IDF from the training rows' texts, and the given features' scale from their values.
void fit_features(TextFeaturizer& f, const RoutingSet& s, const std::vector<size_t>& rows) {
  std::vector<std::string> texts;
  std::vector<std::vector<double>> given;
  for (size_t r : rows) {
    texts.push_back(s.texts[r]);
    if (!s.features.empty()) given.push_back(s.features[r]);
  }
  f.fit(texts);
  f.fit_given(s.feature_names, given);
}

// `softmax` (SFT on cheapest-correct labels) and `dpo` (then DPO on preference pairs, the SFT policy
// as reference): the policy's most probable class is the choice; for a pair, P(costlier) escalates.
class PolicyRouter : public Router {
 public:
  PolicyRouter(std::string kind, std::vector<std::string> candidates, std::vector<double> costs)
      : kind_(std::move(kind)), candidates_(std::move(candidates)), costs_(std::move(costs)) {}
  void train(const RoutingSet& s, const std::vector<size_t>& rows, const RouterOptions& opt) override {
    unsolved_class_ = opt.unsolved_class;
    fit_features(features_, s, rows);
    const auto x = featurize(features_, s, rows);
    const auto labels = cheapest_correct_labels(s, rows, opt.unsolved_class);
    policy_ = LinearPolicy(static_cast<int>(candidates_.size()) + (opt.unsolved_class ? 1 : 0), features_.dim());
    train_sft(policy_, x, labels, opt.train);
    if (kind_ == "dpo") {
      const LinearPolicy reference = policy_;
      train_dpo(policy_, reference, x, preference_pairs(s, rows), opt.train);
    }
  }
  int choose(const Query& text) const override {
    auto p = policy_.probs(features_.transform(text));
    if (unsolved_class_) p.pop_back();  // "unsolved" is not a candidate: pick among the real ones
    return static_cast<int>(std::max_element(p.begin(), p.end()) - p.begin());
  }
  double escalation(const Query& text) const override {
    auto p = policy_.probs(features_.transform(text));
    return 1 - p[0];  // anything but the cheapest
  }
  std::vector<double> p_correct(const Query& text) const override {
    auto p = policy_.probs(features_.transform(text));
    if (unsolved_class_) p.pop_back();
    std::vector<double> out(p.size());
    std::partial_sum(p.begin(), p.end(), out.begin());
    return out;
  }
  nlohmann::json params() const override {
    return {{"kind", kind_}, {"candidates", candidates_}, {"costs", costs_}, {"unsolved_class", unsolved_class_},
            {"features", features_.to_json()}};
  }
  std::string model_blob() const override { return policy_.serialize(); }
  void restore(const nlohmann::json& j, const std::string& blob) {
    unsolved_class_ = j.at("unsolved_class").get<bool>();
    features_ = TextFeaturizer::from_json(j.at("features"));
    policy_ = LinearPolicy::deserialize(blob);
  }

 private:
  std::string kind_;
  std::vector<std::string> candidates_;
  std::vector<double> costs_;
  bool unsolved_class_ = false;
  TextFeaturizer features_;
  LinearPolicy policy_;
};

// `cascade`: one "is this candidate enough?" classifier per candidate but the last; a query goes to
// the first candidate whose classifier says yes with probability ≥ the threshold.
class CascadeRouter : public Router {
 public:
  CascadeRouter(std::vector<std::string> candidates, std::vector<double> costs)
      : candidates_(std::move(candidates)), costs_(std::move(costs)) {}
  void train(const RoutingSet& s, const std::vector<size_t>& rows, const RouterOptions& opt) override {
    threshold_ = opt.cascade_threshold;
    fit_features(features_, s, rows);
    const auto x = featurize(features_, s, rows);
    steps_.clear();
    for (size_t k = 0; k + 1 < candidates_.size(); ++k) {
      std::vector<int> enough;
      for (size_t r : rows) enough.push_back(s.correct[r][k] >= 0.5 ? 1 : 0);
      LinearPolicy p(2, features_.dim());
      train_sft(p, x, enough, opt.train);
      steps_.push_back(std::move(p));
    }
    last_rate_ = 0;
    for (size_t r : rows) last_rate_ += s.correct[r].back() / static_cast<double>(rows.size());
  }
  std::vector<double> p_correct(const Query& text) const override {
    const auto x = features_.transform(text);
    std::vector<double> out;
    for (const auto& step : steps_) out.push_back(step.probs(x)[1]);
    // No classifier for the last candidate: its training accuracy, and at least what a cheaper one gets.
    out.push_back(std::max(last_rate_, out.empty() ? 0.0 : *std::max_element(out.begin(), out.end())));
    return out;
  }
  int choose(const Query& text) const override {
    const auto x = features_.transform(text);
    for (size_t k = 0; k < steps_.size(); ++k)
      if (steps_[k].probs(x)[1] >= threshold_) return static_cast<int>(k);
    return static_cast<int>(candidates_.size()) - 1;
  }
  double escalation(const Query& text) const override { return 1 - steps_.at(0).probs(features_.transform(text))[1]; }
  nlohmann::json params() const override {
    return {{"kind", "cascade"}, {"candidates", candidates_}, {"costs", costs_}, {"threshold", threshold_},
            {"last_rate", last_rate_}, {"features", features_.to_json()}};
  }
  std::string model_blob() const override {
    std::string out;
    for (const auto& p : steps_) {
      const std::string b = p.serialize();
      const uint64_t n = b.size();
      out.append(reinterpret_cast<const char*>(&n), sizeof n).append(b);
    }
    return out;
  }
  void restore(const nlohmann::json& j, const std::string& blob) {
    threshold_ = j.at("threshold").get<double>();
    last_rate_ = j.value("last_rate", 1.0);
    features_ = TextFeaturizer::from_json(j.at("features"));
    for (size_t pos = 0; pos < blob.size();) {
      uint64_t n = 0;
      if (pos + sizeof n > blob.size()) throw InputError("router model: truncated");
      std::memcpy(&n, blob.data() + pos, sizeof n);
      pos += sizeof n;
      if (pos + n > blob.size()) throw InputError("router model: truncated");
      steps_.push_back(LinearPolicy::deserialize(blob.substr(pos, n)));
      pos += n;
    }
    if (steps_.size() + 1 != candidates_.size()) throw InputError("router model: wrong number of cascade steps");
  }

 private:
  std::vector<std::string> candidates_;
  std::vector<double> costs_;
  double threshold_ = 0.6, last_rate_ = 1;
  TextFeaturizer features_;
  std::vector<LinearPolicy> steps_;
};

// `rule`: thresholds on one query statistic (EllieSQL's is the linked schema's size; for free text,
// the query's length): a query goes to the first candidate whose threshold its value does not pass,
// so larger values go to costlier candidates. The thresholds maximize training accuracy (ties: the
// cheaper assignment), found exactly by dynamic programming over the sorted values.
class RuleRouter : public Router {
 public:
  RuleRouter(std::vector<std::string> candidates, std::vector<double> costs)
      : candidates_(std::move(candidates)), costs_(std::move(costs)) {}
  double feature(const Query& q) const {
    if (given_ >= 0) {
      if (static_cast<size_t>(given_) >= q.features.size())
        throw InputError("this rule router thresholds the feature '" + feature_ + "': give it with each query");
      return q.features[static_cast<size_t>(given_)];
    }
    if (feature_ == "tables") return schema_counts(std::string(q.text)).tables;
    if (feature_ == "columns") return schema_counts(std::string(q.text)).columns;
    return static_cast<double>(q.text.size());
  }
  void train(const RoutingSet& s, const std::vector<size_t>& rows, const RouterOptions& opt) override {
    feature_ = opt.rule_feature;
    given_ = -1;
    given_names_ = s.feature_names;
    for (size_t f = 0; f < s.feature_names.size(); ++f)
      if (s.feature_names[f] == feature_) given_ = static_cast<int>(f);
    if (given_ < 0 && feature_ != "length" && feature_ != "tables" && feature_ != "columns")
      throw InputError("the rule router's feature is length, tables, columns or a feature column, not '" + feature_ + "'");
    if (rows.empty()) throw InputError("the rule router needs training queries");
    std::vector<std::pair<double, size_t>> by(rows.size());
    for (size_t i = 0; i < rows.size(); ++i) by[i] = {feature(s.query(rows[i])), rows[i]};
    std::sort(by.begin(), by.end());
    // Groups of equal values; per group, each candidate's correct answers.
    std::vector<double> value;
    std::vector<std::vector<double>> correct;
    std::vector<double> count;
    const size_t k = candidates_.size();
    for (const auto& [v, r] : by) {
      if (value.empty() || value.back() != v) value.push_back(v), correct.emplace_back(k, 0.0), count.push_back(0);
      for (size_t c = 0; c < k; ++c) correct.back()[c] += s.correct[r][c];
      count.back() += 1;
    }
    // best[g][c]: (accuracy, −cost) of groups 0..g with group g sent to c, candidates non-decreasing.
    using Score = std::pair<double, double>;
    const size_t groups = value.size();
    std::vector<std::vector<Score>> best(groups, std::vector<Score>(k));
    std::vector<std::vector<size_t>> from(groups, std::vector<size_t>(k, 0));
    for (size_t g = 0; g < groups; ++g) {
      Score run{-INFINITY, 0};
      size_t arg = 0;
      for (size_t c = 0; c < k; ++c) {
        if (g > 0 && best[g - 1][c] > run) run = best[g - 1][c], arg = c;
        const Score here{correct[g][c], -costs_[c] * count[g]};
        best[g][c] = g == 0 ? here : Score{run.first + here.first, run.second + here.second};
        from[g][c] = arg;
      }
    }
    std::vector<size_t> sent(groups);
    sent[groups - 1] = static_cast<size_t>(std::max_element(best[groups - 1].begin(), best[groups - 1].end()) - best[groups - 1].begin());
    for (size_t g = groups - 1; g > 0; --g) sent[g - 1] = from[g][sent[g]];
    // Threshold c: the largest value sent to candidate c or a cheaper one (below every value if none).
    thresholds_.assign(k - 1, value.front() - 1);
    for (size_t g = 0; g < groups; ++g)
      for (size_t c = sent[g]; c + 1 < k; ++c) thresholds_[c] = value[g];
  }
  int choose(const Query& q) const override {
    const double v = feature(q);
    for (size_t c = 0; c < thresholds_.size(); ++c)
      if (v <= thresholds_[c]) return static_cast<int>(c);
    return static_cast<int>(candidates_.size()) - 1;
  }
  double escalation(const Query& q) const override { return feature(q); }
  std::vector<double> p_correct(const Query& q) const override { return chosen_and_costlier(choose(q), candidates_.size()); }
  nlohmann::json params() const override {
    return {{"kind", "rule"}, {"candidates", candidates_}, {"costs", costs_}, {"feature", feature_}, {"thresholds", thresholds_},
            {"given", given_names_}};
  }
  std::string model_blob() const override { return ""; }
  void restore(const nlohmann::json& j, const std::string&) {
    // Saved before several candidates: one "threshold".
    thresholds_ = j.contains("thresholds") ? j.at("thresholds").get<std::vector<double>>()
                                           : std::vector<double>{j.at("threshold").get<double>()};
    if (thresholds_.size() + 1 != candidates_.size()) throw InputError("router model: wrong number of rule thresholds");
    feature_ = j.value("feature", std::string("length"));
    given_names_ = j.value("given", std::vector<std::string>());
    given_ = -1;
    for (size_t f = 0; f < given_names_.size(); ++f)
      if (given_names_[f] == feature_) given_ = static_cast<int>(f);
  }

 private:
  std::vector<std::string> candidates_;
  std::vector<double> costs_;
  std::string feature_ = "length";
  std::vector<std::string> given_names_;  // the features queries carry, in order
  int given_ = -1;                        // the thresholded one among them, or −1 for a text statistic
  std::vector<double> thresholds_;        // one per candidate but the last, non-decreasing
};


// `logit`: per candidate, a calibrated P(correct) from the dense statistics alone (length, schema size,
// text-to-SQL cue words) and any given features — ridge logistic regression fitted exactly by Newton's
// method. Few parameters, so it carries from one database to another where n-gram weights do not;
// a query goes to the first candidate with P ≥ the threshold, or by cost with --lambda.
class LogitRouter : public Router {
 public:
  LogitRouter(std::vector<std::string> candidates, std::vector<double> costs)
      : candidates_(std::move(candidates)), costs_(std::move(costs)), features_(8) {}
  void train(const RoutingSet& s, const std::vector<size_t>& rows, const RouterOptions& opt) override {
    threshold_ = opt.cascade_threshold;
    fit_features(features_, s, rows);
    const Eigen::Index n = static_cast<Eigen::Index>(rows.size()), d = features_.dense_dim() + 1;
    Eigen::MatrixXd x(n, d);
    for (Eigen::Index i = 0; i < n; ++i) {
      const auto v = features_.dense(s.query(rows[static_cast<size_t>(i)]));
      x(i, 0) = 1;
      for (Eigen::Index k = 1; k < d; ++k) x(i, k) = v[static_cast<size_t>(k - 1)];
    }
    weights_.clear();
    for (size_t c = 0; c < candidates_.size(); ++c) {
      Eigen::VectorXd y(n);
      for (Eigen::Index i = 0; i < n; ++i) y(i) = s.correct[rows[static_cast<size_t>(i)]][c] >= 0.5 ? 1 : 0;
      Eigen::VectorXd w = Eigen::VectorXd::Zero(d);
      Eigen::MatrixXd ridge = kRidge * Eigen::MatrixXd::Identity(d, d);
      ridge(0, 0) = 0;  // the intercept is not shrunk
      for (int it = 0; it < 50; ++it) {
        const Eigen::ArrayXd p = 1 / (1 + (-(x * w).array()).exp());
        const Eigen::VectorXd grad = x.transpose() * (p.matrix() - y) + ridge * w;
        const Eigen::MatrixXd hess = x.transpose() * (p * (1 - p)).matrix().asDiagonal() * x + ridge +
                                     1e-9 * Eigen::MatrixXd::Identity(d, d);
        const Eigen::VectorXd step = hess.ldlt().solve(grad);
        w -= step;
        if (step.norm() < 1e-10) break;
      }
      weights_.emplace_back(w.data(), w.data() + w.size());
    }
  }
  std::vector<double> p_correct(const Query& q) const override {
    const auto v = features_.dense(q);
    std::vector<double> out;
    for (const auto& w : weights_) {
      double z = w[0];
      for (size_t k = 0; k < v.size(); ++k) z += w[k + 1] * v[k];
      out.push_back(1 / (1 + std::exp(-z)));
    }
    return out;
  }
  int choose(const Query& q) const override {
    const auto p = p_correct(q);
    for (size_t c = 0; c + 1 < p.size(); ++c)
      if (p[c] >= threshold_) return static_cast<int>(c);
    return static_cast<int>(p.size()) - 1;
  }
  double escalation(const Query& q) const override { return 1 - p_correct(q)[0]; }
  nlohmann::json params() const override {
    return {{"kind", "logit"}, {"candidates", candidates_}, {"costs", costs_}, {"threshold", threshold_}, {"ridge", kRidge},
            {"weights", weights_}, {"features", features_.to_json()}};
  }
  std::string model_blob() const override { return ""; }
  void restore(const nlohmann::json& j, const std::string&) {
    threshold_ = j.at("threshold").get<double>();
    features_ = TextFeaturizer::from_json(j.at("features"));
    weights_ = j.at("weights").get<std::vector<std::vector<double>>>();
    if (weights_.size() != candidates_.size()) throw InputError("router model: one weight vector per candidate is needed");
    for (const auto& w : weights_)
      if (w.size() != features_.dense_dim() + 1) throw InputError("router model: weights do not match the features");
  }

 private:
  static constexpr double kRidge = 1.0;
  std::vector<std::string> candidates_;
  std::vector<double> costs_;
  TextFeaturizer features_;
  double threshold_ = 0.6;
  std::vector<std::vector<double>> weights_;  // per candidate: intercept, then one per dense feature
};

// `knn`: the k most similar training queries (cosine over the TF-IDF vectors) vote: P(candidate is
// correct) = its share of correct answers among them; the cheapest candidate with P ≥ 0.5 is chosen.
class KnnRouter : public Router {
 public:
  KnnRouter(std::vector<std::string> candidates, std::vector<double> costs)
      : candidates_(std::move(candidates)), costs_(std::move(costs)) {}
  void train(const RoutingSet& s, const std::vector<size_t>& rows, const RouterOptions&) override {
    fit_features(features_, s, rows);
    train_x_ = featurize(features_, s, rows);
    correct_.clear();
    for (size_t r : rows) correct_.push_back(s.correct[r]);
    index();
  }
  int choose(const Query& text) const override {
    const auto p = vote(text);
    for (size_t c = 0; c + 1 < p.size(); ++c)
      if (p[c] >= 0.5) return static_cast<int>(c);
    return static_cast<int>(p.size()) - 1;
  }
  double escalation(const Query& text) const override { return 1 - vote(text)[0]; }
  std::vector<double> p_correct(const Query& text) const override { return vote(text); }
  nlohmann::json params() const override {
    return {{"kind", "knn"}, {"candidates", candidates_}, {"costs", costs_}, {"k", kK}, {"features", features_.to_json()}};
  }
  std::string model_blob() const override {
    // Per training query: nnz, indices, values, then one score per candidate.
    std::string out;
    auto put = [&](const void* p, size_t n) { out.append(static_cast<const char*>(p), n); };
    const uint64_t n = train_x_.size();
    put(&n, sizeof n);
    for (size_t i = 0; i < train_x_.size(); ++i) {
      const uint32_t nnz = static_cast<uint32_t>(train_x_[i].idx.size());
      put(&nnz, sizeof nnz);
      put(train_x_[i].idx.data(), nnz * sizeof(uint32_t));
      put(train_x_[i].val.data(), nnz * sizeof(float));
      put(correct_[i].data(), correct_[i].size() * sizeof(double));
    }
    return out;
  }
  void restore(const nlohmann::json& j, const std::string& blob) {
    features_ = TextFeaturizer::from_json(j.at("features"));
    size_t pos = 0;
    auto get = [&](void* p, size_t n) {
      if (pos + n > blob.size()) throw InputError("router model: truncated");
      std::memcpy(p, blob.data() + pos, n);
      pos += n;
    };
    uint64_t n = 0;
    get(&n, sizeof n);
    if (n > blob.size()) throw InputError("router model: bad size");
    for (uint64_t i = 0; i < n; ++i) {
      uint32_t nnz = 0;
      get(&nnz, sizeof nnz);
      if (nnz > blob.size()) throw InputError("router model: bad size");
      SparseVec v;
      v.idx.resize(nnz);
      v.val.resize(nnz);
      get(v.idx.data(), nnz * sizeof(uint32_t));
      get(v.val.data(), nnz * sizeof(float));
      std::vector<double> c(candidates_.size());
      get(c.data(), c.size() * sizeof(double));
      train_x_.push_back(std::move(v));
      correct_.push_back(std::move(c));
    }
    index();
  }

 private:
  static constexpr int kK = 5;  // EllieSQL's k
  void index() {
    postings_.clear();
    for (size_t i = 0; i < train_x_.size(); ++i)
      for (size_t k = 0; k < train_x_[i].idx.size(); ++k)
        postings_[train_x_[i].idx[k]].emplace_back(static_cast<uint32_t>(i), train_x_[i].val[k]);
    // N-grams in more than 5 % of the training queries carry little IDF weight but most of the
    // work of a look-up: leave them out of the similarity (an approximate cosine).
    const size_t common = std::max<size_t>(50, train_x_.size() / 20);
    for (auto it = postings_.begin(); it != postings_.end();) it = it->second.size() > common ? postings_.erase(it) : std::next(it);
  }
  std::vector<double> vote(const Query& text) const {
    const SparseVec q = features_.transform(text);
    std::vector<float> sim(train_x_.size(), 0.f);
    for (size_t k = 0; k < q.idx.size(); ++k) {
      auto it = postings_.find(q.idx[k]);
      if (it == postings_.end()) continue;
      for (const auto& [doc, v] : it->second) sim[doc] += v * q.val[k];
    }
    std::vector<uint32_t> order(sim.size());
    std::iota(order.begin(), order.end(), 0u);
    const size_t k = std::min<size_t>(kK, order.size());
    std::partial_sort(order.begin(), order.begin() + static_cast<long>(k), order.end(),
                      [&](uint32_t a, uint32_t b) { return sim[a] != sim[b] ? sim[a] > sim[b] : a < b; });
    std::vector<double> p(candidates_.size(), 0);
    for (size_t i = 0; i < k; ++i)
      for (size_t c = 0; c < p.size(); ++c) p[c] += correct_[order[i]][c] / static_cast<double>(k);
    return p;
  }
  std::vector<std::string> candidates_;
  std::vector<double> costs_;
  TextFeaturizer features_;
  std::vector<SparseVec> train_x_;
  std::vector<std::vector<double>> correct_;
  std::unordered_map<uint32_t, std::vector<std::pair<uint32_t, float>>> postings_;
};

// `mlp`: one hidden layer (ReLU) over the same features, trained by SFT on cheapest-correct labels.
// Features are hashed into 2^16 buckets here: the hidden layer's weights are a dense column per bucket.
class MlpRouter : public Router {
 public:
  static constexpr int kHidden = 32;
  MlpRouter(std::vector<std::string> candidates, std::vector<double> costs)
      : candidates_(std::move(candidates)), costs_(std::move(costs)), features_(16) {}
  void train(const RoutingSet& s, const std::vector<size_t>& rows, const RouterOptions& opt) override {
    fit_features(features_, s, rows);
    const auto x = featurize(features_, s, rows);
    const auto labels = cheapest_correct_labels(s, rows, false);
    const int k = static_cast<int>(candidates_.size());
    std::mt19937_64 rng(opt.train.seed);
    std::normal_distribution<float> init(0, 0.1f);
    w1_ = Eigen::MatrixXf(kHidden, features_.dim());
    for (Eigen::Index i = 0; i < w1_.size(); ++i) w1_.data()[i] = init(rng);
    b1_ = Eigen::VectorXf::Zero(kHidden);
    w2_ = Eigen::MatrixXf(k, kHidden);
    for (Eigen::Index i = 0; i < w2_.size(); ++i) w2_.data()[i] = init(rng);
    b2_ = Eigen::VectorXf::Zero(k);
    std::vector<size_t> order(x.size());
    std::iota(order.begin(), order.end(), 0);
    for (int e = 0; e < opt.train.epochs; ++e) {
      std::shuffle(order.begin(), order.end(), rng);
      const float lr = static_cast<float>(0.2 / (1 + e));
      for (size_t i : order) {
        Eigen::VectorXf a = hidden(x[i]);
        const Eigen::VectorXf r = a.cwiseMax(0);
        Eigen::VectorXf z = w2_ * r + b2_;
        z.array() -= z.maxCoeff();
        Eigen::VectorXf g = z.array().exp();
        g /= g.sum();
        g(labels[i]) -= 1;  // ∂ cross-entropy / ∂ z
        const Eigen::VectorXf ga = ((w2_.transpose() * g).array() * (a.array() > 0).cast<float>()).matrix();
        w2_.noalias() -= lr * g * r.transpose();
        b2_ -= lr * g;
        for (size_t j = 0; j < x[i].idx.size(); ++j) w1_.col(x[i].idx[j]) -= lr * x[i].val[j] * ga;
        b1_ -= lr * ga;
      }
    }
  }
  int choose(const Query& text) const override {
    const Eigen::VectorXf z = logits(text);
    Eigen::Index best = 0;
    z.maxCoeff(&best);
    return static_cast<int>(best);
  }
  double escalation(const Query& text) const override { return 1 - p_correct(text)[0]; }
  std::vector<double> p_correct(const Query& text) const override {
    Eigen::VectorXf z = logits(text);
    z.array() -= z.maxCoeff();
    const Eigen::ArrayXf e = z.array().exp();
    std::vector<double> out;
    double acc = 0;
    for (Eigen::Index k = 0; k < e.size(); ++k) out.push_back(std::min(1.0, acc += e(k) / e.sum()));  // float sums may pass 1
    return out;
  }
  nlohmann::json params() const override {
    return {{"kind", "mlp"}, {"candidates", candidates_}, {"costs", costs_}, {"hidden", kHidden}, {"features", features_.to_json()}};
  }
  std::string model_blob() const override {
    std::string out;
    for (const auto* m : {&w1_, &w2_}) out.append(reinterpret_cast<const char*>(m->data()), static_cast<size_t>(m->size()) * sizeof(float));
    for (const auto* v : {&b1_, &b2_}) out.append(reinterpret_cast<const char*>(v->data()), static_cast<size_t>(v->size()) * sizeof(float));
    return out;
  }
  void restore(const nlohmann::json& j, const std::string& blob) {
    features_ = TextFeaturizer::from_json(j.at("features"));
    const Eigen::Index k = static_cast<Eigen::Index>(candidates_.size()), d = features_.dim();
    w1_.resize(kHidden, d);
    w2_.resize(k, kHidden);
    b1_.resize(kHidden);
    b2_.resize(k);
    const size_t need = static_cast<size_t>(w1_.size() + w2_.size() + b1_.size() + b2_.size()) * sizeof(float);
    if (blob.size() != need) throw InputError("router model: size does not match the mlp's shape");
    size_t pos = 0;
    auto read = [&](float* p, Eigen::Index n) {
      std::memcpy(p, blob.data() + pos, static_cast<size_t>(n) * sizeof(float));
      pos += static_cast<size_t>(n) * sizeof(float);
    };
    read(w1_.data(), w1_.size());
    read(w2_.data(), w2_.size());
    read(b1_.data(), b1_.size());
    read(b2_.data(), b2_.size());
  }

 private:
  Eigen::VectorXf hidden(const SparseVec& x) const {
    Eigen::VectorXf a = b1_;
    for (size_t j = 0; j < x.idx.size(); ++j) a += x.val[j] * w1_.col(x.idx[j]);
    return a;
  }
  Eigen::VectorXf logits(const Query& text) const {
    return w2_ * hidden(features_.transform(text)).cwiseMax(0) + b2_;
  }
  std::vector<std::string> candidates_;
  std::vector<double> costs_;
  TextFeaturizer features_;
  Eigen::MatrixXf w1_, w2_;
  Eigen::VectorXf b1_, b2_;
};

std::vector<std::string> cands(const nlohmann::json& j) { return j.at("candidates").get<std::vector<std::string>>(); }
std::vector<double> costs(const nlohmann::json& j) { return j.at("costs").get<std::vector<double>>(); }

// The two policy routers differ only in whether DPO follows SFT.
struct SoftmaxRouter : PolicyRouter {
  SoftmaxRouter(std::vector<std::string> c, std::vector<double> k) : PolicyRouter("softmax", std::move(c), std::move(k)) {}
};
struct DpoRouter : PolicyRouter {
  DpoRouter(std::vector<std::string> c, std::vector<double> k) : PolicyRouter("dpo", std::move(c), std::move(k)) {}
};

template <typename R>
std::unique_ptr<Router> make_router(const std::vector<std::string>& candidates, const std::vector<double>& costs) {
  return std::make_unique<R>(candidates, costs);
}

template <typename R>
std::unique_ptr<Router> load_router(const nlohmann::json& j, const std::string& blob) {
  auto r = std::make_unique<R>(cands(j), costs(j));
  r->restore(j, blob);
  return r;
}

}  // namespace

std::vector<int> choose_batch(const Router& r, const std::vector<Query>& texts, unsigned threads) {
  std::vector<int> out(texts.size());
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  threads = static_cast<unsigned>(std::min<size_t>(threads, std::max<size_t>(1, texts.size() / 256)));  // small batches: one thread
  auto work = [&](size_t begin, size_t end) {
    for (size_t i = begin; i < end; ++i) out[i] = r.choose(texts[i]);
  };
  std::vector<std::thread> pool;
  const size_t per = (texts.size() + threads - 1) / threads;
  for (unsigned t = 1; t < threads; ++t) pool.emplace_back(work, std::min(texts.size(), t * per), std::min(texts.size(), (t + 1) * per));
  work(0, std::min(texts.size(), per));
  for (auto& th : pool) th.join();
  return out;
}

std::vector<double> chosen_and_costlier(int chosen, size_t candidates) {
  std::vector<double> p(candidates, 0.0);
  for (size_t c = static_cast<size_t>(std::max(chosen, 0)); c < p.size(); ++c) p[c] = 1;
  return p;
}

int choose_with_lambda(const std::vector<double>& p_correct, const std::vector<double>& costs, double lambda) {
  if (p_correct.size() != costs.size() || costs.empty()) throw InputError("cost-aware routing: one cost per candidate is needed");
  const double top = *std::max_element(costs.begin(), costs.end());
  int best = 0;
  double best_value = -INFINITY;
  for (size_t k = 0; k < costs.size(); ++k) {
    const double value = p_correct[k] - lambda * (top > 0 ? costs[k] / top : 0);
    if (value > best_value + 1e-12) best_value = value, best = static_cast<int>(k);
  }
  return best;
}

const std::vector<RouterKind>& router_table() {
  static const std::vector<RouterKind> table = {
      {"rule", "thresholds on one statistic (length, schema size or a feature column), larger values to costlier candidates", make_router<RuleRouter>, load_router<RuleRouter>},
      {"knn", "the 5 most similar training queries vote on which candidates answer correctly", make_router<KnnRouter>,
       load_router<KnnRouter>},
      {"softmax", "multinomial logistic regression on hashed n-gram TF-IDF, SFT on cheapest-correct labels",
       make_router<SoftmaxRouter>, load_router<SoftmaxRouter>},
      {"dpo", "softmax after SFT, then DPO on preference pairs with the SFT policy as reference", make_router<DpoRouter>,
       load_router<DpoRouter>},
      {"mlp", "one hidden layer (32 ReLU units, Eigen) over hashed n-gram features, SFT on cheapest-correct labels",
       make_router<MlpRouter>, load_router<MlpRouter>},
      {"cascade", "per-step 'is this candidate enough?' classifiers, escalating below the threshold", make_router<CascadeRouter>,
       load_router<CascadeRouter>},
      {"logit", "per-candidate calibrated P(correct) from length, schema size, text-to-SQL cue words and given features",
       make_router<LogitRouter>, load_router<LogitRouter>},
      {"lm", "a language model fine-tuned to name the candidate (route train --backend-config: a command per stage), asked through a provider",
       make_lm_router, load_lm_router},
  };
  return table;
}

const RouterKind& find_router(const std::string& name) {
  std::string known;
  for (const auto& k : router_table()) {
    if (name == k.name) return k;
    known += (known.empty() ? "" : ", ") + std::string(k.name);
  }
  throw InputError("unknown router '" + name + "' (one of " + known + ")");
}

}  // namespace reckon
