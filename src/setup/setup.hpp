// amlops-setup: a folder of Azure ML CLI v2 YAML (computes, datastores, data assets,
// environments, components, schedules) read, validated, compared with the workspace and applied
// like a Terraform plan. Reading and validating make no request (load); the plan makes only GETs
// (make_plan); apply changes exactly what the plan lists, in dependency order.
#pragma once
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "azure/workspace.hpp"
#include "core/env.hpp"
#include "core/error.hpp"
#include "core/json.hpp"
#include "spec/job.hpp"

namespace amlops::setup {

// In apply order: what a later kind may reference comes first.
enum class Kind { datastore, data, environment, component, compute, schedule };
const char* kind_name(Kind k);   // "datastore", "data", ...
const char* collection(Kind k);  // "datastores", "data", "environments", "components", "computes", "schedules"
bool versioned(Kind k);          // data, environment, component

// Tags setup writes on everything it creates or updates.
inline constexpr const char* kManagedTag = "amlops.managed";
inline constexpr const char* kSpecTag = "amlops.spec";             // fingerprint of the desired resource
inline constexpr const char* kContentTag = "amlops.content_hash";  // versioned kinds: what makes a version
inline constexpr const char* kJobTag = "amlops.job";               // schedules: fingerprint of the job

// A credential read from an environment variable at apply time: it goes into the body at `pointer`
// and nowhere else (never logged, never in the plan).
struct SecretRef {
  std::string pointer;  // RFC 6901 pointer into the body
  std::string env_var;
  SourceLocation where;
};

struct Resource {
  Kind kind = Kind::compute;
  std::string name;
  std::string file;
  SourceLocation where;                // the document's `name`
  std::optional<std::string> version;  // the YAML's version (versioned kinds)
  // The desired ARM body ({"properties": ...}) without secrets; for versioned kinds the version's
  // body; for data with a local path the dataUri is filled at apply; for schedules the job is.
  json::Document body;
  // Versioned kinds: hash of what makes a version (content); others: fingerprint of the desired body.
  std::string fingerprint;
  std::vector<SecretRef> secrets;
  std::optional<std::filesystem::path> local;  // data: local file/folder to upload; component: code folder
  std::optional<spec::JobSpec> job;            // schedules
  std::string job_fingerprint;                 // schedules
  std::vector<std::string> computes;           // compute names a schedule's job runs on
  [[nodiscard]] std::string label() const { return std::string(kind_name(kind)) + " " + name; }
};

struct LoadOptions {
  std::string workspace_id;      // ARM id of the workspace (for job specs' references)
  bool require_secrets = false;  // apply: every credential's environment variable must be set
};

// The YAML files under `paths` (files, or folders searched recursively for *.yml/*.yaml; files of
// no known kind, such as conda files and job YAMLs, are skipped) read and validated. Every error is
// a ConfigError with file:line:col; nothing is requested. A name declared twice is an error.
std::vector<Resource> load(const std::vector<std::filesystem::path>& paths, const Env& env, const LoadOptions& opts);
// One file; nullopt when it is not of a kind setup applies.
std::optional<Resource> load_file(const std::filesystem::path& file, const Env& env, const LoadOptions& opts);

// AmlCompute VM sizes: true for a name of Azure's size naming pattern (case-insensitive), so that
// sizes newer than any table pass; else `suggestion` may name a close one of core/vm_sizes.hpp's.
bool known_vm_size(const std::string& size, std::string* suggestion = nullptr);

// Fields of `desired` whose value differs in `actual` ('/'-separated paths below the body, e.g.
// "properties/description"); members absent from `desired` are not compared. Durations, numbers and
// enum-like values compare by meaning (PT30M = PT1800S, 4 = 4.0, Dedicated = dedicated).
std::vector<std::string> changed_fields(const json::Value& desired, const json::Value& actual);

enum class Action { create, update, unchanged, remove };
const char* action_name(Action a);  // "create", "update", "unchanged", "delete"

struct Change {
  Kind kind = Kind::compute;
  std::string name;
  std::string version;  // versioned kinds: the version created, updated or kept
  Action action = Action::unchanged;
  std::vector<std::string> fields;               // update: what changes
  std::string note;                              // why (new content, new version, ...)
  std::string id;                                // ARM id (the existing one, or after apply the result)
  int resource = -1;                             // index into the resources (-1: a delete)
  std::shared_ptr<const json::Document> actual;  // the workspace's version of it, when there is one
};

struct Plan {
  std::vector<Change> changes;  // in apply order
  [[nodiscard]] size_t count(Action a) const;
  [[nodiscard]] bool empty() const { return count(Action::unchanged) == changes.size(); }
};

// Compares every resource with the workspace (GETs only). With `prune`, resources of the kinds in
// the files that carry amlops.managed=true and are not declared are listed for deletion.
// ConfigError when a schedule's job runs on a compute neither declared nor in the workspace.
Plan make_plan(azure::Workspace& ws, std::vector<Resource>& resources, bool prune);

// Runs the plan in order (creates, updates, then deletes), filling each change's id. `done` is
// called after each change. A failure stops there: the exception is rethrown after `failed` is
// called with the change that failed.
void apply(azure::Workspace& ws, Plan& plan, std::vector<Resource>& resources, const Env& env,
           const std::function<void(const Change&)>& done, const std::function<void(const Change&)>& failed);

// The plan as text (one line per resource) and JSON ({"changes":[...], "summary":{...}}).
std::string plan_text(const Plan& plan, bool applied);
json::Document plan_json(const Plan& plan, bool applied);

// The workspace of `env` in amlops.yml's environments (ConfigError with file:line:col when absent).
std::string environment_workspace(const std::filesystem::path& config, const std::string& env);

}  // namespace amlops::setup
