// The client against the official Azure ML REST examples (../shared/reference/aml-examples): it
// parses every response example of the operations it calls, and the bodies it sends have the
// examples' shapes (every key we send exists in the example's request body).
#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <set>

#include "../azure/fake_transport.hpp"
#include "aml/model.hpp"
#include "azure/workspace.hpp"
#include "core/files.hpp"
#include "core/json.hpp"
#include "core/strings.hpp"
#include "spec/job.hpp"

using namespace amlops;
using test::respond;
namespace fs = std::filesystem;

namespace {

const fs::path kExamples = fs::path(AMLOPS_SHARED_DIR) /
                           "reference/aml-examples/specification/machinelearningservices/resource-manager/"
                           "Microsoft.MachineLearningServices/stable/2025-12-01/examples";

json::Document example(const std::string& rel) { return json::parse(files::read(kExamples / rel), rel); }

std::string response_body(const std::string& rel, const char* status) {
  auto d = example(rel);
  const json::Value* b = json::find(d, std::string("/responses/") + status + "/body");
  return b ? json::dump(*b) : std::string("{}");
}

// Every key of `ours` exists in `ex` (an object with the single key "string" is a dictionary).
void shape(const json::Value& ours, const json::Value& ex, const std::string& path, const std::set<std::string>& extra,
           std::vector<std::string>& problems) {
  if (!ours.IsObject()) return;
  if (!ex.IsObject()) {
    problems.push_back(path + ": an object where the example has a scalar");
    return;
  }
  bool dict = ex.MemberCount() == 1 && ex.HasMember("string");
  for (auto& m : ours.GetObject()) {
    std::string k = m.name.GetString();
    std::string p = path + "/" + k;
    const json::Value* e = dict ? &ex["string"] : (ex.HasMember(k.c_str()) ? &ex[k.c_str()] : nullptr);
    if (!e) {
      if (!extra.count(k)) problems.push_back(p + ": not in the example");
      continue;
    }
    if (e->IsString() && !m.value.IsString() && !dict) problems.push_back(p + ": the example has a string");
    shape(m.value, *e, p, extra, problems);
  }
}

void check_shape(const json::Value& ours, const std::string& rel, const std::set<std::string>& extra = {}) {
  auto ex = example(rel);
  std::vector<std::string> problems;
  shape(ours, ex["parameters"]["body"], "", extra, problems);
  BOOST_TEST(problems.empty(), rel << ": " << str::join(problems, "; "));
}

struct Service {
  FakeClock clock;
  std::shared_ptr<test::FakeTransport> t = std::make_shared<test::FakeTransport>();
  std::unique_ptr<net::Client> http;
  std::unique_ptr<azure::ArmClient> arm;
  std::unique_ptr<azure::Workspace> ws;
  std::map<std::string, std::string> bodies;  // last body sent per "METHOD kind"
  Service() {
    net::ClientOptions o;
    o.clock = &clock;
    o.transport = t;
    http = std::make_unique<net::Client>(o);
    azure::ArmOptions ao;
    ao.endpoint = "https://management.azure.com";
    arm = std::make_unique<azure::ArmClient>(
        *http, [] { return std::string("tok-examples"); }, clock, ao);
    ws = std::make_unique<azure::Workspace>(
        *arm, azure::WorkspaceRef::parse("azureml://subscriptions/00000000-1111-2222-3333-444444444444/resourcegroups/"
                                         "test-rg/workspaces/my-aml-workspace"));
    t->handler = [this](const net::Request& r) { return route(r); };
  }
  net::Response route(const net::Request& r) {
    const std::string& u = r.url;
    auto has = [&](const char* s) { return u.find(s) != std::string::npos; };
    BOOST_TEST(u.find("api-version=") != std::string::npos, u);
    if (has("$skip=2")) return respond(200, R"({"value":[]})");
    if (has("/startPendingUpload")) {
      bodies["pending"] = r.body;
      return respond(200, response_body("Workspace/CodeVersion/createOrGetStartPendingUpload.json", "200"));
    }
    if (has("/codes/")) {
      bodies["code"] = r.body;
      return respond(201, response_body("Workspace/CodeVersion/createOrUpdate.json", "201"));
    }
    if (has("/environments/")) {
      if (r.method == "GET") return respond(404, R"({"error":{"code":"UserError","message":"not found"}})");
      bodies["env"] = r.body;
      return respond(201, response_body("Workspace/EnvironmentVersion/createOrUpdate.json", "201"));
    }
    if (has("/jobs/") && has("/cancel")) {
      auto ex = example("Job/cancel.json");
      return respond(
          202, "", {{"Location", json::get_string(ex, "/responses/202/headers/location") + "?api-version=2025-12-01"}});
    }
    if (has("my-favorite-aml-job")) return respond(200, "");
    if (has("/jobs/")) {
      bodies["job"] = r.body;
      auto type = json::get_string(json::parse(r.body), "/properties/jobType");
      return respond(201, response_body("Job/" + type + "Job/createOrUpdate.json", "201"));
    }
    if (has("/models/") && has("/versions?"))
      return respond(200, response_body("Workspace/ModelVersion/list.json", "200"));
    if (has("/models/")) {
      bodies["model"] = r.body;
      return respond(201, response_body("Workspace/ModelVersion/createOrUpdate.json", "201"));
    }
    if (has("/listSecrets")) return respond(200, response_body("Datastore/listSecrets.json", "200"));
    if (has("/datastores/")) return respond(200, response_body("Datastore/get.json", "200"));
    if (has("/workspaces/my-aml-workspace")) return respond(200, response_body("Workspace/get.json", "200"));
    return respond(404, "{}");
  }
};

spec::JobSpec job_from_yaml(const std::string& yaml, const std::string& ws_id) {
  spec::LoadOptions lo;
  lo.workspace_id = ws_id;
  auto s = spec::load_job_text(yaml, "job.yml", fs::temp_directory_path(), lo);
  return s;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(examples)

BOOST_AUTO_TEST_CASE(workspace_datastore_code_environment) {
  Service s;
  auto& info = s.ws->info();
  BOOST_TEST(json::get_string(info, "/properties/discoveryUrl") == "http://example.com");

  auto p = s.ws->start_pending_upload("codes", "c1", "1");
  BOOST_TEST(p.blob_uri == "https://www.contoso.com/example");
  BOOST_TEST(p.sas_uri == "https://www.contoso.com/example");
  check_shape(json::parse(s.bodies["pending"]), "Workspace/CodeVersion/createOrGetStartPendingUpload.json");

  auto code = s.ws->put_code_version("c1", "1", "https://acct.blob.core.windows.net/c/src", "ab12", "202208");
  BOOST_TEST(json::get_string(code, "/properties/codeUri") == "https://blobStorage/folderName");
  check_shape(json::parse(s.bodies["code"]), "Workspace/CodeVersion/createOrUpdate.json");

  files::TempDir t;
  files::write_atomic(t.path() / "conda.yml", "dependencies: [python=3.11]\n");
  auto job = spec::load_job_text(
      "type: command\ncommand: echo\nenvironment:\n  image: docker.io/tensorflow/serving:latest\n  conda_file: "
      "conda.yml\n  description: d\n",
      "job.yml", t.path(), {s.ws->id(), {}});
  auto& env = job.environments.at(0).env;
  std::string id = s.ws->ensure_environment(env.name, env.version, env.body);
  BOOST_TEST(id == "string");  // the example's id
  check_shape(json::parse(s.bodies["env"]), "Workspace/EnvironmentVersion/createOrUpdate.json");

  auto store = s.ws->datastore_container("workspaceblobstore");
  BOOST_TEST(store.url() == "https://string.blob.core.windows.net/string");
}

BOOST_AUTO_TEST_CASE(command_sweep_pipeline_jobs_and_cancel) {
  Service s;
  const std::string ws = s.ws->id();
  auto command = job_from_yaml(R"(type: command
display_name: d
experiment_name: e
description: x
tags: {a: b}
properties: {p: q}
command: python t.py --lr ${{inputs.lr}} --o ${{outputs.model}}
environment: azureml:env:1
compute: azureml:cpu
environment_variables: {A: b}
identity: {type: aml_token}
distribution: {type: tensorflow, worker_count: 1, parameter_server_count: 1}
resources: {instance_count: 1, instance_type: Standard_DS3_v2}
limits: {timeout: 300}
inputs: {lr: 0.1, data: {type: uri_folder, path: azureml://datastores/d/paths/p/, mode: ro_mount}}
outputs: {model: {type: uri_folder, mode: rw_mount}}
)",
                               ws);
  auto doc = s.ws->put_job("j1", command.body);
  BOOST_TEST(json::get_string(doc, "/properties/status") == "NotStarted");
  check_shape(json::parse(s.bodies["job"]), "Job/CommandJob/createOrUpdate.json", {"uri", "mode"});

  auto sweep = job_from_yaml(R"(type: sweep
compute: azureml:gpu
sampling_algorithm: grid
search_space: {batch: {type: choice, values: [16, 32]}}
objective: {goal: minimize, primary_metric: loss}
trial:
  command: python t.py --b ${{search_space.batch}}
  environment: azureml:env:1
  environment_variables: {A: b}
  distribution: {type: mpi, process_count_per_instance: 1}
  resources: {instance_count: 1}
limits: {max_total_trials: 1, max_concurrent_trials: 1, trial_timeout: 1}
early_termination: {type: median_stopping, evaluation_interval: 1, delay_evaluation: 1}
)",
                             ws);
  doc = s.ws->put_job("j2", sweep.body);
  BOOST_TEST(json::get_string(doc, "/properties/jobType") == "Sweep");
  // searchSpace values are the SDK's ["choice", [[...]]] expressions where the example shows {}.
  check_shape(json::parse(s.bodies["job"]), "Job/SweepJob/createOrUpdate.json", {"batch"});

  auto pipeline = job_from_yaml(R"(type: pipeline
display_name: p
experiment_name: e
inputs: {lr: 0.1}
outputs: {m: {type: uri_file, mode: upload}}
jobs:
  s:
    component: azureml:c:1
    inputs: {lr: '${{parent.inputs.lr}}'}
)",
                                ws);
  doc = s.ws->put_job("j3", pipeline.body);
  BOOST_TEST(json::get_string(doc, "/properties/jobType") == "Pipeline");
  // The example has no `jobs` (it is in the swagger definition), inside it keys are snake_case.
  check_shape(json::parse(s.bodies["job"]), "Job/PipelineJob/createOrUpdate.json", {"jobs", "settings"});

  s.ws->cancel_job("j1");  // 202 + Location, polled to the end
}

BOOST_AUTO_TEST_CASE(model_versions) {
  Service s;
  auto body = aml::model_version_body("custom_model", "azureml://jobs/j/outputs/model", "desc", {{"metric.acc", "0.9"}},
                                      {{"amlops.source", "abc"}});
  auto doc = s.ws->put_model_version("m", "1", body);
  BOOST_TEST(json::get_string(doc, "/properties/modelType") == "CustomModel");
  check_shape(json::parse(s.bodies["model"]), "Workspace/ModelVersion/createOrUpdate.json");
  auto list = s.ws->list_model_versions("m", "stage=prod");
  BOOST_REQUIRE(list.size() == 1u);  // the page, then the nextLink page (empty)
  BOOST_TEST(json::get_string(list[0], "/properties/modelUri") == "string");
}

BOOST_AUTO_TEST_SUITE_END()
