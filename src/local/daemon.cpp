#include "local/daemon.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <csignal>
#include <thread>

#include "core/error.hpp"
#include "core/files.hpp"
#include "core/process.hpp"

namespace amlops::local {

namespace fs = std::filesystem;

std::string server_url(const std::string& address, uint16_t port) {
  std::string host = address;
  if (host == "0.0.0.0") host = "127.0.0.1";
  if (host == "::") host = "::1";
  if (host.find(':') != std::string::npos) host = "[" + host + "]";
  return "http://" + host + ":" + std::to_string(port);
}

std::optional<ServerInfo> read_server_info(const fs::path& data) {
  auto file = data / "server.json";
  std::error_code ec;
  if (!fs::exists(file, ec)) return std::nullopt;
  try {
    auto d = json::parse(files::read(file), file.string());
    ServerInfo i;
    i.pid = json::get_int(d, "/pid", file.string());
    i.port = json::get_int(d, "/port", file.string());
    i.url = json::get_string(d, "/url", file.string());
    return i;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

void write_server_info(const fs::path& data, const json::Value& info) {
  auto file = data / "server.json";
  files::write_atomic(file, json::dump(info, true) + "\n");
  fs::permissions(file, fs::perms::owner_read | fs::perms::owner_write);
}

void remove_server_info(const fs::path& data) {
  std::error_code ec;
  fs::remove(data / "server.json", ec);
}

bool process_alive(int64_t pid) {
  if (pid <= 0 || ::kill(static_cast<pid_t>(pid), 0) != 0) return false;
  std::string text;
  try {
    text = files::read("/proc/" + std::to_string(pid) + "/stat");
  } catch (const std::exception&) {
    return true;  // no /proc: kill(0) is all we know
  }
  auto close = text.rfind(") ");
  return close == std::string::npos || text.substr(close + 2, 1) != "Z";
}

bool server_lock_held(const fs::path& data) {
  int fd = ::open((data / "server.lock").c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  bool held = ::flock(fd, LOCK_SH | LOCK_NB) != 0;
  ::close(fd);
  return held;
}

std::optional<ServerInfo> running_server(const fs::path& data) {
  auto info = read_server_info(data);
  if (!info || !process_alive(info->pid) || !server_lock_held(data)) return std::nullopt;
  return info;
}

ServerLock::ServerLock(const fs::path& data) {
  fd_ = ::open((data / "server.lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd_ < 0 || ::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    auto info = read_server_info(data);
    throw UsageError("amlops-local is already running for " + data.string() +
                     (info ? " (pid " + std::to_string(info->pid) + ", " + info->url + ")" : ""));
  }
}

ServerLock::~ServerLock() {
  if (fd_ >= 0) ::close(fd_);
}

ServerInfo start_daemon(const std::vector<std::string>& argv, const fs::path& data,
                        const std::function<bool(const ServerInfo&)>& ready, Duration timeout) {
  if (auto info = running_server(data))
    throw UsageError("amlops-local is already running for " + data.string() + " (pid " + std::to_string(info->pid) +
                     ", " + info->url + ")");
  remove_server_info(data);
  process::SpawnOptions so;
  so.stdout_file = data / "server.log";
  so.new_process_group = true;
  // The daemon outlives this process: its Child handle is deliberately never destroyed (the
  // destructor would stop it); a static list keeps every handle reachable, however often this
  // is called.
  static auto* daemon_handles = new std::vector<process::Child*>();
  daemon_handles->push_back(new process::Child(process::spawn(argv, so)));
  auto* child = daemon_handles->back();
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (auto code = child->poll()) {
      std::string tail;
      try {
        tail = files::read(data / "server.log");
      } catch (const std::exception&) {
      }
      if (tail.size() > 2000) tail = tail.substr(tail.size() - 2000);
      throw UsageError("amlops-local exited with code " + std::to_string(*code) + " while starting:\n" + tail);
    }
    if (auto info = read_server_info(data); info && info->pid == child->pid()) {
      bool up = false;
      try {
        up = ready(*info);
      } catch (const std::exception&) {
      }
      if (up) return *info;
    }
    if (std::chrono::steady_clock::now() > deadline) {
      child->signal_tree(SIGKILL);
      throw TimeoutError("amlops-local did not answer within " + format_duration(timeout) + " (see " +
                         (data / "server.log").string() + ")");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

std::optional<StopResult> stop_server(const fs::path& data, Duration timeout) {
  auto info = running_server(data);
  if (!info) return std::nullopt;
  StopResult r{*info, false};
  ::kill(static_cast<pid_t>(info->pid), SIGTERM);
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (process_alive(info->pid) && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  if (process_alive(info->pid)) {
    ::kill(static_cast<pid_t>(info->pid), SIGKILL);
    r.killed = true;
  }
  return r;
}

}  // namespace amlops::local
