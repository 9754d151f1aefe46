// The windows `decide` evaluates: calendar days or ISO weeks (UTC) of the timestamp column, or N
// consecutive rows in time order.
#pragma once
#include <string>
#include <vector>

#include "monitor/config.hpp"
#include "stats/table.hpp"

namespace amlops::monitor {

struct Window {
  std::string label;         // "2026-11-02" (day, or the Monday of a week) or "rows 1-250"
  std::vector<size_t> rows;  // table rows, in time order
};

// `order` is the table's rows in time order (time_order). Uses c.window, c.timestamp and names
// c.file in errors. Rows without a timestamp belong to no calendar window. Empty days are not
// windows.
std::vector<Window> make_windows(const stats::Table& t, const std::vector<size_t>& order, const MonitorConfig& c);

}  // namespace amlops::monitor
