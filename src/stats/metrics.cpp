#include "stats/metrics.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <set>
#include <unordered_map>

#include "core/error.hpp"
#include "core/strings.hpp"

namespace amlops::stats {
namespace {
double safe_div(double a, double b) { return b == 0 ? 0.0 : a / b; }
}  // namespace

Labels encode_labels(const std::vector<std::string>& y_true, const std::vector<std::string>& y_pred) {
  if (y_true.size() != y_pred.size()) throw UsageError("labels and predictions differ in length");
  std::set<std::string> u(y_true.begin(), y_true.end());
  u.insert(y_pred.begin(), y_pred.end());
  Labels l;
  l.names.assign(u.begin(), u.end());
  bool numeric = true;
  std::unordered_map<std::string, double> num;
  for (const auto& s : l.names) {
    auto v = str::parse_double(s);
    if (!v) {
      numeric = false;
      break;
    }
    num[s] = *v;
  }
  if (numeric) std::stable_sort(l.names.begin(), l.names.end(), [&](auto& a, auto& b) { return num[a] < num[b]; });
  std::unordered_map<std::string, int> idx;
  for (size_t i = 0; i < l.names.size(); ++i) idx[l.names[i]] = static_cast<int>(i);
  for (auto& s : y_true) l.y_true.push_back(idx[s]);
  for (auto& s : y_pred) l.y_pred.push_back(idx[s]);
  return l;
}

std::optional<double> roc_auc(const std::vector<int>& y, const std::vector<double>& s) {
  const size_t n = y.size();
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return s[a] > s[b]; });
  std::vector<double> tps, fps;
  double tp = 0, fp = 0;
  for (size_t i = 0; i < n; ++i) {
    const size_t k = order[i];
    if (y[k])
      tp += 1;
    else
      fp += 1;
    if (i + 1 == n || s[order[i + 1]] != s[k]) {
      tps.push_back(tp);
      fps.push_back(fp);
    }
  }
  if (tp == 0 || fp == 0) return std::nullopt;
  double area = 0, px = 0, py = 0;
  for (size_t i = 0; i < tps.size(); ++i) {
    const double x = fps[i] / fp, yv = tps[i] / tp;
    area += (x - px) * (yv + py) / 2.0;
    px = x;
    py = yv;
  }
  return area;
}

double log_loss(const std::vector<int>& y, const std::vector<double>& p) {
  const double eps = std::numeric_limits<double>::epsilon();
  long double s = 0;
  for (size_t i = 0; i < y.size(); ++i) {
    double q = std::clamp(p[i], eps, 1 - eps);
    double a = 1 - q, b = q;
    const double t = a + b;
    a /= t;
    b /= t;
    s += -std::log(y[i] ? b : a);
  }
  return static_cast<double>(s / static_cast<long double>(y.size()));
}

Classification classification_metrics(const Labels& l, const std::vector<double>* score) {
  Classification c;
  const size_t k = l.names.size(), n = l.y_true.size();
  c.labels = l.names;
  c.n = static_cast<int64_t>(n);
  c.confusion.assign(k, std::vector<int64_t>(k, 0));
  for (size_t i = 0; i < n; ++i) ++c.confusion[static_cast<size_t>(l.y_true[i])][static_cast<size_t>(l.y_pred[i])];
  double correct = 0, TP = 0, FP = 0, FN = 0;
  for (size_t j = 0; j < k; ++j) {
    double tp = static_cast<double>(c.confusion[j][j]), fp = 0, fn = 0;
    for (size_t i = 0; i < k; ++i) {
      if (i == j) continue;
      fp += static_cast<double>(c.confusion[i][j]);
      fn += static_cast<double>(c.confusion[j][i]);
    }
    ClassScores s;
    s.precision = safe_div(tp, tp + fp);
    s.recall = safe_div(tp, tp + fn);
    s.f1 = safe_div(2 * tp, 2 * tp + fp + fn);
    s.support = static_cast<int64_t>(tp + fn);
    c.per_class.push_back(s);
    correct += tp;
    TP += tp;
    FP += fp;
    FN += fn;
  }
  c.accuracy = n ? correct / static_cast<double>(n) : 0.0;
  double total = 0;
  for (auto& s : c.per_class) {
    c.macro.precision += s.precision / static_cast<double>(k);
    c.macro.recall += s.recall / static_cast<double>(k);
    c.macro.f1 += s.f1 / static_cast<double>(k);
    total += static_cast<double>(s.support);
  }
  // sklearn averages with np.average: sum(x * w) / sum(w).
  double mp = 0, mr = 0, mf = 0, wp = 0, wr = 0, wf = 0;
  for (auto& s : c.per_class) {
    mp += s.precision;
    mr += s.recall;
    mf += s.f1;
    wp += s.precision * static_cast<double>(s.support);
    wr += s.recall * static_cast<double>(s.support);
    wf += s.f1 * static_cast<double>(s.support);
  }
  c.macro.precision = mp / static_cast<double>(k);
  c.macro.recall = mr / static_cast<double>(k);
  c.macro.f1 = mf / static_cast<double>(k);
  c.weighted.precision = safe_div(wp, total);
  c.weighted.recall = safe_div(wr, total);
  c.weighted.f1 = safe_div(wf, total);
  c.micro.precision = safe_div(TP, TP + FP);
  c.micro.recall = safe_div(TP, TP + FN);
  c.micro.f1 = safe_div(2 * TP, 2 * TP + FP + FN);
  c.macro.support = c.micro.support = c.weighted.support = static_cast<int64_t>(total);
  if (k == 2) {
    c.binary = c.per_class[1];
    if (score) {
      std::vector<int> y01(n);
      for (size_t i = 0; i < n; ++i) y01[i] = l.y_true[i] == 1 ? 1 : 0;
      c.roc_auc = roc_auc(y01, *score);
      c.log_loss = log_loss(y01, *score);
    }
  }
  return c;
}

void multiclass_scores(Classification& c, const Labels& l, const std::vector<std::vector<double>>& probs) {
  const size_t k = l.names.size(), n = l.y_true.size();
  if (probs.size() != k) throw UsageError("one score column per label is needed (" + std::to_string(k) + " labels)");
  // One-vs-rest over the labels present in y_true (sklearn's classes).
  std::vector<int64_t> support(k, 0);
  for (int y : l.y_true) ++support[static_cast<size_t>(y)];
  double macro = 0, weighted = 0, classes = 0, total = 0;
  bool defined = true;
  for (size_t j = 0; j < k; ++j) {
    if (support[j] == 0) continue;
    std::vector<int> y01(n);
    for (size_t i = 0; i < n; ++i) y01[i] = l.y_true[i] == static_cast<int>(j) ? 1 : 0;
    auto a = roc_auc(y01, probs[j]);
    if (!a) {
      defined = false;
      break;
    }
    macro += *a;
    weighted += *a * static_cast<double>(support[j]);
    classes += 1;
    total += static_cast<double>(support[j]);
  }
  if (defined && classes > 1) {
    c.roc_auc = macro / classes;
    c.roc_auc_weighted = weighted / total;
  }
  const double eps = std::numeric_limits<double>::epsilon();
  long double loss = 0;
  for (size_t i = 0; i < n; ++i) {
    double sum = 0;
    for (size_t j = 0; j < k; ++j) sum += std::clamp(probs[j][i], eps, 1 - eps);
    const double pt = std::clamp(probs[static_cast<size_t>(l.y_true[i])][i], eps, 1 - eps) / sum;
    loss += -std::log(pt);
  }
  c.log_loss = static_cast<double>(loss / static_cast<long double>(n));
}

Regression regression_metrics(const std::vector<double>& y, const std::vector<double>& p) {
  Regression r;
  const size_t n = y.size();
  r.n = static_cast<int64_t>(n);
  if (n == 0) return r;
  const double eps = std::numeric_limits<double>::epsilon();
  long double ae = 0, se = 0, ape = 0, sy = 0;
  for (size_t i = 0; i < n; ++i) {
    const double d = y[i] - p[i];
    ae += std::abs(d);
    se += static_cast<long double>(d) * d;
    ape += std::abs(d) / std::max(std::abs(y[i]), eps);
    sy += y[i];
  }
  const long double my = sy / static_cast<long double>(n);
  long double tot = 0;
  for (size_t i = 0; i < n; ++i) tot += (y[i] - my) * (y[i] - my);
  r.mae = static_cast<double>(ae / static_cast<long double>(n));
  r.mse = static_cast<double>(se / static_cast<long double>(n));
  r.rmse = std::sqrt(r.mse);
  r.mape = static_cast<double>(ape / static_cast<long double>(n));
  if (tot == 0)
    r.r2 = se == 0 ? 1.0 : 0.0;
  else
    r.r2 = static_cast<double>(1 - se / tot);
  return r;
}

}  // namespace amlops::stats
