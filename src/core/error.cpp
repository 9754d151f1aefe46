#include "core/error.hpp"

namespace amlops {

std::string SourceLocation::str() const {
  std::string s = file.empty() ? std::string("<input>") : file;
  if (line > 0) {
    s += ":" + std::to_string(line);
    if (col > 0) s += ":" + std::to_string(col);
  }
  return s;
}

ConfigError::ConfigError(const std::string& message) : Error(message), message_(message) {}

ConfigError::ConfigError(SourceLocation where, const std::string& message)
    : Error(where.str() + ": " + message), where_(std::move(where)), message_(message) {}

HttpError::HttpError(int status, const std::string& message, std::string code, std::string correlation_id)
    : Error(message), status_(status), code_(std::move(code)), correlation_id_(std::move(correlation_id)) {}

ErrorReport describe_error(const std::exception& e) {
  if (const auto* err = dynamic_cast<const Error*>(&e)) {
    std::string prefix;
    if (dynamic_cast<const UsageError*>(err))
      prefix = "usage: ";
    else if (dynamic_cast<const GitError*>(err))
      prefix = "git: ";
    else if (dynamic_cast<const TimeoutError*>(err))
      prefix = "timed out: ";
    std::string msg = prefix + err->what();
    if (const auto* http = dynamic_cast<const HttpError*>(err);
        http && !http->correlation_id().empty() && msg.find(http->correlation_id()) == std::string::npos) {
      msg += " (correlation id " + http->correlation_id() + ")";
    }
    return {err->exit_code(), msg};
  }
  if (dynamic_cast<const std::bad_alloc*>(&e)) return {ExitCode::service, "out of memory"};
  return {ExitCode::service, std::string("internal error: ") + e.what()};
}

}  // namespace amlops
