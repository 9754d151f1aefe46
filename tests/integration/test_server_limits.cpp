// The server stays bounded and answering under hostile clients: half-sent requests, uploads it
// rejects on their headers, and running out of file descriptors. Loopback only; counts and
// bounds here, speed in bench/server.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "net/server.hpp"

using namespace amlops;
using namespace amlops::net;
using namespace std::chrono_literals;

namespace {

int connect_to(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

bool send_all(int fd, const std::string& s) {
  size_t off = 0;
  while (off < s.size()) {
    ssize_t n = ::send(fd, s.data() + off, s.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

// Reads until the peer closes or `limit` passes (a hang guard, not a speed assertion).
std::string read_until_close(int fd, std::chrono::milliseconds limit = 10s) {
  std::string out;
  auto end = std::chrono::steady_clock::now() + limit;
  char buf[4096];
  while (std::chrono::steady_clock::now() < end) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

// One GET on a fresh connection; the status line's code, or 0.
int get_status(uint16_t port, const std::string& path = "/ping") {
  int fd = connect_to(port);
  if (fd < 0) return 0;
  send_all(fd, "GET " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  std::string r = read_until_close(fd);
  ::close(fd);
  if (r.rfind("HTTP/1.1 ", 0) != 0) return 0;
  return std::stoi(r.substr(9, 3));
}

size_t thread_count() {
  size_t n = 0;
  for ([[maybe_unused]] auto& e : std::filesystem::directory_iterator("/proc/self/task")) ++n;
  return n;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(server_limits)

BOOST_AUTO_TEST_CASE(half_sent_requests_take_no_threads_and_the_server_keeps_answering) {
  ServerOptions o;
  o.workers = 2;
  o.max_connections = 100;  // fewer than the half-sent requests: the oldest make room
  HttpServer server([](const ServerRequest&) { return ServerResponse::text(200, "pong"); }, o);
  server.start();
  BOOST_TEST_REQUIRE(get_status(server.port()) == 200);
  size_t before = thread_count();
  std::vector<int> fds;
  for (int i = 0; i < 300; ++i) {  // 150 times the worker pool
    int fd = connect_to(server.port());
    BOOST_TEST_REQUIRE(fd >= 0);
    send_all(fd, "PUT /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\nX-Half: ");
    fds.push_back(fd);
  }
  for (int i = 0; i < 50; ++i) {  // and complete headers with a half-sent body
    int fd = connect_to(server.port());
    BOOST_TEST_REQUIRE(fd >= 0);
    send_all(fd, "PUT /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc");
    fds.push_back(fd);
  }
  BOOST_TEST(get_status(server.port()) == 200);
  BOOST_TEST(thread_count() <= before + 1, "threads before " << before << ", after " << thread_count());
  for (int fd : fds) ::close(fd);
}

BOOST_AUTO_TEST_CASE(a_half_sent_header_is_dropped_after_the_header_timeout) {
  ServerOptions o;
  o.header_timeout = 300ms;
  HttpServer server([](const ServerRequest&) { return ServerResponse::text(200, "pong"); }, o);
  server.start();
  int fd = connect_to(server.port());
  send_all(fd, "GET /ping HTTP/1.1\r\nHost: x\r\n");
  std::string r = read_until_close(fd, 20s);  // returns when the server closes
  BOOST_TEST(r.empty());
  pollfd p{fd, POLLIN, 0};
  BOOST_TEST(::poll(&p, 1, 0) == 1);  // closed (readable at EOF), not still waiting
  ::close(fd);
}

BOOST_AUTO_TEST_CASE(on_headers_rejects_before_the_body_is_read) {
  std::atomic<int> handled{0};
  std::atomic<int> hooked{0};
  ServerOptions o;
  o.on_headers = [&](const ServerRequest& h) -> std::optional<ServerResponse> {
    ++hooked;
    BOOST_TEST(h.body.empty());
    if (h.header("authorization") != std::optional<std::string>("Bearer good"))
      return ServerResponse::json(401, R"({"error":{"code":"AuthenticationFailed"}})");
    return std::nullopt;
  };
  HttpServer server(
      [&](const ServerRequest& r) {
        ++handled;
        return ServerResponse::text(200, std::to_string(r.body.size()));
      },
      o);
  server.start();
  // A 500 MB upload announced, none of its body sent: the answer comes anyway.
  int fd = connect_to(server.port());
  send_all(fd, "PUT /blob HTTP/1.1\r\nHost: x\r\nContent-Length: 524288000\r\n\r\n");
  std::string r = read_until_close(fd);
  ::close(fd);
  BOOST_TEST(r.rfind("HTTP/1.1 401", 0) == 0u, r);
  BOOST_TEST(r.find("Connection: close") != std::string::npos, r);
  BOOST_TEST(handled == 0);
  // With the token the body is read and handled.
  fd = connect_to(server.port());
  send_all(fd,
           "PUT /blob HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer good\r\nContent-Length: 5\r\n"
           "Connection: close\r\n\r\nhello");
  r = read_until_close(fd);
  ::close(fd);
  BOOST_TEST(r.rfind("HTTP/1.1 200", 0) == 0u, r);
  BOOST_TEST(r.substr(r.size() - 1) == "5");
  BOOST_TEST(handled == 1);
  BOOST_TEST(hooked == 2);
}

BOOST_AUTO_TEST_CASE(body_over_the_limit_is_refused_on_its_length) {
  std::atomic<int> handled{0};
  ServerOptions o;
  o.max_body = 1000;
  HttpServer server(
      [&](const ServerRequest&) {
        ++handled;
        return ServerResponse::text(200, "");
      },
      o);
  server.start();
  int fd = connect_to(server.port());
  send_all(fd, "PUT /blob HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n");
  std::string r = read_until_close(fd);
  ::close(fd);
  BOOST_TEST(r.rfind("HTTP/1.1 413", 0) == 0u, r);
  BOOST_TEST(handled == 0);
}

BOOST_AUTO_TEST_CASE(out_of_descriptors_the_server_backs_off_and_survives) {
  // In a child process, so that the lowered limit stays there.
  int ready[2], done[2];
  BOOST_TEST_REQUIRE(::pipe(ready) == 0);
  BOOST_TEST_REQUIRE(::pipe(done) == 0);
  pid_t pid = ::fork();
  if (pid == 0) {
    int code = 0;
    try {
      HttpServer server([](const ServerRequest&) { return ServerResponse::text(200, "pong"); });
      server.start();
      // Room for a few connections only.
      int probe = ::dup(0);
      rlimit rl{};
      ::getrlimit(RLIMIT_NOFILE, &rl);
      rl.rlim_cur = static_cast<rlim_t>(probe + 6);
      ::close(probe);
      ::setrlimit(RLIMIT_NOFILE, &rl);
      uint16_t port = server.port();
      if (::write(ready[1], &port, sizeof port) != sizeof port) ::_exit(97);
      char c;
      if (::read(done[0], &c, 1) != 1) ::_exit(98);
      server.stop();
    } catch (...) {
      code = 3;
    }
    ::_exit(code);
  }
  uint16_t port = 0;
  BOOST_TEST_REQUIRE(::read(ready[0], &port, sizeof port) == static_cast<ssize_t>(sizeof port));
  // Far more connections than the child has descriptors; they wait in the backlog.
  std::vector<int> fds;
  for (int i = 0; i < 40; ++i) {
    int fd = connect_to(port);
    if (fd >= 0) {
      send_all(fd, "GET /ping HTTP/1.1\r\nHost: x\r\n");  // half-sent: they stay open
      fds.push_back(fd);
    }
  }
  std::this_thread::sleep_for(300ms);  // the accept loop meets EMFILE meanwhile
  for (int fd : fds) ::close(fd);
  // Still serving once descriptors free up (retried for a bounded while).
  int status = 0;
  for (int i = 0; i < 100 && status != 200; ++i) {
    status = get_status(port);
    if (status != 200) std::this_thread::sleep_for(100ms);
  }
  BOOST_TEST(status == 200);
  BOOST_TEST(::write(done[1], "x", 1) == 1);
  int ws = 0;
  for (int i = 0; i < 2000 && ::waitpid(pid, &ws, WNOHANG) == 0; ++i) std::this_thread::sleep_for(10ms);
  if (::waitpid(pid, &ws, WNOHANG) == 0) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &ws, 0);
  }
  BOOST_TEST(WIFEXITED(ws));
  BOOST_TEST(WEXITSTATUS(ws) == 0);
  for (int f : {ready[0], ready[1], done[0], done[1]}) ::close(f);
}

BOOST_AUTO_TEST_SUITE_END()
