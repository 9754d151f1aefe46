#include "azure/blob.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <memory>
#include <mutex>
#include <pugixml.hpp>
#include <thread>

#include "core/error.hpp"
#include "core/hash.hpp"
#include "core/redact.hpp"
#include "core/strings.hpp"
#include "core/time.hpp"

namespace amlops::azure {

BlobAuth BlobAuth::with_sas(std::string query) {
  BlobAuth a;
  a.kind = Kind::sas;
  if (!query.empty() && query[0] == '?') query.erase(0, 1);
  a.sas = std::move(query);
  redact::add_secret(a.sas);
  return a;
}
BlobAuth BlobAuth::with_shared_key(std::string account, std::string key_base64) {
  BlobAuth a;
  a.kind = Kind::shared_key;
  a.account = std::move(account);
  a.key = std::move(key_base64);
  redact::add_secret(a.key);
  return a;
}
BlobAuth BlobAuth::with_bearer(std::function<std::string()> token) {
  BlobAuth a;
  a.kind = Kind::bearer;
  a.bearer = std::move(token);
  return a;
}

namespace {

struct UrlParts {
  std::string scheme_host;  // http://127.0.0.1:10000
  std::string host;         // 127.0.0.1
  std::string path;         // /acct/container/blob (encoded)
  std::string query;
};

// Splits a URL with libcurl's URL parser (the one that parses it again when it is sent).
UrlParts split_url(const std::string& url) {
  std::unique_ptr<CURLU, decltype(&curl_url_cleanup)> h(curl_url(), &curl_url_cleanup);
  if (!h) throw std::bad_alloc();
  if (curl_url_set(h.get(), CURLUPART_URL, url.c_str(), CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK)
    throw ConfigError("not a blob URL: " + redact::url(url));
  auto part = [&](CURLUPart what) {
    char* v = nullptr;
    std::string out;
    if (curl_url_get(h.get(), what, &v, 0) == CURLUE_OK && v) out = v;
    curl_free(v);
    return out;
  };
  UrlParts p;
  p.host = part(CURLUPART_HOST);
  std::string port = part(CURLUPART_PORT);
  p.scheme_host = part(CURLUPART_SCHEME) + "://" + p.host + (port.empty() ? "" : ":" + port);
  p.path = part(CURLUPART_PATH);
  if (p.path.empty()) p.path = "/";
  p.query = part(CURLUPART_QUERY);
  return p;
}

// Emulators (Azurite, amlops-local) put the account in the path: http://127.0.0.1:10000/acct/container.
bool path_style_host(const std::string& host) {
  if (host == "localhost" || (!host.empty() && host.front() == '[')) return true;
  return !host.empty() && std::all_of(host.begin(), host.end(),
                                      [](char c) { return std::isdigit(static_cast<unsigned char>(c)) || c == '.'; });
}

std::string encode_blob_name(const std::string& name) {
  std::vector<std::string> parts;
  for (auto& s : str::split(name, '/')) parts.push_back(str::url_encode(s));
  return str::join(parts, "/");
}

std::string header_value(const net::Headers& h, const std::string& name) {
  for (auto& [k, v] : h)
    if (str::iequals(k, name)) return v;
  return {};
}

// The text of /<root>/<child> of an XML document (storage error bodies), empty when absent.
std::string xml_child_text(const std::string& xml, const char* root, const char* child) {
  pugi::xml_document doc;
  if (!doc.load_buffer(xml.data(), xml.size())) return {};
  return doc.child(root).child(child).text().get();
}

[[noreturn]] void storage_error(const net::Response& r, const std::string& what) {
  std::string code = r.header("x-ms-error-code").value_or(xml_child_text(r.body, "Error", "Code"));
  std::string msg = xml_child_text(r.body, "Error", "Message");
  msg = msg.substr(0, msg.find('\n'));
  throw HttpError(r.status,
                  redact::text(what + ": HTTP " + std::to_string(r.status) + (code.empty() ? "" : " " + code) +
                               (msg.empty() ? "" : ": " + msg)),
                  code, r.header("x-ms-request-id").value_or(""));
}

}  // namespace

std::string shared_key_string_to_sign(const std::string& method, const std::string& url, const net::Headers& headers,
                                      const std::string& account, uint64_t content_length) {
  UrlParts u = split_url(url);
  std::string s = method + "\n";
  s += header_value(headers, "Content-Encoding") + "\n";
  s += header_value(headers, "Content-Language") + "\n";
  s += (content_length ? std::to_string(content_length) : std::string()) + "\n";
  s += header_value(headers, "Content-MD5") + "\n";
  s += header_value(headers, "Content-Type") + "\n";
  s += "\n";  // Date (x-ms-date is used)
  s += header_value(headers, "If-Modified-Since") + "\n";
  s += header_value(headers, "If-Match") + "\n";
  s += header_value(headers, "If-None-Match") + "\n";
  s += header_value(headers, "If-Unmodified-Since") + "\n";
  s += header_value(headers, "Range") + "\n";
  std::vector<std::pair<std::string, std::string>> ms;
  for (auto& [k, v] : headers) {
    std::string lk = str::to_lower(k);
    if (lk.rfind("x-ms-", 0) == 0) ms.emplace_back(lk, std::string(str::trim(v)));
  }
  std::sort(ms.begin(), ms.end());
  for (auto& [k, v] : ms) s += k + ":" + v + "\n";
  s += "/" + account + u.path;  // the encoded path, as the SDKs sign it
  std::map<std::string, std::vector<std::string>> q;
  if (!u.query.empty())
    for (auto& kv : str::split(u.query, '&')) {
      auto eq = kv.find('=');
      std::string k = str::to_lower(str::url_decode(kv.substr(0, eq)));
      std::string v = eq == std::string::npos ? "" : str::url_decode(kv.substr(eq + 1));
      q[k].push_back(v);
    }
  for (auto& [k, vs] : q) {
    auto sorted = vs;
    std::sort(sorted.begin(), sorted.end());
    s += "\n" + k + ":" + str::join(sorted, ",");
  }
  return s;
}

std::string make_container_sas(const std::string& account, const std::string& key_base64, const std::string& container,
                               const std::string& permissions, std::chrono::system_clock::time_point expiry) {
  const std::string sv = "2020-12-06";
  std::string se = iso8601_utc(expiry);
  std::string to_sign = permissions + "\n" +                                  // sp
                        "\n" +                                                // st
                        se + "\n" +                                           // se
                        "/blob/" + account + "/" + container + "\n" + "\n" +  // si
                        "\n" +                                                // sip
                        "\n" +                                                // spr
                        sv + "\n" +                                           // sv
                        "c\n" +                                               // sr
                        "\n" +                                                // snapshot time
                        "\n" +                                                // encryption scope
                        "\n\n\n\n";                                           // rscc rscd rsce rscl, then rsct (empty)
  std::string sig = hash::base64_encode(hash::hmac_sha256(hash::base64_decode(key_base64), to_sign));
  return "sv=" + sv + "&sr=c&sp=" + permissions + "&se=" + str::url_encode(se) + "&sig=" + str::url_encode(sig);
}

BlobContainer::BlobContainer(net::Client& http, std::string container_url, BlobAuth auth)
    : http_(http), auth_(std::move(auth)) {
  UrlParts u = split_url(container_url);
  while (u.path.size() > 1 && u.path.back() == '/') u.path.pop_back();
  base_ = u.scheme_host + u.path;
  if (!u.query.empty() && auth_.kind == BlobAuth::Kind::none) auth_ = BlobAuth::with_sas(u.query);
  if (path_style_host(u.host)) {
    auto segs = str::split(u.path.substr(1), '/');
    account_ = segs.empty() ? "" : segs[0];
  } else {
    account_ = u.host.substr(0, u.host.find('.'));
  }
  if (auth_.kind == BlobAuth::Kind::shared_key && auth_.account.empty()) auth_.account = account_;
}

BlobContainer BlobContainer::from_sas_uri(net::Client& http, const std::string& sas_uri) {
  return BlobContainer(http, sas_uri);
}

std::string BlobContainer::blob_url(const std::string& name) const {
  return name.empty() ? base_ : base_ + "/" + encode_blob_name(name);
}

net::Response BlobContainer::send(const std::string& method, const std::string& name, const std::string& query,
                                  net::Headers headers, std::string body, bool idempotent) {
  std::string url = blob_url(name);
  std::string q = query;
  if (auth_.kind == BlobAuth::Kind::sas) q = q.empty() ? auth_.sas : q + "&" + auth_.sas;
  if (!q.empty()) url += "?" + q;
  headers.emplace_back("x-ms-version", kBlobApiVersion);
  headers.emplace_back("x-ms-date", http_date(std::chrono::system_clock::now()));
  // libcurl sends a form content type with any request body unless one is set; it is signed.
  if (method != "GET" && method != "HEAD" && header_value(headers, "Content-Type").empty())
    headers.emplace_back("Content-Type", "application/octet-stream");
  if (auth_.kind == BlobAuth::Kind::shared_key) {
    std::string to_sign = shared_key_string_to_sign(method, url, headers, auth_.account, body.size());
    std::string sig = hash::base64_encode(hash::hmac_sha256(hash::base64_decode(auth_.key), to_sign));
    headers.emplace_back("Authorization", "SharedKey " + auth_.account + ":" + sig);
  } else if (auth_.kind == BlobAuth::Kind::bearer) {
    headers.emplace_back("Authorization", "Bearer " + auth_.bearer());
  }
  net::Request req;
  req.method = method;
  req.url = url;
  req.headers = std::move(headers);
  req.body = std::move(body);
  req.idempotent = idempotent;
  return http_.send(std::move(req));
}

void BlobContainer::create_container() {
  auto r = send("PUT", "", "restype=container", {});
  if (!r.ok() && r.status != 409) storage_error(r, "create container " + redact::url(base_));
}

namespace {
void add_metadata(net::Headers& h, const std::map<std::string, std::string>& md) {
  for (auto& [k, v] : md) h.emplace_back("x-ms-meta-" + k, v);
}
}  // namespace

void BlobContainer::put_blob(const std::string& name, const std::string& data, const UploadOptions& opts) {
  net::Headers h = {{"x-ms-blob-type", "BlockBlob"}, {"Content-Type", opts.content_type}};
  add_metadata(h, opts.metadata);
  auto r = send("PUT", name, "", h, data);
  if (!r.ok()) storage_error(r, "Put Blob " + name);
}

void BlobContainer::put_block(const std::string& name, const std::string& block_id, const std::string& data) {
  auto r = send("PUT", name, "comp=block&blockid=" + str::url_encode(block_id),
                {{"Content-Type", "application/octet-stream"}}, data);
  if (!r.ok()) storage_error(r, "Put Block " + name);
}

void BlobContainer::put_block_list(const std::string& name, const std::vector<std::string>& ids,
                                   const UploadOptions& opts) {
  std::string xml = "<?xml version=\"1.0\" encoding=\"utf-8\"?><BlockList>";
  for (auto& id : ids) xml += "<Latest>" + id + "</Latest>";
  xml += "</BlockList>";
  net::Headers h = {{"Content-Type", "application/xml"}, {"x-ms-blob-content-type", opts.content_type}};
  add_metadata(h, opts.metadata);
  auto r = send("PUT", name, "comp=blocklist", h, xml);
  if (!r.ok()) storage_error(r, "Put Block List " + name);
}

size_t BlobContainer::upload_file(const std::string& name, const std::filesystem::path& file,
                                  const UploadOptions& opts) {
  std::error_code ec;
  uint64_t size = std::filesystem::file_size(file, ec);
  if (ec) throw ConfigError("cannot read " + file.string() + ": " + ec.message());
  if (size <= opts.block_size) {
    std::string data = size ? std::string() : std::string();
    std::ifstream in(file, std::ios::binary);
    data.resize(size);
    if (size && !in.read(data.data(), static_cast<std::streamsize>(size)))
      throw ConfigError("cannot read " + file.string());
    put_blob(name, data, opts);
    return 0;
  }
  size_t blocks = static_cast<size_t>((size + opts.block_size - 1) / opts.block_size);
  std::vector<std::string> ids(blocks);
  for (size_t i = 0; i < blocks; ++i) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%08zu", i);
    ids[i] = hash::base64_encode(std::string("block-") + buf);  // equal length for every block
  }
  std::atomic<size_t> next{0};
  std::mutex err_mu;
  std::exception_ptr error;
  auto worker = [&] {
    std::ifstream in(file, std::ios::binary);
    for (;;) {
      size_t i = next.fetch_add(1);
      if (i >= blocks) return;
      {
        std::lock_guard<std::mutex> lock(err_mu);
        if (error) return;
      }
      try {
        uint64_t off = i * opts.block_size;
        uint64_t len = std::min<uint64_t>(opts.block_size, size - off);
        std::string data(len, '\0');
        in.seekg(static_cast<std::streamoff>(off));
        if (!in.read(data.data(), static_cast<std::streamsize>(len))) throw ConfigError("cannot read " + file.string());
        put_block(name, ids[i], data);
      } catch (...) {
        std::lock_guard<std::mutex> lock(err_mu);
        if (!error) error = std::current_exception();
        return;
      }
    }
  };
  int n = std::max(1, std::min<int>(opts.parallelism, static_cast<int>(blocks)));
  std::vector<std::thread> threads;
  for (int t = 0; t < n; ++t) threads.emplace_back(worker);
  for (auto& t : threads) t.join();
  if (error) std::rethrow_exception(error);
  put_block_list(name, ids, opts);
  return blocks;
}

std::optional<BlobProperties> BlobContainer::head(const std::string& name) {
  auto r = send("HEAD", name, "", {});
  if (r.status == 404) return std::nullopt;
  if (!r.ok()) storage_error(r, "Get Blob Properties " + name);
  BlobProperties p;
  p.size = static_cast<uint64_t>(str::parse_int(r.header("content-length").value_or("0")).value_or(0));
  p.etag = r.header("etag").value_or("");
  p.content_type = r.header("content-type").value_or("");
  for (auto& [k, v] : r.headers)
    if (k.rfind("x-ms-meta-", 0) == 0) p.metadata[k.substr(10)] = v;
  return p;
}

void BlobContainer::set_metadata(const std::string& name, const std::map<std::string, std::string>& md) {
  net::Headers h;
  add_metadata(h, md);
  auto r = send("PUT", name, "comp=metadata", h);
  if (!r.ok()) storage_error(r, "Set Blob Metadata " + name);
}

std::string BlobContainer::get(const std::string& name,
                               std::optional<std::pair<uint64_t, std::optional<uint64_t>>> range) {
  net::Headers h;
  if (range)
    h.emplace_back("x-ms-range", "bytes=" + std::to_string(range->first) + "-" +
                                     (range->second ? std::to_string(*range->second) : ""));
  auto r = send("GET", name, "", h);
  if (range && r.status == 416) return {};
  if (!r.ok()) storage_error(r, "Get Blob " + name);
  return r.body;
}

void BlobContainer::download(const std::string& name, const std::filesystem::path& to) {
  std::string url = blob_url(name);
  net::Headers headers = {{"x-ms-version", kBlobApiVersion},
                          {"x-ms-date", http_date(std::chrono::system_clock::now())}};
  if (auth_.kind == BlobAuth::Kind::sas) url += "?" + auth_.sas;
  if (auth_.kind == BlobAuth::Kind::shared_key) {
    std::string sig = hash::base64_encode(hash::hmac_sha256(
        hash::base64_decode(auth_.key), shared_key_string_to_sign("GET", url, headers, auth_.account, 0)));
    headers.emplace_back("Authorization", "SharedKey " + auth_.account + ":" + sig);
  } else if (auth_.kind == BlobAuth::Kind::bearer) {
    headers.emplace_back("Authorization", "Bearer " + auth_.bearer());
  }
  std::filesystem::create_directories(to.parent_path());
  net::Request req;
  req.url = url;
  req.headers = headers;
  req.download_to = to;
  auto r = http_.send(std::move(req));
  if (!r.ok()) storage_error(r, "Get Blob " + name);
}

std::vector<BlobItem> BlobContainer::list(const std::string& prefix) {
  std::vector<BlobItem> out;
  std::string marker;
  for (;;) {
    std::string q = "restype=container&comp=list&include=metadata";
    if (!prefix.empty()) q += "&prefix=" + str::url_encode(prefix);
    if (!marker.empty()) q += "&marker=" + str::url_encode(marker);
    auto r = send("GET", "", q, {});
    if (!r.ok()) storage_error(r, "List Blobs " + redact::url(base_));
    pugi::xml_document doc;
    if (!doc.load_buffer(r.body.data(), r.body.size()))
      throw HttpError(r.status, "List Blobs " + redact::url(base_) + ": the answer is not XML");
    pugi::xml_node results = doc.child("EnumerationResults");
    for (pugi::xml_node b : results.child("Blobs").children("Blob")) {
      BlobItem item;
      item.name = b.child("Name").text().get();
      item.size = b.child("Properties").child("Content-Length").text().as_ullong();
      for (pugi::xml_node m : b.child("Metadata").children())
        if (m.type() == pugi::node_element) item.metadata[str::to_lower(m.name())] = m.text().get();
      out.push_back(std::move(item));
    }
    marker = results.child("NextMarker").text().get();
    if (marker.empty()) break;
  }
  return out;
}

}  // namespace amlops::azure
