// Settings of one amlops-local server and the identities it persists in its store.
#pragma once
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/time.hpp"
#include "local/faults.hpp"

namespace amlops::local {

// How a job whose environment has this name runs: a PATH prefix and/or a python interpreter
// (exposed to the job as `python` and `python3` through a shim directory first on PATH).
struct EnvironmentMapping {
  std::string path_prefix;
  std::string python;
};

// An external Azure Storage account (Azurite, or any blob endpoint) used as the workspace's storage
// instead of this server's own blob subset (docs/local.md "External storage").
struct ExternalStorage {
  std::string endpoint;  // blob service base URL, e.g. http://127.0.0.1:10000/devstoreaccount1
  std::string account;
  std::string key;  // base64 account key (from `key:` or the variable named by `key_env:`)
};

struct Config {
  std::filesystem::path data_dir = ".amlops-local";
  std::optional<std::string> subscription;  // default: a GUID generated once and kept in the store
  std::optional<std::string> tenant;
  std::optional<std::string> client_id;
  std::string resource_group = "amlops-local";
  std::vector<std::string> workspaces = {"local"};
  std::vector<std::string> registries = {"local-registry"};
  std::string location = "local";
  Duration token_lifetime = std::chrono::hours(1);
  int max_running_jobs = 4;      // command processes at once (pipeline steps and trials included)
  int pipeline_concurrency = 4;  // steps of one pipeline at once
  int page_size = 100;           // items per page of a list before nextLink
  Duration lro_delay{0};         // how long a long-running operation reports itself in progress
  FaultSpec faults;
  uint64_t fault_seed = 1;
  Duration slow_for = std::chrono::seconds(2);
  // Environment name ("*" = any other) -> interpreter mapping; read from DATA/config.yml or --config.
  std::map<std::string, EnvironmentMapping> environments;
  std::optional<ExternalStorage> storage;  // `storage:` in config.yml
  bool run_jobs = true;                    // false: jobs stay queued (router unit tests)
  bool recover = true;                     // false: leave jobs of another live server alone (read-only helpers)
  Duration tick = std::chrono::milliseconds(50);
};

// Reads `environments:` and `storage:` from a YAML config file (see docs/local.md); throws ConfigError with
// file:line:col.
void load_config_file(const std::filesystem::path& file, Config& cfg);

// Identities and secrets: generated on first start, then read back from the store.
struct Identity {
  std::string subscription;
  std::string tenant;
  std::string client_id;
  std::string client_secret;
  std::string account = "amlopslocal";  // storage account name (path-style blob URLs)
  std::string account_key;              // base64, for Shared Key and SAS
  std::string signing_key;              // raw, signs bearer tokens (HS256)
};

}  // namespace amlops::local
