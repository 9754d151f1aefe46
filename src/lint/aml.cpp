// Azure ML CLI v2 YAML: structure per type (informed by the published JSON schemas, extended
// with today's GA fields), referenced local paths, ${{ }} bindings, pinned environments, and the
// job command's flags against the entry script's argparse definitions.
#include <algorithm>
#include <cctype>
#include <map>
#include <set>

#include "core/files.hpp"
#include "core/strings.hpp"
#include "lint/internal.hpp"
#include "spec/refs.hpp"

namespace amlops::lint::detail {
namespace {

namespace fs = std::filesystem;

enum class Kind {
  none,
  command_job,
  pipeline_job,
  sweep_job,
  other_job,
  command_component,
  pipeline_component,
  other_component,
  environment,
  model,
  data,
  online_endpoint,
  online_deployment,
  batch_endpoint,
  batch_deployment,
  other
};

using Keys = std::set<std::string, std::less<>>;

const Keys kCommon = {"$schema", "name", "display_name", "description", "tags", "properties", "id", "creation_context"};
const Keys kJob = {"type",
                   "experiment_name",
                   "compute",
                   "inputs",
                   "outputs",
                   "identity",
                   "services",
                   "status",
                   "log_files",
                   "output",
                   "parent_job_name",
                   "notification_setting",
                   "settings",
                   "queue_settings",
                   "resources",
                   "limits",
                   "environment_variables",
                   "autologger_settings",
                   "parameters"};
const Keys kCommandJob = {"command", "code", "environment", "distribution"};
const Keys kPipelineJob = {"jobs", "component"};
const Keys kSweepJob = {"trial", "search_space", "objective", "sampling_algorithm", "early_termination"};
const Keys kComponent = {"type",
                         "version",
                         "is_deterministic",
                         "inputs",
                         "outputs",
                         "command",
                         "code",
                         "environment",
                         "distribution",
                         "resources",
                         "additional_includes",
                         "jobs",
                         "intellectual_property"};
const Keys kEnvironment = {
    "version",   "image", "conda_file", "build", "os_type", "inference_config", "intellectual_property",
    "datastore", "stage"};
const Keys kModel = {
    "version",        "path",      "type",         "flavors",   "job_name",         "stage",
    "local_path",     "model_uri", "model_format", "datastore", "utc_time_created", "intellectual_property",
    "system_metadata"};
const Keys kData = {"version", "type", "path", "datastore", "local_path", "stage", "intellectual_property"};
const Keys kOnlineEndpoint = {
    "auth_mode",           "identity",           "public_network_access", "mirror_traffic", "traffic", "location",
    "allow_public_access", "provisioning_state", "scoring_uri",           "swagger_uri",    "compute", "kind"};
const Keys kOnlineDeployment = {"endpoint_name",
                                "model",
                                "code_configuration",
                                "environment",
                                "environment_variables",
                                "instance_type",
                                "instance_count",
                                "scale_settings",
                                "request_settings",
                                "liveness_probe",
                                "readiness_probe",
                                "app_insights_enabled",
                                "egress_public_network_access",
                                "data_collector",
                                "model_mount_path",
                                "type",
                                "provisioning_state",
                                "resources",
                                "instance_type",
                                "with_credentials"};
const Keys kBatchEndpoint = {"auth_mode", "defaults", "scoring_uri", "swagger_uri", "provisioning_state"};
const Keys kBatchDeployment = {"endpoint_name",
                               "model",
                               "code_configuration",
                               "environment",
                               "compute",
                               "resources",
                               "settings",
                               "type",
                               "component",
                               "job_definition",
                               "mini_batch_size",
                               "output_action",
                               "output_file_name",
                               "retry_settings",
                               "max_concurrency_per_instance",
                               "error_threshold",
                               "logging_level",
                               "environment_variables",
                               "provisioning_state",
                               "deployment_configuration"};

const Keys kDataTypes = {"uri_file", "uri_folder", "mltable", "custom_model", "mlflow_model", "triton_model", "path"};
const Keys kLiteralTypes = {"string", "integer", "number", "boolean"};
const Keys kInputModes = {"ro_mount", "rw_mount", "download", "direct", "eval_mount", "eval_download", "upload"};
const Keys kOutputModes = {"rw_mount", "upload", "direct"};

Kind kind_from_schema(std::string s) {
  s = str::to_lower(s);
  size_t slash = s.rfind('/');
  std::string n = s.substr(slash == std::string::npos ? 0 : slash + 1);
  n = n.substr(0, n.find(".schema.json"));
  if (n == "commandjob") return Kind::command_job;
  if (n == "pipelinejob") return Kind::pipeline_job;
  if (n == "sweepjob") return Kind::sweep_job;
  if (ends_with(n, "job")) return Kind::other_job;
  if (n == "commandcomponent") return Kind::command_component;
  if (n == "pipelinecomponent") return Kind::pipeline_component;
  if (ends_with(n, "component")) return Kind::other_component;
  if (n == "environment") return Kind::environment;
  if (n == "model") return Kind::model;
  if (n == "data") return Kind::data;
  if (ends_with(n, "onlineendpoint")) return Kind::online_endpoint;
  if (ends_with(n, "onlinedeployment")) return Kind::online_deployment;
  if (n == "batchendpoint") return Kind::batch_endpoint;
  if (ends_with(n, "batchdeployment")) return Kind::batch_deployment;
  return Kind::other;
}

std::string yaml_scalar_str(const YAML::Node& n) { return n && n.IsScalar() ? n.Scalar() : std::string(); }

Kind detect(const YAML::Node& root) {
  if (!root.IsMap()) return Kind::none;
  std::string schema = yaml_scalar_str(root["$schema"]);
  if (str::to_lower(schema).find("azureml") != std::string::npos) return kind_from_schema(schema);
  std::string type = yaml_scalar_str(root["type"]);
  if (type == "command" && root["command"] && (root["environment"] || root["code"])) return Kind::command_job;
  if (type == "pipeline" && root["jobs"] && root["jobs"].IsMap()) return Kind::pipeline_job;
  if (type == "sweep" && root["trial"]) return Kind::sweep_job;
  if (root["name"] && root["image"] && root["image"].IsScalar() && (root["conda_file"] || root["inference_config"]) &&
      !root["services"])
    return Kind::environment;
  return Kind::none;
}

// Shell-ish words of a command (quotes removed), split into segments at ;, |, &&, ||.
std::vector<std::vector<std::string>> segments(std::string_view cmd) {
  std::vector<std::vector<std::string>> out(1);
  std::string cur;
  char quote = 0;
  auto flush = [&] {
    if (!cur.empty()) out.back().push_back(cur);
    cur.clear();
  };
  for (size_t i = 0; i < cmd.size(); ++i) {
    char c = cmd[i];
    if (quote) {
      if (c == quote)
        quote = 0;
      else
        cur.push_back(c);
      continue;
    }
    if (c == '\'' || c == '"') {
      quote = c;
      continue;
    }
    if (c == '\\' && i + 1 < cmd.size() && cmd[i + 1] == '\n') {
      ++i;
      continue;
    }
    if (std::isspace(static_cast<unsigned char>(c))) {
      flush();
      continue;
    }
    if (c == ';' || c == '|' || (c == '&' && i + 1 < cmd.size() && cmd[i + 1] == '&')) {
      flush();
      if (c == '&' || (c == '|' && i + 1 < cmd.size() && cmd[i + 1] == '|')) ++i;
      out.emplace_back();
      continue;
    }
    cur.push_back(c);
  }
  flush();
  return out;
}

bool python_like(const std::string& t) {
  std::string b = t.substr(t.rfind('/') == std::string::npos ? 0 : t.rfind('/') + 1);
  return starts_with(b, "python") || b == "ipython" || b == "torchrun" || b == "deepspeed" || b == "accelerate" ||
         b == "mpirun" || b == "horovodrun";
}

// Finds `needle` as a whole token (not followed by [A-Za-z0-9_-]) from line `from`.
std::optional<std::pair<int, int>> find_token(const Text& text, int from, const std::string& needle) {
  for (int l = std::max(from, 1); l <= text.lines() && l < from + 400; ++l) {
    std::string_view line = text.line(l);
    size_t p = 0;
    while ((p = line.find(needle, p)) != std::string_view::npos) {
      size_t e = p + needle.size();
      bool end_ok =
          e >= line.size() || !(std::isalnum(static_cast<unsigned char>(line[e])) || line[e] == '_' || line[e] == '-');
      if (end_ok) return std::make_pair(l, static_cast<int>(p) + 1);
      p = e;
    }
  }
  return std::nullopt;
}

struct Scope {
  std::set<std::string> inputs, outputs, search_space;
  bool sweep = false;
  const Scope* parent = nullptr;
  std::map<std::string, std::optional<std::set<std::string>>>* jobs = nullptr;  // pipeline: job -> outputs
};

class Checker {
 public:
  Checker(Workspace& ws, const std::string& path, const Text& text, Sink& sink, AmlState& state)
      : ws_(ws), path_(path), text_(text), sink_(sink), state_(state), base_((ws.root / path).parent_path()) {}

  void run(Kind kind, const YAML::Node& root) {
    switch (kind) {
      case Kind::command_job:
        structure(root, {&kCommon, &kJob, &kCommandJob}, {"command", "environment"}, "command");
        command_like(root, scope_of(root), true);
        break;
      case Kind::pipeline_job:
        structure(root, {&kCommon, &kJob, &kPipelineJob}, {}, "pipeline");
        if (!root["jobs"] && !root["component"])
          sink_.add("AML002", path_, line_of(root), col_of(root), "pipeline job needs 'jobs' or 'component'");
        inputs(root["inputs"], false);
        outputs(root["outputs"]);
        pipeline(root);
        break;
      case Kind::sweep_job: {
        structure(root, {&kCommon, &kJob, &kSweepJob}, {"trial", "search_space", "objective", "sampling_algorithm"},
                  "sweep");
        inputs(root["inputs"], false);
        outputs(root["outputs"]);
        Scope s = scope_of(root);
        s.sweep = true;
        if (root["search_space"] && root["search_space"].IsMap())
          for (const auto& kv : root["search_space"]) s.search_space.insert(kv.first.Scalar());
        if (root["trial"] && root["trial"].IsMap()) command_like(root["trial"], s, false);
        enum_value(root["sampling_algorithm"], {"random", "grid", "bayesian"}, true);
        if (root["objective"] && root["objective"].IsMap())
          enum_value(root["objective"]["goal"], {"maximize", "minimize"}, false);
        break;
      }
      case Kind::command_component:
        structure(root, {&kCommon, &kComponent}, {"command", "environment"}, "command");
        inputs(root["inputs"], true);
        outputs(root["outputs"]);
        command_like(root, scope_of(root), false);
        break;
      case Kind::pipeline_component:
        structure(root, {&kCommon, &kComponent}, {"jobs"}, "pipeline");
        pipeline(root);
        break;
      case Kind::environment:
        structure(root, {&kCommon, &kEnvironment}, {}, "");
        if (!root["image"] && !root["build"])
          sink_.add("AML002", path_, line_of(root), col_of(root), "environment needs 'image' or 'build'");
        environment(root);
        enum_value(root["os_type"], {"linux", "windows"}, false);
        break;
      case Kind::model:
        structure(root, {&kCommon, &kModel}, {}, "");
        if (!root["path"] && !root["local_path"] && !root["model_uri"])
          sink_.add("AML002", path_, line_of(root), col_of(root), "model needs 'path'");
        local_path(root["path"], base_);
        local_path(root["local_path"], base_);
        enum_value(root["type"], {"custom_model", "mlflow_model", "triton_model"}, false);
        break;
      case Kind::data:
        structure(root, {&kCommon, &kData}, {}, "");
        if (!root["path"] && !root["local_path"])
          sink_.add("AML002", path_, line_of(root), col_of(root), "data needs 'path'");
        local_path(root["path"], base_);
        local_path(root["local_path"], base_);
        enum_value(root["type"], {"uri_file", "uri_folder", "mltable"}, false);
        break;
      case Kind::online_endpoint:
        structure(root, {&kCommon, &kOnlineEndpoint}, {}, "");
        enum_value(root["auth_mode"], {"key", "aml_token", "aad_token"}, false);
        break;
      case Kind::online_deployment: {
        bool k8s = yaml_scalar_str(root["type"]) == "kubernetes";
        std::vector<std::string> req;  // name and endpoint_name may come from the CLI (--name, --endpoint-name)
        if (!k8s) req.push_back("instance_type");
        structure(root, {&kCommon, &kOnlineDeployment}, req, "");
        deployment(root);
        break;
      }
      case Kind::batch_endpoint:
        structure(root, {&kCommon, &kBatchEndpoint}, {}, "");
        break;
      case Kind::batch_deployment:
        structure(root, {&kCommon, &kBatchDeployment}, {}, "");
        deployment(root);
        break;
      default:
        // Other Azure ML types: paths and environments only.
        if (root["code"]) local_path(root["code"], base_);
        break;
    }
  }

 private:
  // Required keys, key types and unknown keys of a root mapping.
  void structure(const YAML::Node& root, std::initializer_list<const Keys*> known,
                 const std::vector<std::string>& required, const std::string& type) {
    for (auto& r : required)
      if (!root[r]) sink_.add("AML002", path_, line_of(root), col_of(root), "missing required field '" + r + "'");
    if (!type.empty() && root["type"] && yaml_scalar_str(root["type"]) != type)
      sink_.add("AML003", path_, line_of(root["type"]), col_of(root["type"]),
                "type is '" + yaml_scalar_str(root["type"]) + "' but the schema is for '" + type + "'");
    static const Keys maps = {"inputs",
                              "outputs",
                              "jobs",
                              "tags",
                              "environment_variables",
                              "resources",
                              "limits",
                              "search_space",
                              "objective",
                              "trial",
                              "distribution",
                              "identity",
                              "services",
                              "queue_settings",
                              "code_configuration",
                              "request_settings",
                              "liveness_probe",
                              "readiness_probe",
                              "scale_settings",
                              "build",
                              "traffic",
                              "properties"};
    static const Keys scalars = {"command",
                                 "code",
                                 "compute",
                                 "name",
                                 "display_name",
                                 "description",
                                 "experiment_name",
                                 "image",
                                 "endpoint_name",
                                 "instance_type",
                                 "auth_mode",
                                 "type",
                                 "version",
                                 "path",
                                 "sampling_algorithm",
                                 "instance_count"};
    for (const auto& kv : root) {
      std::string key = kv.first.Scalar();
      bool ok = std::any_of(known.begin(), known.end(), [&](const Keys* k) { return k->count(key) > 0; });
      if (!ok) {
        sink_.add("AML004", path_, line_of(kv.first), col_of(kv.first), "unknown field '" + key + "'",
                  col_of(kv.first) + static_cast<int>(key.size()));
        continue;
      }
      if (kv.second.IsNull()) continue;
      bool scalar_ok = key == "sampling_algorithm" ? true : !scalars.count(key) || kv.second.IsScalar();
      if (maps.count(key) && !kv.second.IsMap())
        sink_.add("AML003", path_, line_of(kv.second), col_of(kv.second), "'" + key + "' must be a mapping");
      else if (!scalar_ok)
        sink_.add("AML003", path_, line_of(kv.second), col_of(kv.second), "'" + key + "' must be a single value");
    }
    if (root["instance_count"] && root["instance_count"].IsScalar() && !str::parse_int(root["instance_count"].Scalar()))
      sink_.add("AML003", path_, line_of(root["instance_count"]), col_of(root["instance_count"]),
                "'instance_count' must be an integer");
  }

  void enum_value(const YAML::Node& n, std::initializer_list<std::string_view> allowed, bool map_with_type) {
    if (!n) return;
    YAML::Node v = n;
    if (map_with_type && n.IsMap()) v = n["type"];
    if (!v || !v.IsScalar()) return;
    std::string s = v.Scalar();
    std::string lower = str::to_lower(s);  // the service reads enum values case-insensitively
    if (std::find(allowed.begin(), allowed.end(), lower) != allowed.end()) return;
    std::string list;
    for (auto a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
    sink_.add("AML003", path_, line_of(v), col_of(v), "'" + s + "' is not one of " + list);
  }

  Scope scope_of(const YAML::Node& node) {
    Scope s;
    if (node["inputs"] && node["inputs"].IsMap())
      for (const auto& kv : node["inputs"]) s.inputs.insert(kv.first.Scalar());
    if (node["outputs"] && node["outputs"].IsMap())
      for (const auto& kv : node["outputs"]) s.outputs.insert(kv.first.Scalar());
    return s;
  }

  void inputs(const YAML::Node& in, bool component) {
    if (!in || !in.IsMap()) return;
    for (const auto& kv : in) {
      const YAML::Node& v = kv.second;
      if (!v.IsMap()) {
        if (component)
          sink_.add("AML003", path_, line_of(v), col_of(v),
                    "component input '" + kv.first.Scalar() + "' must declare a type");
        continue;
      }
      std::string type = yaml_scalar_str(v["type"]);
      if (type.empty()) {
        if (component)
          sink_.add("AML002", path_, line_of(kv.first), col_of(kv.first),
                    "input '" + kv.first.Scalar() + "' has no type");
      } else if (!kDataTypes.count(type) && !kLiteralTypes.count(type)) {
        sink_.add("AML003", path_, line_of(v["type"]), col_of(v["type"]),
                  "input type '" + type +
                      "' is not one of uri_file, uri_folder, mltable, custom_model, mlflow_model, "
                      "triton_model, string, integer, number, boolean");
      }
      if (v["mode"] && !kInputModes.count(yaml_scalar_str(v["mode"])))
        sink_.add("AML003", path_, line_of(v["mode"]), col_of(v["mode"]),
                  "input mode '" + yaml_scalar_str(v["mode"]) + "' is not valid");
      if (!component && (type.empty() || kDataTypes.count(type))) local_path(v["path"], base_);
    }
  }

  void outputs(const YAML::Node& out) {
    if (!out || !out.IsMap()) return;
    for (const auto& kv : out) {
      const YAML::Node& v = kv.second;
      if (!v.IsMap()) continue;
      std::string type = yaml_scalar_str(v["type"]);
      if (!type.empty() && !kDataTypes.count(type))
        sink_.add("AML003", path_, line_of(v["type"]), col_of(v["type"]),
                  "output type '" + type + "' is not a data type");
      if (v["mode"] && !kOutputModes.count(yaml_scalar_str(v["mode"])))
        sink_.add("AML003", path_, line_of(v["mode"]), col_of(v["mode"]),
                  "output mode '" + yaml_scalar_str(v["mode"]) + "' is not valid");
    }
  }

  // Returns the absolute path when local and present; reports AML005 when local and missing.
  std::optional<fs::path> local_path(const YAML::Node& n, const fs::path& base, const std::string& what = "path") {
    if (!n || !n.IsScalar()) return std::nullopt;
    std::string p = n.Scalar();
    auto local = spec::local_path(p);
    if (!local) return std::nullopt;
    fs::path abs = (base / *local).lexically_normal();
    if (!ws_.exists(abs)) {
      sink_.add("AML005", path_, line_of(n), col_of(n),
                what + " '" + p + "' does not exist (resolved to " + ws_.rel(abs) + ")",
                col_of(n) + static_cast<int>(p.size()));
      return std::nullopt;
    }
    return abs;
  }

  void environment(const YAML::Node& env) {
    if (!env) return;
    if (env.IsScalar()) {
      std::string e = env.Scalar();
      if (!starts_with(e, "azureml:")) return;
      bool latest = ends_with(e, "@latest") || e.find("/labels/latest") != std::string::npos;
      bool versioned = e.find("/versions/") != std::string::npos || e.find("/labels/") != std::string::npos ||
                       e.find('@') != std::string::npos ||
                       (!starts_with(e, "azureml://") && std::count(e.begin(), e.end(), ':') >= 2);
      if (latest || !versioned)
        sink_.add("AML007", path_, line_of(env), col_of(env),
                  "environment '" + e + "' " + (latest ? "follows the moving 'latest'" : "has no version") +
                      ": pin a version",
                  col_of(env) + static_cast<int>(e.size()));
      return;
    }
    if (!env.IsMap()) return;
    if (YAML::Node img = env["image"]; img && img.IsScalar()) {
      std::string i = img.Scalar();
      if (i.find("@sha256:") == std::string::npos) {
        size_t slash = i.rfind('/');
        size_t colon = i.find(':', slash == std::string::npos ? 0 : slash);
        std::string tag = colon == std::string::npos ? "" : i.substr(colon + 1);
        if (tag.empty() || tag == "latest")
          sink_.add("AML007", path_, line_of(img), col_of(img),
                    "image '" + i + "' " + (tag.empty() ? "has no tag" : "uses :latest") + ": pin a tag or a digest",
                    col_of(img) + static_cast<int>(i.size()));
      }
    }
    if (auto conda = local_path(env["conda_file"], base_, "conda_file")) state_.conda_files.push_back(ws_.rel(*conda));
    if (env["build"] && env["build"].IsMap()) {
      auto ctx = local_path(env["build"]["path"], base_, "build.path");
      if (ctx && env["build"]["dockerfile_path"]) local_path(env["build"]["dockerfile_path"], *ctx, "dockerfile_path");
    }
  }

  void deployment(const YAML::Node& root) {
    environment(root["environment"]);
    if (root["model"] && root["model"].IsMap()) local_path(root["model"]["path"], base_);
    if (root["model"] && root["model"].IsScalar() && starts_with(root["model"].Scalar(), "azureml:")) {
      std::string m = root["model"].Scalar();
      if (ends_with(m, "@latest"))
        sink_.add("AML007", path_, line_of(root["model"]), col_of(root["model"]),
                  "model '" + m + "' follows @latest: pin a version");
    }
    YAML::Node cc = root["code_configuration"];
    if (cc && cc.IsMap()) {
      auto code = local_path(cc["code"], base_, "code");
      if (code && cc["scoring_script"]) local_path(cc["scoring_script"], *code, "scoring_script");
      if (!cc["scoring_script"])
        sink_.add("AML002", path_, line_of(cc), col_of(cc), "code_configuration needs 'scoring_script'");
    }
  }

  // ${{ ... }} expressions under `n` (command text or input/output values).
  void bindings(const YAML::Node& n, const Scope& scope) {
    if (!n) return;
    if (n.IsMap()) {
      for (const auto& kv : n) bindings(kv.second, scope);
      return;
    }
    if (n.IsSequence()) {
      for (const auto& v : n) bindings(v, scope);
      return;
    }
    if (!n.IsScalar()) return;
    const std::string& s = n.Scalar();
    for (const spec::Binding& b : spec::find_bindings(s)) {
      if (!b.closed) continue;
      std::string raw = s.substr(b.offset, b.length);
      std::string problem;
      auto need = [&](const std::set<std::string>& set, const std::string& where) {
        if (!set.count(b.name)) problem = "'" + b.name + "' is not declared in " + where;
      };
      using K = spec::Binding::Kind;
      const Scope* p = scope.parent;
      if (b.kind == K::input) {
        need(scope.inputs, "inputs");
      } else if (b.kind == K::output) {
        need(scope.outputs, "outputs");
      } else if (b.kind == K::search_space) {
        if (scope.sweep) need(scope.search_space, "search_space");
      } else if (b.refers_to_parent() && !p) {
        problem = "${{parent...}} is only valid inside a pipeline job";
      } else if (b.kind == K::parent_input) {
        need(p->inputs, "the pipeline's inputs");
      } else if (b.kind == K::parent_output) {
        need(p->outputs, "the pipeline's outputs");
      } else if (b.kind == K::parent_job_output && p->jobs) {
        auto it = p->jobs->find(b.job);
        if (it == p->jobs->end())
          problem = "job '" + b.job + "' is not in the pipeline";
        else if (it->second && !it->second->count(b.name))
          problem = "job '" + b.job + "' has no output '" + b.name + "'";
      }
      if (problem.empty()) continue;
      auto at = find_from(text_, line_of(n), raw);
      sink_.add("AML006", path_, at ? at->first : line_of(n), at ? at->second : col_of(n), raw + ": " + problem,
                at ? at->second + static_cast<int>(raw.size()) : 0);
    }
  }

  // A node with command/code/environment (command job, component, sweep trial, inline child job).
  void command_like(const YAML::Node& node, const Scope& scope, bool job_inputs) {
    if (job_inputs) {
      inputs(node["inputs"], false);
      outputs(node["outputs"]);
    }
    environment(node["environment"]);
    std::optional<fs::path> code;
    if (node["code"]) code = local_path(node["code"], base_, "code");
    YAML::Node cmd = node["command"];
    if (!cmd || !cmd.IsScalar()) return;
    bindings(cmd, scope);
    command(cmd, code, node["code"].IsDefined());
  }

  void command(const YAML::Node& cmd, const std::optional<fs::path>& code, bool has_code) {
    const std::string& c = cmd.Scalar();
    int line = line_of(cmd);
    check_command_notebooks(path_, text_, line, c, sink_);
    for (auto& seg : segments(c)) {
      size_t i = 0;
      while (i < seg.size() && !python_like(seg[i])) ++i;
      if (i == seg.size()) continue;
      std::string script;
      size_t j = i + 1;
      for (; j < seg.size(); ++j) {
        const std::string& t = seg[j];
        if (t == "-m" && j + 1 < seg.size()) {
          std::string mod = str::replace_all(seg[j + 1], ".", "/");
          script = mod + ".py";
          if (code && !ws_.exists(*code / script) && ws_.exists(*code / mod / "__main__.py"))
            script = mod + "/__main__.py";
          j += 2;
          break;
        }
        if (ends_with(t, ".py") || ends_with(t, ".ipynb")) {
          script = t;
          ++j;
          break;
        }
        if (t == "-c") break;
      }
      if (script.empty() || ends_with(script, ".ipynb")) continue;
      if (!has_code || !code) continue;  // script comes from the image, or code is already reported missing
      fs::path abs = (*code / script).lexically_normal();
      if (!ws_.exists(abs)) {
        auto at = find_token(text_, line, script);
        sink_.add("AML005", path_, at ? at->first : line, at ? at->second : col_of(cmd),
                  "entry script '" + script + "' does not exist under code (" + ws_.rel(abs) + ")");
        continue;
      }
      std::string rel = ws_.rel(abs);
      state_.entry_scripts.push_back(rel);
      bool passes_args = std::any_of(seg.begin() + static_cast<std::ptrdiff_t>(j), seg.end(),
                                     [](const std::string& t) { return t.find('-') == 0 || t.find("$[[") == 0; });
      if (passes_args) state_.entry_scripts_with_args.push_back(rel);
      std::string content;
      if (const std::string* t = ws_.text(rel))
        content = *t;
      else {
        try {
          content = files::read(abs);
        } catch (const std::exception&) {
          continue;
        }
      }
      ArgparseInfo info = scan_argparse(content);
      if (info.known_args_line && state_.known_args_reported.insert(rel).second)
        sink_.add("AML009", rel, info.known_args_line, info.known_args_col,
                  "parse_known_args() ignores unknown flags: a misspelt flag in a job command is silently dropped");
      if (!info.argparse || info.other_parser || info.subparsers) continue;
      std::vector<std::string> passed;
      for (size_t k = j; k < seg.size(); ++k) {
        std::string t = seg[k];
        // Optional arguments of components: $[[--flag ${{inputs.x}}]].
        while (!t.empty() && (t.front() == '[' || t.front() == '$')) t.erase(0, 1);
        while (!t.empty() && t.back() == ']') t.pop_back();
        if (t.size() < 2 || t[0] != '-' || std::isdigit(static_cast<unsigned char>(t[1])) || t == "--") continue;
        if (t.find("${{") == 0) continue;
        std::string flag = t.substr(0, t.find('='));
        passed.push_back(flag);
        // With parse_known_args() unknown flags are legal (often forwarded to another program): AML009 covers it.
        if (info.accepts(flag) || info.known_args_line) continue;
        auto at = find_token(text_, line, flag);
        sink_.add(
            "AML008", path_, at ? at->first : line, at ? at->second : col_of(cmd),
            "'" + flag + "' is not defined by " + rel + " (argparse defines: " + str::join(info.flags, ", ") + ")",
            at ? at->second + static_cast<int>(flag.size()) : 0);
      }
      for (auto& req : info.required) {
        bool given = std::any_of(passed.begin(), passed.end(), [&](const std::string& p) {
          return p == req || (info.allow_abbrev && p.size() > 2 && req.rfind(p, 0) == 0);
        });
        if (!given)
          sink_.add("AML010", path_, line, col_of(cmd),
                    "the command does not pass " + req + ", which " + rel + " requires");
      }
    }
  }

  void pipeline(const YAML::Node& root) {
    Scope pscope = scope_of(root);
    std::map<std::string, std::optional<std::set<std::string>>> jobs;
    pscope.jobs = &jobs;
    YAML::Node js = root["jobs"];
    if (!js || !js.IsMap()) return;
    // First pass: the outputs each child job offers.
    for (const auto& kv : js) {
      const YAML::Node& job = kv.second;
      std::optional<std::set<std::string>> outs = std::set<std::string>();
      if (job.IsMap()) {
        if (job["outputs"] && job["outputs"].IsMap())
          for (const auto& o : job["outputs"]) outs->insert(o.first.Scalar());
        if (job["component"]) {
          auto comp = component(job["component"], false);
          if (!comp)
            outs = std::nullopt;
          else if ((*comp)["outputs"] && (*comp)["outputs"].IsMap())
            for (const auto& o : (*comp)["outputs"]) outs->insert(o.first.Scalar());
        }
        if (yaml_scalar_str(job["type"]) == "pipeline" || yaml_scalar_str(job["type"]) == "sweep") outs = std::nullopt;
      }
      jobs[kv.first.Scalar()] = outs;
    }
    for (const auto& kv : js) {
      const YAML::Node& job = kv.second;
      if (!job.IsMap()) {
        sink_.add("AML003", path_, line_of(job), col_of(job), "job '" + kv.first.Scalar() + "' must be a mapping");
        continue;
      }
      std::string type = yaml_scalar_str(job["type"]);
      Scope cs = scope_of(job);
      cs.parent = &pscope;
      // Child inputs/outputs bind to the pipeline.
      Scope values;
      values.parent = &pscope;
      bindings(job["inputs"], values);
      bindings(job["outputs"], values);
      if (job["component"]) {
        auto comp = component(job["component"], true);
        std::string ctype = comp && comp->IsMap() ? yaml_scalar_str((*comp)["type"]) : std::string();
        // Azure ML components only (a prompt flow's inputs live in its flow definition).
        if (ctype == "command" || ctype == "pipeline" || ctype == "parallel" || ctype == "spark") {
          // The step may only set inputs and outputs its component declares.
          for (std::string side : {"inputs", "outputs"}) {
            YAML::Node given = job[side];
            YAML::Node declared = (*comp)[side];
            if (!given || !given.IsMap()) continue;
            for (const auto& io : given) {
              std::string name = io.first.Scalar();
              if (declared && declared.IsMap() && declared[name]) continue;
              sink_.add("AML006", path_, line_of(io.first), col_of(io.first),
                        side.substr(0, side.size() - 1) + " '" + name + "' of job '" + kv.first.Scalar() +
                            "' is not declared by its component",
                        col_of(io.first) + static_cast<int>(name.size()));
            }
          }
        }
      } else if (type.empty() || type == "command") {
        if (!job["command"])
          sink_.add("AML002", path_, line_of(kv.first), col_of(kv.first),
                    "job '" + kv.first.Scalar() + "' needs 'command' or 'component'");
        else
          command_like(job, cs, false);
      } else if (type == "sweep" && job["trial"]) {
        cs.sweep = true;
        if (job["search_space"] && job["search_space"].IsMap())
          for (const auto& s : job["search_space"]) cs.search_space.insert(s.first.Scalar());
        if (job["trial"].IsScalar()) component(job["trial"], true);
      }
      inputs(job["inputs"], false);
    }
  }

  // A component reference: "file:./x.yml", "./x.yml", an inline mapping, or a registered "azureml:" one
  // (nullopt: unknown). Reports a missing file when `report`.
  std::optional<YAML::Node> component(const YAML::Node& ref, bool report) {
    if (ref.IsMap()) return ref;
    if (!ref.IsScalar()) return std::nullopt;
    auto r = spec::local_path(ref.Scalar());
    if (!r || !(ends_with(*r, ".yml") || ends_with(*r, ".yaml"))) return std::nullopt;
    fs::path abs = (base_ / *r).lexically_normal();
    if (!ws_.exists(abs)) {
      if (report)
        sink_.add("AML005", path_, line_of(ref), col_of(ref), "component '" + ref.Scalar() + "' does not exist",
                  col_of(ref) + static_cast<int>(ref.Scalar().size()));
      return std::nullopt;
    }
    try {
      return YAML::LoadFile(abs.string());
    } catch (const std::exception&) {
      return std::nullopt;  // reported when that file is linted
    }
  }

  Workspace& ws_;
  const std::string& path_;
  const Text& text_;
  Sink& sink_;
  AmlState& state_;
  fs::path base_;
};

}  // namespace

bool check_aml(Workspace& ws, const std::string& path, const YAML::Node& root, const Text& text, Sink& sink,
               AmlState& state) {
  Kind kind = detect(root);
  if (kind == Kind::none) return false;
  Checker(ws, path, text, sink, state).run(kind, root);
  return true;
}

bool looks_like_aml_text(std::string_view text) {
  return text.find("azureml") != std::string_view::npos || text.find("type: command") != std::string_view::npos ||
         text.find("type: pipeline") != std::string_view::npos;
}

}  // namespace amlops::lint::detail
