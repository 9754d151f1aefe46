#include "core/process.hpp"

#include <fcntl.h>
#include <linux/close_range.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <thread>

#include "core/env.hpp"
#include "core/error.hpp"
#include "core/signals.hpp"
#include "core/strings.hpp"

namespace amlops::process {
namespace {

int decode_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

}  // namespace

Child::Child(Child&& o) noexcept { *this = std::move(o); }

Child& Child::operator=(Child&& o) noexcept {
  std::swap(pid_, o.pid_);
  std::swap(own_group_, o.own_group_);
  std::swap(forwarded_, o.forwarded_);
  std::swap(status_, o.status_);
  std::swap(out_fd_, o.out_fd_);
  std::swap(err_fd_, o.err_fd_);
  return *this;
}

Child::~Child() {
  if (out_fd_ >= 0) ::close(out_fd_);
  if (err_fd_ >= 0) ::close(err_fd_);
  if (pid_ > 0 && !status_) {
    // Never leave a zombie or an orphaned tree behind.
    kill_tree(std::chrono::milliseconds(200));
  }
  if (forwarded_) signals::unregister_child_group(pid_);
}

std::optional<int> Child::poll() {
  if (status_) return status_;
  if (pid_ <= 0) return std::nullopt;
  int st = 0;
  pid_t r = ::waitpid(pid_, &st, WNOHANG);
  if (r == pid_) status_ = decode_status(st);
  return status_;
}

int Child::wait() {
  if (status_) return *status_;
  int st = 0;
  while (::waitpid(pid_, &st, 0) < 0) {
    if (errno != EINTR) return -1;
  }
  status_ = decode_status(st);
  return *status_;
}

void Child::signal_tree(int sig) {
  if (pid_ <= 0 || status_) return;
  if (own_group_)
    ::kill(-pid_, sig);
  else
    ::kill(pid_, sig);
}

void Child::kill_tree(Duration grace) {
  if (pid_ <= 0) return;
  if (!poll()) {
    signal_tree(SIGTERM);
    auto end = std::chrono::steady_clock::now() + grace;
    while (!poll() && std::chrono::steady_clock::now() < end)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  // Grandchildren may outlive the leader: the group gets SIGKILL either way.
  if (own_group_) ::kill(-pid_, SIGKILL);
  if (!poll()) {
    ::kill(pid_, SIGKILL);
    wait();
  }
}

Child spawn(const std::vector<std::string>& argv_in, const SpawnOptions& opts) {
  if (argv_in.empty()) throw UsageError("spawn: empty command");
  std::vector<std::string> argv = argv_in;
  if (opts.use_shell) argv = {"/bin/sh", "-c", str::join(argv_in, " ")};

  // Everything is prepared before fork: the child only calls async-signal-safe functions.
  std::map<std::string, std::string> env = opts.env ? *opts.env : process_env().all();
  for (auto& [k, v] : opts.env_add) env[k] = v;
  std::vector<std::string> env_strings;
  env_strings.reserve(env.size());
  for (auto& [k, v] : env) env_strings.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<char*> args;
  for (auto& s : argv) args.push_back(const_cast<char*>(s.c_str()));
  args.push_back(nullptr);

  // The executable is resolved against the parent's PATH unless it names a path.
  std::string exe = argv[0];
  if (exe.find('/') == std::string::npos) {
    auto found = which(exe);
    if (!found) throw UsageError("command not found: " + exe);
    exe = found->string();
  }

  int out_fd = -1;
  if (!opts.stdout_file.empty()) {
    out_fd = ::open(opts.stdout_file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (out_fd < 0) throw ConfigError("cannot open " + opts.stdout_file.string() + ": " + std::strerror(errno));
  }
  int out_pipe[2] = {-1, -1};
  int err_pipe[2] = {-1, -1};
  if (opts.capture) {
    if (::pipe2(out_pipe, O_CLOEXEC) != 0 || ::pipe2(err_pipe, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
  }
  int err_cwd = 0;
  const std::string cwd = opts.cwd.string();
  int exec_err[2];
  if (::pipe2(exec_err, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");

  pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error(std::string("fork failed: ") + std::strerror(errno));
  if (pid == 0) {
    if (opts.new_process_group) ::setpgid(0, 0);
    // Restore default dispositions the parent may have changed.
    ::signal(SIGINT, SIG_DFL);
    ::signal(SIGTERM, SIG_DFL);
    ::signal(SIGPIPE, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    int devnull = ::open("/dev/null", O_RDONLY);
    if (devnull >= 0) ::dup2(devnull, 0);
    if (out_fd >= 0) {
      ::dup2(out_fd, 1);
      if (opts.merge_stderr) ::dup2(out_fd, 2);
    }
    if (opts.capture) {
      ::dup2(out_pipe[1], 1);
      ::dup2(err_pipe[1], 2);
    }
    if (!cwd.empty() && ::chdir(cwd.c_str()) != 0) {
      err_cwd = errno;
      (void)!::write(exec_err[1], &err_cwd, sizeof err_cwd);
      ::_exit(127);
    }
    // Descriptors of the parent (sockets of a server, database files) never leak into the child:
    // everything above stderr closes at exec (the exec-error pipe still reports a failed exec).
    ::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
    ::execve(exe.c_str(), args.data(), envp.data());
    int e = errno;
    (void)!::write(exec_err[1], &e, sizeof e);
    ::_exit(127);
  }
  if (opts.new_process_group) ::setpgid(pid, pid);  // also in the parent: no race with kill
  ::close(exec_err[1]);
  if (out_fd >= 0) ::close(out_fd);
  int child_errno = 0;
  ssize_t n = ::read(exec_err[0], &child_errno, sizeof child_errno);
  ::close(exec_err[0]);

  Child c;
  c.pid_ = pid;
  c.own_group_ = opts.new_process_group;
  if (opts.capture) {
    ::close(out_pipe[1]);
    ::close(err_pipe[1]);
    c.out_fd_ = out_pipe[0];
    c.err_fd_ = err_pipe[0];
  }
  if (n == static_cast<ssize_t>(sizeof child_errno)) {
    c.wait();
    throw UsageError("cannot run " + argv[0] + (cwd.empty() ? "" : " in " + cwd) + ": " + std::strerror(child_errno));
  }
  if (opts.forward_signals && opts.new_process_group) {
    signals::register_child_group(pid);
    c.forwarded_ = true;
  }
  return c;
}

RunResult run_capture(const std::vector<std::string>& argv, SpawnOptions opts, std::optional<Duration> timeout) {
  opts.capture = true;
  Child c = spawn(argv, opts);
  RunResult r;
  auto deadline = timeout ? std::chrono::steady_clock::now() + *timeout : std::chrono::steady_clock::time_point::max();
  pollfd fds[2] = {{c.stdout_fd(), POLLIN, 0}, {c.stderr_fd(), POLLIN, 0}};
  int open_fds = 2;
  char buf[65536];
  while (open_fds > 0) {
    int wait_ms = 200;
    if (timeout) {
      auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
      if (left <= 0) {
        r.timed_out = true;
        break;
      }
      wait_ms = static_cast<int>(std::min<long long>(left, 200));
    }
    int pr = ::poll(fds, 2, wait_ms);
    if (pr < 0 && errno != EINTR) break;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      ssize_t got = ::read(fds[i].fd, buf, sizeof buf);
      if (got > 0)
        (i == 0 ? r.out : r.err).append(buf, static_cast<size_t>(got));
      else {
        fds[i].fd = -1;
        --open_fds;
      }
    }
  }
  if (r.timed_out) {
    c.kill_tree(std::chrono::milliseconds(500));
    r.exit_code = c.wait();
  } else {
    r.exit_code = c.wait();
  }
  return r;
}

std::optional<std::filesystem::path> which(const std::string& name) {
  return which(name, process_env().get_or("PATH", "/usr/local/bin:/usr/bin:/bin"));
}

std::optional<std::filesystem::path> which(const std::string& name, const std::string& path) {
  if (name.find('/') != std::string::npos) {
    if (::access(name.c_str(), X_OK) == 0) return std::filesystem::path(name);
    return std::nullopt;
  }
  for (auto& dir : str::split(path, ':')) {
    if (dir.empty()) continue;
    std::filesystem::path p = std::filesystem::path(dir) / name;
    if (::access(p.c_str(), X_OK) == 0 && !std::filesystem::is_directory(p)) return p;
  }
  return std::nullopt;
}

}  // namespace amlops::process
