#include "core/env.hpp"

#include <cstdlib>

extern char** environ;

namespace amlops {

std::optional<std::string> Env::nonempty(const std::string& name) const {
  auto v = get(name);
  if (!v || v->empty()) return std::nullopt;
  return v;
}

std::string Env::get_or(const std::string& name, const std::string& fallback) const {
  auto v = nonempty(name);
  return v ? *v : fallback;
}

std::optional<std::string> ProcessEnv::get(const std::string& name) const {
  const char* v = std::getenv(name.c_str());
  if (!v) return std::nullopt;
  return std::string(v);
}

std::map<std::string, std::string> ProcessEnv::all() const {
  std::map<std::string, std::string> out;
  for (char** e = environ; e && *e; ++e) {
    std::string kv(*e);
    auto eq = kv.find('=');
    if (eq != std::string::npos) out[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  return out;
}

std::optional<std::string> MapEnv::get(const std::string& name) const {
  auto it = vars_.find(name);
  if (it == vars_.end()) return std::nullopt;
  return it->second;
}

const Env& process_env() {
  static ProcessEnv env;
  return env;
}

}  // namespace amlops
