#!/usr/bin/python3
"""Writes actions/<tool>/action.yml and tasks/Amlops<Tool>V1/task.json from the tools' --help.

usage: gen_manifests.py BIN_DIR [REPO_ROOT]

Every option of every subcommand of a tool becomes one input (the union over the subcommands;
the input's description names the commands that accept it). The subcommand itself is the input
`command`. Run it after a tool's flags change and commit the result; tests/packaging checks that
the committed files still cover every flag.

GitHub: the input id is the long flag name (`fail-on`); the runner passes INPUT_FAIL-ON, which
the binary reads as --fail-on. Azure DevOps: input names may hold only letters and digits, so the
name is camelCase (`failOn`); the task handler (tasks/common/amlops-task.js) turns it back into
--fail-on and passes it on the command line.
"""
import json
import os
import re
import subprocess
import sys

import yaml

# Options that are no CI input, with the reason. The packaging test reads this list.
EXCLUDED = {
    "help": "prints the usage and exits; not an input",
}

# The placeholder image owner. The release workflow rewrites "ghcr.io/amlops/" to the publishing
# repository's owner and the tag to the release version.
IMAGE = "docker://ghcr.io/amlops/amlops-{tool}:v{version}"

TOOLS = {
    "lint": {
        "name": "amlops lint",
        "description": "MLOps-readiness checks of an ML repository (Azure ML YAML, argparse flags, notebooks, "
        "secrets, large files, unpinned dependencies, CI pitfalls); annotations and SARIF",
        "default_command": "check",
        "icon": "check-circle",
        "category": "Test",
        "guid": "0d92fe16-6822-4a23-a207-d14616639f12",
        "outputs": {
            "findings": "number of findings reported",
            "errors": "number of findings at error level",
            "sarif-file": "the SARIF file written (when sarif-file was given)",
        },
    },
    "job": {
        "name": "amlops job",
        "description": "Submit Azure ML jobs from CLI v2 YAML, wait, stream logs, read metrics, cancel; "
        "the exit code mirrors the job",
        "default_command": "submit",
        "icon": "play-circle",
        "category": "Build",
        "guid": "4baa422a-a554-4c94-b0f2-75dd75f97683",
        "outputs": {
            "name": "the job's name",
            "status": "the job's final (or current) status",
            "studio_url": "link to the job in Azure ML studio",
            "metrics": "the job's metrics as JSON",
            "duration_s": "how long the job ran, in seconds",
        },
    },
    "model": {
        "name": "amlops model",
        "description": "Register Azure ML models with the job's metrics and git provenance (idempotent), "
        "list by tag, show, download",
        "default_command": "register",
        "icon": "package",
        "category": "Package",
        "guid": "e2a9589a-b94b-4fff-9118-805af3dd1904",
        "outputs": {
            "name": "the model's name",
            "version": "the registered (or shown) version",
            "model_id": "azureml:NAME:VERSION",
            "count": "list: number of versions found",
            "latest": "list: azureml:NAME:VERSION of the newest version found",
            "path": "download: absolute path of the downloaded files",
        },
    },
    "monitor": {
        "name": "amlops monitor",
        "description": "Data and prediction drift, performance and concept drift, and the retrain decision; "
        "markdown and HTML reports",
        "default_command": "drift",
        "icon": "activity",
        "category": "Test",
        "guid": "1f67c9cd-7a0c-4fca-8e1a-57213f85fd60",
        "outputs": {
            "profile": "profile: the profile file written",
            "report": "drift: the HTML report written (when report was given)",
            "outcome": "drift: no_drift, drift or too_few_rows",
            "drifted": "drift: true when the dataset drifted (unknown with too few rows)",
            "drifted_features": "drift: number of drifted features",
            "drift_share": "drift: share of features that drifted",
            "prediction_drifted": "drift: true when the prediction column drifted (when prediction was given)",
            "concept_drift": "performance: true on concept drift",
            "performance_ok": "performance: true when no min/max bound is breached",
            "accuracy": "performance: accuracy (classification)",
            "rmse": "performance: RMSE (regression)",
            "data_quality_breached": "drift: true when a data-quality threshold is breached",
            "data_quality_features": "drift: the features whose data quality breached (comma-separated)",
            "retrain": "decide: true when the decision is to retrain (from the data and model signals)",
            "health_breached": "decide: true when the endpoint's health rules breached (not a retrain signal)",
            "requests": "endpoint: requests in the window",
            "error_rate": "endpoint: share of 4xx and 5xx answers in the window",
            "p95_ms": "endpoint: p95 latency over the window in ms (when there were requests)",
            "breached": "endpoint: true when the health rules breached (after --health-debounce)",
        },
    },
    "promote": {
        "name": "amlops promote",
        "description": "Gated promotion: the candidate model against the champion and the thresholds of a policy; "
        "promote to a registry or the production workspace",
        "default_command": "evaluate",
        "icon": "award",
        "category": "Deploy",
        "guid": "7a032dee-1ae5-4169-9200-76a093188085",
        "outputs": {
            "decision": "promote or block",
            "model_id": "azureml:NAME:VERSION promoted (when promoted)",
            "previous_champion": "the champion before this promotion",
            "data": "the data assets that travel with the model (promotion.data): azureml:NAME:VERSION in the target workspace, comma-separated",
        },
    },
    "deploy": {
        "name": "amlops deploy",
        "description": "Safe rollout to an Azure ML managed online endpoint: 0 %, smoke test, canary steps with "
        "health checks, automatic rollback; smoke, rollback, status",
        "default_command": "rollout",
        "icon": "upload-cloud",
        "category": "Deploy",
        "guid": "3c5e8a52-6f0d-4b8e-9a51-2d7f4e0c9b16",
        "outputs": {
            "scoring_uri": "the endpoint's scoring URI",
            "deployment": "rollout: the deployment rolled out",
            "traffic": "the endpoint's traffic after the command (blue=90,green=10)",
            "state": "rollout: done, unchanged or rolled_back",
            "steps": "rollout: the result of every traffic step as JSON",
            "passed": "smoke: true when every check passed",
            "p95_ms": "smoke: p95 latency in ms",
            "changed": "rollback: true when the traffic was changed",
        },
    },
    "setup": {
        "name": "amlops setup",
        "description": "The workspace's assets as code: plan and apply computes, datastores, data assets, "
        "environments, components and schedules from Azure ML CLI v2 YAML, idempotently",
        "default_command": "plan",
        "icon": "layers",
        "category": "Deploy",
        "guid": "5b0f3c2e-8d41-4a7b-9e62-0c7d5a1f4b93",
        # actions/setup is the installer of the release archive (composite action).
        "action_dir": "setup-workspace",
        "outputs": {
            "changes": "number of resources created, updated or deleted (plan: that would be)",
        },
    },
    "report": {
        "name": "amlops report",
        "description": "One pull-request comment per workflow, updated in place, from the markdown "
        "fragments the other amlops steps wrote; job summaries",
        "default_command": "comment",
        "icon": "message-square",
        "category": "Utility",
        "guid": "f577d627-3ed2-46b1-9881-fa60e019307b",
        "outputs": {
            "comment-id": "id of the comment created or updated",
            "comment-url": "link to the comment",
            "comment-action": "created, updated, unchanged or summary (fell back to the job summary)",
        },
    },
}

OPT_RE = re.compile(r"^  (?:-(\w) \[ --([\w-]+) \]|--([\w-]+))( arg)?(?: \(=([^)]*)\))?\s*(.*)$")


def action_dir(tool):
    """The folder of a tool's action under actions/ (its name, unless that folder is taken)."""
    return TOOLS[tool].get("action_dir", tool)


def run_help(binary, *args):
    r = subprocess.run([binary, *args, "--help"], capture_output=True, text=True, check=True)
    return r.stdout


# Subcommands that are no CI step (shell completion, help): no value of the command input.
EXCLUDED_COMMANDS = {"help", "completion", "version"}


def commands_of(binary):
    text = run_help(binary)
    block = text.split("Commands:\n", 1)[1].split("\n\n", 1)[0]
    names = [line.split()[0] for line in block.splitlines() if line.strip() and line.startswith("  ")]
    return [n for n in names if n not in EXCLUDED_COMMANDS]


def options_of(binary, command):
    """[{name, short, arg, default, description}] of one subcommand, in --help order."""
    text = run_help(binary, command)
    block = text.split("Options:\n", 1)[1].split("\n\n", 1)[0]
    opts = []
    for line in block.splitlines():
        m = OPT_RE.match(line)
        if m and line.startswith("  -"):
            short, long1, long2, arg, default, desc = m.groups()
            opts.append({"name": long1 or long2, "short": short, "arg": bool(arg), "default": default,
                         "description": desc})
            segment = desc
        elif opts and line.strip():
            # Boost wraps at a space in the second half of a line, else inside a word: a segment
            # ending in a space, or with a space in its second half, ended at a word boundary.
            cont = line.lstrip()
            at_word = segment.endswith(" ") or segment.rfind(" ") >= len(segment) / 2 or not segment
            opts[-1]["description"] += ("" if segment.endswith(" ") or not at_word else " ") + cont
            segment = cont
    for o in opts:
        o["description"] = " ".join(o["description"].split())
    return opts


def union(binary):
    """name -> {arg, default (None when the commands disagree), description, commands}, and the commands."""
    commands = commands_of(binary)
    merged = {}
    for c in commands:
        for o in options_of(binary, c):
            if o["name"] in EXCLUDED:
                continue
            m = merged.setdefault(o["name"], {"arg": o["arg"], "default": o["default"], "description": o["description"],
                                              "commands": []})
            m["commands"].append(c)
            if m["default"] != o["default"]:
                m["default"] = None  # differs between commands: leave it to the tool
    return merged, commands


def camel(name):
    parts = re.split(r"[-_]", name)
    return parts[0] + "".join(p[:1].upper() + p[1:] for p in parts[1:])


def describe(o, commands):
    d = o["description"]
    if len(o["commands"]) < len(commands):
        d += " [" + ", ".join(o["commands"]) + "]"
    return d


def action_yml(tool, meta, opts, commands, version):
    inputs = {
        "command": {
            "description": "the subcommand: " + ", ".join(commands),
            "required": True,
            "default": meta["default_command"],
        }
    }
    for name, o in opts.items():
        entry = {"description": "--" + name + ": " + describe(o, commands)}
        if "(repeatable" in o["description"] and name != "fragment":
            entry["description"] += " (one value here; more from a run: step)"
        if not o["arg"]:
            entry["default"] = "false"
        elif o["default"] is not None:
            entry["default"] = o["default"]
        inputs[name] = entry
    env = {}
    if tool == "report":
        inputs["github-token"] = {
            "description": "token for the pull-request comment (needs pull-requests: write; a read-only token "
            "falls back to the job summary)",
            "default": "${{ github.token }}",
        }
        env["GITHUB_TOKEN"] = "${{ inputs.github-token }}"
    doc = {
        "name": meta["name"],
        "description": meta["description"],
        "author": "amlops",
        "branding": {"icon": meta["icon"], "color": "blue"},
        "inputs": inputs,
        "outputs": {k: {"description": v} for k, v in meta["outputs"].items()},
        "runs": {
            "using": "docker",
            "image": IMAGE.format(tool=tool, version=version),
            "args": ["${{ inputs.command }}"],
        },
    }
    if env:
        doc["runs"]["env"] = env
    head = ("# Generated by scripts/packaging/gen_manifests.py from amlops-{t} --help; edit the script, not this file.\n"
            "# Every input is the tool's flag of the same name (the runner passes INPUT_<NAME>, hyphens kept,\n"
            "# which amlops-{t} reads as --<name>). The image owner 'amlops' and the tag are placeholders that\n"
            "# .github/workflows/release.yml rewrites to the publishing owner and the release version.\n").format(t=tool)
    return head + yaml.safe_dump(doc, sort_keys=False, width=120, allow_unicode=True)


def visible_rule(o, commands):
    if len(o["commands"]) == len(commands):
        return None
    return " || ".join("command = " + c for c in o["commands"])


def task_json(tool, meta, opts, commands, version):
    _, minor, patch = (int(x) for x in version.split("."))
    inputs = [
        {"name": "command", "type": "pickList", "label": "Command", "required": True,
         "defaultValue": meta["default_command"], "options": {c: c for c in commands},
         "helpMarkDown": "The `amlops-" + tool + "` subcommand."},
    ]
    if "workspace" in opts:
        inputs.append({"name": "azureSubscription", "aliases": ["connectedServiceNameARM"],
                       "type": "connectedService:AzureRM", "label": "Azure Resource Manager connection",
                       "required": True,
                       "helpMarkDown": "Service connection used to sign in: workload identity federation, "
                       "service principal secret or managed identity."})
        inputs.append({"name": "resourceGroup", "type": "string", "label": "Resource group", "required": False,
                       "helpMarkDown": "With a bare workspace name: its resource group (the subscription comes from "
                       "the service connection)."})
    for name, o in opts.items():
        entry = {"name": camel(name), "label": name.replace("-", " ").capitalize(), "required": False,
                 "helpMarkDown": "`--" + name + "`: " + o["description"]}
        if not o["arg"]:
            entry["type"] = "boolean"
            entry["defaultValue"] = "false"
        elif "(repeatable" in o["description"]:
            entry["type"] = "multiLine"
            entry["helpMarkDown"] += " One value a line."
        else:
            entry["type"] = "string"
            if o["default"] is not None:
                entry["defaultValue"] = o["default"]
        if name == "workspace":
            entry["helpMarkDown"] += " A bare workspace name is combined with the connection's subscription and " \
                                     "the resource group input."
        rule = visible_rule(o, commands)
        if rule:
            entry["visibleRule"] = rule
        inputs.append(entry)
    inputs.append({"name": "workingDirectory", "type": "filePath", "label": "Working directory", "required": False,
                   "defaultValue": "$(System.DefaultWorkingDirectory)",
                   "helpMarkDown": "Folder the tool runs in (relative paths are resolved from here)."})
    doc = {
        "$schema": "https://raw.githubusercontent.com/Microsoft/azure-pipelines-task-lib/master/tasks.schema.json",
        "id": meta["guid"],
        "name": "Amlops" + tool.capitalize(),
        "friendlyName": meta["name"],
        "description": meta["description"],
        "helpUrl": "https://github.com/amlops/amlops/blob/main/docs/" + tool + ".md",
        "helpMarkDown": "Runs the bundled static `amlops-" + tool + "` binary. Inputs map one-to-one onto its flags.",
        "category": meta["category"],
        "author": "amlops",
        # The folder is ...V1: the task's Major stays 1; Minor and Patch follow the release.
        "version": {"Major": 1, "Minor": minor, "Patch": patch},
        "runsOn": ["Agent"],
        "minimumAgentVersion": "3.232.1",
        "instanceNameFormat": "amlops " + tool + " $(command)",
        "inputs": inputs,
        "outputVariables": [{"name": camel(k), "description": v} for k, v in meta["outputs"].items()],
        "execution": {"Node24": {"target": "index.js"}, "Node20_1": {"target": "index.js"}},
    }
    return json.dumps(doc, indent=2) + "\n"


def main():
    bin_dir = sys.argv[1]
    root = sys.argv[2] if len(sys.argv) > 2 else os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__))))
    version = re.search(r"project\(amlops VERSION ([0-9.]+)", open(os.path.join(root, "CMakeLists.txt")).read())[1]
    for tool, meta in TOOLS.items():
        opts, commands = union(os.path.join(bin_dir, "amlops-" + tool))
        os.makedirs(os.path.join(root, "actions", action_dir(tool)), exist_ok=True)
        with open(os.path.join(root, "actions", action_dir(tool), "action.yml"), "w") as f:
            f.write(action_yml(tool, meta, opts, commands, version))
        task_dir = os.path.join(root, "tasks", "Amlops" + tool.capitalize() + "V1")
        os.makedirs(task_dir, exist_ok=True)
        with open(os.path.join(task_dir, "task.json"), "w") as f:
            f.write(task_json(tool, meta, opts, commands, version))
        print("wrote actions/%s/action.yml and %s/task.json (%d inputs)" % (action_dir(tool), os.path.relpath(task_dir, root),
                                                                          len(opts) + 1))


if __name__ == "__main__":
    main()
