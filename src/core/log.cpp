#include "core/log.hpp"

#include <atomic>
#include <cstdio>
#include <mutex>

#include "core/redact.hpp"

namespace amlops::log {
namespace {
std::atomic<int> g_level{static_cast<int>(Level::info)};
std::mutex g_mu;
std::function<void(Level, const std::string&)> g_sink;

const char* prefix(Level l) {
  switch (l) {
    case Level::error:
      return "error: ";
    case Level::warn:
      return "warning: ";
    case Level::info:
      return "";
    case Level::debug:
      return "debug: ";
    case Level::trace:
      return "trace: ";
  }
  return "";
}
}  // namespace

void set_level(Level l) { g_level = static_cast<int>(l); }
Level level() { return static_cast<Level>(g_level.load()); }
bool enabled(Level l) { return static_cast<int>(l) <= g_level.load(); }

void set_sink(std::function<void(Level, const std::string&)> sink) {
  std::lock_guard lock(g_mu);
  g_sink = std::move(sink);
}
void reset_sink() { set_sink(nullptr); }

void write(Level l, std::string_view message) {
  if (!enabled(l)) return;
  std::string line = redact::text(message);
  std::lock_guard lock(g_mu);
  if (g_sink) {
    g_sink(l, line);
    return;
  }
  std::string out = std::string(prefix(l)) + line + "\n";
  std::fwrite(out.data(), 1, out.size(), stderr);
  std::fflush(stderr);
}

}  // namespace amlops::log
