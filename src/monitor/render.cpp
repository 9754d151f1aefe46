#include "monitor/render.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <sstream>
#include <vector>

#include "core/strings.hpp"
#include "core/time.hpp"
#include "report/html.hpp"
#include "report/markdown.hpp"

namespace amlops::monitor {

json::Value feature_json(const stats::FeatureDrift& f, json::Builder& b) {
  json::Value o = b.obj();
  b.set(o, "name", f.name);
  b.set(o, "type", f.type);
  b.set(o, "count", f.count);
  b.set(o, "missing", f.missing);
  b.set(o, "reference_count", f.reference_count);
  b.set(o, "reference_missing", f.reference_missing);
  b.set(o, "drifted", f.drifted);
  b.set(o, "method", f.method);
  b.set(o, "value", f.value);
  b.set(o, "threshold", f.threshold);
  b.set(o, "comparator", f.comparator);
  json::Value m = b.obj();
  for (const auto& [k, v] : f.metrics) b.set(m, k, v);
  b.set(o, "metrics", std::move(m));
  if (!f.note.empty()) b.set(o, "note", f.note);
  return o;
}

json::Value dataset_json(const stats::DatasetDrift& d, json::Builder& b) {
  json::Value o = b.obj();
  b.set(o, "drifted_features", d.drifted_features);
  b.set(o, "features", d.features);
  b.set(o, "share", d.share);
  b.set(o, "drift_share", d.drift_share);
  b.set(o, "drifted", d.drifted);
  return o;
}

void check_json(const DriftCheck& c, json::Value& doc, json::Builder& b) {
  b.set(doc, "outcome", std::string(outcome_name(c.outcome)));
  if (c.outcome == Outcome::too_few_rows) b.set(doc, "reason", c.reason);
  json::Value feats = b.arr();
  for (const auto& f : c.result.features) b.push(feats, feature_json(f, b));
  b.set(doc, "features", std::move(feats));
  if (c.outcome != Outcome::too_few_rows) b.set(doc, "dataset", dataset_json(c.result.dataset, b));
  if (c.prediction) b.set(doc, "prediction", feature_json(*c.prediction, b));
  if (c.quality) b.set(doc, "data_quality", quality_json(*c.quality, b));
  if (c.outcome == Outcome::too_few_rows)
    b.set_null(doc, "drifted");
  else
    b.set(doc, "drifted", c.drifted());
}

double severity(const stats::FeatureDrift& f) {
  if (std::isnan(f.value)) return 0;
  const bool pvalue = f.comparator == "<" || f.comparator == "<=";
  if (pvalue) return f.value > 0 ? std::min(f.threshold / f.value, 1e6) : 1e6;
  return f.threshold > 0 ? f.value / f.threshold : (f.value > 0 ? 1e6 : 0);
}

namespace {
std::vector<const stats::FeatureDrift*> ranked(const stats::DriftResult& r) {
  std::vector<const stats::FeatureDrift*> v;
  for (const auto& f : r.features) v.push_back(&f);
  std::stable_sort(v.begin(), v.end(), [](auto* a, auto* b) { return severity(*a) > severity(*b); });
  return v;
}
std::vector<std::string> row_of(const stats::FeatureDrift& f) {
  return {f.name,
          f.type,
          f.method,
          report::fmt_number(f.value),
          f.comparator + " " + report::fmt_number(f.threshold),
          f.drifted ? "drifted" : "ok",
          std::to_string(f.count) + (f.missing ? " (" + std::to_string(f.missing) + " missing)" : "")};
}
}  // namespace

std::string drift_markdown(const DriftCheck& check, const std::string& reference, const std::string& current) {
  std::ostringstream os;
  os << "Reference `" << reference << "`, current `" << current << "`.\n\n";
  if (check.outcome == Outcome::too_few_rows) {
    os << "**Too few rows**: " << report::md_cell(check.reason) << ". Drift was not assessed.\n";
    return os.str();
  }
  const auto& r = check.result;
  const auto* prediction = check.prediction ? &*check.prediction : nullptr;
  const auto& d = r.dataset;
  os << (d.drifted ? "**Drift detected**: " : "No dataset drift: ") << d.drifted_features << " of " << d.features
     << " features drifted (share " << report::fmt_number(d.share, 3) << ").";
  if (prediction)
    os << " Prediction `" << prediction->name << "`: " << (prediction->drifted ? "**drifted**" : "no drift") << " ("
       << prediction->method << " " << report::fmt_number(prediction->value) << ").";
  os << "\n\n";
  auto order = ranked(r);
  std::vector<report::BarDatum> bars;
  for (size_t i = 0; i < order.size() && i < 10; ++i)
    bars.push_back({order[i]->name, std::min(severity(*order[i]), 100.0)});
  if (!bars.empty())
    os << report::mermaid_bar_chart("Worst features (value relative to threshold; > 1 drifts)", "severity", bars, 1.0)
       << "\n";
  report::MdTable t;
  t.headers = {"feature", "type", "method", "value", "threshold", "status", "count"};
  for (size_t i = 0; i < order.size() && i < 50; ++i) t.rows.push_back(row_of(*order[i]));
  if (prediction) {
    auto row = row_of(*prediction);
    row[0] += " (prediction)";
    t.rows.insert(t.rows.begin(), row);
  }
  os << t.render();
  if (order.size() > 50) os << "\n" << order.size() - 50 << " more features in the JSON output.\n";
  if (check.quality)
    os << "\n**Data quality**: " << quality_verdict(*check.quality) << "\n\n" << quality_markdown(*check.quality);
  return os.str();
}

report::FragmentStatus check_status(bool problem, bool failing_run) {
  if (!problem) return report::FragmentStatus::pass;
  return failing_run ? report::FragmentStatus::fail : report::FragmentStatus::warn;
}

std::string drift_verdict(const DriftCheck& check) {
  if (check.outcome == Outcome::too_few_rows) return "too few rows to judge drift: " + check.reason;
  const auto& d = check.result.dataset;
  std::string v;
  const std::string of = std::to_string(d.drifted_features) + " of " + std::to_string(d.features) + " features";
  if (d.drifted) {
    v = "drift in " + of;
    auto order = ranked(check.result);
    if (!order.empty() && order.front()->drifted)
      v += " (worst: " + order.front()->method + " " + order.front()->name + " " +
           report::fmt_number(order.front()->value, 3) + ")";
  } else if (d.drifted_features > 0) {
    v = "no dataset drift: " + of + " drifted, below the dataset share " + report::fmt_number(d.drift_share, 3);
  } else {
    v = "no drift in " + std::to_string(d.features) + (d.features == 1 ? " feature" : " features");
  }
  if (const auto& p = check.prediction)
    v += "; prediction " + p->name +
         (p->drifted ? " drifted (" + p->method + " " + report::fmt_number(p->value, 3) + ")" : ": no drift");
  if (check.quality_breached()) v += "; data quality: " + quality_verdict(*check.quality);
  return v;
}

report::Fragment drift_fragment(const DriftCheck& c, const std::string& reference, const std::string& current,
                                bool fail_on_drift, bool fail_on_quality) {
  report::Fragment f;
  f.title = "Data drift";
  f.order = report::section_order::monitor;
  f.verdict = drift_verdict(c);
  f.status = c.drifted() || c.outcome == Outcome::too_few_rows ? check_status(true, fail_on_drift)
                                                               : check_status(c.quality_breached(), fail_on_quality);
  f.body = drift_markdown(c, reference, current);
  return f;
}

std::string drift_html(const DriftCheck& check, const std::string& reference, const std::string& current,
                       const std::string& compat) {
  return drift_html(check, DriftReport{reference, current, compat, {}, nullptr, nullptr});
}

std::string drift_html(const DriftCheck& check, const DriftReport& rep) {
  const auto &reference = rep.reference, &current = rep.current, &compat = rep.compat;
  report::HtmlPage page("Drift report: " + current);
  page.heading(1, "Drift report");
  page.raw(target_html(rep.target));
  page.raw("<p>Reference <code>" + str::xml_escape(reference) + "</code>, current <code>" + str::xml_escape(current) +
           "</code>, conventions <code>" + str::xml_escape(compat) + "</code>.</p>\n");
  if (check.outcome == Outcome::too_few_rows) {
    page.raw("<p class=\"bad\">Too few rows: " + str::xml_escape(check.reason) + ". Drift was not assessed.</p>\n");
    return page.render();
  }
  const auto& r = check.result;
  const auto* prediction = check.prediction ? &*check.prediction : nullptr;
  const auto& d = r.dataset;
  page.raw(std::string("<p class=\"") + (d.drifted ? "bad" : "ok") + "\">" +
           (d.drifted ? "Dataset drift detected: " : "No dataset drift: ") + std::to_string(d.drifted_features) +
           " of " + std::to_string(d.features) + " features drifted (share " + report::fmt_number(d.share, 3) +
           ").</p>\n");
  std::vector<const stats::FeatureDrift*> all;
  if (prediction) all.push_back(prediction);
  for (auto* f : ranked(r)) all.push_back(f);
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> classes;
  const char* keys[] = {"ks_statistic",   "ks_pvalue", "wasserstein",    "wasserstein_norm",
                        "jensen_shannon", "psi",       "chi2_statistic", "chi2_pvalue"};
  for (auto* f : all) {
    auto row = row_of(*f);
    if (f == prediction) row[0] += " (prediction)";
    for (const char* k : keys) {
      auto it = f->metrics.find(k);
      row.push_back(it == f->metrics.end() ? "" : report::fmt_number(it->second));
    }
    rows.push_back(std::move(row));
    classes.push_back(f->drifted ? "drifted" : "");
  }
  page.heading(2, "Features");
  page.table({"feature", "type", "method", "value", "threshold", "status", "count", "KS D", "KS p", "W1", "W1 norm",
              "JS", "PSI", "chi2", "chi2 p"},
             rows, classes);
  page.heading(2, "Distributions (reference vs current)");
  page.raw("<div class=\"cards\">\n");
  for (auto* f : all) {
    report::HistogramChart c;
    c.title = f->name + " - " + f->method + " " + report::fmt_number(f->value) + (f->drifted ? " (drifted)" : "");
    c.edges = f->histogram.edges;
    c.labels = f->histogram.labels;
    c.series = {{"reference", f->histogram.reference, "#0969da"}, {"current", f->histogram.current, "#cf222e"}};
    page.raw("<div class=\"card\">" + report::svg_histogram(c) + "<p>" + str::xml_escape(f->note) + "</p></div>\n");
  }
  page.raw("</div>\n");
  if (check.quality) {
    page.heading(2, "Data quality");
    page.raw(quality_html(*check.quality));
  }
  if (rep.reference_profile && rep.current_profile) {
    page.heading(2, "Descriptive statistics");
    page.raw(statistics_html(*rep.reference_profile, *rep.current_profile, check.quality ? &*check.quality : nullptr));
  }
  page.raw(
      "<p><small>Generated by amlops-monitor. Histograms: share of values per bin (numeric: the "
      "equal-width bins used for JS/PSI; categorical: the 20 most frequent categories).</small></p>\n");
  return page.render();
}

void drift_text(std::ostream& os, const DriftCheck& check) {
  if (check.outcome == Outcome::too_few_rows) {
    os << "TOO FEW ROWS: " << check.reason << "; drift was not assessed\n";
    return;
  }
  const auto& r = check.result;
  const auto* prediction = check.prediction ? &*check.prediction : nullptr;
  const auto& d = r.dataset;
  os << (d.drifted ? "DRIFT: " : "no drift: ") << d.drifted_features << " of " << d.features
     << " features drifted (share " << report::fmt_number(d.share, 3) << ")\n";
  // The comparator states the drift condition; a feature that did not drift shows its negation.
  auto negate = [](const std::string& c) -> std::string {
    if (c == ">") return "<=";
    if (c == ">=") return "<";
    if (c == "<") return ">=";
    if (c == "<=") return ">";
    return "not " + c;
  };
  auto line = [&](const stats::FeatureDrift& f, const std::string& suffix) {
    os << "  " << (f.drifted ? "[drift] " : "[ok]    ") << f.name << suffix << " (" << f.type << "): " << f.method
       << " " << report::fmt_number(f.value) << " " << (f.drifted ? f.comparator : negate(f.comparator)) << " "
       << report::fmt_number(f.threshold);
    if (!f.note.empty()) os << " - " << f.note;
    os << "\n";
  };
  if (prediction) line(*prediction, " [prediction]");
  for (auto* f : ranked(r)) line(*f, "");
  if (check.quality) quality_text(os, *check.quality);
}

json::Value quality_json(const stats::QualityResult& q, json::Builder& b) {
  json::Value o = b.obj();
  b.set(o, "breached", q.breached);
  b.set(o, "breached_features", q.breached_features);
  json::Value feats = b.arr();
  for (const auto& f : q.features) {
    json::Value fo = b.obj();
    b.set(fo, "name", f.name);
    b.set(fo, "type", f.type);
    b.set(fo, "rows", f.rows);
    b.set(fo, "breached", f.breached);
    json::Value ms = b.obj();
    for (const auto& m : f.metrics) {
      json::Value mo = b.obj();
      b.set(mo, "value", m.value);
      b.set(mo, "reference", m.reference);
      b.set(mo, "threshold", m.threshold);
      b.set(mo, "rows", m.rows);
      b.set(mo, "breached", m.breached);
      b.set(ms, m.name, std::move(mo));
    }
    b.set(fo, "metrics", std::move(ms));
    json::Value nc = b.obj();
    for (const auto& [k, n] : f.new_categories) b.set(nc, k, n);
    b.set(fo, "new_categories", std::move(nc));
    b.set(fo, "new_category_count", f.new_category_count);
    if (!f.note.empty()) b.set(fo, "note", f.note);
    b.push(feats, std::move(fo));
  }
  b.set(o, "features", std::move(feats));
  return o;
}

namespace {
// "null_value_rate 0.4 > 0.05" for each breached metric of a feature.
std::vector<std::string> breaches_of(const stats::FeatureQuality& f) {
  std::vector<std::string> out;
  for (const auto& m : f.metrics)
    if (m.breached)
      out.push_back(m.name + " " + report::fmt_number(m.value, 4) + " > " +
                    (m.reference > 0 ? report::fmt_number(m.reference, 4) + " + " : "") +
                    report::fmt_number(m.threshold, 4));
  return out;
}
std::string new_categories_text(const stats::FeatureQuality& f) {
  std::vector<std::string> cats;
  for (const auto& [k, n] : f.new_categories) cats.push_back(k + " (" + std::to_string(n) + ")");
  std::string s = str::join(cats, ", ");
  if (f.new_category_count > static_cast<int64_t>(f.new_categories.size()))
    s += ", ... (" + std::to_string(f.new_category_count) + " in all)";
  return s;
}
}  // namespace

std::string quality_verdict(const stats::QualityResult& q) {
  if (!q.breached) return "no data-quality problem in " + std::to_string(q.features.size()) + " features";
  std::vector<std::string> names;
  for (const auto& f : q.features)
    if (f.breached) names.push_back(f.name);
  if (names.size() > 5) names.resize(5), names.push_back("...");
  return std::to_string(q.breached_features) + " of " + std::to_string(q.features.size()) +
         " features breach data-quality thresholds (" + str::join(names, ", ") + ")";
}

void quality_text(std::ostream& os, const stats::QualityResult& q) {
  os << (q.breached ? "DATA QUALITY: " : "data quality: ") << quality_verdict(q) << "\n";
  for (const auto& f : q.features) {
    if (!f.breached && f.new_categories.empty()) continue;
    os << "  - " << f.name << (f.breached ? " (breach):" : ":");
    auto why = breaches_of(f);
    if (!why.empty()) os << " " << str::join(why, ", ");
    if (!f.new_categories.empty()) os << (why.empty() ? "" : ";") << " new categories " << new_categories_text(f);
    os << "\n";
  }
}

std::string quality_markdown(const stats::QualityResult& q) {
  report::MdTable t;
  t.headers = {"feature", "null rate", "type errors", "out of bounds", "new categories", "status"};
  for (const auto& f : q.features) {
    if (!f.breached && f.new_categories.empty()) continue;
    auto rate = [&](const char* m) {
      const auto* x = f.metric(m);
      return x ? report::fmt_number(x->value, 4) + (x->breached ? " (breach)" : "") : std::string();
    };
    t.rows.push_back({f.name, rate("null_value_rate"), rate("data_type_error_rate"), rate("out_of_bounds_rate"),
                      new_categories_text(f), f.breached ? "breach" : "ok"});
  }
  if (t.rows.empty()) return "";
  return t.render();
}

std::string quality_html(const stats::QualityResult& q) {
  std::string h = std::string("<p class=\"") + (q.breached ? "bad" : "ok") + "\">" +
                  str::xml_escape(quality_verdict(q)) +
                  "</p>\n<table><thead><tr><th>feature</th><th>type</th><th>rows</th><th>null_value_rate</th>"
                  "<th>data_type_error_rate</th><th>out_of_bounds_rate</th><th>new categories</th><th>status</th>"
                  "</tr></thead><tbody>\n";
  for (const auto& f : q.features) {
    h += f.breached ? "<tr class=\"breached\">" : "<tr>";
    h += "<td>" + str::xml_escape(f.name) + "</td><td>" + str::xml_escape(f.type) + "</td><td>" +
         std::to_string(f.rows) + "</td>";
    for (const auto& m : f.metrics)
      h += std::string("<td") + (m.breached ? " class=\"bad\"" : "") + " title=\"threshold " +
           str::xml_escape(report::fmt_number(m.threshold, 4)) + " over the reference's " +
           str::xml_escape(report::fmt_number(m.reference, 4)) + "\">" +
           str::xml_escape(report::fmt_number(m.value, 4)) + "</td>";
    h += "<td>";
    for (size_t i = 0; i < f.new_categories.size(); ++i)
      h += (i ? " " : "") + std::string("<span class=\"new\">") + str::xml_escape(f.new_categories[i].first) + " (" +
           std::to_string(f.new_categories[i].second) + ")</span>";
    if (f.new_category_count > static_cast<int64_t>(f.new_categories.size()))
      h += " ... " + std::to_string(f.new_category_count) + " in all";
    h += "</td><td>" + std::string(f.breached ? "breach" : "ok") + "</td></tr>\n";
  }
  h += "</tbody></table>\n<p><small>Rates are shares of the current rows; a metric breaches when it exceeds the "
       "reference's own rate plus its threshold.</small></p>\n";
  return h;
}

std::string statistics_html(const stats::Profile& reference, const stats::Profile& current,
                            const stats::QualityResult* quality) {
  auto numeric_cells = [](const stats::ColumnProfile* c) {
    std::vector<std::string> v;
    if (!c) return std::vector<std::string>(9, "");
    v.push_back(std::to_string(c->count));
    v.push_back(std::to_string(c->missing));
    if (c->type == stats::ColumnType::datetime && c->count > 0) {  // min, median, max as timestamps
      auto iso = [](double t) {
        return iso8601_utc(std::chrono::system_clock::time_point(
            std::chrono::duration_cast<std::chrono::system_clock::duration>(std::chrono::duration<double>(t))));
      };
      v.insert(v.end(), {"", "", iso(c->min), "", iso(c->quantile(0.5)), "", iso(c->max)});
      return v;
    }
    if (!c->numeric() || c->count == 0) {
      v.resize(9, "");
      return v;
    }
    v.push_back(report::fmt_number(c->mean, 4));
    v.push_back(report::fmt_number(c->std_sample, 4));
    v.push_back(report::fmt_number(c->min, 4));
    for (double q : {0.05, 0.5, 0.95}) v.push_back(report::fmt_number(c->quantile(q), 4));
    v.push_back(report::fmt_number(c->max, 4));
    return v;
  };
  std::string h =
      "<table><thead><tr><th>feature</th><th>data</th><th>count</th><th>missing</th><th>mean</th><th>std</th>"
      "<th>min</th><th>p5</th><th>median</th><th>p95</th><th>max</th><th>categories (most frequent; new ones "
      "highlighted)</th></tr></thead><tbody>\n";
  for (const auto& rc : reference.columns) {
    const auto* cc = current.find(rc.name);
    const stats::FeatureQuality* fq = nullptr;
    if (quality)
      for (const auto& f : quality->features)
        if (f.name == rc.name) fq = &f;
    for (int side = 0; side < 2; ++side) {
      const auto* c = side == 0 ? &rc : cc;
      h += side == 0 ? "<tr><td rowspan=\"2\">" + str::xml_escape(rc.name) + "</td><td>reference</td>"
                     : std::string("<tr><td>current</td>");
      for (const auto& cell : numeric_cells(c)) h += "<td>" + str::xml_escape(cell) + "</td>";
      h += "<td>";
      if (c && !c->numeric()) {
        auto top = c->counts;
        std::stable_sort(top.begin(), top.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
        if (top.size() > 8) top.resize(8);
        for (size_t i = 0; i < top.size(); ++i) {
          const bool is_new = side == 1 && fq &&
                              std::any_of(fq->new_categories.begin(), fq->new_categories.end(),
                                          [&](const auto& nc) { return nc.first == top[i].first; });
          h += (i ? ", " : "") + std::string(is_new ? "<span class=\"new\">" : "") + str::xml_escape(top[i].first) +
               " (" + std::to_string(top[i].second) + ")" + (is_new ? "</span>" : "");
        }
        if (c->counts.size() > top.size()) h += ", ... " + std::to_string(c->counts.size()) + " in all";
      }
      if (side == 1 && fq && !fq->new_categories.empty() && (!c || c->numeric())) {
        h += "new: ";
        for (size_t i = 0; i < fq->new_categories.size(); ++i)
          h += (i ? ", " : "") + std::string("<span class=\"new\">") + str::xml_escape(fq->new_categories[i].first) +
               "</span>";
      }
      h += "</td></tr>\n";
    }
  }
  h += "</tbody></table>\n";
  return h;
}

std::string target_html(const Target& t) {
  if (t.empty()) return "";
  return "<p class=\"target\"><strong>" + str::xml_escape(t.describe()) + "</strong></p>\n";
}

}  // namespace amlops::monitor
