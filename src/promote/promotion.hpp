// Promotion against the Azure ML REST API (workspace and registry model versions): reading a
// version's metrics, finding the champion, planning and executing a promotion. Built on
// azure::ArmClient and azure::Workspace only.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "azure/arm.hpp"
#include "azure/workspace.hpp"
#include "core/json.hpp"
#include "promote/decision.hpp"
#include "promote/policy.hpp"

namespace amlops::promote {

struct ModelRef {
  std::string name, version;
  static ModelRef parse(const std::string& text);  // NAME:VERSION (azureml: prefix allowed); UsageError
  [[nodiscard]] std::string str() const { return name + ":" + version; }
};

// Version order of asset versions: numbers by value, before names (by text).
bool version_less(const std::string& a, const std::string& b);

// Where model versions live: a workspace, or a registry (in the workspace's subscription and
// resource group).
struct Scope {
  std::string label;     // "workspace prod", "registry shared"
  std::string base;      // ARM path of the workspace or registry
  std::string registry;  // registry name, empty for a workspace
  azure::WorkspaceRef workspace;
  static Scope of_workspace(const azure::WorkspaceRef& ws);
  static Scope of_environment(const Environment& env);  // its registry when it has one
  // The id a job in the target uses: azureml://registries/R/models/N/versions/V or azureml:N:V.
  [[nodiscard]] std::string asset_id(const ModelRef& m) const;
};

class Models {
 public:
  Models(azure::ArmClient& arm, Scope scope) : arm_(arm), scope_(std::move(scope)) {}
  [[nodiscard]] const Scope& scope() const { return scope_; }
  std::optional<json::Document> get(const ModelRef& m);
  std::vector<json::Document> list(const std::string& name, const std::string& tags_filter);
  // PUT of the version's properties (tags changed); waits for a registry's long-running operation.
  void put_tags(const ModelRef& m, const json::Value& version, const std::map<std::string, std::string>& tags);

 private:
  azure::ArmClient& arm_;
  Scope scope_;
};

// The decision's view of a version: `metric.*` properties (then tags); when there are none and
// `job_metrics`, the producing job's MLflow metrics in `source`. Unparsable values are NaN. The
// link to the producing job comes from `source` when it knows the job.
ModelFacts facts_of(const json::Value& version, const std::string& id, azure::Workspace* source,
                    bool job_metrics = true);

// The tag that marks the champion (selector's tag; stage=production for a version selector).
std::pair<std::string, std::string> champion_tag(const Policy& p);

struct ChampionLookup {
  std::optional<ModelRef> ref;  // the champion (newest when several carry the tag)
  std::optional<json::Document> doc;
  std::vector<ModelRef> also_tagged;  // older versions that still carry the champion tag
  std::string error;                  // a champion that cannot be read
};
// `explicit_champion` (--champion NAME:VERSION) overrides the policy's selector; `exclude` is the
// candidate's own version in that scope (never its own champion).
ChampionLookup find_champion(Models& models, const Policy& p, const std::string& name,
                             const std::optional<ModelRef>& explicit_champion, const std::string& exclude = {});

// One data asset that travels with the model (policy `promotion.data`): the version the
// candidate's training job produced in the source workspace, and its copy in the target
// environment's workspace (files under the default datastore, a version tagged amlops.model).
struct DataCopy {
  std::string name;
  std::string type;            // uri_folder, uri_file, mltable
  std::string source_version;  // in the candidate's workspace
  std::string source_uri;      // resolved datastore URI
  std::string target_version;  // in the target workspace
  std::string target_uri;      // azureml://datastores/workspaceblobstore/paths/...
  std::string status;          // to copy | copied | unchanged
  uint64_t bytes = 0;
  std::string datastore;                                   // the source's datastore
  std::vector<std::pair<std::string, std::string>> blobs;  // source blob name, path relative to the asset
};

// The version of each of `names` produced by the job that trained `model_version`
// (its amlops.job): the job's output with that assetName (its assetVersion when the service gives
// one), matched to the data versions by their properties azureml.jobName or by their URI being the
// job output's. UsageError naming every name without such a version (or without files).
std::vector<DataCopy> find_model_data(azure::Workspace& source, const json::Value& model_version, const ModelRef& model,
                                      const std::vector<std::string>& names);
// Decides each copy's target version: a version of the same name already tagged amlops.model=<model>
// is `unchanged`; else the model's version when unused, else the next integer.
void plan_model_data(azure::Workspace& target, const ModelRef& model, std::vector<DataCopy>& data);
// Copies the files of each planned copy and registers its version in `target`.
void copy_model_data(azure::Workspace& source, azure::Workspace& target, const ModelRef& model,
                     std::vector<DataCopy>& data);

struct Outcome {
  Decision decision;
  ModelFacts candidate;
  std::optional<ModelFacts> champion;
  std::vector<std::string> plan;  // the steps (done, or to do with --dry-run)
  bool already = false;           // promoted before: nothing changed
  bool changed = false;
  std::string model_id;        // the candidate's id in the target
  std::string previous;        // the previous champion (NAME:VERSION), empty when none
  std::vector<DataCopy> data;  // policy `promotion.data`, in the target environment's workspace
};

struct PromoteOptions {
  bool dry_run = false;
  std::string promoted_at;  // ISO time for amlops.promoted_at
};

// Evaluates `candidate` (in `source`) against the champion in `target`, and when it passes
// publishes or registers exactly that version there, tags it champion and archives the previous
// one. Idempotent. Service errors propagate (HttpError, exit 4) and never leave a decision made
// on partial data.
Outcome promote(azure::Workspace& source, Models& target, const Policy& policy, const ModelRef& candidate,
                const PromoteOptions& opts);

}  // namespace amlops::promote
