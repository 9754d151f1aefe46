#!/usr/bin/python3
"""amlops-lint on the clones CI makes: a blobless partial clone (--filter=blob:none, as
actions/checkout with `filter:`), a treeless one (--filter=tree:0), shallow clones (--depth N, as
fetch-depth: N) and a full clone, all made with the real git CLI from a file:// URL. The working
tree is checked in every one; history the clone does not have is skipped, counted and reported
once (text, JSON, SARIF toolExecutionNotifications, GitHub and Azure DevOps summaries), never
fetched; the exit code follows the findings that were made.

usage: cli_clones_test.py AMLOPS_LINT
"""
import glob
import json
import os
import random
import shutil
import string
import subprocess
import sys
import tempfile

LINT = sys.argv[1]
FAILURES = []


def check(cond, what):
    print(("ok    " if cond else "FAIL  ") + what)
    if not cond:
        FAILURES.append(what)


def git(repo, *args):
    return subprocess.run(["git", "-C", repo, "-c", "user.name=T", "-c", "user.email=t@example.com",
                           "-c", "init.defaultBranch=main", "-c", "commit.gpgsign=false", *args],
                          check=True, capture_output=True, text=True).stdout


def lint(*args, env=None):
    e = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "TF_BUILD", "INPUT_", "AMLOPS_", "GIT_"))}
    e.update(env or {})
    return subprocess.run([LINT, *args], capture_output=True, text=True, env=e)


def lint_json(*args):
    r = lint("check", *args, "--format", "json")
    return r.returncode, json.loads(r.stdout)


def write(root, rel, text):
    path = os.path.join(root, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def missing_objects(repo):
    # --missing=print lists what a partial clone lacks without fetching it.
    out = git(repo, "rev-list", "--objects", "--all", "--missing=print")
    return sorted(l for l in out.splitlines() if l.startswith("?"))


def rules_at(doc):
    return sorted((f["rule"], f["path"]) for f in doc["findings"])


def notes(doc):
    return {n["id"]: n for n in doc["notes"]}


def sarif_notifications(text):
    run = json.loads(text)["runs"][0]
    invocations = run.get("invocations", [])
    if len(invocations) != 1 or invocations[0].get("executionSuccessful") is not True:
        return None
    out = {}
    for n in invocations[0].get("toolExecutionNotifications", []):
        if n.get("level") not in ("none", "note", "warning", "error") or not n.get("message", {}).get("text"):
            return None
        out[n["descriptor"]["id"]] = n["message"]["text"]
    return out


tmp = tempfile.mkdtemp(prefix="amlops-lint-clones-")
try:
    # The source: a training project whose working tree has one warning (an unpinned requirement),
    # and a storage key that was committed and later removed (only history has it).
    src = os.path.join(tmp, "source")
    os.makedirs(src)
    git(src, "init", "-q")
    write(src, "src/train.py", "import argparse\np = argparse.ArgumentParser()\np.add_argument('--lr')\np.parse_args()\n")
    write(src, "tests/test_train.py", "import train\n")
    write(src, "requirements.txt", "scikit-learn\n")
    git(src, "add", ".")
    git(src, "commit", "-qm", "project")
    rnd = random.Random(19)
    key = "".join(rnd.choice(string.ascii_letters + string.digits + "+/") for _ in range(86)) + "=="
    write(src, "settings.env", "AZURE_STORAGE_CONNECTION_STRING=DefaultEndpointsProtocol=https;AccountName=acme;"
          "AccountKey=%s;EndpointSuffix=core.windows.net\n" % key)
    git(src, "add", ".")
    git(src, "commit", "-qm", "add settings")
    git(src, "rm", "-q", "settings.env")
    git(src, "commit", "-qm", "remove settings")
    for i in range(2):
        write(src, "src/train.py", "import argparse\np = argparse.ArgumentParser()\np.add_argument('--lr')\n"
              "p.parse_args()\nprint(%d)\n" % i)
        git(src, "commit", "-qam", "tune %d" % i)
    git(src, "config", "uploadpack.allowFilter", "true")  # serve --filter clones
    url = "file://" + src
    tree_findings = [("REPO003", "requirements.txt")]

    def clone(name, *args):
        dest = os.path.join(tmp, name)
        subprocess.run(["git", "clone", "-q", *args, url, dest], check=True, capture_output=True)
        return dest

    # 1. Full clone: the secret in history is found, with its commit; history complete, no notes.
    full = clone("full")
    rc, doc = lint_json(full)
    check(rc == 1, "full clone: exit 1 (the history secret is an error)")
    sec = [f for f in doc["findings"] if f["rule"] == "SEC001"]
    check(len(sec) == 1 and sec[0]["path"] == "settings.env" and len(sec[0].get("commit", "")) == 40,
          "full clone: the removed key is found in history, with its commit")
    check(("REPO003", "requirements.txt") in rules_at(doc), "full clone: the working tree is checked")
    h = doc["summary"]["history"]
    check(h["mode"] == "full" and h["complete"] and not h["shallow"] and not h["partial"] and doc["notes"] == [],
          "full clone: history complete, no note")
    check(doc["summary"]["commits"] == 5, "full clone: 5 commits scanned (%d)" % doc["summary"]["commits"])
    check(key not in json.dumps(doc), "full clone: the key value is never printed")

    # 2. Blobless partial clone: no error, the tree is checked, missing blobs counted and never fetched.
    blobless = clone("blobless", "--filter=blob:none")
    before = missing_objects(blobless)
    check(len(before) >= 2, "blobless clone: git says it lacks old blobs (%d)" % len(before))
    r = lint("check", blobless)
    check(r.returncode == 0 and "error:" not in r.stderr,
          "blobless clone: exit 0 (only the tree's warning) and no git error (%d: %s)" % (r.returncode, r.stderr.strip()))
    check("requirements.txt:1:1: warning REPO003" in r.stdout, "blobless clone: the working tree is checked (text)")
    text_notes = [l for l in r.stdout.splitlines() if l.startswith("note: ")]
    check(len(text_notes) == 1 and "partial clone (--filter=blob:none)" in text_notes[0]
          and "fetch-depth: 0 and no filter" in text_notes[0],
          "blobless clone: one text note naming the filter and how to scan fully: %s" % text_notes)
    rc, doc = lint_json(blobless)
    h = doc["summary"]["history"]
    check(rc == 0 and rules_at(doc) == tree_findings, "blobless clone: JSON has exactly the tree's finding")
    check(h["partial"] and h["filter"] == "blob:none" and not h["complete"] and h["blobs_not_scanned"] >= 2
          and h["commits_not_scanned"] >= 2, "blobless clone: JSON history counts blobs/commits not scanned: %s" % h)
    n = notes(doc).get("history-partial-clone")
    check(n is not None and n["level"] == "note" and ("%d blobs" % h["blobs_not_scanned"]) in n["message"]
          and ("%d commits" % h["commits_not_scanned"]) in n["message"], "blobless clone: JSON note with the counts")
    check(doc["summary"]["commits"] == 5, "blobless clone: every commit is still walked")
    r = lint("check", blobless, "--format", "sarif")
    sn = sarif_notifications(r.stdout)
    check(sn is not None and "history-partial-clone" in sn and "not scanned" in sn["history-partial-clone"],
          "blobless clone: SARIF invocation carries the note as a toolExecutionNotification")
    check(lint("check", blobless, "--fail-on", "warning").returncode == 1,
          "blobless clone: exits by the working tree's findings (--fail-on warning: 1)")
    check(missing_objects(blobless) == before, "blobless clone: nothing was fetched (the source stayed reachable)")
    # A secret added to the working tree of the partial clone is an error: exit 1.
    write(blobless, "deploy.env", "STORAGE_ACCOUNT_KEY=%s\n" % key)
    git(blobless, "add", "deploy.env")
    rc, doc = lint_json(blobless)
    check(rc == 1 and ("SEC001", "deploy.env") in rules_at(doc) and "history-partial-clone" in notes(doc),
          "blobless clone: a working-tree secret still fails it (exit %d)" % rc)

    # Older git (and `git fetch --filter` on a full clone) names the promisor in extensions.partialClone,
    # which libgit2 refuses by default: the repository still opens, with the same note.
    git(blobless, "config", "extensions.partialClone", "origin")
    rc, doc = lint_json(blobless)
    check(rc == 1 and "history-partial-clone" in notes(doc) and doc["summary"]["commits"] == 5,
          "blobless clone with extensions.partialClone: opened as a partial clone: %s" % doc["notes"])

    # 3. Treeless partial clone: old commits' trees are missing too; still no error.
    treeless = clone("treeless", "--filter=tree:0")
    rc, doc = lint_json(treeless)
    n = notes(doc).get("history-partial-clone")
    check(rc == 0 and rules_at(doc) == tree_findings and n is not None and "whose trees it lacks" in n["message"],
          "treeless clone: tree checked, commits without trees counted: %s" % (n or {}).get("message"))

    # 4. Shallow clones: the depth covered is reported, older history is not claimed.
    shallow = clone("shallow", "--depth", "1")
    r = lint("check", shallow)
    check(r.returncode == 0 and "requirements.txt:1:1: warning REPO003" in r.stdout,
          "shallow clone (depth 1): the working tree is checked, exit 0")
    text_notes = [l for l in r.stdout.splitlines() if l.startswith("note: ")]
    check(len(text_notes) == 1 and "shallow clone: scanned the 1 commit it has" in text_notes[0]
          and "older history was not scanned" in text_notes[0] and "fetch-depth: 0" in text_notes[0],
          "shallow clone (depth 1): one text note with the covered depth: %s" % text_notes)
    rc, doc = lint_json(shallow)
    h = doc["summary"]["history"]
    check(h["shallow"] and not h["complete"] and doc["summary"]["commits"] == 1 and "history-shallow" in notes(doc),
          "shallow clone (depth 1): JSON says shallow, 1 commit, not complete")
    sn = sarif_notifications(lint("check", shallow, "--format", "sarif").stdout)
    check(sn is not None and "scanned the 1 commit" in sn.get("history-shallow", ""),
          "shallow clone (depth 1): SARIF toolExecutionNotification")
    deeper = clone("deeper", "--depth", "4")  # reaches the commit that added the key
    rc, doc = lint_json(deeper)
    check(rc == 1 and ("SEC001", "settings.env") in rules_at(doc) and doc["summary"]["commits"] == 4
          and "scanned the 4 commits" in notes(doc).get("history-shallow", {}).get("message", ""),
          "shallow clone (depth 4): the key within reach is found, 4 commits reported")

    # 5. --history-depth N and --no-history on the full clone.
    rc, doc = lint_json(full, "--history-depth", "2")
    check(rc == 0 and rules_at(doc) == tree_findings and doc["summary"]["history"]["mode"] == "depth"
          and "scanned the newest 2 commits" in notes(doc).get("history-depth", {}).get("message", ""),
          "--history-depth 2: 2 commits, the older key not reached, and said so")
    rc, doc = lint_json(full, "--no-history")
    check(rc == 0 and rules_at(doc) == tree_findings and doc["summary"]["history"]["mode"] == "none"
          and doc["notes"] == [], "--no-history: tree only, mode none, no note")

    # 6. A history that cannot be read (a corrupt object) is a warning note; the tree is still checked.
    corrupt = os.path.join(tmp, "corrupt")
    shutil.copytree(src, corrupt)
    blob = git(corrupt, "rev-parse", "HEAD~3:settings.env").strip()
    obj = os.path.join(corrupt, ".git", "objects", blob[:2], blob[2:])
    os.chmod(obj, 0o644)
    with open(obj, "wb") as f:
        f.write(b"not a zlib stream")
    rc, doc = lint_json(corrupt)
    n = notes(doc).get("history-unreadable")
    check(rc == 0 and rules_at(doc) == tree_findings and n is not None and n["level"] == "warning",
          "corrupt history: exit by the tree's findings, warning note: %s" % doc["notes"])

    # 6. CI summaries carry the note with the fix.
    summary = os.path.join(tmp, "summary.md")
    r = lint("check", shallow, env={"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": summary,
                                    "GITHUB_OUTPUT": os.path.join(tmp, "out.txt")})
    with open(summary) as f:
        md = f.read()
    check(r.returncode == 0 and md.count("older history was not scanned") == 1 and "fetch-depth: 0" in md,
          "GitHub step summary: the shallow note once, with fetch-depth: 0")
    agent_tmp = os.path.join(tmp, "agent")
    os.makedirs(agent_tmp)
    r = lint("check", blobless, "--fail-on", "never", env={"TF_BUILD": "True", "AGENT_TEMPDIRECTORY": agent_tmp})
    files = glob.glob(os.path.join(agent_tmp, "amlops-summary-*.md"))
    md = open(files[0]).read() if len(files) == 1 else ""
    check("##vso[task.uploadsummary]" in r.stdout + r.stderr and "partial clone" in md and "fetchFilter" in md,
          "Azure DevOps summary: the partial-clone note with the fix")
finally:
    shutil.rmtree(tmp, ignore_errors=True)

print("%d failure(s)" % len(FAILURES))
sys.exit(1 if FAILURES else 0)
