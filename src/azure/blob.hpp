// Azure Blob Storage, the subset code/data upload and downloads need: Put Blob, Put Block and
// Put Block List (blocks uploaded in parallel), Get Blob with Range, Get Blob Properties, Set
// Blob Metadata and List Blobs. Auth: a SAS query, Shared Key (HMAC-SHA256) or an Entra bearer.
#pragma once
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "net/http.hpp"

namespace amlops::azure {

inline constexpr const char* kBlobApiVersion = "2021-08-06";

struct BlobAuth {
  enum class Kind { none, sas, shared_key, bearer } kind = Kind::none;
  std::string sas;                      // query string without '?'
  std::string account;                  // shared key: account name
  std::string key;                      // shared key: base64 account key
  std::function<std::string()> bearer;  // returns a storage-scope token

  static BlobAuth with_sas(std::string query);
  static BlobAuth with_shared_key(std::string account, std::string key_base64);
  static BlobAuth with_bearer(std::function<std::string()> token);
};

struct BlobProperties {
  uint64_t size = 0;
  std::string etag;
  std::string content_type;
  std::map<std::string, std::string> metadata;  // names lower-cased, without x-ms-meta-
};

struct BlobItem {
  std::string name;
  uint64_t size = 0;
  std::map<std::string, std::string> metadata;
};

struct UploadOptions {
  uint64_t block_size = 8ULL * 1024 * 1024;  // files larger than this go in blocks
  int parallelism = 4;
  std::map<std::string, std::string> metadata;
  std::string content_type = "application/octet-stream";
};

// Service SAS for a container (Shared Key signed), e.g. for tests and emulators.
std::string make_container_sas(const std::string& account, const std::string& key_base64, const std::string& container,
                               const std::string& permissions, std::chrono::system_clock::time_point expiry);

// Shared Key string-to-sign and signature (exposed for tests).
std::string shared_key_string_to_sign(const std::string& method, const std::string& url, const net::Headers& headers,
                                      const std::string& account, uint64_t content_length);

class BlobContainer {
 public:
  // `container_url`: https://acct.blob.core.windows.net/container or, path-style (emulators),
  // http://127.0.0.1:10000/acct/container. A SAS in the URL's query is taken as the auth.
  BlobContainer(net::Client& http, std::string container_url, BlobAuth auth = {});
  // From a container SAS URI ("https://.../container?sv=...&sig=...").
  static BlobContainer from_sas_uri(net::Client& http, const std::string& sas_uri);

  [[nodiscard]] const std::string& url() const { return base_; }
  [[nodiscard]] std::string blob_url(const std::string& name) const;  // without auth

  void create_container();  // 201, or 409 when it exists (fine)
  void put_blob(const std::string& name, const std::string& data, const UploadOptions& opts = {});
  void put_block(const std::string& name, const std::string& block_id, const std::string& data);
  void put_block_list(const std::string& name, const std::vector<std::string>& block_ids,
                      const UploadOptions& opts = {});
  // Put Blob for small files, else parallel Put Block + Put Block List. Returns the block count (0: Put Blob).
  size_t upload_file(const std::string& name, const std::filesystem::path& file, const UploadOptions& opts = {});
  std::optional<BlobProperties> head(const std::string& name);
  void set_metadata(const std::string& name, const std::map<std::string, std::string>& metadata);
  // Range [first, last]; last absent = to the end.
  std::string get(const std::string& name,
                  std::optional<std::pair<uint64_t, std::optional<uint64_t>>> range = std::nullopt);
  void download(const std::string& name, const std::filesystem::path& to);
  std::vector<BlobItem> list(const std::string& prefix = {});

  net::Response send(const std::string& method, const std::string& name, const std::string& query, net::Headers headers,
                     std::string body = {}, bool idempotent = true);

 private:
  net::Client& http_;
  std::string base_;     // container URL without query
  std::string account_;  // from the URL (path-style or host)
  BlobAuth auth_;
};

}  // namespace amlops::azure
