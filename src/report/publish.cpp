#include "report/publish.hpp"

#include <algorithm>
#include <filesystem>

#include "core/error.hpp"
#include "core/files.hpp"
#include "core/log.hpp"
#include "core/redact.hpp"
#include "core/strings.hpp"
#include "report/azdo.hpp"
#include "report/github.hpp"

namespace amlops::report {

const char* forge_name(Forge f) {
  switch (f) {
    case Forge::github:
      return "github";
    case Forge::azure_devops:
      return "azure-devops";
    case Forge::none:
      break;
  }
  return "none";
}

Forge detect_forge(const Env& env) {
  if (env.get_or("GITHUB_ACTIONS", "") == "true") return Forge::github;
  if (str::iequals(env.get_or("TF_BUILD", ""), "true")) return Forge::azure_devops;
  if (env.nonempty("GITHUB_REPOSITORY")) return Forge::github;
  if (env.nonempty("SYSTEM_COLLECTIONURI")) return Forge::azure_devops;
  return Forge::none;
}

std::string default_key(const Env& env, const std::optional<std::string>& key) {
  if (key && !str::trim(*key).empty()) return sanitize_key(*key);
  if (auto w = env.nonempty("GITHUB_WORKFLOW")) return sanitize_key(*w);
  if (auto p = env.nonempty("BUILD_DEFINITIONNAME")) return sanitize_key(*p);
  return sanitize_key("");
}

std::string summary_markdown(const std::vector<Fragment>& fragments, const std::string& title) {
  AssembleOptions a;
  a.title = title;
  return assemble(fragments, a).markdown;
}

namespace {

std::string footer(const std::optional<std::string>& commit, const std::optional<std::string>& run_url) {
  std::string f = "amlops-report";
  if (commit && !commit->empty()) f += " \u00B7 commit `" + commit->substr(0, 7) + "`";
  if (run_url && !run_url->empty()) f += " \u00B7 [run](" + *run_url + ")";
  return f;
}

std::string token_from(const Env& env, const std::optional<std::string>& token_env, const std::string& fallback_var,
                       const std::string& how_to_map) {
  std::string var = token_env.value_or(fallback_var);
  auto token = env.nonempty(var);
  if (!token) {
    if (token_env) throw ConfigError("--token-env " + var + ": the environment variable " + var + " is not set");
    throw ConfigError(var + " is not set: " + how_to_map);
  }
  // Before anything is sent or logged: the logger replaces it, CI hosts mask it.
  redact::add_secret(*token);
  return *token;
}

std::optional<int64_t> parse_id(const std::string& text, const std::string& what) {
  auto n = str::parse_int(str::trim(text));
  if (!n || *n <= 0) throw ConfigError(what + " is not a pull request number: '" + text + "'");
  return n;
}

class Flow {
 public:
  Flow(const Env& env, net::Client& http, const PublishOptions& opt,
       const std::function<void(const std::string&)>& summary)
      : env_(env), http_(http), opt_(opt), summary_(summary) {
    res_.key = default_key(env, opt.key);
  }

  PublishResult run() {
    Forge forge = detect_forge(env_);
    res_.host = forge_name(forge);
    switch (forge) {
      case Forge::github:
        return github();
      case Forge::azure_devops:
        return azure();
      case Forge::none:
        break;
    }
    return fallback(
        "not on a pull request: no GitHub Actions or Azure Pipelines environment "
        "(set GITHUB_REPOSITORY and --issue N to comment from elsewhere)");
  }

 private:
  PublishResult fallback(const std::string& reason) {
    res_.action = "summary";
    res_.reason = reason;
    res_.markdown = summary_markdown(opt_.fragments, opt_.title);
    res_.bytes = res_.markdown.size();
    res_.sections = opt_.fragments.size();
    log::warn(reason, "; the report goes to the job summary instead");
    summary_(res_.markdown);
    return res_;
  }

  std::string body(size_t limit, const std::optional<std::string>& commit) {
    AssembleOptions a;
    a.marker = marker(res_.key);
    a.title = opt_.title;
    a.footer = footer(commit, opt_.run_url);
    a.limit = limit;
    Assembled as = assemble(opt_.fragments, a);
    res_.sections = as.sections;
    res_.left_out = as.left_out;
    // A registered secret never reaches a comment, whatever a fragment holds.
    res_.markdown = redact::secrets(as.markdown);
    res_.bytes = res_.markdown.size();
    return res_.markdown;
  }

  PublishResult posted(const Posted& p) {
    res_.action = p.created ? "created" : p.changed ? "updated" : "unchanged";
    res_.id = p.id;
    res_.url = p.url;
    if (res_.left_out) {
      log::warn(res_.left_out,
                " section(s) left out of the comment for the host's size limit; the job summary has them");
      summary_(summary_markdown(opt_.fragments, opt_.title));
    }
    return res_;
  }

  PublishResult github() {
    std::optional<std::string> event_text;
    std::string event_name = env_.get_or("GITHUB_EVENT_NAME", "");
    if (auto path = env_.nonempty("GITHUB_EVENT_PATH"); path && std::filesystem::exists(*path))
      event_text = files::read(*path);
    if (opt_.issue) {
      res_.pull_request = opt_.issue;
    } else if (event_text) {
      res_.pull_request = github_pull_request_number(*event_text, event_name, env_.get_or("GITHUB_EVENT_PATH", ""));
    }
    if (!res_.pull_request)
      return fallback("not on a pull request (event '" + (event_name.empty() ? "unknown" : event_name) +
                      "' has no pull request number; pass --issue N to comment on an issue or pull request)");
    auto repo = env_.nonempty("GITHUB_REPOSITORY");
    if (!repo || std::count(repo->begin(), repo->end(), '/') != 1)
      throw ConfigError("GITHUB_REPOSITORY must be set to OWNER/NAME to comment on GitHub");
    GitHubTarget t;
    t.api_url = env_.get_or("GITHUB_API_URL", "https://api.github.com");
    t.repository = *repo;
    t.issue = *res_.pull_request;
    t.token = token_from(env_, opt_.token_env, "GITHUB_TOKEN",
                         "map the job token in the step (env: GITHUB_TOKEN: ${{ github.token }}) and grant "
                         "'permissions: pull-requests: write'");
    std::optional<std::string> commit = event_text ? github_head_sha(*event_text) : std::nullopt;
    if (!commit) commit = env_.nonempty("GITHUB_SHA");
    std::string md = body(kGitHubCommentLimit, commit);
    try {
      return posted(github_upsert(http_, t, marker(res_.key), md));
    } catch (const CommentForbidden& e) {
      bool fork = event_text && github_event_is_fork(*event_text);
      return fallback(std::string(e.what()) +
                      (fork ? " (a pull request from a fork gets a read-only token)"
                            : " (the token may not write comments: grant 'permissions: pull-requests: write')"));
    }
  }

  PublishResult azure() {
    if (opt_.issue) {
      res_.pull_request = opt_.issue;
    } else if (auto id = env_.nonempty("SYSTEM_PULLREQUEST_PULLREQUESTID")) {
      res_.pull_request = parse_id(*id, "SYSTEM_PULLREQUEST_PULLREQUESTID");
    }
    if (!res_.pull_request)
      return fallback(
          "not on a pull request (SYSTEM_PULLREQUEST_PULLREQUESTID is not set: the build was not triggered by a "
          "pull request; pass --issue N to comment on one)");
    std::string provider = env_.get_or("BUILD_REPOSITORY_PROVIDER", "TfsGit");
    if (!str::iequals(provider, "TfsGit"))
      return fallback("the repository is on " + provider +
                      ", not Azure Repos: pull request threads exist for Azure Repos only");
    AzdoTarget t;
    t.collection_uri =
        env_.nonempty("SYSTEM_COLLECTIONURI").value_or(env_.get_or("SYSTEM_TEAMFOUNDATIONCOLLECTIONURI", ""));
    t.project = env_.nonempty("SYSTEM_TEAMPROJECTID").value_or(env_.get_or("SYSTEM_TEAMPROJECT", ""));
    t.repository_id = env_.get_or("BUILD_REPOSITORY_ID", "");
    if (t.collection_uri.empty() || t.project.empty() || t.repository_id.empty())
      throw ConfigError(
          "SYSTEM_COLLECTIONURI, SYSTEM_TEAMPROJECTID and BUILD_REPOSITORY_ID must be set to comment on Azure "
          "DevOps (Azure Pipelines sets them)");
    t.project_name = env_.get_or("SYSTEM_TEAMPROJECT", "");
    t.repository_name = env_.get_or("BUILD_REPOSITORY_NAME", "");
    t.pull_request = *res_.pull_request;
    t.blocking = opt_.blocking;
    t.token = token_from(env_, opt_.token_env, "SYSTEM_ACCESSTOKEN",
                         "map it in the step (env: SYSTEM_ACCESSTOKEN: $(System.AccessToken)); YAML pipelines do "
                         "not pass it otherwise");
    auto commit = env_.nonempty("SYSTEM_PULLREQUEST_SOURCECOMMITID");
    if (!commit) commit = env_.nonempty("BUILD_SOURCEVERSION");
    std::string md = body(kAzureDevOpsCommentLimit, commit);
    try {
      return posted(azdo_upsert(http_, t, marker(res_.key), md));
    } catch (const CommentForbidden& e) {
      bool fork = str::iequals(env_.get_or("SYSTEM_PULLREQUEST_ISFORK", ""), "true");
      return fallback(std::string(e.what()) +
                      (fork ? " (a pull request from a fork)"
                            : " (the build service needs the repository permission 'Contribute to pull requests')"));
    }
  }

  const Env& env_;
  net::Client& http_;
  const PublishOptions& opt_;
  const std::function<void(const std::string&)>& summary_;
  PublishResult res_;
};

}  // namespace

PublishResult publish_comment(const Env& env, net::Client& http, const PublishOptions& opt,
                              const std::function<void(const std::string&)>& summary) {
  return Flow(env, http, opt, summary).run();
}

}  // namespace amlops::report
