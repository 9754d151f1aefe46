// Drift beyond one machine: the current data split into N partitions (byte ranges of one file,
// or files of a folder), each profiled by `amlops-monitor profile` in its own step of one Azure ML
// pipeline job (the amlops-monitor binary itself is the steps' code), then one merge step that
// merges the partition profiles and computes the drift result. See docs/monitor.md for which
// metrics are exact from merged profiles and the bound of the approximate ones.
#pragma once
#include <filesystem>
#include <string>
#include <vector>

#include "stats/table.hpp"

namespace amlops::monitor {

// Partition `index` (0-based) of `count` of a CSV or JSON Lines file by bytes: the lines that start
// in [size*index/count, size*(index+1)/count); a CSV partition gets the file's header line too.
// Records must not span lines (CSV fields with line breaks: partition by file instead).
stats::Table read_partition(const std::filesystem::path& file, size_t index, size_t count,
                            const stats::ReadOptions& ro);
// "I/N" -> {I, N}; UsageError unless 0 <= I < N.
std::pair<size_t, size_t> parse_byte_range(const std::string& text);

struct ClusterPlan {
  std::string compute;      // azureml:NAME or NAME
  std::string environment;  // the steps' environment (any Linux image runs the static binary)
  size_t partitions = 4;
  std::filesystem::path binary;                // amlops-monitor (this process)
  std::filesystem::path reference_profile;     // written by the caller
  std::vector<std::filesystem::path> current;  // one file (byte ranges) or several (by file)
  std::vector<std::string> profile_args;       // --max-values/--threads/--type/--delimiter for the steps
  std::vector<std::string> drift_args;         // drift options forwarded to the merge step
};

// Writes DIR/code (binary, reference profile, data) and DIR/pipeline.yml; returns the YAML path.
std::filesystem::path write_cluster_job(const ClusterPlan& plan, const std::filesystem::path& dir);

// Bound on |KS_cluster - KS_local| from the partitions' row counts (n_i) and --max-values m:
// 3/(m-1) + sum_i |1/k - n_i/n| + 2/min(n_i); 0 when no partition was sampled (every n_i <= m:
// the merge then holds every value and samples it as one machine does).
double ks_bound(const std::vector<int64_t>& partition_rows, size_t max_values);

}  // namespace amlops::monitor
