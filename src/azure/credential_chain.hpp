// Which credential the chain would pick, from the environment alone (no network, no secret in
// the result). azure/auth builds the real credentials in the same order; doctor reports this.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "core/env.hpp"

namespace amlops::azure {

enum class CredentialKind {
  client_secret,      // AZURE_CLIENT_ID + AZURE_TENANT_ID + AZURE_CLIENT_SECRET
  workload_identity,  // AZURE_FEDERATED_TOKEN_FILE (+ client and tenant id)
  github_oidc,        // ACTIONS_ID_TOKEN_REQUEST_URL/_TOKEN (+ client and tenant id)
  azure_devops_oidc,  // SYSTEM_OIDCREQUESTURI + service connection id + SYSTEM_ACCESSTOKEN
  managed_identity,   // IDENTITY_ENDPOINT (App Service) or IMDS
  azure_cli,          // `az account get-access-token`
};

struct CredentialCandidate {
  CredentialKind kind;
  std::string name;    // "client-secret", "workload-identity", ...
  bool available;      // the environment has what it needs
  std::string detail;  // what was found or what is missing; never a secret value
};

// The chain in order. `only` restricts it to one kind (--auth).
std::vector<CredentialCandidate> credential_candidates(const Env& env);
std::optional<CredentialKind> parse_credential_kind(const std::string& name);
std::string credential_kind_name(CredentialKind k);
// The first available candidate; nullopt when none is.
std::optional<CredentialCandidate> select_credential(const Env& env, std::optional<CredentialKind> only = std::nullopt);

}  // namespace amlops::azure
