#include "tools/monitor/online.hpp"

#include <chrono>
#include <filesystem>
#include <ostream>
#include <set>

#include "aml/submit.hpp"
#include "aml/uri.hpp"
#include "aml/wait.hpp"
#include "cli/connection.hpp"
#include "cli/result.hpp"
#include "core/error.hpp"
#include "core/files.hpp"
#include "core/log.hpp"
#include "core/strings.hpp"
#include "core/time.hpp"
#include "monitor/cluster.hpp"
#include "report/fragment.hpp"
#include "report/markdown.hpp"
#include "spec/job.hpp"

namespace amlops::monitor {

using cli::po::bool_switch;
using cli::po::value;

void add_collected_options(cli::Command& cmd, const std::string& window_option) {
  cmd.options()("endpoint", value<std::string>(),
                "read the current data from what this online endpoint's data collector wrote")(
      "deployment", value<std::string>(), "only this deployment's collected data (default: every deployment)")(
      "collection", value<std::string>()->default_value("model_inputs"),
      "collection to read; two comma-separated (model_inputs,model_outputs) are joined by correlationid")(
      window_option.c_str(), value<std::string>(), "collected data of this span ending now (e.g. 24h)")(
      "from", value<std::string>(), "collected data from this time (ISO 8601, with --to)")(
      "to", value<std::string>(), "collected data until this time (exclusive)")(
      "labels", value<std::string>(), "labels (CSV, JSON Lines or azureml:...) joined to the collected rows")(
      "labels-on", value<std::string>()->default_value("correlationid"),
      "join column of --labels: correlationid (the record's) or a column of the collected rows")(
      "collector-datastore", value<std::string>()->default_value("workspaceblobstore"),
      "datastore holding the collected data")("parallel-gets", value<unsigned>()->default_value(8),
                                              "concurrent ranged GETs when reading blobs")(
      "stage-dir", value<std::string>(), "also write every blob read under this folder (default: memory only)");
  cli::add_connection_options(cmd);
}

Inputs::Inputs(Context& ctx, const cli::Command& cmd, std::string window_option)
    : ctx_(ctx), cmd_(cmd), window_option_(std::move(window_option)) {}

const CollectedQuery& Inputs::query() {
  if (q_) return *q_;
  CollectedQuery q;
  q.endpoint = cmd_.str("endpoint");
  q.deployment = cmd_.str("deployment");
  q.collections.clear();
  for (auto& c : str::split(cmd_.str("collection", "model_inputs"), ','))
    if (!str::trim(c).empty()) q.collections.emplace_back(str::trim(c));
  q.datastore = cmd_.str("collector-datastore", "workspaceblobstore");
  std::tie(q.from, q.to) = parse_window(cmd_.str(window_option_), cmd_.str("from"), cmd_.str("to"), ctx_.clock.wall());
  if (cmd_.vm().count("labels")) q.labels = cmd_.str("labels");
  q.labels_on = cmd_.str("labels-on", "correlationid");
  q_ = std::move(q);
  return *q_;
}

Inputs::~Inputs() = default;

bool Inputs::collected() const { return enabled_ && cmd_.vm().count("endpoint") > 0; }

aml::Connection& Inputs::connection() {
  if (!conn_) conn_.emplace(cli::connect(ctx_, cmd_));
  return *conn_;
}

WorkspaceData& Inputs::data(const std::optional<std::string>& workspace) {
  FetchOptions o;
  o.parallelism = std::max(1u, cmd_.get<unsigned>("parallel-gets"));
  o.stage_dir = cmd_.str("stage-dir");
  if (workspace) {
    auto it = others_.find(*workspace);
    if (it == others_.end()) {
      auto co = cli::connection_options(ctx_, cmd_);
      co.workspace = *workspace;
      Other other{aml::connect(co, ctx_.env, ctx_.clock), nullptr};
      other.data = std::make_unique<WorkspaceData>(*other.conn.ws, o);
      it = others_.emplace(*workspace, std::move(other)).first;
    }
    return *it->second.data;
  }
  if (!data_) data_ = std::make_unique<WorkspaceData>(*connection().ws, o);
  return *data_;
}

Source source_of(stats::Table&& t, const std::string& path, const stats::ProfileOptions& po, bool keep_table) {
  Source s;
  s.path = path;
  t.source = path;
  if (t.rows == 0 && t.columns.empty()) {
    s.profile.source = path;
    if (keep_table) s.table = std::move(t);
    return s;
  }
  if (keep_table) {
    s.profile = stats::profile_table(t, po);
    s.table = std::move(t);
  } else {
    s.profile = stats::profile_table(std::move(t), po);
  }
  return s;
}

Source Inputs::load(const std::string& path, const stats::ReadOptions& ro, const stats::ProfileOptions& po,
                    bool keep_table, const std::optional<std::string>& workspace) {
  if (!is_workspace_ref(path)) return load_source(path, ro, po, keep_table);
  ReadStats st;
  auto t = data(workspace).read_ref(path, ro, &st);
  log::info(path, ": ", st.blobs, " blobs, ", st.bytes, " bytes, ", t.rows, " rows");
  return source_of(std::move(t), path, po, keep_table);
}

stats::Table Inputs::table(const std::string& path, const stats::ReadOptions& ro,
                           const std::optional<std::string>& workspace) {
  if (!is_workspace_ref(path)) return stats::read_table(path, ro);
  return data(workspace).read_ref(path, ro);
}

stats::Table Inputs::collected_table(const stats::ReadOptions& ro, const std::optional<std::string>& time_column,
                                     const std::optional<std::pair<SysTime, SysTime>>& span) {
  auto q = query();
  q.time_column = time_column;
  if (span) std::tie(q.from, q.to) = *span;
  ReadStats st;
  auto t = data().read_collected(q, ro, &st);
  log::info(describe(q), ": ", st.folders.size(), " folders listed, ", st.blobs, " blobs, ", st.bytes, " bytes, ",
            st.records, " records, ", st.rows, " rows");
  if (st.rows == 0) log::warn("insufficient data: nothing was collected for ", describe(q));
  return t;
}

Source Inputs::load_collected(const stats::ReadOptions& ro, const stats::ProfileOptions& po, bool keep_table,
                              const std::optional<std::string>& time_column) {
  auto t = collected_table(ro, time_column);
  auto path = t.source;
  return source_of(std::move(t), path, po, keep_table);
}

Source Inputs::load_past_reference(const ReferenceWindow& w, const stats::ReadOptions& ro,
                                   const stats::ProfileOptions& po, bool keep_table) {
  const auto& q = query();
  const auto span = reference_window(q.from, q.to, w.size, w.offset);
  auto t = collected_table(ro, std::nullopt, span);
  auto path = t.source;
  return source_of(std::move(t), path, po, keep_table);
}

// ---------------------------------------------------------------------------------------------
void add_health_options(cli::Command& cmd) {
  // No defaults here: a flag that is not given leaves amlops.yml's monitor.health in force.
  cmd.options()("health", value<std::vector<std::string>>()->composing(),
                "health rule METRIC>X per interval (repeatable; replaces monitor.health.rules): requests, "
                "error_rate, rate_4xx, rate_5xx, p50_ms, p95_ms, p99_ms (e.g. p95_ms>300)")(
      "health-debounce", value<std::string>(),
      "K/N: endpoint health breaches when a rule holds in K of the last N intervals (e.g. 2/3; default "
      "monitor.health.debounce, else 1/1)")(
      "interval", value<std::string>(),
      "health interval, minutes or hours: 5m, 1h (default monitor.health.interval, else 1h)");
}

namespace {

std::chrono::minutes parse_interval(const std::string& text, const std::string& what) {
  auto d = std::chrono::duration_cast<std::chrono::minutes>(parse_duration(text));
  if (d.count() < 1) throw UsageError(what + " must be at least 1m, not '" + text + "'");
  return d;
}

}  // namespace

void add_fail_on_breach_option(cli::Command& cmd) {
  cmd.options()("fail-on-breach", bool_switch(), "exit 1 when the health rules breach (after --health-debounce)");
}

HealthSettings health_settings(const cli::Command& cmd, const std::optional<HealthConfig>& file) {
  HealthSettings s;
  for (const auto& r : cmd.list("health"))
    for (auto& part : str::split(r, ','))
      if (!str::trim(part).empty()) s.rules.push_back(parse_health_rule(std::string(str::trim(part))));
  if (s.rules.empty() && file) {
    for (const auto& r : file->rules) s.rules.push_back(parse_health_rule(r));
    s.rules_from_file = true;
  }
  if (file) {
    s.breaches = file->breaches;
    s.windows = file->windows;
    s.interval = parse_interval(file->interval, "monitor.health.interval");
  }
  if (cmd.vm().count("health-debounce")) {
    const auto text = cmd.str("health-debounce");
    auto parts = str::split(text, '/');
    std::optional<int64_t> k, n;
    if (parts.size() == 2) {
      k = str::parse_int(parts[0]);
      n = str::parse_int(parts[1]);
    }
    if (!k || !n || *k < 1 || *n < *k || *n > 100000)
      throw UsageError("--health-debounce must be K/N with 1 <= K <= N, not '" + text + "'");
    s.breaches = static_cast<int>(*k);
    s.windows = static_cast<int>(*n);
  }
  if (cmd.vm().count("interval")) s.interval = parse_interval(cmd.str("interval"), "--interval");
  return s;
}

namespace {

json::Value window_json(const HealthWindow& w, json::Builder& b) {
  json::Value o = b.obj();
  b.set(o, "start", iso8601_utc(w.start));
  b.set(o, "end", iso8601_utc(w.end));
  b.set(o, "requests", w.requests);
  json::Value s = b.obj();
  b.set(s, "2xx", w.c2xx);
  b.set(s, "4xx", w.c4xx);
  b.set(s, "5xx", w.c5xx);
  b.set(s, "other", w.other);
  b.set(o, "status", std::move(s));
  if (w.requests) {
    b.set(o, "error_rate", w.error_rate());
    b.set(o, "rate_4xx", w.rate_4xx());
    b.set(o, "rate_5xx", w.rate_5xx());
  } else {
    b.set_null(o, "error_rate");
  }
  auto ms = [&](const char* k, const std::optional<double>& v) {
    if (v)
      b.set(o, k, *v);
    else
      b.set_null(o, k);
  };
  ms("p50_ms", w.p50);
  ms("p95_ms", w.p95);
  ms("p99_ms", w.p99);
  return o;
}

std::string ms_text(const std::optional<double>& v) { return v ? report::fmt_number(*v, 4) + " ms" : "-"; }

}  // namespace

void health_json(const Health& h, const std::vector<HealthRule>& rules, json::Value& into, json::Builder& b) {
  b.set(into, "resource_id", h.resource_id);
  b.set(into, "total", window_json(h.total, b));
  json::Value ws = b.arr();
  const auto series = health_series(h, rules);
  for (size_t i = 0; i < h.windows.size(); ++i) {
    auto w = window_json(h.windows[i], b);
    if (!rules.empty()) {
      b.set(w, "breached", bool(series.breached[i]));
      if (series.breached[i]) b.set(w, "why", series.detail[i]);
    }
    b.push(ws, std::move(w));
  }
  b.set(into, "windows", std::move(ws));
  json::Value rj = b.arr();
  for (const auto& r : rules) b.push(rj, r.text());
  b.set(into, "rules", std::move(rj));
}

std::string health_markdown(const Health& h, const std::vector<std::string>& reasons) {
  std::string md =
      "| interval | requests | 2xx | 4xx | 5xx | error rate | p50 | p95 | p99 "
      "|\n|---|---:|---:|---:|---:|---:|---:|---:|---:|\n";
  auto row = [&](const std::string& label, const HealthWindow& w) {
    md += "| " + label + " | " + std::to_string(w.requests) + " | " + std::to_string(w.c2xx) + " | " +
          std::to_string(w.c4xx) + " | " + std::to_string(w.c5xx) + " | " +
          (w.requests ? report::fmt_number(100 * w.error_rate(), 3) + " %" : "-") + " | " + ms_text(w.p50) + " | " +
          ms_text(w.p95) + " | " + ms_text(w.p99) + " |\n";
  };
  for (const auto& w : h.windows) row(iso8601_utc(w.start), w);
  row("**total**", h.total);
  for (const auto& r : reasons) md += "\n- " + r;
  return md;
}

int endpoint_cmd(Context& ctx, const std::vector<std::string>& args) {
  cli::Command cmd(ctx, "endpoint",
                   "Endpoint health from Azure Monitor metrics: requests, error rate by status class, p50/p95/p99 "
                   "latency per interval.",
                   "--endpoint NAME [--deployment D] (--window 24h | --from T --to T)");
  cmd.options()("endpoint", value<std::string>(), "online endpoint name")(
      "deployment", value<std::string>(), "one deployment (default: the whole endpoint)")(
      "window", value<std::string>(), "span ending now (e.g. 24h)")(
      "from", value<std::string>(), "start (ISO 8601, with --to)")("to", value<std::string>(), "end (exclusive)")(
      "config", value<std::string>(), "amlops.yml whose monitor.health sets the rules, debounce and interval");
  add_health_options(cmd);
  add_fail_on_breach_option(cmd);
  cli::add_connection_options(cmd);
  cli::add_markdown_option(cmd);
  if (!cmd.parse(args)) return 0;
  HealthQuery q;
  q.endpoint = cmd.required("endpoint");
  q.deployment = cmd.str("deployment");
  std::tie(q.from, q.to) = parse_window(cmd.str("window"), cmd.str("from"), cmd.str("to"), ctx.clock.wall());
  std::optional<HealthConfig> file;
  if (cmd.vm().count("config")) file = load_config(cmd.str("config")).health;
  const auto hs = health_settings(cmd, file);
  q.interval = hs.interval;
  const auto& rules = hs.rules;
  const auto k = hs.breaches, n = hs.windows;
  auto conn = cli::connect(ctx, cmd);
  const auto h = read_health(*conn.arm, conn.ws->id(), q);
  Decision d;
  d.breaches = k;
  d.windows = n;
  if (!rules.empty()) add_health_signal(d, h, rules, k, n);

  json::Document doc(rapidjson::kObjectType);
  json::Builder b(doc.GetAllocator());
  b.set(doc, "endpoint", q.endpoint);
  if (!q.deployment.empty()) b.set(doc, "deployment", q.deployment);
  b.set(doc, "from", iso8601_utc(q.from));
  b.set(doc, "to", iso8601_utc(q.to));
  b.set(doc, "interval", iso_interval(q.interval));
  health_json(h, rules, doc, b);
  b.set(doc, "breached", d.health_breached);
  json::Value reasons = b.arr();
  for (const auto& r : d.health_reasons) b.push(reasons, r);
  b.set(doc, "reasons", std::move(reasons));
  ctx.host.set_output("requests", std::to_string(h.total.requests));
  ctx.host.set_output("error_rate", report::fmt_number(h.total.error_rate(), 6));
  if (h.total.p95) ctx.host.set_output("p95_ms", report::fmt_number(*h.total.p95, 6));
  ctx.host.set_output("breached", d.health_breached ? "true" : "false");

  report::Fragment f;
  f.title = "Endpoint health: " + q.endpoint + (q.deployment.empty() ? "" : "/" + q.deployment);
  f.order = report::section_order::monitor;
  f.status = d.health_breached
                 ? (cmd.flag("fail-on-breach") ? report::FragmentStatus::fail : report::FragmentStatus::warn)
                 : report::FragmentStatus::pass;
  f.verdict = std::to_string(h.total.requests) + " requests, error rate " +
              (h.total.requests ? report::fmt_number(100 * h.total.error_rate(), 3) + " %" : std::string("-")) +
              ", p95 " + ms_text(h.total.p95) + (d.health_breached ? ": " + d.health_reasons.front() : std::string());
  f.body = health_markdown(h, d.health_reasons);
  cli::publish_result(ctx, f, cmd);

  ctx.emit(doc, [&](std::ostream& os) {
    os << "endpoint " << q.endpoint << (q.deployment.empty() ? "" : "/" + q.deployment) << " " << iso8601_utc(q.from)
       << ".." << iso8601_utc(q.to) << "\n";
    os << "  requests " << h.total.requests << " (2xx " << h.total.c2xx << ", 4xx " << h.total.c4xx << ", 5xx "
       << h.total.c5xx << "), error rate "
       << (h.total.requests ? report::fmt_number(100 * h.total.error_rate(), 4) + " %" : std::string("-")) << "\n";
    os << "  latency p50 " << ms_text(h.total.p50) << ", p95 " << ms_text(h.total.p95) << ", p99 "
       << ms_text(h.total.p99) << "\n";
    for (const auto& w : h.windows)
      os << "  " << iso8601_utc(w.start) << ": " << w.requests << " requests, " << w.c5xx << " 5xx, p95 "
         << ms_text(w.p95) << "\n";
    for (const auto& r : d.health_reasons) os << "BREACHED: " << r << "\n";
  });
  if (d.health_breached && cmd.flag("fail-on-breach"))
    throw CheckFailed("endpoint health: " + d.health_reasons.front());
  return 0;
}

// ---------------------------------------------------------------------------------------------
void add_cluster_options(cli::Command& cmd) {
  cmd.options()("on-cluster", value<std::string>(),
                "profile the current data on this compute cluster: one pipeline job of --partitions profile steps "
                "and a merge step")("partitions", value<size_t>()->default_value(4), "parallel profile steps")(
      "environment",
      value<std::string>()->default_value("azureml://registries/azureml/environments/sklearn-1.5/labels/latest"),
      "environment of the steps (the static binary runs on any Linux image)")(
      "cluster-timeout", value<std::string>(), "stop waiting for the cluster job after this long (e.g. 2h)");
}

namespace {

// The option tokens of `args` whose names are in `names` ("--name value", "--name=value", multitoken).
std::vector<std::string> forward(const std::vector<std::string>& args, const std::set<std::string>& names) {
  std::vector<std::string> out;
  for (size_t i = 0; i < args.size(); ++i) {
    const auto& a = args[i];
    if (a.rfind("--", 0) != 0) continue;
    const auto eq = a.find('=');
    const auto name = a.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
    if (!names.count(name)) continue;
    out.push_back(a);
    if (eq != std::string::npos) continue;
    for (size_t j = i + 1; j < args.size() && args[j].rfind("--", 0) != 0; ++j) out.push_back(args[j]);
  }
  return out;
}

}  // namespace

Source run_on_cluster(Context& ctx, const cli::Command& cmd, Inputs& in, const Source& reference,
                      const std::string& current, const std::vector<std::string>& args, ClusterRun& run) {
  namespace fs = std::filesystem;
  if (is_workspace_ref(current) || in.collected())
    throw UsageError("--on-cluster profiles local current data (a file, or a folder of CSV/JSON Lines files)");
  const auto t0 = std::chrono::steady_clock::now();
  ClusterPlan plan;
  plan.compute = cmd.str("on-cluster");
  plan.environment = cmd.str("environment");
  plan.partitions = cmd.get<size_t>("partitions");
  if (plan.partitions < 1) throw UsageError("--partitions must be at least 1");
  plan.binary = fs::read_symlink("/proc/self/exe");
  if (fs::is_directory(current)) {
    for (const auto& e : fs::directory_iterator(current)) {
      const auto ext = e.path().extension().string();
      if (e.is_regular_file() && (ext == ".csv" || ext == ".tsv" || ext == ".jsonl" || ext == ".ndjson"))
        plan.current.push_back(e.path());
    }
    std::sort(plan.current.begin(), plan.current.end());
    if (plan.current.empty()) throw UsageError(current + ": no CSV or JSON Lines file in this folder");
  } else {
    if (!fs::exists(current)) throw UsageError("no such file: " + current);
    plan.current = {current};
  }
  plan.profile_args = forward(args, {"max-values", "threads", "type", "delimiter"});
  plan.drift_args = forward(
      args, {"compat", "metrics", "columns", "exclude", "method", "threshold", "numeric-method", "categorical-method",
             "numeric-threshold", "categorical-threshold", "drift-share", "prediction", "min-rows"});
  files::TempDir dir("amlops-monitor-cluster");
  plan.reference_profile = dir.path() / "reference.profile.json";
  files::write_atomic(plan.reference_profile, stats::to_json(reference.profile));
  const auto yml = write_cluster_job(plan, dir.path());

  auto& conn = in.connection();
  spec::LoadOptions lo;
  lo.workspace_id = conn.ws->id();
  auto spec = spec::load_job(yml, lo);
  aml::SubmitOptions so;
  so.default_experiment = "amlops-monitor";
  so.tags = aml::provenance_tags(ctx.env, ctx.host);
  so.tags["amlops.monitor"] = "drift-partitions";
  auto sub = aml::submit_job(*conn.ws, spec, so);
  run.job = sub.name;
  log::info("submitted ", sub.name, ": ", plan.partitions, " profile steps and a merge step on ", plan.compute);
  aml::Reporter rep{ctx.clock, ctx.host, ctx.err};
  aml::WaitOptions wo;
  if (cmd.vm().count("cluster-timeout")) wo.timeout = parse_duration(cmd.str("cluster-timeout"));
  const auto result = aml::wait_job(rep, *conn.ws, sub.name, wo);
  if (result.status != "Completed")
    throw CheckFailed("cluster job " + sub.name + " " + result.status +
                      (result.error.empty() ? "" : ": " + result.error));
  auto job = aml::require_job(*conn.ws, sub.name);
  const auto uri = json::get_string(job, "/properties/outputs/result/uri", "job " + sub.name);
  const auto dp = aml::parse_datastore_uri(uri);
  if (!dp) throw HttpError(200, "job " + sub.name + ": output 'result' is not a datastore path: " + uri);
  auto container = conn.ws->datastore_container(dp->datastore);
  std::string folder = dp->path;
  while (!folder.empty() && folder.back() == '/') folder.pop_back();
  Source s;
  s.path = current;
  s.profile = stats::profile_from_json(container.get(folder + "/current.profile.json"), uri + "/current.profile.json");
  s.profile.source = current;
  // parts.json: the partitions' profile summaries (JSON objects one after another).
  const auto parts = container.get(folder + "/parts.json");
  for (size_t pos = parts.find("\"rows\""); pos != std::string::npos; pos = parts.find("\"rows\"", pos + 1)) {
    const auto colon = parts.find(':', pos);
    run.partition_rows.push_back(
        str::parse_int(str::trim(parts.substr(colon + 1, parts.find_first_of(",}\n", colon) - colon - 1))).value_or(0));
  }
  run.max_values = cmd.get<size_t>("max-values");
  run.ks_bound = ks_bound(run.partition_rows, run.max_values);
  run.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return s;
}

}  // namespace amlops::monitor
