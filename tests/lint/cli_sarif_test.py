#!/usr/bin/python3
"""amlops-lint end to end: exit codes, formats, config errors, baseline, CI annotations and summary,
and the SARIF output validated against the SARIF 2.1.0 JSON schema (python3-jsonschema).

usage: cli_sarif_test.py AMLOPS_LINT CLEAN_FIXTURE SARIF_SCHEMA
"""
import json
import os
import random
import shutil
import string
import subprocess
import sys
import tempfile

import jsonschema

LINT, CLEAN, SCHEMA = sys.argv[1:4]
FAILURES = []


def check(cond, what):
    print(("ok    " if cond else "FAIL  ") + what)
    if not cond:
        FAILURES.append(what)


def git(repo, *args):
    subprocess.run(["git", "-C", repo, "-c", "user.name=T", "-c", "user.email=t@example.com",
                    "-c", "init.defaultBranch=main", "-c", "commit.gpgsign=false", *args],
                   check=True, capture_output=True)


def lint(*args, env=None):
    e = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "TF_BUILD", "INPUT_", "AMLOPS_"))}
    e.update(env or {})
    return subprocess.run([LINT, *args], capture_output=True, text=True, env=e)


def write(root, rel, text):
    path = os.path.join(root, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def validate_sarif(doc, what):
    with open(SCHEMA) as f:
        schema = json.load(f)
    validator = jsonschema.Draft4Validator(schema)
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.path))
    for e in errors[:5]:
        print("   schema:", "/".join(map(str, e.path)), e.message[:200])
    check(not errors, what + ": valid against the SARIF 2.1.0 schema")
    # What GitHub code scanning requires beyond the schema (non-empty texts, locations, fingerprints).
    run = doc["runs"][0]
    rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    ok = all(r["shortDescription"]["text"] and r["fullDescription"]["text"] and r["help"]["text"] for r in rules.values())
    check(ok, what + ": every rule has short/full description and help")
    ok = True
    for res in run["results"]:
        loc = res["locations"][0]["physicalLocation"]
        ok &= res["ruleId"] in rules and bool(res["message"]["text"])
        ok &= not loc["artifactLocation"]["uri"].startswith("/") and loc["region"]["startLine"] >= 1
        ok &= bool(res["partialFingerprints"]["primaryLocationLineHash"])
    check(ok, what + ": results have rule, message, relative location and primaryLocationLineHash")
    return run


tmp = tempfile.mkdtemp(prefix="amlops-lint-cli-")
try:
    # 1. The clean starter project: realistic (its test trains a model) and without findings.
    clean = os.path.join(tmp, "clean")
    shutil.copytree(CLEAN, clean)
    git(clean, "init", "-q")
    git(clean, "add", ".")
    git(clean, "commit", "-qm", "starter")
    t = subprocess.run(["/usr/bin/python3", "tests/test_train.py"], cwd=clean, capture_output=True, text=True)
    check(t.returncode == 0 and "ok" in t.stdout, "the clean starter's own test trains a model")
    r = lint("check", clean)
    check(r.returncode == 0, "clean project: exit 0 (%d: %s%s)" % (r.returncode, r.stdout[-300:], r.stderr[-300:]))
    check("0 errors, 0 warnings" in r.stdout, "clean project: text summary says 0 errors, 0 warnings")

    # 2. Planted problems with fixes, a secret in history, many warnings.
    repo = os.path.join(tmp, "planted")
    shutil.copytree(CLEAN, repo)
    git(repo, "init", "-q")
    rnd = random.Random(7)
    key = "".join(rnd.choice(string.ascii_letters + string.digits + "+/") for _ in range(86)) + "=="
    write(repo, "settings.env", "STORAGE_ACCOUNT_KEY=%s\n" % key)
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "starter with a key")
    os.remove(os.path.join(repo, "settings.env"))
    wf = os.path.join(repo, ".github/workflows/train.yml")
    with open(wf) as f:
        text = f.read()
    write(repo, ".github/workflows/train.yml", text.replace("ubuntu-24.04", "ubuntu-20.04"))
    ado = os.path.join(repo, "azure-pipelines.yml")
    with open(ado) as f:
        text = f.read()
    write(repo, "azure-pipelines.yml", text.replace("    always: true\n", ""))
    write(repo, "requirements.txt", "".join("pkg%d\n" % i for i in range(12)))  # 12 warnings
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "project")

    r = lint("check", repo, "--format", "sarif")
    check(r.returncode == 1, "planted: exit 1 with errors at the default --fail-on error (%d)" % r.returncode)
    check(key not in r.stdout and key not in r.stderr and key[:12] not in r.stdout, "the secret value is never printed")
    doc = json.loads(r.stdout)
    run = validate_sarif(doc, "planted --format sarif")
    by_rule = {}
    for res in run["results"]:
        by_rule.setdefault(res["ruleId"], []).append(res)
    check(len(by_rule.get("PIPE003", [])) == 2, "PIPE003 reported for both retired runner labels")
    fix = by_rule["PIPE003"][0].get("fixes", [{}])[0]
    rep = fix.get("artifactChanges", [{}])[0].get("replacements", [{}])[0]
    check(rep.get("insertedContent", {}).get("text") == "ubuntu-24.04", "PIPE003 carries a fix replacing the label")
    pipe2 = by_rule.get("PIPE002", [{}])[0]
    ins = pipe2.get("fixes", [{}])[0].get("artifactChanges", [{}])[0].get("replacements", [{}])[0]
    check(ins.get("insertedContent", {}).get("text", "").strip() == "always: true", "PIPE002 carries an insertion fix")
    hist = by_rule.get("SEC001", [])
    check(len(hist) == 1 and hist[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "settings.env"
          and len(hist[0].get("properties", {}).get("commit", "")) == 40, "the deleted key is found in history, with its commit")
    rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    check("security-severity" in rules["SEC001"]["properties"] and "security-severity" not in rules["REPO003"]["properties"],
          "secret rules (only) carry security-severity")
    check(len(by_rule.get("REPO003", [])) == 12, "12 unpinned requirements")

    # --sarif-file alongside JSON on stdout; --fail-on never.
    sarif_path = os.path.join(tmp, "out.sarif")
    r = lint("check", repo, "--format", "json", "--sarif-file", sarif_path, "--fail-on", "never")
    check(r.returncode == 0, "--fail-on never: exit 0")
    out = json.loads(r.stdout)
    check(out["summary"]["errors"] >= 3 and out["summary"]["warnings"] >= 12, "JSON summary counts errors and warnings")
    f0 = out["findings"][0]
    check(all(k in f0 for k in ("rule", "level", "path", "line", "col", "message", "fingerprint")), "JSON findings have their fields")
    with open(sarif_path) as f:
        validate_sarif(json.load(f), "--sarif-file")

    # --no-history drops the history finding.
    r = lint("check", repo, "--no-history", "--output", "json", "--fail-on", "never")
    check(not any(f["rule"] == "SEC001" for f in json.loads(r.stdout)["findings"]), "--no-history skips history")

    # --fail-on warning on a repository with warnings only.
    warn = os.path.join(tmp, "warn")
    os.makedirs(warn)
    write(warn, "requirements.txt", "numpy\n")
    check(lint("check", warn).returncode == 0, "warnings only: exit 0 at --fail-on error")
    check(lint("check", warn, "--fail-on", "warning").returncode == 1, "warnings only: exit 1 at --fail-on warning")
    r = lint("check", warn, env={"AMLOPS_FAIL_ON": "warning"})
    check(r.returncode == 1, "AMLOPS_FAIL_ON=warning is read like --fail-on")

    # Baseline: accept current findings, then only new ones fail.
    base = os.path.join(tmp, "baseline.json")
    check(lint("check", repo, "--baseline", base, "--update-baseline").returncode == 0, "--update-baseline writes a baseline")
    r = lint("check", repo, "--baseline", base)
    check(r.returncode == 0, "with the baseline: exit 0 (%s)" % r.stdout[-200:])
    with open(os.path.join(repo, "requirements.txt"), "a") as f:
        f.write("newpkg\n")
    r = lint("check", repo, "--baseline", base, "--fail-on", "warning", "--output", "json")
    found = json.loads(r.stdout)["findings"]
    check(r.returncode == 1 and len(found) == 1 and found[0]["line"] == 13, "with the baseline: only the new finding")

    # Usage and configuration errors: exit 2 with file:line:col.
    check(lint("check", repo, "--fail-on", "sometimes").returncode == 2, "bad --fail-on: exit 2")
    check(lint("check", os.path.join(tmp, "nope")).returncode == 2, "missing PATH: exit 2")
    check(lint("check", repo, "--format", "xml").returncode == 2, "bad --format: exit 2")
    check(lint("bogus").returncode == 2, "unknown command: exit 2")
    write(warn, "amlops.yml", "lint:\n  disable: [NOPE001]\n")
    r = lint("check", warn)
    check(r.returncode == 2 and "amlops.yml:2:" in r.stderr, "bad amlops.yml: exit 2 with file:line (%s)" % r.stderr.strip())
    write(warn, "amlops.yml", "lint:\n  disable: [REPO003]\n")
    check(lint("check", warn, "--fail-on", "warning").returncode == 0, "amlops.yml lint.disable suppresses a rule")

    # On GitHub Actions: annotations capped at 10 per severity, full table in the step summary.
    summary = os.path.join(tmp, "summary.md")
    output = os.path.join(tmp, "output.txt")
    r = lint("check", repo, "--fail-on", "never",
             env={"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": summary, "GITHUB_OUTPUT": output})
    warnings = [l for l in r.stderr.splitlines() if l.startswith("::warning ")]
    errors = [l for l in r.stderr.splitlines() if l.startswith("::error ")]
    check(len(warnings) == 10, "GitHub: 10 warning annotations (cap), got %d" % len(warnings))
    check(len(errors) >= 3 and any("file=settings.env" in l for l in errors), "GitHub: error annotations with file=")
    with open(summary) as f:
        md = f.read()
    check("| severity | rule | location | message |" in md and md.count("| REPO003 |") == 13, "GitHub: full table in the summary")
    with open(output) as f:
        check("findings<<" in f.read(), "GitHub: step output 'findings'")

    r = lint("rules", "--output", "json")
    ids = [x["id"] for x in json.loads(r.stdout)]
    check(r.returncode == 0 and "AML008" in ids and "SEC001" in ids and len(ids) == len(set(ids)), "rules lists unique ids")
finally:
    shutil.rmtree(tmp, ignore_errors=True)

print("%d failure(s)" % len(FAILURES))
sys.exit(1 if FAILURES else 0)
