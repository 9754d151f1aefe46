#include "ci/oidc.hpp"

#include "core/error.hpp"
#include "core/json.hpp"
#include "core/redact.hpp"
#include "core/strings.hpp"

namespace amlops::ci {
namespace {

std::string with_query(const std::string& url, const std::string& query) {
  return url + (url.find('?') == std::string::npos ? "?" : "&") + query;
}

std::string token_at(const std::string& body, const char* pointer, const char* what) {
  auto doc = json::parse(body, what);
  std::string jwt = json::get_string(doc, pointer, what);
  if (jwt.empty()) throw HttpError(0, std::string(what) + ": empty token");
  return jwt;
}

std::string send(net::Client& http, const net::Request& req, const char* what, const char* pointer) {
  auto r = http.send(req);
  net::expect_ok(r, what);
  std::string jwt = token_at(r.body, pointer, what);
  redact::add_secret(jwt);
  return jwt;
}

}  // namespace

net::Request github_id_token_request(const std::string& request_url, const std::string& request_token,
                                     const std::string& audience) {
  if (request_url.empty() || request_token.empty())
    throw ConfigError(
        "GitHub OIDC: ACTIONS_ID_TOKEN_REQUEST_URL/_TOKEN are not set (the job needs permissions: id-token: write)");
  net::Request req;
  req.url = with_query(request_url, "audience=" + str::url_encode(audience));
  req.headers = {{"Authorization", "Bearer " + request_token}, {"Accept", "application/json"}};
  return req;
}

std::string parse_github_id_token(const std::string& body) {
  return token_at(body, "/value", "GitHub OIDC token answer");
}

net::Request azure_devops_id_token_request(const std::string& oidc_request_uri,
                                           const std::string& service_connection_id, const std::string& access_token) {
  if (oidc_request_uri.empty() || service_connection_id.empty() || access_token.empty())
    throw ConfigError(
        "Azure DevOps OIDC: SYSTEM_OIDCREQUESTURI, the service connection id and SYSTEM_ACCESSTOKEN are all needed");
  net::Request req;
  req.method = "POST";
  req.idempotent = true;
  req.url =
      with_query(oidc_request_uri, "api-version=7.1&serviceConnectionId=" + str::url_encode(service_connection_id));
  req.headers = {{"Authorization", "Bearer " + access_token}, {"Content-Type", "application/json"}};
  req.body = "{}";
  return req;
}

std::string parse_azure_devops_id_token(const std::string& body) {
  return token_at(body, "/oidcToken", "Azure DevOps OIDC token answer");
}

std::string request_github_id_token(net::Client& http, const std::string& request_url, const std::string& request_token,
                                    const std::string& audience) {
  redact::add_secret(request_token);
  return send(http, github_id_token_request(request_url, request_token, audience), "GitHub OIDC token request",
              "/value");
}

std::string request_azure_devops_id_token(net::Client& http, const std::string& oidc_request_uri,
                                          const std::string& service_connection_id, const std::string& access_token) {
  redact::add_secret(access_token);
  return send(http, azure_devops_id_token_request(oidc_request_uri, service_connection_id, access_token),
              "Azure DevOps OIDC token request", "/oidcToken");
}

}  // namespace amlops::ci
