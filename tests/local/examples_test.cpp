// Every response example of the Azure ML REST spec (tests/data/aml-examples) for an
// operation amlops-local implements: the example's request (parameters + body) is sent to
// App::handle and the answer must have one of the example's status codes, its headers and the
// same shape (every key of the example body present in ours, recursively, with the same JSON
// type). Keys of user maps (tags, inputs, ...) are compared only when we echo them.
#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <functional>
#include <map>
#include <set>

#include "core/files.hpp"
#include "core/json.hpp"
#include "core/strings.hpp"
#include "local/app.hpp"

namespace fs = std::filesystem;
using namespace amlops;
using namespace amlops::local;

namespace {

// The vendored examples (tests/data/README.md): the spec's resource-manager example folder and
// the TypeSpec example folder it is generated from (for the files the former lacks).
const fs::path kSpec = fs::path(AMLOPS_TEST_DATA_DIR) / "aml-examples/specification/machinelearningservices";
const std::string kRm = "resource-manager/Microsoft.MachineLearningServices/stable/2025-12-01/examples/";
const std::string kTsp = "MachineLearningServices.Management/examples/2025-12-01/";

struct Operation {
  std::string file;  // relative to `folder`
  std::string method;
  std::string path;                        // template with {param} after the provider prefix
  std::vector<std::string> prerequisites;  // examples (of kRm) to run first (same server)
  std::string folder = kRm;                // relative to kSpec
  // Changes the example's request body where it is one Azure itself refuses (said at each use).
  std::function<void(json::Document&)> adjust = {};
};

// The endpoint example's traffic {"string": 1} names no deployment and adds up to 1 %: Azure
// refuses that (traffic adds up to 100 or 0 and names existing deployments), so it is sent empty.
void no_traffic(json::Document& body) {
  json::Builder b(body.GetAllocator());
  b.set(body["properties"], "traffic", b.obj());
}
const std::string kEndpoint = "Workspace/OnlineEndpoint/createOrUpdate.json";
const std::string kDeployment = "OnlineDeployment/ManagedOnlineDeployment/createOrUpdate.json";

const std::string kWs =
    "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.MachineLearningServices/"
    "workspaces/{workspaceName}";
const std::string kReg =
    "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.MachineLearningServices/"
    "registries/{registryName}";

const std::vector<Operation>& operations() {
  static const std::vector<Operation> ops = {
      {"Workspace/get.json", "GET", kWs, {}},
      {"Datastore/get.json", "GET", kWs + "/datastores/{name}", {}},
      {"Datastore/listSecrets.json", "POST", kWs + "/datastores/{name}/listSecrets", {}},
      {"Workspace/CodeVersion/createOrGetStartPendingUpload.json",
       "POST",
       kWs + "/codes/{name}/versions/{version}/startPendingUpload",
       {}},
      {"Workspace/CodeVersion/createOrUpdate.json", "PUT", kWs + "/codes/{name}/versions/{version}", {}},
      {"Workspace/CodeVersion/publish.json",
       "POST",
       kWs + "/codes/{name}/versions/{version}/publish",
       {"Workspace/CodeVersion/createOrUpdate.json"}},
      {"Workspace/EnvironmentVersion/createOrUpdate.json", "PUT", kWs + "/environments/{name}/versions/{version}", {}},
      {"Workspace/ModelVersion/createOrUpdate.json", "PUT", kWs + "/models/{name}/versions/{version}", {}},
      {"Workspace/ModelVersion/list.json",
       "GET",
       kWs + "/models/{name}/versions",
       {"Workspace/ModelVersion/createOrUpdate.json"}},
      {"Job/CommandJob/createOrUpdate.json", "PUT", kWs + "/jobs/{id}", {}},
      {"Job/PipelineJob/createOrUpdate.json", "PUT", kWs + "/jobs/{id}", {}},
      {"Job/SweepJob/createOrUpdate.json", "PUT", kWs + "/jobs/{id}", {}},
      {"Job/cancel.json", "POST", kWs + "/jobs/{id}/cancel", {"Job/CommandJob/createOrUpdate.json"}},
      {"Registry/ModelVersion/createOrUpdate.json", "PUT", kReg + "/models/{modelName}/versions/{version}", {}},
      {"Registry/ModelVersion/createOrGetStartPendingUpload.json",
       "POST",
       kReg + "/models/{modelName}/versions/{version}/startPendingUpload",
       {}},
      {"Workspace/ModelVersion/get.json",
       "GET",
       kWs + "/models/{name}/versions/{version}",
       {"Workspace/ModelVersion/createOrUpdate.json"}},
      {"Workspace/ModelVersion/publish.json",
       "POST",
       kWs + "/models/{name}/versions/{version}/publish",
       {"Workspace/ModelVersion/createOrUpdate.json"},
       kTsp},
      {"Workspace/EnvironmentVersion/get.json",
       "GET",
       kWs + "/environments/{name}/versions/{version}",
       {"Workspace/EnvironmentVersion/createOrUpdate.json"}},
      {"Workspace/EnvironmentVersion/list.json",
       "GET",
       kWs + "/environments/{name}/versions",
       {"Workspace/EnvironmentVersion/createOrUpdate.json"}},
      // Empty (containers come from their versions): checks the page envelope.
      {"Workspace/DataContainer/list.json", "GET", kWs + "/data", {}},
      {"Workspace/DataVersionBase/createOrUpdate.json", "PUT", kWs + "/data/{name}/versions/{version}", {}},
      {"Workspace/DataVersionBase/get.json",
       "GET",
       kWs + "/data/{name}/versions/{version}",
       {"Workspace/DataVersionBase/createOrUpdate.json"}},
      {"Workspace/DataVersionBase/list.json",
       "GET",
       kWs + "/data/{name}/versions",
       {"Workspace/DataVersionBase/createOrUpdate.json"}},
      // Online endpoints and deployments (run_jobs=false: deployments stay Creating, nothing runs).
      {kEndpoint, "PUT", kWs + "/onlineEndpoints/{endpointName}", {}, kRm, no_traffic},
      {"Workspace/OnlineEndpoint/get.json", "GET", kWs + "/onlineEndpoints/{endpointName}", {kEndpoint}},
      {"Workspace/OnlineEndpoint/list.json", "GET", kWs + "/onlineEndpoints", {kEndpoint}},
      {"Workspace/OnlineEndpoint/update.json", "PATCH", kWs + "/onlineEndpoints/{endpointName}", {kEndpoint}},
      {"Workspace/OnlineEndpoint/delete.json", "DELETE", kWs + "/onlineEndpoints/{endpointName}", {kEndpoint}},
      {"Workspace/OnlineEndpoint/getToken.json", "POST", kWs + "/onlineEndpoints/{endpointName}/token", {kEndpoint}},
      {"Workspace/OnlineEndpoint/regenerateKeys.json",
       "POST",
       kWs + "/onlineEndpoints/{endpointName}/regenerateKeys",
       {kEndpoint}},
      {kDeployment, "PUT", kWs + "/onlineEndpoints/{endpointName}/deployments/{deploymentName}", {kEndpoint}},
      {"OnlineDeployment/ManagedOnlineDeployment/get.json",
       "GET",
       kWs + "/onlineEndpoints/{endpointName}/deployments/{deploymentName}",
       {kEndpoint, kDeployment}},
      {"OnlineDeployment/list.json",
       "GET",
       kWs + "/onlineEndpoints/{endpointName}/deployments",
       {kEndpoint, kDeployment}},
      {"OnlineDeployment/ManagedOnlineDeployment/update.json",
       "PATCH",
       kWs + "/onlineEndpoints/{endpointName}/deployments/{deploymentName}",
       {kEndpoint, kDeployment}},
      {"OnlineDeployment/ManagedOnlineDeployment/listSkus.json",
       "GET",
       kWs + "/onlineEndpoints/{endpointName}/deployments/{deploymentName}/skus",
       {kEndpoint, kDeployment}},
      {"OnlineDeployment/getLogs.json",
       "POST",
       kWs + "/onlineEndpoints/{endpointName}/deployments/{deploymentName}/getLogs",
       {kEndpoint, kDeployment}},
      {"Workspace/OnlineDeployment/delete.json",
       "DELETE",
       kWs + "/onlineEndpoints/{endpointName}/deployments/{deploymentName}",
       {kEndpoint, kDeployment}},
  };
  return ops;
}

// The other examples (relative to kSpec), with the reason amlops-local is not checked against them.
const std::map<std::string, std::string>& not_served() {
  static const std::map<std::string, std::string> m = {
      {kTsp + "Workspace/OnlineEndpoint/listKeys.json",
       "the example's endpoint has authMode AMLToken, which has no keys (400, as Azure); endpoints_it_Arm checks "
       "listKeys of a Key endpoint"},
      {kRm + "Schedule/createOrUpdate.json",
       "schedules: not served yet (monitoring schedules); the examples only show InvokeBatchEndpoint"},
      {kRm + "Schedule/get.json", "schedules: not served yet"},
      {kRm + "Schedule/list.json", "schedules: not served yet"},
      {kRm + "Schedule/delete.json", "schedules: not served yet"},
      {kRm + "Compute/createOrUpdate/AmlCompute.json",
       "computes: amlops-local runs every job on the machine and has no compute resources (the setup issue)"},
      {kRm + "Compute/get/AmlCompute.json", "computes: not served (see Compute/createOrUpdate)"},
      {kRm + "Datastore/AzureBlobWAccountKey/createOrUpdate.json",
       "datastores: amlops-local has only its two built-in ones, which cannot be created (the setup issue)"},
      {kRm + "Workspace/DataContainer/createOrUpdate.json",
       "amlops-local accepts a data container PUT but neither stores it nor echoes its dataType: containers "
       "exist through their versions"},
      {kRm + "Workspace/DataContainer/get.json",
       "a container made by its PUT alone is not found (see DataContainer/createOrUpdate)"},
      {kRm + "Registries/get.json",
       "amlops-local answers with what clients read (discoveryUrl, mlFlowRegistryUri, regionDetails) but not the "
       "whole resource: no identity, kind, sku, systemData, managedResourceGroup, acr/storage details"},
  };
  return m;
}

fs::path example_path(const Operation& op) { return kSpec / op.folder / op.file; }

bool looks_like_guid(const std::string& k) {
  return k.size() == 36 && k[8] == '-' && k[13] == '-' && k[18] == '-' && k[23] == '-';
}

bool is_map_field(const std::string& parent_path, const std::string& key) {
  static const std::set<std::string> maps = {"tags",
                                             "environmentVariables",
                                             "inputs",
                                             "outputs",
                                             "services",
                                             "flavors",
                                             "data",
                                             "searchSpace",
                                             "settings",
                                             "parameters",
                                             "userAssignedIdentities",
                                             "outboundRules",
                                             "traffic",
                                             "mirrorTraffic"};
  if (maps.count(key)) return true;
  // properties.properties and resources.properties are user maps; the envelope's properties is not.
  return key == "properties" && !parent_path.empty();
}

void compare(const json::Value& ex, const json::Value& ours, const std::string& path, bool map,
             std::vector<std::string>& errors) {
  if (ex.IsNull()) return;
  auto type = [](const json::Value& v) -> std::string {
    if (v.IsObject()) return "object";
    if (v.IsArray()) return "array";
    if (v.IsString()) return "string";
    if (v.IsBool()) return "bool";
    if (v.IsNumber()) return "number";
    return "null";
  };
  if (type(ex) != type(ours)) {
    errors.push_back(path + ": example has " + type(ex) + ", amlops-local answered " + type(ours));
    return;
  }
  if (ex.IsObject()) {
    for (auto& m : ex.GetObject()) {
      std::string k = m.name.GetString();
      if (looks_like_guid(k)) continue;
      bool present = ours.HasMember(k.c_str());
      if (!present) {
        if (map) continue;
        if (path.empty() && k == "nextLink") continue;  // only when there is a next page
        errors.push_back(path + "/" + k + ": missing");
        continue;
      }
      compare(m.value, ours[k.c_str()], path + "/" + k, is_map_field(path, k), errors);
    }
  } else if (ex.IsArray() && !ex.Empty() && !ours.Empty()) {
    compare(ex[0], ours[0], path + "/0", false, errors);
  }
}

std::string param_text(const json::Value& v) { return json::scalar_text(v); }

struct Result {
  net::ServerResponse resp;
  std::vector<std::string> errors;
};

// `names`: path parameters of the example a prerequisite runs for (its resource group, workspace,
// endpoint...), which win over the prerequisite's own.
Result run_example(App& app, const Operation& op, bool check, const json::Value* names = nullptr) {
  auto doc = json::parse(files::read(example_path(op)), op.file);
  const auto& params = doc["parameters"];
  std::string path = op.path;
  std::set<std::string> used;
  for (auto& m : params.GetObject()) {
    std::string key = "{" + std::string(m.name.GetString()) + "}";
    std::string value = param_text(m.value);
    if (names && names->HasMember(m.name) && key != "{api-version}") value = param_text((*names)[m.name]);
    // The only implemented datastores are the workspace's own.
    if (key == "{name}" && op.file.rfind("Datastore/", 0) == 0) value = "workspaceblobstore";
    if (path.find(key) != std::string::npos) {
      path = str::replace_all(path, key, str::url_encode(value));
      used.insert(m.name.GetString());
    }
  }
  net::ServerRequest req;
  req.method = op.method;
  std::string query;
  for (auto& m : params.GetObject()) {
    std::string k = m.name.GetString();
    if (used.count(k) || k == "body") continue;
    req.query.emplace(k, param_text(m.value));
    query += (query.empty() ? "?" : "&") + str::url_encode(k) + "=" + str::url_encode(param_text(m.value));
  }
  req.target = path + query;
  req.path = path;
  req.headers["authorization"] = "Bearer " + app.issue_token("examples", std::chrono::minutes(5));
  if (params.HasMember("body")) {
    json::Document body;
    body.CopyFrom(params["body"], body.GetAllocator());
    if (op.adjust) op.adjust(body);
    req.body = json::dump(body);
    req.headers["content-type"] = "application/json";
  }
  Result r{app.handle(req), {}};
  if (!check) return r;
  std::string status = std::to_string(r.resp.status);
  const auto& responses = doc["responses"];
  if (!responses.HasMember(status.c_str())) {
    r.errors.push_back("status " + status + " is not among the example's (" + str::join(json::keys(responses), ", ") +
                       "): " + r.resp.body);
    return r;
  }
  const auto& expected = responses[status.c_str()];
  if (expected.HasMember("headers") && expected["headers"].IsObject()) {
    for (auto& h : expected["headers"].GetObject()) {
      bool found = false;
      for (auto& [k, v] : r.resp.headers)
        if (str::iequals(k, h.name.GetString())) found = true;
      if (!found) r.errors.push_back(std::string("header ") + h.name.GetString() + " missing");
    }
  }
  if (expected.HasMember("body")) {
    auto ours = json::parse(r.resp.body.empty() ? "null" : r.resp.body, "response of " + op.file);
    compare(expected["body"], ours, "", false, r.errors);
  }
  return r;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(aml_examples)

BOOST_AUTO_TEST_CASE(every_example_is_classified) {
  // Every vendored example is either answered above or listed with the reason it is not; a new
  // example file must be added to one of the two lists, and each list entry must exist.
  std::set<std::string> known;
  for (auto& [file, why] : not_served()) BOOST_TEST(known.insert(file).second, file << " listed twice");
  for (auto& op : operations())
    BOOST_TEST(known.insert(op.folder + op.file).second, op.folder + op.file << " is both tested and not served");
  std::set<std::string> found;
  for (auto& e : fs::recursive_directory_iterator(kSpec)) {
    if (!e.is_regular_file()) continue;
    std::string rel = e.path().lexically_relative(kSpec).generic_string();
    found.insert(rel);
    BOOST_CHECK_MESSAGE(known.count(rel), rel << " is neither tested nor listed as not served");
  }
  for (auto& k : known) BOOST_CHECK_MESSAGE(found.count(k), k << " is listed but not in " << kSpec.string());
}

BOOST_AUTO_TEST_CASE(implemented_examples_answer_in_the_same_shape) {
  for (auto& op : operations()) {
    BOOST_TEST_CONTEXT(op.file) {
      auto doc = json::parse(files::read(example_path(op)), op.file);
      const auto& p = doc["parameters"];
      files::TempDir dir("amlops-examples");
      Config cfg;
      cfg.data_dir = dir.path();
      cfg.run_jobs = false;
      cfg.subscription = json::get_string(p, "/subscriptionId", op.file);
      cfg.resource_group = json::get_string(p, "/resourceGroupName", op.file);
      if (auto ws = json::opt_string(p, "/workspaceName")) cfg.workspaces = {*ws};
      cfg.registries = {"string", "registryName", "my-aml-registry"};
      App app(cfg);
      app.set_base_url("http://127.0.0.1:1");
      for (auto& pre : op.prerequisites) {
        const Operation* pop = nullptr;
        for (auto& o : operations())
          if (o.file == pre && o.folder == kRm) pop = &o;
        BOOST_REQUIRE(pop);
        auto r = run_example(app, *pop, false, &p);
        BOOST_REQUIRE_MESSAGE(r.resp.status < 300, pre << ": " << r.resp.body);
      }
      auto r = run_example(app, op, true);
      for (auto& e : r.errors) BOOST_ERROR(op.file << ": " << e);
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()
