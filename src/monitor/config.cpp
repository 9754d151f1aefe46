#include "monitor/config.hpp"

#include <cmath>
#include <set>

#include "core/error.hpp"
#include "core/files.hpp"
#include "core/strings.hpp"
#include "core/yaml.hpp"
#include "stats/detectors.hpp"

namespace amlops::monitor {

namespace {

std::optional<std::string> opt_str(const yaml::Document& d, const YAML::Node& m, const char* key) {
  return d.opt_string(m, key);
}

stats::FeatureRule parse_rule(const yaml::Document& d, const YAML::Node& n) {
  stats::FeatureRule r;
  if (!n.IsMap()) d.fail(n, "expected a map with method, threshold and/or type");
  for (auto it : n) {
    const auto key = yaml::scalar(it.first);
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

bool valid_window(const std::string& window) {
  if (window == "daily" || window == "weekly") return true;
  const auto n = str::parse_int(window);
  return n && *n > 0;
}

MonitorConfig load_config(const std::filesystem::path& path) {
  if (!std::filesystem::exists(path)) throw UsageError("no such configuration file: " + path.string());
  return parse_config(files::read(path), path.string());
}

MonitorConfig parse_config(const std::string& text, const std::string& source) {
  auto d = yaml::load_string(text, source);
  MonitorConfig c;
  c.file = source;
  if (d.root && !d.root.IsNull() && !d.root.IsMap()) d.fail(d.root, "expected a map with a 'monitor:' section");
  if (!d.root.IsMap() || !d.root["monitor"]) throw ConfigError(SourceLocation{c.file, 1, 1}, "no 'monitor:' section");
  const YAML::Node m = d.root["monitor"];
  if (!m.IsMap()) d.fail(m, "'monitor' must be a map");
  static const std::set<std::string> known = {
      "reference", "current", "timestamp",   "label",       "prediction", "score",  "task",    "compat",   "columns",
      "exclude",   "numeric", "categorical", "drift_share", "features",   "window", "signals", "debounce", "metrics"};
  for (auto it : m) {
    const auto key = yaml::scalar(it.first);
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
    for (auto it : f) c.drift.features[yaml::scalar(it.first)] = parse_rule(d, it.second);
  }
  if (const YAML::Node w = m["window"]) {
    c.window = yaml::scalar(w);
    if (!valid_window(c.window)) d.fail(w, "window must be daily, weekly or a number of rows");
  }
  if (const YAML::Node s = m["signals"]) {
    if (!s.IsMap()) d.fail(s, "'signals' must be a map");
    for (auto it : s) {
      const auto key = yaml::scalar(it.first);
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
    const double k = d.opt_number(db, "breaches").value_or(1);
    const double n = d.opt_number(db, "windows").value_or(k);
    if (!(k >= 1 && n >= k && n <= 100000) || k != std::floor(k) || n != std::floor(n))
      d.fail(db, "debounce needs whole numbers 1 <= breaches <= windows");
    c.debounce_breaches = static_cast<int>(k);
    c.debounce_windows = static_cast<int>(n);
  }
  return c;
}

std::string resolve_config_path(const std::string& config_file, const std::string& path, bool from_config) {
  std::filesystem::path fp(path);
  if (from_config && fp.is_relative() && !std::filesystem::exists(fp))
    fp = std::filesystem::path(config_file).parent_path() / fp;
  return fp.string();
}

}  // namespace amlops::monitor
