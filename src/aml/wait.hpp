// Following a job: waiting (with cancel on timeout and on SIGINT/SIGTERM), streaming its logs
// through a cursor that survives partial lines and servers that ignore Range, and its result.
#pragma once
#include <iosfwd>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "azure/workspace.hpp"
#include "ci/host.hpp"
#include "core/json.hpp"
#include "core/time.hpp"

namespace amlops::aml {

// Where a wait reports: the clock it sleeps on, the CI host (status line, log groups) and the
// stream that receives the job's log lines.
struct Reporter {
  Clock& clock;
  ci::Host& host;
  std::ostream& logs;
};

struct WaitOptions {
  std::optional<Duration> timeout;
  bool stream = false;
  bool cancel_on_timeout = true;
  bool cancel_on_interrupt = true;
  Duration poll_min = std::chrono::milliseconds(500);
  Duration poll_max = std::chrono::seconds(10);
};

struct JobResult {
  std::string name;
  std::string status;
  std::string studio_url;
  std::map<std::string, double> metrics;
  double duration_s = 0;
  std::string error;  // why it failed, "<code>: <message>" (run history), empty when none
};

// The job, or UsageError "job N not found in workspace W".
json::Document require_job(azure::Workspace& ws, const std::string& name);
std::string studio_url(const json::Value& job);
std::string job_status(const json::Value& job);  // "Unknown" when absent
// The error of a run's details ({"error": {"error": {"code", "message"}}}): "<code>: <message>".
std::string run_error(const json::Value& details);
// Status, studio URL, metrics (MLflow), duration and error (run history) of a job.
JobResult describe_job(azure::Workspace& ws, const std::string& name, const json::Value& job);

// Polls until the job is terminal, streaming logs when asked. Timeout: cancels (unless told not
// to) and throws TimeoutError; SIGINT/SIGTERM: cancels and throws InterruptedError.
JobResult wait_job(Reporter& rep, azure::Workspace& ws, const std::string& name, const WaitOptions& opts);
// Prints the job's logs once (or follows them until the job ends) to rep.logs.
void print_logs(Reporter& rep, azure::Workspace& ws, const std::string& name, bool follow);
// Cancels and waits (at most 60 s) for a terminal state.
void cancel_and_settle(Clock& clock, azure::Workspace& ws, const std::string& name);

// Which of a run's log files are its output streams (azureml-rest.md §5.2).
bool is_streamed_log(const std::string& log_name);

// Read positions of a job's log files and their unfinished last lines.
class LogCursor {
 public:
  // Where the next read of `key` starts.
  [[nodiscard]] uint64_t offset(const std::string& key) const;
  // The answer to a read of `key` from offset(key): 206 with the new bytes, or 200 with the
  // whole file (a server that ignores Range; what was already seen is skipped). Returns the
  // complete new lines, without their '\n'; an unfinished line waits for the next read.
  std::vector<std::string> feed(const std::string& key, int status, const std::string& body);
  // The unfinished lines, at the end of the job.
  std::vector<std::string> flush();

 private:
  std::map<std::string, uint64_t> offsets_;
  std::map<std::string, std::string> partial_;
};

}  // namespace amlops::aml
