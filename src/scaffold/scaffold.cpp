#include "scaffold/scaffold.hpp"

#include <cctype>
#include <system_error>

#include "core/error.hpp"
#include "core/files.hpp"

namespace amlops::scaffold {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view kStarterName = "churn";

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

bool word_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_'; }

}  // namespace

Host parse_host(std::string_view text) {
  if (text == "github") return Host::github;
  if (text == "azure-devops") return Host::azure_devops;
  if (text == "both") return Host::both;
  throw UsageError("--host must be github, azure-devops or both (got '" + std::string(text) + "')");
}

bool wanted(std::string_view path, Host host) {
  if (starts_with(path, ".github/")) return host != Host::azure_devops;
  if (starts_with(path, ".azure-pipelines/")) return host != Host::github;
  return true;
}

void validate_name(std::string_view name) {
  auto bad = [&](const std::string& why) {
    throw UsageError("--name '" + std::string(name) + "': " + why +
                     " (it names the model, the endpoint NAME-endpoint and the environments)");
  };
  if (name.size() < 3 || name.size() > 24) bad("use 3 to 24 characters");
  if (!std::islower(static_cast<unsigned char>(name.front()))) bad("start with a lower-case letter");
  for (char c : name) {
    if (!(std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) || c == '-')) {
      bad("use lower-case letters, digits and hyphens only");
    }
  }
  if (name.back() == '-') bad("do not end with a hyphen");
}

std::string fill_names(std::string_view path, std::string_view text, std::string_view name) {
  if (name == kStarterName || !(ends_with(path, ".yml") || ends_with(path, ".yaml"))) return std::string(text);
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    size_t at = text.find(kStarterName, i);
    if (at == std::string_view::npos) break;
    size_t end = at + kStarterName.size();
    bool starts_word = at == 0 || !word_char(text[at - 1]);
    // churn.csv is a file name; churned is another word.
    bool ends_word = end == text.size() || (!word_char(text[end]) && text[end] != '.');
    out.append(text.substr(i, at - i));
    out.append(starts_word && ends_word ? name : kStarterName);
    i = end;
  }
  out.append(text.substr(i));
  return out;
}

std::string_view action_name(Action a) {
  switch (a) {
    case Action::wrote:
      return "wrote";
    case Action::overwrote:
      return "overwrote";
    case Action::kept:
      return "kept";
    case Action::unchanged:
      return "unchanged";
  }
  return "?";
}

size_t Result::count(Action a) const {
  size_t n = 0;
  for (const Entry& e : files) n += e.action == a ? 1 : 0;
  return n;
}

Result write_starter(const Options& options, const std::vector<EmbeddedFile>& files) {
  std::error_code ec;
  if (fs::exists(options.dir, ec) && !fs::is_directory(options.dir, ec)) {
    throw ConfigError(options.dir.string() + " exists and is not a folder");
  }
  fs::create_directories(options.dir, ec);
  if (ec) throw ConfigError("cannot create " + options.dir.string() + ": " + ec.message());
  Result result;
  for (const EmbeddedFile& f : files) {
    if (!wanted(f.path, options.host)) continue;
    if (!files::is_safe_relative(f.path))
      throw ConfigError("embedded path " + std::string(f.path) + " is not relative");
    std::string content = fill_names(f.path, f.content, options.name);
    fs::path target = options.dir / fs::path(std::string(f.path));
    Action action = Action::wrote;
    if (fs::is_symlink(target, ec) || fs::exists(target, ec)) {
      if (fs::is_directory(target, ec))
        throw ConfigError(target.string() + " is a folder; the starter has a file there");
      if (!fs::is_symlink(target, ec) && files::read(target) == content) {
        result.files.push_back({std::string(f.path), Action::unchanged});
        continue;
      }
      if (!options.force) {
        result.files.push_back({std::string(f.path), Action::kept});
        continue;
      }
      // --force replaces the link itself, never the file it points to.
      if (fs::is_symlink(target, ec)) fs::remove(target, ec);
      action = Action::overwrote;
    }
    fs::create_directories(target.parent_path(), ec);
    if (ec) throw ConfigError("cannot create " + target.parent_path().string() + ": " + ec.message());
    files::write_atomic(target, content);
    result.files.push_back({std::string(f.path), action});
  }
  return result;
}

std::string next_steps(Host host, std::string_view name) {
  std::string n(name);
  std::string s;
  s += "Left to set by hand:\n";
  s += "  1. Infrastructure: a dev and a prod Azure ML workspace (templates/infra in the amlops repository\n"
       "     deploys them with a user-assigned identity), then put their ids into amlops.yml\n"
       "     (environments.dev.workspace, environments.prod.workspace, environments.prod.registry).\n";
  if (host != Host::azure_devops) {
    s += "  GitHub:\n"
         "  2. Federated credential on the identity (OIDC; no secret is stored): issuer\n"
         "     https://token.actions.githubusercontent.com, audience api://AzureADTokenExchange, subjects\n"
         "     repo:OWNER/REPO:environment:dev and repo:OWNER/REPO:environment:production.\n"
         "  3. Three variables (Settings > Secrets and variables > Actions > Variables): AZURE_CLIENT_ID and\n"
         "     AZURE_TENANT_ID (repository), AMLOPS_WORKSPACE (on the environments dev and production: the\n"
         "     workspace URI azureml://subscriptions/S/resourcegroups/RG/workspaces/W of each).\n"
         "  4. Environments (Settings > Environments): dev, and production with required reviewers, so that\n"
         "     promotion and rollout wait for an approval.\n"
         "  5. Code scanning on (the lint job uploads SARIF), and the workflows under .github/workflows\n"
         "     point at amlops/amlops@v1: replace the owner if you use a fork.\n";
  }
  if (host != Host::github) {
    s += "  Azure DevOps:\n"
         "  2. Two Azure Resource Manager service connections with workload identity federation,\n"
         "     amlops-dev and amlops-prod (Project settings > Service connections).\n"
         "  3. A variable group amlops with AMLOPS_WORKSPACE_DEV and AMLOPS_WORKSPACE_PROD (the workspace\n"
         "     URIs), linked to the pipelines.\n"
         "  4. Environments dev, and production with an approval check (Pipelines > Environments).\n"
         "  5. A GitHub service connection named amlops for the template repository amlops/amlops, and the\n"
         "     pipelines created from .azure-pipelines/*.yml (pr, main, retrain, monitor).\n";
  }
  s += "The model is registered as '" + n + "', the endpoint is '" + n +
       "-endpoint'. Run the unit tests: python3 -m unittest discover -s tests; the lint: amlops lint check .\n";
  return s;
}

}  // namespace amlops::scaffold
