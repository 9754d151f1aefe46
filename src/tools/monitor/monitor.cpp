// amlops-monitor: data drift, prediction drift, performance and concept drift, and the retrain
// decision. Subcommands: profile, drift, performance, decide.
#include <malloc.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <ostream>

#include "cli/cli.hpp"
#include "cli/result.hpp"
#include "core/error.hpp"
#include "core/files.hpp"
#include "core/log.hpp"
#include "core/strings.hpp"
#include "monitor/cluster.hpp"
#include "monitor/config.hpp"
#include "monitor/data.hpp"
#include "monitor/decide.hpp"
#include "monitor/drift.hpp"
#include "monitor/performance.hpp"
#include "monitor/render.hpp"
#include "report/markdown.hpp"
#include "tools/monitor/online.hpp"
#include "tools/monitor/options.hpp"

namespace amlops {
namespace {

using cli::po::bool_switch;
using cli::po::value;
using namespace monitor;

// A data set as reports name it: a local file by its name, workspace data in full.
std::string shown_name(const std::string& path) {
  if (is_workspace_ref(path) || path.rfind("endpoint ", 0) == 0) return path;
  return std::filesystem::path(path).filename().string();
}

// ---------------------------------------------------------------------------------------------
int profile_cmd(Context& ctx, const std::vector<std::string>& args) {
  cli::Command cmd(ctx, "profile",
                   "Stores what drift needs from a data set (sorted values, category counts, quantiles).",
                   "DATA... --out OUT.profile.json");
  add_read_options(cmd);
  cmd.options()("data", value<std::vector<std::string>>()->composing(),
                "CSV, JSON Lines or .profile.json inputs; several are merged (partitions)")(
      "out", value<std::string>(), "where to write the profile (name it *.profile.json)");
  cmd.options()("byte-range", value<std::string>(),
                "I/N: profile only partition I (0-based) of N of one data file, split by bytes at line starts");
  cmd.positional("data", -1);
  if (!cmd.parse(args)) return 0;
  auto inputs = cmd.list("data");
  if (inputs.empty()) throw UsageError("give at least one data file (see --help)");
  const auto out = cmd.required("out");
  auto ro = read_options(cmd);
  auto po = profile_options(cmd);
  stats::Profile p;
  if (cmd.vm().count("byte-range")) {
    if (inputs.size() != 1) throw UsageError("--byte-range takes exactly one data file");
    const auto [index, count] = parse_byte_range(cmd.str("byte-range"));
    p = stats::profile_table(read_partition(inputs[0], index, count, ro), po);
    p.source = inputs[0] + " (part " + std::to_string(index) + "/" + std::to_string(count) + ")";
  }
  // Partitions merge with every value kept, then are sampled once (as one machine samples the
  // whole data): within --max-values per partition the merged profile equals the one-machine one.
  auto keep_all = po;
  keep_all.max_values = 0;
  for (size_t i = 0; i < inputs.size() && !cmd.vm().count("byte-range"); ++i) {
    auto s = load_source(inputs[i], ro, po, false);
    if (i == 0)
      p = std::move(s.profile);
    else
      stats::merge(p, s.profile, keep_all);
  }
  if (inputs.size() > 1) {
    stats::Profile shape;
    for (const auto& c : p.columns) {
      stats::ColumnProfile e;
      e.name = c.name;
      e.type = c.type;
      shape.columns.push_back(std::move(e));
    }
    stats::merge(p, shape, po);
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

// --reference-window SIZE [--reference-offset OFFSET] (drift, decide): the endpoint's earlier window
// as the reference; over `file` (monitor.reference as a map). Checks that the current data is an
// endpoint's collected data.
std::optional<ReferenceWindow> past_reference(const cli::Command& cmd, Inputs& in,
                                              std::optional<ReferenceWindow> file) {
  if (cmd.vm().count("reference-window")) {
    if (cmd.vm().count("reference")) throw UsageError("give --reference or --reference-window, not both");
    file = ReferenceWindow{cmd.str("reference-window"), cmd.str("reference-offset")};
  } else if (cmd.vm().count("reference-offset")) {
    if (!file) throw UsageError("--reference-offset goes with --reference-window");
    file->offset = cmd.str("reference-offset");
  }
  if (!file) return file;
  if (!in.collected())
    throw UsageError(
        "the endpoint's earlier window as the reference (--reference-window or monitor.reference: "
        "{endpoint_window: ...}) needs --endpoint, whose collected data is the current data");
  if (cmd.vm().count("on-cluster")) throw UsageError("--reference-window reads collected data: no --on-cluster");
  return file;
}

void add_past_reference_options(cli::Command& cmd) {
  cmd.options()("reference-window", value<std::string>(),
                "with --endpoint: the reference is the endpoint's own collected data of this span (e.g. 24h) ending "
                "--reference-offset before the current window's end, instead of --reference")(
      "reference-offset", value<std::string>(),
      "how far before the current window's end the reference window ends (default: the current window's "
      "length, the window just before it)");
}

// ---------------------------------------------------------------------------------------------
int drift_cmd(Context& ctx, const std::vector<std::string>& args) {
  cli::Command cmd(ctx, "drift", "Data drift and prediction drift of current data against a reference.",
                   "--reference REF(.csv|.jsonl|.profile.json) --current CUR.csv");
  add_read_options(cmd);
  add_drift_options(cmd);
  add_quality_options(cmd);
  add_target_options(cmd);
  cmd.options()("reference", value<std::string>(), "reference data or profile")(
      "current", value<std::string>(), "current data (CSV, JSON Lines or a profile)")(
      "prediction", value<std::string>(), "prediction column: reported as prediction drift, not a feature")(
      "config", value<std::string>(), "amlops.yml whose monitor: section sets methods and thresholds")(
      "report", value<std::string>(), "write a self-contained HTML report here")("summary", value<std::string>(),
                                                                                 "old name of --markdown")(
      "min-rows", value<int64_t>()->default_value(kDefaultMinRows),
      "fewer rows than this in the reference or the current data: too few rows to judge (exit 1 with "
      "--fail-on-drift), never 'no drift'")(
      "fail-on-drift", bool_switch(), "exit 1 when dataset or prediction drift is found, or there are too few rows")(
      "fail-on-quality", bool_switch(), "exit 1 when a data-quality threshold is breached");
  add_past_reference_options(cmd);
  add_collected_options(cmd);
  add_cluster_options(cmd);
  cli::add_markdown_option(cmd);
  if (!cmd.parse(args)) return 0;
  Inputs in(ctx, cmd);
  stats::DriftOptions o;
  stats::QualityOptions quality;
  Target target;
  std::optional<std::string> ref_path, cur_path, prediction, ref_workspace;
  std::optional<ReferenceWindow> past;  // the endpoint's earlier window as the reference
  if (cmd.vm().count("config")) {
    auto cfg = load_config(cmd.str("config"));
    o = cfg.drift;
    auto data_path = [&](const std::string& p) {
      return is_workspace_ref(p) ? p : resolve_config_path(cfg.file, p, true);
    };
    if (cfg.reference) ref_path = data_path(*cfg.reference);
    ref_workspace = cfg.reference_workspace;
    past = cfg.reference_window;
    if (cfg.current) cur_path = data_path(*cfg.current);
    prediction = cfg.prediction;
    quality = cfg.quality;
    target = cfg.target;
    if (cfg.label) o.exclude.push_back(*cfg.label);
    if (cfg.score) o.exclude.push_back(*cfg.score);
    if (cfg.timestamp) o.exclude.push_back(*cfg.timestamp);
  }
  apply_drift_options(cmd, o);
  apply_quality_options(cmd, quality);
  apply_target_options(cmd, target);
  if (cmd.vm().count("reference")) {
    ref_path = cmd.str("reference");
    ref_workspace.reset();  // monitor.reference_env is the workspace of monitor.reference only
    past.reset();
  }
  if (cmd.vm().count("current")) cur_path = cmd.str("current");
  if (cmd.vm().count("prediction")) prediction = cmd.str("prediction");
  past = past_reference(cmd, in, past);
  if (past) ref_path = "the endpoint's earlier window";
  if (!ref_path) throw UsageError("--reference is required");
  if (in.collected() && cmd.vm().count("current")) throw UsageError("give --current or --endpoint, not both");
  if (!cur_path && !in.collected()) throw UsageError("--current (or --endpoint) is required");
  const auto min_rows = cmd.get<int64_t>("min-rows");
  if (min_rows < 1) throw UsageError("--min-rows must be at least 1");  // before reading any data
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
  auto ref = past ? in.load_past_reference(*past, ro, po, false) : in.load(*ref_path, ro, po, false, ref_workspace);
  if (past) ref_path = ref.path;
  std::optional<ClusterRun> cluster;
  Source cur;
  if (cmd.vm().count("on-cluster")) {
    cluster.emplace();
    cur = run_on_cluster(ctx, cmd, in, ref, *cur_path, args, *cluster);
  } else {
    cur = in.collected() ? in.load_collected(ro, po, false) : in.load(*cur_path, ro, po, false);
  }
  cur_path = cur.path;
  auto t1 = std::chrono::steady_clock::now();
  const auto check = check_drift(ref.profile, cur.profile, o, prediction, min_rows, quality);
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
  if (cluster) {
    json::Value cj = b.obj();
    b.set(cj, "job", cluster->job);
    json::Value pr = b.arr();
    for (auto n : cluster->partition_rows) b.push(pr, json::Value(static_cast<int64_t>(n)));
    b.set(cj, "partition_rows", std::move(pr));
    b.set(cj, "max_values", static_cast<uint64_t>(cluster->max_values));
    b.set(cj, "exact", cluster->ks_bound == 0);
    b.set(cj, "ks_bound", cluster->ks_bound);
    b.set(cj, "seconds", cluster->seconds);
    b.set(doc, "cluster", std::move(cj));
  }

  if (cmd.vm().count("report")) {
    files::write_atomic(cmd.str("report"), drift_html(check, DriftReport{*ref_path, *cur_path, compat, target,
                                                                         &ref.profile, &cur.profile}));
    b.set(doc, "report", cmd.str("report"));
    ctx.host.set_output("report", cmd.str("report"));
  }
  const auto section = drift_fragment(check, shown_name(*ref_path), shown_name(*cur_path), cmd.flag("fail-on-drift"),
                                      cmd.flag("fail-on-quality"));
  cli::publish_result(ctx, section, cmd.str("markdown", cmd.str("summary")));
  const bool too_few = check.outcome == Outcome::too_few_rows;
  ctx.host.set_output("outcome", std::string(outcome_name(check.outcome)));
  ctx.host.set_output("drifted", too_few ? std::string("unknown") : bool_text(check.drifted()));
  if (!too_few) {
    ctx.host.set_output("drifted_features", std::to_string(r.dataset.drifted_features));
    ctx.host.set_output("drift_share", report::fmt_number(r.dataset.share, 6));
  }
  if (check.prediction) ctx.host.set_output("prediction_drifted", bool_text(check.prediction->drifted));
  if (check.quality) {
    ctx.host.set_output("data_quality_breached", bool_text(check.quality->breached));
    ctx.host.set_output("data_quality_features", std::to_string(check.quality->breached_features));
  }
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
  if (check.quality)
    for (const auto& f : check.quality->features) {
      if (!f.breached || annotated >= ci::kAnnotationCap) continue;
      ci::Annotation a;
      a.severity = cmd.flag("fail-on-quality") ? ci::Severity::error : ci::Severity::warning;
      a.title = "Data quality: " + f.name;
      std::vector<std::string> why;
      for (const auto& m : f.metrics)
        if (m.breached) why.push_back(m.name + " " + report::fmt_number(m.value, 4));
      a.message = str::join(why, ", ");
      ctx.host.annotate(a);
      ++annotated;
    }
  ctx.emit(doc, [&](std::ostream& os) { drift_text(os, check); });
  if (cmd.flag("fail-on-drift")) {
    if (too_few) throw CheckFailed("too few rows to judge drift: " + check.reason);
    if (check.drifted()) throw CheckFailed("drift found (--fail-on-drift)");
  }
  if (cmd.flag("fail-on-quality") && check.quality_breached())
    throw CheckFailed("data quality: " + quality_verdict(*check.quality));
  return 0;
}

// ---------------------------------------------------------------------------------------------
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
  add_collected_options(cmd);
  cli::add_markdown_option(cmd);
  if (!cmd.parse(args)) return 0;
  PerfSpec spec{cmd.required("label"), cmd.required("prediction"), cmd.str("score"), cmd.str("task", "auto")};
  auto bounds = [&](const std::string& opt) {
    std::vector<MetricBound> out;
    for (auto& [k, v] : cli::key_values(cmd.list(opt), "--" + opt)) {
      auto x = str::parse_double(v);
      if (!x) throw UsageError("--" + opt + " " + k + "=" + v + ": not a number");
      out.push_back({k, *x});
    }
    return out;
  };
  PerformanceRules rules{bounds("min"), bounds("max"), bounds("max-drop"), cmd.list("detector")};
  auto ro = read_options(cmd);
  Inputs in(ctx, cmd);
  const auto ts = cmd.vm().count("timestamp") ? std::optional<std::string>(cmd.str("timestamp")) : std::nullopt;
  auto table = in.collected() ? in.collected_table(ro, ts) : in.table(cmd.required("data"), ro);
  const std::string data_name = in.collected() ? table.source : cmd.str("data");
  std::optional<stats::Table> reference;
  if (cmd.vm().count("reference")) reference = in.table(cmd.str("reference"), ro);
  stats::DriftOptions drift;
  auto compat = stats::parse_compat(cmd.str("compat"));
  if (!compat) throw UsageError("--compat must be azure or evidently, not '" + cmd.str("compat") + "'");
  drift.compat = *compat;
  apply_declared_types(ro.declared, drift);
  const auto c =
      check_performance(table, spec, time_order(table, ts), ts, rules, reference ? &*reference : nullptr, drift);

  json::Document doc(rapidjson::kObjectType);
  json::Builder b(doc.GetAllocator());
  b.set(doc, "data", data_name);
  auto body = performance_json(c, b);
  for (auto& m : body.GetObject()) doc.AddMember(m.name, m.value, doc.GetAllocator());

  ctx.host.set_output("concept_drift", bool_text(c.concept_drift));
  ctx.host.set_output("performance_ok", bool_text(c.failures.empty()));
  if (auto acc = metric_value(c.perf, c.perf.classification ? "accuracy" : "rmse"))
    ctx.host.set_output(c.perf.classification ? "accuracy" : "rmse", report::fmt_number(*acc, 6));
  cli::publish_result(ctx, performance_fragment(c, shown_name(data_name), cmd.flag("fail-on-drift")), cmd);
  // Failed checks where people look: error annotations when the step fails on them, else warnings.
  auto annotate = [&](const std::string& title, const std::string& why) {
    ci::Annotation a;
    a.severity = cmd.flag("fail-on-drift") ? ci::Severity::error : ci::Severity::warning;
    a.title = title;
    a.message = why;
    ctx.host.annotate(a);
  };
  for (const auto& why : c.failures) annotate("Performance check failed", why);
  if (c.concept_drift) annotate("Concept drift", c.concept_reason.empty() ? "a detector alarmed" : c.concept_reason);
  ctx.emit(doc, [&](std::ostream& os) { performance_text(os, c); });
  if (cmd.flag("fail-on-drift") && (c.concept_drift || !c.failures.empty()))
    throw CheckFailed(c.concept_drift ? "concept drift detected" : "performance check failed: " + c.failures.front());
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
      "report", value<std::string>(), "write a self-contained HTML report (signal trends, statistics) here")(
      "fail-on-retrain", bool_switch(), "exit 1 when the decision is to retrain");
  add_quality_options(cmd);
  add_target_options(cmd);
  add_collected_options(cmd, "lookback");
  add_past_reference_options(cmd);
  add_health_options(cmd);
  add_fail_on_breach_option(cmd);
  cli::add_markdown_option(cmd);
  if (!cmd.parse(args)) return 0;
  Inputs in(ctx, cmd, "lookback");
  auto c = load_config(cmd.str("config"));
  if (cmd.vm().count("reference")) {
    c.reference = cmd.str("reference");
    c.reference_workspace.reset();  // monitor.reference_env is the workspace of monitor.reference only
    c.reference_window.reset();
  }
  if (cmd.vm().count("current")) c.current = cmd.str("current");
  if (cmd.vm().count("window")) c.window = cmd.str("window");
  apply_quality_options(cmd, c.quality);
  apply_target_options(cmd, c.target);
  if (c.current) in.set_collected(false);  // --endpoint then names the endpoint whose health is read
  c.reference_window = past_reference(cmd, in, c.reference_window);
  if (!c.reference && !c.reference_window)
    throw ConfigError(c.file + ": monitor.reference is required (or --reference)");
  if (!c.current && !in.collected())
    throw ConfigError(c.file + ": monitor.current is required (or --current or --endpoint)");
  if (!valid_window(c.window))
    throw UsageError("--window must be daily, weekly or a number of rows, not '" + c.window + "'");
  const bool ref_from_config = !cmd.vm().count("reference"), cur_from_config = !cmd.vm().count("current");
  auto ro = read_options(cmd);
  apply_declared_types(ro.declared, c.drift);
  auto po = profile_options(cmd);
  auto data_path = [&](const std::string& p, bool from_config) {
    return is_workspace_ref(p) ? p : resolve_config_path(c.file, p, from_config);
  };
  auto ref = c.reference_window
                 ? in.load_past_reference(*c.reference_window, ro, po, true)
                 : in.load(data_path(*c.reference, ref_from_config), ro, po, true, c.reference_workspace);
  auto cur = in.collected() ? std::move(*in.load_collected(ro, po, true, c.timestamp).table)
                            : in.table(data_path(*c.current, cur_from_config), ro);
  auto d = decide(c, ref, cur, po);
  // Endpoint health over the last N intervals (--health-debounce K/N) ending at --to or now; the
  // rules from --health or amlops.yml's monitor.health.
  const auto hs = health_settings(cmd, c.health);
  const auto& rules = hs.rules;
  std::optional<Health> health;
  if (!rules.empty() && !cmd.vm().count("endpoint")) {
    if (!hs.rules_from_file) throw UsageError("--health needs --endpoint");
    log::info(c.file, ": monitor.health is checked with --endpoint only; endpoint health not read");
  } else if (!rules.empty()) {
    HealthQuery hq;
    hq.endpoint = cmd.str("endpoint");
    hq.deployment = cmd.str("deployment");
    hq.interval = hs.interval;
    hq.to = in.collected() ? in.query().to : cmd.vm().count("to") ? parse_iso8601(cmd.str("to")) : ctx.clock.wall();
    hq.from = hq.to - hs.windows * hq.interval;
    auto& conn = in.connection();
    health = read_health(*conn.arm, conn.ws->id(), hq);
    add_health_signal(d, *health, rules, hs.breaches, hs.windows);
  }

  json::Document doc(rapidjson::kObjectType);
  decision_json(d, doc);
  if (cmd.vm().count("report")) {
    files::write_atomic(cmd.str("report"), decision_html(d, ref.profile));
    doc.AddMember("report", json::Value(cmd.str("report").c_str(), doc.GetAllocator()), doc.GetAllocator());
    ctx.host.set_output("report", cmd.str("report"));
  }
  if (health) {
    json::Builder b(doc.GetAllocator());
    json::Value hj = b.obj();
    health_json(*health, rules, hj, b);
    b.set(doc, "endpoint_health", std::move(hj));
  }
  ctx.host.set_output("retrain", bool_text(d.retrain));
  ctx.host.set_output("health_breached", bool_text(d.health_breached));
  auto fragment = decision_fragment(d, cmd.flag("fail-on-retrain"), cmd.flag("fail-on-breach"));
  if (health) fragment.body += "\n**Endpoint health** (" + cmd.str("endpoint") + ")\n\n" + health_markdown(*health, {});
  cli::publish_result(ctx, fragment, cmd);
  ctx.emit(doc, [&](std::ostream& os) {
    os << "retrain: " << bool_text(d.retrain) << "\n";
    for (const auto& r : d.reasons) os << "  - " << r << "\n";
    if (d.reasons.empty())
      os << "  no signal breached in " << d.breaches << " of the last " << d.windows << " windows\n";
    if (health) {
      os << "endpoint health: " << (d.health_breached ? "breached" : "ok") << "\n";
      for (const auto& r : d.health_reasons) os << "  - " << r << "\n";
    }
  });
  if (d.retrain && cmd.flag("fail-on-retrain")) throw CheckFailed("retrain: " + d.reasons.front());
  if (d.health_breached && cmd.flag("fail-on-breach"))
    throw CheckFailed("endpoint health: " + d.health_reasons.front());
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
       {"decide", "retrain decision from the monitor: section of amlops.yml", decide_cmd},
       {"endpoint", "endpoint health: requests, error rate by status class, p50/p95/p99 latency", endpoint_cmd}},
      args);
}

}  // namespace amlops
