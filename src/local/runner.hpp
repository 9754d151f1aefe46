// The job runner: command jobs as local processes (own process group, /bin/sh -c with inputs
// passed to the shell through environment variables), pipelines as a DAG of child command jobs, sweeps as
// trials over a search space. One scheduler thread drives every job through the state machine
// kept in the store (NotStarted, Queued, Preparing, Running, Finalizing, Completed | Failed |
// CancelRequested -> Canceled).
#pragma once
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/json.hpp"
#include "core/process.hpp"
#include "local/pipeline.hpp"
#include "local/substitute.hpp"
#include "local/sweep.hpp"

namespace amlops::local {

class App;
struct SqlRow;

class Runner {
 public:
  explicit Runner(App& app);
  ~Runner();
  Runner(const Runner&) = delete;
  Runner& operator=(const Runner&) = delete;

  static bool terminal(const std::string& status);

  // Marks every job left non-terminal by a previous process Failed (and kills its process group).
  void recover();
  void start();
  void stop(const std::string& reason);
  // One scheduling pass (the thread calls it every tick; tests may call it directly).
  void tick();

  // Inserts a job from a request body {"properties":{...}}; returns the rendered resource.
  std::string create_job(const std::string& ws, const std::string& name, const json::Value& body,
                         const std::optional<std::string>& parent);
  void request_cancel(const std::string& ws, const std::string& name);
  // Runs the next scheduling pass now (a job was submitted or canceled).
  void wake();

 private:
  struct Proc {
    process::Child child;
    std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
    std::optional<std::chrono::steady_clock::time_point> kill_at;
    bool timed_out = false;
    bool canceled = false;
    std::string timeout_text;
    std::string compute;  // the compute whose maxNodeCount bounds this job with others ("" = none)
  };
  struct JobRow {
    std::string ws, name, parent, type, status, body;
    bool cancel = false;
    int64_t started = 0;
  };

  void step_command(const JobRow& j);
  void step_pipeline(const JobRow& j);
  void step_sweep(const JobRow& j);
  void launch(const JobRow& j);
  void finalize(const JobRow& j, Proc& p, int exit_code);
  void set_status(const JobRow& j, const std::string& status);
  void finish(const std::string& ws, const std::string& name, const std::string& status, const std::string& code = {},
              const std::string& message = {});
  // Registers each output with assetName of a completed job as an asset version (output_assets.cpp).
  void register_output_assets(const std::string& ws, const std::string& job);
  void append_log(const std::string& ws, const std::string& name, const std::string& line,
                  const std::string& file = {});
  void update_body(const std::string& ws, const std::string& name, const std::function<void(json::Document&)>& fn);
  int running_processes() const { return static_cast<int>(procs_.size()); }
  std::vector<JobRow> children(const std::string& ws, const std::string& parent);
  // How many of `kids` have not ended; and a cancel request for each that has not (pipelines, sweeps).
  static int running(const std::vector<JobRow>& kids);
  void cancel_running(const std::vector<JobRow>& kids);

  App& app_;
  std::map<std::string, Proc> procs_;  // "ws/name" -> running process
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  std::mutex tick_mu_;
  std::mutex wake_mu_;
  std::condition_variable wake_cv_;
  bool woken_ = false;
};

}  // namespace amlops::local
