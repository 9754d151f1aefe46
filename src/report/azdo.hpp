// Azure DevOps (Azure Repos) pull request threads over REST, api-version 7.1: find our thread by
// the marker at the start of its first comment, update that comment, or create a thread.
#pragma once
#include <cstdint>
#include <string>

#include "net/http.hpp"
#include "report/github.hpp"  // Posted

namespace amlops::report {

struct AzdoTarget {
  std::string collection_uri;  // SYSTEM_COLLECTIONURI, e.g. https://dev.azure.com/org/
  std::string project;         // SYSTEM_TEAMPROJECTID (or the project name)
  std::string repository_id;   // BUILD_REPOSITORY_ID
  int64_t pull_request = 0;    // SYSTEM_PULLREQUEST_PULLREQUESTID
  std::string token;           // SYSTEM_ACCESSTOKEN
  bool blocking = false;       // thread status active (blocks completion under a policy) instead of closed
  // For the link people open (…/_git/REPO/pullrequest/ID); the API URL when absent.
  std::string project_name;     // SYSTEM_TEAMPROJECT
  std::string repository_name;  // BUILD_REPOSITORY_NAME
};

// Thread status values of the REST API (CommentThreadStatus).
inline constexpr int kThreadActive = 1;
inline constexpr int kThreadClosed = 4;

// …/_apis/git/repositories/{repo}/pullRequests/{id}: the base of the threads API.
std::string azdo_pull_request_url(const AzdoTarget& t);

// Creates or updates our thread. Throws CommentForbidden on 403 (no "Contribute to pull
// requests" permission), HttpError otherwise.
Posted azdo_upsert(net::Client& http, const AzdoTarget& t, const std::string& marker, const std::string& body);

}  // namespace amlops::report
