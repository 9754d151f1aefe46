#include "core/signals.hpp"

#include <atomic>
#include <csignal>

#include "core/error.hpp"

namespace amlops::signals {
namespace {
constexpr int kMaxGroups = 64;
std::atomic<int> g_signal{0};
std::atomic<pid_t> g_groups[kMaxGroups];
std::atomic<bool> g_installed{false};

void handler(int sig) {
  g_signal.store(sig);
  for (auto& g : g_groups) {
    pid_t pg = g.load();
    if (pg > 0) ::kill(-pg, sig);
  }
}
}  // namespace

void install() {
  if (g_installed.exchange(true)) return;
  struct sigaction sa {};
  sa.sa_handler = handler;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
}

bool interrupted() { return g_signal.load() != 0; }
int last_signal() { return g_signal.load(); }

void check() {
  if (interrupted())
    throw InterruptedError(g_signal.load() == SIGTERM ? "terminated (SIGTERM)" : "interrupted (SIGINT)");
}

void clear() { g_signal.store(0); }
void reset_for_tests() { clear(); }

void register_child_group(pid_t pgid) {
  for (auto& g : g_groups) {
    pid_t expected = 0;
    if (g.compare_exchange_strong(expected, pgid)) return;
  }
}

void unregister_child_group(pid_t pgid) {
  for (auto& g : g_groups) {
    pid_t expected = pgid;
    if (g.compare_exchange_strong(expected, 0)) return;
  }
}

}  // namespace amlops::signals
