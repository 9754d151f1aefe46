// HTTP client on libcurl: connection reuse, connect and stall timeouts, a total deadline, the
// system CA bundle (SSL_CERT_FILE / SSL_CERT_DIR honoured), proxies from the environment
// (libcurl's http_proxy/https_proxy/no_proxy), retries per retry.hpp, redacted logging, streaming
// downloads and Range reads.
#pragma once
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/time.hpp"
#include "net/retry.hpp"

namespace amlops::net {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct Request {
  std::string method = "GET";
  std::string url;
  Headers headers;
  std::string body;
  // POST is not idempotent unless the caller says so (e.g. an idempotent action or a token request).
  std::optional<bool> idempotent;
  // Byte range [first, last] (inclusive); last absent = to the end.
  std::optional<std::pair<uint64_t, std::optional<uint64_t>>> range;
  // Stream the body to this file instead of Response::body (written atomically on success).
  std::filesystem::path download_to;
  // Per-request policy override (timeouts, attempts).
  std::optional<RetryPolicy> policy;

  [[nodiscard]] bool is_idempotent() const;
};

struct Response {
  int status = 0;
  Headers headers;  // names lower-cased
  std::string body;
  int attempts = 1;
  Duration elapsed{0};

  [[nodiscard]] std::optional<std::string> header(std::string_view name) const;
  [[nodiscard]] bool ok() const { return status >= 200 && status < 300; }
};

// One attempt on the wire. The curl transport is the real one; tests may substitute.
struct AttemptResult {
  Failure failure = Failure::none;
  std::string error;  // transport error text
  Response response;
};
class Transport {
 public:
  virtual ~Transport() = default;
  virtual AttemptResult perform(const Request& req, Duration connect_timeout, Duration stall_timeout,
                                Duration time_left) = 0;
};
std::unique_ptr<Transport> make_curl_transport();

struct ClientOptions {
  RetryPolicy policy;
  Clock* clock = nullptr;  // default: the system clock
  uint64_t seed = 0;       // jitter seed (0: random)
  std::string user_agent = "amlops";
  std::shared_ptr<Transport> transport;  // default: curl
};

class Client {
 public:
  explicit Client(ClientOptions opts = {});
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Sends with retries. Returns the final response whatever its status (callers check ok());
  // throws HttpError (status 0) when no HTTP answer came after retries or the deadline passed.
  // Safe to call from several threads (each attempt takes a pooled connection).
  Response send(Request req);
  [[nodiscard]] const RetryPolicy& policy() const { return opts_.policy; }

 private:
  ClientOptions opts_;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Throws HttpError with `what` and the status, plus the body's error message when it has one
// (ARM {"error":{"code","message"}} and similar), unless the response is 2xx.
void expect_ok(const Response& r, const std::string& what);

}  // namespace amlops::net
