// Model performance metrics with scikit-learn's conventions (zero_division -> 0, labels = sorted
// union of y_true and y_pred, binary ROC AUC by the trapezoid over distinct thresholds).
#pragma once
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace amlops::stats {

struct Labels {
  std::vector<std::string> names;   // sorted (numerically when every label is a number)
  std::vector<int> y_true, y_pred;  // indices into names
};
// Encodes label texts with sklearn's ordering of the union.
Labels encode_labels(const std::vector<std::string>& y_true, const std::vector<std::string>& y_pred);

struct ClassScores {
  double precision = 0, recall = 0, f1 = 0;
  int64_t support = 0;
};

struct Classification {
  std::vector<std::string> labels;
  std::vector<std::vector<int64_t>> confusion;  // [true][pred]
  std::vector<ClassScores> per_class;
  double accuracy = 0;
  ClassScores macro, micro, weighted;
  std::optional<ClassScores> binary;  // positive label = the last (greater) label when there are 2
  std::optional<double> roc_auc, log_loss;
  std::optional<double> roc_auc_weighted;  // multiclass one-vs-rest, weighted by prevalence
  int64_t n = 0;
};
// `score`: probability of the positive class (the greater label); binary only.
Classification classification_metrics(const Labels& l, const std::vector<double>* score = nullptr);

// Multiclass scores: probs[k][row] = probability of label l.names[k] (one column per label).
// Sets roc_auc (one-vs-rest macro, sklearn multi_class="ovr"), roc_auc_weighted and log_loss
// (rows clipped to machine epsilon and renormalised, as sklearn does).
void multiclass_scores(Classification& c, const Labels& l, const std::vector<std::vector<double>>& probs);

// sklearn.metrics.roc_auc_score(y_true, score) for 0/1 labels; nullopt if one class only.
std::optional<double> roc_auc(const std::vector<int>& y01, const std::vector<double>& score);
// sklearn.metrics.log_loss(y_true, p) binary, eps = machine epsilon.
double log_loss(const std::vector<int>& y01, const std::vector<double>& p);

struct Regression {
  double mae = 0, mse = 0, rmse = 0, r2 = 0, mape = 0;
  int64_t n = 0;
};
Regression regression_metrics(const std::vector<double>& y, const std::vector<double>& yhat);

}  // namespace amlops::stats
