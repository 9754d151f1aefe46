// Every response example of the Azure ML REST spec (../shared/reference/aml-examples) for an
// operation amlops-local implements: the example's request (parameters + body) is sent to
// App::handle and the answer must have one of the example's status codes, its headers and the
// same shape (every key of the example body present in ours, recursively, with the same JSON
// type). Keys of user maps (tags, inputs, ...) are compared only when we echo them.
#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <set>

#include "core/files.hpp"
#include "core/json.hpp"
#include "core/strings.hpp"
#include "local/app.hpp"

namespace fs = std::filesystem;
using namespace amlops;
using namespace amlops::local;

namespace {

struct Operation {
  std::string file;  // relative to examples/
  std::string method;
  std::string path;                        // template with {param} after the provider prefix
  std::vector<std::string> prerequisites;  // examples to run first (same server)
};

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
  };
  return ops;
}

// Examples of operations amlops-local does not serve (online endpoints and deployments).
const std::set<std::string> kNotImplemented = {"Workspace/OnlineEndpoint/createOrUpdate.json",
                                               "Workspace/OnlineEndpoint/update.json",
                                               "Workspace/OnlineEndpoint/getToken.json",
                                               "OnlineDeployment/ManagedOnlineDeployment/createOrUpdate.json",
                                               "OnlineDeployment/ManagedOnlineDeployment/update.json",
                                               "OnlineDeployment/getLogs.json",
                                               "Workspace/OnlineDeployment/delete.json"};

fs::path examples_dir() {
  return fs::path(AMLOPS_SHARED_DIR) /
         "reference/aml-examples/specification/machinelearningservices/resource-manager/"
         "Microsoft.MachineLearningServices/stable/2025-12-01/examples";
}

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
                                             "outboundRules"};
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

Result run_example(App& app, const Operation& op, bool check) {
  auto doc = json::parse(files::read(examples_dir() / op.file), op.file);
  const auto& params = doc["parameters"];
  std::string path = op.path;
  std::set<std::string> used;
  for (auto& m : params.GetObject()) {
    std::string key = "{" + std::string(m.name.GetString()) + "}";
    std::string value = param_text(m.value);
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
    req.body = json::dump(params["body"]);
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
  // A new example file must be added to one of the two lists.
  std::set<std::string> known = kNotImplemented;
  for (auto& op : operations()) known.insert(op.file);
  size_t n = 0;
  for (auto& e : fs::recursive_directory_iterator(examples_dir())) {
    if (!e.is_regular_file() || e.path().extension() != ".json") continue;
    ++n;
    std::string rel = e.path().lexically_relative(examples_dir()).generic_string();
    BOOST_CHECK_MESSAGE(known.count(rel), rel << " is neither tested nor listed as not implemented");
  }
  BOOST_CHECK_GE(n, 20U);
}

BOOST_AUTO_TEST_CASE(implemented_examples_answer_in_the_same_shape) {
  for (auto& op : operations()) {
    BOOST_TEST_CONTEXT(op.file) {
      auto doc = json::parse(files::read(examples_dir() / op.file), op.file);
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
          if (o.file == pre) pop = &o;
        BOOST_REQUIRE(pop);
        auto r = run_example(app, *pop, false);
        BOOST_REQUIRE_MESSAGE(r.resp.status < 300, pre << ": " << r.resp.body);
      }
      auto r = run_example(app, op, true);
      for (auto& e : r.errors) BOOST_ERROR(op.file << ": " << e);
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()
