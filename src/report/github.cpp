#include "report/github.hpp"

#include "core/error.hpp"
#include "core/json.hpp"
#include "core/log.hpp"
#include "core/redact.hpp"
#include "core/strings.hpp"
#include "report/comment.hpp"
#include "report/http_util.hpp"

namespace amlops::report {

std::vector<Link> parse_link_header(std::string_view v) {
  std::vector<Link> out;
  size_t i = 0;
  while (i < v.size()) {
    size_t lt = v.find('<', i);
    if (lt == std::string_view::npos) break;
    size_t gt = v.find('>', lt);
    if (gt == std::string_view::npos) break;
    Link link;
    link.url = std::string(str::trim(v.substr(lt + 1, gt - lt - 1)));
    // Parameters up to the next top-level comma (quoted values may hold commas).
    size_t j = gt + 1;
    bool quoted = false;
    size_t end = j;
    while (end < v.size() && (quoted || v[end] != ',')) {
      if (v[end] == '"') quoted = !quoted;
      ++end;
    }
    for (const std::string& param : str::split(v.substr(j, end - j), ';')) {
      auto kv = str::split_key_value(str::trim(param));
      if (!kv || str::to_lower(str::trim(kv->first)) != "rel") continue;
      std::string val(str::trim(kv->second));
      if (val.size() >= 2 && val.front() == '"' && val.back() == '"') val = val.substr(1, val.size() - 2);
      for (const std::string& r : str::split(val, ' '))
        if (!r.empty()) link.rels.push_back(str::to_lower(r));
    }
    out.push_back(std::move(link));
    i = end + 1;
  }
  return out;
}

std::optional<std::string> link_next(std::string_view value) {
  for (const Link& l : parse_link_header(value))
    for (const std::string& r : l.rels)
      if (r == "next") return l.url;
  return std::nullopt;
}

std::optional<int64_t> github_pull_request_number(std::string_view event_json, const std::string& event_name,
                                                  const std::string& source) {
  auto doc = json::parse(event_json, source);
  if (!doc.IsObject()) return std::nullopt;
  if (auto n = json::opt_int(doc, "/pull_request/number")) return n;
  if (event_name == "pull_request" || event_name == "pull_request_target") return json::opt_int(doc, "/number");
  return std::nullopt;
}

bool github_event_is_fork(std::string_view event_json) {
  try {
    auto doc = json::parse(event_json, "event");
    auto head = json::opt_string(doc, "/pull_request/head/repo/full_name");
    auto base = json::opt_string(doc, "/pull_request/base/repo/full_name");
    return head && base && *head != *base;
  } catch (const Error&) {
    return false;
  }
}

std::optional<std::string> github_head_sha(std::string_view event_json) {
  try {
    return json::opt_string(json::parse(event_json, "event"), "/pull_request/head/sha");
  } catch (const Error&) {
    return std::nullopt;
  }
}

namespace {

net::Request github_request(const GitHubTarget& t, std::string method, std::string url) {
  net::Request r;
  r.method = std::move(method);
  r.url = std::move(url);
  r.headers = {{"Authorization", "Bearer " + t.token},
               {"Accept", "application/vnd.github+json"},
               {"X-GitHub-Api-Version", "2022-11-28"}};
  return r;
}

std::string comment_json(const std::string& body) {
  json::Document d(rapidjson::kObjectType);
  json::Builder b(d.GetAllocator());
  b.set(d, "body", body);
  return json::dump(d);
}

// GitHub answers 403 both for a token without write access and for rate limits: only the first
// falls back to the job summary.
void check(const net::Response& r, const std::string& what) {
  if (r.status == 403 && r.header("x-ratelimit-remaining").value_or("") != "0" &&
      error_message(r.body).find("rate limit") == std::string::npos)
    throw CommentForbidden(403, what + ": HTTP 403: " + error_message(r.body));
  if (r.status == 422) {
    // Validation errors carry the reason in errors[].message ("Body is too long ...").
    std::string detail = error_message(r.body);
    try {
      auto doc = json::parse(r.body, what);
      if (auto m = json::opt_string(doc, "/errors/0/message")) detail += ": " + *m;
    } catch (const Error&) {
    }
    throw HttpError(422, redact::text(what + ": HTTP 422: " + detail));
  }
  net::expect_ok(r, what);
}

}  // namespace

Posted github_upsert(net::Client& http, const GitHubTarget& t, const std::string& marker, const std::string& body) {
  std::string base = t.api_url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  std::string repo_path = "/repos/" + t.repository;
  std::string list_url = base + repo_path + "/issues/" + std::to_string(t.issue) + "/comments?per_page=100";
  std::string where = t.repository + "#" + std::to_string(t.issue);

  std::optional<std::string> found_id;
  std::string found_url, found_body;
  std::string url = list_url;
  for (int page = 1; !url.empty() && !found_id; ++page) {
    if (page > 1000) throw HttpError(0, "listing the comments of " + where + ": more than 1000 pages");
    if (!same_origin(url, base))
      throw HttpError(0, "listing the comments of " + where + ": the next page " + redact::url(url) +
                             " is on another host than " + base + "; not sending the token there");
    auto r = http.send(github_request(t, "GET", url));
    if (r.status == 404)
      throw HttpError(404, "pull request or issue " + where + " not found (or the token cannot read it)");
    check(r, "listing the comments of " + where);
    auto doc = json::parse(r.body, "comments of " + where);
    if (!doc.IsArray()) throw HttpError(r.status, "comments of " + where + ": expected a JSON array");
    for (const auto& c : doc.GetArray()) {
      auto text = json::opt_string(c, "/body");
      if (!text || !has_marker(*text, marker)) continue;
      auto id = json::opt_int(c, "/id");
      if (!id) continue;
      found_id = std::to_string(*id);
      found_url = json::opt_string(c, "/html_url").value_or("");
      found_body = *text;
      break;
    }
    log::debug("comments page ", page, " of ", where, ": ", doc.Size(), " comments");
    url = link_next(r.header("link").value_or("")).value_or("");
  }

  Posted p;
  if (found_id && found_body == body) {
    // A re-run with the same report: no edit (GitHub would mark the comment "edited").
    p.id = *found_id;
    p.url = found_url;
    p.changed = false;
    return p;
  }
  if (found_id) {
    auto req = github_request(t, "PATCH", base + repo_path + "/issues/comments/" + *found_id);
    req.headers.emplace_back("Content-Type", "application/json");
    req.body = comment_json(body);
    req.idempotent = true;  // the same body twice is the same result
    auto r = http.send(req);
    check(r, "updating comment " + *found_id + " on " + where);
    auto doc = json::parse(r.body, "updated comment");
    p.id = *found_id;
    p.url = json::opt_string(doc, "/html_url").value_or(found_url);
    return p;
  }
  auto req = github_request(t, "POST", base + repo_path + "/issues/" + std::to_string(t.issue) + "/comments");
  req.headers.emplace_back("Content-Type", "application/json");
  req.body = comment_json(body);
  auto r = http.send(req);
  check(r, "creating a comment on " + where);
  auto doc = json::parse(r.body, "created comment");
  p.created = true;
  p.id = std::to_string(json::get_int(doc, "/id", "created comment"));
  p.url = json::opt_string(doc, "/html_url").value_or("");
  return p;
}

}  // namespace amlops::report
