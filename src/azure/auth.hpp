// Entra ID credentials in the order of credential_chain.hpp, and a per-scope token cache that
// refreshes before expiry. Federated credentials request a fresh OIDC assertion for every token
// (GitHub and Azure DevOps assertions live ~10 minutes; waits can last hours). Every token and
// assertion is registered with redact::add_secret, which masks it on CI hosts.
#pragma once
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "azure/credential_chain.hpp"
#include "core/env.hpp"
#include "core/time.hpp"
#include "net/http.hpp"

namespace amlops::azure {

inline constexpr const char* kArmScope = "https://management.azure.com/.default";
inline constexpr const char* kStorageScope = "https://storage.azure.com/.default";

struct AccessToken {
  std::string token;
  std::chrono::system_clock::time_point expires_on;
};

class TokenCredential {
 public:
  virtual ~TokenCredential() = default;
  // Fetches a new token for `scope` (no caching here).
  virtual AccessToken get_token(const std::string& scope) = 0;
  [[nodiscard]] virtual std::string name() const = 0;
};

// Returns a fresh external OIDC token (JWT) each call.
using AssertionProvider = std::function<std::string()>;
AssertionProvider file_assertion(std::string path);
AssertionProvider github_assertion(net::Client& http, std::string request_url, std::string request_token,
                                   std::string audience = "api://AzureADTokenExchange");
AssertionProvider azure_devops_assertion(net::Client& http, std::string oidc_request_uri,
                                         std::string service_connection_id, std::string access_token);

// client_credentials against {authority}/{tenant}/oauth2/v2.0/token with a secret or an assertion.
class ClientCredential : public TokenCredential {
 public:
  ClientCredential(net::Client& http, Clock& clock, std::string authority, std::string tenant, std::string client_id,
                   std::string secret, AssertionProvider assertion, std::string name);
  AccessToken get_token(const std::string& scope) override;
  [[nodiscard]] std::string name() const override { return name_; }

 private:
  net::Client& http_;
  Clock& clock_;
  std::string authority_, tenant_, client_id_, secret_;
  AssertionProvider assertion_;
  std::string name_;
};

// App Service / Container Apps (IDENTITY_ENDPOINT + IDENTITY_HEADER) or IMDS.
class ManagedIdentityCredential : public TokenCredential {
 public:
  ManagedIdentityCredential(net::Client& http, Clock& clock, std::string endpoint, std::string header,
                            std::optional<std::string> client_id);
  AccessToken get_token(const std::string& scope) override;
  [[nodiscard]] std::string name() const override { return "managed-identity"; }

 private:
  net::Client& http_;
  Clock& clock_;
  std::string endpoint_, header_;
  std::optional<std::string> client_id_;
};

// `az account get-access-token`.
class AzureCliCredential : public TokenCredential {
 public:
  explicit AzureCliCredential(Clock& clock) : clock_(clock) {}
  AccessToken get_token(const std::string& scope) override;
  [[nodiscard]] std::string name() const override { return "azure-cli"; }

 private:
  Clock& clock_;
};

// Parses a token endpoint answer: access_token, expires_in or expires_on (numbers or strings).
AccessToken parse_token_response(const std::string& body, std::chrono::system_clock::time_point now,
                                 const std::string& what);

// Tokens per scope, refreshed when less than min(5 min, half the token's lifetime) remains.
// Thread-safe.
class TokenCache {
 public:
  TokenCache(std::shared_ptr<TokenCredential> credential, Clock& clock);
  std::string token(const std::string& scope);
  [[nodiscard]] int fetches() const { return fetches_; }
  [[nodiscard]] const TokenCredential& credential() const { return *cred_; }

 private:
  struct Entry {
    AccessToken token;
    std::chrono::system_clock::time_point fetched;
  };
  std::shared_ptr<TokenCredential> cred_;
  Clock& clock_;
  std::mutex mu_;
  std::map<std::string, Entry> entries_;
  int fetches_ = 0;
};

// The first available credential of the chain (or `only`); ConfigError listing what is missing
// when none is.
std::shared_ptr<TokenCredential> make_credential(const Env& env, net::Client& http, Clock& clock,
                                                 std::optional<CredentialKind> only = std::nullopt);

}  // namespace amlops::azure
