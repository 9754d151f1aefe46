#include "monitor/performance.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <set>

#include "core/error.hpp"
#include "core/strings.hpp"
#include "stats/detectors.hpp"

namespace amlops::monitor {

PerfResult evaluate(const stats::Table& t, const PerfSpec& spec, const std::vector<size_t>* rows) {
  const auto& y = t.at(spec.label);
  const auto& p = t.at(spec.prediction);
  // --score COL (binary: probability of the greater label) or LABEL=COL,... (one per label).
  const stats::Column* s = nullptr;
  std::vector<std::pair<std::string, const stats::Column*>> multi;
  if (spec.score.find('=') != std::string::npos) {
    for (auto& part : str::split(spec.score, ',')) {
      auto kv = str::split_key_value(str::trim(part));
      if (!kv) throw UsageError("--score: expected COL or LABEL=COL,LABEL=COL, got '" + part + "'");
      const auto& c = t.at(kv->second);
      if (!c.is_numeric()) throw UsageError("score column '" + kv->second + "' is not numeric");
      multi.emplace_back(kv->first, &c);
    }
  } else if (!spec.score.empty()) {
    s = &t.at(spec.score);
    if (!s->is_numeric()) throw UsageError("score column '" + spec.score + "' is not numeric");
  }
  auto scored = [&](size_t i) {
    if (s && s->is_missing(i)) return false;
    for (auto& [lbl, c] : multi)
      if (c->is_missing(i)) return false;
    return true;
  };
  PerfResult r;
  std::vector<size_t> all;
  if (!rows) {
    all.resize(t.rows);
    std::iota(all.begin(), all.end(), 0);
    rows = &all;
  }
  for (size_t i : *rows)
    if (!y.is_missing(i) && !p.is_missing(i) && scored(i)) r.rows.push_back(i);
  bool cls;
  if (spec.task == "classification")
    cls = true;
  else if (spec.task == "regression")
    cls = false;
  else if (spec.task == "auto") {
    if (!y.is_numeric() || !p.is_numeric()) {
      cls = true;
    } else {
      std::set<double> distinct;
      bool integral = true;
      for (size_t i : r.rows) {
        if (distinct.size() <= 20) {
          distinct.insert(y.values[i]);
          distinct.insert(p.values[i]);
        }
        integral = integral && y.values[i] == std::floor(y.values[i]) && p.values[i] == std::floor(p.values[i]);
      }
      cls = integral && distinct.size() <= 20;
    }
  } else {
    throw UsageError("--task must be auto, classification or regression");
  }
  r.classification = cls;
  if (r.rows.empty()) throw CheckFailed("no rows with both a label and a prediction in " + t.source);
  if (cls) {
    std::vector<std::string> yt, yp;
    std::vector<double> sc;
    for (size_t i : r.rows) {
      yt.push_back(y.text(i));
      yp.push_back(p.text(i));
      if (s) sc.push_back(s->values[i]);
    }
    auto labels = stats::encode_labels(yt, yp);
    r.cls = stats::classification_metrics(labels, s ? &sc : nullptr);
    if (!multi.empty()) {
      std::vector<std::vector<double>> probs(labels.names.size());
      for (size_t k = 0; k < labels.names.size(); ++k) {
        auto it = std::find_if(multi.begin(), multi.end(), [&](auto& m) { return m.first == labels.names[k]; });
        if (it == multi.end()) throw UsageError("--score: no probability column for label '" + labels.names[k] + "'");
        for (size_t i : r.rows) probs[k].push_back(it->second->values[i]);
      }
      stats::multiclass_scores(r.cls, labels, probs);
    }
    for (size_t k = 0; k < yt.size(); ++k) r.errors.push_back(labels.y_true[k] != labels.y_pred[k] ? 1.0 : 0.0);
  } else {
    if (!y.is_numeric() || !p.is_numeric()) throw UsageError("regression needs numeric label and prediction columns");
    std::vector<double> yt, yp;
    for (size_t i : r.rows) {
      yt.push_back(y.values[i]);
      yp.push_back(p.values[i]);
      r.errors.push_back(std::abs(y.values[i] - p.values[i]));
    }
    r.reg = stats::regression_metrics(yt, yp);
  }
  return r;
}

bool higher_is_better(const std::string& m) {
  return !(m == "log_loss" || m == "mae" || m == "mse" || m == "rmse" || m == "mape");
}

std::optional<double> metric_value(const PerfResult& p, const std::string& name) {
  if (!p.classification) {
    if (name == "mae") return p.reg.mae;
    if (name == "mse") return p.reg.mse;
    if (name == "rmse") return p.reg.rmse;
    if (name == "r2") return p.reg.r2;
    if (name == "mape") return p.reg.mape;
    return std::nullopt;
  }
  const auto& c = p.cls;
  if (name == "accuracy") return c.accuracy;
  if (name == "roc_auc") return c.roc_auc;
  if (name == "log_loss") return c.log_loss;
  for (const char* base : {"precision", "recall", "f1"}) {
    auto pick = [&](const stats::ClassScores& s) {
      return std::string(base) == "precision" ? s.precision : std::string(base) == "recall" ? s.recall : s.f1;
    };
    if (name == base) return c.binary ? std::optional<double>(pick(*c.binary)) : std::optional<double>(pick(c.macro));
    if (name == std::string(base) + "_macro") return pick(c.macro);
    if (name == std::string(base) + "_micro") return pick(c.micro);
    if (name == std::string(base) + "_weighted") return pick(c.weighted);
  }
  return std::nullopt;
}

json::Value perf_json(const PerfResult& p, json::Builder& b) {
  json::Value o = b.obj();
  b.set(o, "task", p.classification ? "classification" : "regression");
  if (!p.classification) {
    b.set(o, "count", p.reg.n);
    b.set(o, "mae", p.reg.mae);
    b.set(o, "mse", p.reg.mse);
    b.set(o, "rmse", p.reg.rmse);
    b.set(o, "r2", p.reg.r2);
    b.set(o, "mape", p.reg.mape);
    return o;
  }
  const auto& c = p.cls;
  b.set(o, "count", c.n);
  b.set(o, "accuracy", c.accuracy);
  auto scores = [&](const stats::ClassScores& s) {
    json::Value v = b.obj();
    b.set(v, "precision", s.precision);
    b.set(v, "recall", s.recall);
    b.set(v, "f1", s.f1);
    b.set(v, "support", s.support);
    return v;
  };
  b.set(o, "macro", scores(c.macro));
  b.set(o, "micro", scores(c.micro));
  b.set(o, "weighted", scores(c.weighted));
  if (c.binary) {
    json::Value bin = scores(*c.binary);
    b.set(bin, "positive_label", c.labels.back());
    b.set(o, "binary", std::move(bin));
  }
  if (c.roc_auc)
    b.set(o, "roc_auc", *c.roc_auc);
  else if (c.binary)
    b.set_null(o, "roc_auc");
  if (c.roc_auc_weighted) b.set(o, "roc_auc_weighted", *c.roc_auc_weighted);
  if (c.log_loss) b.set(o, "log_loss", *c.log_loss);
  json::Value labels = b.arr();
  for (const auto& l : c.labels) b.push(labels, l);
  b.set(o, "labels", std::move(labels));
  json::Value per = b.obj();
  for (size_t i = 0; i < c.labels.size(); ++i) b.set(per, c.labels[i], scores(c.per_class[i]));
  b.set(o, "per_class", std::move(per));
  json::Value cm = b.arr();
  for (const auto& row : c.confusion) {
    json::Value r = b.arr();
    for (int64_t v : row) r.PushBack(json::Value(v), b.allocator());
    b.push(cm, std::move(r));
  }
  b.set(o, "confusion_matrix", std::move(cm));
  return o;
}

std::vector<DetectorRun> run_detectors(const std::vector<std::string>& specs, const std::vector<double>& errors,
                                       bool classification) {
  std::vector<DetectorRun> out;
  for (const auto& spec : specs) {
    auto d = stats::make_detector(spec);
    if (!classification && (d->name() == "ddm" || d->name() == "eddm"))
      throw UsageError(spec + " needs a 0/1 error stream (classification); use adwin or page_hinkley for regression");
    DetectorRun r{spec, {}};
    for (size_t i = 0; i < errors.size(); ++i)
      if (d->update(errors[i])) r.alarms.push_back(i);
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace amlops::monitor
