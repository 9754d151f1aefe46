#include "spec/code_asset.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <functional>
#include <optional>

#include "core/error.hpp"
#include "core/files.hpp"
#include "core/hash.hpp"
#include "core/log.hpp"
#include "core/strings.hpp"

namespace amlops::spec {
namespace fs = std::filesystem;

IgnoreRules IgnoreRules::parse(const std::string& text) {
  IgnoreRules out;
  for (std::string line : str::split(text, '\n')) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    // Trailing spaces are ignored unless escaped.
    while (!line.empty() && line.back() == ' ' && !(line.size() >= 2 && line[line.size() - 2] == '\\')) line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    bool negate = false, dir_only = false;
    if (line[0] == '!') {
      negate = true;
      line.erase(0, 1);
    } else if (line.size() >= 2 && line[0] == '\\' && (line[1] == '#' || line[1] == '!')) {
      line.erase(0, 1);
    }
    if (!line.empty() && line.back() == '/') dir_only = true;
    Glob glob(line);
    if (glob.empty()) continue;
    out.rules_.push_back({std::move(glob), negate, dir_only});
  }
  return out;
}

IgnoreRules IgnoreRules::load(const fs::path& dir) {
  for (const char* name : {".amlignore", ".gitignore"}) {
    fs::path p = dir / name;
    std::error_code ec;
    if (fs::is_regular_file(p, ec)) {
      IgnoreRules r = parse(files::read(p));
      r.source_ = p.string();
      return r;
    }
  }
  return {};
}

bool IgnoreRules::ignored(const std::string& rel, bool is_dir) const {
  bool result = false;
  for (const auto& r : rules_) {
    if (r.dir_only && !is_dir) continue;
    if (r.glob.matches(rel)) result = !r.negate;
  }
  return result;
}

namespace {
int64_t ns_of(const struct timespec& t) { return int64_t{t.tv_sec} * 1000000000 + t.tv_nsec; }

CodeFile code_file(std::string rel, fs::path path, bool linked) {
  CodeFile f{std::move(rel), std::move(path), 0, linked};
  struct stat st {};
  if (::stat(f.path.c_str(), &st) == 0) {
    f.size = static_cast<uint64_t>(st.st_size);
    f.dev = st.st_dev;
    f.ino = st.st_ino;
    f.mtime_ns = ns_of(st.st_mtim);
    f.ctime_ns = ns_of(st.st_ctim);
  }
  return f;
}
}  // namespace

std::vector<CodeFile> collect_code_files(const fs::path& dir_in) {
  std::error_code ec;
  fs::path dir = fs::absolute(dir_in, ec);
  std::vector<CodeFile> out;
  if (fs::is_regular_file(dir, ec)) {
    out.push_back(code_file(dir.filename().string(), dir, false));
    return out;
  }
  if (!fs::is_directory(dir, ec)) throw ConfigError("code path " + dir_in.string() + " is not a directory");
  IgnoreRules rules = IgnoreRules::load(dir);
  std::function<void(const fs::path&, const std::string&, bool)> walk = [&](const fs::path& d,
                                                                            const std::string& prefix, bool linked) {
    std::vector<fs::directory_entry> entries;
    for (auto it = fs::directory_iterator(d, ec); !ec && it != fs::directory_iterator(); it.increment(ec))
      entries.push_back(*it);
    if (ec) throw ConfigError("cannot list " + d.string() + ": " + ec.message());
    for (auto& e : entries) {
      std::string name = e.path().filename().string();
      std::string rel = prefix.empty() ? name : prefix + "/" + name;
      bool is_dir = e.is_directory(ec);  // follows symlinks
      if (is_dir && name == ".git" && prefix.empty()) continue;
      if (rules.ignored(rel, is_dir)) continue;
      bool via_link = linked || e.is_symlink(ec);  // from the directory entry's type: no system call
      if (is_dir) {
        walk(e.path(), rel, via_link);
      } else if (e.is_regular_file(ec)) {
        out.push_back(code_file(rel, e.path(), via_link));
      }
    }
  };
  walk(dir, "", false);
  // Sorted by (lower-cased, as-is) path, each key lower-cased once.
  std::vector<std::pair<std::string, size_t>> keys;
  keys.reserve(out.size());
  for (size_t i = 0; i < out.size(); ++i) keys.emplace_back(str::to_lower(out[i].rel), i);
  std::sort(keys.begin(), keys.end(), [&](const auto& a, const auto& b) {
    return a.first != b.first ? a.first < b.first : out[a.second].rel < out[b.second].rel;
  });
  std::vector<CodeFile> sorted;
  sorted.reserve(out.size());
  for (auto& k : keys) sorted.push_back(std::move(out[k.second]));
  return sorted;
}

std::string content_hash(const std::vector<CodeFile>& files) {
  hash::Sha256 h;
  h.update(std::to_string(files.size()));
  for (auto& f : files) {
    h.update("#" + f.rel + "#");
    h.update(std::to_string(f.size));
  }
  std::vector<char> buf(1 << 16);
  for (auto& f : files) {
    std::ifstream in(f.path, std::ios::binary);
    if (!in) throw ConfigError("cannot read " + f.path.string());
    while (in) {
      in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
      auto n = in.gcount();
      if (n > 0) h.update(std::string_view(buf.data(), static_cast<size_t>(n)));
    }
  }
  return h.hex();
}

fs::path default_hash_cache_dir(const Env& env) {
  fs::path base;
  if (auto d = env.nonempty("AMLOPS_CACHE_DIR"))
    base = *d;
  else if (auto x = env.nonempty("XDG_CACHE_HOME"))
    base = fs::path(*x) / "amlops";
  else if (auto h = env.nonempty("HOME"))
    base = fs::path(*h) / ".cache" / "amlops";
  else
    return {};
  return base / "content-hashes";
}

namespace {
constexpr std::string_view kCacheMagic = "amlops-content-hash 1";

// Fingerprint of every file's state as listed; `racy` when one changed at or after `racy_after`
// (ns since the epoch).
std::string fingerprint(const std::vector<CodeFile>& files, int64_t racy_after, bool& racy) {
  hash::Sha256 h;
  h.update(kHashVersion);
  h.update("\n" + std::to_string(files.size()) + "\n");
  racy = false;
  for (auto& f : files) {
    if (f.mtime_ns >= racy_after || f.ctime_ns >= racy_after) racy = true;
    h.update(f.rel);
    h.update(std::string_view("\0", 1));
    h.update(std::to_string(f.dev) + " " + std::to_string(f.ino) + " " + std::to_string(f.size) + " " +
             std::to_string(f.mtime_ns) + " " + std::to_string(f.ctime_ns) + "\n");
  }
  return h.hex();
}

fs::path entry_path(const fs::path& dir, const fs::path& root) {
  std::error_code ec;
  fs::path abs = fs::absolute(root, ec).lexically_normal();
  return dir / (hash::sha256_hex(std::string(kHashVersion) + '\0' + abs.string()).substr(0, 32));
}

std::string entry_body(const std::string& fp, const std::string& hash) {
  return std::string(kCacheMagic) + "\nfingerprint " + fp + "\nhash " + hash + "\n";
}

bool is_hex64(std::string_view s) {
  return s.size() == 64 &&
         std::all_of(s.begin(), s.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); });
}

// The hash stored for `fp`, when the entry is intact (its checksum line matches) and for that fingerprint.
std::optional<std::string> read_entry(const fs::path& path, const std::string& fp) {
  std::string text;
  try {
    text = files::read(path);
  } catch (const std::exception&) {
    return std::nullopt;
  }
  auto lines = str::split(text, '\n');
  if (lines.size() < 4 || lines[0] != kCacheMagic || !lines[1].starts_with("fingerprint ") ||
      !lines[2].starts_with("hash ") || !lines[3].starts_with("check "))
    return std::nullopt;
  std::string stored_fp = lines[1].substr(12), hash = lines[2].substr(5);
  if (!is_hex64(hash) || lines[3].substr(6) != hash::sha256_hex(entry_body(stored_fp, hash))) return std::nullopt;
  if (stored_fp != fp) return std::nullopt;
  return hash;
}
}  // namespace

std::string content_hash(const fs::path& root, const std::vector<CodeFile>& files, const HashCache& cache, bool* hit) {
  if (hit) *hit = false;
  if (cache.dir.empty()) return content_hash(files);
  int64_t now =
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  bool racy = false;
  // `now` is taken after the files were listed: the window is meant to be far longer than that gap.
  auto fp = fingerprint(files, now - cache.racy.count(), racy);
  fs::path entry = entry_path(cache.dir, root);
  if (auto cached = read_entry(entry, fp)) {
    if (hit) *hit = true;
    return *cached;
  }
  std::string hash = content_hash(files);
  if (racy) {
    log::debug("content hash of ", root.string(), " not cached: a file changed less than ",
               std::chrono::duration_cast<std::chrono::milliseconds>(cache.racy).count(), " ms ago");
    return hash;
  }
  std::string body = entry_body(fp, hash);
  try {
    std::error_code ec;
    fs::create_directories(cache.dir, ec);
    files::write_atomic(entry, body + "check " + hash::sha256_hex(body) + "\n");
  } catch (const std::exception& e) {  // a read-only or full disk: the next run hashes again
    log::debug("content hash cache not written: ", e.what());
  }
  return hash;
}

}  // namespace amlops::spec
