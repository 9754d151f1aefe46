#!/usr/bin/python3
"""amlops-lint check --markdown F: the fragment amlops-report assembles (title, verdict, status),
for a failing, a warning and a passing repository, and the GitHub step summary with the same
section. Runs without a git history (--no-history), so it needs no git repository.

usage: cli_markdown_test.py AMLOPS_LINT AMLOPS_REPORT CLEAN_FIXTURE
"""
import json
import os
import random
import shutil
import string
import subprocess
import sys
import tempfile

LINT, REPORT, CLEAN = sys.argv[1:4]
FAILURES = []
ICON = {"pass": "\u2705", "fail": "\u274c", "warn": "\u26a0\ufe0f"}


def check(cond, what):
    print(("ok    " if cond else "FAIL  ") + what)
    if not cond:
        FAILURES.append(what)


def run(binary, *args, env=None):
    e = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "TF_BUILD", "INPUT_", "AMLOPS_"))}
    e.update(env or {})
    return subprocess.run([binary, *args], capture_output=True, text=True, env=e)


def write(root, rel, text):
    path = os.path.join(root, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def header(path):
    """The fragment's header keys (the HTML comment that opens the file)."""
    with open(path) as f:
        text = f.read()
    if not text.startswith("<!-- amlops-fragment\n"):
        return {}
    head = text[len("<!-- amlops-fragment\n"):text.index("-->")]
    return dict(line.split(": ", 1) for line in head.splitlines() if line)


def expected_verdict(summary):
    """The verdict from the JSON counts: '2 errors, 1 warning in 14 files'."""
    parts = []
    for key, word in (("errors", "error"), ("warnings", "warning"), ("notes", "note")):
        n = summary[key]
        if n:
            parts.append("%d %s%s" % (n, word, "" if n == 1 else "s"))
    files = summary["files"]
    return "%s in %d file%s" % (", ".join(parts) or "no findings", files, "" if files == 1 else "s")


def case(name, repo, want_status, want_exit):
    md = os.path.join(tmp, name + ".md")
    r = run(LINT, "check", repo, "--no-history", "--markdown", md)
    check(r.returncode == want_exit, "%s: exit %d (%d: %s)" % (name, want_exit, r.returncode, r.stderr[-200:]))
    doc = json.loads(run(LINT, "check", repo, "--no-history", "--output", "json", "--fail-on", "never").stdout)
    verdict = expected_verdict(doc["summary"])
    h = header(md)
    check(h.get("title") == "Lint" and h.get("status") == want_status and h.get("order") == "10",
          "%s: fragment header title Lint, status %s, order 10 (%s)" % (name, want_status, h))
    check(h.get("verdict") == verdict, "%s: verdict '%s' (%s)" % (name, verdict, h.get("verdict")))
    rep = run(REPORT, "summary", "--fragment", md)
    heading = "### %s Lint\n\n**%s**\n" % (ICON[want_status], verdict)
    check(rep.returncode == 0 and heading in rep.stdout,
          "%s: amlops-report summary shows the icon, the title and the verdict (%r)" % (name, rep.stdout[:160]))
    return md, rep.stdout


tmp = tempfile.mkdtemp(prefix="amlops-lint-md-")
try:
    # Passing: the clean starter project.
    clean = os.path.join(tmp, "clean")
    shutil.copytree(CLEAN, clean)
    case("clean", clean, "pass", 0)

    # Warnings only: exit 0 at --fail-on error, a warning section with the table.
    warn = os.path.join(tmp, "warn")
    write(warn, "requirements.txt", "numpy\npandas\n")
    _, out = case("warn", warn, "warn", 0)
    check("| warning | REPO003 | `requirements.txt:1` |" in out, "warn: the findings table is the section's body")

    # Failing: a storage key in a file (an error); the key never reaches the fragment.
    bad = os.path.join(tmp, "bad")
    shutil.copytree(CLEAN, bad)
    rnd = random.Random(11)
    key = "".join(rnd.choice(string.ascii_letters + string.digits + "+/") for _ in range(86)) + "=="
    write(bad, "settings.env", "STORAGE_ACCOUNT_KEY=%s\n" % key)
    write(bad, "requirements.txt", "numpy\n")
    md, out = case("bad", bad, "fail", 1)
    with open(md) as f:
        text = f.read()
    check(key not in text and key[:12] not in text and key not in out, "bad: the secret is not in the fragment")
    check("| error | SEC" in out, "bad: the error is in the section's table")

    # --fail-on never: the same errors, but the run passes, so the section warns instead of failing.
    never = os.path.join(tmp, "never.md")
    r = run(LINT, "check", bad, "--no-history", "--fail-on", "never", "--markdown", never)
    check(r.returncode == 0 and header(never).get("status") == "warn", "--fail-on never: exit 0, status warn")

    # Like every option: the CI input `markdown` on GitHub, AMLOPS_MARKDOWN anywhere.
    via_input = os.path.join(tmp, "input.md")
    r = run(LINT, "check", warn, "--no-history", env={"GITHUB_ACTIONS": "true", "INPUT_MARKDOWN": via_input})
    check(r.returncode == 0 and header(via_input).get("title") == "Lint", "GitHub input markdown writes the fragment")
    via_env = os.path.join(tmp, "env.md")
    r = run(LINT, "check", warn, "--no-history", env={"AMLOPS_MARKDOWN": via_env})
    check(r.returncode == 0 and header(via_env).get("title") == "Lint", "AMLOPS_MARKDOWN writes the fragment")

    # GitHub Actions: the step summary is the same section (icon, title, verdict, body) that
    # amlops-report assembles from the fragment.
    summary = os.path.join(tmp, "step_summary.md")
    gh = os.path.join(tmp, "gh.md")
    r = run(LINT, "check", bad, "--no-history", "--markdown", gh,
            env={"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": summary, "GITHUB_OUTPUT": os.path.join(tmp, "out")})
    with open(summary) as f:
        step = f.read()
    rep = run(REPORT, "summary", "--fragment", gh)
    check(r.returncode == 1 and step.startswith("### %s Lint\n\n**" % ICON["fail"]),
          "GitHub: the step summary starts with the failing Lint heading (%r)" % step[:80])
    check(step.strip() in rep.stdout, "GitHub: the step summary is the section amlops-report assembles")
    check(key not in step, "GitHub: the secret is not in the step summary")

    # Azure Pipelines: the uploaded summary file is the same section.
    agent = os.path.join(tmp, "agent")
    os.makedirs(agent)
    az = os.path.join(tmp, "az.md")
    r = run(LINT, "check", warn, "--no-history", "--markdown", az, env={"TF_BUILD": "True", "AGENT_TEMPDIRECTORY": agent})
    uploaded = [os.path.join(agent, f) for f in os.listdir(agent) if f.startswith("amlops-summary-")]
    az_summary = open(uploaded[0]).read() if len(uploaded) == 1 else ""
    rep = run(REPORT, "summary", "--fragment", az)
    check(r.returncode == 0 and "##vso[task.uploadsummary]" in r.stdout + r.stderr and az_summary.startswith(
        "### %s Lint\n\n**2 warnings in 1 file**" % ICON["warn"]) and az_summary.strip() in rep.stdout,
          "Azure Pipelines: the uploaded summary is the assembled section (%r)" % az_summary[:80])

    # Missing folders are created (report/lint.md without a mkdir); a fragment that cannot be
    # written (a file where a folder should be) is a configuration error, not a silent loss.
    nested = os.path.join(tmp, "report", "sub", "lint.md")
    r = run(LINT, "check", warn, "--no-history", "--markdown", nested)
    check(r.returncode == 0 and header(nested).get("title") == "Lint", "--markdown creates missing folders")
    r = run(LINT, "check", warn, "--no-history", "--markdown", os.path.join(warn, "requirements.txt", "x.md"))
    check(r.returncode == 2 and "requirements.txt" in r.stderr,
          "unwritable --markdown: exit 2 naming the path (%d: %s)" % (r.returncode, r.stderr.strip()))

    # --update-baseline reports what it wrote.
    base_md = os.path.join(tmp, "baseline.md")
    r = run(LINT, "check", warn, "--no-history", "--baseline", os.path.join(tmp, "b.json"), "--update-baseline",
            "--markdown", base_md)
    h = header(base_md)
    check(r.returncode == 0 and h.get("status") == "info" and h.get("verdict", "").startswith(
        "baseline updated: 2 findings written to "), "--update-baseline: an info section (%s)" % h)
finally:
    shutil.rmtree(tmp, ignore_errors=True)

print("%d failure(s)" % len(FAILURES))
sys.exit(1 if FAILURES else 0)
