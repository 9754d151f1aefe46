// A job YAML that is wrong is an error at its own line, never a silently dropped setting.
#include <rapidjson/pointer.h>

#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <string>

#include "core/error.hpp"
#include "core/json.hpp"
#include "spec/job.hpp"

using namespace amlops;
namespace fs = std::filesystem;

namespace {
spec::JobSpec load_v(const std::string& yaml) {
  spec::LoadOptions lo;
  lo.workspace_id = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/w";
  return spec::load_job_text(yaml, "job.yml", fs::temp_directory_path(), lo);
}

std::string error_of(const std::string& yaml) {
  try {
    load_v(yaml);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "no error";
}

const std::string kOk = "command: echo hi\nenvironment: azureml:e:1\n";
}  // namespace

BOOST_AUTO_TEST_SUITE(job_validation)

BOOST_AUTO_TEST_CASE(rows) {
  struct Row {
    std::string yaml;
    std::string starts;    // file:line:col
    std::string contains;  // the message
  };
  const Row rows[] = {
      {"command: echo\nenviroment: azureml:e:1\n", "job.yml:2:1",
       "unknown key 'enviroment' in a command job (did you mean 'environment'?)"},
      {kOk + "limts:\n  timeout: 60\n", "job.yml:3:1", "unknown key 'limts' in a command job (did you mean 'limits'?)"},
      {kOk + "limits:\n  timeuot: 60\n", "job.yml:4:3", "did you mean 'timeout'?"},
      {kOk + "frobnicate: 1\n", "job.yml:3:1", "unknown key 'frobnicate' in a command job"},
      {kOk + "status: Completed\n", "job.yml:3:1", "unknown key 'status'"},
      {"command: echo\ncommand: b\nenvironment: azureml:e:1\n", "job.yml:2:1", "duplicate key 'command'"},
      {kOk + "limits:\n  timeout: -5\n", "job.yml:4:12", "'timeout' must be positive, got -5"},
      {kOk + "limits:\n  timeout: 0\n", "job.yml:4:12", "'timeout' must be positive"},
      {"command: \"echo hi\nenvironment: azureml:e:1\n", "job.yml:1:10", "YAML syntax error"},
      {"command: [echo, hi]\nenvironment: azureml:e:1\n", "job.yml:1:10", "'command' must be a string, not a list"},
      {kOk + "tags: [a, b]\n", "job.yml:3:7", "'tags' must be a mapping, not a list"},
      {"type: sweep\nsampling_algorithm: random\nsearch_space: {lr: {type: choice, values: [1]}}\n"
       "objective: {goal: maximize, primary_metric: acc}\ntrial: {command: echo, environment: azureml:e:1}\n"
       "limits: {max_total_trials: -1}\n",
       "job.yml:6:28", "'max_total_trials' must be positive"},
      {"type: sweep\nsampling_algorithm: random\nsearch_space: {lr: {type: choice, values: [1]}}\n"
       "objective: {goal: maximize, primary_metric: acc}\ntrial: {command: echo, environment: azureml:e:1}\n"
       "early_terminaton: {type: bandit}\n",
       "job.yml:6:1", "unknown key 'early_terminaton' in a sweep job (did you mean 'early_termination'?)"},
      {"type: pipeline\nsettings: {default_compute: azureml:c}\njobs:\n  a:\n    type: command\n"
       "    command: echo\n    environment: azureml:e:1\n    enviroment_variables: {A: b}\n",
       "job.yml:8:5", "unknown key 'enviroment_variables' in a command step (did you mean 'environment_variables'?)"},
      {"type: pipeline\njbos:\n  a: {command: echo, environment: azureml:e:1}\n", "job.yml:2:1",
       "unknown key 'jbos' in a pipeline job (did you mean 'jobs'?)"},
  };
  for (const Row& r : rows) {
    std::string msg = error_of(r.yaml);
    BOOST_TEST(msg.rfind(r.starts + ": ", 0) == 0u, r.yaml << " -> " << msg);
    BOOST_TEST(msg.find(r.contains) != std::string::npos, r.yaml << " -> " << msg);
  }
}

BOOST_AUTO_TEST_CASE(the_full_schema_is_accepted) {
  auto s = load_v(R"(
$schema: https://azuremlschemas.azureedge.net/latest/commandJob.schema.json
type: command
name: n
display_name: d
description: x
experiment_name: e
tags: {a: b}
properties: {p: q}
compute: azureml:c
command: echo hi
environment: azureml:e:1
environment_variables: {A: b}
resources: {instance_count: 1}
distribution: {type: pytorch}
limits: {timeout: 60}
identity: {type: user_identity}
queue_settings: {job_tier: standard}
services: {}
)");
  BOOST_TEST(s.type == "command");
}

BOOST_AUTO_TEST_CASE(forty_thousand_tags_convert) {
  std::string t = kOk + "tags:\n";
  for (int i = 0; i < 40000; ++i) t += "  k" + std::to_string(i) + ": v" + std::to_string(i) + "\n";
  auto s = load_v(t);
  const json::Value* tags = rapidjson::Pointer("/properties/tags").Get(s.body);
  BOOST_TEST_REQUIRE(tags != nullptr);
  BOOST_TEST(tags->MemberCount() == 40000u);
  BOOST_TEST(std::string((*tags)["k39999"].GetString()) == "v39999");
  BOOST_TEST(std::string((*tags)["k0"].GetString()) == "v0");
}

BOOST_AUTO_TEST_SUITE_END()
