// The whole `amlops-report comment` flow: choose the host from the environment, find the pull
// request, assemble the fragments under the host's size limit, create or update the comment, and
// fall back to the job summary (exit 0, with the reason) when there is no pull request or the
// token may not write. The token is registered with the logger's redaction (and so masked on CI
// hosts) before anything is sent.
#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/env.hpp"
#include "net/http.hpp"
#include "report/comment.hpp"

namespace amlops::report {

enum class Forge { none, github, azure_devops };
const char* forge_name(Forge f);
// GITHUB_ACTIONS=true -> GitHub; TF_BUILD=True -> Azure DevOps; outside CI, GITHUB_REPOSITORY or
// SYSTEM_COLLECTIONURI choose (a developer posting with a personal token); else none.
Forge detect_forge(const Env& env);
// --key, else the workflow (GITHUB_WORKFLOW) or pipeline (BUILD_DEFINITIONNAME) name, sanitised.
std::string default_key(const Env& env, const std::optional<std::string>& key);

struct PublishOptions {
  std::vector<Fragment> fragments;
  std::optional<std::string> key;
  std::string title = "amlops report";
  std::optional<int64_t> issue;          // --issue N: overrides the pull request of the event
  std::optional<std::string> token_env;  // --token-env VAR: where the token is
  bool blocking = false;                 // Azure DevOps: leave the thread active
  std::optional<std::string> run_url;    // linked in the footer
};

struct PublishResult {
  std::string host;    // github, azure-devops, none
  std::string action;  // created, updated, unchanged, summary
  std::string id;      // comment or thread id
  std::string url;
  std::string reason;  // why the summary was written instead
  std::string key;
  std::optional<int64_t> pull_request;
  size_t sections = 0;
  size_t left_out = 0;
  size_t bytes = 0;
  std::string markdown;  // what was posted, or written to the summary
};

// `summary` receives markdown for the job summary (the fallback, and the full report when the
// comment had to be cut). Throws ConfigError for a missing token or repository, HttpError when
// the host fails for another reason than permissions.
PublishResult publish_comment(const Env& env, net::Client& http, const PublishOptions& opt,
                              const std::function<void(const std::string&)>& summary);

// The job summary version: same sections, no marker, no size limit (the host caps summaries).
std::string summary_markdown(const std::vector<Fragment>& fragments, const std::string& title);

}  // namespace amlops::report
