#include "spec/refs.hpp"

#include <fnmatch.h>

#include <regex>

#include "core/strings.hpp"

namespace amlops::spec {

namespace {

std::vector<std::string> path_segments(std::string_view path) {
  std::vector<std::string> out;
  for (auto& s : str::split(path, '/'))
    if (!s.empty()) out.push_back(s);
  return out;
}

// pat[pi..] against path[si..limit).
bool match_segments(const std::vector<std::string>& pat, size_t pi, const std::vector<std::string>& path, size_t si,
                    size_t limit) {
  while (pi < pat.size()) {
    if (pat[pi] == "**") {
      if (pi + 1 == pat.size()) return si < limit;  // a trailing ** matches everything inside
      for (size_t k = si; k <= limit; ++k)
        if (match_segments(pat, pi + 1, path, k, limit)) return true;
      return false;
    }
    if (si >= limit) return false;
    if (fnmatch(pat[pi].c_str(), path[si].c_str(), 0) != 0) return false;
    ++pi;
    ++si;
  }
  return si == limit;
}

}  // namespace

Glob::Glob(std::string_view pattern) {
  while (!pattern.empty() && pattern.back() == '/') pattern.remove_suffix(1);
  bool anchored = pattern.find('/') != std::string_view::npos;
  segments_ = path_segments(pattern);
  if (!anchored && !segments_.empty() && segments_.front() != "**") segments_.insert(segments_.begin(), "**");
}

bool Glob::matches(std::string_view path) const {
  if (segments_.empty()) return false;
  auto p = path_segments(path);
  return match_segments(segments_, 0, p, 0, p.size());
}

bool Glob::covers(std::string_view path) const {
  if (segments_.empty()) return false;
  auto p = path_segments(path);
  for (size_t n = p.size(); n > 0; --n)
    if (match_segments(segments_, 0, p, 0, n)) return true;
  return false;
}

bool glob_match(std::string_view pattern, std::string_view path) { return Glob(pattern).covers(path); }

std::optional<std::string> local_path(std::string_view value) {
  if (value.rfind("file:", 0) == 0 && value.find("://") == std::string_view::npos) value.remove_prefix(5);
  if (value.empty()) return std::nullopt;
  if (value.find("://") != std::string_view::npos || value.find("${{") != std::string_view::npos) return std::nullopt;
  for (std::string_view scheme : {"azureml:", "http:", "https:", "git+"})
    if (value.rfind(scheme, 0) == 0) return std::nullopt;
  return std::string(value);
}

Binding parse_binding(std::string_view expr) {
  Binding b;
  b.expr = std::string(str::trim(expr));
  auto p = str::split(b.expr, '.');
  if (p.size() == 2 && !p[1].empty()) {
    b.name = p[1];
    if (p[0] == "inputs")
      b.kind = Binding::Kind::input;
    else if (p[0] == "outputs")
      b.kind = Binding::Kind::output;
    else if (p[0] == "search_space")
      b.kind = Binding::Kind::search_space;
  } else if (p.size() == 3 && p[0] == "parent" && !p[2].empty()) {
    b.name = p[2];
    if (p[1] == "inputs")
      b.kind = Binding::Kind::parent_input;
    else if (p[1] == "outputs")
      b.kind = Binding::Kind::parent_output;
  } else if (p.size() == 5 && p[0] == "parent" && p[1] == "jobs" && p[3] == "outputs" && !p[2].empty() &&
             !p[4].empty()) {
    b.kind = Binding::Kind::parent_job_output;
    b.job = p[2];
    b.name = p[4];
  }
  if (b.kind == Binding::Kind::other) b.name.clear();
  return b;
}

std::vector<Binding> find_bindings(std::string_view text) {
  std::vector<Binding> out;
  size_t pos = 0;
  while ((pos = text.find("${{", pos)) != std::string_view::npos) {
    size_t end = text.find("}}", pos + 3);
    bool closed = end != std::string_view::npos;
    Binding b = parse_binding(text.substr(pos + 3, closed ? end - pos - 3 : std::string_view::npos));
    b.offset = pos;
    b.closed = closed;
    b.length = closed ? end + 2 - pos : text.size() - pos;
    out.push_back(std::move(b));
    if (!closed) break;
    pos = end + 2;
  }
  return out;
}

bool valid_asset_name(std::string_view name) {
  static const std::regex kName("^[A-Za-z0-9][A-Za-z0-9_.-]{0,254}$");
  return std::regex_match(name.begin(), name.end(), kName);
}

}  // namespace amlops::spec
