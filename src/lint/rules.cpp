// The rule registry: ids are stable (SARIF alerts and baselines key on them).
#include <algorithm>

#include "core/error.hpp"
#include "lint/lint.hpp"

namespace amlops::lint {

std::string_view level_name(Level l) {
  switch (l) {
    case Level::error:
      return "error";
    case Level::warning:
      return "warning";
    case Level::note:
      return "note";
  }
  return "note";
}

Level parse_level(std::string_view s) {
  if (s == "error") return Level::error;
  if (s == "warning") return Level::warning;
  if (s == "note") return Level::note;
  throw ConfigError("severity must be error, warning or note, not '" + std::string(s) + "'");
}

const std::vector<Rule>& rules() {
  static const std::vector<Rule> r = {
      // Azure ML YAML
      {"AML001", "aml-yaml-syntax", "aml", Level::error, "Azure ML YAML file does not parse",
       "Fix the YAML syntax at the reported position; the service rejects the file before anything runs."},
      {"AML002", "aml-missing-field", "aml", Level::error, "Azure ML YAML lacks a field its type requires",
       "Add the field. Required fields per type: command job: command, environment; pipeline job: jobs; "
       "sweep job: trial, search_space, objective, sampling_algorithm; component: name, command, environment; "
       "environment: name and image or build; model and data: name, path; endpoints: name; deployments: name, "
       "endpoint_name (managed online: instance_type)."},
      {"AML003", "aml-invalid-value", "aml", Level::error, "Azure ML YAML field has the wrong type or an invalid value",
       "Use the type and values the Azure ML CLI v2 schema expects (for example inputs as a mapping, "
       "input types uri_file, uri_folder, mltable, custom_model, mlflow_model, triton_model, string, integer, "
       "number, boolean)."},
      {"AML004", "aml-unknown-field", "aml", Level::warning, "Azure ML YAML field is not known for this type",
       "Check the spelling against the current Azure ML CLI v2 reference; unknown fields are rejected or ignored "
       "by the service."},
      {"AML005", "aml-missing-path", "aml", Level::error, "Azure ML YAML refers to a local path that does not exist",
       "Create the file or folder, or correct the path; code, conda_file, path, scoring_script and component "
       "paths are relative to the YAML file."},
      {"AML006", "aml-unresolved-binding", "aml", Level::error, "${{...}} binding does not resolve",
       "Declare the input or output the expression names (inputs:/outputs: of the job or component, the "
       "pipeline's inputs/outputs for ${{parent.inputs.x}}, or job J with output O for ${{parent.jobs.J.outputs.O}})."},
      {"AML007", "aml-unpinned-environment", "aml", Level::warning,
       "Environment or image is not pinned (@latest, no version, no image tag)",
       "Pin the environment to a version (azureml:name:3) and the image to a tag or digest "
       "(mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04:20240101.v1 or @sha256:...), so reruns are reproducible."},
      {"AML008", "aml-unknown-flag", "aml", Level::error,
       "Command passes a --flag that the entry script's argparse does not define",
       "Rename the flag in the command or add parser.add_argument(\"--flag\") to the script; argparse exits with "
       "'unrecognized arguments' and the job fails after queueing and image build."},
      {"AML009", "aml-parse-known-args", "aml", Level::warning,
       "Entry script uses parse_known_args(), which hides typos",
       "Use parser.parse_args() so that a misspelt --flag in the job command fails at once instead of being "
       "silently ignored."},
      {"AML010", "aml-missing-required-flag", "aml", Level::error,
       "Command does not pass an argument the script declares required=True",
       "Pass the flag in the job command (usually --name ${{inputs.name}}) or make it optional with a default."},
      // Code
      {"CODE001", "notebook-entry-point", "code", Level::error, "Notebook used as a job or pipeline entry point",
       "Move the notebook's code into a parameterised Python script (argparse) under source control and run that; "
       "notebooks hide state and cannot be reviewed or tested like code."},
      {"CODE002", "no-argument-parsing", "code", Level::warning, "Training script without argument parsing",
       "Read data paths and hyper-parameters from the command line (argparse) so that the job YAML can bind "
       "${{inputs.*}} and the same script runs locally and in Azure ML."},
      {"CODE003", "absolute-local-path", "code", Level::warning, "Absolute local path in code",
       "Pass the location as a job input (argparse --data ${{inputs.data}}) instead of a path that exists only on "
       "one machine."},
      {"CODE004", "hard-coded-data-uri", "code", Level::warning, "Hard-coded storage URI in code",
       "Declare the data as a job input (type: uri_folder, path: azureml://datastores/<ds>/paths/...) and read the "
       "mounted path from argparse."},
      // Secrets
      {"SEC001", "azure-storage-key", "secrets", Level::error, "Azure Storage account key or connection string",
       "Rotate the key in the storage account now, remove it from the file (and from history with git filter-repo), "
       "and use a managed identity or a Key Vault reference instead.",
       true},
      {"SEC002", "azure-sas-token", "secrets", Level::error, "Azure Storage SAS token",
       "Revoke the SAS (rotate the key it was signed with or delete the stored access policy) and obtain "
       "short-lived tokens at run time.",
       true},
      {"SEC003", "entra-client-secret", "secrets", Level::error, "Microsoft Entra ID client secret",
       "Delete the secret in the app registration, and use OIDC workload identity federation (azure/login with "
       "client-id, tenant-id, subscription-id) instead of a client secret.",
       true},
      {"SEC004", "private-key", "secrets", Level::error, "Private key",
       "Revoke the key pair, remove the file from the repository and its history, and keep keys in a secret store.",
       true},
      {"SEC005", "api-key", "secrets", Level::error,
       "API key or token (AWS, GitHub, Google, OpenAI, Anthropic, Hugging Face, Databricks, Slack)",
       "Revoke the token at its provider, remove it from the file and history, and read it from a CI secret or Key "
       "Vault at run time.",
       true},
      // Repository
      {"REPO001", "large-file", "repo", Level::warning, "File over the size limit in the working tree",
       "Keep data and models out of git: register them as Azure ML data or model assets (or use Git LFS) and refer "
       "to them by name and version."},
      {"REPO002", "large-file-in-history", "repo", Level::warning, "Blob over the size limit in git history",
       "The blob stays in every clone even after deletion: rewrite history (git filter-repo --strip-blobs-bigger-than) "
       "and keep data in a datastore."},
      {"REPO003", "unpinned-requirement", "repo", Level::warning, "Unpinned dependency in requirements.txt",
       "Pin an exact version (scikit-learn==1.4.2), or a commit for VCS URLs (git+https://...@<sha>), so training "
       "is reproducible."},
      {"REPO004", "unpinned-conda-dependency", "repo", Level::warning, "Unpinned dependency in a conda file",
       "Pin a version (scikit-learn=1.4.2, or ==1.4.2 under pip:) so that the environment image is reproducible."},
      {"REPO005", "no-tests", "repo", Level::warning, "No tests for the training code",
       "Add a tests/ folder with a test that imports the training module and runs it on a small sample "
       "(pytest tests/)."},
      // Pipelines
      {"PIPE001", "continue-on-error", "pipelines", Level::error, "Training step continues on error",
       "Remove continue-on-error / continueOnError from the training step: a failed training run must fail the "
       "pipeline, otherwise a stale or missing model is promoted."},
      {"PIPE002", "schedule-without-always", "pipelines", Level::warning,
       "Azure Pipelines schedule without always: true",
       "Add 'always: true' to the schedule: by default a scheduled run is skipped when the code did not change, "
       "so scheduled retraining on new data never happens."},
      {"PIPE003", "retired-runner-image", "pipelines", Level::error, "Retired hosted runner image",
       "Move to a supported image (ubuntu-24.04 / ubuntu-latest, windows-2025, macos-15): jobs on retired images "
       "queue forever or fail."},
      {"PIPE004", "moving-ref", "pipelines", Level::warning,
       "Action, reusable workflow or template referenced by a branch",
       "Pin to a release tag or, better, a full commit SHA; a branch can change under you (or be compromised)."},
      {"PIPE005", "azure-credentials-secret", "pipelines", Level::warning,
       "Azure login with a client-secret JSON where OIDC would do",
       "Use OpenID Connect: a federated credential on the app registration, 'permissions: id-token: write' and "
       "azure/login with client-id, tenant-id and subscription-id; no secret to leak or rotate."},
      {"PIPE006", "oidc-without-id-token", "pipelines", Level::error,
       "OIDC login without 'permissions: id-token: write'",
       "Add 'permissions: { id-token: write, contents: read }' to the job or workflow; without it the runner does "
       "not provide ACTIONS_ID_TOKEN_REQUEST_URL and the login fails."},
      {"PIPE007", "pipeline-yaml-syntax", "pipelines", Level::error, "CI pipeline YAML does not parse",
       "Fix the YAML syntax at the reported position (often indentation); the CI service rejects the whole file."},
  };
  return r;
}

const Rule* find_rule(std::string_view id) {
  const auto& r = rules();
  auto it = std::find_if(r.begin(), r.end(), [&](const Rule& x) { return x.id == id; });
  return it == r.end() ? nullptr : &*it;
}

std::string redact_value(std::string_view value) {
  std::string head(value.substr(0, std::min<size_t>(4, value.size() / 4)));
  return head + "…(" + std::to_string(value.size()) + " chars)";
}

}  // namespace amlops::lint
