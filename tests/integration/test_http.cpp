// The HTTP client against a real loopback server: retries with Retry-After, the stall timeout,
// connection resets, POST safety, Range reads and streaming downloads.
#include <atomic>
#include <boost/test/unit_test.hpp>

#include "core/error.hpp"
#include "core/files.hpp"
#include "net/http.hpp"
#include "net/server.hpp"

using namespace amlops;
using namespace amlops::net;
using namespace std::chrono_literals;

namespace {
RetryPolicy fast_policy() {
  RetryPolicy p;
  p.base_delay = 10ms;
  p.max_delay = 50ms;
  p.max_attempts = 5;
  p.deadline = 20s;
  p.connect_timeout = 2s;
  p.stall_timeout = 1s;
  return p;
}
}  // namespace

BOOST_AUTO_TEST_SUITE(http_client)

BOOST_AUTO_TEST_CASE(retries_503_with_retry_after_then_succeeds) {
  std::atomic<int> calls{0};
  std::vector<std::chrono::steady_clock::time_point> times;
  std::mutex mu;
  HttpServer server([&](const ServerRequest& req) {
    {
      std::lock_guard l(mu);
      times.push_back(std::chrono::steady_clock::now());
    }
    int n = ++calls;
    if (n <= 2)
      return ServerResponse::json(503, R"({"error":{"code":"ServiceUnavailable","message":"busy"}})")
          .header("Retry-After", "1");
    BOOST_TEST(req.path == "/jobs/a b");
    BOOST_TEST(req.param("api-version").value() == "2025-12-01");
    return ServerResponse::json(200, R"({"ok":true})");
  });
  server.start();
  Client client({.policy = fast_policy(), .clock = nullptr, .seed = 7, .user_agent = "test", .transport = nullptr});
  auto r = client.send({.method = "GET", .url = server.base_url() + "/jobs/a%20b?api-version=2025-12-01"});
  BOOST_TEST(r.status == 200);
  BOOST_TEST(r.body == R"({"ok":true})");
  BOOST_TEST(r.attempts == 3);
  BOOST_TEST(calls == 3);
  // Retry-After: 1 is a floor over the 10-50 ms backoff.
  BOOST_REQUIRE(times.size() == 3u);
  BOOST_TEST((times[1] - times[0] >= 950ms));
  BOOST_TEST((times[2] - times[1] >= 950ms));
}

BOOST_AUTO_TEST_CASE(final_error_status_is_returned_and_reported) {
  HttpServer server([&](const ServerRequest&) {
    return ServerResponse::json(404, R"({"error":{"code":"ResourceNotFound","message":"job x not found"}})")
        .header("x-ms-correlation-request-id", "corr-42");
  });
  server.start();
  Client client({.policy = fast_policy()});
  auto r = client.send({.url = server.base_url() + "/jobs/x"});
  BOOST_TEST(r.status == 404);
  BOOST_TEST(r.attempts == 1);
  try {
    expect_ok(r, "GET job x");
    BOOST_FAIL("no throw");
  } catch (const HttpError& e) {
    BOOST_TEST(std::string(e.what()) == "GET job x: HTTP 404: ResourceNotFound: job x not found");
    BOOST_TEST(e.correlation_id() == "corr-42");
    BOOST_TEST(e.status() == 404);
  }
}

BOOST_AUTO_TEST_CASE(slow_body_past_the_stall_timeout_is_retried_then_reported) {
  std::atomic<int> calls{0};
  HttpServer server([&](const ServerRequest&) {
    ++calls;
    ServerResponse r = ServerResponse::text(200, "late body");
    r.fault = ServerResponse::Fault::slow;
    r.slow_for = 4s;
    return r;
  });
  server.start();
  auto p = fast_policy();
  p.max_attempts = 2;
  Client client({.policy = p});
  auto t0 = std::chrono::steady_clock::now();
  try {
    client.send({.url = server.base_url() + "/slow"});
    BOOST_FAIL("no throw");
  } catch (const HttpError& e) {
    std::string m = e.what();
    BOOST_TEST(m.find("stalled") != std::string::npos, m);
    BOOST_TEST(m.find("gave up after 2 attempts") != std::string::npos, m);
    BOOST_TEST(e.status() == 0);
  }
  BOOST_TEST(calls == 2);
  auto took = std::chrono::steady_clock::now() - t0;
  BOOST_TEST((took < 7s));  // two ~1-2 s stalls, not two 4 s bodies
}

BOOST_AUTO_TEST_CASE(total_deadline_stops_retrying) {
  HttpServer server([&](const ServerRequest&) {
    ServerResponse r = ServerResponse::text(200, "x");
    r.fault = ServerResponse::Fault::slow;
    r.slow_for = 10s;
    return r;
  });
  server.start();
  auto p = fast_policy();
  p.stall_timeout = 5s;
  p.deadline = 1500ms;
  Client client({.policy = p});
  auto t0 = std::chrono::steady_clock::now();
  try {
    client.send({.url = server.base_url() + "/slow"});
    BOOST_FAIL("no throw");
  } catch (const HttpError& e) {
    std::string m = e.what();
    BOOST_TEST(m.find("deadline") != std::string::npos, m);
  }
  BOOST_TEST((std::chrono::steady_clock::now() - t0 < 4s));
}

BOOST_AUTO_TEST_CASE(connection_reset_is_retried_for_get_not_for_post) {
  std::atomic<int> calls{0};
  HttpServer server([&](const ServerRequest& req) {
    int n = ++calls;
    if (req.method == "POST" || n == 1) {
      ServerResponse r;
      r.fault = ServerResponse::Fault::reset;
      return r;
    }
    return ServerResponse::text(200, "ok");
  });
  server.start();
  Client client({.policy = fast_policy()});
  auto r = client.send({.url = server.base_url() + "/x"});
  BOOST_TEST(r.status == 200);
  BOOST_TEST(r.attempts == 2);
  calls = 0;
  try {
    client.send({.method = "POST", .url = server.base_url() + "/create", .body = "{}"});
    BOOST_FAIL("no throw");
  } catch (const HttpError& e) {
    std::string m = e.what();
    BOOST_TEST(m.find("connection reset") != std::string::npos, m);
    BOOST_TEST(m.find("not idempotent") != std::string::npos, m);
  }
  BOOST_TEST(calls == 1);  // a POST that may have been applied is never repeated blindly
}

BOOST_AUTO_TEST_CASE(connection_refused_is_retried_then_reported) {
  uint16_t port;
  {
    HttpServer s([](const ServerRequest&) { return ServerResponse::text(200, ""); });
    s.start();
    port = s.port();
  }
  auto p = fast_policy();
  p.max_attempts = 3;
  Client client({.policy = p});
  try {
    client.send({.url = "http://127.0.0.1:" + std::to_string(port) + "/"});
    BOOST_FAIL("no throw");
  } catch (const HttpError& e) {
    std::string m = e.what();
    BOOST_TEST(m.find("connection failed") != std::string::npos, m);
    BOOST_TEST(m.find("gave up after 3 attempts") != std::string::npos, m);
  }
}

BOOST_AUTO_TEST_CASE(range_reads_and_streaming_downloads) {
  files::TempDir dir;
  auto src = dir.path() / "log.txt";
  files::write_atomic(src, "0123456789abcdef");
  HttpServer server([&](const ServerRequest& req) {
    ServerResponse r;
    r.file = src;
    auto range = req.header("range");
    if (range && range->rfind("bytes=", 0) == 0) {
      auto spec = range->substr(6);
      auto dash = spec.find('-');
      r.status = 206;
      r.file_offset = std::stoull(spec.substr(0, dash));
      if (dash + 1 < spec.size()) r.file_length = std::stoull(spec.substr(dash + 1)) - r.file_offset + 1;
    }
    return r;
  });
  server.start();
  Client client({.policy = fast_policy()});
  Request part{.url = server.base_url() + "/log"};
  part.range = std::make_pair(uint64_t{10}, std::optional<uint64_t>{});
  auto r = client.send(part);
  BOOST_TEST(r.status == 206);
  BOOST_TEST(r.body == "abcdef");
  Request mid{.url = server.base_url() + "/log"};
  mid.range = std::make_pair(uint64_t{2}, std::optional<uint64_t>{4});
  BOOST_TEST(client.send(mid).body == "234");
  Request dl{.url = server.base_url() + "/log"};
  dl.download_to = dir.path() / "out" / "copy.txt";
  auto d = client.send(dl);
  BOOST_TEST(d.status == 200);
  BOOST_TEST(d.body.empty());
  BOOST_TEST(files::read(dir.path() / "out" / "copy.txt") == "0123456789abcdef");
}

BOOST_AUTO_TEST_SUITE_END()

#include "ci/oidc.hpp"
#include "core/redact.hpp"

BOOST_AUTO_TEST_SUITE(oidc_requests)

BOOST_AUTO_TEST_CASE(github_and_azure_devops_id_tokens) {
  std::vector<ServerRequest> seen;
  std::mutex mu;
  HttpServer server([&](const ServerRequest& req) {
    std::lock_guard l(mu);
    seen.push_back(req);
    if (req.path == "/gh") return ServerResponse::json(200, R"({"count":1,"value":"gh.jwt.token-aaaa"})");
    return ServerResponse::json(200, R"({"oidcToken":"ado.jwt.token-bbbb"})");
  });
  server.start();
  Client client({.policy = fast_policy()});
  redact::clear_for_tests();
  std::vector<std::string> masked;
  redact::on_secret([&](const std::string& s) { masked.push_back(s); });
  BOOST_TEST(ci::request_github_id_token(client, server.base_url() + "/gh?x=1", "req-token-1") == "gh.jwt.token-aaaa");
  BOOST_TEST(ci::request_azure_devops_id_token(client, server.base_url() + "/ado", "conn-9", "sys-access-2") ==
             "ado.jwt.token-bbbb");
  BOOST_REQUIRE(seen.size() == 2u);
  BOOST_TEST(seen[0].method == "GET");
  BOOST_TEST(seen[0].param("x").value() == "1");
  BOOST_TEST(seen[0].param("audience").value() == "api://AzureADTokenExchange");
  BOOST_TEST(seen[0].header("authorization").value() == "Bearer req-token-1");
  BOOST_TEST(seen[1].method == "POST");
  BOOST_TEST(seen[1].param("api-version").value() == "7.1");
  BOOST_TEST(seen[1].param("serviceConnectionId").value() == "conn-9");
  BOOST_TEST(seen[1].header("authorization").value() == "Bearer sys-access-2");
  // Request tokens and the minted tokens are all masked.
  for (const char* s : {"req-token-1", "gh.jwt.token-aaaa", "sys-access-2", "ado.jwt.token-bbbb"}) {
    BOOST_TEST((std::find(masked.begin(), masked.end(), s) != masked.end()), s);
  }
  redact::clear_for_tests();
  BOOST_CHECK_THROW(ci::github_id_token_request("", "", "a"), ConfigError);
  BOOST_CHECK_THROW(ci::parse_github_id_token(R"({"value":""})"), HttpError);
}

BOOST_AUTO_TEST_SUITE_END()
