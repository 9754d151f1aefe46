#include "tools/monitor/common.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>
#include <ostream>
#include <set>
#include <sstream>

#include "core/error.hpp"
#include "core/log.hpp"
#include "core/strings.hpp"
#include "core/yaml.hpp"
#include "report/html.hpp"
#include "report/markdown.hpp"

namespace amlops::monitor {

using cli::po::value;

std::string bool_text(bool b) { return b ? "true" : "false"; }

void add_read_options(cli::Command& cmd) {
  cmd.options()("delimiter", value<std::string>()->default_value(","),
                "CSV field delimiter (one character; \\t for tab)")(
      "type", value<std::vector<std::string>>()->composing(),
      "declare a column's type COL=numeric|categorical|boolean|datetime (repeatable)")(
      "threads", value<unsigned>()->default_value(0), "parser/profile threads (0 = all cores)")(
      "max-values", value<size_t>()->default_value(1000000),
      "numeric values kept per column in a profile; above it evenly spaced order statistics");
}

stats::ReadOptions read_options(const cli::Command& cmd) {
  stats::ReadOptions o;
  std::string d = cmd.str("delimiter", ",");
  if (d == "\\t" || d == "tab") d = "\t";
  if (d.size() != 1) throw UsageError("--delimiter must be one character, not '" + d + "'");
  o.delimiter = d[0];
  for (auto& [k, v] : cli::key_values(cmd.list("type"), "--type")) {
    auto t = stats::parse_type(v);
    if (!t) throw UsageError("--type " + k + "=" + v + ": expected numeric, categorical, boolean or datetime");
    o.declared[k] = *t;
  }
  o.threads = cmd.get<unsigned>("threads");
  return o;
}

stats::ProfileOptions profile_options(const cli::Command& cmd) {
  stats::ProfileOptions o;
  o.max_values = cmd.get<size_t>("max-values");
  o.threads = cmd.get<unsigned>("threads");
  return o;
}

Source load_source(const std::string& path, const stats::ReadOptions& ro, const stats::ProfileOptions& po,
                   bool keep_table) {
  Source s;
  s.path = path;
  if (!std::filesystem::exists(path)) throw UsageError("no such file: " + path);
  if (stats::is_profile_path(path)) {
    s.profile = stats::load_profile(path);
  } else {
    const auto t0 = std::chrono::steady_clock::now();
    auto table = stats::read_table(path, ro);
    const auto t1 = std::chrono::steady_clock::now();
    if (keep_table) {
      s.profile = stats::profile_table(table, po);
      s.table = std::move(table);
    } else {
      s.profile = stats::profile_table(std::move(table), po);
    }
    const auto t2 = std::chrono::steady_clock::now();
    log::debug(path, ": read ", std::chrono::duration<double>(t1 - t0).count(), " s, profile ",
               std::chrono::duration<double>(t2 - t1).count(), " s");
  }
  return s;
}

// ---------------------------------------------------------------------------------------------
// Configuration

namespace {

std::optional<std::string> opt_str(const yaml::Document& d, const YAML::Node& m, const char* key) {
  return d.opt_string(m, key);
}

stats::FeatureRule parse_rule(const yaml::Document& d, const YAML::Node& n) {
  stats::FeatureRule r;
  if (!n.IsMap()) d.fail(n, "expected a map with method, threshold and/or type");
  for (auto it : n) {
    const auto key = it.first.as<std::string>();
    if (key != "method" && key != "threshold" && key != "type")
      d.fail(it.first, "unknown key '" + key + "' (expected method, threshold or type)");
  }
  r.method = d.opt_string(n, "method");
  r.threshold = d.opt_number(n, "threshold");
  if (auto t = d.opt_string(n, "type")) {
    auto ct = stats::parse_type(*t);
    if (!ct || *ct == stats::ColumnType::datetime) d.fail(n["type"], "type must be numeric or categorical");
    r.type = *ct;
  }
  return r;
}

std::vector<std::string> str_list(const yaml::Document& d, const YAML::Node& m, const char* key) {
  std::vector<std::string> out;
  const YAML::Node n = m[key];
  if (!n) return out;
  if (!n.IsSequence()) d.fail(n, std::string("'") + key + "' must be a list of column names");
  for (const auto& x : n) out.push_back(yaml::scalar(x));
  return out;
}

}  // namespace

MonitorConfig load_config(const std::filesystem::path& path) {
  if (!std::filesystem::exists(path)) throw UsageError("no such configuration file: " + path.string());
  auto d = yaml::load_file(path);
  MonitorConfig c;
  c.file = path.string();
  const YAML::Node m = d.root["monitor"];
  if (!m) throw ConfigError(SourceLocation{c.file, 1, 1}, "no 'monitor:' section");
  if (!m.IsMap()) d.fail(m, "'monitor' must be a map");
  static const std::set<std::string> known = {
      "reference", "current", "timestamp",   "label",       "prediction", "score",  "task",    "compat",   "columns",
      "exclude",   "numeric", "categorical", "drift_share", "features",   "window", "signals", "debounce", "metrics"};
  for (auto it : m) {
    const auto key = it.first.as<std::string>();
    if (!known.count(key)) d.fail(it.first, "unknown key 'monitor." + key + "'");
  }
  c.reference = opt_str(d, m, "reference");
  c.current = opt_str(d, m, "current");
  c.timestamp = opt_str(d, m, "timestamp");
  c.label = opt_str(d, m, "label");
  c.prediction = opt_str(d, m, "prediction");
  c.score = opt_str(d, m, "score");
  c.task = opt_str(d, m, "task");
  if (c.task && *c.task != "auto" && *c.task != "classification" && *c.task != "regression")
    d.fail(m["task"], "task must be auto, classification or regression");
  if (auto compat = opt_str(d, m, "compat")) {
    auto cc = stats::parse_compat(*compat);
    if (!cc) d.fail(m["compat"], "compat must be azure or evidently");
    c.drift.compat = *cc;
  }
  if (auto metrics = opt_str(d, m, "metrics")) c.drift.all_metrics = *metrics == "all";
  c.drift.only = str_list(d, m, "columns");
  c.drift.exclude = str_list(d, m, "exclude");
  for (const char* kind : {"numeric", "categorical"}) {
    const YAML::Node n = m[kind];
    if (!n) continue;
    auto r = parse_rule(d, n);
    if (std::string(kind) == "numeric") {
      c.drift.numeric_method = r.method;
      c.drift.numeric_threshold = r.threshold;
    } else {
      c.drift.categorical_method = r.method;
      c.drift.categorical_threshold = r.threshold;
    }
  }
  c.drift.drift_share = d.opt_number(m, "drift_share");
  if (const YAML::Node f = m["features"]) {
    if (!f.IsMap()) d.fail(f, "'features' must map column names to {method, threshold, type}");
    for (auto it : f) c.drift.features[it.first.as<std::string>()] = parse_rule(d, it.second);
  }
  if (const YAML::Node w = m["window"]) {
    c.window = yaml::scalar(w);
    if (c.window != "daily" && c.window != "weekly" && !(str::parse_int(c.window) && *str::parse_int(c.window) > 0))
      d.fail(w, "window must be daily, weekly or a number of rows");
  }
  if (const YAML::Node s = m["signals"]) {
    if (!s.IsMap()) d.fail(s, "'signals' must be a map");
    for (auto it : s) {
      const auto key = it.first.as<std::string>();
      if (key != "data_drift" && key != "prediction_drift" && key != "performance" && key != "concept_drift")
        d.fail(it.first,
               "unknown signal '" + key + "' (expected data_drift, prediction_drift, performance, concept_drift)");
    }
    if (s["data_drift"]) {
      if (s["data_drift"].IsMap()) {
        c.data_drift = true;
        if (auto sh = d.opt_number(s["data_drift"], "share")) c.drift.drift_share = *sh;
      } else {
        c.data_drift = d.opt_bool(s, "data_drift").value_or(true);
      }
    }
    if (s["prediction_drift"]) c.prediction_drift = d.opt_bool(s, "prediction_drift").value_or(true);
    if (const YAML::Node p = s["performance"]) {
      if (!p.IsMap()) d.fail(p, "'performance' must be a map: {metric, min, max, max_drop}");
      PerformanceSignal ps;
      ps.metric = d.opt_string(p, "metric").value_or("accuracy");
      ps.min = d.opt_number(p, "min");
      ps.max = d.opt_number(p, "max");
      ps.max_drop = d.opt_number(p, "max_drop");
      if (!ps.min && !ps.max && !ps.max_drop) d.fail(p, "performance needs min, max or max_drop");
      c.performance = ps;
      c.concept_max_drop = ps.max_drop;
    }
    if (const YAML::Node cd = s["concept_drift"]) {
      if (cd.IsMap())
        c.concept_detector = d.opt_string(cd, "detector").value_or("adwin");
      else if (d.opt_bool(s, "concept_drift").value_or(false))
        c.concept_detector = "adwin";
      if (c.concept_detector) {
        try {
          (void)stats::make_detector(*c.concept_detector);
        } catch (const UsageError& e) {
          d.fail(cd, e.what());
        }
      }
    }
  }
  if (const YAML::Node db = m["debounce"]) {
    if (!db.IsMap()) d.fail(db, "'debounce' must be a map: {breaches: k, windows: n}");
    c.debounce_breaches = static_cast<int>(d.opt_number(db, "breaches").value_or(1));
    c.debounce_windows = static_cast<int>(d.opt_number(db, "windows").value_or(c.debounce_breaches));
    if (c.debounce_breaches < 1 || c.debounce_windows < c.debounce_breaches)
      d.fail(db, "debounce needs 1 <= breaches <= windows");
  }
  return c;
}

std::string resolve_config_path(const std::string& config_file, const std::string& path, bool from_config) {
  std::filesystem::path fp(path);
  if (from_config && fp.is_relative() && !std::filesystem::exists(fp))
    fp = std::filesystem::path(config_file).parent_path() / fp;
  return fp.string();
}

// ---------------------------------------------------------------------------------------------
// Drift options and rendering

void add_drift_options(cli::Command& cmd) {
  cmd.options()("compat", value<std::string>()->default_value("azure"),
                "conventions: azure (Azure ML model monitoring) or evidently")(
      "metrics", value<std::string>()->default_value("default"), "default (the method's metric) or all")(
      "columns", value<std::vector<std::string>>()->composing()->multitoken(), "compare only these columns")(
      "exclude", value<std::vector<std::string>>()->composing()->multitoken(), "never compare these columns")(
      "method", value<std::vector<std::string>>()->composing(), "COL=METHOD per feature (repeatable)")(
      "threshold", value<std::vector<std::string>>()->composing(), "COL=VALUE per feature (repeatable)")(
      "numeric-method", value<std::string>(), "method for numeric features")("categorical-method", value<std::string>(),
                                                                             "method for categorical features")(
      "numeric-threshold", value<double>(), "threshold for numeric features")("categorical-threshold", value<double>(),
                                                                              "threshold for categorical features")(
      "drift-share", value<double>(), "dataset drift when this share of features drifts (azure: any; evidently: 0.5)");
}

namespace {
std::vector<std::string> split_lists(const std::vector<std::string>& items) {
  std::vector<std::string> out;
  for (const auto& i : items)
    for (auto& p : str::split(i, ','))
      if (!str::trim(p).empty()) out.emplace_back(str::trim(p));
  return out;
}
}  // namespace

void apply_drift_options(const cli::Command& cmd, stats::DriftOptions& o) {
  if (cmd.has("compat") || !cmd.vm()["compat"].defaulted()) {
    auto c = stats::parse_compat(cmd.str("compat"));
    if (!c) throw UsageError("--compat must be azure or evidently, not '" + cmd.str("compat") + "'");
    o.compat = *c;
  }
  const auto metrics = cmd.str("metrics", "default");
  if (metrics != "default" && metrics != "all") throw UsageError("--metrics must be default or all");
  if (metrics == "all") o.all_metrics = true;
  if (cmd.vm().count("columns")) o.only = split_lists(cmd.list("columns"));
  if (cmd.vm().count("exclude")) {
    auto ex = split_lists(cmd.list("exclude"));
    o.exclude.insert(o.exclude.end(), ex.begin(), ex.end());
  }
  for (auto& [k, v] : cli::key_values(cmd.list("method"), "--method")) o.features[k].method = v;
  for (auto& [k, v] : cli::key_values(cmd.list("threshold"), "--threshold")) {
    auto d = str::parse_double(v);
    if (!d) throw UsageError("--threshold " + k + "=" + v + ": not a number");
    o.features[k].threshold = *d;
  }
  if (cmd.vm().count("numeric-method")) o.numeric_method = cmd.str("numeric-method");
  if (cmd.vm().count("categorical-method")) o.categorical_method = cmd.str("categorical-method");
  if (cmd.vm().count("numeric-threshold")) o.numeric_threshold = cmd.get<double>("numeric-threshold");
  if (cmd.vm().count("categorical-threshold")) o.categorical_threshold = cmd.get<double>("categorical-threshold");
  if (cmd.vm().count("drift-share")) o.drift_share = cmd.get<double>("drift-share");
}

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

std::string drift_markdown(const stats::DriftResult& r, const stats::FeatureDrift* prediction,
                           const std::string& title) {
  std::ostringstream os;
  const auto& d = r.dataset;
  os << "### " << title << "\n\n"
     << (d.drifted ? "**Drift detected**: " : "No dataset drift: ") << d.drifted_features << " of " << d.features
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

std::string drift_html(const stats::DriftResult& r, const stats::FeatureDrift* prediction, const std::string& reference,
                       const std::string& current, const std::string& compat) {
  report::HtmlPage page("Drift report: " + current);
  page.heading(1, "Drift report");
  const auto& d = r.dataset;
  page.raw("<p>Reference <code>" + str::xml_escape(reference) + "</code>, current <code>" + str::xml_escape(current) +
           "</code>, conventions <code>" + str::xml_escape(compat) + "</code>.</p>\n");
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

void drift_text(std::ostream& os, const stats::DriftResult& r, const stats::FeatureDrift* prediction) {
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

// ---------------------------------------------------------------------------------------------
// Performance

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

std::vector<size_t> time_order(const stats::Table& t, const std::optional<std::string>& timestamp) {
  std::vector<size_t> order(t.rows);
  std::iota(order.begin(), order.end(), 0);
  if (!timestamp) return order;
  const auto& c = t.at(*timestamp);
  if (!c.is_numeric())
    throw UsageError("timestamp column '" + *timestamp + "' holds " + std::string(stats::type_name(c.type)) +
                     " values (expected ISO 8601 timestamps or numbers)");
  if (c.missing) log::warn(c.missing, " rows of ", t.source, " have no '", *timestamp, "'; they are ordered last");
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    const double x = c.values[a], y = c.values[b];
    if (std::isnan(x)) return false;
    if (std::isnan(y)) return true;
    return x < y;
  });
  return order;
}

}  // namespace amlops::monitor
