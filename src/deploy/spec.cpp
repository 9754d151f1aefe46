#include "deploy/spec.hpp"

#include <algorithm>
#include <cmath>
#include <set>
#include <vector>

#include "core/files.hpp"
#include "core/strings.hpp"
#include "core/yaml.hpp"
#include "spec/job.hpp"
#include "spec/refs.hpp"

namespace amlops::deploy {
namespace fs = std::filesystem;

const char* auth_mode_rest(AuthMode m) {
  switch (m) {
    case AuthMode::key:
      return "Key";
    case AuthMode::aml_token:
      return "AMLToken";
    case AuthMode::aad_token:
      return "AADToken";
  }
  return "Key";
}

bool valid_name(const std::string& name) {
  if (name.size() < 3 || name.size() > 32) return false;
  if (!std::isalpha(static_cast<unsigned char>(name[0]))) return false;
  return std::all_of(name.begin(), name.end(),
                     [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '-'; });
}

std::string iso_millis(int64_t ms) {
  if (ms % 1000 == 0) return "PT" + std::to_string(ms / 1000) + "S";
  std::string frac = std::to_string(ms % 1000);
  frac = std::string(3 - frac.size(), '0') + frac;
  while (!frac.empty() && frac.back() == '0') frac.pop_back();
  return "PT" + std::to_string(ms / 1000) + "." + frac + "S";
}

std::string model_id(const std::string& workspace_id, const std::string& text) {
  std::string t(str::trim(text));
  if (t.rfind("azureml://registries/", 0) == 0 || t.rfind("azureml:/subscriptions/", 0) == 0 ||
      t.rfind("/subscriptions/", 0) == 0)
    return t.rfind("azureml:/s", 0) == 0 ? t.substr(8) : t;
  std::string r = t.rfind("azureml:", 0) == 0 ? t.substr(8) : t;
  auto colon = r.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == r.size() || r.find('/') != std::string::npos)
    throw UsageError("--model '" + text +
                     "' is not NAME:VERSION, azureml:NAME:VERSION or azureml://registries/R/models/N/versions/V");
  return spec::asset_id(workspace_id, "models", "azureml:" + r);
}

namespace {

// Unknown keys of a mapping: an error at the key, with the closest known one.
void known_keys(const yaml::Document& d, const YAML::Node& map, const std::vector<std::string_view>& known,
                const std::string& what) {
  for (auto kv : map) {
    std::string k = yaml::scalar(kv.first);
    if (std::find(known.begin(), known.end(), k) != known.end()) continue;
    std::string near = str::closest(k, known);
    d.fail(kv.first, "unknown key '" + k + "' in " + what + (near.empty() ? "" : "; did you mean '" + near + "'?"));
  }
}

YAML::Node root_map(const yaml::Document& d, const std::string& what) {
  if (!d.root || !d.root.IsMap()) d.fail(d.root, "a " + what + " YAML must be a mapping");
  return d.root;
}

std::map<std::string, std::string> string_map(const yaml::Document& d, const YAML::Node& map, const std::string& key) {
  std::map<std::string, std::string> out;
  YAML::Node n = map[key];
  if (!n || n.IsNull()) return out;
  if (!n.IsMap()) d.fail(n, "'" + key + "' must be a mapping");
  for (auto kv : n) {
    if (!kv.second.IsScalar() && !kv.second.IsNull())
      d.fail(kv.second, "'" + key + "." + yaml::scalar(kv.first) + "' must be a scalar");
    out[yaml::scalar(kv.first)] = yaml::scalar(kv.second);
  }
  return out;
}

int64_t integer(const yaml::Document& d, const YAML::Node& map, const std::string& key, int64_t min, int64_t max) {
  auto v = d.opt_number(map, key);
  if (!v || *v != std::floor(*v) || *v < static_cast<double>(min) || *v > static_cast<double>(max))
    d.fail(map[key], "'" + key + "' must be a whole number from " + std::to_string(min) + " to " + std::to_string(max) +
                         ", got '" + yaml::scalar(map[key]) + "'");
  return static_cast<int64_t>(*v);
}

std::string name_of(const yaml::Document& d, const YAML::Node& root, const std::string& what) {
  std::string name = d.get_string(root, "name");
  if (!valid_name(name))
    d.fail(root["name"],
           "the " + what + " name '" + name + "' must be 3-32 characters: a letter, then letters, digits or '-'");
  return name;
}

// A traffic map (name: percent), each 0..100.
std::map<std::string, int> traffic_map(const yaml::Document& d, const YAML::Node& n, const std::string& key) {
  std::map<std::string, int> out;
  if (!n || n.IsNull()) return out;
  if (!n.IsMap()) d.fail(n, "'" + key + "' must be a mapping of deployment name to percent");
  for (auto kv : n) out[yaml::scalar(kv.first)] = static_cast<int>(integer(d, n, yaml::scalar(kv.first), 0, 100));
  return out;
}

}  // namespace

EndpointSpec load_endpoint_text(const std::string& text, const std::string& source) {
  yaml::Document d = yaml::load_string(text, source, {yaml::kMaxDocumentBytes, yaml::kMaxAliasNodes, true});
  YAML::Node root = root_map(d, "online endpoint");
  known_keys(d, root,
             {"$schema", "name", "description", "tags", "auth_mode", "identity", "traffic", "mirror_traffic",
              "public_network_access", "kind", "compute"},
             "an online endpoint");
  EndpointSpec s;
  s.file = source;
  s.name = name_of(d, root, "endpoint");
  s.description = d.opt_string(root, "description").value_or("");
  s.tags = string_map(d, root, "tags");
  if (auto a = d.opt_string(root, "auth_mode")) {
    std::string l = str::to_lower(*a);
    if (l == "key")
      s.auth = AuthMode::key;
    else if (l == "aml_token" || l == "amltoken")
      s.auth = AuthMode::aml_token;
    else if (l == "aad_token" || l == "aadtoken")
      s.auth = AuthMode::aad_token;
    else
      d.fail(root["auth_mode"], "'auth_mode' must be key, aml_token or aad_token, got '" + *a + "'");
  }
  if (YAML::Node id = root["identity"]; id && !id.IsNull()) {
    if (!id.IsMap()) d.fail(id, "'identity' must be a mapping");
    std::string t = str::to_lower(d.get_string(id, "type"));
    if (t == "system_assigned")
      s.identity_type = "SystemAssigned";
    else if (t == "user_assigned")
      s.identity_type = "UserAssigned";
    else if (t == "none")
      s.identity_type = "None";
    else
      d.fail(id["type"], "'identity.type' must be system_assigned, user_assigned or none");
    if (s.identity_type == "UserAssigned")
      d.fail(id, "user-assigned identities are not supported by amlops-deploy; use system_assigned");
  }
  if (auto p = d.opt_string(root, "public_network_access")) {
    std::string l = str::to_lower(*p);
    if (l != "enabled" && l != "disabled")
      d.fail(root["public_network_access"], "'public_network_access' must be enabled or disabled");
    s.public_network_access = l == "enabled" ? "Enabled" : "Disabled";
  }
  if (auto k = d.opt_string(root, "kind"); k && str::to_lower(*k) != "managed")
    d.fail(root["kind"], "only managed online endpoints are supported (kind: managed)");
  s.yaml_traffic = traffic_map(d, root["traffic"], "traffic");
  if (root["traffic"]) s.traffic_at = d.at(root["traffic"]);
  traffic_map(d, root["mirror_traffic"], "mirror_traffic");
  return s;
}

EndpointSpec load_endpoint(const fs::path& file) {
  if (!fs::exists(file)) throw UsageError("--endpoint " + file.string() + " does not exist");
  return load_endpoint_text(files::read_bounded(file, yaml::kMaxDocumentBytes), file.string());
}

namespace {

json::Value probe(const yaml::Document& d, const YAML::Node& n, const std::string& key, json::Builder& b) {
  if (!n.IsMap()) d.fail(n, "'" + key + "' must be a mapping");
  known_keys(d, n, {"initial_delay", "period", "timeout", "failure_threshold", "success_threshold"}, "'" + key + "'");
  json::Value p = b.obj();
  for (auto [yk, rk] : {std::pair{"initial_delay", "initialDelay"}, {"period", "period"}, {"timeout", "timeout"}})
    if (n[yk]) b.set(p, rk, iso_millis(integer(d, n, yk, 0, 86400) * 1000));
  for (auto [yk, rk] : {std::pair{"failure_threshold", "failureThreshold"}, {"success_threshold", "successThreshold"}})
    if (n[yk]) b.set(p, rk, integer(d, n, yk, 1, 10000));
  return p;
}

}  // namespace

DeploymentSpec load_deployment_text(const std::string& text, const std::string& source, const fs::path& base_dir,
                                    const std::string& workspace_id) {
  yaml::Document d = yaml::load_string(text, source, {yaml::kMaxDocumentBytes, yaml::kMaxAliasNodes, true});
  YAML::Node root = root_map(d, "online deployment");
  known_keys(d, root,
             {"$schema",
              "name",
              "endpoint_name",
              "description",
              "tags",
              "model",
              "code_configuration",
              "environment",
              "instance_type",
              "instance_count",
              "request_settings",
              "liveness_probe",
              "readiness_probe",
              "environment_variables",
              "app_insights_enabled",
              "data_collector",
              "scale_settings",
              "type",
              "egress_public_network_access",
              "model_mount_path",
              "properties"},
             "a managed online deployment");
  DeploymentSpec s;
  s.file = source;
  s.name = name_of(d, root, "deployment");
  s.endpoint_name = d.get_string(root, "endpoint_name");
  s.endpoint_name_at = d.at(root["endpoint_name"]);
  if (auto t = d.opt_string(root, "type"); t && str::to_lower(*t) != "managed")
    d.fail(root["type"], "only managed online deployments are supported (type: managed)");

  json::Document& body = s.body;
  body.SetObject();
  json::Builder b(body.GetAllocator());
  json::Value props = b.obj();
  b.set(props, "endpointComputeType", "Managed");
  if (auto v = d.opt_string(root, "description")) b.set(props, "description", *v);

  if (YAML::Node m = root["model"]; m && !m.IsNull()) {
    if (!m.IsScalar())
      d.fail(m, "'model' must be azureml:NAME:VERSION or a registry model id (inline models are not supported)");
    s.model_at = d.at(m);
    try {
      s.model = model_id(workspace_id, m.Scalar());
    } catch (const UsageError&) {
      d.fail(m, "'model' must be azureml:NAME:VERSION or azureml://registries/R/models/N/versions/V, got '" +
                    m.Scalar() + "'");
    }
    b.set(props, "model", s.model);
  }

  if (YAML::Node c = root["code_configuration"]; c && !c.IsNull()) {
    if (!c.IsMap()) d.fail(c, "'code_configuration' must be a mapping with 'code' and 'scoring_script'");
    known_keys(d, c, {"code", "scoring_script"}, "'code_configuration'");
    std::string code = d.get_string(c, "code");
    s.scoring_script = d.get_string(c, "scoring_script");
    if (code.rfind("azureml:", 0) == 0) {
      s.code_id = spec::asset_id(workspace_id, "codes", code);
    } else if (auto local = spec::local_path(code)) {
      fs::path p = fs::path(*local).is_absolute() ? fs::path(*local) : base_dir / *local;
      if (!fs::is_directory(p))
        d.fail(c["code"], "code folder '" + code + "' does not exist (resolved to " + p.string() + ")");
      p = fs::weakly_canonical(p);
      if (!fs::exists(p / s.scoring_script))
        d.fail(c["scoring_script"], "scoring script '" + s.scoring_script + "' is not in " + p.string());
      s.code_dir = p;
    } else {
      d.fail(c["code"], "'code' must be a local folder or azureml:NAME:VERSION");
    }
    json::Value cc = b.obj();
    b.set(cc, "codeId", s.code_id.empty() ? std::string("pending:code") : s.code_id);
    b.set(cc, "scoringScript", s.scoring_script);
    b.set(props, "codeConfiguration", std::move(cc));
  }

  if (YAML::Node e = root["environment"]; e && !e.IsNull()) {
    if (!e.IsScalar())
      d.fail(e, "'environment' must be azureml:NAME:VERSION, azureml:NAME@latest or an environment YAML file");
    std::string ref = e.Scalar();
    if (ref.rfind("azureml:", 0) == 0) {
      s.environment = spec::asset_id(workspace_id, "environments", ref);
    } else if (auto local = spec::local_path(ref)) {
      fs::path p = fs::path(*local).is_absolute() ? fs::path(*local) : base_dir / *local;
      if (!fs::is_regular_file(p)) d.fail(e, "environment file '" + ref + "' does not exist");
      s.environment_file = p;
    } else {
      d.fail(e, "'environment' must be azureml:NAME:VERSION, azureml:NAME@latest or an environment YAML file");
    }
    b.set(props, "environmentId",
          s.environment.empty() || s.environment.rfind("azureml:", 0) == 0 ? std::string("pending:environment")
                                                                           : s.environment);
  }

  if (auto t = d.opt_string(root, "instance_type")) b.set(props, "instanceType", *t);
  int64_t count = root["instance_count"] ? integer(d, root, "instance_count", 1, 1000) : 1;
  json::Value sku = b.obj();
  b.set(sku, "name", "Default");
  b.set(sku, "capacity", count);
  b.set(body, "sku", std::move(sku));
  json::Value scale = b.obj();
  b.set(scale, "scaleType", "Default");
  b.set(props, "scaleSettings", std::move(scale));

  if (YAML::Node r = root["request_settings"]; r && !r.IsNull()) {
    if (!r.IsMap()) d.fail(r, "'request_settings' must be a mapping");
    known_keys(d, r, {"request_timeout_ms", "max_concurrent_requests_per_instance", "max_queue_wait_ms"},
               "'request_settings'");
    json::Value rs = b.obj();
    if (r["request_timeout_ms"])
      b.set(rs, "requestTimeout", iso_millis(integer(d, r, "request_timeout_ms", 1, 180000)));
    if (r["max_concurrent_requests_per_instance"])
      b.set(rs, "maxConcurrentRequestsPerInstance", integer(d, r, "max_concurrent_requests_per_instance", 1, 1000));
    if (r["max_queue_wait_ms"]) b.set(rs, "maxQueueWait", iso_millis(integer(d, r, "max_queue_wait_ms", 0, 180000)));
    b.set(props, "requestSettings", std::move(rs));
  }
  for (auto [yk, rk] : {std::pair{"liveness_probe", "livenessProbe"}, {"readiness_probe", "readinessProbe"}})
    if (YAML::Node p = root[yk]; p && !p.IsNull()) b.set(props, rk, probe(d, p, yk, b));

  auto env_vars = string_map(d, root, "environment_variables");
  if (!env_vars.empty()) {
    json::Value ev = b.obj();
    for (auto& [k, v] : env_vars) b.set(ev, k, v);
    b.set(props, "environmentVariables", std::move(ev));
  }
  if (auto ai = d.opt_bool(root, "app_insights_enabled")) b.set(props, "appInsightsEnabled", *ai);
  if (auto eg = d.opt_string(root, "egress_public_network_access"))
    b.set(props, "egressPublicNetworkAccess", str::iequals(*eg, "disabled") ? "Disabled" : "Enabled");

  if (YAML::Node dc = root["data_collector"]; dc && !dc.IsNull()) {
    if (!dc.IsMap()) d.fail(dc, "'data_collector' must be a mapping");
    known_keys(d, dc, {"sampling_rate", "rolling_rate", "collections", "request_logging"}, "'data_collector'");
    double rate = d.opt_number(dc, "sampling_rate").value_or(1.0);
    if (rate < 0 || rate > 1) d.fail(dc["sampling_rate"], "'sampling_rate' must be from 0 to 1");
    json::Value out = b.obj();
    json::Value cols = b.obj();
    YAML::Node c = dc["collections"];
    if (!c || !c.IsMap()) d.fail(c ? c : dc, "'data_collector' needs 'collections' (a mapping)");
    for (auto kv : c) {
      std::string name = yaml::scalar(kv.first);
      if (!kv.second.IsMap()) d.fail(kv.second, "collection '" + name + "' must be a mapping");
      known_keys(d, kv.second, {"enabled", "data", "client_id"}, "collection '" + name + "'");
      bool on = d.opt_bool(kv.second, "enabled").value_or(false);
      json::Value col = b.obj();
      b.set(col, "dataCollectionMode", on ? "Enabled" : "Disabled");
      b.set(col, "samplingRate", rate);
      if (auto id = d.opt_string(kv.second, "client_id")) b.set(col, "clientId", *id);
      b.set(cols, name, std::move(col));
    }
    b.set(out, "collections", std::move(cols));
    if (auto rr = d.opt_string(dc, "rolling_rate")) {
      static const std::vector<std::string> kRates = {"minute", "hour", "day", "month", "year"};
      std::string l = str::to_lower(*rr);
      if (std::find(kRates.begin(), kRates.end(), l) == kRates.end())
        d.fail(dc["rolling_rate"], "'rolling_rate' must be Minute, Hour, Day, Month or Year");
      l[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(l[0])));
      b.set(out, "rollingRate", l);
    }
    b.set(props, "dataCollector", std::move(out));
  }
  auto props_map = string_map(d, root, "properties");
  if (!props_map.empty()) {
    json::Value pm = b.obj();
    for (auto& [k, v] : props_map) b.set(pm, k, v);
    b.set(props, "properties", std::move(pm));
  }
  b.set(body, "properties", std::move(props));
  json::Value tags = b.obj();
  for (auto& [k, v] : string_map(d, root, "tags")) b.set(tags, k, v);
  b.set(body, "tags", std::move(tags));
  return s;
}

DeploymentSpec load_deployment(const fs::path& file, const std::string& workspace_id) {
  if (!fs::exists(file)) throw UsageError("--deployment " + file.string() + " does not exist");
  return load_deployment_text(files::read_bounded(file, yaml::kMaxDocumentBytes), file.string(),
                              fs::absolute(file).parent_path(), workspace_id);
}

}  // namespace amlops::deploy
