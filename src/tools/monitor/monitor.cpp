// amlops-monitor: data drift, prediction drift, performance and concept drift, and the retrain
// decision. Subcommands: profile, drift, performance, decide.
#include <malloc.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <map>
#include <ostream>
#include <set>
#include <sstream>

#include "core/error.hpp"
#include "core/files.hpp"
#include "core/log.hpp"
#include "core/strings.hpp"
#include "core/time.hpp"
#include "report/markdown.hpp"
#include "tools/common/cli.hpp"
#include "tools/monitor/common.hpp"

namespace amlops {
namespace {

using cli::po::bool_switch;
using cli::po::value;
using namespace monitor;

// ---------------------------------------------------------------------------------------------
int profile_cmd(Context& ctx, const std::vector<std::string>& args) {
  cli::Command cmd(ctx, "profile",
                   "Stores what drift needs from a data set (sorted values, category counts, quantiles).",
                   "DATA... --out OUT.profile.json");
  add_read_options(cmd);
  cmd.options()("data", value<std::vector<std::string>>()->composing(),
                "CSV, JSON Lines or .profile.json inputs; several are merged (partitions)")(
      "out", value<std::string>(), "where to write the profile (name it *.profile.json)");
  cmd.positional("data", -1);
  if (!cmd.parse(args)) return 0;
  auto inputs = cmd.list("data");
  if (inputs.empty()) throw UsageError("give at least one data file (see --help)");
  const auto out = cmd.required("out");
  auto ro = read_options(cmd);
  auto po = profile_options(cmd);
  stats::Profile p;
  for (size_t i = 0; i < inputs.size(); ++i) {
    auto s = load_source(inputs[i], ro, po, false);
    if (i == 0)
      p = std::move(s.profile);
    else
      stats::merge(p, s.profile, po);
  }
  if (inputs.size() > 1) p.source = str::join(inputs, ",");
  files::write_atomic(out, stats::to_json(p));
  if (!stats::is_profile_path(out))
    log::warn(out, ": name profiles *.profile.json so that drift --reference recognises them");

  json::Document doc(rapidjson::kObjectType);
  json::Builder b(doc.GetAllocator());
  b.set(doc, "profile", out);
  b.set(doc, "rows", p.rows);
  json::Value cols = b.arr();
  for (const auto& c : p.columns) {
    json::Value o = b.obj();
    b.set(o, "name", c.name);
    b.set(o, "type", std::string(stats::type_name(c.type)));
    b.set(o, "count", c.count);
    b.set(o, "missing", c.missing);
    if (c.numeric()) {
      b.set(o, "min", c.min);
      b.set(o, "max", c.max);
      b.set(o, "mean", c.mean);
      b.set(o, "std", c.std_sample);
      b.set(o, "sampled", c.sampled);
    } else {
      b.set(o, "categories", static_cast<int64_t>(c.counts.size()));
    }
    b.push(cols, std::move(o));
  }
  b.set(doc, "columns", std::move(cols));
  ctx.host.set_output("profile", out);
  ctx.emit(doc, [&](std::ostream& os) {
    os << "wrote " << out << ": " << p.rows << " rows, " << p.columns.size() << " columns\n";
    for (const auto& c : p.columns) {
      os << "  " << c.name << " (" << stats::type_name(c.type) << "): " << c.count << " values, " << c.missing
         << " missing";
      if (c.numeric() && c.count) os << ", min " << report::fmt_number(c.min) << ", max " << report::fmt_number(c.max);
      if (!c.numeric()) os << ", " << c.counts.size() << " categories";
      os << "\n";
    }
  });
  return 0;
}

// ---------------------------------------------------------------------------------------------
int drift_cmd(Context& ctx, const std::vector<std::string>& args) {
  cli::Command cmd(ctx, "drift", "Data drift and prediction drift of current data against a reference.",
                   "--reference REF(.csv|.jsonl|.profile.json) --current CUR.csv");
  add_read_options(cmd);
  add_drift_options(cmd);
  cmd.options()("reference", value<std::string>(), "reference data or profile")(
      "current", value<std::string>(), "current data (CSV, JSON Lines or a profile)")(
      "prediction", value<std::string>(), "prediction column: reported as prediction drift, not a feature")(
      "config", value<std::string>(), "amlops.yml whose monitor: section sets methods and thresholds")(
      "report", value<std::string>(), "write a self-contained HTML report here")(
      "summary", value<std::string>(), "also write the markdown summary to this file")(
      "fail-on-drift", bool_switch(), "exit 1 when dataset or prediction drift is found");
  if (!cmd.parse(args)) return 0;
  stats::DriftOptions o;
  std::optional<std::string> ref_path, cur_path, prediction;
  if (cmd.vm().count("config")) {
    auto cfg = load_config(cmd.str("config"));
    o = cfg.drift;
    if (cfg.reference) ref_path = resolve_config_path(cfg.file, *cfg.reference, true);
    if (cfg.current) cur_path = resolve_config_path(cfg.file, *cfg.current, true);
    prediction = cfg.prediction;
    if (cfg.label) o.exclude.push_back(*cfg.label);
    if (cfg.score) o.exclude.push_back(*cfg.score);
    if (cfg.timestamp) o.exclude.push_back(*cfg.timestamp);
  }
  apply_drift_options(cmd, o);
  if (cmd.vm().count("reference")) ref_path = cmd.str("reference");
  if (cmd.vm().count("current")) cur_path = cmd.str("current");
  if (cmd.vm().count("prediction")) prediction = cmd.str("prediction");
  if (!ref_path) throw UsageError("--reference is required");
  if (!cur_path) throw UsageError("--current is required");
  auto ro = read_options(cmd);
  auto po = profile_options(cmd);
  // Profile only what is compared (a profile file keeps every column).
  po.exclude = o.exclude;
  if (!o.only.empty()) {
    po.only = o.only;
    if (prediction) po.only.push_back(*prediction);
  }
  auto t0 = std::chrono::steady_clock::now();
  auto ref = load_source(*ref_path, ro, po, false);
  auto cur = load_source(*cur_path, ro, po, false);
  auto t1 = std::chrono::steady_clock::now();

  std::optional<stats::FeatureDrift> pred;
  if (prediction) {
    const auto* rc = ref.profile.find(*prediction);
    const auto* cc = cur.profile.find(*prediction);
    if (!rc || !cc) throw UsageError("prediction column '" + *prediction + "' is not in both data sets");
    pred = stats::feature_drift(*rc, *cc, o);
    o.exclude.push_back(*prediction);
  }
  auto r = stats::compute_drift(ref.profile, cur.profile, o);
  auto t2 = std::chrono::steady_clock::now();
  log::debug("read+profile ", std::chrono::duration<double>(t1 - t0).count(), " s, drift ",
             std::chrono::duration<double>(t2 - t1).count(), " s");
  const std::string compat = o.compat == stats::Compat::evidently ? "evidently" : "azure";

  json::Document doc(rapidjson::kObjectType);
  json::Builder b(doc.GetAllocator());
  auto side = [&](const Source& s) {
    json::Value v = b.obj();
    b.set(v, "source", s.path);
    b.set(v, "rows", s.profile.rows);
    return v;
  };
  b.set(doc, "reference", side(ref));
  b.set(doc, "current", side(cur));
  b.set(doc, "compat", compat);
  json::Value feats = b.arr();
  for (const auto& f : r.features) b.push(feats, feature_json(f, b));
  b.set(doc, "features", std::move(feats));
  b.set(doc, "dataset", dataset_json(r.dataset, b));
  if (pred) b.set(doc, "prediction", feature_json(*pred, b));
  const bool drifted = r.dataset.drifted || (pred && pred->drifted);
  b.set(doc, "drifted", drifted);

  if (cmd.vm().count("report")) {
    files::write_atomic(cmd.str("report"), drift_html(r, pred ? &*pred : nullptr, *ref_path, *cur_path, compat));
    b.set(doc, "report", cmd.str("report"));
    ctx.host.set_output("report", cmd.str("report"));
  }
  const auto md =
      drift_markdown(r, pred ? &*pred : nullptr, "Data drift: " + std::filesystem::path(*cur_path).filename().string());
  ctx.host.summary(md);
  if (cmd.vm().count("summary")) files::write_atomic(cmd.str("summary"), md);
  ctx.host.set_output("drifted", bool_text(drifted));
  ctx.host.set_output("drifted_features", std::to_string(r.dataset.drifted_features));
  ctx.host.set_output("drift_share", report::fmt_number(r.dataset.share, 6));
  if (pred) ctx.host.set_output("prediction_drifted", bool_text(pred->drifted));
  int annotated = 0;
  for (const auto& f : r.features) {
    if (!f.drifted || annotated >= ci::kAnnotationCap) continue;
    ci::Annotation a;
    a.severity = ci::Severity::warning;
    a.title = "Data drift: " + f.name;
    a.message = f.name + ": " + f.method + " " + report::fmt_number(f.value) + " " + f.comparator + " " +
                report::fmt_number(f.threshold);
    ctx.host.annotate(a);
    ++annotated;
  }
  ctx.emit(doc, [&](std::ostream& os) { drift_text(os, r, pred ? &*pred : nullptr); });
  if (drifted && cmd.flag("fail-on-drift")) throw CheckFailed("drift found (--fail-on-drift)");
  return 0;
}

// ---------------------------------------------------------------------------------------------
struct DetectorRun {
  std::string spec;
  std::vector<size_t> alarms;  // positions in the ordered error stream
};

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

std::string ts_text(const stats::Table& t, const std::optional<std::string>& ts, size_t row) {
  if (!ts) return "row " + std::to_string(row + 2);  // +1 header, +1 one-based
  return t.at(*ts).text(row);
}

int performance_cmd(Context& ctx, const std::vector<std::string>& args) {
  cli::Command cmd(ctx, "performance", "Model performance and concept drift from scored data.",
                   "--data scored.csv --label y --prediction yhat [--score p]");
  add_read_options(cmd);
  cmd.options()("data", value<std::string>(), "scored data: labels and predictions (CSV or JSON Lines)")(
      "label", value<std::string>(), "label column")("prediction", value<std::string>(), "prediction column")(
      "score", value<std::string>(), "probability of the positive (greater) label, for ROC AUC and log loss")(
      "task", value<std::string>()->default_value("auto"), "auto, classification or regression")(
      "timestamp", value<std::string>(), "orders rows for the concept-drift detectors")(
      "detector", value<std::vector<std::string>>()->composing(),
      "concept-drift detector over the error stream: adwin, page_hinkley, ddm, eddm, optionally name:param=v,... "
      "(repeatable)")("reference", value<std::string>(), "scored reference data: baseline performance and input drift")(
      "max-drop", value<std::vector<std::string>>()->composing(),
      "METRIC=X: concept drift when METRIC drops by more than X against --reference while the inputs do not drift")(
      "min", value<std::vector<std::string>>()->composing(), "METRIC=X: fail when METRIC < X (repeatable)")(
      "max", value<std::vector<std::string>>()->composing(), "METRIC=X: fail when METRIC > X (repeatable)")(
      "compat", value<std::string>()->default_value("azure"), "drift conventions for the input-drift check")(
      "fail-on-drift", bool_switch(), "exit 1 on concept drift, a detector alarm or a breached --min/--max");
  if (!cmd.parse(args)) return 0;
  PerfSpec spec{cmd.required("label"), cmd.required("prediction"), cmd.str("score"), cmd.str("task", "auto")};
  auto ro = read_options(cmd);
  auto table = stats::read_table(cmd.required("data"), ro);
  const auto ts = cmd.vm().count("timestamp") ? std::optional<std::string>(cmd.str("timestamp")) : std::nullopt;
  auto order = time_order(table, ts);
  auto perf = evaluate(table, spec, &order);

  json::Document doc(rapidjson::kObjectType);
  json::Builder b(doc.GetAllocator());
  b.set(doc, "data", cmd.str("data"));
  b.set(doc, "metrics", perf_json(perf, b));
  std::vector<std::string> failures;

  // Thresholds.
  auto check = [&](const std::string& opt, bool is_min) {
    for (auto& [k, v] : cli::key_values(cmd.list(opt), "--" + opt)) {
      auto x = str::parse_double(v);
      if (!x) throw UsageError("--" + opt + " " + k + "=" + v + ": not a number");
      auto m = metric_value(perf, k);
      if (!m) throw UsageError("--" + opt + ": unknown or undefined metric '" + k + "' for this task");
      if (is_min ? *m < *x : *m > *x)
        failures.push_back(k + " " + report::fmt_number(*m) + (is_min ? " < " : " > ") + report::fmt_number(*x));
    }
  };
  check("min", true);
  check("max", false);

  // Detectors over the ordered error stream.
  auto specs = cmd.list("detector");
  auto runs = run_detectors(specs, perf.errors, perf.classification);
  json::Value dets = b.arr();
  bool alarm = false;
  for (const auto& r : runs) {
    json::Value o = b.obj();
    b.set(o, "detector", r.spec);
    b.set(o, "drift", !r.alarms.empty());
    json::Value al = b.arr();
    for (size_t i : r.alarms) {
      json::Value a = b.obj();
      b.set(a, "index", static_cast<int64_t>(i));
      b.set(a, "at", ts_text(table, ts, perf.rows[i]));
      b.push(al, std::move(a));
    }
    b.set(o, "alarms", std::move(al));
    b.push(dets, std::move(o));
    alarm = alarm || !r.alarms.empty();
  }
  b.set(doc, "detectors", std::move(dets));

  // Concept drift: performance dropped while inputs did not drift.
  std::optional<bool> dropped;
  std::string concept_reason;
  if (cmd.vm().count("reference")) {
    auto ref_table = stats::read_table(cmd.str("reference"), ro);
    auto base = evaluate(ref_table, spec);
    json::Value bj = perf_json(base, b);
    b.set(doc, "reference_metrics", std::move(bj));
    stats::DriftOptions o;
    o.compat = stats::parse_compat(cmd.str("compat")).value_or(stats::Compat::azure);
    o.exclude = {spec.label, spec.prediction};
    if (!spec.score.empty()) o.exclude.push_back(spec.score);
    if (ts) o.exclude.push_back(*ts);
    auto drift = stats::compute_drift(stats::profile_table(ref_table), stats::profile_table(table), o);
    b.set(doc, "input_drift", dataset_json(drift.dataset, b));
    json::Value drops = b.obj();
    dropped = false;
    for (auto& [k, v] : cli::key_values(cmd.list("max-drop"), "--max-drop")) {
      auto x = str::parse_double(v);
      auto now = metric_value(perf, k), then = metric_value(base, k);
      if (!x || !now || !then) throw UsageError("--max-drop " + k + "=" + v + ": unknown metric or not a number");
      const double drop = higher_is_better(k) ? *then - *now : *now - *then;
      b.set(drops, k, drop);
      if (drop > *x) {
        if (!drift.dataset.drifted) {
          dropped = true;
          concept_reason = k + " dropped by " + report::fmt_number(drop) + " (> " + report::fmt_number(*x) +
                           ") while the inputs did not drift";
        } else {
          failures.push_back(k + " dropped by " + report::fmt_number(drop) + " with input drift (" +
                             std::to_string(drift.dataset.drifted_features) + " features drifted)");
        }
      }
    }
    b.set(doc, "drops", std::move(drops));
  }
  json::Value cd = b.obj();
  b.set(cd, "detected", dropped.value_or(false) || alarm);
  if (!concept_reason.empty()) b.set(cd, "reason", concept_reason);
  b.set(doc, "concept_drift", std::move(cd));
  json::Value fj = b.arr();
  for (auto& f : failures) b.push(fj, f);
  b.set(doc, "failures", std::move(fj));

  const bool concept_drift = dropped.value_or(false) || alarm;
  ctx.host.set_output("concept_drift", bool_text(concept_drift));
  ctx.host.set_output("performance_ok", bool_text(failures.empty()));
  if (auto acc = metric_value(perf, perf.classification ? "accuracy" : "rmse"))
    ctx.host.set_output(perf.classification ? "accuracy" : "rmse", report::fmt_number(*acc, 6));

  std::ostringstream md;
  md << "### Model performance: " << std::filesystem::path(cmd.str("data")).filename().string() << "\n\n";
  report::MdTable t;
  t.headers = {"metric", "value"};
  auto add = [&](const std::string& k) {
    if (auto v = metric_value(perf, k)) t.rows.push_back({k, report::fmt_number(*v)});
  };
  if (perf.classification)
    for (const char* k : {"accuracy", "precision", "recall", "f1", "f1_macro", "f1_weighted", "roc_auc", "log_loss"})
      add(k);
  else
    for (const char* k : {"mae", "rmse", "r2", "mape"}) add(k);
  md << t.render();
  if (concept_drift)
    md << "\n**Concept drift**" << (concept_reason.empty() ? " (detector alarm)" : ": " + concept_reason) << "\n";
  for (auto& f : failures) md << "\n- " << report::md_cell(f);
  ctx.host.summary(md.str() + "\n");

  ctx.emit(doc, [&](std::ostream& os) {
    if (perf.classification) {
      const auto& c = perf.cls;
      os << "classification, " << c.n << " rows, labels " << str::join(c.labels, ", ") << "\n";
      os << "  accuracy " << report::fmt_number(c.accuracy) << "\n";
      os << "  macro     precision " << report::fmt_number(c.macro.precision) << " recall "
         << report::fmt_number(c.macro.recall) << " f1 " << report::fmt_number(c.macro.f1) << "\n";
      os << "  weighted  precision " << report::fmt_number(c.weighted.precision) << " recall "
         << report::fmt_number(c.weighted.recall) << " f1 " << report::fmt_number(c.weighted.f1) << "\n";
      if (c.binary)
        os << "  binary (positive '" << c.labels.back() << "') precision " << report::fmt_number(c.binary->precision)
           << " recall " << report::fmt_number(c.binary->recall) << " f1 " << report::fmt_number(c.binary->f1) << "\n";
      if (c.roc_auc) os << "  roc_auc " << report::fmt_number(*c.roc_auc) << "\n";
      if (c.log_loss) os << "  log_loss " << report::fmt_number(*c.log_loss) << "\n";
    } else {
      const auto& r = perf.reg;
      os << "regression, " << r.n << " rows: mae " << report::fmt_number(r.mae) << ", rmse "
         << report::fmt_number(r.rmse) << ", r2 " << report::fmt_number(r.r2) << ", mape " << report::fmt_number(r.mape)
         << "\n";
    }
    for (const auto& r : runs)
      os << "  detector " << r.spec << ": "
         << (r.alarms.empty() ? std::string("no drift")
                              : std::to_string(r.alarms.size()) + " alarm(s), first at " +
                                    ts_text(table, ts, perf.rows[r.alarms.front()]))
         << "\n";
    if (concept_drift) os << "CONCEPT DRIFT" << (concept_reason.empty() ? "" : ": " + concept_reason) << "\n";
    for (auto& f : failures) os << "FAILED: " << f << "\n";
  });
  if (cmd.flag("fail-on-drift") && (concept_drift || !failures.empty()))
    throw CheckFailed(concept_drift ? "concept drift detected" : "performance check failed: " + failures.front());
  return 0;
}

// ---------------------------------------------------------------------------------------------
struct Window {
  std::string label;
  std::vector<size_t> rows;  // table rows, in time order
};

std::vector<Window> make_windows(const stats::Table& t, const std::vector<size_t>& order, const MonitorConfig& c) {
  std::vector<Window> out;
  if (c.window == "daily" || c.window == "weekly") {
    if (!c.timestamp) throw ConfigError(c.file + ": monitor.window " + c.window + " needs monitor.timestamp");
    const auto& ts = t.at(*c.timestamp);
    if (!ts.is_numeric()) throw UsageError("timestamp column '" + *c.timestamp + "' is not a timestamp");
    const double span = c.window == "daily" ? 86400.0 : 7 * 86400.0;
    const double shift = c.window == "weekly" ? 3 * 86400.0 : 0.0;  // ISO weeks start on Monday
    int64_t current = std::numeric_limits<int64_t>::min();
    for (size_t r : order) {
      const double v = ts.values[r];
      if (std::isnan(v)) continue;
      const auto k = static_cast<int64_t>(std::floor((v + shift) / span));
      if (k != current) {
        current = k;
        const auto start = std::chrono::system_clock::time_point(
            std::chrono::seconds(static_cast<int64_t>(static_cast<double>(k) * span - shift)));
        out.push_back({iso8601_utc(start).substr(0, 10), {}});
      }
      out.back().rows.push_back(r);
    }
  } else {
    const auto n = static_cast<size_t>(*str::parse_int(c.window));
    for (size_t i = 0; i < order.size(); i += n) {
      Window w;
      w.label = "rows " + std::to_string(i + 1) + "-" + std::to_string(std::min(order.size(), i + n));
      w.rows.assign(order.begin() + static_cast<std::ptrdiff_t>(i),
                    order.begin() + static_cast<std::ptrdiff_t>(std::min(order.size(), i + n)));
      out.push_back(std::move(w));
    }
  }
  return out;
}

int decide_cmd(Context& ctx, const std::vector<std::string>& args) {
  cli::Command cmd(ctx, "decide",
                   "Combines drift, performance and concept-drift signals over windows into a retrain decision.",
                   "--config amlops.yml [--reference REF] [--current CUR]");
  add_read_options(cmd);
  cmd.options()("config", value<std::string>()->default_value("amlops.yml"), "configuration with a monitor: section")(
      "reference", value<std::string>(), "overrides monitor.reference")("current", value<std::string>(),
                                                                        "overrides monitor.current")(
      "window", value<std::string>(), "overrides monitor.window: daily, weekly or N rows")(
      "fail-on-retrain", bool_switch(), "exit 1 when the decision is to retrain");
  if (!cmd.parse(args)) return 0;
  auto c = load_config(cmd.str("config"));
  if (cmd.vm().count("reference")) c.reference = cmd.str("reference");
  if (cmd.vm().count("current")) c.current = cmd.str("current");
  if (cmd.vm().count("window")) c.window = cmd.str("window");
  if (!c.reference) throw ConfigError(c.file + ": monitor.reference is required (or --reference)");
  if (!c.current) throw ConfigError(c.file + ": monitor.current is required (or --current)");
  if (c.window != "daily" && c.window != "weekly" && !(str::parse_int(c.window) && *str::parse_int(c.window) > 0))
    throw UsageError("--window must be daily, weekly or a number of rows, not '" + c.window + "'");
  const bool ref_from_config = !cmd.vm().count("reference"), cur_from_config = !cmd.vm().count("current");
  auto resolve = [&](const std::string& p, bool from_config) { return resolve_config_path(c.file, p, from_config); };
  auto ro = read_options(cmd);
  auto po = profile_options(cmd);
  auto ref = load_source(resolve(*c.reference, ref_from_config), ro, po);
  auto cur_table = stats::read_table(resolve(*c.current, cur_from_config), ro);
  auto order = time_order(cur_table, c.timestamp);
  auto windows = make_windows(cur_table, order, c);
  if (windows.empty()) throw CheckFailed("no rows in " + cur_table.source);

  stats::DriftOptions drift = c.drift;
  for (const auto& col : {c.label, c.score, c.timestamp, c.prediction})
    if (col) drift.exclude.push_back(*col);
  PerfSpec spec;
  const bool have_labels = c.label && c.prediction && cur_table.find(*c.label) && cur_table.find(*c.prediction);
  if (have_labels) spec = PerfSpec{*c.label, *c.prediction, c.score.value_or(""), c.task.value_or("auto")};
  std::optional<double> baseline;
  if (c.performance && have_labels && ref.table && ref.table->find(*c.label) && ref.table->find(*c.prediction)) {
    baseline = metric_value(evaluate(*ref.table, spec), c.performance->metric);
  }
  if (c.performance && c.performance->max_drop && !baseline)
    log::warn("monitor.signals.performance.max_drop needs labels and predictions in the reference; ignored");

  // Concept-drift detector over the whole ordered error stream.
  std::vector<bool> alarm_row(cur_table.rows, false);
  if (c.concept_detector && have_labels) {
    auto all = evaluate(cur_table, spec, &order);
    for (const auto& r : run_detectors({*c.concept_detector}, all.errors, all.classification))
      for (size_t i : r.alarms) alarm_row[all.rows[i]] = true;
  }

  struct SignalState {
    std::string name;
    std::vector<bool> breached;  // per window
    std::vector<std::string> detail;
  };
  std::vector<SignalState> signals;
  auto signal = [&](const std::string& name) -> SignalState& {
    for (auto& s : signals)
      if (s.name == name) return s;
    signals.push_back({name, std::vector<bool>(windows.size(), false), std::vector<std::string>(windows.size())});
    return signals.back();
  };
  if (c.data_drift) signal("data_drift");
  if (c.prediction_drift && c.prediction && ref.profile.find(*c.prediction)) signal("prediction_drift");
  if (c.performance && have_labels) signal("performance");
  if (c.concept_detector && have_labels) signal("concept_drift");

  json::Document doc(rapidjson::kObjectType);
  json::Builder b(doc.GetAllocator());
  json::Value wj = b.arr();
  for (size_t w = 0; w < windows.size(); ++w) {
    const auto& win = windows[w];
    json::Value o = b.obj();
    b.set(o, "window", win.label);
    b.set(o, "rows", static_cast<int64_t>(win.rows.size()));
    json::Value sj = b.obj();
    auto prof = stats::profile_rows(cur_table, win.rows, po);
    bool inputs_drifted = false;
    if (c.data_drift || c.concept_max_drop) {
      auto r = stats::compute_drift(ref.profile, prof, drift);
      inputs_drifted = r.dataset.drifted;
      if (c.data_drift) {
        auto& s = signal("data_drift");
        s.breached[w] = r.dataset.drifted;
        std::vector<std::string> names;
        for (auto& f : r.features)
          if (f.drifted) names.push_back(f.name);
        s.detail[w] = std::to_string(r.dataset.drifted_features) + " of " + std::to_string(r.dataset.features) +
                      " features drifted" + (names.empty() ? "" : " (" + str::join(names, ", ") + ")");
        json::Value d = dataset_json(r.dataset, b);
        b.set(d, "breached", r.dataset.drifted);
        json::Value nj = b.arr();
        for (auto& n : names) b.push(nj, n);
        b.set(d, "features", std::move(nj));
        b.set(sj, "data_drift", std::move(d));
      }
    }
    if (c.prediction_drift && c.prediction && ref.profile.find(*c.prediction) && prof.find(*c.prediction)) {
      auto f = stats::feature_drift(*ref.profile.find(*c.prediction), *prof.find(*c.prediction), drift);
      auto& s = signal("prediction_drift");
      s.breached[w] = f.drifted;
      s.detail[w] =
          f.method + " " + report::fmt_number(f.value) + " " + f.comparator + " " + report::fmt_number(f.threshold);
      json::Value d = feature_json(f, b);
      b.set(d, "breached", f.drifted);
      b.set(sj, "prediction_drift", std::move(d));
    }
    if (c.performance && have_labels) {
      auto& s = signal("performance");
      json::Value d = b.obj();
      try {
        auto p = evaluate(cur_table, spec, &win.rows);
        auto v = metric_value(p, c.performance->metric);
        if (!v)
          throw UsageError("monitor.signals.performance.metric '" + c.performance->metric + "' is not defined here");
        std::vector<std::string> why;
        if (c.performance->min && *v < *c.performance->min)
          why.push_back("below min " + report::fmt_number(*c.performance->min));
        if (c.performance->max && *v > *c.performance->max)
          why.push_back("above max " + report::fmt_number(*c.performance->max));
        if (c.performance->max_drop && baseline) {
          const double drop = higher_is_better(c.performance->metric) ? *baseline - *v : *v - *baseline;
          b.set(d, "drop", drop);
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
        s.breached[w] = !why.empty();
        s.detail[w] =
            c.performance->metric + " " + report::fmt_number(*v) + (why.empty() ? "" : " " + str::join(why, ", "));
        b.set(d, "metric", c.performance->metric);
        b.set(d, "value", *v);
      } catch (const CheckFailed&) {
        s.detail[w] = "no labelled rows";
      }
      b.set(d, "breached", s.breached[w]);
      b.set(sj, "performance", std::move(d));
    }
    if (c.concept_detector && have_labels) {
      auto& s = signal("concept_drift");
      bool any = false;
      for (size_t r : win.rows) any = any || alarm_row[r];
      if (any) {
        s.breached[w] = true;
        s.detail[w] = (s.detail[w].empty() ? "" : s.detail[w] + "; ") + *c.concept_detector + " alarm";
      }
      json::Value d = b.obj();
      b.set(d, "breached", s.breached[w]);
      if (!s.detail[w].empty()) b.set(d, "detail", s.detail[w]);
      b.set(sj, "concept_drift", std::move(d));
    }
    b.set(o, "signals", std::move(sj));
    b.push(wj, std::move(o));
  }

  // Debounce: a signal triggers when it breaches in k of the last n windows.
  const int n = c.debounce_windows, k = c.debounce_breaches;
  const size_t first = windows.size() > static_cast<size_t>(n) ? windows.size() - static_cast<size_t>(n) : 0;
  bool retrain = false;
  std::vector<std::string> reasons;
  json::Value sigj = b.obj();
  for (const auto& s : signals) {
    int count = 0;
    std::vector<std::string> where;
    for (size_t w = first; w < windows.size(); ++w)
      if (s.breached[w]) {
        ++count;
        where.push_back(windows[w].label + ": " + s.detail[w]);
      }
    const bool trig = count >= k;
    json::Value o = b.obj();
    b.set(o, "breaches", count);
    b.set(o, "triggered", trig);
    b.set(sigj, s.name, std::move(o));
    if (trig) {
      retrain = true;
      reasons.push_back(s.name + " breached in " + std::to_string(count) + " of the last " +
                        std::to_string(windows.size() - first) + " windows (" + str::join(where, "; ") + ")");
    }
  }
  b.set(doc, "retrain", retrain);
  json::Value rj = b.arr();
  for (auto& r : reasons) b.push(rj, r);
  b.set(doc, "reasons", std::move(rj));
  json::Value db = b.obj();
  b.set(db, "breaches", k);
  b.set(db, "windows", n);
  b.set(doc, "debounce", std::move(db));
  b.set(doc, "signals", std::move(sigj));
  b.set(doc, "windows", std::move(wj));

  ctx.host.set_output("retrain", bool_text(retrain));
  std::ostringstream md;
  md << "### Retrain decision: " << (retrain ? "**retrain**" : "no retrain") << "\n\n";
  for (auto& r : reasons) md << "- " << report::md_cell(r) << "\n";
  report::MdTable t;
  t.headers = {"window", "rows"};
  for (auto& s : signals) t.headers.push_back(s.name);
  for (size_t w = 0; w < windows.size(); ++w) {
    std::vector<std::string> row{windows[w].label, std::to_string(windows[w].rows.size())};
    for (auto& s : signals) row.push_back(s.breached[w] ? "breach" : "ok");
    t.rows.push_back(std::move(row));
  }
  md << "\n"
     << t.render() << "\nDebounce: retrain when a signal breaches in " << k << " of the last " << n << " windows.\n";
  ctx.host.summary(md.str());
  ctx.emit(doc, [&](std::ostream& os) {
    os << "retrain: " << bool_text(retrain) << "\n";
    for (auto& r : reasons) os << "  - " << r << "\n";
    if (reasons.empty()) os << "  no signal breached in " << k << " of the last " << n << " windows\n";
  });
  if (retrain && cmd.flag("fail-on-retrain")) throw CheckFailed("retrain: " + reasons.front());
  return 0;
}

}  // namespace

int run_monitor(Context& ctx, const std::vector<std::string>& args) {
  // Column buffers are large and short-lived: keep freed memory in the heap for reuse instead of
  // returning it to the kernel and faulting fresh pages in again (glibc).
  mallopt(M_MMAP_THRESHOLD, 256 << 20);
  mallopt(M_TRIM_THRESHOLD, 512 << 20);
  return cli::dispatch(
      ctx, "amlops-monitor: data drift, prediction drift, performance and concept drift; retrain decision",
      {{"profile", "store a reference profile (merges partitions)", profile_cmd},
       {"drift", "data and prediction drift against a reference (exit 1 with --fail-on-drift)", drift_cmd},
       {"performance", "model metrics, concept-drift detectors and the performance-drop rule", performance_cmd},
       {"decide", "retrain decision from the monitor: section of amlops.yml", decide_cmd}},
      args);
}

}  // namespace amlops
