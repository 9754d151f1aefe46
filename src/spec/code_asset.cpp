#include "spec/code_asset.hpp"

#include <algorithm>
#include <fstream>
#include <functional>

#include "core/error.hpp"
#include "core/files.hpp"
#include "core/hash.hpp"
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

std::vector<CodeFile> collect_code_files(const fs::path& dir_in) {
  std::error_code ec;
  fs::path dir = fs::absolute(dir_in, ec);
  std::vector<CodeFile> out;
  if (fs::is_regular_file(dir, ec)) {
    out.push_back({dir.filename().string(), dir, static_cast<uint64_t>(fs::file_size(dir, ec))});
    return out;
  }
  if (!fs::is_directory(dir, ec)) throw ConfigError("code path " + dir_in.string() + " is not a directory");
  IgnoreRules rules = IgnoreRules::load(dir);
  std::function<void(const fs::path&, const std::string&)> walk = [&](const fs::path& d, const std::string& prefix) {
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
      if (is_dir) {
        walk(e.path(), rel);
      } else if (e.is_regular_file(ec)) {
        out.push_back({rel, e.path(), static_cast<uint64_t>(fs::file_size(e.path(), ec))});
      }
    }
  };
  walk(dir, "");
  std::stable_sort(out.begin(), out.end(), [](const CodeFile& a, const CodeFile& b) {
    std::string la = str::to_lower(a.rel), lb = str::to_lower(b.rel);
    return la != lb ? la < lb : a.rel < b.rel;
  });
  return out;
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

}  // namespace amlops::spec
