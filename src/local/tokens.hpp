// Bearer tokens of amlops-local: HS256 JSON Web Tokens (RFC 7519) signed with the store's key.
// HMAC and base64url come from OpenSSL (core/hash); the signature is compared in constant time
// (CRYPTO_memcmp). No Debian C++ JWT library fits: libcpp-jwt-dev compares HMAC signatures with
// operator== and brings a second JSON library; libjwt is C and brings jansson.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.hpp"

namespace amlops::local {

// header.payload.signature with {"alg":"HS256","typ":"JWT","kid":kid}.
std::string jwt_sign_hs256(std::string_view key, const json::Value& payload, const std::string& kid);

enum class JwtError { none, malformed, bad_algorithm, bad_signature, expired, not_yet_valid, wrong_audience };

struct JwtCheck {
  JwtError error = JwtError::none;
  std::string reason;  // for the error message, empty when valid
  json::Document payload;
  explicit operator bool() const { return error == JwtError::none; }
};

// Verifies an HS256 token at unix time `now`: alg, signature, exp (required), nbf (60 s skew)
// and, when `audiences` is not empty, that `aud` names one of them (a trailing '/' is ignored).
JwtCheck jwt_verify_hs256(std::string_view key, const std::string& token, int64_t now,
                          const std::vector<std::string>& audiences = {});

// Header and payload of a token, unverified (client assertions of other issuers). Throws
// std::runtime_error when it is not three base64url parts of which the first two are JSON objects.
struct JwtParts {
  json::Document header;
  json::Document payload;
  std::string signature;  // as sent (base64url)
};
JwtParts jwt_decode(const std::string& token);

// Audiences amlops-local accepts: ARM, MLflow and run history take management/ML tokens; blob takes storage tokens.
const std::vector<std::string>& arm_audiences();
const std::vector<std::string>& storage_audiences();

}  // namespace amlops::local
