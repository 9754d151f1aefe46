#include "local/tokens.hpp"

#include <openssl/crypto.h>

#include <map>
#include <stdexcept>

#include "core/hash.hpp"
#include "core/strings.hpp"
#include "core/time.hpp"
#include "local/app.hpp"

namespace amlops::local {

// ---------------------------------------------------------------------------------------------
// JWT (pure)

std::string jwt_sign_hs256(std::string_view key, const json::Value& payload, const std::string& kid) {
  json::Document h(rapidjson::kObjectType);
  json::Builder hb(h.GetAllocator());
  hb.set(h, "alg", "HS256");
  hb.set(h, "typ", "JWT");
  if (!kid.empty()) hb.set(h, "kid", kid);
  std::string signing_input = hash::base64url_encode(json::dump(h)) + "." + hash::base64url_encode(json::dump(payload));
  return signing_input + "." + hash::base64url_encode(hash::hmac_sha256(key, signing_input));
}

JwtParts jwt_decode(const std::string& token) {
  auto parts = str::split(token, '.');
  if (parts.size() != 3) throw std::runtime_error("a JWT has three parts");
  JwtParts out;
  out.header = json::parse(hash::base64url_decode(parts[0]), "JWT header");
  out.payload = json::parse(hash::base64url_decode(parts[1]), "JWT payload");
  if (!out.header.IsObject() || !out.payload.IsObject())
    throw std::runtime_error("a JWT header and payload are objects");
  out.signature = parts[2];
  return out;
}

namespace {

bool same_audience(std::string a, std::string b) {
  while (!a.empty() && a.back() == '/') a.pop_back();
  while (!b.empty() && b.back() == '/') b.pop_back();
  return str::iequals(a, b);
}

JwtCheck fail(JwtError e, std::string reason) {
  JwtCheck c;
  c.error = e;
  c.reason = std::move(reason);
  return c;
}

}  // namespace

JwtCheck jwt_verify_hs256(std::string_view key, const std::string& token, int64_t now,
                          const std::vector<std::string>& audiences) {
  auto dot = token.rfind('.');
  JwtParts parts;
  try {
    parts = jwt_decode(token);
  } catch (const std::exception&) {
    return fail(JwtError::malformed, "the access token is malformed");
  }
  const auto* alg = json::find(parts.header, "/alg");
  if (!alg || !alg->IsString() || std::string(alg->GetString()) != "HS256")
    return fail(JwtError::bad_algorithm, "the access token is not signed with HS256");
  std::string expected = hash::base64url_encode(hash::hmac_sha256(key, std::string_view(token).substr(0, dot)));
  if (parts.signature.size() != expected.size() ||
      CRYPTO_memcmp(parts.signature.data(), expected.data(), expected.size()) != 0)
    return fail(JwtError::bad_signature, "the access token signature is invalid");
  std::optional<int64_t> exp, nbf;
  try {
    exp = json::opt_int(parts.payload, "/exp");
    nbf = json::opt_int(parts.payload, "/nbf");
  } catch (const std::exception&) {
    return fail(JwtError::malformed, "the access token is malformed");
  }
  if (!exp || *exp <= now) return fail(JwtError::expired, "expired");
  if (nbf && *nbf > now + 60) return fail(JwtError::not_yet_valid, "the access token is not yet valid");
  if (!audiences.empty()) {
    bool ok = false;
    if (const auto* aud = json::find(parts.payload, "/aud")) {
      auto matches = [&](const json::Value& v) {
        if (!v.IsString()) return false;
        for (auto& a : audiences)
          if (same_audience(v.GetString(), a)) return true;
        return false;
      };
      if (aud->IsString()) ok = matches(*aud);
      if (aud->IsArray())
        for (auto& v : aud->GetArray()) ok = ok || matches(v);
    }
    if (!ok) return fail(JwtError::wrong_audience, "the access token was issued for another audience");
  }
  JwtCheck c;
  c.payload = std::move(parts.payload);
  return c;
}

const std::vector<std::string>& arm_audiences() {
  static const std::vector<std::string> a = {"https://management.azure.com", "https://management.core.windows.net",
                                             "https://ml.azure.com"};
  return a;
}

const std::vector<std::string>& storage_audiences() {
  static const std::vector<std::string> a = {"https://storage.azure.com"};
  return a;
}

// ---------------------------------------------------------------------------------------------
// Tokens of this server

std::string App::issue_token(const std::string& subject, Duration lifetime, const std::string& audience) {
  json::Document p(rapidjson::kObjectType);
  json::Builder b(p.GetAllocator());
  int64_t now = unix_seconds(std::chrono::system_clock::now());
  b.set(p, "aud", audience);
  b.set(p, "iss", base_url_ + "/" + id_.tenant + "/v2.0");
  b.set(p, "iat", now);
  b.set(p, "nbf", now - 60);
  b.set(p, "exp", now + std::chrono::duration_cast<std::chrono::seconds>(lifetime).count());
  b.set(p, "appid", id_.client_id);
  b.set(p, "azp", id_.client_id);
  b.set(p, "oid", guid_from("oid:" + subject));
  b.set(p, "sub", subject);
  b.set(p, "tid", id_.tenant);
  b.set(p, "idtyp", "app");
  b.set(p, "ver", "2.0");
  return jwt_sign_hs256(id_.signing_key, p, "amlops-local");
}

std::string App::check_token(const std::string& token, const std::vector<std::string>& audiences) const {
  auto c = jwt_verify_hs256(id_.signing_key, token, unix_seconds(std::chrono::system_clock::now()), audiences);
  return c.reason;
}

// ---------------------------------------------------------------------------------------------
// The Entra ID token endpoint (client credentials: secret or federated assertion)

net::ServerResponse App::route_token(const net::ServerRequest& req, const std::string& tenant, bool v2) {
  auto oauth_error = [&](int status, const std::string& error, const std::string& code, const std::string& desc) {
    json::Document d(rapidjson::kObjectType);
    json::Builder b(d.GetAllocator());
    b.set(d, "error", error);
    b.set(d, "error_description", "AADSTS" + code + ": " + desc);
    json::Value codes = b.arr();
    codes.PushBack(static_cast<int64_t>(std::stoll(code)), d.GetAllocator());
    b.set(d, "error_codes", std::move(codes));
    b.set(d, "timestamp", iso8601_utc(std::chrono::system_clock::now()));
    b.set(d, "trace_id", new_guid());
    b.set(d, "correlation_id", new_guid());
    return json_response(status, d);
  };
  if (tenant != id_.tenant && tenant != "organizations")
    return oauth_error(400, "invalid_request", "90002", "Tenant '" + tenant + "' not found.");
  std::map<std::string, std::string> form;
  for (auto& part : str::split(req.body, '&')) {
    if (part.empty()) continue;
    auto eq = part.find('=');
    form[str::url_decode(part.substr(0, eq), true)] =
        eq == std::string::npos ? "" : str::url_decode(part.substr(eq + 1), true);
  }
  if (form["grant_type"] != "client_credentials")
    return oauth_error(400, "unsupported_grant_type", "70003",
                       "The app requested an unsupported grant type '" + form["grant_type"] + "'.");
  if (form["client_id"].empty())
    return oauth_error(400, "invalid_request", "900144",
                       "The request body must contain the following parameter: 'client_id'.");
  if (form["client_id"] != id_.client_id)
    return oauth_error(400, "unauthorized_client", "700016",
                       "Application with identifier '" + form["client_id"] + "' was not found in the directory.");
  std::string audience = "https://management.azure.com";
  if (v2) {
    std::string scope = form["scope"];
    if (scope.empty())
      return oauth_error(400, "invalid_request", "900144",
                         "The request body must contain the following parameter: 'scope'.");
    if (scope.size() < 9 || scope.substr(scope.size() - 9) != "/.default")
      return oauth_error(400, "invalid_scope", "1002012",
                         "The provided value for scope " + scope +
                             " is not valid. Client credential flows must have a scope value with /.default suffixed "
                             "to the resource identifier.");
    audience = scope.substr(0, scope.size() - 9);
  } else if (!form["resource"].empty()) {
    audience = form["resource"];
  }
  if (!form["client_secret"].empty()) {
    if (form["client_secret"] != id_.client_secret)
      return oauth_error(401, "invalid_client", "7000215",
                         "Invalid client secret provided. Ensure the secret being sent in the request is the client "
                         "secret value, not the client secret ID.");
  } else if (!form["client_assertion"].empty()) {
    if (form["client_assertion_type"] != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
      return oauth_error(400, "invalid_request", "700010", "Invalid client_assertion_type.");
    JwtParts jwt;
    try {
      jwt = jwt_decode(form["client_assertion"]);
    } catch (const std::exception&) {
      return oauth_error(400, "invalid_client", "50027", "JWT token is invalid or malformed.");
    }
    // A federated assertion is signed by its issuer (RS256 from GitHub or Azure DevOps, whose
    // keys this server does not fetch); an unsigned one (alg none, no signature) is refused.
    const auto* alg_value = json::find(jwt.header, "/alg");
    std::string alg = alg_value && alg_value->IsString() ? alg_value->GetString() : "";
    if (alg.empty() || str::iequals(alg, "none") || jwt.signature.empty())
      return oauth_error(400, "invalid_client", "50027",
                         "JWT token is invalid or malformed: the assertion is not signed.");
    {
      const json::Document& payload = jwt.payload;
      auto now = unix_seconds(std::chrono::system_clock::now());
      auto exp = json::opt_int(payload, "/exp");
      if (!exp || *exp <= now)
        return oauth_error(400, "invalid_client", "700024", "Client assertion is not within its valid time range.");
      if (auto nbf = json::opt_int(payload, "/nbf"); nbf && *nbf > now + 300)
        return oauth_error(400, "invalid_client", "700024", "Client assertion is not within its valid time range.");
      bool aud_ok = false;
      if (const auto* aud = json::find(payload, "/aud")) {
        if (aud->IsString()) aud_ok = std::string(aud->GetString()) == "api://AzureADTokenExchange";
        if (aud->IsArray())
          for (auto& a : aud->GetArray())
            if (a.IsString() && std::string(a.GetString()) == "api://AzureADTokenExchange") aud_ok = true;
      }
      if (!aud_ok)
        return oauth_error(400, "invalid_client", "700212",
                           "No matching federated identity record found for presented assertion audience (expected "
                           "api://AzureADTokenExchange).");
    }
  } else {
    return oauth_error(401, "invalid_client", "7000218",
                       "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.");
  }
  auto lifetime = std::chrono::duration_cast<std::chrono::seconds>(cfg_.token_lifetime).count();
  std::string token = issue_token(id_.client_id, cfg_.token_lifetime, audience);
  json::Document d(rapidjson::kObjectType);
  json::Builder b(d.GetAllocator());
  b.set(d, "token_type", "Bearer");
  if (v2) {
    b.set(d, "expires_in", static_cast<int64_t>(lifetime));
    b.set(d, "ext_expires_in", static_cast<int64_t>(lifetime));
  } else {
    b.set(d, "expires_in", std::to_string(lifetime));
    b.set(d, "ext_expires_in", std::to_string(lifetime));
    b.set(d, "expires_on", std::to_string(unix_seconds(std::chrono::system_clock::now()) + lifetime));
    b.set(d, "resource", audience);
  }
  b.set(d, "access_token", token);
  auto r = json_response(200, d);
  r.header("Cache-Control", "no-store, no-cache");
  return r;
}

}  // namespace amlops::local
