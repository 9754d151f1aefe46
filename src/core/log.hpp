// Logging to stderr with levels; everything written passes through redact::text.
#pragma once
#include <functional>
#include <sstream>
#include <string>
#include <string_view>

namespace amlops::log {

enum class Level { error = 0, warn = 1, info = 2, debug = 3, trace = 4 };

void set_level(Level level);
Level level();
bool enabled(Level level);
// Replaces the sink (default: stderr). Tests capture; CI adapters may decorate.
void set_sink(std::function<void(Level, const std::string&)> sink);
void reset_sink();
void write(Level level, std::string_view message);

template <typename... Args>
std::string concat(Args&&... args) {
  std::ostringstream os;
  (os << ... << std::forward<Args>(args));
  return os.str();
}

template <typename... Args>
void error(Args&&... args) {
  write(Level::error, concat(std::forward<Args>(args)...));
}
template <typename... Args>
void warn(Args&&... args) {
  if (enabled(Level::warn)) write(Level::warn, concat(std::forward<Args>(args)...));
}
template <typename... Args>
void info(Args&&... args) {
  if (enabled(Level::info)) write(Level::info, concat(std::forward<Args>(args)...));
}
template <typename... Args>
void debug(Args&&... args) {
  if (enabled(Level::debug)) write(Level::debug, concat(std::forward<Args>(args)...));
}
template <typename... Args>
void trace(Args&&... args) {
  if (enabled(Level::trace)) write(Level::trace, concat(std::forward<Args>(args)...));
}

}  // namespace amlops::log
