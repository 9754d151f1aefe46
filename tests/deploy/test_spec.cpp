// amlops-deploy's pure parts: CLI v2 endpoint and deployment YAML -> REST bodies (the starter's
// files, the spec examples' shapes, errors at file:line:col), traffic steps, the rollout record,
// health verdicts and answer matching.
#define BOOST_TEST_MODULE deploy
#include <boost/test/unit_test.hpp>
#include <filesystem>

#include "core/error.hpp"
#include "core/files.hpp"
#include "deploy/endpoints.hpp"
#include "deploy/spec.hpp"
#include "deploy/traffic.hpp"

using namespace amlops;
using namespace amlops::deploy;
namespace fs = std::filesystem;

namespace {
const std::string kWs = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/w";
const fs::path kStarter = fs::path(AMLOPS_SOURCE_DIR) / "templates/starter/endpoints";
const fs::path kExamples = fs::path(AMLOPS_TEST_DATA_DIR) /
                           "aml-examples/specification/machinelearningservices/resource-manager/"
                           "Microsoft.MachineLearningServices/stable/2025-12-01/examples";

json::Document example_body(const fs::path& rel, const std::string& which) {
  json::Document d = json::parse(files::read(kExamples / rel), rel.string());
  json::Document out;
  out.CopyFrom(*json::find(d, which), out.GetAllocator());
  return out;
}

// ConfigError whose message starts with file:line:col and contains `part`.
void expect_config_error(const std::string& yaml, const std::string& where, const std::string& part,
                         bool endpoint = false) {
  try {
    if (endpoint)
      load_endpoint_text(yaml, "e.yml");
    else
      load_deployment_text(yaml, "d.yml", kStarter, kWs);
    BOOST_FAIL("no error for: " + yaml);
  } catch (const ConfigError& e) {
    std::string m = e.what();
    BOOST_TEST_INFO(m);
    BOOST_TEST(m.rfind(where, 0) == 0);
    BOOST_TEST(m.find(part) != std::string::npos);
  }
}
}  // namespace

BOOST_AUTO_TEST_CASE(starter_endpoint_yaml) {
  EndpointSpec e = load_endpoint(kStarter / "endpoint.yml");
  BOOST_TEST(e.name == "churn-endpoint");
  BOOST_TEST(std::string(auth_mode_rest(e.auth)) == "Key");
  BOOST_TEST(e.tags.at("project") == "churn");
  BOOST_TEST(e.yaml_traffic.empty());
}

BOOST_AUTO_TEST_CASE(starter_deployment_yaml_to_rest_body) {
  DeploymentSpec d = load_deployment(kStarter / "deployment.yml", kWs);
  BOOST_TEST(d.name == "blue");
  BOOST_TEST(d.endpoint_name == "churn-endpoint");
  BOOST_TEST(d.model == kWs + "/models/churn/versions/1");
  BOOST_REQUIRE(d.code_dir.has_value());
  BOOST_TEST(fs::exists(*d.code_dir / "score.py"));
  BOOST_TEST(json::get_string(d.body, "/properties/environmentId") == kWs + "/environments/churn-score-env/versions/1");
  BOOST_TEST(json::get_string(d.body, "/properties/endpointComputeType") == "Managed");
  BOOST_TEST(json::get_int(d.body, "/sku/capacity") == 1);
  BOOST_TEST(json::get_string(d.body, "/sku/name") == "Default");
  BOOST_TEST(json::get_string(d.body, "/properties/requestSettings/requestTimeout") == "PT5S");
  BOOST_TEST(json::get_int(d.body, "/properties/requestSettings/maxConcurrentRequestsPerInstance") == 4);
  BOOST_TEST(json::get_string(d.body, "/properties/livenessProbe/initialDelay") == "PT30S");
  BOOST_TEST(json::get_string(d.body, "/properties/codeConfiguration/scoringScript") == "score.py");
  BOOST_TEST(json::get_string(d.body, "/properties/dataCollector/collections/model_inputs/dataCollectionMode") ==
             "Enabled");
  BOOST_TEST(json::get_number(d.body, "/properties/dataCollector/collections/model_outputs/samplingRate") == 1.0);
  BOOST_TEST(json::get_string(d.body, "/tags/project") == "churn");
}

// Every property the body carries is one the spec example of OnlineDeployments_CreateOrUpdate has.
BOOST_AUTO_TEST_CASE(deployment_body_uses_the_spec_examples_property_names) {
  DeploymentSpec d = load_deployment(kStarter / "deployment.yml", kWs);
  json::Document ex = example_body("OnlineDeployment/ManagedOnlineDeployment/createOrUpdate.json", "/parameters/body");
  for (auto& m : d.body["properties"].GetObject()) {
    std::string k = m.name.GetString();
    if (k == "dataCollector") continue;  // newer than the example (endpoints-and-scoring.md §2.2)
    BOOST_TEST_INFO(k);
    BOOST_TEST(ex["properties"].HasMember(m.name));
  }
  for (auto& m : d.body["properties"]["requestSettings"].GetObject())
    BOOST_TEST(ex["properties"]["requestSettings"].HasMember(m.name));
  for (auto& m : d.body["properties"]["livenessProbe"].GetObject())
    BOOST_TEST(ex["properties"]["livenessProbe"].HasMember(m.name));
  BOOST_TEST(ex["sku"].HasMember("capacity"));
}

// The PUT body built from a GET answer (the spec example) keeps what is writable, drops the rest.
BOOST_AUTO_TEST_CASE(endpoint_put_body_from_the_spec_examples_get) {
  json::Document got = example_body("Workspace/OnlineEndpoint/get.json", "/responses/200/body");
  json::Document put = endpoint_put_body(got);
  BOOST_TEST(json::get_string(put, "/properties/authMode") == "AMLToken");
  BOOST_TEST(json::get_number(put, "/properties/traffic/string") == 1);
  BOOST_TEST(json::get_string(put, "/location") == "string");
  BOOST_TEST(!json::find(put, "/properties/scoringUri"));
  BOOST_TEST(!json::find(put, "/properties/provisioningState"));
  BOOST_TEST(!json::find(put, "/id"));
  BOOST_TEST(!json::find(put, "/systemData"));
  BOOST_TEST(!json::find(put, "/identity/principalId"));
  // Every property kept is one the CreateOrUpdate example sends.
  json::Document ex = example_body("Workspace/OnlineEndpoint/createOrUpdate.json", "/parameters/body");
  for (auto& m : put["properties"].GetObject()) {
    BOOST_TEST_INFO(m.name.GetString());
    BOOST_TEST(ex["properties"].HasMember(m.name));
  }
}

BOOST_AUTO_TEST_CASE(bad_yaml_names_file_line_col) {
  expect_config_error("name: blue\nendpoint_name: e1x\nmodel: azureml:m:1\ninstance_cont: 2\n", "d.yml:4:1",
                      "did you mean 'instance_count'");
  expect_config_error("name: blue\nendpoint_name: e1x\nmodel: azureml:m:1\ninstance_count: 0\n", "d.yml:4:17",
                      "whole number from 1");
  expect_config_error("name: 1blue\nendpoint_name: e1x\n", "d.yml:1:7", "must be 3-32 characters");
  expect_config_error("name: blue\nendpoint_name: e1x\nmodel: churn\n", "d.yml:3:8", "'model' must be");
  expect_config_error("name: blue\nendpoint_name: e1x\ncode_configuration:\n  code: ./nope\n  scoring_script: s.py\n",
                      "d.yml:4:9", "does not exist");
  expect_config_error("name: blue\nendpoint_name: e1x\nrequest_settings: {request_timeout_ms: 999999}\n",
                      "d.yml:3:", "request_timeout_ms");
  expect_config_error("name: blue\nendpoint_name: e1x\nname: green\n", "d.yml:3:1", "");
  expect_config_error("name: blue\nendpoint_name: [\n", "d.yml:", "YAML syntax error");
  expect_config_error("name: ep1\nauth_mode: password\n", "e.yml:2:12", "key, aml_token or aad_token", true);
  expect_config_error("name: ep1\ntraffic: {blue: 101}\n", "e.yml:2:", "from 0 to 100", true);
}

BOOST_AUTO_TEST_CASE(model_ids) {
  BOOST_TEST(model_id(kWs, "churn:3") == kWs + "/models/churn/versions/3");
  BOOST_TEST(model_id(kWs, "azureml:churn:3") == kWs + "/models/churn/versions/3");
  BOOST_TEST(model_id(kWs, "azureml://registries/shared/models/churn/versions/3") ==
             "azureml://registries/shared/models/churn/versions/3");
  BOOST_CHECK_THROW(model_id(kWs, "churn"), UsageError);
  BOOST_CHECK_THROW(model_id(kWs, "churn:"), UsageError);
  BOOST_TEST(iso_millis(5000) == "PT5S");
  BOOST_TEST(iso_millis(1500) == "PT1.5S");
  BOOST_TEST(iso_millis(50) == "PT0.05S");
}

struct ShiftCase {
  Traffic current;
  int percent;
  Traffic expected;
};

BOOST_AUTO_TEST_CASE(traffic_shift_table) {
  std::vector<ShiftCase> cases = {
      {{{"blue", 100}}, 10, {{"blue", 90}, {"green", 10}}},
      {{{"blue", 100}}, 50, {{"blue", 50}, {"green", 50}}},
      {{{"blue", 100}}, 100, {{"green", 100}}},
      {{}, 10, {{"green", 100}}},             // nothing else serves: all at once
      {{{"blue", 0}}, 10, {{"green", 100}}},  // zero entries do not count
      {{{"blue", 60}, {"red", 40}}, 10, {{"blue", 54}, {"red", 36}, {"green", 10}}},
      {{{"a", 50}, {"b", 50}}, 33, {{"a", 34}, {"b", 33}, {"green", 33}}},          // remainder to the first by name
      {{{"a", 1}, {"b", 1}, {"c", 98}}, 50, {{"a", 1}, {"c", 49}, {"green", 50}}},  // b rounds to 0
      {{{"blue", 90}, {"green", 10}}, 50, {{"blue", 50}, {"green", 50}}},           // green's own share is replaced
  };
  for (auto& c : cases) {
    Traffic got = shift(c.current, "green", c.percent);
    BOOST_TEST_INFO(traffic_text(c.current) + " -> " + std::to_string(c.percent));
    BOOST_TEST(traffic_text(got) == traffic_text(c.expected));
    BOOST_TEST(total(got) == 100);
  }
}

BOOST_AUTO_TEST_CASE(steps_parse) {
  BOOST_TEST((parse_steps("10,50,100") == std::vector<int>{10, 50, 100}));
  BOOST_TEST((parse_steps("100") == std::vector<int>{100}));
  BOOST_CHECK_THROW(parse_steps("10,50"), UsageError);
  BOOST_CHECK_THROW(parse_steps("50,10,100"), UsageError);
  BOOST_CHECK_THROW(parse_steps("0,100"), UsageError);
  BOOST_CHECK_THROW(parse_steps("10,x,100"), UsageError);
  BOOST_CHECK_THROW(parse_steps(""), UsageError);
}

BOOST_AUTO_TEST_CASE(record_round_trip) {
  RolloutRecord r{"green", {{"blue", 70}, {"red", 30}}, {{"red", 10}}, "in_progress", ""};
  auto back = parse_record(record_text(r));
  BOOST_REQUIRE(back.has_value());
  BOOST_TEST(back->deployment == "green");
  BOOST_TEST(traffic_text(back->previous) == "blue=70,red=30");
  BOOST_TEST(traffic_text(back->previous_mirror) == "red=10");
  BOOST_TEST(back->state == "in_progress");
  BOOST_TEST(!parse_record("not json").has_value());
  BOOST_TEST(!parse_record("{}").has_value());
}

BOOST_AUTO_TEST_CASE(health_verdicts) {
  std::vector<Sample> s;
  for (int i = 1; i <= 100; ++i)
    s.push_back({i <= 2 ? 424 : 200, static_cast<double>(i), i % 2 ? "blue" : "green", ""});
  Health h = evaluate(s, {0.05, 96.0});
  BOOST_TEST(h.ok);
  BOOST_TEST(h.errors == 2u);
  BOOST_TEST(h.p95_ms == 95.0);
  BOOST_TEST(h.p50_ms == 50.0);
  BOOST_TEST(h.by_deployment.at("green") == 50u);
  h = evaluate(s, {0.01, 90.0});
  BOOST_TEST(!h.ok);
  BOOST_TEST(h.reasons.size() == 2u);
  BOOST_TEST(!evaluate({}, {}).ok);  // no request, no verdict of health
  BOOST_TEST(percentile({3, 1, 2}, 95) == 3.0);
}

BOOST_AUTO_TEST_CASE(answer_matching) {
  auto j = [](const char* s) { return json::parse(s); };
  auto actual = j(R"({"predictions": [0, 1], "probabilities": [0.1234567, 0.7], "extra": true})");
  BOOST_TEST(!mismatch(j(R"({"predictions": [0, 1]})"), actual));
  BOOST_TEST(!mismatch(j(R"({"probabilities": [0.12345670001, 0.7]})"), actual));
  BOOST_TEST(*mismatch(j(R"({"predictions": [1, 1]})"), actual) == "/predictions/0: expected 1, got 0");
  BOOST_TEST(*mismatch(j(R"({"predictions": [0]})"), actual) == "/predictions: expected 1 items, got 2");
  BOOST_TEST(*mismatch(j(R"({"label": "x"})"), actual) == "/label: missing");
  BOOST_TEST(*mismatch(j(R"([1])"), actual) == "/: expected an array, got " + json::dump(actual).substr(0, 57) + "...");
}
