#include "azure/credential_chain.hpp"

#include "core/process.hpp"

namespace amlops::azure {

std::string credential_kind_name(CredentialKind k) {
  switch (k) {
    case CredentialKind::client_secret:
      return "client-secret";
    case CredentialKind::workload_identity:
      return "workload-identity";
    case CredentialKind::github_oidc:
      return "github-oidc";
    case CredentialKind::azure_devops_oidc:
      return "azure-devops-oidc";
    case CredentialKind::managed_identity:
      return "managed-identity";
    case CredentialKind::azure_cli:
      return "azure-cli";
  }
  return "unknown";
}

std::optional<CredentialKind> parse_credential_kind(const std::string& name) {
  for (auto k : {CredentialKind::client_secret, CredentialKind::workload_identity, CredentialKind::github_oidc,
                 CredentialKind::azure_devops_oidc, CredentialKind::managed_identity, CredentialKind::azure_cli}) {
    if (credential_kind_name(k) == name) return k;
  }
  return std::nullopt;
}

std::vector<CredentialCandidate> credential_candidates(const Env& env) {
  std::vector<CredentialCandidate> out;
  auto client = env.nonempty("AZURE_CLIENT_ID");
  auto tenant = env.nonempty("AZURE_TENANT_ID");
  std::string ids = std::string("client id ") + (client ? *client : "(missing AZURE_CLIENT_ID)") + ", tenant " +
                    (tenant ? *tenant : "(missing AZURE_TENANT_ID)");
  bool have_ids = client && tenant;

  bool secret = env.nonempty("AZURE_CLIENT_SECRET").has_value();
  out.push_back({CredentialKind::client_secret, "client-secret", have_ids && secret,
                 ids + (secret ? ", AZURE_CLIENT_SECRET set" : ", AZURE_CLIENT_SECRET not set")});

  auto token_file = env.nonempty("AZURE_FEDERATED_TOKEN_FILE");
  out.push_back({CredentialKind::workload_identity, "workload-identity", have_ids && token_file.has_value(),
                 ids + (token_file ? ", token file " + *token_file : ", AZURE_FEDERATED_TOKEN_FILE not set")});

  bool gh = env.nonempty("ACTIONS_ID_TOKEN_REQUEST_URL") && env.nonempty("ACTIONS_ID_TOKEN_REQUEST_TOKEN");
  out.push_back({CredentialKind::github_oidc, "github-oidc", have_ids && gh,
                 ids + (gh ? ", GitHub OIDC token request available"
                           : ", no ACTIONS_ID_TOKEN_REQUEST_URL/_TOKEN (job needs permissions: id-token: write)")});

  auto oidc_uri = env.nonempty("SYSTEM_OIDCREQUESTURI");
  auto conn = env.nonempty("AZURESUBSCRIPTION_SERVICE_CONNECTION_ID")
                  ? env.nonempty("AZURESUBSCRIPTION_SERVICE_CONNECTION_ID")
                  : env.nonempty("AMLOPS_SERVICE_CONNECTION_ID");
  bool access = env.nonempty("SYSTEM_ACCESSTOKEN").has_value();
  out.push_back({CredentialKind::azure_devops_oidc, "azure-devops-oidc", have_ids && oidc_uri && conn && access,
                 ids + (oidc_uri ? ", SYSTEM_OIDCREQUESTURI set" : ", SYSTEM_OIDCREQUESTURI not set") +
                     (conn ? ", service connection " + *conn : ", no service connection id") +
                     (access ? ", SYSTEM_ACCESSTOKEN set" : ", SYSTEM_ACCESSTOKEN not set")});

  auto identity = env.nonempty("IDENTITY_ENDPOINT");
  bool imds_opt_in = env.nonempty("AMLOPS_USE_IMDS").has_value() || env.nonempty("MSI_ENDPOINT").has_value();
  out.push_back({CredentialKind::managed_identity, "managed-identity", identity.has_value() || imds_opt_in,
                 identity ? "App Service identity endpoint " + *identity
                          : (imds_opt_in ? "IMDS (169.254.169.254)"
                                         : "no IDENTITY_ENDPOINT (IMDS only with AMLOPS_USE_IMDS=1)")});

  // The PATH of the environment the chain reads (a tool's Env seam), not of this process.
  bool az = process::which("az", env.get_or("PATH", "/usr/local/bin:/usr/bin:/bin")).has_value();
  out.push_back({CredentialKind::azure_cli, "azure-cli", az, az ? "az found on PATH" : "az not on PATH"});
  return out;
}

std::optional<CredentialCandidate> select_credential(const Env& env, std::optional<CredentialKind> only) {
  for (auto& c : credential_candidates(env)) {
    if (only && c.kind != *only) continue;
    if (c.available) return c;
  }
  return std::nullopt;
}

}  // namespace amlops::azure
