// The PATH a job runs with, and the interpreter shims on it. On a host with only `python3`
// (Debian has no `python`), a job's `python train.py` and `pip install ...` still work: a shim
// directory holds `python`/`python3` (the mapped interpreter, else the host's python3 found on
// PATH) and `pip`/`pip3` (`<python> -m pip`).
#pragma once
#include <filesystem>
#include <optional>
#include <string>

#include "local/config.hpp"

namespace amlops::local {

// The first executable `name` in the colon-separated `path` (empty entries are skipped).
std::optional<std::filesystem::path> find_in_path(const std::string& name, const std::string& path);

// Writes the shims into `shim_dir` (created) and returns the job's PATH:
//   mapping with python:        SHIMS:PREFIX:PATH   (the mapped interpreter wins)
//   mapping with only a prefix: PREFIX:SHIMS:PATH   (the prefix's own python wins, e.g. a venv)
//   no mapping:                 SHIMS:PATH
// Without a mapped interpreter the shims point at python3 found on `path`; when there is none,
// no shims are written.
std::string job_path(const std::filesystem::path& shim_dir, const EnvironmentMapping* mapping, const std::string& path);

}  // namespace amlops::local
