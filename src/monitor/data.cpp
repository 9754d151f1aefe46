#include "monitor/data.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <numeric>

#include "core/error.hpp"
#include "core/log.hpp"

namespace amlops::monitor {

namespace {
// No bytes, or only spaces and line breaks (a reader needs at least a header).
bool blank_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char buf[4096];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    for (std::streamsize i = 0; i < in.gcount(); ++i)
      if (buf[i] != ' ' && buf[i] != '\n' && buf[i] != '\r' && buf[i] != '\t') return false;
  }
  return true;
}
}  // namespace

Source load_source(const std::string& path, const stats::ReadOptions& ro, const stats::ProfileOptions& po,
                   bool keep_table) {
  Source s;
  s.path = path;
  if (!std::filesystem::exists(path)) throw UsageError("no such file: " + path);
  if (stats::is_profile_path(path)) {
    s.profile = stats::load_profile(path);
  } else if (blank_file(path)) {
    stats::Table empty;
    empty.source = path;
    s.profile.source = path;
    if (keep_table) s.table = std::move(empty);
  } else {
    const auto t0 = std::chrono::steady_clock::now();
    auto table = stats::read_table(path, ro);
    const auto t1 = std::chrono::steady_clock::now();
    if (keep_table) {
      s.profile = stats::profile_table(table, po);
      s.table = std::move(table);
    } else {
      s.profile = stats::profile_table(std::move(table), po);
    }
    const auto t2 = std::chrono::steady_clock::now();
    log::debug(path, ": read ", std::chrono::duration<double>(t1 - t0).count(), " s, profile ",
               std::chrono::duration<double>(t2 - t1).count(), " s");
  }
  return s;
}

std::vector<size_t> time_order(const stats::Table& t, const std::optional<std::string>& timestamp) {
  std::vector<size_t> order(t.rows);
  std::iota(order.begin(), order.end(), 0);
  if (!timestamp) return order;
  const auto& c = t.at(*timestamp);
  if (!c.is_numeric())
    throw UsageError("timestamp column '" + *timestamp + "' holds " + std::string(stats::type_name(c.type)) +
                     " values (expected ISO 8601 timestamps or numbers)");
  if (c.missing) log::warn(c.missing, " rows of ", t.source, " have no '", *timestamp, "'; they are ordered last");
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    const double x = c.values[a], y = c.values[b];
    if (std::isnan(x)) return false;
    if (std::isnan(y)) return true;
    return x < y;
  });
  return order;
}

void apply_declared_types(const std::map<std::string, stats::ColumnType>& declared, stats::DriftOptions& o) {
  for (const auto& [column, type] : declared) {
    if (type != stats::ColumnType::numeric && type != stats::ColumnType::categorical) continue;
    o.features[column].type = type;
  }
}

}  // namespace amlops::monitor
