// The blob subset: path-style URLs http://127.0.0.1:PORT/<account>/<container>/<blob> (as
// Azurite), Put Blob, Put Block, Put Block List, Get Blob (Range), Get Blob Properties, metadata,
// List Blobs, containers. Authorised by a service SAS, Shared Key or a bearer token.
#include <algorithm>
#include <charconv>
#include <fstream>
#include <limits>
#include <pugixml.hpp>
#include <regex>
#include <sstream>

#include "core/error.hpp"
#include "core/files.hpp"
#include "core/hash.hpp"
#include "core/strings.hpp"
#include "local/app.hpp"
#include "local/external.hpp"
#include "local/tokens.hpp"

namespace amlops::local {

namespace fs = std::filesystem;

namespace {

const char* kStorageVersion = "2021-08-06";

// An XML document as Azure Storage answers it: declaration, no indentation.
pugi::xml_document xml_doc() {
  pugi::xml_document doc;
  auto decl = doc.append_child(pugi::node_declaration);
  decl.append_attribute("version") = "1.0";
  decl.append_attribute("encoding") = "utf-8";
  return doc;
}

std::string xml_text(const pugi::xml_document& doc) {
  std::ostringstream os;
  doc.save(os, "", pugi::format_raw, pugi::encoding_utf8);
  return os.str();
}

// <name>text</name> under parent.
pugi::xml_node add_text(pugi::xml_node parent, const char* name, const std::string& text) {
  auto n = parent.append_child(name);
  n.text().set(text.c_str());
  return n;
}

net::ServerResponse xml_response(int status, const pugi::xml_document& doc) {
  net::ServerResponse r;
  r.status = status;
  r.body = xml_text(doc);
  r.header("Content-Type", "application/xml");
  return r;
}

net::ServerResponse storage_error(int status, const std::string& code, const std::string& message) {
  auto doc = xml_doc();
  auto e = doc.append_child("Error");
  add_text(e, "Code", code);
  add_text(e, "Message", message + "\nTime:" + iso8601_utc(std::chrono::system_clock::now(), true));
  auto r = xml_response(status, doc);
  r.header("x-ms-error-code", code);
  r.header("x-ms-version", kStorageVersion);
  return r;
}

std::string etag_of(const fs::path& p) {
  std::error_code ec;
  auto t = fs::last_write_time(p, ec);
  auto n = static_cast<uint64_t>(t.time_since_epoch().count()) ^
           (static_cast<uint64_t>(fs::is_regular_file(p) ? fs::file_size(p, ec) : 0) << 1);
  char buf[32];
  std::snprintf(buf, sizeof buf, "\"0x%016llX\"", static_cast<unsigned long long>(n));
  return buf;
}

std::chrono::system_clock::time_point mtime_of(const fs::path& p) {
  std::error_code ec;
  auto t = fs::last_write_time(p, ec);
  return std::chrono::time_point_cast<std::chrono::system_clock::duration>(std::chrono::file_clock::to_sys(t));
}

bool valid_blob_name(const std::string& n) {
  if (n.empty() || n.size() > 1024 || !files::is_safe_relative(n)) return false;
  for (auto& part : str::split(n, '/'))
    if (part.empty() || part == "." || part == "..") return false;
  static const std::regex tmp(R"(\.tmp-[0-9a-f]{12}$)");
  return !std::regex_search(n, tmp);
}

std::map<std::string, std::string> meta_headers(const net::ServerRequest& req) {
  std::map<std::string, std::string> m;
  for (auto& [k, v] : req.headers)
    if (k.rfind("x-ms-meta-", 0) == 0) m[k.substr(10)] = v;
  return m;
}

std::string meta_json(const std::map<std::string, std::string>& m) {
  json::Document d(rapidjson::kObjectType);
  json::Builder b(d.GetAllocator());
  for (auto& [k, v] : m) b.set(d, k, v);
  return json::dump(d);
}

std::map<std::string, std::string> meta_from_json(const std::string& s) {
  std::map<std::string, std::string> m;
  if (s.empty()) return m;
  auto d = json::parse(s);
  for (auto& kv : d.GetObject()) m[kv.name.GetString()] = json::scalar_text(kv.value);
  return m;
}

}  // namespace

bool valid_container(const std::string& c) {
  static const std::regex re("^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$");
  return std::regex_match(c, re) && c.find("--") == std::string::npos;
}

std::optional<net::ServerResponse> App::blob_credentials_failure(const net::ServerRequest& req) const {
  auto auth = req.header("authorization");
  // A SAS or Shared Key signs the request's headers: route_blob verifies it once the request is complete.
  if (req.param("sig") || (auth && auth->rfind("SharedKey ", 0) == 0)) return std::nullopt;
  if (auth && auth->size() > 7 && str::iequals(auth->substr(0, 7), "bearer ")) {
    if (check_token(std::string(str::trim(auth->substr(7))), storage_audiences()).empty()) return std::nullopt;
    return storage_error(401, "InvalidAuthenticationInfo",
                         "Server failed to authenticate the request. The token is invalid or expired.");
  }
  return storage_error(
      401, "NoAuthenticationInformation",
      "Server failed to authenticate the request. Please refer to the information in the www-authenticate header.");
}

net::ServerResponse App::route_blob(const net::ServerRequest& req, const std::vector<std::string>& seg) {
  const std::string& m = req.method;
  std::string container = seg.size() > 1 ? seg[1] : "";
  std::string blob;
  for (size_t i = 2; i < seg.size(); ++i) blob += (blob.empty() ? "" : "/") + seg[i];
  std::string comp = req.param("comp").value_or("");
  std::string restype = req.param("restype").value_or("");

  // --- Authorisation: SAS, Shared Key or bearer.
  char need = 'r';
  if (m == "PUT")
    need = 'w';
  else if (m == "DELETE")
    need = 'd';
  else if (comp == "list")
    need = 'l';
  auto auth = req.header("authorization");
  if (auto sig = req.param("sig")) {
    std::string sv = req.param("sv").value_or(""), sr = req.param("sr").value_or(""), sp = req.param("sp").value_or("");
    std::string st = req.param("st").value_or(""), se = req.param("se").value_or("");
    if (sr != "c" && sr != "b")
      return storage_error(403, "AuthenticationFailed", "Only service SAS with sr=c or sr=b is accepted.");
    if (container.empty())
      return storage_error(403, "AuthorizationResourceTypeMismatch", "A container SAS cannot list containers.");
    std::string resource = "/blob/" + id_.account + "/" + container + (sr == "b" ? "/" + blob : "");
    std::string to_sign = sp + "\n" + st + "\n" + se + "\n" + resource + "\n" + req.param("si").value_or("") + "\n" +
                          req.param("sip").value_or("") + "\n" + req.param("spr").value_or("") + "\n" + sv + "\n" + sr +
                          "\n" + req.param("snapshot").value_or("") + "\n" + req.param("ses").value_or("") + "\n" +
                          req.param("rscc").value_or("") + "\n" + req.param("rscd").value_or("") + "\n" +
                          req.param("rsce").value_or("") + "\n" + req.param("rscl").value_or("") + "\n" +
                          req.param("rsct").value_or("");
    std::string expect = storage_signature(id_.account_key, to_sign);
    if (expect != *sig)
      return storage_error(403, "AuthenticationFailed",
                           "Server failed to authenticate the request. Signature did not match.");
    auto now = std::chrono::system_clock::now();
    try {
      if (se.empty() || parse_iso8601(se) < now)
        return storage_error(403, "AuthenticationFailed", "Signed expiry time has passed.");
      if (!st.empty() && parse_iso8601(st) > now)
        return storage_error(403, "AuthenticationFailed", "Signed start time is in the future.");
    } catch (const std::exception&) {
      return storage_error(403, "AuthenticationFailed", "Invalid st/se in the SAS.");
    }
    bool ok = sp.find(need) != std::string::npos || (need == 'w' && sp.find('c') != std::string::npos && comp.empty());
    if (!ok)
      return storage_error(403, "AuthorizationPermissionMismatch",
                           "This request is not authorized to perform this operation using this permission.");
  } else if (auth && auth->rfind("SharedKey ", 0) == 0) {
    std::string cred = auth->substr(10);
    auto colon = cred.find(':');
    if (colon == std::string::npos || cred.substr(0, colon) != id_.account)
      return storage_error(403, "AuthenticationFailed", "Server failed to authenticate the request (unknown account).");
    std::string raw_path = req.target.substr(0, req.target.find('?'));
    std::string to_sign = shared_key_string_to_sign(m, req.headers, id_.account, raw_path, req.query);
    std::string expect = storage_signature(id_.account_key, to_sign);
    if (expect != cred.substr(colon + 1))
      return storage_error(403, "AuthenticationFailed",
                           "Server failed to authenticate the request. Make sure the value of Authorization header is "
                           "formed correctly including the signature.");
  } else if (auth && auth->size() > 7 && str::iequals(auth->substr(0, 7), "bearer ")) {
    if (!check_token(std::string(str::trim(auth->substr(7))), storage_audiences()).empty())
      return storage_error(401, "InvalidAuthenticationInfo",
                           "Server failed to authenticate the request. The token is invalid or expired.");
  } else {
    return storage_error(
        401, "NoAuthenticationInformation",
        "Server failed to authenticate the request. Please refer to the information in the www-authenticate header.");
  }

  auto ok = [](int status) {
    net::ServerResponse r;
    r.status = status;
    r.header("x-ms-version", kStorageVersion);
    return r;
  };

  // --- Service: list containers.
  if (container.empty()) {
    if (m == "GET" && comp == "list") {
      std::string prefix = req.param("prefix").value_or("");
      auto doc = xml_doc();
      auto root = doc.append_child("EnumerationResults");
      root.append_attribute("ServiceEndpoint") = (base_url_ + "/" + id_.account + "/").c_str();
      add_text(root, "Prefix", prefix);
      auto list = root.append_child("Containers");
      std::vector<std::string> names;
      std::error_code ec;
      for (auto& e : fs::directory_iterator(blob_root(), ec))
        if (e.is_directory() && e.path().filename().string().rfind(prefix, 0) == 0)
          names.push_back(e.path().filename().string());
      std::sort(names.begin(), names.end());
      for (auto& n : names) {
        auto c = list.append_child("Container");
        add_text(c, "Name", n);
        auto props = c.append_child("Properties");
        add_text(props, "Last-Modified", http_date(mtime_of(blob_root() / n)));
        add_text(props, "Etag", etag_of(blob_root() / n));
      }
      root.append_child("NextMarker");
      auto r = xml_response(200, doc);
      r.header("x-ms-version", kStorageVersion);
      return r;
    }
    return storage_error(400, "UnsupportedQueryParameter",
                         "Only List Containers (comp=list) is supported on the account.");
  }
  if (!valid_container(container))
    return storage_error(400, "InvalidResourceName", "The specifed resource name contains invalid characters.");
  fs::path cdir = blob_root() / container;

  // --- Container operations.
  if (blob.empty()) {
    if (restype != "container")
      return storage_error(400, "InvalidQueryParameterValue", "restype=container is required.");
    if (m == "PUT" && comp.empty()) {
      if (fs::exists(cdir))
        return storage_error(409, "ContainerAlreadyExists", "The specified container already exists.");
      fs::create_directories(cdir);
      auto r = ok(201);
      r.header("ETag", etag_of(cdir));
      r.header("Last-Modified", http_date(mtime_of(cdir)));
      return r;
    }
    if (!fs::is_directory(cdir))
      return storage_error(404, "ContainerNotFound", "The specified container does not exist.");
    if ((m == "GET" || m == "HEAD") && comp.empty()) {
      auto r = ok(200);
      r.header("ETag", etag_of(cdir));
      r.header("Last-Modified", http_date(mtime_of(cdir)));
      r.header("x-ms-lease-status", "unlocked");
      r.header("x-ms-lease-state", "available");
      return r;
    }
    if (m == "DELETE") {
      std::error_code ec;
      fs::remove_all(cdir, ec);
      store_->exec("DELETE FROM blob_props WHERE container=?", {container});
      return ok(202);
    }
    if (m == "GET" && comp == "list") {
      std::string prefix = req.param("prefix").value_or("");
      std::string delimiter = req.param("delimiter").value_or("");
      std::string marker = req.param("marker").value_or("");
      size_t max = static_cast<size_t>(
          std::clamp<int64_t>(str::parse_int(req.param("maxresults").value_or("5000")).value_or(5000), 1, 5000));
      bool with_meta = req.param("include").value_or("").find("metadata") != std::string::npos;
      std::vector<std::string> names;
      std::error_code ec;
      static const std::regex tmp(R"(\.tmp-[0-9a-f]{12}$)");
      for (auto it = fs::recursive_directory_iterator(cdir, ec); it != fs::recursive_directory_iterator();
           it.increment(ec)) {
        if (ec) break;
        if (!it->is_regular_file()) continue;
        std::string rel = it->path().lexically_relative(cdir).generic_string();
        if (std::regex_search(rel, tmp)) continue;
        if (rel.rfind(prefix, 0) == 0) names.push_back(rel);
      }
      std::sort(names.begin(), names.end());
      std::map<std::string, std::pair<std::string, std::string>> props;  // name -> (content type, md5)
      std::map<std::string, std::string> metas;
      for (auto& r : store_->query("SELECT name, content_type, content_md5, metadata FROM blob_props WHERE container=?",
                                   {container})) {
        props[r.str(0)] = {r.str(1), r.str(2)};
        metas[r.str(0)] = r.str(3);
      }
      auto doc = xml_doc();
      auto root = doc.append_child("EnumerationResults");
      root.append_attribute("ServiceEndpoint") = (base_url_ + "/" + id_.account + "/").c_str();
      root.append_attribute("ContainerName") = container.c_str();
      add_text(root, "Prefix", prefix);
      add_text(root, "Marker", marker);
      add_text(root, "MaxResults", std::to_string(max));
      if (!delimiter.empty()) add_text(root, "Delimiter", delimiter);
      auto blobs = root.append_child("Blobs");
      size_t count = 0;
      std::string next;
      std::string last_prefix;
      for (auto& n : names) {
        if (!marker.empty() && n <= marker) continue;
        std::string entry_prefix;
        if (!delimiter.empty()) {
          auto pos = n.find(delimiter, prefix.size());
          if (pos != std::string::npos) entry_prefix = n.substr(0, pos + delimiter.size());
        }
        if (!entry_prefix.empty() && entry_prefix == last_prefix) continue;
        if (count == max) {
          next = n;
          break;
        }
        ++count;
        if (!entry_prefix.empty()) {
          last_prefix = entry_prefix;
          add_text(blobs.append_child("BlobPrefix"), "Name", entry_prefix);
          continue;
        }
        fs::path p = cdir / n;
        std::error_code sec;
        auto size = fs::file_size(p, sec);
        auto pr = props.find(n);
        auto be = blobs.append_child("Blob");
        add_text(be, "Name", n);
        auto bp = be.append_child("Properties");
        add_text(bp, "Creation-Time", http_date(mtime_of(p)));
        add_text(bp, "Last-Modified", http_date(mtime_of(p)));
        add_text(bp, "Etag", etag_of(p));
        add_text(bp, "Content-Length", std::to_string(size));
        add_text(bp, "Content-Type",
                 pr != props.end() && !pr->second.first.empty() ? pr->second.first : "application/octet-stream");
        add_text(bp, "Content-MD5", pr != props.end() ? pr->second.second : "");
        add_text(bp, "BlobType", "BlockBlob");
        add_text(bp, "AccessTier", "Hot");
        add_text(bp, "LeaseStatus", "unlocked");
        add_text(bp, "LeaseState", "available");
        add_text(bp, "ServerEncrypted", "true");
        if (with_meta) {
          auto md = be.append_child("Metadata");
          auto mi = metas.find(n);
          if (mi != metas.end())
            for (auto& [k, v] : meta_from_json(mi->second)) add_text(md, k.c_str(), v);
        }
      }
      add_text(root, "NextMarker", next);
      auto r = xml_response(200, doc);
      r.header("x-ms-version", kStorageVersion);
      return r;
    }
    return storage_error(400, "UnsupportedHttpVerb", "Unsupported container operation.");
  }

  // --- Blob operations.
  if (!valid_blob_name(blob))
    return storage_error(400, "InvalidResourceName",
                         "The blob name '" + blob + "' is not allowed (no '.', '..' or empty segments).");
  if (!fs::is_directory(cdir))
    return storage_error(404, "ContainerNotFound", "The specified container does not exist.");
  fs::path path = cdir / blob;
  if (!files::is_within(cdir, path)) return storage_error(400, "InvalidResourceName", "The blob name is not allowed.");
  auto conflict = [&]() -> std::optional<net::ServerResponse> {
    if (fs::is_directory(path))
      return storage_error(409, "BlobPathConflict",
                           "A blob name cannot also be a folder of other blobs in amlops-local.");
    for (auto p = path.parent_path(); p != cdir && !p.empty(); p = p.parent_path())
      if (fs::is_regular_file(p))
        return storage_error(409, "BlobPathConflict", "A folder of this blob name is itself a blob.");
    return std::nullopt;
  };
  auto set_props = [&](const std::string& ctype, const std::string& md5,
                       const std::map<std::string, std::string>& meta) {
    store_->exec(
        "INSERT OR REPLACE INTO blob_props(container, name, content_type, content_md5, metadata) VALUES(?, ?, ?, ?, ?)",
        {container, blob, ctype, md5, meta_json(meta)});
  };
  auto blob_headers = [&](net::ServerResponse& r) {
    r.header("ETag", etag_of(path));
    r.header("Last-Modified", http_date(mtime_of(path)));
  };
  auto blocks_dir = cfg_.data_dir / "blocks" / container / hash::sha256_hex(blob).substr(0, 32);

  if (m == "PUT" && comp.empty()) {
    std::string type = req.header("x-ms-blob-type").value_or("");
    if (type != "BlockBlob")
      return storage_error(400, "InvalidHeaderValue",
                           "x-ms-blob-type must be BlockBlob (page and append blobs are not supported).");
    if (auto c = conflict()) return *c;
    if (req.header("if-none-match").value_or("") == "*" && fs::exists(path))
      return storage_error(409, "BlobAlreadyExists", "The specified blob already exists.");
    std::string md5 = hash::base64_encode(hash::md5_raw(req.body));
    if (auto given = req.header("content-md5"); given && *given != md5)
      return storage_error(
          400, "Md5Mismatch",
          "The MD5 value specified in the request did not match with the MD5 value calculated by the server.");
    files::write_atomic(path, req.body);
    std::string ctype =
        req.header("x-ms-blob-content-type").value_or(req.header("content-type").value_or("application/octet-stream"));
    set_props(ctype, md5, meta_headers(req));
    auto r = ok(201);
    blob_headers(r);
    r.header("Content-MD5", md5);
    r.header("x-ms-request-server-encrypted", "true");
    return r;
  }
  if (m == "PUT" && comp == "block") {
    std::string id = req.param("blockid").value_or("");
    std::string raw;
    try {
      raw = hash::base64_decode(id);
    } catch (const std::exception&) {
      return storage_error(400, "InvalidQueryParameterValue", "blockid must be base64.");
    }
    if (raw.empty() || raw.size() > 64)
      return storage_error(400, "InvalidQueryParameterValue", "blockid must decode to 1..64 bytes.");
    if (auto given = req.header("content-md5"); given && *given != hash::base64_encode(hash::md5_raw(req.body)))
      return storage_error(
          400, "Md5Mismatch",
          "The MD5 value specified in the request did not match with the MD5 value calculated by the server.");
    files::write_atomic(blocks_dir / hash::to_hex(raw), req.body);
    auto r = ok(201);
    r.header("x-ms-request-server-encrypted", "true");
    return r;
  }
  if (m == "PUT" && comp == "blocklist") {
    if (auto c = conflict()) return *c;
    pugi::xml_document list;
    pugi::xml_node root;
    if (!list.load_buffer(req.body.data(), req.body.size(), pugi::parse_default, pugi::encoding_utf8) ||
        !(root = list.child("BlockList")))
      return storage_error(400, "InvalidXmlDocument", "XML specified is not syntactically valid.");
    std::vector<fs::path> parts;
    for (auto item : root.children()) {
      std::string kind = item.name();
      if (kind != "Latest" && kind != "Committed" && kind != "Uncommitted") continue;
      std::string id(str::trim(item.child_value()));
      std::string raw;
      try {
        raw = hash::base64_decode(id);
      } catch (const std::exception&) {
        return storage_error(400, "InvalidBlockList", "A block id is not base64.");
      }
      fs::path bp = blocks_dir / hash::to_hex(raw);
      if (!fs::is_regular_file(bp))
        return storage_error(400, "InvalidBlockList",
                             "The specified block list is invalid (block " + id + " was not uploaded).");
      parts.push_back(bp);
    }
    fs::create_directories(path.parent_path());
    fs::path tmp = path.string() + ".tmp-" + str::random_hex(6);
    {
      std::ofstream out(tmp, std::ios::binary);
      for (auto& p : parts) {
        std::ifstream in(p, std::ios::binary);
        out << in.rdbuf();
      }
      if (!out) return storage_error(500, "InternalError", "cannot write the blob");
    }
    fs::rename(tmp, path);
    std::error_code ec;
    fs::remove_all(blocks_dir, ec);
    std::string md5 = req.header("x-ms-blob-content-md5").value_or("");
    set_props(req.header("x-ms-blob-content-type").value_or("application/octet-stream"), md5, meta_headers(req));
    auto r = ok(201);
    blob_headers(r);
    r.header("x-ms-request-server-encrypted", "true");
    return r;
  }
  if (!fs::is_regular_file(path)) return storage_error(404, "BlobNotFound", "The specified blob does not exist.");
  auto row = store_->one("SELECT content_type, content_md5, metadata FROM blob_props WHERE container=? AND name=?",
                         {container, blob});
  std::string ctype = row && !row->str(0).empty() ? row->str(0) : "application/octet-stream";
  std::string md5 = row ? row->str(1) : "";
  auto meta = row ? meta_from_json(row->str(2)) : std::map<std::string, std::string>{};

  if (m == "PUT" && comp == "metadata") {
    set_props(ctype, md5, meta_headers(req));
    auto r = ok(200);
    blob_headers(r);
    return r;
  }
  if (m == "PUT" && comp == "properties") {
    if (auto ct = req.header("x-ms-blob-content-type")) ctype = *ct;
    if (auto cm = req.header("x-ms-blob-content-md5")) md5 = *cm;
    set_props(ctype, md5, meta);
    auto r = ok(200);
    blob_headers(r);
    return r;
  }
  if (m == "DELETE") {
    std::error_code ec;
    fs::remove(path, ec);
    store_->exec("DELETE FROM blob_props WHERE container=? AND name=?", {container, blob});
    return ok(202);
  }
  if (m == "GET" || m == "HEAD") {
    auto r = ok(200);
    blob_headers(r);
    for (auto& [k, v] : meta) r.header("x-ms-meta-" + k, v);
    if (comp == "metadata") return r;
    uint64_t size = fs::file_size(path);
    r.header("Content-Type", ctype);
    r.header("x-ms-blob-type", "BlockBlob");
    r.header("Accept-Ranges", "bytes");
    r.header("x-ms-server-encrypted", "true");
    r.header("x-ms-lease-status", "unlocked");
    r.header("x-ms-lease-state", "available");
    r.header("x-ms-creation-time", http_date(mtime_of(path)));
    r.file = path;
    std::string range = req.header("x-ms-range").value_or(req.header("range").value_or(""));
    if (!range.empty() && m == "GET") {
      static const std::regex re(R"(^bytes=(\d*)-(\d*)$)");
      std::smatch mm;
      if (!std::regex_match(range, mm, re) || (mm[1].str().empty() && mm[2].str().empty()))
        return storage_error(416, "InvalidRange",
                             "The range specified is invalid for the current size of the resource.");
      // Digits beyond uint64_t saturate (a position past any blob), as HTTP reads them.
      auto position = [](const std::string& digits) {
        uint64_t v = 0;
        auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
        return ec == std::errc() ? v : std::numeric_limits<uint64_t>::max();
      };
      uint64_t first = 0, last = size ? size - 1 : 0;
      if (mm[1].str().empty()) {  // suffix range
        uint64_t n = position(mm[2].str());
        first = n >= size ? 0 : size - n;
      } else {
        first = position(mm[1].str());
        if (!mm[2].str().empty()) last = std::min<uint64_t>(position(mm[2].str()), size ? size - 1 : 0);
      }
      if (first >= size || (!mm[2].str().empty() && !mm[1].str().empty() && position(mm[2].str()) < first)) {
        auto e =
            storage_error(416, "InvalidRange", "The range specified is invalid for the current size of the resource.");
        e.header("Content-Range", "bytes */" + std::to_string(size));
        return e;
      }
      r.status = 206;
      r.file_offset = first;
      r.file_length = last - first + 1;
      r.header("Content-Range",
               "bytes " + std::to_string(first) + "-" + std::to_string(last) + "/" + std::to_string(size));
    } else if (!md5.empty()) {
      r.header("Content-MD5", md5);
    }
    return r;
  }
  return storage_error(400, "UnsupportedHttpVerb",
                       "Unsupported blob operation " + m + (comp.empty() ? "" : " comp=" + comp) + ".");
}

void App::append_blob(const BlobLocation& loc, const std::string& data, const std::string& content_type) {
  fs::path cdir = blob_root() / loc.container;
  fs::path path = cdir / loc.path;
  if (!valid_container(loc.container) || !valid_blob_name(loc.path) || !files::is_within(cdir, path))
    throw std::runtime_error("invalid blob name " + loc.container + "/" + loc.path);
  fs::create_directories(path.parent_path());
  files::append(path, data);
  // The whole blob has no single MD5 once appended to (as for append blobs).
  store_->exec(
      "INSERT INTO blob_props(container, name, content_type, content_md5, metadata) VALUES(?, ?, ?, NULL, '{}') "
      "ON CONFLICT(container, name) DO UPDATE SET content_md5=NULL",
      {loc.container, loc.path, content_type});
}

}  // namespace amlops::local
