#include "monitor/windows.hpp"

#include <chrono>
#include <cmath>
#include <cstdint>
#include <limits>

#include "core/error.hpp"
#include "core/strings.hpp"
#include "core/time.hpp"

namespace amlops::monitor {

std::vector<Window> make_windows(const stats::Table& t, const std::vector<size_t>& order, const MonitorConfig& c) {
  if (!valid_window(c.window))
    throw UsageError("window must be daily, weekly or a number of rows, not '" + c.window + "'");
  std::vector<Window> out;
  if (c.window == "daily" || c.window == "weekly") {
    if (!c.timestamp) throw ConfigError(c.file + ": monitor.window " + c.window + " needs monitor.timestamp");
    const auto& ts = t.at(*c.timestamp);
    if (!ts.is_numeric()) throw UsageError("timestamp column '" + *c.timestamp + "' is not a timestamp");
    const double span = c.window == "daily" ? 86400.0 : 7 * 86400.0;
    const double shift = c.window == "weekly" ? 3 * 86400.0 : 0.0;  // ISO weeks start on Monday
    int64_t current = std::numeric_limits<int64_t>::min();
    for (size_t r : order) {
      const double v = ts.values[r];
      if (std::isnan(v)) continue;
      const auto k = static_cast<int64_t>(std::floor((v + shift) / span));
      if (k != current) {
        current = k;
        const auto start = std::chrono::system_clock::time_point(
            std::chrono::seconds(static_cast<int64_t>(static_cast<double>(k) * span - shift)));
        out.push_back({iso8601_utc(start).substr(0, 10), {}});
      }
      out.back().rows.push_back(r);
    }
  } else {
    const auto n = static_cast<size_t>(*str::parse_int(c.window));
    for (size_t i = 0; i < order.size(); i += n) {
      Window w;
      w.label = "rows " + std::to_string(i + 1) + "-" + std::to_string(std::min(order.size(), i + n));
      w.rows.assign(order.begin() + static_cast<std::ptrdiff_t>(i),
                    order.begin() + static_cast<std::ptrdiff_t>(std::min(order.size(), i + n)));
      out.push_back(std::move(w));
    }
  }
  return out;
}

}  // namespace amlops::monitor
