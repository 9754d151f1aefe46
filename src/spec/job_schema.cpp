#include "spec/job_schema.hpp"

#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "core/strings.hpp"

namespace amlops::spec {
namespace {

using Keys = std::vector<std::string_view>;

// azure-ai-ml azure/ai/ml/_schema: PathAwareSchema ($schema), BaseJobSchema (dump-only keys such
// as id, status, creation_context and log_files are rejected on load, as the SDK does).
const Keys kBase = {"$schema",         "type",    "name",     "display_name", "description", "tags", "properties",
                    "experiment_name", "compute", "identity", "services"};
// CommandJobSchema = ParameterizedCommandSchema + BaseJobSchema.
const Keys kCommand = {"command",   "code",         "environment",    "environment_variables",
                       "resources", "distribution", "queue_settings", "limits",
                       "inputs",    "outputs",      "parent_job_name"};
// PipelineJobSchema.
const Keys kPipeline = {"settings", "jobs", "inputs", "outputs", "component"};
// SweepJobSchema = ParameterizedSweepSchema + BaseJobSchema.
const Keys kSweep = {"trial",  "search_space", "sampling_algorithm", "objective", "early_termination", "limits",
                     "inputs", "outputs",      "queue_settings",     "resources"};
const Keys kCommandLimits = {"timeout"};
const Keys kSweepLimits = {"max_concurrent_trials", "max_total_trials", "timeout", "trial_timeout"};
// A pipeline step (BaseNodeSchema + the command or sweep node's own keys).
const Keys kStep = {"type",      "component",  "name",     "display_name",    "description",
                    "tags",      "properties", "comment",  "experiment_name", "compute",
                    "inputs",    "outputs",    "identity", "services",        "queue_settings",
                    "resources", "limits"};

Keys join(std::initializer_list<const Keys*> parts) {
  Keys out;
  for (const Keys* p : parts) out.insert(out.end(), p->begin(), p->end());
  return out;
}

bool known(const Keys& keys, const std::string& k) {
  for (auto key : keys)
    if (key == k) return true;
  return false;
}

class Validator {
 public:
  explicit Validator(const yaml::Document& doc) : doc_(doc) {}

  void run() {
    const YAML::Node& root = doc_.root;
    if (!root.IsMap()) doc_.fail(root, "a job YAML must be a mapping");
    std::string type = scalar_or(root, "type", "command");
    if (type == "command") {
      keys(root, join({&kBase, &kCommand}), "a command job");
      shapes(root);
      limits(root["limits"], kCommandLimits, "a command job's limits");
    } else if (type == "sweep") {
      keys(root, join({&kBase, &kSweep}), "a sweep job");
      shapes(root);
      limits(root["limits"], kSweepLimits, "a sweep job's limits");
      const YAML::Node& trial = root["trial"];
      if (trial && trial.IsMap()) {
        keys(trial, kCommand, "a sweep job's trial");
        shapes(trial);
      }
    } else if (type == "pipeline") {
      keys(root, join({&kBase, &kPipeline}), "a pipeline job");
      shapes(root);
      const YAML::Node& jobs = root["jobs"];
      if (jobs && jobs.IsMap()) {
        for (const auto& kv : jobs) {
          const YAML::Node& step = kv.second;
          if (!step.IsMap()) continue;  // the converter names the step
          std::string st = scalar_or(step, "type", "command");
          if (st == "command") {
            keys(step, join({&kStep, &kCommand}), "a command step");
          } else if (st == "sweep") {
            keys(step, join({&kStep, &kSweep}), "a sweep step");
          } else {
            continue;  // parallel, spark, pipeline steps: left to the converter
          }
          shapes(step);
          limits(step["limits"], st == "sweep" ? kSweepLimits : kCommandLimits, "a step's limits");
        }
      }
    }
    // Other types: the converter says which types are supported.
  }

 private:
  const yaml::Document& doc_;

  static std::string scalar_or(const YAML::Node& map, const char* key, const char* def) {
    const YAML::Node& n = map[key];
    return n && n.IsScalar() ? n.Scalar() : def;
  }

  void keys(const YAML::Node& map, const Keys& allowed, const std::string& what) const {
    for (const auto& kv : map) {
      if (!kv.first.IsScalar()) doc_.fail(kv.first, "keys of " + what + " must be plain names");
      const std::string& k = kv.first.Scalar();
      if (known(allowed, k)) continue;
      std::string msg = "unknown key '" + k + "' in " + what;
      std::string near = str::closest(k, allowed);
      if (!near.empty()) msg += " (did you mean '" + near + "'?)";
      doc_.fail(kv.first, msg);
    }
  }

  static const char* kind(const YAML::Node& n) {
    if (n.IsSequence()) return "a list";
    if (n.IsMap()) return "a mapping";
    return "a scalar";
  }

  // Keys whose value must be a string, or a mapping, wherever they appear.
  void shapes(const YAML::Node& map) const {
    for (const char* k : {"type", "name", "display_name", "description", "experiment_name", "compute", "code",
                          "command", "parent_job_name", "component", "comment"}) {
      const YAML::Node& v = map[k];
      if (v && !v.IsNull() && !v.IsScalar()) {
        std::string msg = "'" + std::string(k) + "' must be a string, not " + kind(v);
        if (std::string_view(k) == "command")
          msg += " (write the command line as one string: command: python train.py)";
        doc_.fail(v, msg);
      }
    }
    for (const char* k : {"tags", "properties", "environment_variables", "inputs", "outputs", "limits", "resources",
                          "distribution", "identity", "services", "queue_settings", "settings", "jobs", "search_space",
                          "objective", "trial", "early_termination"}) {
      const YAML::Node& v = map[k];
      if (v && !v.IsNull() && !v.IsMap()) doc_.fail(v, "'" + std::string(k) + "' must be a mapping, not " + kind(v));
    }
    const YAML::Node& env = map["environment"];
    if (env && !env.IsNull() && env.IsSequence())
      doc_.fail(env, "'environment' must be a reference (azureml:name:version) or a mapping, not a list");
  }

  void limits(const YAML::Node& lim, const Keys& allowed, const std::string& what) const {
    if (!lim || !lim.IsMap()) return;
    keys(lim, allowed, what);
    for (const auto& kv : lim) {
      const std::string& k = kv.first.Scalar();
      if (!kv.second.IsScalar()) doc_.fail(kv.second, "'" + k + "' must be a number");
      std::string v(str::trim(kv.second.Scalar()));
      bool timeout = k == "timeout" || k == "trial_timeout";
      auto n = str::parse_int(v);
      if (n && *n <= 0)
        doc_.fail(kv.second,
                  "'" + k + "' must be positive, got " + v + (timeout ? " (seconds, or e.g. 30m, PT1H)" : ""));
      if (!n && !timeout) doc_.fail(kv.second, "'" + k + "' must be a whole number, got '" + v + "'");
      if (!n && timeout && !v.empty() && v[0] == '-') doc_.fail(kv.second, "'" + k + "' must be positive, got " + v);
    }
  }
};

}  // namespace

void validate_job_yaml(const yaml::Document& doc) { Validator(doc).run(); }

}  // namespace amlops::spec
