#include "monitor/decide.hpp"

#include <algorithm>
#include <sstream>

#include "core/error.hpp"
#include "core/log.hpp"
#include "core/strings.hpp"
#include "monitor/performance.hpp"
#include "monitor/render.hpp"
#include "report/markdown.hpp"

namespace amlops::monitor {

std::vector<Trigger> debounce(const std::vector<SignalSeries>& signals, const std::vector<std::string>& labels,
                              int breaches, int windows) {
  const size_t total = labels.size();
  const size_t n = static_cast<size_t>(std::max(windows, 1));
  const size_t first = total > n ? total - n : 0;
  std::vector<Trigger> out;
  for (const auto& s : signals) {
    Trigger t;
    t.signal = s.name;
    t.considered = static_cast<int>(total - first);
    std::vector<std::string> where;
    for (size_t w = first; w < total && w < s.breached.size(); ++w) {
      if (!s.breached[w]) continue;
      ++t.breaches;
      where.push_back(labels[w] + (w < s.detail.size() && !s.detail[w].empty() ? ": " + s.detail[w] : ""));
    }
    t.triggered = t.breaches >= breaches && t.breaches > 0;
    if (t.triggered)
      t.reason = s.name + " breached in " + std::to_string(t.breaches) + " of the last " +
                 std::to_string(t.considered) + " windows (" + str::join(where, "; ") + ")";
    out.push_back(std::move(t));
  }
  return out;
}

Decision decide(const MonitorConfig& c, const Source& ref, const stats::Table& cur, const stats::ProfileOptions& po) {
  auto order = time_order(cur, c.timestamp);
  auto windows = make_windows(cur, order, c);
  if (windows.empty()) throw CheckFailed("no rows in " + cur.source);

  stats::DriftOptions drift = c.drift;
  for (const auto& col : {c.label, c.score, c.timestamp, c.prediction})
    if (col) drift.exclude.push_back(*col);
  PerfSpec spec;
  const bool have_labels = c.label && c.prediction && cur.find(*c.label) && cur.find(*c.prediction);
  if (have_labels) spec = PerfSpec{*c.label, *c.prediction, c.score.value_or(""), c.task.value_or("auto")};
  std::optional<double> baseline;
  if (c.performance && have_labels && ref.table && ref.table->find(*c.label) && ref.table->find(*c.prediction))
    baseline = metric_value(evaluate(*ref.table, spec), c.performance->metric);
  if (c.performance && c.performance->max_drop && !baseline)
    log::warn("monitor.signals.performance.max_drop needs labels and predictions in the reference; ignored");

  // Concept-drift detector over the whole ordered error stream.
  std::vector<bool> alarm_row(cur.rows, false);
  if (c.concept_detector && have_labels) {
    auto all = evaluate(cur, spec, &order);
    for (const auto& r : run_detectors({*c.concept_detector}, all.errors, all.classification))
      for (size_t i : r.alarms) alarm_row[all.rows[i]] = true;
  }

  Decision d;
  d.breaches = c.debounce_breaches;
  d.windows = c.debounce_windows;
  auto signal = [&](const std::string& name) -> SignalSeries& {
    for (auto& s : d.signals)
      if (s.name == name) return s;
    d.signals.push_back({name, std::vector<bool>(windows.size(), false), std::vector<std::string>(windows.size())});
    return d.signals.back();
  };
  const bool prediction_signal = c.prediction_drift && c.prediction && ref.profile.find(*c.prediction);
  const bool performance_signal = c.performance && have_labels;
  const bool drop_rule = performance_signal && c.performance->max_drop && baseline;
  const bool concept_signal = (c.concept_detector && have_labels) || drop_rule;
  if (c.data_drift) signal("data_drift");
  if (prediction_signal) signal("prediction_drift");
  if (performance_signal) signal("performance");
  if (concept_signal) signal("concept_drift");

  for (size_t w = 0; w < windows.size(); ++w) {
    const auto& win = windows[w];
    WindowResult res;
    res.label = win.label;
    res.rows = win.rows.size();
    auto prof = stats::profile_rows(cur, win.rows, po);
    bool inputs_drifted = false;
    if (c.data_drift || drop_rule) {
      auto r = stats::compute_drift(ref.profile, prof, drift);
      inputs_drifted = r.dataset.drifted;
      if (c.data_drift) {
        for (const auto& f : r.features)
          if (f.drifted) res.drifted_features.push_back(f.name);
        auto& s = signal("data_drift");
        s.breached[w] = r.dataset.drifted;
        s.detail[w] = std::to_string(r.dataset.drifted_features) + " of " + std::to_string(r.dataset.features) +
                      " features drifted" +
                      (res.drifted_features.empty() ? "" : " (" + str::join(res.drifted_features, ", ") + ")");
        res.data_drift = r.dataset;
      }
    }
    if (prediction_signal && prof.find(*c.prediction)) {
      auto f = stats::feature_drift(*ref.profile.find(*c.prediction), *prof.find(*c.prediction), drift);
      auto& s = signal("prediction_drift");
      s.breached[w] = f.drifted;
      s.detail[w] =
          f.method + " " + report::fmt_number(f.value) + " " + f.comparator + " " + report::fmt_number(f.threshold);
      res.prediction_drift = std::move(f);
    }
    if (performance_signal) {
      auto& s = signal("performance");
      WindowResult::Performance perf;
      try {
        auto p = evaluate(cur, spec, &win.rows);
        auto v = metric_value(p, c.performance->metric);
        if (!v)
          throw UsageError("monitor.signals.performance.metric '" + c.performance->metric + "' is not defined here");
        std::vector<std::string> why;
        if (c.performance->min && *v < *c.performance->min)
          why.push_back("below min " + report::fmt_number(*c.performance->min));
        if (c.performance->max && *v > *c.performance->max)
          why.push_back("above max " + report::fmt_number(*c.performance->max));
        if (drop_rule) {
          const double drop = higher_is_better(c.performance->metric) ? *baseline - *v : *v - *baseline;
          perf.drop = drop;
          if (drop > *c.performance->max_drop) {
            why.push_back("dropped " + report::fmt_number(drop) + " from " + report::fmt_number(*baseline));
            if (!inputs_drifted) {
              auto& cs = signal("concept_drift");
              cs.breached[w] = true;
              cs.detail[w] =
                  c.performance->metric + " dropped by " + report::fmt_number(drop) + " while the inputs did not drift";
            }
          }
        }
        perf.evaluated = true;
        perf.metric = c.performance->metric;
        perf.value = *v;
        perf.breached = !why.empty();
        s.breached[w] = perf.breached;
        s.detail[w] =
            c.performance->metric + " " + report::fmt_number(*v) + (why.empty() ? "" : " " + str::join(why, ", "));
      } catch (const CheckFailed&) {
        s.detail[w] = "no labelled rows";
      }
      res.performance = perf;
    }
    if (c.concept_detector && have_labels) {
      auto& s = signal("concept_drift");
      const bool any = std::any_of(win.rows.begin(), win.rows.end(), [&](size_t r) { return alarm_row[r]; });
      if (any) {
        s.breached[w] = true;
        s.detail[w] = (s.detail[w].empty() ? "" : s.detail[w] + "; ") + *c.concept_detector + " alarm";
      }
    }
    if (concept_signal) res.concept_drift = signal("concept_drift").breached[w];
    d.window_results.push_back(std::move(res));
  }

  std::vector<std::string> labels;
  for (const auto& w : windows) labels.push_back(w.label);
  d.triggers = debounce(d.signals, labels, d.breaches, d.windows);
  for (const auto& t : d.triggers)
    if (t.triggered) {
      d.retrain = true;
      d.reasons.push_back(t.reason);
    }
  return d;
}

void decision_json(const Decision& d, json::Document& doc) {
  if (!doc.IsObject()) doc.SetObject();
  json::Builder b(doc.GetAllocator());
  b.set(doc, "retrain", d.retrain);
  json::Value rj = b.arr();
  for (const auto& r : d.reasons) b.push(rj, r);
  b.set(doc, "reasons", std::move(rj));
  json::Value db = b.obj();
  b.set(db, "breaches", d.breaches);
  b.set(db, "windows", d.windows);
  b.set(doc, "debounce", std::move(db));
  json::Value sigj = b.obj();
  for (const auto& t : d.triggers) {
    json::Value o = b.obj();
    b.set(o, "breaches", t.breaches);
    b.set(o, "triggered", t.triggered);
    b.set(sigj, t.signal, std::move(o));
  }
  b.set(doc, "signals", std::move(sigj));
  const SignalSeries* concept_series = nullptr;
  for (const auto& s : d.signals)
    if (s.name == "concept_drift") concept_series = &s;
  json::Value wj = b.arr();
  for (size_t w = 0; w < d.window_results.size(); ++w) {
    const auto& res = d.window_results[w];
    json::Value o = b.obj();
    b.set(o, "window", res.label);
    b.set(o, "rows", static_cast<int64_t>(res.rows));
    json::Value sj = b.obj();
    if (res.data_drift) {
      json::Value x = dataset_json(*res.data_drift, b);
      b.set(x, "breached", res.data_drift->drifted);
      json::Value nj = b.arr();
      for (const auto& n : res.drifted_features) b.push(nj, n);
      b.set(x, "features", std::move(nj));
      b.set(sj, "data_drift", std::move(x));
    }
    if (res.prediction_drift) {
      json::Value x = feature_json(*res.prediction_drift, b);
      b.set(x, "breached", res.prediction_drift->drifted);
      b.set(sj, "prediction_drift", std::move(x));
    }
    if (res.performance) {
      json::Value x = b.obj();
      const auto& p = *res.performance;
      if (p.drop) b.set(x, "drop", *p.drop);
      if (p.evaluated) {
        b.set(x, "metric", p.metric);
        b.set(x, "value", p.value);
      } else {
        b.set(x, "detail", std::string("no labelled rows"));
      }
      b.set(x, "breached", p.breached);
      b.set(sj, "performance", std::move(x));
    }
    if (concept_series) {
      json::Value x = b.obj();
      b.set(x, "breached", res.concept_drift);
      if (w < concept_series->detail.size() && !concept_series->detail[w].empty())
        b.set(x, "detail", concept_series->detail[w]);
      b.set(sj, "concept_drift", std::move(x));
    }
    b.set(o, "signals", std::move(sj));
    b.push(wj, std::move(o));
  }
  b.set(doc, "windows", std::move(wj));
}

std::string decision_markdown(const Decision& d) {
  std::ostringstream md;
  md << "### Retrain decision: " << (d.retrain ? "**retrain**" : "no retrain") << "\n\n";
  for (const auto& r : d.reasons) md << "- " << report::md_cell(r) << "\n";
  report::MdTable t;
  t.headers = {"window", "rows"};
  for (const auto& s : d.signals) t.headers.push_back(s.name);
  for (size_t w = 0; w < d.window_results.size(); ++w) {
    std::vector<std::string> row{d.window_results[w].label, std::to_string(d.window_results[w].rows)};
    for (const auto& s : d.signals) row.push_back(s.breached[w] ? "breach" : "ok");
    t.rows.push_back(std::move(row));
  }
  md << "\n"
     << t.render() << "\nDebounce: retrain when a signal breaches in " << d.breaches << " of the last " << d.windows
     << " windows.\n";
  return md.str();
}

}  // namespace amlops::monitor
