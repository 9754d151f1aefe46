#include "core/hash.hpp"

// SHA-256 and MD5 from OpenSSL's digest functions (its assembly: SHA extensions where the CPU has
// them, ~1.8 GB/s, which the content hash of a code folder needs), HMAC from mbed TLS. Not EVP:
// in OpenSSL 3 any EVP call links its provider machinery, 3.3 MB of every static binary, while
// these functions need nothing else of libcrypto (the static build has no other use for it: its
// libcurl uses mbed TLS, which libgit2 brings anyway). The digest functions are deprecated in
// OpenSSL 3 in favour of EVP, not removed.
#define OPENSSL_SUPPRESS_DEPRECATED
#include <mbedtls/md.h>
#include <openssl/evp.h>
#include <openssl/md5.h>
#include <openssl/sha.h>

#include <new>

#include "core/error.hpp"

namespace amlops::hash {

struct Sha256::Impl {
  SHA256_CTX ctx;
};

Sha256::Sha256() : impl_(std::make_unique<Impl>()) { SHA256_Init(&impl_->ctx); }
Sha256::~Sha256() = default;
void Sha256::update(std::string_view data) { SHA256_Update(&impl_->ctx, data.data(), data.size()); }
std::string Sha256::digest() {
  unsigned char out[SHA256_DIGEST_LENGTH];
  SHA256_Final(out, &impl_->ctx);
  return std::string(reinterpret_cast<char*>(out), sizeof out);
}
std::string Sha256::hex() { return to_hex(digest()); }

std::string sha256_hex(std::string_view data) {
  Sha256 h;
  h.update(data);
  return h.hex();
}

std::string md5_raw(std::string_view data) {
  unsigned char out[MD5_DIGEST_LENGTH];
  MD5(reinterpret_cast<const unsigned char*>(data.data()), data.size(), out);
  return std::string(reinterpret_cast<char*>(out), sizeof out);
}

std::string hmac_sha256(std::string_view key, std::string_view data) {
  unsigned char out[32];
  // With a known digest the only failure is an allocation.
  if (mbedtls_md_hmac(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), reinterpret_cast<const unsigned char*>(key.data()),
                      key.size(), reinterpret_cast<const unsigned char*>(data.data()), data.size(), out) != 0)
    throw std::bad_alloc();
  return std::string(reinterpret_cast<char*>(out), sizeof out);
}

std::string base64_encode(std::string_view raw) {
  std::string out(4 * ((raw.size() + 2) / 3), '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(raw.data()), static_cast<int>(raw.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

std::string base64_decode(std::string_view text) {
  if (text.size() % 4 != 0) throw ConfigError("invalid base64 (length not a multiple of 4)");
  std::string out(3 * text.size() / 4, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
  if (n < 0) throw ConfigError("invalid base64");
  size_t pad = 0;
  if (!text.empty() && text.back() == '=') ++pad;
  if (text.size() > 1 && text[text.size() - 2] == '=') ++pad;
  out.resize(static_cast<size_t>(n) - pad);
  return out;
}

std::string base64url_encode(std::string_view raw) {
  std::string s = base64_encode(raw);
  while (!s.empty() && s.back() == '=') s.pop_back();
  for (char& c : s) {
    if (c == '+')
      c = '-';
    else if (c == '/')
      c = '_';
  }
  return s;
}

std::string base64url_decode(std::string_view text) {
  std::string s(text);
  for (char& c : s) {
    if (c == '-')
      c = '+';
    else if (c == '_')
      c = '/';
  }
  while (s.size() % 4) s += '=';
  return base64_decode(s);
}

std::string to_hex(std::string_view raw) {
  static const char* hex = "0123456789abcdef";
  std::string out;
  out.reserve(raw.size() * 2);
  for (unsigned char c : raw) {
    out += hex[c >> 4];
    out += hex[c & 15];
  }
  return out;
}

}  // namespace amlops::hash
