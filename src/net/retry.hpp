// The retry policy as pure functions, table-tested: which failures are retried, how long to wait
// (exponential backoff with full jitter, Retry-After as a floor), and when to give up.
#pragma once
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "core/time.hpp"

namespace amlops::net {

struct RetryPolicy {
  int max_attempts = 8;  // including the first
  Duration base_delay = std::chrono::milliseconds(500);
  Duration max_delay = std::chrono::seconds(30);  // cap of one backoff step (Retry-After may exceed it)
  Duration deadline = std::chrono::minutes(5);    // total time for one logical request, all attempts
  Duration connect_timeout = std::chrono::seconds(10);
  Duration stall_timeout = std::chrono::seconds(60);  // no byte received for this long
};

// What went wrong with one attempt.
enum class Failure {
  none,      // an HTTP answer (see status)
  connect,   // could not connect / DNS / TLS handshake
  reset,     // connection reset or closed mid-exchange, empty reply
  stall,     // no data for stall_timeout
  deadline,  // the total deadline ran out during the attempt
  other,     // anything else (bad URL, local file error): not retried
};

const char* failure_name(Failure f);

// 408, 429, 500, 502, 503, 504.
bool retryable_status(int status);

// Retry-After: delta-seconds or an HTTP date (relative to `now`); nullopt when unparsable.
std::optional<Duration> parse_retry_after(std::string_view value, std::chrono::system_clock::time_point now);

// Full jitter: uniform in [0, min(max_delay, base * 2^(attempt-1))] using `random01` in [0,1),
// then raised to `retry_after` when that is larger. `attempt` is the 1-based attempt that failed.
Duration backoff_delay(int attempt, const RetryPolicy& policy, std::optional<Duration> retry_after, double random01);

struct RetryDecision {
  bool retry = false;
  Duration delay{0};
  std::string reason;  // why not (or why) retried, for messages
};

// Decides after attempt `attempt` failed with `failure` (or answered `status`). `elapsed` is the
// time since the first attempt began; a retry whose delay would pass the deadline is not made.
// Non-idempotent requests are retried only when the request never reached the server (connect)
// or the server said so explicitly (429/503 with Retry-After).
RetryDecision decide_retry(int attempt, Failure failure, int status, std::optional<Duration> retry_after,
                           Duration elapsed, const RetryPolicy& policy, bool idempotent, double random01);

}  // namespace amlops::net
