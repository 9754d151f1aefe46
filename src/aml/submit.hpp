// Submitting a job spec: its local folders uploaded, environments created or resolved (@latest),
// anonymous components registered, then a PUT of the job that is safe to repeat.
#pragma once
#include <filesystem>
#include <functional>
#include <map>
#include <string>

#include "aml/upload.hpp"
#include "azure/workspace.hpp"
#include "ci/host.hpp"
#include "core/env.hpp"
#include "core/json.hpp"
#include "spec/job.hpp"

namespace amlops::aml {

// Provenance of the checkout in the current folder: amlops.git_commit, amlops.git_ref,
// amlops.git_repository, amlops.git_dirty, amlops.ci_run_url.
std::map<std::string, std::string> provenance_tags(const Env& env, const ci::Host& host);

// The version id of a workspace asset named by label ("latest": the most recently created
// version). ConfigError when the asset has no version, or for another label.
std::string resolve_label(azure::Workspace& ws, const std::string& kind, const std::string& name,
                          const std::string& label);

// Uploads the spec's folders, creates or resolves its environments and registers its anonymous
// components, writing every id into the spec's bodies.
void resolve_assets(azure::Workspace& ws, spec::JobSpec& spec, UploadStats& stats);

// "<file stem, lower-cased, non-alphanumerics as '_'>_<10 random hex digits>".
std::string generate_job_name(const std::filesystem::path& file);

// PUT of a job that carries the tag amlops.submission=`submission`. A retried PUT whose first
// attempt reached the service may be refused (4xx) as a change of the job it created: when the
// job by that name carries our submission tag, it is ours and is returned.
json::Document put_job_repeat_safe(azure::Workspace& ws, const std::string& name, json::Document& body,
                                   const std::string& submission);

struct SubmitOptions {
  std::string name;        // default: the YAML's, else generated from the file name
  std::string experiment;  // default: the YAML's, else default_experiment
  std::string default_experiment;
  std::map<std::string, std::string> tags;  // added to the job's tags (provenance, --tag)
};

struct Submitted {
  std::string name;
  json::Document job;  // the service's answer
  UploadStats stats;
  bool existing = false;  // a job of that name with the same spec was there already
};

// A fingerprint of a job body (its amlops.* tags left out): the same YAML, code, inputs and
// settings give the same fingerprint. Sent as the tag amlops.spec.
std::string spec_fingerprint(const json::Value& body);

// The data assets a job consumes, as property amlops.data.<input> = "name:version" (pipeline
// steps' own inputs as amlops.data.<step>.<input>), from input URIs azureml:name:version and data
// version ids (ARM ids, azureml://.../data/<name>/versions/<version>). azureml:name@latest is
// resolved through `latest` (name -> version) and the input then names that exact version.
std::map<std::string, std::string> data_provenance(json::Document& body,
                                                   const std::function<std::string(const std::string&)>& latest);

// A job name that exists already is taken (UsageError, exit 2) unless that job has the same
// spec fingerprint: then it is returned as it is (existing = true) and nothing is submitted.
Submitted submit_job(azure::Workspace& ws, spec::JobSpec& spec, const SubmitOptions& opts);

}  // namespace amlops::aml
