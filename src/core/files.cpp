#include "core/files.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "core/error.hpp"
#include "core/signals.hpp"
#include "core/strings.hpp"

namespace amlops::files {

std::string read(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError("cannot read " + path.string() + ": " + std::strerror(errno));
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string read_bounded(const std::filesystem::path& path, size_t max_bytes) {
  auto too_big = [&] {
    return ConfigError(SourceLocation{path.string(), 1, 1},
                       "the file is larger than " + std::to_string(max_bytes) + " bytes, the limit for this input");
  };
  signals::check();
  // Non-blocking: opening a FIFO for reading would otherwise wait for a writer, and a blocking
  // read restarts after a signal (SA_RESTART); poll with a short timeout lets us look at the flag.
  int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) throw ConfigError("cannot read " + path.string() + ": " + std::strerror(errno));
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && static_cast<uint64_t>(st.st_size) > max_bytes) throw too_big();
  std::string out;
  char buf[65536];
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    int r = ::poll(&p, 1, 100);
    signals::check();
    if (r < 0 && errno != EINTR) throw ConfigError("cannot read " + path.string() + ": " + std::strerror(errno));
    if (r <= 0) continue;
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      throw ConfigError("cannot read " + path.string() + ": " + std::strerror(errno));
    }
    if (n == 0) break;
    if (out.size() + static_cast<size_t>(n) > max_bytes) throw too_big();
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

void write_atomic(const std::filesystem::path& path, std::string_view content) {
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path());
  std::string tmp = path.string() + ".tmp-" + str::random_hex(6);
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw ConfigError("cannot write " + path.string() + ": " + std::strerror(errno));
  const char* p = content.data();
  size_t left = content.size();
  while (left > 0) {
    ssize_t n = ::write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      throw ConfigError("cannot write " + path.string() + ": " + std::strerror(e));
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
  ::fsync(fd);
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int e = errno;
    ::unlink(tmp.c_str());
    throw ConfigError("cannot write " + path.string() + ": " + std::strerror(e));
  }
}

void append(const std::filesystem::path& path, std::string_view content) {
  std::ofstream out(path, std::ios::binary | std::ios::app);
  if (!out) throw ConfigError("cannot write " + path.string() + ": " + std::strerror(errno));
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
  if (!out) throw ConfigError("cannot write " + path.string());
}

TempDir::TempDir(const std::string& prefix) {
  std::string tmpl = (std::filesystem::temp_directory_path() / (prefix + "-XXXXXX")).string();
  if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed: " + std::string(std::strerror(errno)));
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

bool is_within(const std::filesystem::path& root, const std::filesystem::path& path) {
  auto r = root.lexically_normal();
  auto p = (path.is_absolute() ? path : root / path).lexically_normal();
  auto rel = p.lexically_relative(r);
  if (rel.empty()) return false;
  auto first = *rel.begin();
  return first != ".." && !rel.is_absolute();
}

bool is_safe_relative(std::string_view path) {
  if (path.empty() || path.front() == '/' || path.find('\0') != std::string_view::npos ||
      path.find('\\') != std::string_view::npos)
    return false;
  for (auto& part : str::split(path, '/')) {
    if (part == "..") return false;
  }
  return true;
}

}  // namespace amlops::files
