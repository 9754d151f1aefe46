// A job YAML that is wrong is an error at its own line, never a silently dropped setting.
#include <rapidjson/pointer.h>

#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <string>

#include "core/error.hpp"
#include "core/json.hpp"
#include "spec/job.hpp"
#include "spec/refs.hpp"

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

namespace {
// A string field of the REST body, "<absent>" when missing.
std::string at(const spec::JobSpec& s, const std::string& pointer) {
  return json::opt_string(s.body, pointer).value_or("<absent>");
}

const std::string kCmd = "command: python t.py --out ${{outputs.reference}}\nenvironment: azureml:e:1\n";
}  // namespace

// Named job outputs (outputs.<o>.name / version) become assetName / assetVersion on the REST
// JobOutput; a bad name is an error at its own line.
BOOST_AUTO_TEST_SUITE(output_assets)

BOOST_AUTO_TEST_CASE(command_output_name_and_version_become_asset_name_and_version) {
  auto s = load_v(kCmd + R"(outputs:
  reference:
    type: uri_folder
    name: churn-reference
  model:
    type: mlflow_model
    name: churn_model.v2
    version: 7
  plain: {type: uri_file}
)");
  BOOST_TEST(at(s, "/properties/outputs/reference/jobOutputType") == "uri_folder");
  BOOST_TEST(at(s, "/properties/outputs/reference/assetName") == "churn-reference");
  BOOST_TEST(!json::find(s.body, "/properties/outputs/reference/assetVersion"));
  BOOST_TEST(at(s, "/properties/outputs/model/assetName") == "churn_model.v2");
  BOOST_TEST(at(s, "/properties/outputs/model/assetVersion") == "7");
  BOOST_TEST(!json::find(s.body, "/properties/outputs/plain/assetName"));
}

BOOST_AUTO_TEST_CASE(pipeline_and_sweep_outputs_carry_the_asset_name) {
  auto p = load_v(R"(type: pipeline
outputs:
  reference: {type: uri_folder, name: churn-reference}
jobs:
  train:
    command: python t.py --out ${{outputs.out}}
    environment: azureml:e:1
    outputs: {out: '${{parent.outputs.reference}}'}
)");
  BOOST_TEST(at(p, "/properties/outputs/reference/assetName") == "churn-reference");
  BOOST_TEST(at(p, "/properties/jobs/train/outputs/out/value") == "${{parent.outputs.reference}}");

  auto w = load_v(R"(type: sweep
sampling_algorithm: random
search_space: {lr: {type: choice, values: [1, 2]}}
objective: {goal: maximize, primary_metric: acc}
trial: {command: 'python t.py --lr ${{search_space.lr}} --out ${{outputs.best}}', environment: azureml:e:1}
outputs:
  best: {type: uri_folder, name: best-out, version: '2024.1'}
)");
  BOOST_TEST(at(w, "/properties/outputs/best/assetName") == "best-out");
  BOOST_TEST(at(w, "/properties/outputs/best/assetVersion") == "2024.1");
}

BOOST_AUTO_TEST_CASE(bad_names_and_versions_are_errors_at_their_line) {
  struct Row {
    std::string outputs;
    std::string starts;
    std::string contains;
  };
  const Row rows[] = {
      {"  reference: {type: uri_folder, name: -ref}\n", "job.yml:4:39", "name '-ref' is not an asset name"},
      {"  reference:\n    name: churn reference\n", "job.yml:5:11", "output 'reference': name 'churn reference'"},
      {"  reference:\n    name: a/b\n", "job.yml:5:11", "is not an asset name"},
      {"  reference:\n    name: [a, b]\n", "job.yml:5:11", "is not an asset name"},
      {"  reference:\n    type: uri_folder\n    version: 3\n", "job.yml:6:14",
       "output 'reference': 'version' needs a 'name'"},
      {"  reference:\n    name: ref\n    version: 'v 1'\n", "job.yml:6:14", "version 'v 1' is not an asset version"},
  };
  for (const Row& r : rows) {
    std::string msg = error_of(kCmd + "outputs:\n" + r.outputs);
    BOOST_TEST(msg.rfind(r.starts + ": ", 0) == 0u, r.outputs << " -> " << msg);
    BOOST_TEST(msg.find(r.contains) != std::string::npos, r.outputs << " -> " << msg);
  }
  // A step output names no asset (the pipeline's output does).
  std::string msg = error_of(R"(type: pipeline
jobs:
  train:
    command: python t.py --out ${{outputs.out}}
    environment: azureml:e:1
    outputs:
      out: {type: uri_folder, name: step-out}
)");
  BOOST_TEST(msg.rfind("job.yml:7:37: ", 0) == 0u, msg);
  BOOST_TEST(msg.find("name a pipeline output instead") != std::string::npos, msg);
}

BOOST_AUTO_TEST_CASE(asset_name_rule) {
  BOOST_TEST(spec::valid_asset_name("churn-reference"));
  BOOST_TEST(spec::valid_asset_name("a"));
  BOOST_TEST(spec::valid_asset_name("0_a.b-c"));
  BOOST_TEST(spec::valid_asset_name(std::string(255, 'a')));
  BOOST_TEST(!spec::valid_asset_name(std::string(256, 'a')));
  BOOST_TEST(!spec::valid_asset_name(""));
  BOOST_TEST(!spec::valid_asset_name("_a"));
  BOOST_TEST(!spec::valid_asset_name(".a"));
  BOOST_TEST(!spec::valid_asset_name("a b"));
  BOOST_TEST(!spec::valid_asset_name("a:1"));
  BOOST_TEST(!spec::valid_asset_name("a@latest"));
}

BOOST_AUTO_TEST_SUITE_END()
