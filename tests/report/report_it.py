#!/usr/bin/python3
"""amlops-report comment/summary end to end against loopback fakes of GitHub and Azure DevOps
(fake_hosts.py): the first run creates the comment, the second updates the same one, another key
gets its own, a read-only token falls back to the job summary (exit 0), no pull request falls back
too, an oversized report is cut at a section boundary, and the token never appears in stdout,
stderr, the summary or the step outputs except inside the host's mask command.

usage: report_it.py AMLOPS_REPORT github|azure
"""
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fake_hosts  # noqa: E402

BIN, MODE = sys.argv[1], sys.argv[2]
FAILURES = []
WRITE_TOKEN = "ghs_w7WriteTok3n0123456789abcdefXYZ"
READ_TOKEN = "ghs_w7ReadTok3n0123456789abcdefXYZ"
OUTPUTS = []  # every text the tool produced, for the token check


def check(cond, what):
    print(("ok    " if cond else "FAIL  ") + what, flush=True)
    if not cond:
        FAILURES.append(what)


def fragment(d, name, title, verdict, body, status="pass", order=50):
    path = os.path.join(d, name)
    with open(path, "w") as f:
        f.write("<!-- amlops-fragment\ntitle: %s\nverdict: %s\nstatus: %s\norder: %d\n-->\n%s" % (
            title, verdict, status, order, body))
    return path


def run(args, env, what):
    e = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/tmp")}
    e.update(env)
    p = subprocess.run([BIN, *args, "--output", "json", "--verbose"], capture_output=True, text=True, env=e)
    OUTPUTS.append((what + " stdout", p.stdout))
    OUTPUTS.append((what + " stderr", p.stderr))
    try:
        out = json.loads(p.stdout) if p.stdout.strip() else {}
    except ValueError:
        out = {}
    if p.returncode != 0:
        print("   stderr:", p.stderr[-2000:])
    return p, out


def read(path):
    if not os.path.exists(path):
        return ""
    with open(path) as f:
        return f.read()


def check_token_hidden(mask_prefix, files):
    for name, path in files:
        OUTPUTS.append((name, read(path)))
    masked = False
    for what, text in OUTPUTS:
        for tok in (WRITE_TOKEN, READ_TOKEN):
            for line in text.splitlines():
                if tok in line:
                    if line == mask_prefix + tok and "stderr" in what:
                        masked = True
                    else:
                        check(False, "token printed in %s: %r" % (what, line[:120]))
                        return
    check(True, "the token appears in no stdout, stderr, summary or output file (outside the mask command)")
    check(masked, "the token is masked with %r" % mask_prefix)


# ------------------------------------------------------------------------------------------------
def github(tmp):
    st = fake_hosts.State()
    st.write_tokens.add(WRITE_TOKEN)
    st.read_tokens.add(READ_TOKEN)
    repo, number = "octo/churn", 7
    st.add_issue(repo, number)
    # 150 earlier comments: ours will be the 151st, on the second page of 100.
    for i in range(150):
        st.add_comment(repo, number, "review comment %d" % i)
    # A human quoting our marker is not our comment.
    st.add_comment(repo, number, "quoting the bot: <!-- amlops-report:CI --> looks odd", "reviewer")
    server, url = fake_hosts.serve(st)

    summary = os.path.join(tmp, "summary.md")
    output = os.path.join(tmp, "output.txt")
    event = os.path.join(tmp, "event.json")
    with open(event, "w") as f:
        json.dump({"action": "synchronize", "number": number,
                   "pull_request": {"number": number, "head": {"sha": "0123456789abcdef", "repo": {"full_name": repo}},
                                    "base": {"repo": {"full_name": repo}}}}, f)
    env = {"GITHUB_ACTIONS": "true", "GITHUB_API_URL": url, "GITHUB_REPOSITORY": repo, "GITHUB_TOKEN": WRITE_TOKEN,
           "GITHUB_EVENT_NAME": "pull_request", "GITHUB_EVENT_PATH": event, "GITHUB_WORKFLOW": "CI",
           "GITHUB_STEP_SUMMARY": summary, "GITHUB_OUTPUT": output, "GITHUB_SERVER_URL": "https://github.example",
           "GITHUB_RUN_ID": "99"}
    lint = fragment(tmp, "lint.md", "Lint", "0 errors, 2 warnings", "| rule | n |\n|---|---|\n| X | 2 |\n", "warn", 10)
    drift = fragment(tmp, "drift.md", "Drift", "no drift", "```mermaid\nxychart-beta\n  bar [1, 2]\n```\n", "pass", 30)

    def ours(key="CI"):
        return [c for c in st.comments[(repo, number)] if c["body"].startswith("<!-- amlops-report:%s -->" % key)]

    p, out = run(["comment", "--fragment", drift, "--fragment", lint], env, "first run")
    check(p.returncode == 0, "first run exits 0")
    check(out.get("action") == "created", "first run creates the comment (%s)" % out.get("action"))
    check(len(ours()) == 1, "one comment carries the marker")
    body = ours()[0]["body"] if ours() else ""
    check(body.find("Lint") < body.find("Drift"), "sections in order (Lint order 10 before Drift order 30)")
    check("```mermaid" in body, "the chart stays inline (mermaid)")
    check("commit `0123456`" in body, "the footer names the pull request's head commit")
    paged = [r for r in st.requests if r[0] == "GET" and r[1].startswith("/repositories/4242/") and "page=2" in r[2]]
    check(bool(paged), "the comment list was paged by following Link rel=next")
    check("comment-id=" in read(output) or "comment-id<<" in read(output), "comment-id step output written")

    lint2 = fragment(tmp, "lint-v2.md", "Lint", "1 error, 0 warnings", "| rule | n |\n|---|---|\n| Y | 1 |\n", "fail", 10)
    n_before = len(st.comments[(repo, number)])
    p, out2 = run(["comment", "--fragment", lint2, "--fragment", drift], env, "second run")
    check(p.returncode == 0 and out2.get("action") == "updated", "second run updates (%s)" % out2.get("action"))
    check(out2.get("id") == out.get("id"), "the same comment id is updated")
    check(len(st.comments[(repo, number)]) == n_before and len(ours()) == 1, "still one comment in the end")
    check(ours() and "1 error, 0 warnings" in ours()[0]["body"], "the comment holds the second run's verdict")
    patches = [r for r in st.requests if r[0] == "PATCH"]
    check(len(patches) == 1 and patches[0][3] == WRITE_TOKEN, "one PATCH with the job token")

    # The same report again: no edit; a 502 on the way is retried by the HTTP client.
    st.fail_next = [502]
    n_requests = len(st.requests)
    p, out_same = run(["comment", "--fragment", lint2, "--fragment", drift], env, "same report")
    check(p.returncode == 0 and out_same.get("action") == "unchanged", "the same report leaves the comment unchanged")
    check(len([r for r in st.requests if r[0] == "PATCH"]) == 1, "no PATCH for an unchanged report")
    check(len(st.requests) - n_requests == 3, "the 502 was retried (3 requests for 2 pages)")

    p, out3 = run(["comment", "--fragment", lint2, "--key", "nightly"], env, "other key")
    check(p.returncode == 0 and out3.get("action") == "created", "another key creates a second comment")
    check(len(ours()) == 1 and len(ours("nightly")) == 1, "one comment per key")

    # Truncation: three sections of 30,000 characters do not fit in 65,536.
    big = [fragment(tmp, "big%d.md" % i, "Big %d" % i, "section %d" % i, ("x" * 99 + "\n") * 300, "info", i)
           for i in range(3)]
    open(summary, "w").close()
    p, out4 = run(["comment", "--key", "big", *sum([["--fragment", b] for b in big], [])], env, "oversized")
    check(p.returncode == 0 and out4.get("action") == "created", "an oversized report is still posted")
    big_body = ours("big")[0]["body"] if ours("big") else ""
    check(0 < len(big_body) <= 65536, "the posted body fits GitHub's 65,536 characters (%d)" % len(big_body))
    check(out4.get("left_out") == 1 and "1 section left out" in big_body and "Big 2: section 2" in big_body,
          "cut at a section boundary with a note naming the section left out")
    check(big_body.count("<details>") == 2 and big_body.count("</details>") == 2, "the kept sections are whole")
    check(read(summary).count("### ") == 3, "the job summary has the full report")

    # A read-only token (a fork's pull request): the summary instead, exit 0, and why.
    fork_event = os.path.join(tmp, "fork.json")
    with open(fork_event, "w") as f:
        json.dump({"number": number, "pull_request": {"number": number, "head": {"repo": {"full_name": "fork/churn"}},
                                                      "base": {"repo": {"full_name": repo}}}}, f)
    open(summary, "w").close()
    before = [c["body"] for c in st.comments[(repo, number)]]
    p, out5 = run(["comment", "--fragment", lint], dict(env, GITHUB_TOKEN=READ_TOKEN, GITHUB_EVENT_PATH=fork_event),
                  "read-only token")
    check(p.returncode == 0, "a 403 exits 0")
    check(out5.get("action") == "summary", "a 403 falls back to the summary (%s)" % out5.get("action"))
    check("403" in out5.get("reason", "") and "fork" in out5.get("reason", ""), "the reason says 403 and fork")
    check("Resource not accessible by integration" in p.stderr, "the log says why")
    check("0 errors, 2 warnings" in read(summary), "the summary holds the report")
    check([c["body"] for c in st.comments[(repo, number)]] == before, "no comment changed")

    # Not a pull request, no --issue.
    push_event = os.path.join(tmp, "push.json")
    with open(push_event, "w") as f:
        json.dump({"ref": "refs/heads/main"}, f)
    open(summary, "w").close()
    p, out6 = run(["comment", "--fragment", lint], dict(env, GITHUB_EVENT_NAME="push", GITHUB_EVENT_PATH=push_event),
                  "push")
    check(p.returncode == 0 and out6.get("action") == "summary", "a push build writes the summary, exit 0")
    check("not on a pull request" in out6.get("reason", ""), "and says it is not on a pull request")
    check("Lint" in read(summary), "the summary holds the report")

    # --issue comments on an issue from any event.
    st.add_issue(repo, 12)
    p, out7 = run(["comment", "--fragment", lint, "--issue", "12"], dict(env, GITHUB_EVENT_NAME="push",
                                                                         GITHUB_EVENT_PATH=push_event), "--issue")
    check(p.returncode == 0 and out7.get("action") == "created" and len(st.comments[(repo, 12)]) == 1,
          "--issue 12 comments on issue 12")

    # No token: a configuration error that says how to map it.
    e = dict(env)
    del e["GITHUB_TOKEN"]
    p, _ = run(["comment", "--fragment", lint], e, "no token")
    check(p.returncode == 2 and "pull-requests: write" in p.stderr, "no token: exit 2 with the fix")
    # --token-env
    p, out8 = run(["comment", "--fragment", lint, "--token-env", "MY_PAT"], dict(e, MY_PAT=WRITE_TOKEN), "token-env")
    check(p.returncode == 0 and out8.get("action") == "updated", "--token-env reads the token from that variable")

    # summary subcommand.
    open(summary, "w").close()
    p, out9 = run(["summary", "--fragment", lint, "--fragment", drift], env, "summary")
    check(p.returncode == 0 and "Drift" in read(summary) and "amlops-report:" not in read(summary),
          "summary writes the job summary (no marker)")
    server.shutdown()
    check_token_hidden("::add-mask::", [("summary", summary), ("outputs", output)])


# ------------------------------------------------------------------------------------------------
def azure(tmp):
    st = fake_hosts.State()
    st.write_tokens.add(WRITE_TOKEN)
    st.read_tokens.add(READ_TOKEN)
    project, repo, pr = "6ce954b1-ce1f-45d1-b94d-e6bf2464ba2c", "3411ebc1-d5aa-464f-9615-0b527bc66719", 22
    st.add_pull_request(project, repo, pr)
    st.add_thread(project, repo, pr, "Policy status has been updated", status=4, system=True)
    st.add_thread(project, repo, pr, "Please rename this variable.", status=1)
    # A deleted thread of ours must not be updated (its comment cannot be seen any more).
    st.add_thread(project, repo, pr, "<!-- amlops-report:train-pipeline -->\nold", status=4, deleted=True)
    server, url = fake_hosts.serve(st)
    agent_tmp = os.path.join(tmp, "agent")
    os.mkdir(agent_tmp)
    env = {"TF_BUILD": "True", "SYSTEM_COLLECTIONURI": url + "/fabrikam/", "SYSTEM_TEAMPROJECTID": project,
           "SYSTEM_TEAMPROJECT": "Fabrikam Fiber", "BUILD_REPOSITORY_ID": repo, "BUILD_REPOSITORY_NAME": "churn",
           "BUILD_REPOSITORY_PROVIDER": "TfsGit", "SYSTEM_PULLREQUEST_PULLREQUESTID": str(pr),
           "SYSTEM_ACCESSTOKEN": WRITE_TOKEN, "BUILD_DEFINITIONNAME": "train-pipeline",
           "AGENT_TEMPDIRECTORY": agent_tmp, "BUILD_SOURCEVERSION": "fedcba9876543210", "BUILD_BUILDID": "5"}
    lint = fragment(tmp, "lint.md", "Lint", "0 errors", "all clean\n", "pass", 10)

    def ours(key="train-pipeline"):
        return [t for t in st.threads[(project, repo, pr)]
                if not t["isDeleted"] and t["comments"][0]["content"].startswith("<!-- amlops-report:%s -->" % key)]

    def summaries():
        text = ""
        for n in sorted(os.listdir(agent_tmp)):
            text += read(os.path.join(agent_tmp, n))
        return text

    p, out = run(["comment", "--fragment", lint], env, "first run")
    check(p.returncode == 0 and out.get("action") == "created", "first run creates a thread (%s)" % out.get("action"))
    check(len(ours()) == 1 and ours()[0]["status"] == "closed", "one thread, status closed (not blocking)")
    check("pullrequest/22?discussionId=" in out.get("url", ""), "the result links the thread")
    n_threads = len(st.threads[(project, repo, pr)])

    lint2 = fragment(tmp, "lint-v2.md", "Lint", "3 errors", "| rule |\n|---|\n| Z |\n", "fail", 10)
    p, out2 = run(["comment", "--fragment", lint2], env, "second run")
    check(p.returncode == 0 and out2.get("action") == "updated" and out2.get("id") == out.get("id"),
          "second run updates the same thread")
    check(len(st.threads[(project, repo, pr)]) == n_threads and len(ours()) == 1, "still one thread in the end")
    check(ours() and "3 errors" in ours()[0]["comments"][0]["content"], "its first comment holds the new report")
    deleted = [t for t in st.threads[(project, repo, pr)] if t["isDeleted"]]
    check(deleted[0]["comments"][0]["content"].endswith("old"), "the deleted thread was left alone")

    n_requests = len(st.requests)
    p, out_same = run(["comment", "--fragment", lint2], env, "same report")
    check(p.returncode == 0 and out_same.get("action") == "unchanged" and len(st.requests) - n_requests == 1,
          "the same report again: unchanged, only the list request")

    p, out3 = run(["comment", "--fragment", lint2, "--key", "deploy"], env, "other key")
    check(p.returncode == 0 and out3.get("action") == "created" and len(ours("deploy")) == 1,
          "another key creates a second thread")

    p, _ = run(["comment", "--fragment", lint2, "--blocking"], env, "blocking")
    check(p.returncode == 0 and ours()[0]["status"] == "active", "--blocking re-activates the thread")
    p, _ = run(["comment", "--fragment", lint], env, "unblocking")
    check(p.returncode == 0 and ours()[0]["status"] == "closed", "a later non-blocking run closes it again")

    big = [fragment(tmp, "big%d.md" % i, "Big %d" % i, "part %d" % i, ("y" * 99 + "\n") * 600, "info", i)
           for i in range(3)]
    p, out4 = run(["comment", "--key", "big", *sum([["--fragment", b] for b in big], [])], env, "oversized")
    body = ours("big")[0]["comments"][0]["content"] if ours("big") else ""
    check(p.returncode == 0 and 0 < len(body) <= 150000,
          "an oversized report fits Azure DevOps' 150,000 characters (%d)" % len(body))
    check(out4.get("left_out") == 1 and "Big 2: part 2" in body, "cut at a section boundary with a note")

    for n in os.listdir(agent_tmp):
        os.remove(os.path.join(agent_tmp, n))
    before = json.dumps(list(st.threads.values()))
    p, out5 = run(["comment", "--fragment", lint2], dict(env, SYSTEM_ACCESSTOKEN=READ_TOKEN), "read-only token")
    check(p.returncode == 0 and out5.get("action") == "summary", "a 403 falls back to the summary, exit 0")
    check("TF401027" in out5.get("reason", "") and "Contribute to pull requests" in out5.get("reason", ""),
          "the reason names the missing permission")
    check("3 errors" in summaries() and "##vso[task.uploadsummary]" in p.stderr, "the summary is uploaded")
    check(json.dumps(list(st.threads.values())) == before, "no thread changed")

    e = dict(env)
    del e["SYSTEM_PULLREQUEST_PULLREQUESTID"]
    p, out6 = run(["comment", "--fragment", lint2], e, "no pull request")
    check(p.returncode == 0 and out6.get("action") == "summary" and "not on a pull request" in out6.get("reason", ""),
          "a CI build without a pull request writes the summary, exit 0")

    e = dict(env)
    del e["SYSTEM_ACCESSTOKEN"]
    p, _ = run(["comment", "--fragment", lint2], e, "no token")
    check(p.returncode == 2 and "$(System.AccessToken)" in p.stderr, "no token: exit 2 with the mapping to add")
    server.shutdown()
    files = [("summary " + n, os.path.join(agent_tmp, n)) for n in os.listdir(agent_tmp)]
    check_token_hidden("##vso[task.setsecret]", files)


with tempfile.TemporaryDirectory() as d:
    {"github": github, "azure": azure}[MODE](d)
print("%d failure(s)" % len(FAILURES))
sys.exit(1 if FAILURES else 0)
