#include "local/shims.hpp"

#include <unistd.h>

#include <fstream>

#include "core/strings.hpp"

namespace amlops::local {

namespace fs = std::filesystem;

std::optional<fs::path> find_in_path(const std::string& name, const std::string& path) {
  for (auto& dir : str::split(path, ':')) {
    if (dir.empty()) continue;
    fs::path p = fs::path(dir) / name;
    std::error_code ec;
    if (fs::is_regular_file(p, ec) && ::access(p.c_str(), X_OK) == 0) return p;
  }
  return std::nullopt;
}

std::string job_path(const fs::path& shim_dir, const EnvironmentMapping* mapping, const std::string& path) {
  std::string prefix = mapping ? mapping->path_prefix : std::string();
  std::string python = mapping ? mapping->python : std::string();
  bool mapped = !python.empty();
  if (!mapped) {
    // The prefix (a venv's bin, say) is searched first, so its own python is preferred.
    std::string search = prefix.empty() ? path : prefix + ":" + path;
    if (auto p = find_in_path("python3", search)) python = p->string();
  }
  auto joined = [](std::initializer_list<std::string> parts) {
    std::string out;
    for (auto& p : parts)
      if (!p.empty()) out += (out.empty() ? "" : ":") + p;
    return out;
  };
  if (python.empty()) return joined({prefix, path});

  fs::create_directories(shim_dir);
  std::error_code ec;
  for (const char* n : {"python", "python3"}) {
    fs::remove(shim_dir / n, ec);
    fs::create_symlink(python, shim_dir / n, ec);
    if (ec) throw std::runtime_error("cannot create the shim " + (shim_dir / n).string() + ": " + ec.message());
  }
  for (const char* n : {"pip", "pip3"}) {
    fs::path f = shim_dir / n;
    fs::remove(f, ec);
    // A fresh job directory: a plain write (write_atomic's fsync would cost every job launch).
    std::ofstream(f) << "#!/bin/sh\nexec " << str::shell_quote(python) << " -m pip \"$@\"\n";
    fs::permissions(f, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec, ec);
  }
  if (mapped) return joined({shim_dir.string(), prefix, path});
  return joined({prefix, shim_dir.string(), path});
}

}  // namespace amlops::local
