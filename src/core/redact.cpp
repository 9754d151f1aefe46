#include "core/redact.hpp"

#include <algorithm>
#include <mutex>
#include <regex>
#include <set>
#include <vector>

#include "core/strings.hpp"

namespace amlops::redact {
namespace {

struct Registry {
  std::mutex mu;
  std::set<std::string> values;
  std::vector<std::function<void(const std::string&)>> listeners;
};

Registry& registry() {
  static Registry r;
  return r;
}

bool sensitive_param(std::string_view name) {
  const std::string n = str::to_lower(name);
  static const char* exact[] = {
      "sig",      "key",    "code",      "token",         "access_token", "client_secret", "client_assertion",
      "password", "secret", "assertion", "refresh_token", "sv_sig",       "accountkey",    "sharedaccesssignature"};
  for (const char* e : exact)
    if (n == e) return true;
  return n.find("secret") != std::string::npos || n.find("password") != std::string::npos ||
         n.find("token") != std::string::npos;
}

}  // namespace

void add_secret(std::string_view value) {
  if (value.size() < 4) return;
  std::vector<std::function<void(const std::string&)>> listeners;
  std::string v(value);
  {
    auto& r = registry();
    std::lock_guard lock(r.mu);
    if (!r.values.insert(v).second) return;
    listeners = r.listeners;
  }
  for (auto& l : listeners) l(v);
}

void on_secret(std::function<void(const std::string&)> listener) {
  std::vector<std::string> existing;
  {
    auto& r = registry();
    std::lock_guard lock(r.mu);
    r.listeners.push_back(listener);
    existing.assign(r.values.begin(), r.values.end());
  }
  for (auto& v : existing) listener(v);
}

void clear_for_tests() {
  auto& r = registry();
  std::lock_guard lock(r.mu);
  r.values.clear();
  r.listeners.clear();
}

std::string secrets(std::string_view text) {
  std::string out(text);
  auto& r = registry();
  std::lock_guard lock(r.mu);
  // Longest first, so a secret containing another is replaced whole.
  std::vector<const std::string*> vals;
  for (auto& v : r.values) vals.push_back(&v);
  std::sort(vals.begin(), vals.end(), [](auto* a, auto* b) { return a->size() > b->size(); });
  for (auto* v : vals) out = str::replace_all(std::move(out), *v, "***");
  return out;
}

std::string url(std::string_view u) {
  std::string s(u);
  // Credentials in the authority.
  if (auto scheme = s.find("://"); scheme != std::string::npos) {
    size_t auth_start = scheme + 3;
    size_t auth_end = s.find_first_of("/?#", auth_start);
    if (auth_end == std::string::npos) auth_end = s.size();
    size_t at = s.rfind('@', auth_end);
    if (at != std::string::npos && at >= auth_start) s.erase(auth_start, at + 1 - auth_start);
  }
  size_t q = s.find('?');
  if (q == std::string::npos) return secrets(s);
  size_t frag = s.find('#', q);
  std::string query = s.substr(q + 1, frag == std::string::npos ? std::string::npos : frag - q - 1);
  std::vector<std::string> parts = str::split(query, '&');
  for (auto& p : parts) {
    size_t eq = p.find('=');
    if (eq == std::string::npos) continue;
    if (sensitive_param(str::url_decode(p.substr(0, eq)))) p = p.substr(0, eq + 1) + "REDACTED";
  }
  std::string out = s.substr(0, q + 1) + str::join(parts, "&");
  if (frag != std::string::npos) out += s.substr(frag);
  return secrets(out);
}

std::string header(std::string_view name, std::string_view value) {
  const std::string n = str::to_lower(name);
  if (n == "authorization" || n == "proxy-authorization" || n == "cookie" || n == "set-cookie" ||
      n.find("key") != std::string::npos || n.find("secret") != std::string::npos ||
      n.find("token") != std::string::npos || n == "x-ms-copy-source-authorization") {
    return "REDACTED";
  }
  return secrets(value);
}

std::string text(std::string_view t) {
  static const std::regex bearer(R"((Bearer\s+)[A-Za-z0-9\-_.~+/=]+)", std::regex::icase);
  static const std::regex kv(
      R"(((?:AccountKey|SharedAccessSignature|SharedAccessKey|client_secret|password)\s*[=:]\s*)[^;&\s"']+)",
      std::regex::icase);
  static const std::regex sig(R"(([?&](?:sig|key|code|token|client_assertion)=)[^&\s"']+)", std::regex::icase);
  std::string s = secrets(t);
  s = std::regex_replace(s, bearer, "$1REDACTED");
  s = std::regex_replace(s, kv, "$1REDACTED");
  s = std::regex_replace(s, sig, "$1REDACTED");
  return s;
}

}  // namespace amlops::redact
