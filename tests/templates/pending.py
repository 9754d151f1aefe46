"""The one list to edit when a sibling tool lands: what the templates already use that is not built
yet. The workflow harness (workflows_test.py), the Azure DevOps harness and the schema test
(pipelines_schema_test.py) report these steps as skipped, by name, instead of running or checking
them. Remove an entry when its tool (binary, actions/<name>/action.yml, tasks/Amlops<Tool>V1) has
merged; the tests then run those steps for real."""

# Tool -> why its steps are skipped.
PENDING_TOOLS = {}

# Tool -> inputs (the tools' long flag names) the templates pass that its action/task lacks today:
#   "tool": {"names": {"flag", ...}, "why": "the reason shown for each skipped step"}.
PENDING_INPUTS = {}

# What a skipped step is taken to have written (its documented outputs), so that the steps after it
# still run in the harness: (tool, command) -> {output: value}.
STUB_OUTPUTS = {}

# actions/<folder> -> tool, where the folder is not the tool's name. actions/setup is the installer
# (composite); the amlops-setup tool's container action is actions/setup-workspace.
ACTION_FOLDERS = {"setup-workspace": "setup"}


def tool_of_action(folder):
    return ACTION_FOLDERS.get(folder, folder)


def camel(name):
    parts = name.replace("_", "-").split("-")
    return parts[0] + "".join(p[:1].upper() + p[1:] for p in parts[1:])


def pending_reason(tool, inputs):
    """Why a step of `tool` with these input names (flag or camelCase) is skipped, or None."""
    if tool in PENDING_TOOLS:
        return PENDING_TOOLS[tool]
    p = PENDING_INPUTS.get(tool)
    if p:
        names = p["names"] | {camel(n) for n in p["names"]} | ({"azureSubscription"} if "workspace" in p["names"] else set())
        if set(inputs) & names:
            return p["why"] + " (inputs " + ", ".join(sorted(set(inputs) & names)) + ")"
    return None


def stub_outputs(tool, command):
    return dict(STUB_OUTPUTS.get((tool, command), {}))
