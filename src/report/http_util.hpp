// Small helpers shared by the GitHub and Azure DevOps comment clients.
#pragma once
#include <string>
#include <string_view>

namespace amlops::report {

// The "message" of a JSON error body (both hosts use that member), else the first 200 bytes.
std::string error_message(std::string_view body);
// True when both URLs have the same scheme://host[:port] (case-insensitive): a paging link that
// points elsewhere must not receive the token.
bool same_origin(std::string_view a, std::string_view b);

}  // namespace amlops::report
