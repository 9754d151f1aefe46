// Hashes and encodings on OpenSSL: SHA-256, MD5, HMAC-SHA256, base64.
#pragma once
#include <memory>
#include <string>
#include <string_view>

namespace amlops::hash {

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void update(std::string_view data);
  std::string hex();     // finishes
  std::string digest();  // finishes; raw 32 bytes

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

std::string sha256_hex(std::string_view data);
std::string md5_raw(std::string_view data);
std::string hmac_sha256(std::string_view key, std::string_view data);  // raw bytes
std::string base64_encode(std::string_view raw);
// Throws ConfigError on malformed input.
std::string base64_decode(std::string_view text);
std::string base64url_encode(std::string_view raw);  // no padding (JWT)
std::string base64url_decode(std::string_view text);
std::string to_hex(std::string_view raw);

}  // namespace amlops::hash
