// GitHub issue/pull-request comments over REST: find our comment by its marker while paging
// through the comments (Link rel="next"), then PATCH it or POST a new one.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "net/http.hpp"

namespace amlops::report {

// One entry of an RFC 8288 Link header: <url>; rel="next last"; ...
struct Link {
  std::string url;
  std::vector<std::string> rels;
};
std::vector<Link> parse_link_header(std::string_view value);
// The URL with rel "next", if any.
std::optional<std::string> link_next(std::string_view value);

// The pull request number from an event payload (GITHUB_EVENT_PATH): pull_request.number, or the
// top-level number of a pull_request/pull_request_target event; nullopt for other events.
std::optional<int64_t> github_pull_request_number(std::string_view event_json, const std::string& event_name,
                                                  const std::string& source);
// True when the payload is a pull request from another repository (a fork): its token is read-only.
bool github_event_is_fork(std::string_view event_json);
// The head commit of a pull request event (GITHUB_SHA is the merge commit there).
std::optional<std::string> github_head_sha(std::string_view event_json);

struct GitHubTarget {
  std::string api_url = "https://api.github.com";  // GITHUB_API_URL
  std::string repository;                          // owner/name
  int64_t issue = 0;                               // pull request or issue number
  std::string token;
};

struct Posted {
  bool created = false;  // false: updated in place
  bool changed = true;   // false: the comment already said exactly this (no request made)
  std::string id;
  std::string url;  // html_url / the pull request
};

// Creates or updates the comment that begins with `marker`. Throws CommentForbidden on 403
// (read-only token), HttpError otherwise.
Posted github_upsert(net::Client& http, const GitHubTarget& t, const std::string& marker, const std::string& body);

}  // namespace amlops::report
