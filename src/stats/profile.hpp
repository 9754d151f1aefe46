// A profile keeps what drift needs from a table, so that a job compares new data against a
// stored baseline without the training data: per column the sorted values (exact up to a size,
// else evenly spaced order statistics), category counts, quantiles, moments and row counts.
// Profiles of partitions merge.
#pragma once
#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "stats/table.hpp"

namespace amlops::stats {

struct ColumnProfile {
  std::string name;
  ColumnType type = ColumnType::numeric;
  int64_t count = 0;    // present values
  int64_t missing = 0;  // missing values (empty, NA tokens, NaN, +-inf)
  // numeric / datetime
  std::vector<double> sorted;  // present values ascending (or a sample when `sampled`)
  bool sampled = false;
  std::vector<double> hist_edges, hist_counts;  // over the full values: Sturges bins on [min, max]
  bool integral = true;
  double min = 0, max = 0, mean = 0, std_pop = 0, std_sample = 0;
  // datetime: counts by hour of day (UTC, 0-23) and day of week (Monday = 0) over every value
  std::vector<int64_t> hours, weekdays;
  // categorical / boolean: (category, count), sorted by category
  std::vector<std::pair<std::string, int64_t>> counts;

  [[nodiscard]] bool numeric() const { return type == ColumnType::numeric || type == ColumnType::datetime; }
  [[nodiscard]] int64_t distinct() const;
  // Linear-interpolation quantile (numpy's default) of the stored values.
  [[nodiscard]] double quantile(double q) const;
};

// The hour-of-day and day-of-week counts of timestamps (epoch seconds, UTC) into c.hours and
// c.weekdays.
void count_calendar(ColumnProfile& c, const std::vector<double>& epoch_seconds);

struct Profile {
  std::string source;
  int64_t rows = 0;
  std::vector<ColumnProfile> columns;
  [[nodiscard]] const ColumnProfile* find(std::string_view name) const;
};

struct ProfileOptions {
  size_t max_values = 1000000;  // per numeric column; above it, evenly spaced order statistics
  unsigned threads = 0;
  std::vector<std::string> only;     // profile only these columns (empty = all)
  std::vector<std::string> exclude;  // never these
};

Profile profile_table(const Table& t, const ProfileOptions& options = {});
// The same, consuming the table (numeric buffers are reused: less memory and copying).
Profile profile_table(Table&& t, const ProfileOptions& options = {});
// Rows [begin, end) of a table only (windows).
Profile profile_rows(const Table& t, const std::vector<size_t>& rows, const ProfileOptions& options = {});
// Adds `other` (same columns by name; new columns are appended).
void merge(Profile& into, const Profile& other, const ProfileOptions& options = {});

std::string to_json(const Profile& p);
Profile profile_from_json(std::string_view text, const std::string& source);
Profile load_profile(const std::filesystem::path& path);
bool is_profile_path(const std::filesystem::path& path);

}  // namespace amlops::stats
