#include "net/http.hpp"

#include <curl/curl.h>

#include <cstdio>
#include <mutex>
#include <random>

#include "core/env.hpp"
#include "core/error.hpp"
#include "core/files.hpp"
#include "core/json.hpp"
#include "core/log.hpp"
#include "core/redact.hpp"
#include "core/signals.hpp"
#include "core/strings.hpp"

namespace amlops::net {

bool Request::is_idempotent() const {
  if (idempotent) return *idempotent;
  return method != "POST" && method != "PATCH";
}

std::optional<std::string> Response::header(std::string_view name) const {
  std::string n = str::to_lower(name);
  for (auto& [k, v] : headers)
    if (k == n) return v;
  return std::nullopt;
}

namespace {

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct WriteTarget {
  std::string* body = nullptr;
  FILE* file = nullptr;
};

size_t on_write(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<WriteTarget*>(user);
  size_t len = size * n;
  if (t->file) return std::fwrite(data, 1, len, t->file);
  t->body->append(data, len);
  return len;
}

size_t on_header(char* data, size_t size, size_t n, void* user) {
  auto* headers = static_cast<Headers*>(user);
  size_t len = size * n;
  std::string_view line(data, len);
  if (line.rfind("HTTP/", 0) == 0) {
    headers->clear();  // a new response (after 100 Continue or a redirect)
    return len;
  }
  auto colon = line.find(':');
  if (colon != std::string_view::npos) {
    headers->emplace_back(str::to_lower(str::trim(line.substr(0, colon))),
                          std::string(str::trim(line.substr(colon + 1))));
  }
  return len;
}

// Called by libcurl about once a second even while nothing arrives: a SIGINT/SIGTERM aborts the
// transfer instead of waiting for the stall timeout (a server that stopped answering).
int on_progress(void*, curl_off_t, curl_off_t, curl_off_t, curl_off_t) { return signals::interrupted() ? 1 : 0; }

Failure classify(CURLcode code, long http_code, Duration elapsed, Duration time_left) {
  switch (code) {
    case CURLE_OK:
      return Failure::none;
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_SSL_CONNECT_ERROR:
      return Failure::connect;
    case CURLE_OPERATION_TIMEDOUT:
      if (elapsed + std::chrono::milliseconds(50) >= time_left) return Failure::deadline;
      return http_code == 0 && elapsed < std::chrono::milliseconds(10) ? Failure::connect : Failure::stall;
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
      return Failure::reset;
    default:
      return Failure::other;
  }
}

class CurlTransport : public Transport {
 public:
  CurlTransport() { global_init(); }
  ~CurlTransport() override {
    for (CURL* h : pool_) curl_easy_cleanup(h);
  }

  AttemptResult perform(const Request& req, Duration connect_timeout, Duration stall_timeout,
                        Duration time_left) override {
    CURL* h = acquire();
    AttemptResult r;
    curl_slist* hdrs = nullptr;
    FILE* file = nullptr;
    std::string tmp_path;
    WriteTarget target{&r.response.body, nullptr};
    try {
      curl_easy_setopt(h, CURLOPT_URL, req.url.c_str());
      curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
      curl_easy_setopt(h, CURLOPT_USERAGENT, user_agent_.c_str());
      curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
      curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(connect_timeout.count()));
      curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(std::max<int64_t>(1, time_left.count())));
      curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
      curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME,
                       static_cast<long>(std::max<int64_t>(1, (stall_timeout.count() + 999) / 1000)));
      if (auto ca = process_env().nonempty("SSL_CERT_FILE")) curl_easy_setopt(h, CURLOPT_CAINFO, ca->c_str());
      if (auto dir = process_env().nonempty("SSL_CERT_DIR")) curl_easy_setopt(h, CURLOPT_CAPATH, dir->c_str());
      if (req.method == "HEAD") {
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
      } else if (req.method == "GET") {
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
      } else {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, req.body.data());
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
        if (req.method != "POST") curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req.method.c_str());
      }
      // libcurl silently resends a request once when a reused connection turns out dead; for a
      // request that must not be repeated, a fresh connection rules that out.
      if (!req.is_idempotent()) curl_easy_setopt(h, CURLOPT_FRESH_CONNECT, 1L);
      for (auto& [k, v] : req.headers) hdrs = curl_slist_append(hdrs, (k + ": " + v).c_str());
      hdrs = curl_slist_append(hdrs, "Expect:");
      curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
      std::string range;
      if (req.range) {
        range = std::to_string(req.range->first) + "-" + (req.range->second ? std::to_string(*req.range->second) : "");
        curl_easy_setopt(h, CURLOPT_RANGE, range.c_str());
      }
      if (!req.download_to.empty()) {
        if (req.download_to.has_parent_path()) std::filesystem::create_directories(req.download_to.parent_path());
        tmp_path = req.download_to.string() + ".part-" + str::random_hex(4);
        file = std::fopen(tmp_path.c_str(), "wb");
        if (!file) throw ConfigError("cannot write " + req.download_to.string());
        target.file = file;
      }
      curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
      curl_easy_setopt(h, CURLOPT_WRITEDATA, &target);
      curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
      curl_easy_setopt(h, CURLOPT_HEADERDATA, &r.response.headers);
      curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
      curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
      char errbuf[CURL_ERROR_SIZE] = {0};
      curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);

      auto start = std::chrono::steady_clock::now();
      CURLcode code = curl_easy_perform(h);
      auto took = std::chrono::duration_cast<Duration>(std::chrono::steady_clock::now() - start);
      long http_code = 0;
      curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &http_code);
      r.response.status = static_cast<int>(http_code);
      r.failure = classify(code, http_code, took, time_left);
      if (code != CURLE_OK) r.error = errbuf[0] ? errbuf : curl_easy_strerror(code);
      if (file) {
        std::fclose(file);
        file = nullptr;
        if (r.failure == Failure::none && r.response.ok())
          std::filesystem::rename(tmp_path, req.download_to);
        else
          std::filesystem::remove(tmp_path);
      }
    } catch (...) {
      if (file) std::fclose(file);
      if (!tmp_path.empty()) std::filesystem::remove(tmp_path);
      curl_slist_free_all(hdrs);
      release(h);
      throw;
    }
    curl_slist_free_all(hdrs);
    release(h);
    return r;
  }

 private:
  CURL* acquire() {
    {
      std::lock_guard lock(mu_);
      if (!pool_.empty()) {
        CURL* h = pool_.back();
        pool_.pop_back();
        curl_easy_reset(h);  // keeps the connection cache: reuse across requests
        return h;
      }
    }
    CURL* h = curl_easy_init();
    if (!h) throw std::runtime_error("curl_easy_init failed");
    return h;
  }
  void release(CURL* h) {
    std::lock_guard lock(mu_);
    pool_.push_back(h);
  }

  std::mutex mu_;
  std::vector<CURL*> pool_;
  std::string user_agent_ = std::string("amlops/") + curl_version_info(CURLVERSION_NOW)->version;
};

}  // namespace

std::unique_ptr<Transport> make_curl_transport() { return std::make_unique<CurlTransport>(); }

struct Client::Impl {
  std::mutex rng_mu;
  std::mt19937_64 rng;
  double random01() {
    std::lock_guard lock(rng_mu);
    return std::uniform_real_distribution<double>(0.0, 1.0)(rng);
  }
};

Client::Client(ClientOptions opts) : opts_(std::move(opts)), impl_(std::make_unique<Impl>()) {
  if (!opts_.clock) opts_.clock = &system_clock();
  if (!opts_.transport) opts_.transport = make_curl_transport();
  impl_->rng.seed(opts_.seed ? opts_.seed : std::random_device{}());
}

Client::~Client() = default;

Response Client::send(Request req) {
  const RetryPolicy& policy = req.policy ? *req.policy : opts_.policy;
  Clock& clock = *opts_.clock;
  const auto start = clock.now();
  const std::string what = req.method + " " + redact::url(req.url);
  for (int attempt = 1;; ++attempt) {
    signals::check();
    auto elapsed = std::chrono::duration_cast<Duration>(clock.now() - start);
    Duration left = policy.deadline - elapsed;
    AttemptResult r;
    if (left.count() <= 0) {
      r.failure = Failure::deadline;
    } else {
      auto t0 = clock.now();
      r = opts_.transport->perform(req, policy.connect_timeout, policy.stall_timeout, left);
      log::debug(what, " -> ", r.failure == Failure::none ? std::to_string(r.response.status) : failure_name(r.failure),
                 " (", format_duration(std::chrono::duration_cast<Duration>(clock.now() - t0)), ")");
      if (log::enabled(log::Level::trace)) {
        for (auto& [k, v] : req.headers) log::trace("  > ", k, ": ", redact::header(k, v));
        for (auto& [k, v] : r.response.headers) log::trace("  < ", k, ": ", redact::header(k, v));
      }
    }
    if (r.failure != Failure::none) signals::check();  // the transfer was aborted by a signal
    elapsed = std::chrono::duration_cast<Duration>(clock.now() - start);
    std::optional<Duration> retry_after;
    if (auto ra = r.response.header("retry-after")) retry_after = parse_retry_after(*ra, clock.wall());
    auto d = decide_retry(attempt, r.failure, r.response.status, retry_after, elapsed, policy, req.is_idempotent(),
                          impl_->random01());
    if (!d.retry) {
      if (r.failure != Failure::none) {
        std::string msg = what + ": " + failure_name(r.failure);
        if (!r.error.empty()) msg += " (" + r.error + ")";
        msg += "; " + d.reason;
        throw HttpError(0, msg);
      }
      r.response.attempts = attempt;
      r.response.elapsed = elapsed;
      return std::move(r.response);
    }
    log::info("retrying ", what, " in ", format_duration(d.delay), " (", d.reason, ", attempt ", attempt, " of ",
              policy.max_attempts, ")");
    clock.sleep(d.delay);
  }
}

void expect_ok(const Response& r, const std::string& what) {
  if (r.ok()) return;
  std::string code, message;
  try {
    if (!r.body.empty() && (r.body.front() == '{')) {
      auto doc = json::parse(r.body, "response");
      code = json::opt_string(doc, "/error/code").value_or(json::opt_string(doc, "/error_code").value_or(""));
      message = json::opt_string(doc, "/error/message").value_or(json::opt_string(doc, "/message").value_or(""));
    }
  } catch (const ConfigError&) {
  }
  if (code.empty() && r.body.find("<Code>") != std::string::npos) {
    auto c0 = r.body.find("<Code>") + 6;
    code = r.body.substr(c0, r.body.find("</Code>", c0) - c0);
    if (auto m0 = r.body.find("<Message>"); m0 != std::string::npos) {
      m0 += 9;
      message = r.body.substr(m0, r.body.find("</Message>", m0) - m0);
      message = message.substr(0, message.find('\n'));
    }
  }
  std::string text = what + ": HTTP " + std::to_string(r.status);
  if (!code.empty()) text += ": " + code;
  if (!message.empty()) text += ": " + message;
  if (code.empty() && message.empty() && !r.body.empty()) text += ": " + r.body.substr(0, 300);
  std::string corr = r.header("x-ms-correlation-request-id").value_or(r.header("x-ms-request-id").value_or(""));
  throw HttpError(r.status, redact::text(text), code, corr);
}

}  // namespace amlops::net
