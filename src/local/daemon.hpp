// One amlops-local server per data directory: its lock (DATA/server.lock, held for the server's
// lifetime; the kernel drops it when the process dies, even by kill -9), its record
// (DATA/server.json: pid, port, url, identities) and the background start and stop of a server.
#pragma once
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/json.hpp"
#include "core/time.hpp"

namespace amlops::local {

// The URL clients use for a server bound to `address`: IPv6 addresses in brackets
// (http://[::1]:8080), a wildcard address as the loopback address of its family.
std::string server_url(const std::string& address, uint16_t port);

struct ServerInfo {
  int64_t pid = 0;
  int64_t port = 0;
  std::string url;
};

// DATA/server.json when it is readable and complete, else nullopt (a partial or stale file is not an error).
std::optional<ServerInfo> read_server_info(const std::filesystem::path& data);
// Writes DATA/server.json (owner-only: it names the tenant and client of the server).
void write_server_info(const std::filesystem::path& data, const json::Value& info);
void remove_server_info(const std::filesystem::path& data);

// True while the process exists and is not a zombie (a killed daemon waits for init to reap it).
bool process_alive(int64_t pid);

// True while some process holds DATA/server.lock.
bool server_lock_held(const std::filesystem::path& data);

// The server of DATA when one runs: server.json names a live process and the lock is held.
// server.json alone is no proof: it outlives a killed server, and its pid may since belong to
// an unrelated process.
std::optional<ServerInfo> running_server(const std::filesystem::path& data);

// The exclusive lock of DATA/server.lock for this process's lifetime (released on destruction).
class ServerLock {
 public:
  // Throws UsageError naming the running server when another process holds it.
  explicit ServerLock(const std::filesystem::path& data);
  ~ServerLock();
  ServerLock(const ServerLock&) = delete;
  ServerLock& operator=(const ServerLock&) = delete;

 private:
  int fd_ = -1;
};

// Starts `argv` (a foreground `serve`) detached in its own process group, stdout and stderr to
// DATA/server.log, and waits until it has written server.json and `ready` says it answers.
// Throws UsageError (with the end of the log) when it exits first, TimeoutError after `timeout`
// (the child is killed). The child outlives this process.
ServerInfo start_daemon(const std::vector<std::string>& argv, const std::filesystem::path& data,
                        const std::function<bool(const ServerInfo&)>& ready,
                        Duration timeout = std::chrono::seconds(30));

struct StopResult {
  ServerInfo info;
  bool killed = false;  // it did not stop within the timeout and got SIGKILL
};
// SIGTERM to the server of DATA, SIGKILL after `timeout`; nullopt when none runs.
std::optional<StopResult> stop_server(const std::filesystem::path& data, Duration timeout);

}  // namespace amlops::local
