#include "monitor/decide.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>

#include "core/error.hpp"
#include "core/log.hpp"
#include "core/strings.hpp"
#include "monitor/performance.hpp"
#include "monitor/render.hpp"
#include "report/html.hpp"
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
    SignalSeries s;
    s.name = name;
    s.breached.assign(windows.size(), false);
    s.detail.assign(windows.size(), "");
    s.values.assign(windows.size(), std::numeric_limits<double>::quiet_NaN());
    d.signals.push_back(std::move(s));
    return d.signals.back();
  };
  const bool prediction_signal = c.prediction_drift && c.prediction && ref.profile.find(*c.prediction);
  const bool performance_signal = c.performance && have_labels;
  const bool drop_rule = performance_signal && c.performance->max_drop && baseline;
  const bool concept_signal = (c.concept_detector && have_labels) || drop_rule;
  d.target = c.target;
  stats::QualityOptions quality = c.quality;
  // The same columns as data drift, and the prediction (its nulls are a quality problem too).
  for (const auto& col : drift.exclude)
    if (col != c.prediction) quality.exclude.push_back(col);
  quality.only = drift.only;
  if (c.data_drift) {
    auto& s = signal("data_drift");
    s.threshold = 1.0;
    s.measure = "worst feature: value relative to its threshold (> 1 drifts)";
  }
  if (prediction_signal) signal("prediction_drift").measure = "prediction drift metric";
  if (c.data_quality) {
    auto& s = signal("data_quality");
    s.threshold = 0.0;
    s.measure = "worst rate above the reference's rate + threshold (> 0 breaches)";
  }
  if (performance_signal) {
    auto& s = signal("performance");
    s.measure = c.performance->metric;
    if (c.performance->min)
      s.threshold = *c.performance->min;
    else if (c.performance->max)
      s.threshold = *c.performance->max;
    else if (drop_rule)
      s.threshold = higher_is_better(c.performance->metric) ? *baseline - *c.performance->max_drop
                                                            : *baseline + *c.performance->max_drop;
  }
  if (concept_signal) signal("concept_drift").measure = "alarm (1) or none (0)";

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
        double worst = 0;
        for (const auto& f : r.features) worst = std::max(worst, std::min(severity(f), 100.0));
        s.values[w] = worst;
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
      s.values[w] = f.value;
      s.threshold = f.threshold;
      s.detail[w] =
          f.method + " " + report::fmt_number(f.value) + " " + f.comparator + " " + report::fmt_number(f.threshold);
      res.prediction_drift = std::move(f);
    }
    if (c.data_quality) {
      auto q = stats::compute_quality(ref.profile, prof, quality);
      auto& s = signal("data_quality");
      double worst = -1;
      std::vector<std::string> why;
      for (const auto& f : q.features)
        for (const auto& m : f.metrics) {
          worst = std::max(worst, m.value - m.reference - m.threshold);
          if (m.breached) why.push_back(f.name + " " + m.name + " " + report::fmt_number(m.value, 4));
        }
      s.breached[w] = q.breached;
      s.values[w] = q.features.empty() ? std::numeric_limits<double>::quiet_NaN() : worst;
      s.detail[w] = why.empty() ? "no breach" : str::join(why, ", ");
      res.data_quality = std::move(q);
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
        s.values[w] = *v;
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
    if (concept_signal) {
      auto& s = signal("concept_drift");
      res.concept_drift = s.breached[w];
      s.values[w] = s.breached[w] ? 1.0 : 0.0;
    }
    d.window_results.push_back(std::move(res));
    if (w + 1 == windows.size()) d.latest = std::move(prof);
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
  b.set(doc, "health_breached", d.health_breached);
  json::Value hj = b.arr();
  for (const auto& r : d.health_reasons) b.push(hj, r);
  b.set(doc, "health_reasons", std::move(hj));
  json::Value db = b.obj();
  b.set(db, "breaches", d.breaches);
  b.set(db, "windows", d.windows);
  b.set(doc, "debounce", std::move(db));
  json::Value sigj = b.obj();
  for (const auto& t : d.triggers) {
    json::Value o = b.obj();
    b.set(o, "breaches", t.breaches);
    b.set(o, "triggered", t.triggered);
    // The trend: the measured value per window (null = not measured) and the threshold.
    for (const auto& s : d.signals) {
      if (s.name != t.signal) continue;
      json::Value vals = b.arr();
      for (double v : s.values) {
        if (std::isfinite(v))
          vals.PushBack(json::Value(v), doc.GetAllocator());
        else
          vals.PushBack(json::Value(rapidjson::kNullType), doc.GetAllocator());
      }
      b.set(o, "values", std::move(vals));
      if (s.threshold) b.set(o, "threshold", *s.threshold);
      if (!s.measure.empty()) b.set(o, "measure", s.measure);
    }
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
    if (res.data_quality) {
      json::Value x = b.obj();
      b.set(x, "breached", res.data_quality->breached);
      b.set(x, "breached_features", res.data_quality->breached_features);
      json::Value nj = b.arr();
      for (const auto& f : res.data_quality->features)
        if (f.breached) b.push(nj, f.name);
      b.set(x, "features", std::move(nj));
      b.set(sj, "data_quality", std::move(x));
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
  if (!d.target.empty()) md << "Target: " << report::md_cell(d.target.describe()) << ".\n\n";
  for (const auto& r : d.reasons) md << "- " << report::md_cell(r) << "\n";
  if (d.health_breached) md << "\n" << report::md_cell(health_verdict(d)) << " (not a retrain signal).\n";
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

std::string decision_html(const Decision& d, const stats::Profile& reference) {
  report::HtmlPage page("Retrain decision");
  page.heading(1, "Retrain decision");
  page.raw(target_html(d.target));
  page.raw(std::string("<p class=\"") + (d.retrain || d.health_breached ? "bad" : "ok") + "\">" +
           str::xml_escape(decision_verdict(d)) + "</p>\n");
  if (!d.reasons.empty() || d.health_breached) {
    page.raw("<ul>");
    for (const auto& r : d.reasons) page.raw("<li>" + str::xml_escape(r) + "</li>");
    if (d.health_breached) page.raw("<li>" + str::xml_escape(health_verdict(d)) + " (not a retrain signal)</li>");
    page.raw("</ul>\n");
  }
  std::vector<std::string> labels;
  for (const auto& w : d.window_results) labels.push_back(w.label);
  page.heading(2, "Signals over the windows");
  page.paragraph("Retrain when a signal breaches in " + std::to_string(d.breaches) + " of the last " +
                 std::to_string(d.windows) + " windows; the dashed line is the signal's threshold, red points breach.");
  page.raw("<div class=\"cards\">\n");
  for (const auto& s : d.signals) {
    report::LineChart c;
    c.title = s.name;
    c.labels = labels;
    c.values = s.values;
    c.marked = s.breached;
    c.threshold = s.threshold;
    page.raw("<div class=\"card\">" + report::svg_line_chart(c) + "<p>" + str::xml_escape(s.measure) + "</p></div>\n");
  }
  page.raw("</div>\n");
  std::vector<std::string> headers{"window", "rows"};
  for (const auto& s : d.signals) headers.push_back(s.name);
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> classes;
  for (size_t w = 0; w < d.window_results.size(); ++w) {
    std::vector<std::string> row{d.window_results[w].label, std::to_string(d.window_results[w].rows)};
    bool any = false;
    for (const auto& s : d.signals) {
      row.push_back((s.breached[w] ? "breach" : "ok") + (s.detail[w].empty() ? "" : ": " + s.detail[w]));
      any = any || s.breached[w];
    }
    rows.push_back(std::move(row));
    classes.push_back(any ? "breached" : "");
  }
  page.table(headers, rows, classes);
  if (!d.window_results.empty()) {
    const auto& last = d.window_results.back();
    page.heading(2, "Reference against the last window (" + last.label + ")");
    if (last.data_quality) page.raw(quality_html(*last.data_quality));
    page.raw(statistics_html(reference, d.latest, last.data_quality ? &*last.data_quality : nullptr));
  }
  page.raw("<p><small>Generated by amlops-monitor decide.</small></p>\n");
  return page.render();
}

namespace {
// The reasons without their windows' details (those stay in the body).
std::vector<std::string> short_reasons(const std::vector<std::string>& reasons) {
  std::vector<std::string> why;
  for (const auto& r : reasons) why.push_back(r.substr(0, r.find(" (")));
  return why;
}
}  // namespace

std::string health_verdict(const Decision& d) {
  if (!d.health_breached) return {};
  return "endpoint health: breached \u2014 " + str::join(d.health_reasons, "; ");
}

std::string decision_verdict(const Decision& d) {
  const std::string rule = std::to_string(d.breaches) + " of the last " + std::to_string(d.windows) + " windows";
  std::string v = d.retrain ? "retrain: true \u2014 " + str::join(short_reasons(d.reasons), "; ")
                            : "retrain: false \u2014 no signal breached in " + rule;
  if (d.health_breached) v += "; endpoint health: breached \u2014 " + str::join(short_reasons(d.health_reasons), "; ");
  return v;
}

report::Fragment decision_fragment(const Decision& d, bool fail_on_retrain, bool fail_on_breach) {
  report::Fragment f;
  f.title = "Retrain decision";
  f.order = report::section_order::monitor;
  f.verdict = decision_verdict(d);
  f.status = check_status(d.retrain || d.health_breached,
                          (d.retrain && fail_on_retrain) || (d.health_breached && fail_on_breach));
  f.body = decision_markdown(d);
  return f;
}

}  // namespace amlops::monitor
