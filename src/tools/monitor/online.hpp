// amlops-monitor's workspace inputs (data assets, datastore folders, an endpoint's collected
// data) and the `endpoint` health command.
#pragma once
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "aml/connect.hpp"
#include "cli/cli.hpp"
#include "monitor/data.hpp"
#include "monitor/endpoint_health.hpp"
#include "monitor/sources.hpp"

namespace amlops::monitor {

// --endpoint, --deployment, --collection, --window/--from/--to, --labels, --labels-on,
// --parallel-gets, --stage-dir and the workspace connection flags.
// `window_option` names the span flag ("window"; decide, whose --window splits rows, uses "lookback").
void add_collected_options(cli::Command& cmd, const std::string& window_option = "window");

// Reads what a command names: a local file or profile, a workspace ref (azureml:...), or the
// endpoint's collected data. Connects to the workspace on first need.
class Inputs {
 public:
  Inputs(Context& ctx, const cli::Command& cmd, std::string window_option = "window");
  ~Inputs();
  // --endpoint given (and not turned off): the current data is what the endpoint collected.
  [[nodiscard]] bool collected() const;
  // decide with a current data set of its own uses --endpoint for health only.
  void set_collected(bool on) { enabled_ = on; }
  // `workspace` (a workspace address): read a workspace ref from that workspace, with the same
  // credential, instead of --workspace's (amlops.yml's monitor.reference_env).
  Source load(const std::string& path, const stats::ReadOptions& ro, const stats::ProfileOptions& po, bool keep_table,
              const std::optional<std::string>& workspace = std::nullopt);
  Source load_collected(const stats::ReadOptions& ro, const stats::ProfileOptions& po, bool keep_table,
                        const std::optional<std::string>& time_column = std::nullopt);
  stats::Table table(const std::string& path, const stats::ReadOptions& ro,
                     const std::optional<std::string>& workspace = std::nullopt);
  // The collected rows as a table (`time_column`: each record's time as that column); `span`: of
  // that window instead of the query's (the same endpoint, deployment and collections).
  stats::Table collected_table(const stats::ReadOptions& ro, const std::optional<std::string>& time_column,
                               const std::optional<std::pair<SysTime, SysTime>>& span = std::nullopt);
  // The endpoint's own collected data of an earlier window as the reference (--reference-window,
  // --reference-offset or monitor.reference's map; see reference_window).
  Source load_past_reference(const ReferenceWindow& w, const stats::ReadOptions& ro, const stats::ProfileOptions& po,
                             bool keep_table);
  aml::Connection& connection();
  // The collected-data query (--window or --from/--to checked on first use).
  const CollectedQuery& query();

 private:
  WorkspaceData& data(const std::optional<std::string>& workspace = std::nullopt);
  Context& ctx_;
  const cli::Command& cmd_;
  std::string window_option_;
  bool enabled_ = true;
  std::optional<CollectedQuery> q_;
  std::optional<aml::Connection> conn_;
  std::unique_ptr<WorkspaceData> data_;
  struct Other {
    aml::Connection conn;
    std::unique_ptr<WorkspaceData> data;
  };
  std::map<std::string, Other> others_;  // workspace address -> its reader
};

// A table as a Source (profiled; the table kept or dropped).
Source source_of(stats::Table&& t, const std::string& path, const stats::ProfileOptions& po, bool keep_table);

// --health RULE (repeatable), --health-debounce K/N, --interval.
void add_health_options(cli::Command& cmd);
// --fail-on-breach: exit 1 when the endpoint's health breaches (endpoint, decide).
void add_fail_on_breach_option(cli::Command& cmd);
// The health rules, debounce and interval: the flags over amlops.yml's monitor.health (`file`),
// key by key (any --health replaces the file's rules; see HealthConfig).
struct HealthSettings {
  std::vector<HealthRule> rules;
  bool rules_from_file = false;
  int breaches = 1, windows = 1;
  std::chrono::minutes interval{60};
};
HealthSettings health_settings(const cli::Command& cmd, const std::optional<HealthConfig>& file);
// The endpoint_health block of a JSON result.
void health_json(const Health& h, const std::vector<HealthRule>& rules, json::Value& into, json::Builder& b);

// The interval table (and the breach reasons) as markdown.
std::string health_markdown(const Health& h, const std::vector<std::string>& reasons);

int endpoint_cmd(Context& ctx, const std::vector<std::string>& args);

// --on-cluster COMPUTE, --partitions N, --environment, --cluster-timeout.
void add_cluster_options(cli::Command& cmd);
struct ClusterRun {
  std::string job;
  std::vector<int64_t> partition_rows;
  size_t max_values = 0;
  double ks_bound = 0;  // |KS_cluster - KS_local| <= this (0: exact)
  double seconds = 0;   // submit to result
};
// Profiles `current` (a local file: byte ranges; a folder: its files) on the cluster: one pipeline
// job of N profile steps and a merge step; the merged profile comes back as the current Source.
// `args` are the command's own (drift options are forwarded to the merge step's drift.json).
Source run_on_cluster(Context& ctx, const cli::Command& cmd, Inputs& in, const Source& reference,
                      const std::string& current, const std::vector<std::string>& args, ClusterRun& run);

}  // namespace amlops::monitor
