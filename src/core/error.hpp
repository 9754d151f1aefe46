// Typed errors and the one mapping from error to message and exit code.
#pragma once
#include <optional>
#include <stdexcept>
#include <string>

namespace amlops {

// Exit codes shared by every tool (ARCHITECTURE.md).
enum class ExitCode : int {
  ok = 0,
  failed = 1,        // the checked thing failed: job failed, gate blocked, drift found, lint errors
  usage = 2,         // usage or configuration error
  timeout = 3,       // timed out
  service = 4,       // service or network error after retries
  interrupted = 130  // SIGINT/SIGTERM
};

// A position in a user file: file:line:col (1-based; 0 = unknown).
struct SourceLocation {
  std::string file;
  int line = 0;
  int col = 0;
  [[nodiscard]] std::string str() const;
};

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
  [[nodiscard]] virtual ExitCode exit_code() const = 0;
};

class UsageError : public Error {
 public:
  using Error::Error;
  [[nodiscard]] ExitCode exit_code() const override { return ExitCode::usage; }
};

// Bad configuration or input file. With a location, what() reads "file:line:col: message".
class ConfigError : public Error {
 public:
  explicit ConfigError(const std::string& message);
  ConfigError(SourceLocation where, const std::string& message);
  [[nodiscard]] ExitCode exit_code() const override { return ExitCode::usage; }
  [[nodiscard]] const std::optional<SourceLocation>& location() const { return where_; }
  [[nodiscard]] const std::string& message() const { return message_; }

 private:
  std::optional<SourceLocation> where_;
  std::string message_;
};

// A service answered with an error after retries, or could not be reached.
class HttpError : public Error {
 public:
  HttpError(int status, const std::string& message, std::string code = {}, std::string correlation_id = {});
  [[nodiscard]] ExitCode exit_code() const override { return ExitCode::service; }
  [[nodiscard]] int status() const { return status_; }  // 0 = no HTTP answer (connection error)
  [[nodiscard]] const std::string& code() const { return code_; }
  [[nodiscard]] const std::string& correlation_id() const { return correlation_id_; }

 private:
  int status_;
  std::string code_;
  std::string correlation_id_;
};

class GitError : public Error {
 public:
  using Error::Error;
  [[nodiscard]] ExitCode exit_code() const override { return ExitCode::usage; }
};

class TimeoutError : public Error {
 public:
  using Error::Error;
  [[nodiscard]] ExitCode exit_code() const override { return ExitCode::timeout; }
};

class InterruptedError : public Error {
 public:
  InterruptedError() : Error("interrupted") {}
  using Error::Error;
  [[nodiscard]] ExitCode exit_code() const override { return ExitCode::interrupted; }
};

// The thing checked failed (job failed, gate blocked...). The message is the reason.
class CheckFailed : public Error {
 public:
  using Error::Error;
  [[nodiscard]] ExitCode exit_code() const override { return ExitCode::failed; }
};

// Maps any exception to (exit code, one-line message). The one place that does so.
struct ErrorReport {
  ExitCode code;
  std::string message;
};
ErrorReport describe_error(const std::exception& e);

}  // namespace amlops
