#include "tools/monitor/options.hpp"

#include <vector>

#include "core/error.hpp"
#include "core/strings.hpp"

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
      "drift-share", value<double>(), "dataset drift when this share of features drifts (azure: any; evidently: 0.5)")(
      "psi-bins", value<std::string>(),
      "numeric PSI bins: uniform (Azure's equal-width bins, the default) or quantile "
      "(10 bins at the reference's deciles)");
}

void add_quality_options(cli::Command& cmd) {
  cmd.options()("quality-threshold", value<std::vector<std::string>>()->composing(),
                "[numerical.|categorical.]METRIC=X: data-quality threshold over the reference's rate; METRIC is "
                "null_value_rate, data_type_error_rate or out_of_bounds_rate (repeatable)");
}

void apply_quality_options(const cli::Command& cmd, stats::QualityOptions& o) {
  for (auto& [k, v] : cli::key_values(cmd.list("quality-threshold"), "--quality-threshold")) {
    auto d = str::parse_double(v);
    if (!d) throw UsageError("--quality-threshold " + k + "=" + v + ": not a number");
    set_quality_threshold(o, k, *d);
  }
}

void add_target_options(cli::Command& cmd) {
  cmd.options()("model", value<std::string>(), "NAME[:VERSION] of the monitored model, for report headers")(
      "target-deployment", value<std::string>(), "ENDPOINT[:DEPLOYMENT] the data comes from, for report headers");
}

void apply_target_options(const cli::Command& cmd, Target& t) {
  auto split = [](const std::string& s, std::optional<std::string>& a, std::optional<std::string>& b) {
    const auto colon = s.find(':');
    a = s.substr(0, colon);
    if (colon != std::string::npos) b = s.substr(colon + 1);
  };
  if (cmd.vm().count("model")) split(cmd.str("model"), t.model, t.version);
  if (cmd.vm().count("target-deployment")) split(cmd.str("target-deployment"), t.endpoint, t.deployment);
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
  if (cmd.vm().count("psi-bins")) {
    auto b = stats::parse_psi_bins(cmd.str("psi-bins"));
    if (!b) throw UsageError("--psi-bins must be uniform or quantile, not '" + cmd.str("psi-bins") + "'");
    o.psi_bins = *b;
  }
}

}  // namespace amlops::monitor
