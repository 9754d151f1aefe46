#include "report/azdo.hpp"

#include "core/error.hpp"
#include "core/json.hpp"
#include "core/log.hpp"
#include "core/strings.hpp"
#include "report/comment.hpp"
#include "report/http_util.hpp"

namespace amlops::report {
namespace {

constexpr const char* kApi = "api-version=7.1";

net::Request azdo_request(const AzdoTarget& t, std::string method, std::string url, std::string body = {}) {
  net::Request r;
  r.method = std::move(method);
  r.url = std::move(url);
  r.headers = {{"Authorization", "Bearer " + t.token}, {"Accept", "application/json"}};
  if (!body.empty()) {
    r.headers.emplace_back("Content-Type", "application/json");
    r.body = std::move(body);
  }
  return r;
}

void check(const net::Response& r, const std::string& what) {
  if (r.status == 403) throw CommentForbidden(403, what + ": HTTP 403: " + error_message(r.body));
  // A failed sign-in answers 203 with an HTML sign-in page instead of JSON.
  if (r.status == 203 || (r.ok() && r.header("content-type").value_or("").find("html") != std::string::npos))
    throw HttpError(401, what + ": the service answered with a sign-in page: the access token was not accepted");
  net::expect_ok(r, what);
}

// Status as the API returns it: a name ("active") or its index.
int thread_status(const json::Value& thread) {
  const json::Value* s = json::find(thread, "/status");
  if (!s) return 0;
  if (s->IsInt()) return s->GetInt();
  if (!s->IsString()) return 0;
  static const char* names[] = {"unknown", "active", "fixed", "wontfix", "closed", "bydesign", "pending"};
  std::string v = str::to_lower(s->GetString());
  for (int i = 0; i < 7; ++i)
    if (v == names[i]) return i;
  return 0;
}

std::string web_url(const AzdoTarget& t, const std::string& api_url, int64_t thread) {
  if (t.project_name.empty() || t.repository_name.empty()) return api_url;
  std::string base = t.collection_uri;
  if (base.empty() || base.back() != '/') base += '/';
  return base + str::url_encode(t.project_name) + "/_git/" + str::url_encode(t.repository_name) + "/pullrequest/" +
         std::to_string(t.pull_request) + "?discussionId=" + std::to_string(thread);
}

}  // namespace

std::string azdo_pull_request_url(const AzdoTarget& t) {
  std::string base = t.collection_uri;
  if (base.empty() || base.back() != '/') base += '/';
  return base + str::url_encode(t.project) + "/_apis/git/repositories/" + str::url_encode(t.repository_id) +
         "/pullRequests/" + std::to_string(t.pull_request);
}

Posted azdo_upsert(net::Client& http, const AzdoTarget& t, const std::string& marker, const std::string& body) {
  std::string pr = azdo_pull_request_url(t);
  std::string where = "pull request " + std::to_string(t.pull_request);
  int want_status = t.blocking ? kThreadActive : kThreadClosed;

  // The threads list has no paging parameters: one answer holds every thread.
  auto r = http.send(azdo_request(t, "GET", pr + "/threads?" + kApi));
  if (r.status == 404)
    throw HttpError(404, where + " not found (or the token cannot read it): " + error_message(r.body));
  check(r, "listing the threads of " + where);
  auto doc = json::parse(r.body, "threads of " + where);
  const json::Value* threads = json::find(doc, "/value");
  if (!threads || !threads->IsArray())
    throw HttpError(r.status, "threads of " + where + ": expected {\"value\":[...]}");

  for (const auto& th : threads->GetArray()) {
    if (json::opt_bool(th, "/isDeleted").value_or(false)) continue;
    const json::Value* comments = json::find(th, "/comments");
    if (!comments || !comments->IsArray() || comments->Empty()) continue;
    const json::Value& first = (*comments)[0];
    if (json::opt_bool(first, "/isDeleted").value_or(false)) continue;
    auto content = json::opt_string(first, "/content");
    if (!content || !has_marker(*content, marker)) continue;
    auto thread_id = json::opt_int(th, "/id");
    auto comment_id = json::opt_int(first, "/id");
    if (!thread_id || !comment_id) continue;

    std::string thread_url = pr + "/threads/" + std::to_string(*thread_id);
    Posted p;
    p.id = std::to_string(*thread_id);
    p.url = web_url(t, pr, *thread_id);
    p.changed = false;
    if (*content != body) {
      json::Document c(rapidjson::kObjectType);
      json::Builder b(c.GetAllocator());
      b.set(c, "content", body);
      auto req =
          azdo_request(t, "PATCH", thread_url + "/comments/" + std::to_string(*comment_id) + "?" + kApi, json::dump(c));
      req.idempotent = true;
      check(http.send(req), "updating thread " + std::to_string(*thread_id) + " of " + where);
      p.changed = true;
    }
    // Blocking follows this run: re-activate a thread that must block, close one that no longer must.
    int status = thread_status(th);
    if ((t.blocking && status != kThreadActive) || (!t.blocking && status == kThreadActive)) {
      auto s = azdo_request(t, "PATCH", thread_url + "?" + kApi, "{\"status\":" + std::to_string(want_status) + "}");
      s.idempotent = true;
      check(http.send(s), "setting the status of thread " + std::to_string(*thread_id) + " of " + where);
      p.changed = true;
    }
    return p;
  }

  json::Document d(rapidjson::kObjectType);
  json::Builder b(d.GetAllocator());
  json::Value comments = b.arr();
  json::Value c = b.obj();
  b.set(c, "parentCommentId", 0);
  b.set(c, "content", body);
  b.set(c, "commentType", 1);  // text
  b.push(comments, std::move(c));
  b.set(d, "comments", std::move(comments));
  b.set(d, "status", want_status);
  auto created = http.send(azdo_request(t, "POST", pr + "/threads?" + kApi, json::dump(d)));
  check(created, "creating a thread on " + where);
  auto answer = json::parse(created.body, "created thread");
  Posted p;
  p.created = true;
  int64_t id = json::get_int(answer, "/id", "created thread");
  p.id = std::to_string(id);
  p.url = web_url(t, pr, id);
  log::debug("created thread ", p.id, " on ", where);
  return p;
}

}  // namespace amlops::report
