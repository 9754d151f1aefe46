#include "local/routes.hpp"

#include <stdexcept>

#include "core/strings.hpp"

namespace amlops::local {

std::vector<std::string> RouteTable::split(const std::string& pattern) {
  std::vector<std::string> pat;
  for (auto& p : str::split(pattern, '/'))
    if (!p.empty()) pat.push_back(p);
  return pat;
}

std::optional<RouteMatch> RouteTable::match(const std::string& pattern, const std::vector<std::string>& seg) {
  return match_parts(pattern, split(pattern), seg);
}

std::optional<RouteMatch> RouteTable::match_parts(const std::string& pattern, const std::vector<std::string>& pat,
                                                  const std::vector<std::string>& seg) {
  RouteMatch m;
  m.seg = &seg;
  for (size_t i = 0; i < pat.size(); ++i) {
    const std::string& p = pat[i];
    bool capture = p.size() >= 2 && p.front() == '{' && p.back() == '}';
    if (capture && p.size() > 3 && p[p.size() - 2] == '*') {
      if (i + 1 != pat.size()) throw std::logic_error("route " + pattern + ": {name*} must come last");
      m.params[p.substr(1, p.size() - 3)] = "";
      if (seg.size() > i) m.rest.assign(seg.begin() + static_cast<long>(i), seg.end());
      return m;
    }
    if (i >= seg.size()) return std::nullopt;
    if (capture)
      m.params[p.substr(1, p.size() - 2)] = seg[i];
    else if (!str::iequals(p, seg[i]))
      return std::nullopt;
  }
  if (seg.size() != pat.size()) return std::nullopt;
  return m;
}

RouteTable& RouteTable::add(std::string method, const std::string& pattern, RouteHandler handler) {
  auto parts = split(pattern);
  for (size_t i = 0; i + 1 < parts.size(); ++i)
    if (parts[i].size() > 3 && parts[i].front() == '{' && parts[i][parts[i].size() - 2] == '*')
      throw std::logic_error("route " + pattern + ": {name*} must come last");
  routes_.push_back({std::move(method), pattern, std::move(parts), std::move(handler)});
  return *this;
}

RouteTable::Found RouteTable::find(const std::string& method, const std::vector<std::string>& seg) const {
  Found f;
  const std::string* owner = nullptr;  // the first pattern that matched owns the path
  for (auto& r : routes_) {
    if (owner && r.pattern != *owner) continue;
    auto m = match_parts(r.pattern, r.parts, seg);
    if (!m) continue;
    f.path_known = true;
    owner = &r.pattern;
    if (r.method == "*" || r.method == method) {
      f.handler = &r.handler;
      f.match = std::move(*m);
      return f;
    }
  }
  return f;
}

}  // namespace amlops::local
