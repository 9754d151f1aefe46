// Online endpoint and managed online deployment YAML (Azure ML CLI v2) -> REST bodies
// (azureml-rest.md §4.1, §7.4). Every user error is a ConfigError with file:line:col; nothing is
// sent before both files have been read. The code folder and `azureml:` references that need the
// workspace (a label, a local code folder) are listed for the rollout to resolve.
#pragma once
#include <filesystem>
#include <map>
#include <optional>
#include <string>

#include "core/error.hpp"
#include "core/json.hpp"

namespace amlops::deploy {

enum class AuthMode { key, aml_token, aad_token };
const char* auth_mode_rest(AuthMode m);  // Key | AMLToken | AADToken

struct EndpointSpec {
  std::string file;
  std::string name;
  AuthMode auth = AuthMode::key;
  std::string description;
  std::map<std::string, std::string> tags;
  std::string identity_type;          // SystemAssigned, UserAssigned, None; empty: not given
  std::string public_network_access;  // Enabled | Disabled; empty: not given
  // traffic/mirror_traffic of the YAML: never applied over live traffic (see docs/deploy.md).
  std::map<std::string, int> yaml_traffic;
  SourceLocation traffic_at;
};

struct DeploymentSpec {
  std::string file;
  std::string name;
  std::string endpoint_name;
  SourceLocation endpoint_name_at;
  std::string model;  // ARM id or azureml://registries/... id; empty: none (rejected unless --model)
  SourceLocation model_at;
  // codeConfiguration: a local folder to upload, or an asset id.
  std::optional<std::filesystem::path> code_dir;
  std::string code_id;
  std::string scoring_script;
  std::string environment;  // an ARM id, "azureml:NAME@LABEL" (resolved by the rollout), or empty
  std::optional<std::filesystem::path> environment_file;  // an environment YAML
  json::Document body;  // {"location"?, "sku", "tags", "properties": {...}}: ids filled in later
};

// Loads an endpoint YAML.
EndpointSpec load_endpoint(const std::filesystem::path& file);
EndpointSpec load_endpoint_text(const std::string& text, const std::string& source);

// Loads a deployment YAML. `workspace_id` turns azureml:NAME:VERSION into ARM ids.
DeploymentSpec load_deployment(const std::filesystem::path& file, const std::string& workspace_id);
DeploymentSpec load_deployment_text(const std::string& text, const std::string& source,
                                    const std::filesystem::path& base_dir, const std::string& workspace_id);

// --model: NAME:VERSION, azureml:NAME:VERSION or a registry/ARM model id -> the id the deployment
// names. UsageError otherwise.
std::string model_id(const std::string& workspace_id, const std::string& text);

// "PT5S" for 5000 ms; "PT0.5S" for 500.
std::string iso_millis(int64_t ms);

// The endpoint name rules of the service: 3-32 characters, a letter first, then letters, digits
// and '-'. The deployment: 3-32, a letter first, letters, digits, '-'.
bool valid_name(const std::string& name);

}  // namespace amlops::deploy
