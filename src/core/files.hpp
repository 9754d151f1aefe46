// File helpers: whole-file reads with clear errors, atomic writes, temporary directories.
#pragma once
#include <filesystem>
#include <string>
#include <string_view>

namespace amlops::files {

// Throws ConfigError("cannot read PATH: reason").
std::string read(const std::filesystem::path& path);
// Like read, for input a user hands us (YAML, policies): at most `max_bytes` (ConfigError naming
// the limit beyond), and interruptible: SIGINT/SIGTERM (signals::install) end the wait on a FIFO
// or a slow device with InterruptedError, even before a writer opens the FIFO.
std::string read_bounded(const std::filesystem::path& path, size_t max_bytes);
// Writes to PATH.tmp-XXXX, fsyncs, renames over PATH: readers see the old or the new file, never half.
void write_atomic(const std::filesystem::path& path, std::string_view content);
void append(const std::filesystem::path& path, std::string_view content);

// A directory removed on destruction.
class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "amlops");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  [[nodiscard]] const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// True when `path` (after normalisation) stays inside `root`: no "..", no absolute escape.
bool is_within(const std::filesystem::path& root, const std::filesystem::path& path);
// A relative path from a request or a name that may not contain "..", absolute parts or NULs.
bool is_safe_relative(std::string_view path);

}  // namespace amlops::files
