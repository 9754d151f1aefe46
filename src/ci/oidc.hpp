// The OIDC ID-token requests of both hosts (the assertion a federated credential exchanges for an
// Entra token). Request building and answer parsing are pure; request_* send and mask the token.
#pragma once
#include <string>

#include "net/http.hpp"

namespace amlops::ci {

inline constexpr const char* kAzureTokenExchangeAudience = "api://AzureADTokenExchange";

// GitHub: GET $ACTIONS_ID_TOKEN_REQUEST_URL&audience=AUD, bearer $ACTIONS_ID_TOKEN_REQUEST_TOKEN
// -> {"value": "<jwt>"}.
net::Request github_id_token_request(const std::string& request_url, const std::string& request_token,
                                     const std::string& audience = kAzureTokenExchangeAudience);
std::string parse_github_id_token(const std::string& body);

// Azure DevOps: POST $SYSTEM_OIDCREQUESTURI?api-version=7.1&serviceConnectionId=ID, bearer
// $SYSTEM_ACCESSTOKEN -> {"oidcToken": "<jwt>"}. Repeating it only mints another token, so it is
// marked idempotent for the retry policy.
net::Request azure_devops_id_token_request(const std::string& oidc_request_uri,
                                           const std::string& service_connection_id, const std::string& access_token);
std::string parse_azure_devops_id_token(const std::string& body);

// Send, check, parse, and register the token as a secret (masked on CI hosts, redacted in logs).
std::string request_github_id_token(net::Client& http, const std::string& request_url, const std::string& request_token,
                                    const std::string& audience = kAzureTokenExchangeAudience);
std::string request_azure_devops_id_token(net::Client& http, const std::string& oidc_request_uri,
                                          const std::string& service_connection_id, const std::string& access_token);

}  // namespace amlops::ci
