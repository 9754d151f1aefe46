// Child processes: spawned with an argv (never through a shell unless asked), optionally in
// their own process group so that a whole tree can be signalled, with signal forwarding.
#pragma once
#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/time.hpp"

namespace amlops::process {

struct SpawnOptions {
  std::filesystem::path cwd;                              // empty: inherit
  std::optional<std::map<std::string, std::string>> env;  // replaces the environment when set
  std::map<std::string, std::string> env_add;             // added on top (of env or the current one)
  std::filesystem::path stdout_file;                      // append stdout here (empty: inherit or capture)
  bool merge_stderr = true;                               // stderr to the same file as stdout
  bool new_process_group = true;                          // so kill_tree reaches grandchildren
  bool forward_signals = false;                           // forward our SIGINT/SIGTERM to the group
  bool use_shell = false;                                 // argv[0] is a shell command line for /bin/sh -c
  bool capture = false;                                   // pipe stdout/stderr back (run_capture)
};

class Child {
 public:
  Child() = default;
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  Child(Child&& o) noexcept;
  Child& operator=(Child&& o) noexcept;
  ~Child();

  [[nodiscard]] pid_t pid() const { return pid_; }
  // Non-blocking: the exit code once the child ended (128+signal when killed), else nullopt.
  std::optional<int> poll();
  int wait();
  // Sends sig to the whole process group (or the child alone when it has none).
  void signal_tree(int sig);
  // SIGTERM, then SIGKILL after grace.
  void kill_tree(Duration grace = std::chrono::seconds(5));
  // Read ends of the captured stdout/stderr pipes (SpawnOptions::capture), else -1.
  [[nodiscard]] int stdout_fd() const { return out_fd_; }
  [[nodiscard]] int stderr_fd() const { return err_fd_; }

 private:
  friend Child spawn(const std::vector<std::string>&, const SpawnOptions&);
  pid_t pid_ = -1;
  bool own_group_ = false;
  bool forwarded_ = false;
  std::optional<int> status_;
  int out_fd_ = -1;
  int err_fd_ = -1;
};

Child spawn(const std::vector<std::string>& argv, const SpawnOptions& opts = {});

struct RunResult {
  int exit_code = -1;
  std::string out;
  std::string err;
  bool timed_out = false;
};
// Runs to completion, capturing stdout and stderr. On timeout the tree is killed.
RunResult run_capture(const std::vector<std::string>& argv, SpawnOptions opts = {},
                      std::optional<Duration> timeout = std::nullopt);

// Finds an executable on PATH (this process's, or the given PATH value).
std::optional<std::filesystem::path> which(const std::string& name);
std::optional<std::filesystem::path> which(const std::string& name, const std::string& path);

}  // namespace amlops::process
