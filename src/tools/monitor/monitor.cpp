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
#include "monitor/config.hpp"
#include "monitor/data.hpp"
#include "monitor/decide.hpp"
#include "monitor/drift.hpp"
#include "monitor/performance.hpp"
#include "monitor/render.hpp"
#include "report/markdown.hpp"
#include "tools/common/cli.hpp"
#include "tools/monitor/options.hpp"

namespace amlops {
namespace {

using cli::po::bool_switch;
using cli::po::value;
using namespace monitor;

// ---------------------------------------------------------------------------------------------
int profile_cmd(Context& ctx, const std::vector<std::string>& args) {
  cli::Command cmd(ctx, "profile",
                   "Stores what drift needs from a data set (sorted values, category counts, quantiles).",
                   "DATA... -o OUT.profile.json");
  add_read_options(cmd);
  cmd.options()("data", value<std::vector<std::string>>()->composing(),
                "CSV, JSON Lines or .profile.json inputs; several are merged (partitions)")(
      "out", value<std::string>(), "(-o) where to write the profile (name it *.profile.json)");
  cmd.positional("data", -1);
  // "-o" would be ambiguous with the common --output for Program_options' guessing.
  std::vector<std::string> a = args;
  for (auto& x : a)
    if (x == "-o") x = "--out";
  if (!cmd.parse(a)) return 0;
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
      "min-rows", value<int64_t>()->default_value(kDefaultMinRows),
      "fewer rows than this in the reference or the current data: too few rows to judge (exit 1 with "
      "--fail-on-drift), never 'no drift'")(
      "fail-on-drift", bool_switch(), "exit 1 when dataset or prediction drift is found, or there are too few rows");
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
  const auto min_rows = cmd.get<int64_t>("min-rows");
  if (min_rows < 1) throw UsageError("--min-rows must be at least 1");
  auto ro = read_options(cmd);
  apply_declared_types(ro.declared, o);
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
  const auto check = check_drift(ref.profile, cur.profile, o, prediction, min_rows);
  auto t2 = std::chrono::steady_clock::now();
  log::debug("read+profile ", std::chrono::duration<double>(t1 - t0).count(), " s, drift ",
             std::chrono::duration<double>(t2 - t1).count(), " s");
  const std::string compat = o.compat == stats::Compat::evidently ? "evidently" : "azure";
  const auto& r = check.result;

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
  check_json(check, doc, b);

  if (cmd.vm().count("report")) {
    files::write_atomic(cmd.str("report"), drift_html(check, *ref_path, *cur_path, compat));
    b.set(doc, "report", cmd.str("report"));
    ctx.host.set_output("report", cmd.str("report"));
  }
  const auto md = drift_markdown(check, "Data drift: " + std::filesystem::path(*cur_path).filename().string());
  ctx.host.summary(md);
  if (cmd.vm().count("summary")) files::write_atomic(cmd.str("summary"), md);
  const bool too_few = check.outcome == Outcome::too_few_rows;
  ctx.host.set_output("outcome", std::string(outcome_name(check.outcome)));
  ctx.host.set_output("drifted", too_few ? std::string("unknown") : bool_text(check.drifted()));
  if (!too_few) {
    ctx.host.set_output("drifted_features", std::to_string(r.dataset.drifted_features));
    ctx.host.set_output("drift_share", report::fmt_number(r.dataset.share, 6));
  }
  if (check.prediction) ctx.host.set_output("prediction_drifted", bool_text(check.prediction->drifted));
  if (too_few) {
    ci::Annotation a;
    a.severity = ci::Severity::warning;
    a.title = "Too few rows for drift";
    a.message = check.reason;
    ctx.host.annotate(a);
  }
  int annotated = 0;
  for (const auto& f : r.features) {
    if (!f.drifted || annotated >= ci::kAnnotationCap) continue;
    ci::Annotation a;
    a.severity = ci::Severity::warning;
    a.title = "Data drift: " + f.name;  // the host shows the title with the message: no name here
    a.message = f.method + " " + report::fmt_number(f.value) + " " + f.comparator + " " +
                report::fmt_number(f.threshold) + (f.note.empty() ? "" : " (" + f.note + ")");
    ctx.host.annotate(a);
    ++annotated;
  }
  ctx.emit(doc, [&](std::ostream& os) { drift_text(os, check); });
  if (cmd.flag("fail-on-drift")) {
    if (too_few) throw CheckFailed("too few rows to judge drift: " + check.reason);
    if (check.drifted()) throw CheckFailed("drift found (--fail-on-drift)");
  }
  return 0;
}

// ---------------------------------------------------------------------------------------------
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
  if (!valid_window(c.window))
    throw UsageError("--window must be daily, weekly or a number of rows, not '" + c.window + "'");
  const bool ref_from_config = !cmd.vm().count("reference"), cur_from_config = !cmd.vm().count("current");
  auto ro = read_options(cmd);
  apply_declared_types(ro.declared, c.drift);
  auto po = profile_options(cmd);
  auto ref = load_source(resolve_config_path(c.file, *c.reference, ref_from_config), ro, po);
  auto cur = stats::read_table(resolve_config_path(c.file, *c.current, cur_from_config), ro);
  const auto d = decide(c, ref, cur, po);

  json::Document doc(rapidjson::kObjectType);
  decision_json(d, doc);
  ctx.host.set_output("retrain", bool_text(d.retrain));
  ctx.host.summary(decision_markdown(d));
  ctx.emit(doc, [&](std::ostream& os) {
    os << "retrain: " << bool_text(d.retrain) << "\n";
    for (const auto& r : d.reasons) os << "  - " << r << "\n";
    if (d.reasons.empty())
      os << "  no signal breached in " << d.breaches << " of the last " << d.windows << " windows\n";
  });
  if (d.retrain && cmd.flag("fail-on-retrain")) throw CheckFailed("retrain: " + d.reasons.front());
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
