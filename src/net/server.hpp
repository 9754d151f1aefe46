// A small HTTP/1.1 server on Boost.Beast for amlops-local and for test servers: keep-alive, file
// bodies with Range, and injected faults (reset, slow body). It is the server side only: it
// knows nothing of the Azure ML contract.
//
// Bounded: sockets are read and written asynchronously by `io_threads` threads, with a deadline
// for the request header, an idle deadline for the body and for each write; only complete
// requests reach the handler, on a pool of `workers` threads. So half-sent requests cost a
// socket each, never a thread. At `max_connections` (at most half the descriptor limit) the
// connection that has waited longest for a request header is closed to make room (when all are
// busy with requests, the new one is closed); an accept error (EMFILE when out of descriptors)
// backs off and the server keeps serving.
// `on_headers` sees each request before its body is read and may answer it at once (a 401 for a
// missing or bad token): a rejected upload is never read.
#pragma once
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>  // before Boost 1.74 asio, which uses std::exchange without including it
#include <vector>

#include "core/time.hpp"

namespace amlops::net {

struct ServerRequest {
  std::string method;
  std::string target;                             // raw path + query as sent
  std::string path;                               // percent-decoded path
  std::multimap<std::string, std::string> query;  // decoded
  std::map<std::string, std::string> headers;     // names lower-cased
  std::string body;
  std::string peer;

  [[nodiscard]] std::optional<std::string> header(const std::string& lower_name) const;
  [[nodiscard]] std::optional<std::string> param(const std::string& name) const;  // first value
};

struct ServerResponse {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // Serve a file (or a byte range of it) instead of `body`.
  std::optional<std::filesystem::path> file;
  uint64_t file_offset = 0;
  std::optional<uint64_t> file_length;
  // Faults: reset closes the connection without answering; slow sends the headers and then
  // stalls for `slow_for` before the body.
  enum class Fault { none, reset, slow } fault = Fault::none;
  Duration slow_for{0};

  static ServerResponse json(int status, std::string body);
  static ServerResponse text(int status, std::string body);
  ServerResponse& header(std::string name, std::string value);
};

using Handler = std::function<ServerResponse(const ServerRequest&)>;
// Called on an I/O thread with the request's method, target, path, query, headers and peer (the
// body is empty, not yet read): return a response to answer at once without reading the body
// (the connection is then closed), or nullopt to go on. Keep it quick: no I/O, no locks held long.
using HeadersHook = std::function<std::optional<ServerResponse>(const ServerRequest& headers)>;

struct ServerOptions {
  std::string address = "127.0.0.1";
  uint16_t port = 0;                                   // 0: any free port
  uint64_t max_body = 512ULL * 1024 * 1024;            // larger bodies get 413 before they are read
  unsigned workers = 16;                               // threads running the handler
  unsigned io_threads = 1;                             // threads reading and writing sockets
  unsigned max_connections = 1024;                     // open connections; more are closed on accept
  Duration header_timeout = std::chrono::seconds(30);  // the whole request header, also between requests
  Duration body_timeout = std::chrono::seconds(60);    // without a byte of the body
  Duration write_timeout = std::chrono::seconds(60);   // without progress writing the response
  HeadersHook on_headers;
};

class HttpServer {
 public:
  HttpServer(Handler handler, ServerOptions opts = {});
  ~HttpServer();  // stops
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and starts accepting on a background thread. Throws on bind failure.
  void start();
  void stop();
  [[nodiscard]] uint16_t port() const;
  [[nodiscard]] std::string base_url() const;  // "http://127.0.0.1:PORT"

 private:
  friend class ServerSession;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace amlops::net
