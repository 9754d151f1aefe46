// Storage signing shared by the blob subset (verification) and the external storage account
// (`storage:` in config.yml): Shared Key string-to-sign, service SAS, and creating a container
// in the external account with libcurl (never src/azure's client).
#pragma once
#include <filesystem>
#include <map>
#include <string>

#include "core/time.hpp"
#include "local/config.hpp"

namespace amlops::local {

// The Shared Key string-to-sign (version 2015-02-21+) of a path-style blob request: canonical
// resource "/" + account + raw URL path. `headers` have lower-cased names; `query` is decoded.
std::string shared_key_string_to_sign(const std::string& method, const std::map<std::string, std::string>& headers,
                                      const std::string& account, const std::string& raw_path,
                                      const std::multimap<std::string, std::string>& query);

// base64(HMAC-SHA256(base64-decoded key, text)).
std::string storage_signature(const std::string& key_b64, const std::string& text);

// A service SAS query (no leading '?'): sr=c for a container, sr=b for one blob.
std::string service_sas(const std::string& account, const std::string& key_b64, const std::string& container,
                        const std::string& blob, const std::string& perms, Duration lifetime);

// Creates `container` in the external account (Shared Key); an existing one is fine. Throws
// ConfigError naming the endpoint when the account cannot be reached or refuses.
void ensure_external_container(const ExternalStorage& s, const std::string& container);

// Downloads one blob of the external account to `dest`; false when it does not exist (404).
bool fetch_external_blob(const ExternalStorage& s, const std::string& container, const std::string& name,
                         const std::filesystem::path& dest);

// Downloads every blob of the external account's `container` under the folder `prefix` into
// `dest` (names relative to the folder; List Blobs with paging, then one Get Blob each, Shared
// Key). Returns the number of files. Throws std::runtime_error naming the blob on failure.
size_t fetch_external_folder(const ExternalStorage& s, const std::string& container, const std::string& prefix,
                             const std::filesystem::path& dest);

}  // namespace amlops::local
