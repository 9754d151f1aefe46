// Durations, timestamps and a clock seam so that waits and retries are testable without waiting.
#pragma once
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace amlops {

using Duration = std::chrono::milliseconds;

// Parses "PT1H30M", "P1DT2H", "90s", "15m", "2h", "1h30m", "500ms", "1d" and a bare number of
// seconds. Throws ConfigError on anything else.
Duration parse_duration(std::string_view text);
// "1h02m03s" / "4.2s" / "350ms".
std::string format_duration(Duration d);
// ISO 8601 for timeout fields in REST bodies: "PT1H30M".
std::string iso8601_duration(Duration d);

class Clock {
 public:
  virtual ~Clock() = default;
  // Monotonic time, for deadlines.
  [[nodiscard]] virtual std::chrono::steady_clock::time_point now() const = 0;
  // Wall-clock time (token expiry, timestamps).
  [[nodiscard]] virtual std::chrono::system_clock::time_point wall() const = 0;
  virtual void sleep(Duration d) = 0;
};

class SystemClock : public Clock {
 public:
  [[nodiscard]] std::chrono::steady_clock::time_point now() const override { return std::chrono::steady_clock::now(); }
  [[nodiscard]] std::chrono::system_clock::time_point wall() const override { return std::chrono::system_clock::now(); }
  // Sleeps in slices and returns early when an interrupt signal arrived.
  void sleep(Duration d) override;
};

// A clock that advances only when slept on (tests).
class FakeClock : public Clock {
 public:
  [[nodiscard]] std::chrono::steady_clock::time_point now() const override { return steady_; }
  [[nodiscard]] std::chrono::system_clock::time_point wall() const override { return wall_; }
  void sleep(Duration d) override { advance(d); }
  void advance(Duration d) {
    steady_ += d;
    wall_ += d;
    slept_ += d;
  }
  [[nodiscard]] Duration total_slept() const { return slept_; }

 private:
  std::chrono::steady_clock::time_point steady_{std::chrono::hours(1000)};
  std::chrono::system_clock::time_point wall_{std::chrono::seconds(1'800'000'000)};
  Duration slept_{0};
};

Clock& system_clock();

// "2026-11-26T04:12:39Z" / with milliseconds "2026-11-26T04:12:39.123Z".
std::string iso8601_utc(std::chrono::system_clock::time_point t, bool millis = false);
// Parses RFC 3339 / ISO 8601 timestamps (Z or offset, optional fraction); throws ConfigError.
std::chrono::system_clock::time_point parse_iso8601(std::string_view text);
// RFC 1123 "Thu, 26 Nov 2026 04:12:39 GMT" (HTTP dates, x-ms-date).
std::string http_date(std::chrono::system_clock::time_point t);
std::chrono::system_clock::time_point parse_http_date(std::string_view text);
int64_t unix_seconds(std::chrono::system_clock::time_point t);

}  // namespace amlops
