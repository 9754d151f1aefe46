#include "monitor/render.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <vector>

#include "core/strings.hpp"
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

std::string drift_markdown(const DriftCheck& check, const std::string& title) {
  std::ostringstream os;
  os << "### " << title << "\n\n";
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
  return os.str();
}

std::string drift_html(const DriftCheck& check, const std::string& reference, const std::string& current,
                       const std::string& compat) {
  report::HtmlPage page("Drift report: " + current);
  page.heading(1, "Drift report");
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
  page.raw(
      "</div>\n<p><small>Generated by amlops-monitor. Histograms: share of values per bin (numeric: the "
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
}

}  // namespace amlops::monitor
