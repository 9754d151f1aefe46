// SIGINT/SIGTERM handling: a flag that waits poll, and forwarding to child process groups.
#pragma once
#include <sys/types.h>

namespace amlops::signals {

// Installs handlers for SIGINT and SIGTERM (idempotent). The handler records the signal and
// forwards it to every registered child process group.
void install();
bool interrupted();
int last_signal();
// Throws InterruptedError when a signal arrived.
void check();
// Acknowledges the signal so that cleanup (cancelling a remote job) can make its requests; a
// second signal sets the flag again.
void clear();
void reset_for_tests();
// Children started with forwarding register their process group here.
void register_child_group(pid_t pgid);
void unregister_child_group(pid_t pgid);

}  // namespace amlops::signals
