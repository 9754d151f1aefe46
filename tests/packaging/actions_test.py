#!/usr/bin/python3
"""The GitHub actions (actions/<tool>/action.yml) and Azure DevOps tasks (tasks/*/task.json) against
the real binaries.

For every input of every action, the binary runs with the environment a GitHub runner gives a
container action for that input: INPUT_<NAME> (upper-cased, spaces to _, hyphens kept) for that input
and for every other input that has a default (the runner sets those too), GITHUB_ACTIONS=true,
GITHUB_OUTPUT and GITHUB_STEP_SUMMARY files, and the subcommand as the argument, as `args:` passes
it. The binary must accept the input (no option-parsing error). For the key inputs the effect is
checked (a file written, an exit code, an output). Statically: every input is a flag of the tool,
every CI-relevant flag in --help has an input (see EXCLUDED), every step output the tool writes
(set_output in src/tools/<tool>) is declared, and task.json inputs cover the same flags.

usage: actions_test.py SOURCE_DIR BIN_DIR WORK_DIR
"""
import json
import os
import re
import hashlib
import http.server
import shutil
import subprocess
import sys
import tarfile
import threading

import yaml

SRC, BIN, WORK = sys.argv[1:4]
sys.path.insert(0, os.path.join(SRC, "scripts", "packaging"))
import gen_manifests  # noqa: E402  (the --help parser the manifests were generated with)

TOOLS = list(gen_manifests.TOOLS)  # every tool with an action and a task (a new tool's entry there is enough)

# Flags of the tools that have no input, and why. Keep this list short and explicit.
EXCLUDED = {
    "help",  # prints the usage and exits: not something a step sets
}

# Inputs of an action that are not flags of the tool.
ACTION_ONLY = {"command", "github-token"}
# task.json inputs that are not flags: the connection and where to run.
TASK_ONLY = {"command", "azureSubscription", "resourceGroup", "workingDirectory"}

# A parse error of the tool's command line ends with "(see TOOL CMD --help)" (src/cli/cli.cpp).
PARSE_ERROR = re.compile(r"unrecognised option|unknown option|invalid option value|\(see amlops-\w+ \w+ --help\)")

FAILURES = []


def check(cond, what):
    print(("ok    " if cond else "FAIL  ") + what, flush=True)
    if not cond:
        FAILURES.append(what)


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def fixtures():
    """A small ML repository, drifting CSVs, a scored file, a markdown fragment, an amlops.yml."""
    shutil.rmtree(WORK, ignore_errors=True)
    os.makedirs(WORK)
    write(os.path.join(WORK, "repo", "requirements.txt"), "pandas\nscikit-learn\n")
    write(os.path.join(WORK, "repo", "src", "train.py"), "import argparse\nprint('train')\n")
    ref = ["x,c,y,yhat"] + ["%d,%s,%d,%d" % (i % 100, "ab"[i % 2], i % 2, i % 2) for i in range(400)]
    cur = ["x,c,y,yhat"] + ["%d,%s,%d,%d" % (i % 100 + 60, "abc"[i % 3], i % 2, (i + i // 3) % 2) for i in range(400)]
    write(os.path.join(WORK, "ref.csv"), "\n".join(ref) + "\n")
    write(os.path.join(WORK, "cur.csv"), "\n".join(cur) + "\n")
    write(os.path.join(WORK, "frag", "10-lint.md"), "### lint\nzero findings in fixture-marker-7\n")
    write(os.path.join(WORK, "amlops.yml"), "monitor:\n  reference: ref.csv\n  current: cur.csv\n  window: 400\n")
    write(os.path.join(WORK, "job.yml"),
          "$schema: https://azuremlschemas.azureedge.net/latest/commandJob.schema.json\n"
          "command: python train.py\ncode: repo/src\nenvironment: azureml:env:1\ncompute: azureml:cpu\n")


# Values a step would plausibly set, per flag; flags with a default in --help use it.
SAMPLES = {
    "output": "json", "format": "json", "sarif-file": "out.sarif", "fail-on": "never", "config": "amlops.yml",
    "baseline": "baseline.json", "max-commits": "5", "history-depth": "5", "min-rows": "10", "path": "repo",
    "file": "job.yml", "set": "inputs.lr=0.1", "name": "job-1", "experiment": "exp", "tag": "k=v", "timeout": "5m",
    "workspace": "azureml://subscriptions/00000000-0000-0000-0000-000000000000/resourcegroups/rg/workspaces/ws",
    "arm-endpoint": "http://127.0.0.1:9", "api-version": "2025-12-01", "auth": "client-secret",
    "from-job": "job-1", "type": "custom_model", "version": "3", "description": "d", "model": "m:1", "to": "dl",
    "delimiter": ",", "threads": "1", "max-values": "1000", "data": "ref.csv", "out": "ref.profile.json",
    "compat": "azure", "metrics": "all", "columns": "x", "exclude": "y", "method": "x=ks", "threshold": "x=0.05",
    "numeric-method": "ks", "categorical-method": "chi2", "numeric-threshold": "0.05",
    "categorical-threshold": "0.05", "drift-share": "0.5", "reference": "ref.csv", "current": "cur.csv",
    "prediction": "yhat", "report": "drift.html", "summary": "drift.md", "label": "y", "score": "yhat",
    "task": "classification", "timestamp": "x", "detector": "adwin", "max-drop": "accuracy=0.1",
    "min": "accuracy=0.1", "max": "log_loss=10", "window": "daily",
    "max-p95-ms": "500", "endpoint": "endpoint.yml", "smoke-request": "request.json",
    "fragment": "frag", "title": "CI report", "key": "k", "issue": "1", "token-env": "GITHUB_TOKEN",
}
# Per-command sample overrides (the same flag means something else there).
SAMPLES_BY_COMMAND = {
    ("monitor", "profile", "type"): "c=categorical", ("monitor", "drift", "type"): "c=categorical",
    ("monitor", "performance", "type"): "c=categorical", ("monitor", "decide", "type"): "c=categorical",
    ("model", "register", "path"): "repo", ("monitor", "performance", "data"): "cur.csv",
    ("monitor", "performance", "reference"): "ref.csv",
}
# What a command needs besides the input under test, so that it gets past its own checks.
BASE = {
    ("lint", "check"): {"path": "repo", "no-history": "true"},
    ("monitor", "profile"): {"data": "ref.csv", "out": "p.profile.json"},
    ("monitor", "drift"): {"reference": "ref.csv", "current": "cur.csv"},
    ("monitor", "performance"): {"data": "cur.csv", "label": "y", "prediction": "yhat"},
    ("monitor", "decide"): {"config": "amlops.yml"},
    ("report", "summary"): {"fragment": "frag"},
    ("report", "comment"): {"fragment": "frag"},
}


def input_env(name):
    return "INPUT_" + name.replace(" ", "_").upper()


def run(tool, command, inputs, tag):
    """Runs amlops-TOOL COMMAND as the runner would; returns (rc, stdout, stderr, outputs, summary)."""
    d = os.path.join(WORK, "runs", tag)
    os.makedirs(d, exist_ok=True)
    out_file, summary_file = os.path.join(d, "output"), os.path.join(d, "summary")
    for f in (out_file, summary_file):
        open(f, "w").close()
    env = {"PATH": "/usr/bin:/bin", "HOME": d, "LANG": "C.UTF-8", "GITHUB_ACTIONS": "true", "CI": "true",
           "GITHUB_OUTPUT": out_file, "GITHUB_STEP_SUMMARY": summary_file, "GITHUB_WORKSPACE": WORK,
           "GITHUB_REPOSITORY": "o/r", "GITHUB_EVENT_NAME": "push", "GITHUB_RUN_ID": "1",
           "GITHUB_SERVER_URL": "http://127.0.0.1:9", "GITHUB_API_URL": "http://127.0.0.1:9"}
    for k, v in inputs.items():
        env[input_env(k)] = v
    p = subprocess.run([os.path.join(BIN, "amlops-" + tool), command], cwd=WORK, env=env, capture_output=True,
                       text=True, timeout=60)
    return p.returncode, p.stdout, p.stderr, parse_output_file(out_file), open(summary_file).read()


def parse_output_file(path):
    """$GITHUB_OUTPUT as the runner reads it: name=value, or name<<DELIM / lines / DELIM."""
    outputs, lines = {}, open(path).read().splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        eq, heredoc = line.find("="), line.find("<<")
        if heredoc >= 0 and (eq < 0 or heredoc < eq):
            name, delim = line[:heredoc], line[heredoc + 2:]
            end = lines.index(delim, i + 1)
            outputs[name] = "\n".join(lines[i + 1:end])
            i = end + 1
        else:
            outputs[line[:eq]] = line[eq + 1:]
            i += 1
    return outputs


def runner_defaults(action):
    """The INPUT_* a runner sets when the workflow gives no `with:` (every input with a default)."""
    return {k: str(v["default"]) for k, v in action["inputs"].items()
            if "default" in v and not str(v["default"]).startswith("${{")}


def outputs_written(tool):
    names = set()
    for root, _, files in os.walk(os.path.join(SRC, "src", "tools", tool)):
        for f in files:
            if f.endswith(".cpp"):
                text = open(os.path.join(root, f)).read()
                for m in re.finditer(r"set_output\(([^,]+),", text):
                    names.update(re.findall(r'"([^"]+)"', m.group(1)))
    return names


def static_checks(tool, action, task, flags, commands):
    inputs = set(action["inputs"])
    # The placeholder that .github/workflows/release.yml rewrites (its sed matches exactly this shape).
    check(action["runs"]["using"] == "docker" and
          re.fullmatch(r"docker://ghcr\.io/amlops/amlops-%s:v[0-9.]+" % tool, action["runs"]["image"]) is not None,
          "%s: runs the prebuilt image docker://ghcr.io/amlops/amlops-%s:v<version>" % (tool, tool))
    check(action["runs"]["args"] == ["${{ inputs.command }}"], "%s: the subcommand is the command input" % tool)
    for c in commands:
        check(c in action["inputs"]["command"]["description"], "%s: command input lists %s" % (tool, c))
    for name in sorted(inputs - ACTION_ONLY):
        check(name in flags, "%s: input %s is a flag of amlops-%s" % (tool, name, tool))
    for name in sorted(flags - EXCLUDED):
        check(bool(action["inputs"].get(name, {}).get("description")),
              "%s: flag --%s has a described action input" % (tool, name))
    written = outputs_written(tool)
    for o in sorted(written):
        check(o in action["outputs"], "%s: step output %s is declared" % (tool, o))
    for o in sorted(action["outputs"]):
        check(o in written, "%s: declared output %s is written by the tool" % (tool, o))
    # Azure DevOps task: the same flags as camelCase inputs, each with help; outputs declared.
    tin = {i["name"]: i for i in task["inputs"]}
    for name in sorted(flags - EXCLUDED):
        # tasks/common/amlops-task.js turns the input name back into the flag: camelCase -> kebab-case.
        back = re.sub(r"[A-Z]", lambda m: "-" + m.group(0).lower(), gen_manifests.camel(name))
        check(back == name, "%s task: input %s maps back to --%s" % (tool, gen_manifests.camel(name), name))
        i = tin.get(gen_manifests.camel(name))
        check(i is not None and i.get("helpMarkDown"), "%s task: flag --%s has an input with help" % (tool, name))
    for name in sorted(set(tin) - TASK_ONLY):
        check(any(gen_manifests.camel(f) == name for f in flags), "%s task: input %s is a flag" % (tool, name))
    for i in task["inputs"]:
        check(re.fullmatch(r"[A-Za-z][A-Za-z0-9]*", i["name"]) is not None, "%s task: input name %s is valid" %
              (tool, i["name"]))
    touts = {o["name"] for o in task["outputVariables"]}
    for o in sorted(written):
        check(gen_manifests.camel(o) in touts, "%s task: output variable %s declared" % (tool, gen_manifests.camel(o)))
    check("Node20_1" in task["execution"] and "Node24" in task["execution"], "%s task: Node20_1 and Node24" % tool)
    if "workspace" in flags:
        check(tin.get("azureSubscription", {}).get("type") == "connectedService:AzureRM",
              "%s task: has an AzureRM service connection input" % tool)


def accepts_every_input(tool, action, per_command):
    defaults = runner_defaults(action)
    for name in sorted(set(action["inputs"]) - ACTION_ONLY):
        for command, flags in per_command.items():
            if name not in flags:
                continue
            value = "true" if not flags[name]["arg"] else SAMPLES_BY_COMMAND.get((tool, command, name),
                                                                                   SAMPLES.get(name))
            if value is None:
                value = flags[name]["default"] or "x"
            inputs = dict(defaults, **BASE.get((tool, command), {}))
            inputs["command"] = command
            inputs[name] = value
            rc, out, err, _, _ = run(tool, command, inputs, "%s-%s-%s" % (tool, command, name))
            bad = PARSE_ERROR.search(err)
            check(bad is None, "%s %s: input %s=%s is accepted%s" % (tool, command, name, value,
                                                                      "" if bad is None else " (" + err.strip()[-200:]
                                                                      + ")"))


def effects(actions):
    lint = runner_defaults(actions["lint"])
    rc, out, err, outs, _ = run("lint", "check", dict(lint, path="repo", **{"no-history": "true",
                                                                              "sarif-file": "lint.sarif",
                                                                              "fail-on": "never"}), "eff-lint")
    sarif = os.path.join(WORK, "lint.sarif")
    check(os.path.exists(sarif) and json.load(open(sarif)).get("version") == "2.1.0",
          "lint: input sarif-file writes SARIF there")
    check(outs.get("sarif-file") == "lint.sarif" and "findings" in outs and "errors" in outs,
          "lint: outputs sarif-file, findings, errors are written (%s)" % sorted(outs))
    check(rc == 0, "lint: fail-on=never exits 0 (rc %d)" % rc)
    rc, out, _, _, _ = run("lint", "check", dict(lint, path="repo", format="json", **{"no-history": "true",
                                                                                        "fail-on": "never"}),
                           "eff-lint-json")
    try:
        json.loads(out)
        ok = True
    except ValueError:
        ok = False
    check(ok, "lint: input format=json prints JSON")

    mon = runner_defaults(actions["monitor"])
    base = dict(mon, reference="ref.csv", current="cur.csv")
    rc, _, err, outs, summary = run("monitor", "drift", base, "eff-drift-defaults")
    check(rc == 0, "monitor drift: the default fail-on-drift=false does not fail the step (rc %d)" % rc)
    check(outs.get("drifted") == "true", "monitor drift: output drifted=true on drifted data (%s)" % outs)
    check({"drifted_features", "drift_share"} <= set(outs), "monitor drift: drift outputs written")
    check(summary.strip() != "", "monitor drift: writes the step summary")
    rc, _, _, _, _ = run("monitor", "drift", dict(base, **{"fail-on-drift": "true"}), "eff-drift-fail")
    check(rc == 1, "monitor drift: input fail-on-drift=true exits 1 on drift (rc %d)" % rc)
    rc, _, _, outs, _ = run("monitor", "drift", dict(base, report="d.html", prediction="yhat"), "eff-drift-report")
    check(os.path.getsize(os.path.join(WORK, "d.html")) > 0 and outs.get("report") == "d.html",
          "monitor drift: input report writes the HTML report and the report output")
    check("prediction_drifted" in outs, "monitor drift: input prediction gives prediction_drifted")
    rc, _, _, outs, _ = run("monitor", "decide", dict(mon, config="amlops.yml"), "eff-decide")
    check(outs.get("retrain") == "true", "monitor decide: output retrain=true on drifted windows (%s)" % outs)

    rep = runner_defaults(actions["report"])
    rc, out, err, _, summary = run("report", "summary", dict(rep, fragment="frag", title="Nightly check"),
                                   "eff-summary")
    check(rc == 0 and "fixture-marker-7" in summary and "Nightly check" in summary,
          "report summary: inputs fragment and title reach the job summary (rc %d)" % rc)

    job = runner_defaults(actions["job"])
    rc, _, err, _, _ = run("job", "submit", dict(job, file="job.yml"), "eff-job-noworkspace")
    check(rc == 2 and "workspace" in err, "job submit: without the workspace input, exit 2 naming it (rc %d)" % rc)
    rc, _, err, _, _ = run("job", "submit", dict(job, file="job.yml", workspace=SAMPLES["workspace"],
                                                  auth="nonsense"), "eff-job-auth")
    check(rc == 2 and "nonsense" in err, "job submit: input auth reaches the credential choice (rc %d)" % rc)


def setup_action():
    """actions/setup/install.sh against a loopback release: installs on a good checksum, refuses a bad one."""
    setup = yaml.safe_load(open(os.path.join(SRC, "actions", "setup", "action.yml")))
    check(setup["runs"]["using"] == "composite", "setup: a composite action")
    check('"$GITHUB_ACTION_PATH/install.sh"' in setup["runs"]["steps"][0]["run"], "setup: runs install.sh")
    rel = os.path.join(WORK, "release", "download", "v9.9.9")
    os.makedirs(rel)
    archive = os.path.join(rel, "amlops-linux-x86_64.tar.gz")
    with tarfile.open(archive, "w:gz") as t:
        t.add(os.path.join(BIN, "amlops-lint"), arcname="amlops-lint")
    digest = hashlib.sha256(open(archive, "rb").read()).hexdigest()
    sums = os.path.join(rel, "SHA256SUMS")
    write(sums, "%s  amlops-linux-x86_64.tar.gz\n%s  amlops-darwin-aarch64.tar.gz\n" % (digest, "0" * 64))

    handler = lambda *a: http.server.SimpleHTTPRequestHandler(*a, directory=os.path.join(WORK, "release"))  # noqa
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()

    def install(tag, runner_os="Linux", arch="X64"):
        d = os.path.join(WORK, "setup-" + tag)
        os.makedirs(d)
        env = {"PATH": "/usr/bin:/bin", "RUNNER_OS": runner_os, "RUNNER_ARCH": arch, "RUNNER_TEMP": d,
               "RUNNER_TOOL_CACHE": os.path.join(d, "cache"), "GITHUB_PATH": os.path.join(d, "path"),
               "GITHUB_OUTPUT": os.path.join(d, "output"), "AMLOPS_VERSION": "v9.9.9",
               "AMLOPS_BASE_URL": "http://127.0.0.1:%d" % server.server_address[1], "AMLOPS_TOKEN": ""}
        p = subprocess.run([os.path.join(SRC, "actions", "setup", "install.sh")], env=env, capture_output=True,
                           text=True, timeout=60)
        path = open(env["GITHUB_PATH"]).read().strip() if os.path.exists(env["GITHUB_PATH"]) else ""
        return p, path

    p, path = install("good")
    ok = p.returncode == 0 and path and subprocess.run([os.path.join(path, "amlops-lint"), "--version"],
                                                       capture_output=True).returncode == 0
    check(bool(ok), "setup: installs the archive and appends a folder with runnable binaries to GITHUB_PATH (%s)"
          % p.stdout.strip()[-200:] + p.stderr.strip()[-200:])
    write(sums, "%s  amlops-linux-x86_64.tar.gz\n" % ("f" * 64))
    p, path = install("tampered")
    check(p.returncode == 1 and "SHA-256 mismatch" in p.stdout and not path,
          "setup: a SHA-256 mismatch fails and puts nothing on PATH")
    p, path = install("mac", "macOS", "ARM64")
    check(p.returncode == 1 and "amlops-darwin-aarch64.tar.gz" in p.stdout, "setup: names the missing archive")
    server.shutdown()


def main():
    fixtures()
    actions = {}
    for tool in TOOLS:
        path = os.path.join(SRC, "actions", gen_manifests.action_dir(tool), "action.yml")
        action = yaml.safe_load(open(path))
        actions[tool] = action
        task_path = os.path.join(SRC, "tasks", "Amlops" + tool.capitalize() + "V1", "task.json")
        task = json.load(open(task_path))
        binary = os.path.join(BIN, "amlops-" + tool)
        commands = gen_manifests.commands_of(binary)
        per_command = {c: {o["name"]: o for o in gen_manifests.options_of(binary, c)} for c in commands}
        flags = set().union(*[set(v) for v in per_command.values()])
        static_checks(tool, action, task, flags, commands)
        accepts_every_input(tool, action, per_command)
    effects(actions)
    setup_action()
    print("%d failure(s)" % len(FAILURES))
    sys.exit(1 if FAILURES else 0)


if __name__ == "__main__":
    main()
