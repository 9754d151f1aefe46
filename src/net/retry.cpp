#include "net/retry.hpp"

#include <algorithm>
#include <cmath>

#include "core/error.hpp"
#include "core/strings.hpp"

namespace amlops::net {

const char* failure_name(Failure f) {
  switch (f) {
    case Failure::none:
      return "none";
    case Failure::connect:
      return "connection failed";
    case Failure::reset:
      return "connection reset";
    case Failure::stall:
      return "stalled";
    case Failure::deadline:
      return "deadline exceeded";
    case Failure::other:
      return "request failed";
  }
  return "unknown";
}

bool retryable_status(int status) {
  return status == 408 || status == 429 || status == 500 || status == 502 || status == 503 || status == 504;
}

std::optional<Duration> parse_retry_after(std::string_view value, std::chrono::system_clock::time_point now) {
  std::string_view v = str::trim(value);
  if (v.empty()) return std::nullopt;
  if (auto secs = str::parse_double(v)) {
    if (*secs < 0 || !std::isfinite(*secs)) return std::nullopt;
    return Duration(static_cast<int64_t>(std::llround(*secs * 1000)));
  }
  try {
    auto when = parse_http_date(v);
    auto d = std::chrono::duration_cast<Duration>(when - now);
    return d.count() > 0 ? d : Duration(0);
  } catch (const ConfigError&) {
    return std::nullopt;
  }
}

Duration backoff_delay(int attempt, const RetryPolicy& policy, std::optional<Duration> retry_after, double random01) {
  // Cap before shifting so that large attempt numbers cannot overflow.
  double cap = static_cast<double>(policy.max_delay.count());
  double exp = static_cast<double>(policy.base_delay.count()) * std::pow(2.0, std::max(0, attempt - 1));
  double ceiling = std::min(cap, exp);
  double r = std::clamp(random01, 0.0, 1.0);
  auto jittered = Duration(static_cast<int64_t>(std::floor(ceiling * r)));
  if (retry_after && *retry_after > jittered) return *retry_after;
  return jittered;
}

RetryDecision decide_retry(int attempt, Failure failure, int status, std::optional<Duration> retry_after,
                           Duration elapsed, const RetryPolicy& policy, bool idempotent, double random01) {
  RetryDecision d;
  if (failure == Failure::none && !retryable_status(status)) {
    d.reason = "status " + std::to_string(status) + " is final";
    return d;
  }
  if (failure == Failure::other) {
    d.reason = "not a transient error";
    return d;
  }
  if (failure == Failure::deadline) {
    d.reason = "the deadline of " + format_duration(policy.deadline) + " passed";
    return d;
  }
  if (!idempotent) {
    // A POST may have been applied: retry only when it cannot have reached the server, or when
    // the server told us to come back.
    bool safe = failure == Failure::connect ||
                (failure == Failure::none && (status == 429 || status == 503) && retry_after.has_value());
    if (!safe) {
      d.reason = "the request is not idempotent";
      return d;
    }
  }
  if (attempt >= policy.max_attempts) {
    d.reason = "gave up after " + std::to_string(attempt) + " attempts";
    return d;
  }
  d.delay = backoff_delay(attempt, policy, retry_after, random01);
  if (elapsed + d.delay >= policy.deadline) {
    d.reason = "the next attempt would pass the deadline of " + format_duration(policy.deadline);
    d.delay = Duration(0);
    return d;
  }
  d.retry = true;
  d.reason = failure == Failure::none ? "status " + std::to_string(status) : failure_name(failure);
  return d;
}

}  // namespace amlops::net
