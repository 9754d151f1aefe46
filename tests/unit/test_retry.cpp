// The retry policy: which failures are retried, the delays, Retry-After and the deadline.
#include <boost/test/unit_test.hpp>

#include "net/retry.hpp"

using namespace amlops;
using namespace amlops::net;
using namespace std::chrono_literals;

BOOST_AUTO_TEST_SUITE(retry)

BOOST_AUTO_TEST_CASE(retryable_statuses) {
  struct Row {
    int status;
    bool retry;
  };
  const Row rows[] = {{200, false}, {201, false}, {400, false}, {401, false}, {403, false},
                      {404, false}, {408, true},  {409, false}, {429, true},  {500, true},
                      {501, false}, {502, true},  {503, true},  {504, true},  {505, false}};
  for (auto& r : rows) BOOST_TEST(retryable_status(r.status) == r.retry, "status " << r.status);
}

BOOST_AUTO_TEST_CASE(full_jitter_bounds) {
  RetryPolicy p;
  p.base_delay = 500ms;
  p.max_delay = 30s;
  struct Row {
    int attempt;
    double r;
    int64_t expect_ms;
  };
  // ceiling = min(30 s, 0.5 s * 2^(attempt-1)); delay = floor(ceiling * r)
  const Row rows[] = {{1, 0.0, 0},    {1, 0.999999, 499}, {1, 0.5, 250},   {2, 0.5, 500},    {3, 0.5, 1000},
                      {4, 1.0, 4000}, {7, 1.0, 30000},    {7, 0.5, 15000}, {40, 1.0, 30000}, {1000, 0.25, 7500}};
  for (auto& r : rows) {
    BOOST_TEST(backoff_delay(r.attempt, p, std::nullopt, r.r).count() == r.expect_ms,
               "attempt " << r.attempt << " r " << r.r);
  }
}

BOOST_AUTO_TEST_CASE(retry_after_is_a_floor) {
  RetryPolicy p;
  BOOST_TEST(backoff_delay(1, p, Duration(3000), 0.1).count() == 3000);      // jitter 50 ms < 3 s
  BOOST_TEST(backoff_delay(7, p, Duration(1000), 1.0).count() == 30000);     // jitter 30 s > 1 s
  BOOST_TEST(backoff_delay(1, p, Duration(120000), 0.5).count() == 120000);  // may exceed max_delay
}

BOOST_AUTO_TEST_CASE(parse_retry_after_forms) {
  auto now = parse_http_date("Thu, 26 Nov 2026 04:00:00 GMT");
  BOOST_TEST(parse_retry_after("2", now)->count() == 2000);
  BOOST_TEST(parse_retry_after(" 0 ", now)->count() == 0);
  BOOST_TEST(parse_retry_after("1.5", now)->count() == 1500);
  BOOST_TEST(parse_retry_after("Thu, 26 Nov 2026 04:00:10 GMT", now)->count() == 10000);
  BOOST_TEST(parse_retry_after("Thu, 26 Nov 2026 03:59:00 GMT", now)->count() == 0);  // in the past
  BOOST_TEST(!parse_retry_after("soon", now).has_value());
  BOOST_TEST(!parse_retry_after("-3", now).has_value());
  BOOST_TEST(!parse_retry_after("", now).has_value());
}

BOOST_AUTO_TEST_CASE(decisions) {
  RetryPolicy p;
  p.max_attempts = 4;
  p.deadline = 60s;
  struct Row {
    const char* name;
    int attempt;
    Failure failure;
    int status;
    std::optional<Duration> retry_after;
    Duration elapsed;
    bool idempotent;
    bool retry;
  };
  const Row rows[] = {
      {"503 GET retried", 1, Failure::none, 503, std::nullopt, 0s, true, true},
      {"429 GET retried", 1, Failure::none, 429, Duration(2000), 0s, true, true},
      {"404 final", 1, Failure::none, 404, std::nullopt, 0s, true, false},
      {"200 final", 1, Failure::none, 200, std::nullopt, 0s, true, false},
      {"reset GET retried", 2, Failure::reset, 0, std::nullopt, 1s, true, true},
      {"stall GET retried", 1, Failure::stall, 0, std::nullopt, 1s, true, true},
      {"connect GET retried", 1, Failure::connect, 0, std::nullopt, 0s, true, true},
      {"other never", 1, Failure::other, 0, std::nullopt, 0s, true, false},
      {"deadline never", 1, Failure::deadline, 0, std::nullopt, 60s, true, false},
      {"attempts exhausted", 4, Failure::none, 503, std::nullopt, 1s, true, false},
      {"POST reset not retried", 1, Failure::reset, 0, std::nullopt, 0s, false, false},
      {"POST 500 not retried", 1, Failure::none, 500, std::nullopt, 0s, false, false},
      {"POST 503 without Retry-After not retried", 1, Failure::none, 503, std::nullopt, 0s, false, false},
      {"POST 429 with Retry-After retried", 1, Failure::none, 429, Duration(1000), 0s, false, true},
      {"POST connect failure retried", 1, Failure::connect, 0, std::nullopt, 0s, false, true},
      {"Retry-After past deadline", 1, Failure::none, 503, Duration(120000), 0s, true, false},
      {"backoff past deadline", 3, Failure::none, 503, std::nullopt, 59900ms, true, false},
  };
  for (auto& r : rows) {
    auto d = decide_retry(r.attempt, r.failure, r.status, r.retry_after, r.elapsed, p, r.idempotent, 0.5);
    BOOST_TEST(d.retry == r.retry, r.name << " (" << d.reason << ")");
    if (d.retry && r.retry_after) BOOST_TEST(d.delay >= *r.retry_after, r.name);
    if (d.retry) BOOST_TEST(r.elapsed + d.delay < p.deadline, r.name);
  }
}

BOOST_AUTO_TEST_SUITE_END()
