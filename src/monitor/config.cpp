#include "monitor/config.hpp"

#include <cmath>
#include <set>

#include "core/error.hpp"
#include "core/files.hpp"
#include "core/strings.hpp"
#include "core/time.hpp"
#include "core/yaml.hpp"
#include "monitor/health.hpp"
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

// monitor.data_quality: {null_value_rate: x, ..., numerical: {...}, categorical: {...}}.
void parse_quality(const yaml::Document& d, const YAML::Node& n, stats::QualityOptions& o) {
  if (!n.IsMap())
    d.fail(n, "'data_quality' must map metric names to thresholds (or numerical/categorical to such maps)");
  auto metric = [&](const YAML::Node& key, const YAML::Node& map, stats::QualityThresholds* only) {
    const auto k = yaml::scalar(key);
    if (stats::QualityThresholds probe; !probe.set(k, 0))
      d.fail(key, "unknown data-quality metric '" + k +
                      "' (expected null_value_rate, data_type_error_rate or out_of_bounds_rate)");
    const auto v = d.opt_number(map, k);
    if (!v || *v < 0) d.fail(map[k], "a data-quality threshold must be a number >= 0");
    for (auto* t : {&o.numerical, &o.categorical})
      if (!only || only == t) t->set(k, *v);
  };
  for (auto it : n) {
    const auto key = yaml::scalar(it.first);
    if (key == "numerical" || key == "categorical") {
      if (!it.second.IsMap()) d.fail(it.second, "'" + key + "' must map metric names to thresholds");
      for (auto m : it.second) metric(m.first, it.second, key == "numerical" ? &o.numerical : &o.categorical);
    } else {
      metric(it.first, n, nullptr);
    }
  }
}

// {breaches: k, windows: n} (monitor.debounce, monitor.health.debounce).
std::pair<int, int> parse_debounce(const yaml::Document& d, const YAML::Node& db, const std::string& name) {
  if (!db.IsMap()) d.fail(db, "'" + name + "' must be a map: {breaches: k, windows: n}");
  for (auto it : db) {
    const auto key = yaml::scalar(it.first);
    if (key != "breaches" && key != "windows")
      d.fail(it.first, "unknown key '" + key + "' in '" + name + "' (expected breaches and windows)");
  }
  const double k = d.opt_number(db, "breaches").value_or(1);
  const double n = d.opt_number(db, "windows").value_or(k);
  if (!(k >= 1 && n >= k && n <= 100000) || k != std::floor(k) || n != std::floor(n))
    d.fail(db, name + " needs whole numbers 1 <= breaches <= windows");
  return {static_cast<int>(k), static_cast<int>(n)};
}

// A positive duration of at least a minute ("1h"), else a located error.
std::string duration_text(const yaml::Document& d, const YAML::Node& n, const std::string& what) {
  const auto text = yaml::scalar(n);
  std::optional<Duration> dur;
  try {
    dur = parse_duration(text);
  } catch (const Error&) {  // reported below, located
  }
  if (!dur || std::chrono::duration_cast<std::chrono::minutes>(*dur).count() < 1)
    d.fail(n, what + " must be a duration of at least a minute (5m, 1h, 7d)");
  return text;
}

// monitor.reference: {endpoint_window: SIZE, offset: OFFSET}.
ReferenceWindow parse_reference_window(const yaml::Document& d, const YAML::Node& r) {
  for (auto it : r) {
    const auto key = yaml::scalar(it.first);
    if (key != "endpoint_window" && key != "offset")
      d.fail(it.first, "unknown key 'monitor.reference." + key + "' (expected endpoint_window and offset)");
  }
  if (!r["endpoint_window"])
    d.fail(r, "reference as a map is the endpoint's earlier window: {endpoint_window: 24h, offset: 7d}");
  ReferenceWindow w;
  w.size = duration_text(d, r["endpoint_window"], "endpoint_window");
  if (r["offset"]) w.offset = duration_text(d, r["offset"], "offset");
  return w;
}

// monitor.health: {rules: [p95_ms>300, ...], debounce: {breaches, windows}, interval: 1h}.
HealthConfig parse_health(const yaml::Document& d, const YAML::Node& h) {
  if (!h.IsMap())
    d.fail(h, "'health' must be a map: {rules: [METRIC>X, ...], debounce: {breaches, windows}, interval}");
  for (auto it : h) {
    const auto key = yaml::scalar(it.first);
    if (key != "rules" && key != "debounce" && key != "interval")
      d.fail(it.first, "unknown key 'monitor.health." + key + "' (expected rules, debounce or interval)");
  }
  HealthConfig c;
  const YAML::Node rules = h["rules"];
  if (!rules || !rules.IsSequence() || rules.size() == 0)
    d.fail(rules ? rules : h, "health needs 'rules': a list such as [p95_ms>300, error_rate>0.01]");
  for (const auto& r : rules) {
    if (!r.IsScalar()) d.fail(r, "a health rule is METRIC>X (or <, >=, <=), e.g. p95_ms>300");
    try {
      (void)parse_health_rule(yaml::scalar(r));
    } catch (const UsageError& e) {
      d.fail(r, e.what());
    }
    c.rules.push_back(yaml::scalar(r));
  }
  if (const YAML::Node db = h["debounce"]) std::tie(c.breaches, c.windows) = parse_debounce(d, db, "health.debounce");
  if (const YAML::Node iv = h["interval"]) c.interval = duration_text(d, iv, "interval");
  return c;
}

}  // namespace

std::string Target::describe() const {
  std::vector<std::string> parts;
  if (model)
    parts.push_back("model " + *model + (version ? ":" + *version : ""));
  else if (version)
    parts.push_back("version " + *version);
  if (endpoint || deployment)
    parts.push_back("deployment " + endpoint.value_or("") + (endpoint && deployment ? "/" : "") +
                    deployment.value_or(""));
  return str::join(parts, " \u00b7 ");
}

void set_quality_threshold(stats::QualityOptions& o, const std::string& key, double value) {
  std::string metric = key;
  stats::QualityThresholds* only = nullptr;
  if (auto dot = key.find('.'); dot != std::string::npos) {
    const auto kind = key.substr(0, dot);
    if (kind == "numerical" || kind == "numeric")
      only = &o.numerical;
    else if (kind == "categorical")
      only = &o.categorical;
    else
      throw UsageError("--quality-threshold " + key + ": expected numerical.METRIC or categorical.METRIC");
    metric = key.substr(dot + 1);
  }
  if (!(value >= 0)) throw UsageError("--quality-threshold " + key + ": must be a number >= 0");
  bool ok = true;
  for (auto* t : {&o.numerical, &o.categorical})
    if (!only || only == t) ok = t->set(metric, value) && ok;
  if (!ok)
    throw UsageError("--quality-threshold: unknown metric '" + metric +
                     "' (expected null_value_rate, data_type_error_rate or out_of_bounds_rate)");
}

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
      "reference", "current", "timestamp",    "label",       "prediction",  "score",         "task",   "compat",
      "columns",   "exclude", "numeric",      "categorical", "drift_share", "features",      "window", "signals",
      "debounce",  "metrics", "data_quality", "psi_bins",    "target",      "reference_env", "health"};
  for (auto it : m) {
    const auto key = yaml::scalar(it.first);
    if (!known.count(key)) d.fail(it.first, "unknown key 'monitor." + key + "'");
  }
  if (const YAML::Node r = m["reference"]; r && r.IsMap())
    c.reference_window = parse_reference_window(d, r);
  else
    c.reference = opt_str(d, m, "reference");
  c.current = opt_str(d, m, "current");
  if (auto env = opt_str(d, m, "reference_env")) {
    const YAML::Node envs = d.root["environments"];
    // A key that is not there is a zombie node: only operator! may be asked of it.
    const YAML::Node e = envs && envs.IsMap() ? envs[*env] : YAML::Node();
    if (c.reference_window)
      d.fail(m["reference_env"],
             "reference_env names the workspace of a data reference, not of "
             "the endpoint's earlier window");
    if (!e || !e.IsMap() || !e["workspace"])
      d.fail(m["reference_env"],
             "reference_env '" + *env + "' is no environment with a workspace under 'environments:'");
    c.reference_workspace = d.opt_string(e, "workspace");
  }
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
  if (const YAML::Node q = m["data_quality"]) parse_quality(d, q, c.quality);
  if (auto bins = opt_str(d, m, "psi_bins")) {
    auto b = stats::parse_psi_bins(*bins);
    if (!b) d.fail(m["psi_bins"], "psi_bins must be uniform or quantile");
    c.drift.psi_bins = *b;
  }
  if (const YAML::Node t = m["target"]) {
    if (!t.IsMap()) d.fail(t, "'target' must be a map: {model, version, endpoint, deployment}");
    for (auto it : t) {
      const auto key = yaml::scalar(it.first);
      if (key != "model" && key != "version" && key != "endpoint" && key != "deployment")
        d.fail(it.first, "unknown key 'monitor.target." + key + "' (expected model, version, endpoint or deployment)");
    }
    c.target.model = opt_str(d, t, "model");
    c.target.version = opt_str(d, t, "version");
    c.target.endpoint = opt_str(d, t, "endpoint");
    c.target.deployment = opt_str(d, t, "deployment");
  }
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
      if (key != "data_drift" && key != "prediction_drift" && key != "performance" && key != "concept_drift" &&
          key != "data_quality")
        d.fail(it.first, "unknown signal '" + key +
                             "' (expected data_drift, prediction_drift, data_quality, performance, concept_drift)");
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
    if (const YAML::Node q = s["data_quality"]) {
      if (q.IsMap()) {  // thresholds here too, as in Azure ML's metric_thresholds
        c.data_quality = true;
        parse_quality(d, q, c.quality);
      } else {
        c.data_quality = d.opt_bool(s, "data_quality").value_or(true);
      }
    }
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
  if (const YAML::Node db = m["debounce"])
    std::tie(c.debounce_breaches, c.debounce_windows) = parse_debounce(d, db, "debounce");
  if (const YAML::Node h = m["health"]) c.health = parse_health(d, h);
  return c;
}

std::string resolve_config_path(const std::string& config_file, const std::string& path, bool from_config) {
  std::filesystem::path fp(path);
  if (from_config && fp.is_relative() && !std::filesystem::exists(fp))
    fp = std::filesystem::path(config_file).parent_path() / fp;
  return fp.string();
}

}  // namespace amlops::monitor
