"""The Azure DevOps half of the workflow harness (workflows_test.py runs it): the starter's
pipelines (templates/starter/.azure-pipelines, as `amlops init` wrote them) expanded with amlops'
stage and job templates (templates/azure-pipelines) and their parameters, walked stage by stage
and job by job; every amlops task runs through the real task handler (tasks/common/amlops-task.js)
under azure-pipelines-task-lib's mock runner (tests/packaging/ado/scenario.js) with the real
binary, against amlops-local.

What is checked: each task input is an input of its task.json; after macro expansion no `$(...)`
is left in an input (an output variable renamed or never set would leave one); the task succeeds
(or fails only where the step says continueOnError); stage and job conditions read the output
variables the tasks really set (a missing one fails). Stand-ins: the service connection is a
service principal with amlops-local's secret (the agent's workload identity federation needs the
Azure DevOps token service), AMLOPS_ARM_ENDPOINT is amlops-local, the variable group's values are
amlops-local's workspaces, and the pull-request threads API is tests/report/fake_hosts.py."""
import fnmatch
import json
import os
import re
import shutil
import subprocess

import yaml

import fake_hosts
import pending
import workflows

EXPR = re.compile(r"^\$\{\{\s*(.*?)\s*\}\}$", re.S)
IF_KEY = re.compile(r"^\$\{\{\s*(if|elseif)\s+(.*?)\s*\}\}$", re.S)
ELSE_KEY = re.compile(r"^\$\{\{\s*else\s*\}\}$")
MACRO = re.compile(r"\$\(([A-Za-z0-9_.-]+)\)")
RUNTIME = re.compile(r"^\$\[\s*(.*?)\s*\]$", re.S)


def _truthy(v):
    return not (v is None or v is False or v == 0 or v == "" or (isinstance(v, str) and v.lower() == "false"))


def _s(v):
    return workflows.to_string(v)


def _eq(a, b):
    return _s(a).lower() == _s(b).lower()


def functions(status="success"):
    return {
        "and": lambda *a: all(_truthy(x) for x in a), "or": lambda *a: any(_truthy(x) for x in a),
        "not": lambda a: not _truthy(a), "eq": _eq, "ne": lambda a, b: not _eq(a, b),
        "length": lambda a: len(a) if a is not None else 0,
        "join": lambda sep, items: sep.replace("\\n", "\n").join(_s(i) for i in (items or [])),
        "coalesce": lambda *a: next((x for x in a if _truthy(x)), ""),
        "contains": lambda a, b: _s(b).lower() in _s(a).lower(),
        "startswith": lambda a, b: _s(a).lower().startswith(_s(b).lower()),
        "in": lambda a, *b: any(_eq(a, x) for x in b),
        "succeeded": lambda *a: status == "success", "failed": lambda *a: status == "failure",
        "always": lambda *a: True, "canceled": lambda *a: False, "succeededorfailed": lambda *a: True,
    }


def compile_eval(expr, params):
    return workflows.evaluate(expr, workflows.Context({"parameters": params}, functions=functions()))


def declared_params(decls, given, where):
    out = {}
    for d in decls or []:
        if d["name"] in given:
            out[d["name"]] = given[d["name"]]
        elif "default" in d:
            out[d["name"]] = d["default"]
        else:
            raise AssertionError("%s: parameter %s is required and not given" % (where, d["name"]))
    unknown = set(given) - {d["name"] for d in decls or []}
    if unknown:
        raise AssertionError("%s: parameters %s are not declared" % (where, sorted(unknown)))
    return out


class Expander:
    """Template expressions (${{ }}), conditional insertion and `template:` references, resolved at
    compile time as Azure Pipelines does before a run."""

    def __init__(self, src):
        self.src = src

    def value(self, node, params, here):
        if isinstance(node, str):
            m = EXPR.match(node.strip())
            if m:
                return compile_eval(m.group(1), params)
            return re.sub(r"\$\{\{\s*(.*?)\s*\}\}", lambda m: _s(compile_eval(m.group(1), params)), node)
        if isinstance(node, list):
            out = []
            for item in node:
                if isinstance(item, dict) and len(item) == 1 and (IF_KEY.match(next(iter(item))) or
                                                                  ELSE_KEY.match(next(iter(item)))):
                    out.extend(self._branch(item, params, here, list))
                elif isinstance(item, dict) and "template" in item and isinstance(item["template"], str):
                    out.extend(self.template(item, params, here))
                else:
                    out.append(self.value(item, params, here))
            return out
        if isinstance(node, dict):
            out, last = {}, None
            for k, v in node.items():
                m = IF_KEY.match(k)
                if m:
                    last = _truthy(compile_eval(m.group(2), params)) if m.group(1) == "if" or not last else False
                    if last:
                        out.update(self.value(v, params, here))
                    continue
                if ELSE_KEY.match(k):
                    if last is False:
                        out.update(self.value(v, params, here))
                    last = None
                    continue
                out[k] = self.value(v, params, here)
            return out
        return node

    def _branch(self, item, params, here, kind):
        k, v = next(iter(item.items()))
        m = IF_KEY.match(k)
        if m and _truthy(compile_eval(m.group(2), params)):
            return self.value(v, params, here)
        return []

    def template(self, item, params, here):
        ref = item["template"]
        if "@" in ref:
            path = os.path.join(self.src, ref.split("@")[0])
        else:
            path = os.path.normpath(os.path.join(os.path.dirname(here), ref))
        doc = yaml.safe_load(open(path))
        given = self.value(item.get("parameters", {}) or {}, params, here)
        inner = declared_params(doc.get("parameters"), given, os.path.relpath(path, self.src))
        body = {k: v for k, v in doc.items() if k != "parameters"}
        expanded = self.value(body, inner, path)
        for key in ("stages", "jobs", "steps"):
            if key in expanded:
                return expanded[key]
        raise AssertionError("%s holds no stages, jobs or steps" % path)

    def pipeline(self, path):
        doc = yaml.safe_load(open(path))
        params = declared_params(doc.get("parameters"), {}, path)
        return self.value({k: v for k, v in doc.items() if k != "parameters"}, params, path)


class AdoRun:
    def __init__(self, label, pipeline, world, check, skip, src, work, reason, extra):
        self.label, self.p, self.w, self.check, self.skip = label, pipeline, world, check, skip
        self.src, self.reason, self.extra = src, reason, extra
        self.dir = os.path.join(work, "ado", label)
        self.artifacts = os.path.join(self.dir, "artifacts")
        os.makedirs(self.artifacts)
        self.stage_results, self.stage_jobs = {}, {}  # stage -> result; stage -> {job: {result, outputs}}
        self.task_runs = []

    def variables(self):
        local, base = self.w["local"], self.w["base"]
        return {"AMLOPS_WORKSPACE_DEV": base + "/workspaces/dev", "AMLOPS_WORKSPACE_PROD": base + "/workspaces/prod",
                "AMLOPS_RETRAIN_PIPELINE_ID": "42", "Build.Reason": self.reason,
                "System.JobAttempt": "1", "System.CollectionUri": self.extra["azdo_env"]["SYSTEM_COLLECTIONURI"],
                "System.TeamProjectId": self.extra["azdo_env"]["SYSTEM_TEAMPROJECTID"], "Pipeline.Workspace": os.path.join(self.dir, "pipeline")}

    def macros(self, text, vars_):
        if not isinstance(text, str):
            return text
        return MACRO.sub(lambda m: _s(next((v for k, v in vars_.items() if k.lower() == m.group(1).lower()),
                                           m.group(0))), text)

    def seen(self, where):
        def hook(segs):
            if len(segs) >= 4 and segs[0] in ("dependencies", "stageDependencies") and \
                    "outputs" in [str(s) for s in segs]:
                i = [str(s) for s in segs].index("outputs")
                if segs[0] == "dependencies" and i == 2 and self.stage_results.get(segs[1]) == "success":
                    outs = self.stage_outputs(segs[1])
                    self.check(any(k.lower() == str(segs[3]).lower() for k in outs),
                               "%s: stage %s set output %s (read by a condition)" % (where, segs[1], segs[3]))
                if segs[0] == "stageDependencies" and i == 3:
                    j = self.stage_jobs.get(segs[1], {}).get(segs[2])
                    if j and j["result"] == "success" and not j.get("pending"):
                        self.check(any(k.lower() == str(segs[4]).lower() for k in j["outputs"]),
                                   "%s: job %s.%s set output %s (read later)" % (where, segs[1], segs[2], segs[4]))
        return hook

    def stage_outputs(self, stage):
        return {job + "." + k: v for job, j in self.stage_jobs.get(stage, {}).items() for k, v in j["outputs"].items()}

    def run(self):
        stages = self.p["stages"]
        prev = None
        for st in stages:
            deps = st.get("dependsOn", [prev] if prev else [])
            deps = [deps] if isinstance(deps, str) else (deps or [])
            status = "success" if all(self.stage_results.get(d) == "success" for d in deps) else (
                "failure" if any(self.stage_results.get(d) == "failure" for d in deps) else "skipped")
            ctx_vals = {"dependencies": {d: {"result": self.stage_results.get(d, "Skipped"),
                                             "outputs": self.stage_outputs(d)} for d in deps},
                        "variables": self.variables()}
            where = "%s/%s" % (self.label, st["stage"])
            cond = st.get("condition", "succeeded()")
            ok = _truthy(workflows.evaluate(cond, workflows.Context(ctx_vals, seen=self.seen(where),
                                                                      functions=functions(status))))
            prev = st["stage"]
            if not ok:
                print("      %s: stage skipped (condition: %s)" % (where, cond))
                self.stage_results[st["stage"]] = "skipped"
                continue
            svars = dict(self.variables())
            sd = {s: {j: {"outputs": v["outputs"], "result": v["result"]} for j, v in jobs.items()}
                  for s, jobs in self.stage_jobs.items()}
            for k, v in (st.get("variables") or {}).items():
                m = RUNTIME.match(str(v))
                svars[k] = _s(workflows.evaluate(m.group(1), workflows.Context(
                    {"stageDependencies": sd, "variables": svars}, seen=self.seen(where),
                    functions=functions()))) if m else self.macros(v, svars)
            self.stage_results[st["stage"]] = self.run_jobs(st, svars)

    def run_jobs(self, st, svars):
        jobs = st["jobs"]
        results = self.stage_jobs.setdefault(st["stage"], {})
        names = [j.get("job") or j.get("deployment") for j in jobs]
        done = set()
        while len(done) < len(jobs):
            for j, name in zip(jobs, names):
                deps = j.get("dependsOn", [])
                deps = [deps] if isinstance(deps, str) else (deps or [])
                if name in done or not all(d in done for d in deps):
                    continue
                done.add(name)
                self.run_job(st["stage"], j, name, deps, results, svars)
        return "failure" if any(r["result"] == "failure" for r in results.values()) else "success"

    def run_job(self, stage, j, name, deps, results, svars):
        where = "%s/%s/%s" % (self.label, stage, name)
        dres = [results[d]["result"] for d in deps]
        status = "failure" if "failure" in dres else ("skipped" if "skipped" in dres else "success")
        cond = j.get("condition", "succeeded()")
        vars_ = dict(svars, **{"Build.ArtifactStagingDirectory": os.path.join(self.dir, "staging", name)})
        if not _truthy(workflows.evaluate(cond, workflows.Context({"variables": vars_}, functions=functions(status)))):
            print("      %s: job skipped (condition: %s)" % (where, cond))
            results[name] = {"result": "skipped", "outputs": {}}
            return
        self.check(bool(j.get("timeoutInMinutes")), "%s: has timeoutInMinutes" % where)
        if "deployment" in j:
            self.check(bool(j.get("environment")), "%s: a deployment job on an environment (approvals)" % where)
            steps = j["strategy"]["runOnce"]["deploy"]["steps"]
        else:
            steps = j["steps"]
        print("      %s: running" % where)
        outputs, failed, any_amlops, all_pending = {}, False, False, True
        for step in steps:
            scond = step.get("condition", "succeeded()")
            if not _truthy(workflows.evaluate(scond, workflows.Context({"variables": vars_},
                                                                       functions=functions("failure" if failed else
                                                                                           "success")))):
                continue
            rc, outs, is_pending = self.run_step(where, step, vars_)
            if str(step.get("task", "")).startswith("Amlops"):
                any_amlops = True
                all_pending = all_pending and is_pending
            for k, v in outs.items():
                vars_["%s.%s" % (step.get("name"), k)] = v
                key = ("%s.%s.%s" % (name, step.get("name"), k)) if "deployment" in j else \
                    "%s.%s" % (step.get("name"), k)
                outputs[key] = v
            if rc != 0 and str(step.get("continueOnError")).lower() != "true":
                failed = True
        results[name] = {"result": "failure" if failed else "success", "outputs": outputs,
                         "pending": any_amlops and all_pending}
        self.check(not failed, "%s: job succeeds" % where)

    def run_step(self, where, step, vars_):
        task = str(step.get("task", ""))
        inputs = {k: self.macros(_s(v) if not isinstance(v, str) else v, vars_)
                  for k, v in (step.get("inputs") or {}).items()}
        if task.startswith("Amlops"):
            return self.run_task(where, step, task, inputs)
        if task.startswith("PublishPipelineArtifact"):
            if os.path.isdir(inputs["targetPath"]):
                shutil.copytree(inputs["targetPath"], os.path.join(self.artifacts, inputs["artifact"]),
                                dirs_exist_ok=True)
            return 0, {}, False
        if task.startswith("DownloadPipelineArtifact"):
            pattern = inputs.get("itemPattern", "**").split("/")[0]
            for a in sorted(os.listdir(self.artifacts)):
                if fnmatch.fnmatch(a, pattern):
                    shutil.copytree(os.path.join(self.artifacts, a), os.path.join(inputs["targetPath"], a),
                                    dirs_exist_ok=True)
            return 0, {}, False
        if task.startswith("UsePythonVersion") or "checkout" in step:
            return 0, {}, False
        if "script" in step:
            script = self.macros(step["script"], vars_)
            if script.startswith("mkdir -p"):  # the fragment gathering: local files only
                p = subprocess.run(["bash", "-c", script], capture_output=True, text=True)
                self.check(p.returncode == 0, "%s: %s" % (where, step.get("displayName", "script")))
                return p.returncode, {}, False
            if "/_apis/pipelines/" in script:  # queueing the retraining pipeline: checked, not sent
                left = MACRO.findall(script)
                self.check(not left and "_apis/pipelines/42/runs" in script,
                           "%s: queues the retraining pipeline by its id (unresolved: %s)" % (where, left))
                self.queued = True
                return 0, {}, False
            print("      %s: script %r not run" % (where, step.get("displayName", script[:40])))
            return 0, {}, False
        self.check(False, "%s: a step the harness does not know: %s" % (where, step))
        return 1, {}, False

    def run_task(self, where, step, task, inputs):
        name = task.split("@")[0]
        tool = name[len("Amlops"):].lower()
        what = "%s: %s (%s %s)" % (where, step.get("name"), task, inputs.get("command"))
        why = pending.pending_reason(tool, list(inputs))
        if why:
            self.skip("%s: %s" % (what, why))
            return 0, pending.stub_outputs(tool, inputs.get("command")), True
        task_dir = os.path.join(self.src, "tasks", name + "V1")
        spec = json.load(open(os.path.join(task_dir, "task.json")))
        known = {i["name"] for i in spec["inputs"]}
        for k in inputs:
            self.check(k in known, "%s: input %s is an input of %s/task.json" % (what, k, name + "V1"))
        for k, v in inputs.items():
            left = MACRO.findall(v)
            self.check(not left, "%s: input %s has no unresolved macro %s" % (what, k, left))
        local = self.w["local"]
        env = {"TF_BUILD": "True", "AMLOPS_BIN_DIR": self.extra["bin"], "AGENT_TEMPDIRECTORY": self.dir,
               "AMLOPS_ARM_ENDPOINT": local["AMLOPS_ARM_ENDPOINT"], "BUILD_REASON": self.reason,
               "BUILD_SOURCEVERSION": self.w["sha"]}
        env.update(self.extra["azdo_env"])
        conn = inputs.get("azureSubscription")
        if conn:
            for cid in {conn, conn.upper()}:
                env["ENDPOINT_AUTH_SCHEME_" + cid] = "ServicePrincipal"
                env["ENDPOINT_URL_" + cid] = "https://management.azure.com/"
                params = {"serviceprincipalid": local["AZURE_CLIENT_ID"], "tenantid": local["AZURE_TENANT_ID"],
                          "serviceprincipalkey": local["AZURE_CLIENT_SECRET"], "authenticationType": "spnKey"}
                env["ENDPOINT_AUTH_" + cid] = json.dumps({"scheme": "ServicePrincipal", "parameters": params})
                for k, v in params.items():
                    env["ENDPOINT_AUTH_PARAMETER_%s_%s" % (cid, k.upper())] = v
                env["ENDPOINT_DATA_%s_SUBSCRIPTIONID" % cid] = local["AZURE_SUBSCRIPTION_ID"]
                env["ENDPOINT_DATA_%s_ACTIVEDIRECTORYAUTHORITY" % cid] = local["AZURE_AUTHORITY_HOST"]
        if inputs.get("soak"):  # the stand-in: no soak between rollout steps
            inputs["soak"] = "0s"
        inputs.setdefault("workingDirectory", self.w["ado_repo"])
        sc = {"taskDir": task_dir, "inputs": inputs, "env": env}
        run_env = {"PATH": "/usr/bin:/bin", "HOME": self.dir, "LANG": "C.UTF-8", "NODE_PATH": self.extra["node_path"],
                   "AMLOPS_SCENARIO": json.dumps(sc)}
        p = subprocess.run(["node", self.extra["scenario"]], cwd=self.w["ado_repo"], env=run_env,
                           capture_output=True, text=True, timeout=900)
        log = p.stdout + p.stderr
        d = os.path.join(self.dir, "logs")
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "%s_%s.log" % (where.replace("/", "_"), step.get("name"))), "w") as f:
            f.write(log)
        outs = {}
        for m in re.finditer(r"##vso\[task\.setvariable ([^\]]*)\](.*)", log):
            attrs = dict(a.split("=", 1) for a in m.group(1).split(";") if "=" in a)
            if attrs.get("isOutput", attrs.get("isoutput", "")).lower() == "true":
                outs[attrs["variable"]] = m.group(2).replace("%0A", "\n").replace("%0D", "\r").replace("%AZP25", "%")
        result = re.findall(r"##vso\[task\.complete result=(\w+)", log)
        ok = bool(result) and result[-1] == "Succeeded"
        tolerated = str(step.get("continueOnError")).lower() == "true" and "exited 1 " in log
        self.check(ok or tolerated, "%s: the task %s%s" % (
            what, (result[-1] if result else "did not finish") + (" (exit 1 tolerated: continueOnError)" if tolerated and
                                                                  not ok else ""),
            "" if ok or tolerated else " (" + log[-600:] + ")"))
        self.task_runs.append((where, step.get("name"), outs, log))
        return (0 if ok else 1), outs, False

    def outputs_of(self, step_name):
        for where, name, outs, log in self.task_runs:
            if name == step_name:
                return outs
        return {}


def run(world, check, skip, src, bin_dir, work, before=None):
    """The starter's four pipelines, one after the other on one amlops-local; `before` maps a
    pipeline file to what runs before it (production traffic before monitor.yml)."""
    repo = world["repo"]
    world = dict(world, ado_repo=repo)
    st = fake_hosts.State()
    st.write_tokens.add("azdo-harness-token")
    st.add_pull_request("proj-1", "repo-1", 11)
    server, url = fake_hosts.serve(st)
    extra = {"bin": bin_dir, "node_path": os.environ.get("NODE_PATH", os.path.join(src, "tests", "node",
                                                                                    "node_modules")),
             "scenario": os.path.join(src, "tests", "packaging", "ado", "scenario.js"),
             "azdo_env": {"SYSTEM_COLLECTIONURI": url + "/fabrikam/", "SYSTEM_TEAMPROJECTID": "proj-1",
                          "SYSTEM_TEAMPROJECT": "Fabrikam", "BUILD_REPOSITORY_ID": "repo-1",
                          "BUILD_REPOSITORY_NAME": "churn", "BUILD_REPOSITORY_PROVIDER": "TfsGit",
                          "ENDPOINT_AUTH_PARAMETER_SYSTEMVSSCONNECTION_ACCESSTOKEN": "azdo-harness-token"}}
    ex = Expander(src)
    runs = {}
    for name, reason in (("pr.yml", "PullRequest"), ("main.yml", "IndividualCI"), ("retrain.yml", "Schedule"),
                         ("monitor.yml", "Schedule")):
        if before and name in before:
            before[name]()
        print("== Azure DevOps %s (%s)" % (name, reason))
        pipeline = ex.pipeline(os.path.join(repo, ".azure-pipelines", name))
        e = dict(extra)
        if reason == "PullRequest":
            e["azdo_env"] = dict(extra["azdo_env"], SYSTEM_PULLREQUEST_PULLREQUESTID="11")
        runs[name] = AdoRun(name.replace(".yml", ""), pipeline, world, check, skip, src, work, reason, e)
        runs[name].run()
    server.shutdown()
    pr, main, retrain = runs["pr.yml"], runs["main.yml"], runs["retrain.yml"]
    check(pr.outputs_of("gate").get("decision") == "promote", "ado pr: the gate passes (%s)" % pr.outputs_of("gate"))
    threads = st.threads.get(("proj-1", "repo-1", 11), [])
    check(len(threads) == 1 and pr.outputs_of("comment").get("commentAction") == "created",
          "ado pr: one pull-request thread created (%d, %s)" % (len(threads), pr.outputs_of("comment")))
    check(main.outputs_of("gate").get("decision") == "promote" and main.stage_results.get("promote") == "success",
          "ado main: the first model passes the gate; the promote stage runs (%s)" % main.stage_results)
    mid = main.outputs_of("promote").get("modelId", "")
    check(mid.startswith("azureml://registries/churn-registry/models/churn/versions/"),
          "ado main: promoted into the production registry (%s)" % mid)
    check(main.stage_results.get("rollout") == "success", "ado main: the rollout stage follows")
    check(retrain.outputs_of("gate").get("decision") == "block" and retrain.stage_results.get("promote") == "skipped",
          "ado retrain: no better than the champion: blocked, the promote stage skipped")
    drift, decide = runs["monitor.yml"].outputs_of("drift"), runs["monitor.yml"].outputs_of("decide")
    check(drift.get("drifted") == "true", "ado monitor: drift of the collected production data: drifted (%s)" % drift)
    check(decide.get("retrain") == "true", "ado monitor: decide's output variable retrain is true (%s)" % decide)
    check(getattr(runs["monitor.yml"], "queued", False), "ado monitor: retrain = true queues the retraining pipeline")
    health = runs["monitor.yml"].outputs_of("health")
    check(health.get("breached") == "false" and int(health.get("requests") or 0) >= 20 and
          runs["monitor.yml"].stage_jobs.get("monitor", {}).get("health", {}).get("result") == "success",
          "ado monitor: the health job reads the endpoint's metrics (at least the harness's 20 requests) and passes "
          "(%s)" % health)
