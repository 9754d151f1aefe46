#!/usr/bin/python3
"""The workflow harness: every GitHub workflow that amlops ships (the starter's, templates/github's
self-contained copies, which inline .github/workflows/amlops-*.yml) walked job by job in the order
of their `needs:`, each amlops step run as the runner would run its container action, against a
real amlops-local. A renamed flag, input or output breaks this test, not a user's pipeline.

For each amlops step (`uses: OWNER/amlops/actions/<tool>@REF`):
  - every `with:` key must be an input of actions/<tool>/action.yml;
  - the binary runs with the environment of a container action: INPUT_<NAME> for every input with
    a default and every `with:` value, `${{ }}` resolved from the contexts (earlier steps' outputs
    come from the GITHUB_OUTPUT files those steps really wrote, jobs' outputs through `needs`),
    the job's and the step's `env:`, GITHUB_OUTPUT/GITHUB_STEP_SUMMARY/GITHUB_EVENT_PATH..., and
    the action's `args:` (the subcommand);
  - it must parse its command line, and exit 0 (or fail only where the step says
    continue-on-error);
  - every `steps.<id>.outputs.<name>` and `needs.<job>.outputs.<name>` read later must have been
    written.
Steps of tools not merged yet are reported as skipped by name (pending.py: the one list to edit).
The other steps are simulated: checkout (the repository is already there), upload/download-artifact
(copied through a folder), upload-sarif (the file must be SARIF 2.1.0), the retrain dispatch (the
workflow dispatched must exist and take the input passed); shell steps are not run (the unit tests
run in scaffold_init_repo).

Production traffic: before the monitor workflow (and the monitor pipeline) the harness scores the
starter's drifted batch (data/current) through the scoring URI of the endpoint main.yml deployed,
with the endpoint's key, so that the data collector holds a day's worth of rows; the monitor steps
then run for real (the reference is the data asset churn-reference that main's training job registered
in dev and its promotion copied into prod's workspace: promotion.data in amlops.yml).

Stand-ins, the only differences from a hosted run: a rollout's soak is 0s; sign-in is amlops-local's client secret
(AZURE_CLIENT_SECRET; there is no OIDC token service on loopback) and the ARM endpoint input is
amlops-local's; the repository variables are amlops-local's ids; the repository is the one
`amlops init --host both` writes, with amlops.yml's workspace ids set to amlops-local's (step 1 of
what init says is left to do); GitHub's REST API is tests/report/fake_hosts.py.

The Azure DevOps half walks templates/starter/.azure-pipelines/*.yml the same way: templates
expanded with their parameters, each amlops task run through tasks/common/amlops-task.js under
azure-pipelines-task-lib's mock runner (its inputs as the task gets them, the service connection
as the agent describes it, output variables read back from ##vso commands for later $(step.var)
macros and stageDependencies).

usage: workflows_test.py SOURCE_DIR BIN_DIR WORK_DIR
"""
import fnmatch
import json
import os
import re
import shutil
import subprocess
import sys

import yaml

SRC, BIN, WORK = (os.path.abspath(p) for p in sys.argv[1:4])
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(SRC, "scripts", "templates"))
sys.path.insert(0, os.path.join(SRC, "tests", "report"))
sys.path.insert(0, os.path.join(SRC, "tests", "packaging"))
sys.path.insert(0, HERE)
import fake_hosts  # noqa: E402
import pending  # noqa: E402
import workflows  # noqa: E402
from actions_test import parse_output_file  # noqa: E402  ($GITHUB_OUTPUT as the runner reads it)

PY = "/usr/bin/python3"
PARSE_ERROR = re.compile(r"unrecognised option|unknown option|invalid option value|\(see amlops-\w+ \w+ --help\)")
FAILURES = []
SKIPPED = []
REPO_NAME, PR_NUMBER, TOKEN = "octo/churn", 7, "ghs_harnessToken"


def check(cond, what):
    print(("ok    " if cond else "FAIL  ") + what, flush=True)
    if not cond:
        FAILURES.append(what)
    return cond


def runner_view(text, commands):
    """What a GitHub runner would show of `text`: `::add-mask::` lines hidden and every value that
    `commands` (the step's whole output) masked printed as ***, so a failure message never repeats a token."""
    masks = [m.strip() for m in re.findall(r"^::add-mask::(.*)$", commands, re.M) if m.strip()]
    lines = [line for line in text.splitlines() if not line.startswith("::add-mask::")]
    out = "\n".join(lines)
    for m in sorted(masks, key=len, reverse=True):
        out = out.replace(m, "***")
    return out


def skip(what):
    print("skip  " + what, flush=True)
    SKIPPED.append(what)


def sh(args, **kw):
    return subprocess.run(args, capture_output=True, text=True, **kw)


# --- the world: amlops-local, the initialised repository, a fake GitHub ------------------------

def start_local(label):
    data = os.path.join(WORK, "local-" + label)
    os.makedirs(data)
    with open(os.path.join(data, "config.yml"), "w") as f:
        f.write('environments:\n  "*":\n    python: %s\n' % PY)
    p = sh([os.path.join(BIN, "amlops-local"), "serve", "--port", "0", "--data", data, "--daemon", "--print-env",
            "--workspace-name", "dev", "--workspace-name", "prod", "--registry-name", "churn-registry"])
    if p.returncode != 0:
        print(p.stdout + p.stderr)
        sys.exit(1)
    env = {}
    for line in p.stdout.splitlines():
        m = re.match(r"export (\w+)=(.*)$", line)
        if m:
            env[m.group(1)] = sh(["bash", "-c", "printf %s " + m.group(2)]).stdout
    return data, env


def init_repo(local, label):
    repo = os.path.join(WORK, "repo-" + label)
    p = sh([os.path.join(BIN, "amlops"), "init", repo, "--host", "both"])
    check(p.returncode == 0, "amlops init --host both writes the starter (rc %d %s)" % (p.returncode, p.stderr[-300:]))
    base = local["AMLOPS_WORKSPACE"].rsplit("/workspaces/", 1)[0]
    cfg = os.path.join(repo, "amlops.yml")
    text = open(cfg).read()
    text = re.sub(r"(\n  dev:\n    workspace: ).*", r"\g<1>%s/workspaces/dev" % base, text)
    text = re.sub(r"(\n  prod:\n    workspace: ).*", r"\g<1>%s/workspaces/prod" % base, text)
    with open(cfg, "w") as f:
        f.write(text)
    git = ["git", "-C", repo, "-c", "user.name=harness", "-c", "user.email=harness@example.com"]
    sh(git + ["init", "-q", "-b", "main"])
    sh(git + ["add", "-A"])
    sh(git + ["commit", "-qm", "amlops init"])
    return repo, base


# --- GitHub ------------------------------------------------------------------------------------

def load_action(folder):
    path = os.path.join(SRC, "actions", folder, "action.yml")
    return yaml.safe_load(open(path)) if os.path.exists(path) else None


def order(jobs):
    done, out = set(), []
    while len(out) < len(jobs):
        progressed = False
        for jid, job in jobs.items():
            needs = job.get("needs", [])
            needs = [needs] if isinstance(needs, str) else needs
            if jid not in done and all(n in done for n in needs):
                out.append(jid)
                done.add(jid)
                progressed = True
        if not progressed:
            raise SystemExit("cycle in needs: %s" % sorted(set(jobs) - done))
    return out


class GitHubRun:
    def __init__(self, label, doc, event, world):
        self.label, self.doc, self.event, self.w = label, doc, event, world
        self.dir = os.path.join(WORK, "gh", label)
        self.artifacts = os.path.join(self.dir, "artifacts")
        os.makedirs(self.artifacts)
        self.needs = {}
        self.results = {}
        self.step_runs = []  # (job, step id, tool, command, rc, outputs)

    def github_ctx(self):
        ev = {}
        ref = "refs/heads/main"
        if self.event == "pull_request":
            ev = {"number": PR_NUMBER, "pull_request": {
                "number": PR_NUMBER, "head": {"sha": self.w["sha"], "repo": {"full_name": REPO_NAME}},
                "base": {"repo": {"full_name": REPO_NAME}}}}
            ref = "refs/pull/%d/merge" % PR_NUMBER
        return {"event_name": self.event, "event": ev, "repository": REPO_NAME, "ref": ref,
                "ref_name": ref.rsplit("/", 1)[-1], "sha": self.w["sha"], "token": TOKEN, "workflow": self.label,
                "run_id": "1", "server_url": self.w["github_url"], "api_url": self.w["github_url"]}

    def vars_ctx(self, job):
        env_name = str(job.get("environment", ""))
        ws = self.w["base"] + ("/workspaces/prod" if env_name == "production" else "/workspaces/dev")
        return {"AZURE_CLIENT_ID": self.w["local"]["AZURE_CLIENT_ID"],
                "AZURE_TENANT_ID": self.w["local"]["AZURE_TENANT_ID"], "AMLOPS_WORKSPACE": ws}

    def dispatch_inputs(self):
        on = self.doc.get("on", {})
        spec = (on.get("workflow_dispatch") or {}).get("inputs", {}) if isinstance(on, dict) else {}
        if self.event != "workflow_dispatch":
            return {}
        return {k: v.get("default", "") for k, v in spec.items()}

    def run(self):
        jobs = self.doc["jobs"]
        for jid in order(jobs):
            self.run_job(jid, jobs[jid])
        return self

    def job_status(self, needs):
        results = [self.results[n] for n in needs]
        if any(r in ("failure", "cancelled") for r in results):
            return "failure"
        if any(r == "skipped" for r in results):
            return "skipped"
        return "success"

    def reads(self, job_label, steps_state):
        """The `seen` hook: every output read must have been written by a step or job that ran."""
        def seen(segs):
            if len(segs) >= 4 and segs[0] == "steps" and segs[2] == "outputs":
                st = steps_state.get(segs[1])
                if st and st["ran"]:
                    check(segs[3] in st["outputs"], "%s: step %s wrote output %s (read later)" %
                          (job_label, segs[1], segs[3]))
            if len(segs) >= 4 and segs[0] == "needs" and segs[2] == "outputs":
                n = self.needs.get(segs[1])
                if n and n["result"] == "success" and not n.get("pending"):
                    check(n["outputs"].get(segs[3], "") != "", "%s: job %s's output %s is set (read later)" %
                          (job_label, segs[1], segs[3]))
        return seen

    def ctx(self, job, steps_state, env, status, label):
        values = {"github": self.github_ctx(), "vars": self.vars_ctx(job), "inputs": self.dispatch_inputs(),
                  "needs": {k: {"result": v["result"], "outputs": v["outputs"]} for k, v in self.needs.items()},
                  "steps": {k: {"outputs": v["outputs"], "outcome": v["outcome"], "conclusion": v["conclusion"]}
                            for k, v in steps_state.items()},
                  "env": env, "runner": {"os": "Linux", "temp": self.dir}, "secrets": {"GITHUB_TOKEN": TOKEN}}
        return workflows.Context(values, status=status, seen=self.reads(label, steps_state))

    def run_job(self, jid, job):
        label = "%s/%s" % (self.label, jid)
        needs = job.get("needs", [])
        needs = [needs] if isinstance(needs, str) else needs
        status = self.job_status(needs)
        ctx = self.ctx(job, {}, {}, status, label)
        if not workflows.condition(job.get("if"), ctx):
            print("      %s: skipped (if: %s; needs %s)" % (label, job.get("if", "success()"), status))
            self.results[jid] = "skipped"
            self.needs[jid] = {"result": "skipped", "outputs": {}}
            return
        check(bool(job.get("timeout-minutes")), "%s: has timeout-minutes" % label)
        uses_azure = any(ACTION_RE(s) and s.get("with", {}).get("workspace") is not None for s in job["steps"])
        if uses_azure:
            check((job.get("permissions") or {}).get("id-token") == "write",
                  "%s: signs in with OIDC (permissions id-token: write)" % label)
        print("      %s: running" % label)
        env_job = {k: workflows.to_string(workflows.interpolate(v, ctx)) for k, v in (job.get("env") or {}).items()}
        steps_state, failed, all_pending, any_amlops = {}, False, True, False
        for i, step in enumerate(job["steps"]):
            sid = step.get("id", "step%d" % i)
            sctx = self.ctx(job, steps_state, env_job, "failure" if failed else "success", label)
            st = {"outputs": {}, "outcome": "skipped", "conclusion": "skipped", "ran": False}
            steps_state[sid] = st
            if not workflows.condition(step.get("if"), sctx):
                continue
            env = dict(env_job)
            env.update({k: workflows.to_string(workflows.interpolate(v, sctx)) for k, v in (step.get("env") or {}).items()})
            sctx = self.ctx(job, steps_state, env, "failure" if failed else "success", label)
            rc, outputs, ran, is_pending = self.run_step(label, sid, step, sctx, env, job)
            if ACTION_RE(step):
                any_amlops = True
                all_pending = all_pending and is_pending
            st.update(outputs=outputs, ran=ran, outcome="success" if rc == 0 else "failure")
            st["conclusion"] = "success" if rc == 0 or step.get("continue-on-error") is True else "failure"
            if st["conclusion"] == "failure":
                failed = True
        ctx = self.ctx(job, steps_state, env_job, "failure" if failed else "success", label)
        outs = {k: workflows.to_string(workflows.interpolate(v, ctx)) for k, v in (job.get("outputs") or {}).items()}
        result = "failure" if failed else "success"
        self.results[jid] = result
        self.needs[jid] = {"result": result, "outputs": outs, "pending": any_amlops and all_pending}
        check(result == "success", "%s: job succeeds" % label)

    def run_step(self, label, sid, step, ctx, env, job):
        uses = step.get("uses", "")
        withs = {k: workflows.interpolate(v, ctx) for k, v in (step.get("with") or {}).items()}
        m = ACTION_RE(step)
        if m:
            return self.run_amlops(label, sid, m.group("folder"), step, withs, ctx, env)
        if uses.startswith("actions/checkout@") or uses.startswith("actions/setup-python@"):
            return 0, {}, True, False
        if uses.startswith("actions/upload-artifact@"):
            src = os.path.join(self.w["repo"], withs["path"])
            if os.path.isdir(src):
                shutil.copytree(src, os.path.join(self.artifacts, withs["name"]), dirs_exist_ok=True)
            else:
                check(withs.get("if-no-files-found") == "ignore", "%s: %s: artifact path %s exists" %
                      (label, sid, withs["path"]))
            return 0, {}, True, False
        if uses.startswith("actions/download-artifact@"):
            dest = os.path.join(self.w["repo"], withs["path"])
            for name in sorted(os.listdir(self.artifacts)):
                if fnmatch.fnmatch(name, withs.get("pattern", "*")):
                    target = dest if withs.get("merge-multiple") else os.path.join(dest, name)
                    shutil.copytree(os.path.join(self.artifacts, name), target, dirs_exist_ok=True)
            return 0, {}, True, False
        if uses.startswith("github/codeql-action/upload-sarif@"):
            path = os.path.join(self.w["repo"], withs["sarif_file"])
            ok = os.path.exists(path) and json.load(open(path)).get("version") == "2.1.0"
            check(ok, "%s: %s: the SARIF uploaded to code scanning exists and is SARIF 2.1.0" % (label, sid))
            self.sarif = path
            return (0 if ok else 1), {}, True, False
        if "run" in step:
            if "gh workflow run" in step["run"]:
                return self.dispatch(label, step, env)
            print("      %s: shell step %r not run" % (label, step.get("name", step["run"][:40])))
            return 0, {}, False, False
        check(False, "%s: %s: a step the harness does not know: %s" % (label, sid, uses))
        return 1, {}, False, False

    def dispatch(self, label, step, env):
        wf = os.path.join(self.w["repo"], ".github", "workflows", env.get("WORKFLOW", ""))
        ok = os.path.exists(wf)
        check(ok, "%s: the dispatched workflow %s exists" % (label, env.get("WORKFLOW")))
        if ok:
            target = workflows.load(wf)
            inputs = set(((target.get("on") or {}).get("workflow_dispatch") or {}).get("inputs", {}))
            passed = set(re.findall(r"-f (\w+)=", step["run"]))
            check("workflow_dispatch" in target["on"] and passed <= inputs,
                  "%s: %s takes workflow_dispatch with inputs %s" % (label, env.get("WORKFLOW"), sorted(passed)))
        self.dispatched = env.get("WORKFLOW")
        return 0, {}, True, False

    def run_amlops(self, label, sid, folder, step, withs, ctx, env):
        tool = pending.tool_of_action(folder)
        why = pending.pending_reason(tool, list(withs))
        name = "%s: %s (amlops-%s %s)" % (label, sid, tool, withs.get("command", ""))
        if why:
            skip("%s: %s" % (name, why))
            return 0, pending.stub_outputs(tool, withs.get("command")), False, True
        action = load_action(folder)
        if not check(action is not None, "%s: actions/%s/action.yml exists" % (name, folder)):
            return 1, {}, False, False
        for k in withs:
            check(k in action["inputs"], "%s: with: %s is an input of actions/%s" % (name, k, folder))
        inputs = {}
        ictx = workflows.Context({"github": ctx.values["github"]})
        for k, spec in action["inputs"].items():
            if "default" in spec:
                inputs[k] = workflows.to_string(workflows.interpolate(str(spec["default"]), ictx))
        inputs.update({k: workflows.to_string(v) for k, v in withs.items()})
        # The stand-in: amlops-local's ARM endpoint where the default is Azure's.
        if "arm-endpoint" in inputs:
            inputs["arm-endpoint"] = self.w["local"]["AMLOPS_ARM_ENDPOINT"]
        # and no soak between rollout steps (the templates' minutes are the health check's, not the harness's).
        if inputs.get("soak"):
            inputs["soak"] = "0s"
        actx = workflows.Context({"inputs": inputs, "github": ctx.values["github"]})
        args = [workflows.to_string(workflows.interpolate(a, actx)) for a in action["runs"].get("args", [])]
        d = os.path.join(self.dir, "steps", label.replace("/", "_") + "_" + sid)
        os.makedirs(d, exist_ok=True)
        out_file, summary = os.path.join(d, "output"), os.path.join(d, "summary")
        for f in (out_file, summary):
            open(f, "w").close()
        run_env = {"PATH": "/usr/bin:/bin", "HOME": d, "LANG": "C.UTF-8", "CI": "true", "GITHUB_ACTIONS": "true",
                   "GITHUB_OUTPUT": out_file, "GITHUB_STEP_SUMMARY": summary, "GITHUB_WORKSPACE": self.w["repo"],
                   "GITHUB_EVENT_NAME": self.event, "GITHUB_EVENT_PATH": self.event_file(),
                   "GITHUB_REPOSITORY": REPO_NAME, "GITHUB_SHA": self.w["sha"], "GITHUB_RUN_ID": "1",
                   "GITHUB_REF": ctx.values["github"]["ref"], "GITHUB_API_URL": self.w["github_url"],
                   "GITHUB_SERVER_URL": self.w["github_url"], "RUNNER_TEMP": d}
        run_env.update(env)
        for k, v in (action["runs"].get("env") or {}).items():
            run_env[k] = workflows.to_string(workflows.interpolate(v, actx))
        for k, v in inputs.items():
            run_env["INPUT_" + k.replace(" ", "_").upper()] = v
        run_env["AZURE_CLIENT_SECRET"] = self.w["local"]["AZURE_CLIENT_SECRET"]
        run_env["AZURE_AUTHORITY_HOST"] = self.w["local"]["AZURE_AUTHORITY_HOST"]
        p = sh([os.path.join(BIN, "amlops-" + tool)] + args, cwd=self.w["repo"], env=run_env, timeout=900)
        with open(os.path.join(d, "log"), "w") as f:
            f.write(runner_view(p.stdout + "\n--- stderr\n" + p.stderr, p.stdout + "\n" + p.stderr))
        shown = runner_view(p.stderr, p.stdout + "\n" + p.stderr)
        bad = PARSE_ERROR.search(p.stderr)
        check(bad is None, "%s: the binary accepts its inputs%s" % (name, "" if bad is None else
                                                                     " (" + shown.strip()[-300:] + ")"))
        outputs = parse_output_file(out_file)
        ok = p.returncode == 0 or (step.get("continue-on-error") is True and p.returncode == 1)
        check(ok, "%s: exit %d%s" % (name, p.returncode, "" if ok else " (" + shown.strip()[-400:] + ")"))
        outputs = dict(outputs, _stdout=p.stdout)
        self.step_runs.append((label, sid, tool, withs.get("command"), p.returncode, outputs))
        return p.returncode, outputs, True, False

    def event_file(self):
        path = os.path.join(self.dir, "event.json")
        if not os.path.exists(path):
            with open(path, "w") as f:
                json.dump(self.github_ctx()["event"], f)
        return path

    def outputs_of(self, sid):
        for label, s, tool, command, rc, outputs in self.step_runs:
            if s == sid:
                return outputs
        return {}


def production_traffic(w, batch="current"):
    """Production traffic through the endpoint main.yml deployed to prod: the starter's drifted batch
    (data/current, the label left out), 50 rows per request to the scoring URI with the endpoint's
    key, as a client of the endpoint would send it; the data collector keeps the rows for monitor.
    Returns (rows scored, requests answered with predictions; a non-200 answer raises)."""
    import importlib.util
    import urllib.parse
    import urllib.request
    local = w["local"]

    def call(url, data=None, headers=None):
        req = urllib.request.Request(url, data=data, headers=headers or {},
                                     method="POST" if data is not None else "GET")
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, json.load(r)

    form = urllib.parse.urlencode({"client_id": local["AZURE_CLIENT_ID"], "client_secret": local["AZURE_CLIENT_SECRET"],
                                   "grant_type": "client_credentials", "scope": "https://management.azure.com/.default"})
    _, tok = call(local["AZURE_AUTHORITY_HOST"].rstrip("/") + "/" + local["AZURE_TENANT_ID"] + "/oauth2/v2.0/token",
                  form.encode())
    auth = {"Authorization": "Bearer " + tok["access_token"]}
    p = (w["base"] + "/workspaces/prod").split("/")  # azureml://subscriptions/S/resourcegroups/RG/workspaces/prod
    ep = (local["AMLOPS_ARM_ENDPOINT"].rstrip("/") + "/subscriptions/%s/resourceGroups/%s/providers/"
          "Microsoft.MachineLearningServices/workspaces/prod/onlineEndpoints/churn-endpoint" % (p[3], p[5]))
    _, endpoint = call(ep + "?api-version=2025-12-01", headers=auth)
    _, keys = call(ep + "/listKeys?api-version=2025-12-01", b"", auth)
    # The starter's own traffic helper (src/send_batch.py), as the generated repository has it.
    spec = importlib.util.spec_from_file_location("send_batch", os.path.join(w["repo"], "src", "send_batch.py"))
    send_batch = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(send_batch)
    rows = send_batch.request_rows(os.path.join(w["repo"], "data", batch, "churn.csv"))
    answers = send_batch.send(endpoint["properties"]["scoringUri"], keys["primaryKey"], rows)
    ok = sum(1 for a in answers if len(a.get("predictions", [])) > 0)
    return len(rows), ok


def send_traffic(w, label):
    """Before a monitor run: the drifted batch through the production endpoint (checked)."""
    try:
        n, ok = production_traffic(w)
    except Exception as e:  # noqa: BLE001  (reported as the check's failure)
        n, ok = 0, 0
        print("      traffic: %r" % e)
    check(n == 1000 and ok == n // 50, "%s: production traffic: data/current's %d rows scored through the endpoint "
          "main deployed (%d requests answered 200)" % (label, n, ok))


def ACTION_RE(step):
    return workflows.ACTION.match(step.get("uses", "") or "") if isinstance(step, dict) else None


def github_half(world, gh_state):
    starter = os.path.join(world["repo"], ".github", "workflows")
    standalone = os.path.join(SRC, "templates", "github", "standalone")
    runs = {}
    for name, event in (("pr.yml", "pull_request"), ("main.yml", "push"), ("retrain.yml", "workflow_dispatch"),
                        ("monitor.yml", "schedule")):
        doc = workflows.load(os.path.join(standalone, name))
        # The starter's caller (as init wrote it) expands to exactly the self-contained copy.
        expanded = workflows.standalone(workflows.load(os.path.join(starter, name)), SRC)
        check(yaml.safe_dump(expanded) == yaml.safe_dump(doc),
              "%s: the starter's caller expands to templates/github/standalone/%s" % (name, name))
        if name == "monitor.yml":
            send_traffic(world, "monitor")
        print("== GitHub %s (%s)" % (name, event))
        runs[name] = GitHubRun(name.replace(".yml", ""), doc, event, world).run()

    pr, main, retrain, mon = runs["pr.yml"], runs["main.yml"], runs["retrain.yml"], runs["monitor.yml"]
    check(pr.outputs_of("train").get("status") == "Completed", "pr: the training job Completed")
    check(pr.outputs_of("gate").get("decision") == "promote",
          "pr: the PR's model passes the policy against no champion (%s)" % pr.outputs_of("gate"))
    posts = [r for r in gh_state.requests if r[0] == "POST"]
    comments = gh_state.comments.get((REPO_NAME, PR_NUMBER), [])
    body = comments[-1]["body"] if comments else ""
    check(len(posts) == 1 and pr.outputs_of("comment").get("comment-action") == "created",
          "pr: one pull-request comment created (%d POST, %s)" % (len(posts), pr.outputs_of("comment")))
    check("lint" in body.lower() and "promote" in body.lower() and "churn" in body,
          "pr: the comment holds the lint, training and gate fragments")
    check(main.outputs_of("gate").get("decision") == "promote", "main: the first model passes the gate")
    mid = main.outputs_of("promote").get("model_id", "")
    check(mid.startswith("azureml://registries/churn-registry/models/churn/versions/"),
          "main: promoted into the production registry (%s)" % mid)
    # promotion.data: the champion's reference (registered in dev by its training job) is copied into
    # prod's workspace with the model; the monitor reads it there.
    pdata = main.outputs_of("promote").get("data", "")
    check(pdata.startswith("azureml:churn-reference:") and "," not in pdata,
          "main: the model's reference data travels with it to prod's workspace (data output %r)" % pdata)
    gate = retrain.outputs_of("gate")
    rows = {line.split()[0]: line for line in gate.get("_stdout", "").splitlines() if line.strip()}
    check(gate.get("decision") == "block" and retrain.results.get("promote") == "skipped" and
          "FAIL" in rows.get("f1", "") and "pass" in rows.get("accuracy", "") and "champion:  churn:" in
          gate.get("_stdout", ""),
          "retrain: a model trained on the same data does not beat the champion by 0.005 in f1: blocked, "
          "nothing promoted%s" % ("" if gate.get("decision") == "block" else " (" + gate.get("_stdout", "")[:600] + ")"))
    drift, decide = mon.outputs_of("drift"), mon.outputs_of("decide")
    check(drift.get("outcome") == "drift" and drift.get("drifted") == "true",
          "monitor: drift of the collected production data against azureml:churn-reference@latest in prod "
          "(the champion's own reference, copied at promotion): drifted "
          "(outcome %s, drifted %s, %s features)" % (drift.get("outcome"), drift.get("drifted"),
                                                     drift.get("drifted_features")))
    check(decide.get("retrain") == "true", "monitor: decide's output retrain is true (%s)" %
          {k: v for k, v in decide.items() if k != "_stdout"})
    check(getattr(mon, "dispatched", None) == "retrain.yml",
          "monitor: retrain: true (decide's output) dispatches retrain.yml")
    # Endpoint health beside the decision: amlops.yml's monitor.health over the endpoint's Azure Monitor
    # metrics, the harness's traffic within the starter's thresholds; decide reports it, retrains nothing for it.
    health = mon.outputs_of("health")
    check(mon.results.get("health") == "success" and health.get("breached") == "false" and
          int(health.get("requests") or 0) >= 20,
          "monitor: the health job reads the endpoint's metrics (at least the harness's 20 requests) and passes "
          "(%s, %s)" % (mon.results.get("health"), {k: v for k, v in health.items() if k != "_stdout"}))
    report = os.path.join(mon.artifacts, "amlops-health-report", "30-health.md")
    check(os.path.exists(report) and "health" in open(report).read().lower(),
          "monitor: the health job's markdown report is uploaded as the artifact amlops-health-report")
    check(decide.get("health_breached") == "false", "monitor: decide's output health_breached is false (%s)" %
          decide.get("health_breached"))
    return runs


def world(label):
    """A fresh amlops-local and a repository `amlops init` wrote, pointed at it."""
    data, local = start_local(label)
    repo, base = init_repo(local, label)
    sha = sh(["git", "-C", repo, "rev-parse", "HEAD"]).stdout.strip()
    return {"repo": repo, "base": base, "local": local, "sha": sha, "data": data}


def stop(w):
    sh([os.path.join(BIN, "amlops-local"), "stop", "--data", w["data"]])


def main():
    shutil.rmtree(WORK, ignore_errors=True)
    os.makedirs(WORK)
    w = world("github")
    try:
        st = fake_hosts.State()
        st.write_tokens.add(TOKEN)
        st.add_issue(REPO_NAME, PR_NUMBER)
        server, url = fake_hosts.serve(st)
        w["github_url"] = url
        github_half(w, st)
        server.shutdown()
    finally:
        stop(w)
    import ado_harness
    w = world("azure-devops")
    try:
        ado_harness.run(w, check, skip, SRC, BIN, WORK, before={"monitor.yml": lambda: send_traffic(w, "ado monitor")})
    finally:
        stop(w)
    print("%d failure(s), %d step(s) skipped as pending:\n  %s" % (len(FAILURES), len(SKIPPED),
                                                                   "\n  ".join(SKIPPED) or "none"))
    sys.exit(1 if FAILURES else 0)


if __name__ == "__main__":
    main()
