#include "azure/auth.hpp"

#include "ci/oidc.hpp"
#include "core/error.hpp"
#include "core/files.hpp"
#include "core/json.hpp"
#include "core/log.hpp"
#include "core/process.hpp"
#include "core/redact.hpp"
#include "core/strings.hpp"

namespace amlops::azure {

namespace {

std::string trim_slash(std::string s) {
  while (!s.empty() && s.back() == '/') s.pop_back();
  return s;
}

// "https://management.azure.com/.default" -> "https://management.azure.com/" (v1 resource form).
std::string scope_to_resource(const std::string& scope) {
  std::string r = scope;
  const std::string suffix = ".default";
  if (r.size() >= suffix.size() && r.compare(r.size() - suffix.size(), suffix.size(), suffix) == 0)
    r.resize(r.size() - suffix.size());
  return r;
}

[[noreturn]] void auth_failed(const std::string& what, const net::Response& r) {
  std::string detail;
  try {
    auto doc = json::parse(r.body, what);
    std::string err = json::opt_string(doc, "/error").value_or("");
    std::string desc = json::opt_string(doc, "/error_description").value_or("");
    if (err.empty()) {
      err = json::opt_string(doc, "/error/code").value_or("");
      desc = json::opt_string(doc, "/error/message").value_or("");
    }
    detail = err + (desc.empty() ? "" : ": " + desc.substr(0, desc.find('\n')));
  } catch (const std::exception&) {
    detail = r.body.substr(0, 200);
  }
  std::string msg = what + " failed (HTTP " + std::to_string(r.status) + ")" + (detail.empty() ? "" : ": " + detail);
  if (r.status == 400 || r.status == 401 || r.status == 403) throw ConfigError(redact::text(msg));
  throw HttpError(r.status, redact::text(msg));
}

}  // namespace

AccessToken parse_token_response(const std::string& body, std::chrono::system_clock::time_point now,
                                 const std::string& what) {
  auto doc = json::parse(body, what);
  AccessToken t;
  auto tok = json::opt_string(doc, "/access_token");
  if (!tok) tok = json::opt_string(doc, "/accessToken");
  if (!tok || tok->empty()) throw HttpError(200, what + ": no access_token in the answer");
  t.token = *tok;
  auto number = [&](const char* ptr) -> std::optional<int64_t> {
    const json::Value* v = json::find(doc, ptr);
    if (!v) return std::nullopt;
    if (v->IsInt64()) return v->GetInt64();
    if (v->IsNumber()) return static_cast<int64_t>(v->GetDouble());
    if (v->IsString()) return str::parse_int(v->GetString());
    return std::nullopt;
  };
  if (auto in = number("/expires_in")) {
    t.expires_on = now + std::chrono::seconds(*in);
  } else if (auto on = number("/expires_on")) {
    t.expires_on = std::chrono::system_clock::time_point(std::chrono::seconds(*on));
  } else if (auto s = json::opt_string(doc, "/expiresOn")) {
    try {
      t.expires_on = parse_iso8601(str::replace_all(*s, " ", "T"));
    } catch (const ConfigError&) {
      t.expires_on = now + std::chrono::minutes(5);
    }
  } else {
    t.expires_on = now + std::chrono::minutes(5);
  }
  redact::add_secret(t.token);
  return t;
}

AssertionProvider file_assertion(std::string path) {
  return [path] {
    std::string jwt(str::trim(files::read(path)));
    if (jwt.empty()) throw ConfigError("AZURE_FEDERATED_TOKEN_FILE " + path + " is empty");
    redact::add_secret(jwt);
    return jwt;
  };
}

AssertionProvider github_assertion(net::Client& http, std::string request_url, std::string request_token,
                                   std::string audience) {
  redact::add_secret(request_token);
  return [&http, request_url, request_token, audience] {
    return ci::request_github_id_token(http, request_url, request_token, audience);
  };
}

AssertionProvider azure_devops_assertion(net::Client& http, std::string uri, std::string connection,
                                         std::string access_token) {
  redact::add_secret(access_token);
  return [&http, uri, connection, access_token] {
    return ci::request_azure_devops_id_token(http, uri, connection, access_token);
  };
}

ClientCredential::ClientCredential(net::Client& http, Clock& clock, std::string authority, std::string tenant,
                                   std::string client_id, std::string secret, AssertionProvider assertion,
                                   std::string name)
    : http_(http),
      clock_(clock),
      authority_(trim_slash(std::move(authority))),
      tenant_(std::move(tenant)),
      client_id_(std::move(client_id)),
      secret_(std::move(secret)),
      assertion_(std::move(assertion)),
      name_(std::move(name)) {
  redact::add_secret(secret_);
}

AccessToken ClientCredential::get_token(const std::string& scope) {
  std::string form =
      "client_id=" + str::url_encode(client_id_) + "&grant_type=client_credentials&scope=" + str::url_encode(scope);
  if (assertion_) {
    std::string jwt = assertion_();  // fresh each time: assertions expire within minutes
    form += "&client_assertion_type=" + str::url_encode("urn:ietf:params:oauth:client-assertion-type:jwt-bearer") +
            "&client_assertion=" + str::url_encode(jwt);
  } else {
    form += "&client_secret=" + str::url_encode(secret_);
  }
  net::Request req;
  req.method = "POST";
  req.idempotent = true;  // a token request has no side effect
  req.url = authority_ + "/" + str::url_encode(tenant_) + "/oauth2/v2.0/token";
  req.headers = {{"Content-Type", "application/x-www-form-urlencoded"}, {"Accept", "application/json"}};
  req.body = std::move(form);
  auto r = http_.send(std::move(req));
  if (!r.ok()) auth_failed("token request (" + name_ + ")", r);
  return parse_token_response(r.body, clock_.wall(), "token answer (" + name_ + ")");
}

ManagedIdentityCredential::ManagedIdentityCredential(net::Client& http, Clock& clock, std::string endpoint,
                                                     std::string header, std::optional<std::string> client_id)
    : http_(http),
      clock_(clock),
      endpoint_(std::move(endpoint)),
      header_(std::move(header)),
      client_id_(std::move(client_id)) {
  redact::add_secret(header_);
}

AccessToken ManagedIdentityCredential::get_token(const std::string& scope) {
  net::Request req;
  std::string resource = str::url_encode(scope_to_resource(scope));
  if (!header_.empty()) {
    req.url = endpoint_ + (endpoint_.find('?') == std::string::npos ? "?" : "&") +
              "api-version=2019-08-01&resource=" + resource;
    req.headers = {{"X-IDENTITY-HEADER", header_}};
  } else {
    req.url = endpoint_ + "?api-version=2018-02-01&resource=" + resource;
    req.headers = {{"Metadata", "true"}};
  }
  if (client_id_) req.url += "&client_id=" + str::url_encode(*client_id_);
  auto r = http_.send(req);
  if (!r.ok()) auth_failed("managed identity token request", r);
  return parse_token_response(r.body, clock_.wall(), "managed identity token answer");
}

AccessToken AzureCliCredential::get_token(const std::string& scope) {
  auto res = process::run_capture({"az", "account", "get-access-token", "--scope", scope, "--output", "json"}, {},
                                  std::chrono::seconds(60));
  if (res.exit_code != 0)
    throw ConfigError("az account get-access-token failed: " +
                      redact::text(std::string(str::trim(res.err.substr(0, 400)))));
  return parse_token_response(res.out, clock_.wall(), "az account get-access-token");
}

TokenCache::TokenCache(std::shared_ptr<TokenCredential> credential, Clock& clock)
    : cred_(std::move(credential)), clock_(clock) {}

std::string TokenCache::token(const std::string& scope) {
  std::lock_guard<std::mutex> lock(mu_);
  auto now = clock_.wall();
  auto it = entries_.find(scope);
  if (it != entries_.end()) {
    auto lifetime = it->second.token.expires_on - it->second.fetched;
    auto margin = std::min<std::chrono::system_clock::duration>(std::chrono::minutes(5), lifetime / 2);
    if (it->second.token.expires_on - now > margin) return it->second.token.token;
  }
  AccessToken t = cred_->get_token(scope);
  ++fetches_;
  log::debug("fetched a token for ", scope, " with ", cred_->name(), ", valid ",
             std::chrono::duration_cast<std::chrono::seconds>(t.expires_on - now).count(), " s");
  entries_[scope] = {t, now};
  return t.token;
}

std::shared_ptr<TokenCredential> make_credential(const Env& env, net::Client& http, Clock& clock,
                                                 std::optional<CredentialKind> only) {
  auto chosen = select_credential(env, only);
  if (!chosen) {
    std::string msg =
        only ? "credential " + credential_kind_name(*only) + " is not available: " : "no Azure credential available: ";
    std::vector<std::string> why;
    for (auto& c : credential_candidates(env))
      if (!only || c.kind == *only) why.push_back(c.name + " (" + c.detail + ")");
    throw ConfigError(msg + str::join(why, "; ") + " (run `amlops doctor`)");
  }
  std::string authority = env.get_or("AZURE_AUTHORITY_HOST", "https://login.microsoftonline.com");
  std::string client = env.get_or("AZURE_CLIENT_ID", "");
  std::string tenant = env.get_or("AZURE_TENANT_ID", "");
  switch (chosen->kind) {
    case CredentialKind::client_secret:
      return std::make_shared<ClientCredential>(http, clock, authority, tenant, client,
                                                env.get_or("AZURE_CLIENT_SECRET", ""), nullptr, "client-secret");
    case CredentialKind::workload_identity:
      return std::make_shared<ClientCredential>(http, clock, authority, tenant, client, "",
                                                file_assertion(env.get_or("AZURE_FEDERATED_TOKEN_FILE", "")),
                                                "workload-identity");
    case CredentialKind::github_oidc:
      return std::make_shared<ClientCredential>(http, clock, authority, tenant, client, "",
                                                github_assertion(http, env.get_or("ACTIONS_ID_TOKEN_REQUEST_URL", ""),
                                                                 env.get_or("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "")),
                                                "github-oidc");
    case CredentialKind::azure_devops_oidc: {
      std::string conn = env.nonempty("AZURESUBSCRIPTION_SERVICE_CONNECTION_ID")
                             .value_or(env.get_or("AMLOPS_SERVICE_CONNECTION_ID", ""));
      return std::make_shared<ClientCredential>(http, clock, authority, tenant, client, "",
                                                azure_devops_assertion(http, env.get_or("SYSTEM_OIDCREQUESTURI", ""),
                                                                       conn, env.get_or("SYSTEM_ACCESSTOKEN", "")),
                                                "azure-devops-oidc");
    }
    case CredentialKind::managed_identity: {
      auto endpoint = env.nonempty("IDENTITY_ENDPOINT");
      std::optional<std::string> mi_client = env.nonempty("AZURE_CLIENT_ID");
      if (endpoint)
        return std::make_shared<ManagedIdentityCredential>(http, clock, *endpoint, env.get_or("IDENTITY_HEADER", ""),
                                                           mi_client);
      return std::make_shared<ManagedIdentityCredential>(
          http, clock, "http://169.254.169.254/metadata/identity/oauth2/token", "", mi_client);
    }
    case CredentialKind::azure_cli:
      return std::make_shared<AzureCliCredential>(clock);
  }
  throw ConfigError("unknown credential");
}

}  // namespace amlops::azure
