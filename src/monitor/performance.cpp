#include "monitor/performance.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <set>
#include <sstream>

#include "core/error.hpp"
#include "core/strings.hpp"
#include "monitor/render.hpp"
#include "report/markdown.hpp"
#include "stats/detectors.hpp"
#include "stats/profile.hpp"

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

namespace {
std::string row_text(const stats::Table& t, const std::optional<std::string>& ts, size_t row) {
  if (!ts) return "row " + std::to_string(row + 2);  // +1 header, +1 one-based
  return t.at(*ts).text(row);
}
}  // namespace

PerformanceCheck check_performance(const stats::Table& data, const PerfSpec& spec, const std::vector<size_t>& order,
                                   const std::optional<std::string>& timestamp, const PerformanceRules& rules,
                                   const stats::Table* reference, stats::DriftOptions drift) {
  PerformanceCheck c;
  c.perf = evaluate(data, spec, &order);
  auto bound = [&](const std::vector<MetricBound>& bounds, bool is_min) {
    for (const auto& x : bounds) {
      auto m = metric_value(c.perf, x.metric);
      if (!m)
        throw UsageError(std::string(is_min ? "--min" : "--max") + ": unknown or undefined metric '" + x.metric +
                         "' for this task");
      if (is_min ? *m < x.value : *m > x.value)
        c.failures.push_back(x.metric + " " + report::fmt_number(*m) + (is_min ? " < " : " > ") +
                             report::fmt_number(x.value));
    }
  };
  bound(rules.min, true);
  bound(rules.max, false);

  c.detectors = run_detectors(rules.detectors, c.perf.errors, c.perf.classification);
  for (const auto& r : c.detectors) {
    std::vector<std::string> at;
    for (size_t i : r.alarms) at.push_back(row_text(data, timestamp, c.perf.rows[i]));
    c.alarm_at.push_back(std::move(at));
    c.concept_drift = c.concept_drift || !r.alarms.empty();
  }

  if (!rules.max_drop.empty() && !reference) throw UsageError("--max-drop needs --reference");
  if (!reference) return c;
  c.reference = evaluate(*reference, spec);
  drift.exclude.insert(drift.exclude.end(), {spec.label, spec.prediction});
  if (!spec.score.empty()) drift.exclude.push_back(spec.score);
  if (timestamp) drift.exclude.push_back(*timestamp);
  c.input_drift = stats::compute_drift(stats::profile_table(*reference), stats::profile_table(data), drift).dataset;
  for (const auto& x : rules.max_drop) {
    auto now = metric_value(c.perf, x.metric), then = metric_value(*c.reference, x.metric);
    if (!now || !then) throw UsageError("--max-drop " + x.metric + ": unknown metric");
    const double drop = higher_is_better(x.metric) ? *then - *now : *now - *then;
    c.drops.emplace_back(x.metric, drop);
    if (drop <= x.value) continue;
    if (!c.input_drift->drifted) {
      c.concept_drift = true;
      c.concept_reason = x.metric + " dropped by " + report::fmt_number(drop) + " (> " + report::fmt_number(x.value) +
                         ") while the inputs did not drift";
    } else {
      c.failures.push_back(x.metric + " dropped by " + report::fmt_number(drop) + " with input drift (" +
                           std::to_string(c.input_drift->drifted_features) + " features drifted)");
    }
  }
  return c;
}

json::Value performance_json(const PerformanceCheck& c, json::Builder& b) {
  json::Value doc = b.obj();
  b.set(doc, "metrics", perf_json(c.perf, b));
  json::Value dets = b.arr();
  for (size_t k = 0; k < c.detectors.size(); ++k) {
    const auto& r = c.detectors[k];
    json::Value o = b.obj();
    b.set(o, "detector", r.spec);
    b.set(o, "drift", !r.alarms.empty());
    json::Value al = b.arr();
    for (size_t j = 0; j < r.alarms.size(); ++j) {
      json::Value a = b.obj();
      b.set(a, "index", static_cast<int64_t>(r.alarms[j]));
      b.set(a, "at", c.alarm_at[k][j]);
      b.push(al, std::move(a));
    }
    b.set(o, "alarms", std::move(al));
    b.push(dets, std::move(o));
  }
  b.set(doc, "detectors", std::move(dets));
  if (c.reference) {
    b.set(doc, "reference_metrics", perf_json(*c.reference, b));
    b.set(doc, "input_drift", dataset_json(*c.input_drift, b));
    json::Value drops = b.obj();
    for (const auto& [k, v] : c.drops) b.set(drops, k, v);
    b.set(doc, "drops", std::move(drops));
  }
  json::Value cd = b.obj();
  b.set(cd, "detected", c.concept_drift);
  if (!c.concept_reason.empty()) b.set(cd, "reason", c.concept_reason);
  b.set(doc, "concept_drift", std::move(cd));
  json::Value fj = b.arr();
  for (const auto& f : c.failures) b.push(fj, f);
  b.set(doc, "failures", std::move(fj));
  return doc;
}

std::string performance_markdown(const PerformanceCheck& c, const std::string& title) {
  std::ostringstream md;
  md << "### " << title << "\n\n";
  report::MdTable t;
  t.headers = {"metric", "value"};
  auto add = [&](const std::string& k) {
    if (auto v = metric_value(c.perf, k)) t.rows.push_back({k, report::fmt_number(*v)});
  };
  if (c.perf.classification)
    for (const char* k : {"accuracy", "precision", "recall", "f1", "f1_macro", "f1_weighted", "roc_auc", "log_loss"})
      add(k);
  else
    for (const char* k : {"mae", "rmse", "r2", "mape"}) add(k);
  md << t.render();
  if (c.concept_drift)
    md << "\n**Concept drift**" << (c.concept_reason.empty() ? " (detector alarm)" : ": " + c.concept_reason) << "\n";
  for (const auto& f : c.failures) md << "\n- " << report::md_cell(f);
  return md.str() + "\n";
}

void performance_text(std::ostream& os, const PerformanceCheck& c) {
  const auto& perf = c.perf;
  if (perf.classification) {
    const auto& m = perf.cls;
    os << "classification, " << m.n << " rows, labels " << str::join(m.labels, ", ") << "\n";
    os << "  accuracy " << report::fmt_number(m.accuracy) << "\n";
    os << "  macro     precision " << report::fmt_number(m.macro.precision) << " recall "
       << report::fmt_number(m.macro.recall) << " f1 " << report::fmt_number(m.macro.f1) << "\n";
    os << "  weighted  precision " << report::fmt_number(m.weighted.precision) << " recall "
       << report::fmt_number(m.weighted.recall) << " f1 " << report::fmt_number(m.weighted.f1) << "\n";
    if (m.binary)
      os << "  binary (positive '" << m.labels.back() << "') precision " << report::fmt_number(m.binary->precision)
         << " recall " << report::fmt_number(m.binary->recall) << " f1 " << report::fmt_number(m.binary->f1) << "\n";
    if (m.roc_auc) os << "  roc_auc " << report::fmt_number(*m.roc_auc) << "\n";
    if (m.log_loss) os << "  log_loss " << report::fmt_number(*m.log_loss) << "\n";
  } else {
    const auto& r = perf.reg;
    os << "regression, " << r.n << " rows: mae " << report::fmt_number(r.mae) << ", rmse " << report::fmt_number(r.rmse)
       << ", r2 " << report::fmt_number(r.r2) << ", mape " << report::fmt_number(r.mape) << "\n";
  }
  for (size_t k = 0; k < c.detectors.size(); ++k) {
    const auto& r = c.detectors[k];
    os << "  detector " << r.spec << ": "
       << (r.alarms.empty() ? std::string("no drift")
                            : std::to_string(r.alarms.size()) + " alarm(s), first at " + c.alarm_at[k].front())
       << "\n";
  }
  if (c.concept_drift) os << "CONCEPT DRIFT" << (c.concept_reason.empty() ? "" : ": " + c.concept_reason) << "\n";
  for (const auto& f : c.failures) os << "FAILED: " << f << "\n";
}

}  // namespace amlops::monitor
