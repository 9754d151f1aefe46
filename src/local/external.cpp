#include "local/external.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <fstream>
#include <memory>
#include <pugixml.hpp>
#include <vector>

#include "core/error.hpp"
#include "core/files.hpp"
#include "core/hash.hpp"
#include "core/strings.hpp"

namespace amlops::local {

std::string shared_key_string_to_sign(const std::string& method, const std::map<std::string, std::string>& headers,
                                      const std::string& account, const std::string& raw_path,
                                      const std::multimap<std::string, std::string>& query) {
  auto h = [&](const char* n) {
    auto it = headers.find(n);
    return it == headers.end() ? std::string() : it->second;
  };
  std::string length = h("content-length");
  if (length == "0") length.clear();
  std::string to_sign = method + "\n" + h("content-encoding") + "\n" + h("content-language") + "\n" + length + "\n" +
                        h("content-md5") + "\n" + h("content-type") + "\n" + h("date") + "\n" + h("if-modified-since") +
                        "\n" + h("if-match") + "\n" + h("if-none-match") + "\n" + h("if-unmodified-since") + "\n" +
                        h("range") + "\n";
  for (auto& [k, v] : headers)  // std::map: sorted by lower-cased name
    if (k.rfind("x-ms-", 0) == 0) to_sign += k + ":" + std::string(str::trim(v)) + "\n";
  to_sign += "/" + account + raw_path;
  std::map<std::string, std::vector<std::string>> q;
  for (auto& [k, v] : query) q[str::to_lower(k)].push_back(v);
  for (auto& [k, vs] : q) {
    auto sorted = vs;
    std::sort(sorted.begin(), sorted.end());
    to_sign += "\n" + k + ":" + str::join(sorted, ",");
  }
  return to_sign;
}

std::string storage_signature(const std::string& key_b64, const std::string& text) {
  return hash::base64_encode(hash::hmac_sha256(hash::base64_decode(key_b64), text));
}

std::string service_sas(const std::string& account, const std::string& key_b64, const std::string& container,
                        const std::string& blob, const std::string& perms, Duration lifetime) {
  auto now = std::chrono::system_clock::now();
  std::string st = iso8601_utc(now - std::chrono::minutes(5));
  std::string se = iso8601_utc(now + lifetime);
  std::string sv = "2021-08-06";
  std::string sr = blob.empty() ? "c" : "b";
  std::string resource = "/blob/" + account + "/" + container + (blob.empty() ? "" : "/" + blob);
  std::string to_sign =
      perms + "\n" + st + "\n" + se + "\n" + resource + "\n\n\nhttp,https\n" + sv + "\n" + sr + "\n\n\n\n\n\n\n";
  std::string sig = storage_signature(key_b64, to_sign);
  return "sv=" + sv + "&sr=" + sr + "&sp=" + perms + "&st=" + str::url_encode(st) + "&se=" + str::url_encode(se) +
         "&spr=" + str::url_encode("http,https") + "&sig=" + str::url_encode(sig);
}

namespace {
size_t append(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

std::string url_path(const std::string& url) {
  auto scheme = url.find("://");
  auto slash = url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  return slash == std::string::npos ? "" : url.substr(slash);
}

std::string encode_path(const std::string& p) {
  std::vector<std::string> parts;
  for (auto& s : str::split(p, '/')) parts.push_back(str::url_encode(s));
  return str::join(parts, "/");
}

struct Reply {
  long status = 0;
  std::string body;
};

// One Shared Key request to the external account: `path` is "container[/blob]" (not encoded).
Reply request(const ExternalStorage& s, const std::string& method, const std::string& path,
              const std::multimap<std::string, std::string>& query) {
  std::string raw_path = url_path(s.endpoint) + "/" + encode_path(path);
  std::string url = s.endpoint + "/" + encode_path(path);
  char sep = '?';
  for (auto& [k, v] : query) {
    url += sep + str::url_encode(k) + "=" + str::url_encode(v);
    sep = '&';
  }
  std::map<std::string, std::string> headers = {{"x-ms-date", http_date(std::chrono::system_clock::now())},
                                                {"x-ms-version", "2021-08-06"}};
  if (method == "PUT") headers["content-length"] = "0";
  std::string to_sign = shared_key_string_to_sign(method, headers, s.account, raw_path, query);
  std::unique_ptr<CURL, void (*)(CURL*)> curl(curl_easy_init(), curl_easy_cleanup);
  if (!curl) throw std::runtime_error("cannot initialise libcurl");
  curl_slist* list = nullptr;
  for (auto& line : {"Authorization: SharedKey " + s.account + ":" + storage_signature(s.key, to_sign),
                     "x-ms-date: " + headers["x-ms-date"], "x-ms-version: " + headers["x-ms-version"],
                     std::string("Content-Type:"), std::string("Expect:")})
    list = curl_slist_append(list, line.c_str());
  std::unique_ptr<curl_slist, void (*)(curl_slist*)> hold(list, curl_slist_free_all);
  Reply r;
  curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
  if (method == "PUT") {
    curl_easy_setopt(curl.get(), CURLOPT_CUSTOMREQUEST, "PUT");
    curl_easy_setopt(curl.get(), CURLOPT_POSTFIELDS, "");
    curl_easy_setopt(curl.get(), CURLOPT_POSTFIELDSIZE, 0L);
  }
  curl_easy_setopt(curl.get(), CURLOPT_HTTPHEADER, list);
  curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, append);
  curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &r.body);
  curl_easy_setopt(curl.get(), CURLOPT_TIMEOUT, 300L);
  curl_easy_setopt(curl.get(), CURLOPT_NOSIGNAL, 1L);
  CURLcode rc = curl_easy_perform(curl.get());
  if (rc != CURLE_OK) throw std::runtime_error("cannot reach " + s.endpoint + ": " + curl_easy_strerror(rc));
  curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &r.status);
  return r;
}
}  // namespace

void ensure_external_container(const ExternalStorage& s, const std::string& container) {
  Reply r;
  try {
    r = request(s, "PUT", container, {{"restype", "container"}});
  } catch (const std::exception& e) {
    throw ConfigError(std::string("storage: ") + e.what());
  }
  if (r.status != 201 && r.status != 409)
    throw ConfigError("storage: creating container " + container + " at " + s.endpoint + " answered HTTP " +
                      std::to_string(r.status) + " (check account and key)");
}

bool fetch_external_blob(const ExternalStorage& s, const std::string& container, const std::string& name,
                         const std::filesystem::path& dest) {
  auto got = request(s, "GET", container + "/" + name, {});
  if (got.status == 404) return false;
  if (got.status != 200)
    throw std::runtime_error("blob " + container + "/" + name + " answered HTTP " + std::to_string(got.status));
  std::filesystem::create_directories(dest.parent_path());
  std::ofstream out(dest, std::ios::binary | std::ios::trunc);
  out.write(got.body.data(), static_cast<std::streamsize>(got.body.size()));
  if (!out) throw std::runtime_error("cannot write " + dest.string());
  return true;
}

size_t fetch_external_folder(const ExternalStorage& s, const std::string& container, const std::string& prefix,
                             const std::filesystem::path& dest) {
  std::string folder = prefix;
  while (!folder.empty() && folder.back() == '/') folder.pop_back();
  folder += "/";
  size_t count = 0;
  std::string marker;
  do {
    std::multimap<std::string, std::string> q = {{"restype", "container"}, {"comp", "list"}, {"prefix", folder}};
    if (!marker.empty()) q.emplace("marker", marker);
    auto r = request(s, "GET", container, q);
    if (r.status != 200)
      throw std::runtime_error("listing " + container + "/" + folder + " answered HTTP " + std::to_string(r.status));
    pugi::xml_document doc;
    if (!doc.load_buffer(r.body.data(), r.body.size()))
      throw std::runtime_error("listing " + container + "/" + folder + ": not XML");
    auto results = doc.child("EnumerationResults");
    for (auto b : results.child("Blobs").children("Blob")) {
      std::string name = b.child_value("Name");
      std::string rel = name.substr(folder.size());
      if (rel.empty() || !files::is_safe_relative(rel))
        throw std::runtime_error("blob " + name + " has a name that is not a safe relative path");
      if (!fetch_external_blob(s, container, name, dest / rel))
        throw std::runtime_error("blob " + container + "/" + name + " disappeared while downloading");
      ++count;
    }
    marker = results.child_value("NextMarker");
  } while (!marker.empty());
  return count;
}

}  // namespace amlops::local
