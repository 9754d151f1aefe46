// The shape of a job YAML against the Azure ML CLI v2 schema (azure-ai-ml's marshmallow schemas,
// which `az ml job create` applies), checked before conversion so that a typo is an error at its
// own line instead of a silently dropped setting.
#pragma once
#include "core/yaml.hpp"

namespace amlops::spec {

// Unknown keys of command, pipeline and sweep jobs (and of their limits, and of the command and
// sweep steps of a pipeline) are errors with a "did you mean"; keys whose value has the wrong
// shape (a list for `command`, a scalar for `tags`) and negative or zero timeouts and trial
// counts too. Every error is a ConfigError at the offending node's file:line:col.
void validate_job_yaml(const yaml::Document& doc);

}  // namespace amlops::spec
