// Azure ML CLI v2 YAML (command, pipeline and sweep jobs; environments) -> REST bodies.
// The envelope is camelCase; inside pipeline `jobs` the keys are snake_case, as the service and
// the SDK use them. Local folders (code, input paths) and inline environments cannot be named in
// the body until they exist in the workspace: the spec lists them with the JSON pointer where
// their ARM id goes, and the submitter fills them in (see tools/job).
#pragma once
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/error.hpp"
#include "core/json.hpp"
#include "core/yaml.hpp"

namespace amlops::spec {

using Overrides = std::vector<std::pair<std::string, std::string>>;

// Where an id has to be written once the referenced asset exists.
struct Target {
  int component = -1;   // -1: the job body; else an index into JobSpec::components
  std::string pointer;  // RFC 6901 pointer into that document
  std::string prefix;   // written before the id ("azureml:" in component specs)
  std::string suffix;   // written after (a file name for uri_file inputs)
};

// A local folder to upload: a job's or step's code, or a local input path.
struct LocalUpload {
  enum class Kind { code, input } kind = Kind::code;
  std::filesystem::path path;  // absolute folder (for an input file: the folder holding it)
  Target target;
  SourceLocation where;
};

struct EnvironmentSpec {
  std::string name;     // CliV2AnonymousEnvironment for inline ones
  std::string version;  // content hash for inline ones
  json::Document body;  // {"properties": {...}}
};

struct EnvironmentRef {
  EnvironmentSpec env;
  Target target;
};

// A workspace asset named by label (environment: azureml:myenv@latest): the submitter resolves
// the label to a version and writes that version's id.
struct LabelRef {
  std::string kind;  // "environments"
  std::string name;
  std::string label;
  Target target;
};

// An inline pipeline step, registered as an anonymous component before the pipeline job.
struct ComponentSpec {
  std::string step;
  json::Document body;  // {"properties": {"componentSpec": {...}, "isAnonymous": true}}
};

struct JobSpec {
  std::string file;
  std::string type;  // command | pipeline | sweep
  std::optional<std::string> name;
  std::optional<std::string> experiment_name;
  json::Document body;  // {"properties": {...}}
  std::vector<LocalUpload> uploads;
  std::vector<EnvironmentRef> environments;
  std::vector<LabelRef> labels;
  std::vector<ComponentSpec> components;  // their ids go to /properties/jobs/<step>/componentId
};

struct LoadOptions {
  // "/subscriptions/S/resourceGroups/RG/providers/Microsoft.MachineLearningServices/workspaces/W"
  std::string workspace_id;
  Overrides overrides;  // --set a.b=c, applied before conversion
};

// Loads and converts a job YAML; every user error is a ConfigError with file:line:col.
JobSpec load_job(const std::filesystem::path& file, const LoadOptions& opts);
JobSpec load_job_text(const std::string& text, const std::string& source, const std::filesystem::path& base_dir,
                      const LoadOptions& opts);

// An environment YAML (name, version, image, conda_file, description, tags) -> its body.
EnvironmentSpec load_environment(const std::filesystem::path& file);

// Sets a.b.c in a YAML tree (maps created as needed; the value parsed as YAML).
void apply_overrides(YAML::Node root, const Overrides& overrides);

// ARM id of a workspace asset from a YAML reference: "azureml:name:1" -> WS/<kind>/name/versions/1;
// "azureml:/subscriptions/..." and "azureml://registries/..." are kept as ids.
std::string asset_id(const std::string& workspace_id, const std::string& kind, const std::string& ref);

// YAML -> JSON with scalar typing (quoted scalars stay strings; plain ones become numbers,
// booleans or null when they read as such).
json::Value yaml_to_json(const YAML::Node& node, json::Allocator& a);

// snake_case -> camelCase.
std::string camel(const std::string& snake);

// A key as one RFC 6901 pointer token ('~' -> "~0", '/' -> "~1").
std::string pointer_token(const std::string& key);

}  // namespace amlops::spec
