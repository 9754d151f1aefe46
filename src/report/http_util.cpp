#include "report/http_util.hpp"

#include "core/error.hpp"
#include "core/json.hpp"
#include "core/redact.hpp"
#include "core/strings.hpp"

namespace amlops::report {

std::string error_message(std::string_view body) {
  try {
    if (!body.empty() && body.front() == '{') {
      auto doc = json::parse(body, "error");
      if (auto m = json::opt_string(doc, "/message")) return redact::text(*m);
    }
  } catch (const Error&) {
  }
  return redact::text(body.substr(0, 200));
}

namespace {
std::string origin(std::string_view url) {
  size_t scheme = url.find("://");
  if (scheme == std::string_view::npos) return {};
  size_t end = url.find_first_of("/?#", scheme + 3);
  return str::to_lower(url.substr(0, end));
}
}  // namespace

bool same_origin(std::string_view a, std::string_view b) {
  std::string oa = origin(a);
  return !oa.empty() && oa == origin(b);
}

}  // namespace amlops::report
