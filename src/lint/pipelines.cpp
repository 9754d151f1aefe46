// CI pipelines that train: GitHub Actions workflows and Azure Pipelines YAML.
#include <algorithm>
#include <cctype>
#include <functional>

#include "core/strings.hpp"
#include "lint/internal.hpp"

namespace amlops::lint::detail {
namespace {

struct Retired {
  std::string_view label;
  std::string_view replacement;
};

const std::vector<Retired>& github_retired() {
  static const std::vector<Retired> r = {
      {"ubuntu-16.04", "ubuntu-24.04"}, {"ubuntu-18.04", "ubuntu-24.04"}, {"ubuntu-20.04", "ubuntu-24.04"},
      {"windows-2016", "windows-2025"}, {"windows-2019", "windows-2025"}, {"macos-10.15", "macos-15"},
      {"macos-11", "macos-15"},         {"macos-12", "macos-15"},         {"macos-13", "macos-15"},
  };
  return r;
}

const std::vector<Retired>& azure_retired() {
  static const std::vector<Retired> r = {
      {"ubuntu-16.04", "ubuntu-24.04"},   {"ubuntu-18.04", "ubuntu-24.04"},
      {"ubuntu-20.04", "ubuntu-24.04"},   {"vs2015-win2012r2", "windows-2025"},
      {"vs2017-win2016", "windows-2025"}, {"win1803", "windows-2025"},
      {"windows-2016", "windows-2025"},   {"windows-2019", "windows-2025"},
      {"macos-10.13", "macOS-15"},        {"macos-10.14", "macOS-15"},
      {"macos-10.15", "macOS-15"},        {"macos-11", "macOS-15"},
      {"macos-12", "macOS-15"},           {"macos-13", "macOS-15"},
  };
  return r;
}

const Retired* retired(const std::vector<Retired>& list, const std::string& label) {
  std::string l = str::to_lower(label);
  for (auto& r : list)
    if (l == r.label) return &r;
  return nullptr;
}

void check_image(const std::vector<Retired>& list, const std::string& path, const YAML::Node& value, Sink& sink) {
  auto one = [&](const YAML::Node& v) {
    if (!v.IsScalar()) return;
    if (const Retired* r = retired(list, v.Scalar())) {
      Fix fix{"use " + std::string(r->replacement),
              line_of(v),
              col_of(v),
              line_of(v),
              col_of(v) + static_cast<int>(v.Scalar().size()),
              std::string(r->replacement)};
      sink.add("PIPE003", path, line_of(v), col_of(v),
               "runner image '" + v.Scalar() + "' is retired; use " + std::string(r->replacement),
               col_of(v) + static_cast<int>(v.Scalar().size()), fix);
    }
  };
  if (value.IsSequence())
    for (const auto& v : value) one(v);
  else
    one(value);
}

// All scalar text below a node (names, scripts, inputs), lower-cased, for the "is this training?" test.
void collect_text(const YAML::Node& n, std::string& out) {
  if (n.IsScalar()) {
    out += str::to_lower(n.Scalar());
    out += '\n';
  } else if (n.IsMap()) {
    for (const auto& kv : n) {
      out += str::to_lower(kv.first.Scalar());
      out += '\n';
      collect_text(kv.second, out);
    }
  } else if (n.IsSequence()) {
    for (const auto& v : n) collect_text(v, out);
  }
}

bool is_training(const YAML::Node& step_or_job) {
  std::string t;
  collect_text(step_or_job, t);
  for (std::string_view k :
       {"train", "az ml job", "amlops job", "amlops-job", "ml job create", "job submit", "pipeline.yml", "retrain"})
    if (t.find(k) != std::string::npos) return true;
  return false;
}

bool is_true(const YAML::Node& n) {
  std::string v = truthy_string(n);
  return v == "true" || v == "yes" || v == "on";
}

void continue_on_error(const std::string& path, const YAML::Node& node, const char* key, Sink& sink) {
  YAML::Node v = node[key];
  if (!v || !is_true(v) || !is_training(node)) return;
  Fix fix{"fail the pipeline when training fails",         line_of(v), col_of(v), line_of(v),
          col_of(v) + static_cast<int>(v.Scalar().size()), "false"};
  sink.add("PIPE001", path, line_of(v), col_of(v),
           std::string(key) + ": true on a training step: a failed training run does not fail the pipeline",
           col_of(v) + static_cast<int>(v.Scalar().size()), fix);
}

bool moving_ref(std::string_view ref) {
  if (ref.size() == 40 &&
      std::all_of(ref.begin(), ref.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); }))
    return false;
  std::string_view r = ref;
  if (!r.empty() && (r[0] == 'v' || r[0] == 'V')) r.remove_prefix(1);
  if (!r.empty() && std::isdigit(static_cast<unsigned char>(r[0]))) return false;  // a version tag
  return true;
}

bool permits_id_token(const YAML::Node& perms) {
  if (!perms) return false;
  if (perms.IsScalar()) return perms.Scalar() == "write-all";
  if (perms.IsMap()) return truthy_string(perms["id-token"]) == "write";
  return false;
}

bool is_azure_login(const std::string& uses) { return str::to_lower(uses).rfind("azure/login@", 0) == 0; }

void shell_notebooks(const std::string& path, const Text& text, const YAML::Node& script, Sink& sink) {
  if (script && script.IsScalar()) check_command_notebooks(path, text, line_of(script), script.Scalar(), sink);
}

}  // namespace

void check_command_notebooks(const std::string& path, const Text& text, int line, std::string_view command,
                             Sink& sink) {
  // papermill nb.ipynb, jupyter nbconvert --execute nb.ipynb, python nb.ipynb, ipython nb.ipynb
  bool runner =
      command.find("papermill") != std::string_view::npos ||
      (command.find("nbconvert") != std::string_view::npos && command.find("--execute") != std::string_view::npos) ||
      command.find("python") != std::string_view::npos || command.find("jupyter execute") != std::string_view::npos;
  if (!runner) return;
  // The first notebook of the command is the one run (later ones are outputs: papermill in.ipynb out.ipynb).
  size_t pos = 0;
  if ((pos = command.find(".ipynb", pos)) != std::string_view::npos) {
    size_t b = pos;
    while (b > 0 && !std::isspace(static_cast<unsigned char>(command[b - 1])) && command[b - 1] != '"' &&
           command[b - 1] != '\'')
      --b;
    std::string nb(command.substr(b, pos + 6 - b));
    pos += 6;
    auto at = find_from(text, line, nb);
    sink.add("CODE001", path, at ? at->first : line, at ? at->second : 1,
             "notebook '" + nb + "' is run as an entry point", at ? at->second + static_cast<int>(nb.size()) : 0);
  }
}

bool check_github_workflow(const std::string& path, const YAML::Node& root, const Text& text, Sink& sink) {
  if (!root.IsMap() || !root["jobs"] || !root["jobs"].IsMap()) return false;
  if (path.find(".github/workflows/") == std::string::npos && !root["on"]) return false;
  YAML::Node wf_perms = root["permissions"];
  // A reusable workflow without permissions inherits the caller's: id-token is the caller's to grant.
  bool reusable = false;
  if (YAML::Node on = root["on"]) {
    if (on.IsMap())
      reusable = static_cast<bool>(on["workflow_call"]);
    else if (on.IsScalar())
      reusable = on.Scalar() == "workflow_call";
    else if (on.IsSequence())
      for (const auto& e : on)
        if (e.IsScalar() && e.Scalar() == "workflow_call") reusable = true;
  }
  for (const auto& jkv : root["jobs"]) {
    const YAML::Node& job = jkv.second;
    if (!job.IsMap()) continue;
    // Labels of self-hosted runners are the owner's names, not GitHub's images.
    bool self_hosted = false;
    if (job["runs-on"] && job["runs-on"].IsSequence())
      for (const auto& l : job["runs-on"])
        if (truthy_string(l) == "self-hosted") self_hosted = true;
    if (job["runs-on"] && !self_hosted) check_image(github_retired(), path, job["runs-on"], sink);
    if (job["strategy"] && job["strategy"]["matrix"] && job["strategy"]["matrix"].IsMap())
      for (const auto& m : job["strategy"]["matrix"])
        if (m.second.IsSequence()) check_image(github_retired(), path, m.second, sink);
    continue_on_error(path, job, "continue-on-error", sink);
    YAML::Node perms = job["permissions"] ? job["permissions"] : wf_perms;
    auto check_uses = [&](const YAML::Node& uses) {
      if (!uses || !uses.IsScalar()) return;
      std::string u = uses.Scalar();
      if (starts_with(u, "./") || starts_with(u, "docker://")) return;
      size_t at = u.rfind('@');
      if (at == std::string::npos) {
        sink.add("PIPE004", path, line_of(uses), col_of(uses), "'" + u + "' has no ref: pin a tag or a commit SHA");
        return;
      }
      std::string ref = u.substr(at + 1);
      if (moving_ref(ref))
        sink.add("PIPE004", path, line_of(uses), col_of(uses) + static_cast<int>(at) + 1,
                 "'" + u + "' follows the branch '" + ref + "': pin a release tag or a commit SHA",
                 col_of(uses) + static_cast<int>(u.size()));
    };
    check_uses(job["uses"]);  // reusable workflow
    if (!job["steps"] || !job["steps"].IsSequence()) continue;
    for (const auto& step : job["steps"]) {
      if (!step.IsMap()) continue;
      check_uses(step["uses"]);
      continue_on_error(path, step, "continue-on-error", sink);
      shell_notebooks(path, text, step["run"], sink);
      std::string uses = step["uses"] && step["uses"].IsScalar() ? step["uses"].Scalar() : std::string();
      if (!is_azure_login(uses)) continue;
      YAML::Node with = step["with"];
      YAML::Node creds = with && with.IsMap() ? with["creds"] : YAML::Node();
      if (creds) {
        sink.add("PIPE005", path, line_of(creds), col_of(creds),
                 "azure/login with 'creds' (a client secret in a repository secret): use OIDC (client-id, tenant-id, "
                 "subscription-id) instead");
      } else if (with && with.IsMap() && with["client-id"] && !permits_id_token(perms) && !(reusable && !perms)) {
        YAML::Node u = step["uses"];
        sink.add("PIPE006", path, line_of(u), col_of(u),
                 "azure/login uses OIDC but job '" + jkv.first.Scalar() + "' does not grant 'id-token: write'");
      }
    }
  }
  return true;
}

namespace {

void ado_walk(const std::string& path, const YAML::Node& node, const Text& text, Sink& sink) {
  if (node.IsMap()) {
    if (node["vmImage"]) check_image(azure_retired(), path, node["vmImage"], sink);
    bool step_or_job = node["script"] || node["bash"] || node["pwsh"] || node["powershell"] || node["task"] ||
                       node["steps"] || node["job"] || node["deployment"] || node["template"];
    if (step_or_job) continue_on_error(path, node, "continueOnError", sink);
    for (const char* k : {"script", "bash", "pwsh", "powershell"}) shell_notebooks(path, text, node[k], sink);
    if (node["inputs"] && node["inputs"].IsMap()) {
      for (const char* k : {"inlineScript", "script", "arguments"})
        shell_notebooks(path, text, node["inputs"][k], sink);
    }
    for (const auto& kv : node) ado_walk(path, kv.second, text, sink);
  } else if (node.IsSequence()) {
    for (const auto& v : node) ado_walk(path, v, text, sink);
  }
}

void collect_template_aliases(const YAML::Node& node, std::vector<std::string>& out) {
  if (node.IsMap()) {
    for (const auto& kv : node) {
      if (kv.first.Scalar() == "template" && kv.second.IsScalar()) {
        std::string t = kv.second.Scalar();
        size_t at = t.rfind('@');
        if (at != std::string::npos) out.push_back(t.substr(at + 1));
      }
      collect_template_aliases(kv.second, out);
    }
  } else if (node.IsSequence()) {
    for (const auto& v : node) collect_template_aliases(v, out);
  }
}

}  // namespace

bool check_azure_pipeline(const std::string& path, const YAML::Node& root, const Text& text, Sink& sink) {
  if (!root.IsMap()) return false;
  bool body = root["steps"] || root["jobs"] || root["stages"] || root["extends"];
  bool ado_key = root["trigger"] || root["pr"] || root["pool"] || root["schedules"] || root["variables"] ||
                 root["resources"] || root["parameters"] || root["extends"];
  bool ado_path = path.find("azure-pipelines") != std::string::npos ||
                  path.find(".azuredevops/") != std::string::npos ||
                  path.find("devops-pipelines") != std::string::npos || path.find(".pipelines/") != std::string::npos;
  if (!body || !(ado_key || ado_path)) return false;
  if (root["on"]) return false;  // GitHub workflow outside .github/workflows

  if (root["schedules"] && root["schedules"].IsSequence()) {
    for (const auto& s : root["schedules"]) {
      if (!s.IsMap()) continue;
      if (is_true(s["always"])) continue;
      YAML::Node cron = s["cron"];
      YAML::Node entry = s;
      int line = line_of(cron ? cron : entry), col = col_of(cron ? cron : entry);
      std::optional<Fix> fix;
      if (cron && !s["always"]) {
        // Insert "always: true" under the cron key, at the key's indentation.
        auto at = find_from(text, line, "cron");
        int indent = at ? at->second - 1 : 2;
        fix = Fix{"run the schedule even when the code did not change",
                  line + 1,
                  1,
                  line + 1,
                  1,
                  std::string(static_cast<size_t>(indent), ' ') + "always: true\n"};
        col = at ? at->second : col;
      } else if (s["always"]) {
        line = line_of(s["always"]);
        col = col_of(s["always"]);
      }
      sink.add("PIPE002", path, line, col,
               "schedule '" + (cron ? cron.Scalar() : std::string("?")) +
                   "' runs only when the code changed (add always: true for scheduled retraining)",
               0, fix);
    }
  }
  ado_walk(path, root, text, sink);

  // Templates from other repositories must come from a pinned ref.
  std::vector<std::string> aliases;
  collect_template_aliases(root, aliases);
  YAML::Node repos = root["resources"] ? root["resources"]["repositories"] : YAML::Node();
  if (repos && repos.IsSequence()) {
    for (const auto& r : repos) {
      if (!r.IsMap() || !r["repository"]) continue;
      std::string alias = r["repository"].Scalar();
      if (std::find(aliases.begin(), aliases.end(), alias) == aliases.end()) continue;
      YAML::Node ref = r["ref"];
      if (!ref) {
        sink.add("PIPE004", path, line_of(r["repository"]), col_of(r["repository"]),
                 "templates come from repository '" + alias +
                     "' at its default branch: pin ref: refs/tags/<tag> or a commit");
      } else if (ref.IsScalar()) {
        std::string v = ref.Scalar();
        if (starts_with(v, "refs/heads/") || (!starts_with(v, "refs/tags/") && moving_ref(v)))
          sink.add("PIPE004", path, line_of(ref), col_of(ref),
                   "templates come from repository '" + alias + "' at the branch '" + v +
                       "': pin ref: refs/tags/<tag> or a commit",
                   col_of(ref) + static_cast<int>(v.size()));
      }
    }
  }
  return true;
}

}  // namespace amlops::lint::detail
