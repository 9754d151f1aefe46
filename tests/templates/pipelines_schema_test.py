#!/usr/bin/python3
"""The Azure Pipelines templates (templates/azure-pipelines) and the starter's pipelines
(templates/starter/.azure-pipelines) against the published pipeline schema (tests/data/azure-pipelines,
microsoft/azure-pipelines-vscode), with the amlops tasks added from tasks/*/task.json: a task input
that is not in its task.json, a misspelt key or a wrong type fails. Also checks what the schema
cannot: every `template:` reference resolves to a file, each scheduled trigger has `always: true`,
every Azure step uses a service connection (workload identity federation), production stages are
deployment jobs on an environment, and reports are published.

usage: pipelines_schema_test.py SOURCE_DIR"""
import glob
import json
import os
import re
import sys

import jsonschema
import yaml

SRC = sys.argv[1]
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pending  # noqa: E402

FAILURES = []


def check(cond, what):
    print(("ok    " if cond else "FAIL  ") + what, flush=True)
    if not cond:
        FAILURES.append(what)


def amlops_task_definitions():
    """One schema alternative per amlops task: `task: AmlopsX@1` and exactly its inputs."""
    alts, names = [], []
    tasks = {}
    for path in sorted(glob.glob(os.path.join(SRC, "tasks", "Amlops*V1", "task.json"))):
        t = json.load(open(path))
        tasks[t["name"]] = t
    for tool in pending.PENDING_TOOLS:
        tasks.setdefault("Amlops" + tool.capitalize(), None)
    for name, t in sorted(tasks.items()):
        ref = "%s@1" % name
        names.append({"pattern": "^%s$" % re.escape(ref)})
        if t is None:  # pending: any inputs
            inputs = {"type": "object"}
        else:
            props = {i["name"]: {"type": "string"} for i in t["inputs"]}
            for a in (a for i in t["inputs"] for a in i.get("aliases", [])):
                props[a] = {"type": "string"}
            tool = name[len("Amlops"):].lower()
            extra = pending.PENDING_INPUTS.get(tool, {}).get("names", set())
            for n in extra:
                props[pending.camel(n)] = {"type": "string"}
            if extra:
                props["azureSubscription"] = {"type": "string"}
            required = [i["name"] for i in t["inputs"] if i.get("required") and "defaultValue" not in i]
            inputs = {"type": "object", "properties": props, "additionalProperties": False, "required": required}
        alts.append({"properties": {"task": {"pattern": "^%s$" % re.escape(ref)}, "inputs": inputs},
                     "required": ["task"]})
    return alts, names, tasks


def schema():
    s = json.load(open(os.path.join(SRC, "tests", "data", "azure-pipelines", "service-schema.json")))
    alts, names, tasks = amlops_task_definitions()
    s["definitions"]["task"]["anyOf"].extend(alts)
    s["definitions"]["task"]["properties"]["task"]["anyOf"].extend(names)
    return s, tasks


EXPR_KEY = re.compile(r"^\$\{\{\s*(if|elseif|else|each)\b.*\}\}$")


def expand(node):
    """Template insertions as if every branch were taken: the schema cannot evaluate them."""
    if isinstance(node, dict):
        out = {}
        for k, v in node.items():
            if EXPR_KEY.match(k) and isinstance(v, dict):
                out.update(expand(v))
            else:
                out[k] = expand(v)
        return out
    if isinstance(node, list):
        out = []
        for item in node:
            if isinstance(item, dict) and len(item) == 1 and EXPR_KEY.match(next(iter(item))):
                inner = expand(next(iter(item.values())))
                out.extend(inner if isinstance(inner, list) else [inner])
            else:
                out.append(expand(item))
        return out
    return node


def typed_task_flags(node):
    """The one quirk of the schema: a task step's continueOnError and enabled are JSON booleans,
    where every other scalar is a string (its loader keeps scalars as strings)."""
    if isinstance(node, dict):
        if "task" in node:
            for k in ("continueOnError", "enabled"):
                if node.get(k) in ("true", "false"):
                    node[k] = node[k] == "true"
        for v in node.values():
            typed_task_flags(v)
    elif isinstance(node, list):
        for v in node:
            typed_task_flags(v)
    return node


def walk(node, fn, path=()):
    fn(node, path)
    if isinstance(node, dict):
        for k, v in node.items():
            walk(v, fn, path + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            walk(v, fn, path + (i,))


def main():
    s, tasks = schema()
    validator = jsonschema.Draft7Validator(s)
    files = sorted(glob.glob(os.path.join(SRC, "templates", "azure-pipelines", "**", "*.yml"), recursive=True))
    files += sorted(glob.glob(os.path.join(SRC, "templates", "starter", ".azure-pipelines", "*.yml")))
    check(len(files) >= 10, "found the templates and the starter's pipelines (%d files)" % len(files))
    published = 0
    for f in files:
        rel = os.path.relpath(f, SRC)
        doc = typed_task_flags(expand(yaml.load(open(f), Loader=yaml.BaseLoader)))
        errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
        detail = ""
        if errors:
            # anyOf errors are vague: name the best match (its deepest cause) and where.
            best = jsonschema.exceptions.best_match(errors)
            detail = "%s at /%s" % (best.message[:300], "/".join(map(str, best.absolute_path)))
        check(not errors, "%s: valid against the pipeline schema%s" % (rel, "" if not errors else " (" + detail + ")"))

        def per_node(node, path):
            nonlocal published
            if not isinstance(node, dict):
                return
            ref = node.get("template")
            if isinstance(ref, str) and "${{" not in ref:
                target = ref.split("@")[0]
                base = SRC if "@" in ref else os.path.dirname(f)
                check(os.path.isfile(os.path.normpath(os.path.join(base, target))),
                      "%s: template %s exists" % (rel, ref))
            task = node.get("task", "")
            if task.startswith("Amlops"):
                name = task.split("@")[0]
                t = tasks.get(name)
                needs_connection = t is None or any(i["name"] == "azureSubscription" for i in t["inputs"])
                inputs = node.get("inputs", {})
                if needs_connection and name != "AmlopsReport":
                    check("azureSubscription" in inputs and "workspace" in inputs,
                          "%s: %s %s signs in through a service connection" % (rel, task, inputs.get("command")))
            if task.startswith("PublishPipelineArtifact"):
                published += 1
            if "cron" in node:
                check(node.get("always") == "true", "%s: schedule %s runs with always: true" % (rel, node["cron"]))
            if node.get("environment") and "deployment" not in node:
                check(False, "%s: environment %s only on deployment jobs" % (rel, node["environment"]))

        walk(doc, per_node)
    check(published >= 4, "reports are published as pipeline artifacts (%d steps)" % published)
    # Production is behind an environment (its approvals and checks): promote and rollout are
    # deployment jobs on the productionEnvironment parameter.
    rel = yaml.safe_load(open(os.path.join(SRC, "templates", "azure-pipelines", "stages", "release.yml")))
    deploy_jobs = [j for st in rel["stages"] if isinstance(st, dict) and "jobs" in st for j in st["jobs"]
                   if "deployment" in j]
    prod = [j["deployment"] for j in deploy_jobs if "productionEnvironment" in str(j.get("environment"))]
    check(prod == ["promote", "rollout"], "release: promote and rollout run on the production environment (%s)" % prod)
    print("%d failure(s)" % len(FAILURES))
    sys.exit(1 if FAILURES else 0)


if __name__ == "__main__":
    main()
