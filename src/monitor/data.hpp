// Data sets for monitoring: CSV, JSON Lines or a stored profile; rows in time order; declared
// column types carried into the drift comparison.
#pragma once
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "stats/drift.hpp"
#include "stats/profile.hpp"
#include "stats/table.hpp"

namespace amlops::monitor {

// A data set given as CSV/JSON Lines (table + profile) or as a stored profile (profile only).
struct Source {
  std::string path;
  std::optional<stats::Table> table;
  stats::Profile profile;
};
// keep_table = false profiles the table in place and drops it (drift needs only the profile).
// An empty data file (no bytes, or only blank lines) is a data set of 0 rows and no columns.
// UsageError when the file does not exist.
Source load_source(const std::string& path, const stats::ReadOptions& ro, const stats::ProfileOptions& po,
                   bool keep_table = true);

// Rows in time order (stable; rows without a timestamp last). Identity order without a column.
std::vector<size_t> time_order(const stats::Table& t, const std::optional<std::string>& timestamp);

// A type declared for reading (--type COL=numeric|categorical) is also the type the column is
// compared as: it wins over the whole-number rule and, as a command-line flag, over a type from
// amlops.yml (monitor.features.COL.type).
void apply_declared_types(const std::map<std::string, stats::ColumnType>& declared, stats::DriftOptions& o);

}  // namespace amlops::monitor
