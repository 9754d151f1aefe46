// `amlops init`: writes the starter repository (templates/starter, built into the binary) into a
// new or existing folder, with the CI host's workflows or pipelines and the project's name filled
// in. Never overwrites a file unless asked; says what it wrote, kept and left unchanged.
#pragma once
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace amlops::scaffold {

struct EmbeddedFile {
  std::string_view path;  // relative to the repository root, '/' separated
  std::string_view content;
};

// The starter's files as built into this binary (generated from templates/starter).
const std::vector<EmbeddedFile>& starter_files();

enum class Host { github, azure_devops, both };
// "github", "azure-devops" or "both"; anything else is a UsageError naming the choices.
Host parse_host(std::string_view text);

// Which host a starter file belongs to: .github/ is GitHub's, .azure-pipelines/ Azure DevOps',
// everything else is common to both.
bool wanted(std::string_view path, Host host);

// The starter's name is "churn". A project name: 3-24 characters, lower-case letters, digits and
// hyphens, starting with a letter and not ending with a hyphen (it becomes the model's name and a
// prefix of the endpoint's, whose Azure limit is 32). Throws UsageError saying which rule failed.
void validate_name(std::string_view name);

// The text with the starter's name replaced by `name` where it names a resource: in YAML files
// only, the word `churn` standing alone or before '-' or ':' (churn-endpoint, azureml:churn:1,
// model: churn), never inside another word (the label `churned`) nor a file name (churn.csv).
std::string fill_names(std::string_view path, std::string_view text, std::string_view name);

struct Options {
  std::filesystem::path dir;
  Host host = Host::github;
  std::string name = "churn";
  bool force = false;
};

enum class Action { wrote, overwrote, kept, unchanged };
std::string_view action_name(Action a);

struct Entry {
  std::string path;
  Action action;
};

struct Result {
  std::vector<Entry> files;
  [[nodiscard]] size_t count(Action a) const;
};

// Writes `files` (those of the host) under options.dir, creating it. A file that exists with other
// content is kept unless options.force. Throws ConfigError when the folder cannot be used.
Result write_starter(const Options& options, const std::vector<EmbeddedFile>& files);

// What is left to set by hand after init, for that host: the federated credential, the workspace
// ids, the variables, the environment approvals.
std::string next_steps(Host host, std::string_view name);

}  // namespace amlops::scaffold
