#include "net/server.hpp"

#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <condition_variable>
#include <fstream>
#include <mutex>
#include <set>
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

struct HttpServer::Impl {
  Handler handler;
  ServerOptions opts;
  asio::io_context ioc;
  tcp::acceptor acceptor{ioc};
  std::thread accept_thread;
  std::atomic<bool> stopping{false};
  std::atomic<bool> started{false};
  uint16_t port = 0;
  std::mutex mu;
  std::condition_variable cv;
  int active = 0;
  std::set<tcp::socket*> sockets;

  void accept_loop() {
    while (!stopping) {
      auto sock = std::make_unique<tcp::socket>(ioc);
      beast::error_code ec;
      acceptor.accept(*sock, ec);
      if (stopping) break;
      if (ec) continue;
      // Responses go out as header + body writes: without TCP_NODELAY, Nagle holds the second
      // until the client's delayed ACK (40 ms per request on a kept-alive connection).
      sock->set_option(tcp::no_delay(true), ec);
      std::lock_guard lock(mu);
      ++active;
      sockets.insert(sock.get());
      std::thread([this, s = sock.release()]() mutable {
        std::unique_ptr<tcp::socket> owned(s);
        serve(*owned);
        std::lock_guard l(mu);
        sockets.erase(owned.get());
        --active;
        cv.notify_all();
      }).detach();
    }
  }

  static ServerRequest convert(const http::request<http::string_body>& req, const tcp::socket& sock) {
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
    sr.body = req.body();
    beast::error_code ec;
    auto ep = sock.remote_endpoint(ec);
    if (!ec) sr.peer = ep.address().to_string();
    return sr;
  }

  bool sleep_unless_stopping(Duration d) {
    auto end = std::chrono::steady_clock::now() + d;
    while (std::chrono::steady_clock::now() < end) {
      if (stopping) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return true;
  }

  void serve(tcp::socket& sock) {
    beast::flat_buffer buf;
    beast::error_code ec;
    while (!stopping) {
      http::request_parser<http::string_body> parser;
      parser.body_limit(opts.max_body);
      parser.header_limit(64 * 1024);
      http::read(sock, buf, parser, ec);
      if (ec) {
        if (ec == http::error::body_limit) {
          http::response<http::string_body> res{http::status::payload_too_large, 11};
          res.body() = "request body too large";
          res.prepare_payload();
          http::write(sock, res, ec);
        }
        break;
      }
      auto& req = parser.get();
      ServerRequest sr = convert(req, sock);
      ServerResponse resp;
      try {
        resp = handler(sr);
      } catch (const std::exception& e) {
        log::error("server: ", sr.method, " ", sr.path, ": ", e.what());
        resp = ServerResponse::json(500, R"({"error":{"code":"InternalServerError","message":"internal error"}})");
      }
      if (resp.fault == ServerResponse::Fault::reset) {
        sock.set_option(asio::socket_base::linger(true, 0), ec);
        sock.close(ec);
        return;
      }
      bool head = req.method() == http::verb::head;
      http::response<http::empty_body> res{static_cast<http::status>(resp.status), req.version()};
      bool has_length = false;
      for (auto& [k, v] : resp.headers) {
        if (str::iequals(k, "content-length")) has_length = true;
        res.insert(k, v);
      }
      uint64_t body_len = resp.body.size();
      std::ifstream file;
      if (resp.file) {
        file.open(*resp.file, std::ios::binary);
        std::error_code fec;
        uint64_t size = std::filesystem::file_size(*resp.file, fec);
        if (!file || fec) {
          resp.file.reset();
          body_len = 0;
        } else {
          uint64_t off = std::min(resp.file_offset, size);
          body_len = resp.file_length ? std::min(*resp.file_length, size - off) : size - off;
          file.seekg(static_cast<std::streamoff>(off));
        }
      }
      if (!has_length && resp.status != 204 && resp.status != 304) res.content_length(body_len);
      res.keep_alive(req.keep_alive());
      http::response_serializer<http::empty_body> ser{res};
      http::write_header(sock, ser, ec);
      if (ec) break;
      if (resp.fault == ServerResponse::Fault::slow && !sleep_unless_stopping(resp.slow_for)) break;
      if (!head) {
        if (resp.file) {
          char chunk[65536];
          uint64_t left = body_len;
          while (left > 0 && !ec) {
            file.read(chunk, static_cast<std::streamsize>(std::min<uint64_t>(left, sizeof chunk)));
            auto got = static_cast<size_t>(file.gcount());
            if (got == 0) break;
            asio::write(sock, asio::buffer(chunk, got), ec);
            left -= got;
          }
        } else if (!resp.body.empty()) {
          asio::write(sock, asio::buffer(resp.body), ec);
        }
      }
      if (ec || !req.keep_alive()) break;
    }
    sock.shutdown(tcp::socket::shutdown_both, ec);
    sock.close(ec);
  }
};

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
  i.started = true;
  i.accept_thread = std::thread([&i] { i.accept_loop(); });
}

void HttpServer::stop() {
  auto& i = *impl_;
  if (!i.started || i.stopping.exchange(true)) return;
  // Wake the blocking accept with a connection of our own.
  {
    beast::error_code ec;
    asio::io_context ioc;
    tcp::socket s(ioc);
    s.connect({asio::ip::make_address(i.opts.address == "0.0.0.0" ? "127.0.0.1" : i.opts.address), i.port}, ec);
  }
  if (i.accept_thread.joinable()) i.accept_thread.join();
  beast::error_code ec;
  i.acceptor.close(ec);
  std::unique_lock lock(i.mu);
  for (auto* s : i.sockets) s->shutdown(tcp::socket::shutdown_both, ec);
  i.cv.wait_for(lock, std::chrono::seconds(10), [&] { return i.active == 0; });
}

uint16_t HttpServer::port() const { return impl_->port; }
std::string HttpServer::base_url() const {
  std::string host = impl_->opts.address == "0.0.0.0" ? "127.0.0.1" : impl_->opts.address;
  return "http://" + host + ":" + std::to_string(impl_->port);
}

}  // namespace amlops::net
