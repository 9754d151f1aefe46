#include "net/server.hpp"

#include <sys/resource.h>

#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cerrno>
#include <fstream>
#include <map>
#include <mutex>
#include <thread>

#include "core/log.hpp"
#include "core/strings.hpp"

namespace amlops::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

std::optional<std::string> ServerRequest::header(const std::string& lower_name) const {
  auto it = headers.find(lower_name);
  if (it == headers.end()) return std::nullopt;
  return it->second;
}

std::optional<std::string> ServerRequest::param(const std::string& name) const {
  auto it = query.find(name);
  if (it == query.end()) return std::nullopt;
  return it->second;
}

ServerResponse ServerResponse::json(int status, std::string body) {
  ServerResponse r;
  r.status = status;
  r.body = std::move(body);
  r.headers.emplace_back("Content-Type", "application/json; charset=utf-8");
  return r;
}

ServerResponse ServerResponse::text(int status, std::string body) {
  ServerResponse r;
  r.status = status;
  r.body = std::move(body);
  r.headers.emplace_back("Content-Type", "text/plain; charset=utf-8");
  return r;
}

ServerResponse& ServerResponse::header(std::string name, std::string value) {
  headers.emplace_back(std::move(name), std::move(value));
  return *this;
}

namespace {

ServerRequest convert_header(const http::request_parser<http::string_body>::value_type& req, const std::string& peer) {
  ServerRequest sr;
  sr.method = std::string(req.method_string());
  sr.target = std::string(req.target());
  auto q = sr.target.find('?');
  sr.path = str::url_decode(sr.target.substr(0, q));
  if (q != std::string::npos) {
    for (auto& part : str::split(std::string_view(sr.target).substr(q + 1), '&')) {
      if (part.empty()) continue;
      auto eq = part.find('=');
      std::string k = str::url_decode(part.substr(0, eq), true);
      std::string v = eq == std::string::npos ? "" : str::url_decode(part.substr(eq + 1), true);
      sr.query.emplace(std::move(k), std::move(v));
    }
  }
  for (auto& f : req) sr.headers[str::to_lower(std::string(f.name_string()))] = std::string(f.value());
  sr.peer = peer;
  return sr;
}

ServerResponse internal_error() {
  return ServerResponse::json(500, R"({"error":{"code":"InternalServerError","message":"internal error"}})");
}

// Out of descriptors or memory: waiting lets connections close; retrying at once would spin.
bool resource_exhausted(const beast::error_code& ec) {
  return ec == asio::error::no_descriptors || ec == asio::error::no_buffer_space || ec == asio::error::no_memory ||
         ec.value() == ENFILE;
}

}  // namespace

class ServerSession;

struct HttpServer::Impl {
  Handler handler;
  ServerOptions opts;
  std::atomic<bool> stopping{false};
  std::atomic<bool> started{false};
  std::atomic<int> sessions{0};
  std::atomic<uint64_t> seq{0};
  int max_connections = 0;  // opts.max_connections, at most half the descriptor limit
  uint16_t port = 0;
  std::mutex mu;
  std::map<ServerSession*, std::weak_ptr<ServerSession>> live;
  std::unique_ptr<asio::thread_pool> pool;
  std::vector<std::thread> io;
  // Declared last: destroyed first, with the handlers (and sessions) still queued in it.
  asio::io_context ioc;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  tcp::acceptor acceptor{ioc};
  asio::steady_timer backoff{ioc};
  std::chrono::steady_clock::time_point last_warning{};

  void do_accept();
  bool evict_oldest_waiting();
  void run_io() {
    for (;;) {
      try {
        ioc.run();
        return;
      } catch (const std::exception& e) {
        log::error("server: ", e.what());  // keep serving
      }
    }
  }
};

class ServerSession : public std::enable_shared_from_this<ServerSession> {
 public:
  ServerSession(HttpServer::Impl& srv, tcp::socket sock, std::string peer)
      : srv_(srv), stream_(std::move(sock)), timer_(stream_.get_executor()), peer_(std::move(peer)) {
    ++srv_.sessions;
  }
  ~ServerSession() {
    {
      std::lock_guard l(srv_.mu);
      srv_.live.erase(this);
    }
    --srv_.sessions;
  }
  ServerSession(const ServerSession&) = delete;
  ServerSession& operator=(const ServerSession&) = delete;

  void start() {
    {
      std::lock_guard l(srv_.mu);
      srv_.live[this] = weak_from_this();
    }
    asio::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->read_header(); });
  }
  auto executor() { return stream_.get_executor(); }
  // Waiting for a request header since `waiting_since` (a sequence number), or 0.
  std::atomic<uint64_t> waiting_since{0};

  void close() {
    beast::error_code ec;
    timer_.cancel();
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_.socket().close(ec);
  }

 private:
  HttpServer::Impl& srv_;
  beast::tcp_stream stream_;
  asio::steady_timer timer_;
  std::string peer_;
  beast::flat_buffer buf_;
  std::optional<http::request_parser<http::string_body>> parser_;
  ServerRequest req_;
  ServerResponse resp_;
  unsigned version_ = 11;
  bool keep_alive_ = false;
  bool head_only_ = false;
  bool drain_after_ = false;  // answered before the body was read
  http::response<http::empty_body> head_;
  std::optional<http::response_serializer<http::empty_body>> ser_;
  std::ifstream file_;
  uint64_t left_ = 0;
  std::vector<char> chunk_;
  static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";

  void read_header() {
    if (srv_.stopping) return close();
    parser_.emplace();
    parser_->body_limit(srv_.opts.max_body);
    parser_->header_limit(64 * 1024);
    waiting_since = ++srv_.seq;
    stream_.expires_after(srv_.opts.header_timeout);
    http::async_read_header(stream_, buf_, *parser_,
                            [self = shared_from_this()](beast::error_code ec, size_t) { self->on_header(ec); });
  }

  void on_header(beast::error_code ec) {
    waiting_since = 0;
    if (ec == http::error::body_limit) return reject_early(ServerResponse::text(413, "request body too large"));
    if (ec) return close();
    const auto& h = parser_->get();
    req_ = convert_header(h, peer_);
    version_ = h.version();
    keep_alive_ = h.keep_alive();
    head_only_ = h.method() == http::verb::head;
    if (srv_.opts.on_headers) {
      std::optional<ServerResponse> early;
      try {
        early = srv_.opts.on_headers(req_);
      } catch (const std::exception& e) {
        log::error("server: ", req_.method, " ", req_.path, ": ", e.what());
        early = internal_error();
      }
      if (early) return reject_early(std::move(*early));
    }
    if (!parser_->is_done() && str::iequals(std::string(h[http::field::expect]), "100-continue")) {
      stream_.expires_after(srv_.opts.write_timeout);
      asio::async_write(stream_, asio::buffer(kContinue.data(), kContinue.size()),
                        [self = shared_from_this()](beast::error_code e, size_t) {
                          if (e) return self->close();
                          self->read_body();
                        });
      return;
    }
    read_body();
  }

  void reject_early(ServerResponse r) {
    resp_ = std::move(r);
    keep_alive_ = false;
    drain_after_ = true;
    write_response();
  }

  void read_body() {
    if (parser_->is_done()) return dispatch();
    stream_.expires_after(srv_.opts.body_timeout);
    http::async_read_some(stream_, buf_, *parser_, [self = shared_from_this()](beast::error_code ec, size_t) {
      if (ec == http::error::body_limit) return self->reject_early(ServerResponse::text(413, "request body too large"));
      if (ec) return self->close();
      self->read_body();
    });
  }

  // The handler runs on the worker pool; the response goes back to this connection's strand.
  void dispatch() {
    req_.body = std::move(parser_->get().body());
    asio::post(*srv_.pool, [self = shared_from_this()] {
      ServerResponse r;
      try {
        r = self->srv_.handler(self->req_);
      } catch (const std::exception& e) {
        log::error("server: ", self->req_.method, " ", self->req_.path, ": ", e.what());
        r = internal_error();
      }
      asio::post(self->executor(), [self, r = std::move(r)]() mutable {
        self->resp_ = std::move(r);
        self->write_response();
      });
    });
  }

  void write_response() {
    beast::error_code ec;
    if (resp_.fault == ServerResponse::Fault::reset) {
      stream_.socket().set_option(asio::socket_base::linger(true, 0), ec);
      return close();
    }
    head_ = {};
    head_.result(static_cast<http::status>(resp_.status));
    head_.version(version_);
    bool has_length = false;
    for (auto& [k, v] : resp_.headers) {
      if (str::iequals(k, "content-length")) has_length = true;
      head_.insert(k, v);
    }
    uint64_t body_len = resp_.body.size();
    if (resp_.file) {
      file_ = std::ifstream(*resp_.file, std::ios::binary);
      std::error_code fec;
      uint64_t size = std::filesystem::file_size(*resp_.file, fec);
      if (!file_ || fec) {
        resp_.file.reset();
        body_len = 0;
      } else {
        uint64_t off = std::min(resp_.file_offset, size);
        body_len = resp_.file_length ? std::min(*resp_.file_length, size - off) : size - off;
        file_.seekg(static_cast<std::streamoff>(off));
      }
    }
    left_ = body_len;
    if (!has_length && resp_.status != 204 && resp_.status != 304) head_.content_length(body_len);
    head_.keep_alive(keep_alive_);
    ser_.emplace(head_);
    stream_.expires_after(srv_.opts.write_timeout);
    http::async_write_header(stream_, *ser_, [self = shared_from_this()](beast::error_code e, size_t) {
      if (e) return self->close();
      if (self->resp_.fault == ServerResponse::Fault::slow) {
        self->stream_.expires_never();
        self->timer_.expires_after(self->resp_.slow_for);
        self->timer_.async_wait([self](beast::error_code te) {
          if (te || self->srv_.stopping) return self->close();
          self->write_body();
        });
        return;
      }
      self->write_body();
    });
  }

  void write_body() {
    if (head_only_) return finish();
    if (resp_.file) return write_file_chunk();
    if (resp_.body.empty()) return finish();
    stream_.expires_after(srv_.opts.write_timeout);
    asio::async_write(stream_, asio::buffer(resp_.body), [self = shared_from_this()](beast::error_code e, size_t) {
      if (e) return self->close();
      self->finish();
    });
  }

  void write_file_chunk() {
    if (left_ == 0) return finish();
    chunk_.resize(65536);
    file_.read(chunk_.data(), static_cast<std::streamsize>(std::min<uint64_t>(left_, chunk_.size())));
    auto got = static_cast<size_t>(file_.gcount());
    if (got == 0) return close();  // the file shrank: the promised length cannot be kept
    left_ -= got;
    stream_.expires_after(srv_.opts.write_timeout);
    asio::async_write(stream_, asio::buffer(chunk_.data(), got),
                      [self = shared_from_this()](beast::error_code e, size_t) {
                        if (e) return self->close();
                        self->write_file_chunk();
                      });
  }

  void finish() {
    file_ = std::ifstream();
    resp_ = {};
    if (drain_after_) return drain();
    if (!keep_alive_ || srv_.stopping) return close();
    read_header();
  }

  // After answering early, the client may still be sending the body: closing with unread data
  // would reset the connection and could destroy the answer in flight. Stop sending, then
  // discard what arrives for a moment (at most 1 MiB or 1 s), then close.
  void drain() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    chunk_.resize(65536);
    left_ = 1024 * 1024;
    stream_.expires_after(std::chrono::seconds(1));
    drain_some();
  }
  void drain_some() {
    stream_.async_read_some(asio::buffer(chunk_), [self = shared_from_this()](beast::error_code e, size_t n) {
      if (e || n >= self->left_) return self->close();
      self->left_ -= n;
      self->drain_some();
    });
  }
};

void HttpServer::Impl::do_accept() {
  acceptor.async_accept(asio::make_strand(ioc), [this](beast::error_code ec, tcp::socket sock) {
    if (stopping) return;
    if (ec) {
      if (ec == asio::error::operation_aborted && !acceptor.is_open()) return;
      auto now = std::chrono::steady_clock::now();
      if (now - last_warning > std::chrono::seconds(5)) {
        log::warn("server: accept failed: ", ec.message(), " (retrying)");
        last_warning = now;
      }
      backoff.expires_after(resource_exhausted(ec) ? std::chrono::milliseconds(100) : std::chrono::milliseconds(5));
      backoff.async_wait([this](beast::error_code te) {
        if (!te && !stopping) do_accept();
      });
      return;
    }
    // At the limit, the connection that has waited longest for a request header (a slow or
    // idle client) makes room; when every connection is busy with a request, the new one is closed.
    if (sessions.load() >= max_connections && !evict_oldest_waiting()) {
      beast::error_code ignored;
      sock.close(ignored);
      return do_accept();
    }
    beast::error_code ignored;
    // Responses go out as header + body writes: without TCP_NODELAY, Nagle holds the second
    // until the client's delayed ACK (40 ms per request on a kept-alive connection).
    sock.set_option(tcp::no_delay(true), ignored);
    auto ep = sock.remote_endpoint(ignored);
    std::string peer = ignored ? std::string() : ep.address().to_string();
    std::make_shared<ServerSession>(*this, std::move(sock), std::move(peer))->start();
    do_accept();
  });
}

bool HttpServer::Impl::evict_oldest_waiting() {
  std::shared_ptr<ServerSession> victim;
  {
    std::lock_guard l(mu);
    uint64_t oldest = UINT64_MAX;
    for (auto& [s, w] : live) {
      uint64_t since = s->waiting_since.load();
      if (since != 0 && since < oldest) {
        if (auto sp = w.lock()) {
          oldest = since;
          victim = std::move(sp);
        }
      }
    }
  }
  if (!victim) return false;
  victim->waiting_since = 0;
  asio::post(victim->executor(), [victim] { victim->close(); });
  return true;
}

HttpServer::HttpServer(Handler handler, ServerOptions opts) : impl_(std::make_unique<Impl>()) {
  impl_->handler = std::move(handler);
  impl_->opts = std::move(opts);
}

HttpServer::~HttpServer() { stop(); }

void HttpServer::start() {
  auto& i = *impl_;
  tcp::endpoint ep{asio::ip::make_address(i.opts.address), i.opts.port};
  i.acceptor.open(ep.protocol());
  i.acceptor.set_option(asio::socket_base::reuse_address(true));
  i.acceptor.bind(ep);
  i.acceptor.listen(asio::socket_base::max_listen_connections);
  i.port = i.acceptor.local_endpoint().port();
  i.max_connections = static_cast<int>(std::max(1U, i.opts.max_connections));
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
    i.max_connections = std::max(1, std::min(i.max_connections, static_cast<int>(rl.rlim_cur / 2)));
  i.pool = std::make_unique<asio::thread_pool>(std::max(1U, i.opts.workers));
  i.work.emplace(asio::make_work_guard(i.ioc));
  i.started = true;
  asio::post(i.ioc, [&i] { i.do_accept(); });
  for (unsigned n = 0; n < std::max(1U, i.opts.io_threads); ++n) i.io.emplace_back([&i] { i.run_io(); });
}

void HttpServer::stop() {
  auto& i = *impl_;
  if (!i.started || i.stopping.exchange(true)) return;
  asio::post(i.ioc, [&i] {
    beast::error_code ec;
    i.acceptor.close(ec);
    i.backoff.cancel();
  });
  // Collected under the lock, released outside it: the last reference may destroy a session,
  // whose destructor takes the lock.
  std::vector<std::shared_ptr<ServerSession>> open;
  {
    std::lock_guard l(i.mu);
    for (auto& [_, w] : i.live)
      if (auto s = w.lock()) open.push_back(std::move(s));
  }
  for (auto& s : open) asio::post(s->executor(), [s] { s->close(); });
  open.clear();
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (i.sessions.load() > 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  i.work.reset();
  i.ioc.stop();
  for (auto& t : i.io)
    if (t.joinable()) t.join();
  i.pool->join();
}

uint16_t HttpServer::port() const { return impl_->port; }
std::string HttpServer::base_url() const {
  std::string host = impl_->opts.address == "0.0.0.0" ? "127.0.0.1" : impl_->opts.address;
  return "http://" + host + ":" + std::to_string(impl_->port);
}

}  // namespace amlops::net
