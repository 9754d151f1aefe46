// Named job outputs (outputs.<o>.name / version) become assetName / assetVersion on the REST
// JobOutput; a bad name is an error at its own line.
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
spec::JobSpec load_named(const std::string& yaml) {
  spec::LoadOptions lo;
  lo.workspace_id = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/w";
  return spec::load_job_text(yaml, "job.yml", fs::temp_directory_path(), lo);
}

std::string error_named(const std::string& yaml) {
  try {
    load_named(yaml);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "no error";
}

std::string at(const spec::JobSpec& s, const std::string& pointer) {
  return json::opt_string(s.body, pointer).value_or("<absent>");
}

const std::string kCmd = "command: python t.py --out ${{outputs.reference}}\nenvironment: azureml:e:1\n";
}  // namespace

BOOST_AUTO_TEST_SUITE(output_assets)

BOOST_AUTO_TEST_CASE(command_output_name_and_version_become_asset_name_and_version) {
  auto s = load_named(kCmd + R"(outputs:
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
  auto p = load_named(R"(type: pipeline
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

  auto w = load_named(R"(type: sweep
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
    std::string msg = error_named(kCmd + "outputs:\n" + r.outputs);
    BOOST_TEST(msg.rfind(r.starts + ": ", 0) == 0u, r.outputs << " -> " << msg);
    BOOST_TEST(msg.find(r.contains) != std::string::npos, r.outputs << " -> " << msg);
  }
  // A step output names no asset (the pipeline's output does).
  std::string msg = error_named(R"(type: pipeline
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
