#!/usr/bin/python3
"""Loopback fakes of the few GitHub and Azure DevOps REST endpoints amlops-report uses, answering as
their public descriptions define them:

GitHub (REST 2022-11-28, issue comments; a pull request is an issue there):
  GET   /repos/{owner}/{repo}/issues/{n}/comments?per_page=&page=   200 array, ascending id,
        paged with a `Link` header (rel="next"/"prev"/"first"/"last", URLs in the
        /repositories/{id}/... form GitHub uses), per_page default 30, max 100
  GET   /repositories/{id}/issues/{n}/comments?...                   the same (what Link points to)
  POST  /repos/{owner}/{repo}/issues/{n}/comments  {"body"}          201 comment
  PATCH /repos/{owner}/{repo}/issues/comments/{id} {"body"}          200 comment
  401 "Bad credentials" for an unknown token; 403 "Resource not accessible by integration" when a
  read-only token writes; 404 "Not Found"; 422 "Validation Failed" for a body over 65,536 characters.

Azure DevOps (Git pull request threads, api-version 7.1):
  base {collection}{project}/_apis/git/repositories/{repo}/pullRequests/{id}
  GET   base/threads                                  200 {"value":[thread...],"count":N}
  POST  base/threads           {"comments":[...],"status"}          200 thread
  PATCH base/threads/{t}       {"status"}                           200 thread
  PATCH base/threads/{t}/comments/{c} {"content"}                   200 comment
  api-version is required (400 otherwise); 401 for an unknown token; 403 TF401027 when the token
  lacks "Contribute to pull requests"; 400 for a comment over 150,000 characters.

Every request is recorded (method, path, query, the token used) for the test's assertions.
Run standalone for manual tries: fake_hosts.py [PORT] (prints the port).
"""
import json
import re
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

GITHUB_LIMIT = 65536
AZDO_LIMIT = 150000
THREAD_STATUS = ["unknown", "active", "fixed", "wontFix", "closed", "byDesign", "pending"]


class State:
    def __init__(self):
        self.lock = threading.Lock()
        self.write_tokens = set()
        self.read_tokens = set()
        self.requests = []  # (method, path, query, token)
        self.fail_next = []  # statuses answered to the next requests (fault injection)
        # GitHub: repo "owner/name" -> repository id; (repo, issue) -> list of comments
        self.repo_ids = {}
        self.comments = {}
        self.next_comment_id = 1000
        # Azure DevOps: (project, repo, pr) -> list of threads
        self.threads = {}
        self.next_thread_id = 100

    def add_issue(self, repo, number, repo_id=4242):
        self.repo_ids[repo] = repo_id
        self.comments.setdefault((repo, number), [])

    def add_comment(self, repo, number, body, login="someone", user_type="User"):
        with self.lock:
            self.next_comment_id += 1
            c = {"id": self.next_comment_id, "node_id": "IC_%d" % self.next_comment_id,
                 "html_url": "https://github.example/%s/pull/%d#issuecomment-%d" % (repo, number, self.next_comment_id),
                 "body": body, "user": {"login": login, "type": user_type},
                 "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z"}
            self.comments[(repo, number)].append(c)
            return c

    def add_pull_request(self, project, repo, pr):
        self.threads.setdefault((project, repo, pr), [])

    def add_thread(self, project, repo, pr, content, status=1, deleted=False, system=False):
        with self.lock:
            self.next_thread_id += 1
            t = {"id": self.next_thread_id, "publishedDate": "2026-01-01T00:00:00Z",
                 "lastUpdatedDate": "2026-01-01T00:00:00Z",
                 "comments": [{"id": 1, "parentCommentId": 0, "author": {"displayName": "Someone"},
                               "content": content, "commentType": "system" if system else "text",
                               "isDeleted": False}],
                 "status": THREAD_STATUS[status], "threadContext": None,
                 "properties": ({"CodeReviewThreadType": {"$type": "System.String", "$value": "VoteUpdate"}}
                                if system else {}),
                 "isDeleted": deleted}
            self.threads[(project, repo, pr)].append(t)
            return t


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    state = None  # set by serve()

    def log_message(self, *args):
        pass

    # -- plumbing ------------------------------------------------------------------------------
    def send_json(self, status, obj, headers=None):
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def body_json(self):
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n else b""
        try:
            return json.loads(raw.decode() or "null")
        except ValueError:
            return None

    def token(self):
        auth = self.headers.get("Authorization") or ""
        m = re.match(r"(?i)(bearer|token)\s+(\S+)$", auth)
        return m.group(2) if m else None

    def base_url(self):
        return "http://%s:%d" % self.server.server_address[:2]

    def handle_any(self, method):
        u = urlsplit(self.path)
        query = parse_qs(u.query)
        tok = self.token()
        st = self.state
        with st.lock:
            st.requests.append((method, u.path, u.query, tok))
            fail = st.fail_next.pop(0) if st.fail_next else None
        if fail:
            self.body_json()
            return self.send_json(fail, {"message": "Service Unavailable"})
        if "/_apis/" in u.path:
            return self.azdo(method, u.path, query, tok)
        return self.github(method, u.path, query, tok)

    def do_GET(self):
        self.handle_any("GET")

    def do_POST(self):
        self.handle_any("POST")

    def do_PATCH(self):
        self.handle_any("PATCH")

    # -- GitHub --------------------------------------------------------------------------------
    def gh_valid_comment(self, body):
        """A comment body as GitHub accepts it; else the 422 GitHub answers is sent and False returned."""
        if not isinstance(body, dict) or not isinstance(body.get("body"), str):
            self.gh_error(422, "Invalid request.")
            return False
        if len(body["body"]) > GITHUB_LIMIT:
            self.send_json(422, {"message": "Validation Failed", "errors": [
                {"resource": "IssueComment", "code": "custom", "field": "body",
                 "message": "body is too long (maximum is 65536 characters)"}]})
            return False
        return True

    def gh_error(self, status, message):
        self.send_json(status, {"message": message, "documentation_url": "https://docs.github.com/rest"})

    def github(self, method, path, query, tok):
        st = self.state
        if tok not in st.write_tokens and tok not in st.read_tokens:
            return self.gh_error(401, "Bad credentials")
        m = re.match(r"^/repos/([^/]+/[^/]+)/issues/(\d+)/comments$", path)
        m2 = re.match(r"^/repositories/(\d+)/issues/(\d+)/comments$", path)
        m3 = re.match(r"^/repos/([^/]+/[^/]+)/issues/comments/(\d+)$", path)
        if (m or m2) and method == "GET":
            if m:
                repo = m.group(1)
            else:
                repo = next((r for r, i in st.repo_ids.items() if str(i) == m2.group(1)), None)
            number = int((m or m2).group(2))
            if (repo, number) not in st.comments:
                return self.gh_error(404, "Not Found")
            per_page = min(int(query.get("per_page", ["30"])[0]), 100)
            page = int(query.get("page", ["1"])[0])
            with st.lock:
                items = sorted(st.comments[(repo, number)], key=lambda c: c["id"])
            pages = max(1, (len(items) + per_page - 1) // per_page)
            chunk = items[(page - 1) * per_page: page * per_page]
            headers = {}
            if pages > 1:
                link = lambda p: "<%s/repositories/%d/issues/%d/comments?per_page=%d&page=%d>" % (
                    self.base_url(), st.repo_ids[repo], number, per_page, p)
                rels = []
                if page > 1:
                    rels.append(link(page - 1) + '; rel="prev"')
                if page < pages:
                    rels.append(link(page + 1) + '; rel="next"')
                    rels.append(link(pages) + '; rel="last"')
                if page > 1:
                    rels.append(link(1) + '; rel="first"')
                headers["Link"] = ", ".join(rels)
            return self.send_json(200, chunk, headers)
        if m and method == "POST":
            repo, number = m.group(1), int(m.group(2))
            if (repo, number) not in st.comments:
                return self.gh_error(404, "Not Found")
            if tok not in st.write_tokens:
                return self.gh_error(403, "Resource not accessible by integration")
            body = self.body_json()
            if not self.gh_valid_comment(body):
                return
            c = st.add_comment(repo, number, body["body"], "github-actions[bot]", "Bot")
            return self.send_json(201, c, {"Location": "%s/repos/%s/issues/comments/%d" % (
                self.base_url(), repo, c["id"])})
        if m3 and method == "PATCH":
            repo, cid = m3.group(1), int(m3.group(2))
            with st.lock:
                found = [c for (r, _), cs in st.comments.items() if r == repo for c in cs if c["id"] == cid]
            if not found:
                return self.gh_error(404, "Not Found")
            if tok not in st.write_tokens:
                return self.gh_error(403, "Resource not accessible by integration")
            body = self.body_json()
            if not self.gh_valid_comment(body):
                return
            with st.lock:
                found[0]["body"] = body["body"]
                found[0]["updated_at"] = "2026-01-02T00:00:00Z"
            return self.send_json(200, found[0])
        return self.gh_error(404, "Not Found")

    # -- Azure DevOps --------------------------------------------------------------------------
    def ado_error(self, status, message, type_key="InvalidArgumentValueException"):
        self.send_json(status, {"$id": "1", "innerException": None, "message": message,
                                "typeName": "Microsoft.TeamFoundation.SourceControl.WebServer." + type_key,
                                "typeKey": type_key, "errorCode": 0, "eventId": 3000})

    def azdo(self, method, path, query, tok):
        st = self.state
        if tok not in st.write_tokens and tok not in st.read_tokens:
            return self.send_json(401, {"message": "TF400813: The user is not authorized to access this resource."})
        if query.get("api-version", [""])[0] != "7.1":
            return self.ado_error(400, "No api-version was supplied for the request. The api-version is required.",
                                  "VssVersionNotSpecifiedException")
        m = re.match(r"^/[^/]+/([^/]+)/_apis/git/repositories/([^/]+)/pullRequests/(\d+)/threads"
                     r"(?:/(\d+))?(?:/comments/(\d+))?$", path)
        if not m:
            return self.ado_error(404, "The requested resource does not exist.", "NotFoundException")
        key = (m.group(1), m.group(2), int(m.group(3)))
        tid = int(m.group(4)) if m.group(4) else None
        cid = int(m.group(5)) if m.group(5) else None
        if key not in st.threads:
            return self.ado_error(404, "TF401180: The requested pull request was not found.",
                                  "GitPullRequestNotFoundException")
        if method != "GET" and tok not in st.write_tokens:
            return self.ado_error(403, "TF401027: You need the Git 'PullRequestContribute' permission to perform this "
                                       "action. Details: identity 'Build\\0000', scope 'repository'.",
                                  "GitNeedsPermissionException")
        body = self.body_json() if method != "GET" else None
        if method == "GET" and tid is None:
            with st.lock:
                value = json.loads(json.dumps(st.threads[key]))
            return self.send_json(200, {"value": value, "count": len(value)})
        if method == "POST" and tid is None:
            if not isinstance(body, dict) or not isinstance(body.get("comments"), list) or not body["comments"]:
                return self.ado_error(400, "Value cannot be null.\r\nParameter name: newThread")
            content = body["comments"][0].get("content", "")
            if len(content) > AZDO_LIMIT:
                return self.ado_error(400, "A discussion comment cannot be longer than 150000 characters.\r\n"
                                           "Parameter name: comment.Content")
            status = body.get("status", 1)
            status = status if isinstance(status, int) else THREAD_STATUS.index(status)
            t = st.add_thread(key[0], key[1], key[2], content, status=status)
            return self.send_json(200, t)
        with st.lock:
            thread = next((t for t in st.threads[key] if t["id"] == tid), None)
        if thread is None:
            return self.ado_error(404, "TF401181: The requested pull request comment thread was not found.",
                                  "GitPullRequestCommentThreadNotFoundException")
        if method == "PATCH" and cid is None:
            status = body.get("status") if isinstance(body, dict) else None
            if status is not None:
                thread["status"] = THREAD_STATUS[status] if isinstance(status, int) else status
            return self.send_json(200, thread)
        if method == "PATCH" and cid is not None:
            comment = next((c for c in thread["comments"] if c["id"] == cid), None)
            if comment is None:
                return self.ado_error(404, "TF401182: The requested comment was not found.")
            content = body.get("content") if isinstance(body, dict) else None
            if not isinstance(content, str):
                return self.ado_error(400, "Value cannot be null.\r\nParameter name: comment")
            if len(content) > AZDO_LIMIT:
                return self.ado_error(400, "A discussion comment cannot be longer than 150000 characters.\r\n"
                                           "Parameter name: comment.Content")
            with st.lock:
                comment["content"] = content
            return self.send_json(200, comment)
        return self.ado_error(405, "Method not allowed")


def serve(state, port=0):
    """Starts the fake on 127.0.0.1 in a daemon thread; returns (server, base_url)."""
    handler = type("BoundHandler", (Handler,), {"state": state})
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, "http://127.0.0.1:%d" % server.server_address[1]


if __name__ == "__main__":
    s = State()
    s.write_tokens.add("write-token")
    s.read_tokens.add("read-token")
    s.add_issue("octo/repo", 7)
    s.add_pull_request("proj", "repo", 22)
    srv, url = serve(s, int(sys.argv[1]) if len(sys.argv) > 1 else 0)
    print(url, flush=True)
    threading.Event().wait()
