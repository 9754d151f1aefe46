// Readers of the CLI v2 YAML kinds setup applies, and their validation (no request is made).
#include <algorithm>
#include <map>
#include <regex>
#include <set>

#include "core/files.hpp"
#include "core/hash.hpp"
#include "core/strings.hpp"
#include "core/yaml.hpp"
#include "setup/setup.hpp"
#include "spec/code_asset.hpp"
#include "spec/refs.hpp"

namespace amlops::setup {
namespace fs = std::filesystem;

const char* kind_name(Kind k) {
  switch (k) {
    case Kind::datastore:
      return "datastore";
    case Kind::data:
      return "data";
    case Kind::environment:
      return "environment";
    case Kind::component:
      return "component";
    case Kind::compute:
      return "compute";
    case Kind::schedule:
      return "schedule";
  }
  return "";
}

const char* collection(Kind k) {
  switch (k) {
    case Kind::datastore:
      return "datastores";
    case Kind::data:
      return "data";
    case Kind::environment:
      return "environments";
    case Kind::component:
      return "components";
    case Kind::compute:
      return "computes";
    case Kind::schedule:
      return "schedules";
  }
  return "";
}

bool versioned(Kind k) { return k == Kind::data || k == Kind::environment || k == Kind::component; }

namespace {

std::string hash32(const std::string& text) { return hash::sha256_hex(text).substr(0, 32); }

bool schema_is(const YAML::Node& root, const char* name) {
  YAML::Node s = root["$schema"];
  return s && s.IsScalar() && str::to_lower(s.Scalar()).find(str::to_lower(name)) != std::string::npos;
}

// The kind of a document, from its $schema or its type; nullopt for documents setup does not apply
// (jobs, conda files, endpoints).
std::optional<Kind> kind_of(const yaml::Document& doc) {
  const YAML::Node& r = doc.root;
  if (!r.IsMap()) return std::nullopt;
  if (schema_is(r, "amlCompute.schema")) return Kind::compute;
  if (schema_is(r, "azureBlob.schema") || schema_is(r, "azureDataLakeGen2.schema")) return Kind::datastore;
  if (schema_is(r, "/data.schema")) return Kind::data;
  if (schema_is(r, "/environment.schema")) return Kind::environment;
  if (schema_is(r, "commandComponent.schema")) return Kind::component;
  if (schema_is(r, "schedule.schema")) return Kind::schedule;
  if (r["$schema"]) return std::nullopt;  // another schema: a job, an endpoint, ...
  std::string type = r["type"] && r["type"].IsScalar() ? str::to_lower(r["type"].Scalar()) : "";
  if (type == "amlcompute") return Kind::compute;
  if (type == "azure_blob" || type == "azure_data_lake_gen2") return Kind::datastore;
  if (type == "uri_file" || type == "uri_folder" || type == "mltable") return Kind::data;
  if (type.empty() && r["trigger"] && r["create_job"]) return Kind::schedule;
  if (type.empty() && r["name"] && (r["image"] || r["build"]) && !r["channels"]) return Kind::environment;
  return std::nullopt;
}

// Keys a document of a kind may have; anything else is a mistake worth naming.
void check_keys(const yaml::Document& doc, const YAML::Node& map, const std::set<std::string>& allowed,
                const std::string& what) {
  for (const auto& kv : map) {
    std::string k = kv.first.Scalar();
    if (allowed.count(k)) continue;
    std::vector<std::string_view> names(allowed.begin(), allowed.end());
    std::string near = str::closest(k, names);
    doc.fail(kv.first, "unknown key '" + k + "' in " + what + (near.empty() ? "" : "; did you mean '" + near + "'?"));
  }
}

std::string name_of(const yaml::Document& doc, const std::string& what) {
  YAML::Node n = doc.root["name"];
  if (!n || !n.IsScalar() || n.Scalar().empty()) doc.fail(n ? n : doc.root, what + " needs a 'name'");
  if (!spec::valid_asset_name(n.Scalar()))
    doc.fail(n, "name '" + n.Scalar() + "' may hold only letters, digits, '-', '_' and '.'");
  return n.Scalar();
}

json::Value string_map(const yaml::Document& doc, const YAML::Node& root, const char* key, json::Builder& b) {
  json::Value o = b.obj();
  YAML::Node m = root[key];
  if (!m || m.IsNull()) return o;
  if (!m.IsMap()) doc.fail(m, std::string("'") + key + "' must be a mapping");
  for (const auto& kv : m) {
    if (!kv.second.IsScalar() && !kv.second.IsNull())
      doc.fail(kv.second, std::string(key) + "." + kv.first.Scalar() + " must be a scalar");
    if (str::to_lower(kv.first.Scalar()).rfind("amlops.", 0) == 0)
      doc.fail(kv.first, "tags starting with 'amlops.' are written by amlops-setup");
    b.set(o, kv.first.Scalar(), yaml::scalar(kv.second));
  }
  return o;
}

int64_t integer(const yaml::Document& doc, const YAML::Node& map, const char* key, int64_t fallback, int64_t min,
                int64_t max) {
  YAML::Node n = map[key];
  if (!n || n.IsNull()) return fallback;
  auto v = n.IsScalar() ? str::parse_int(n.Scalar()) : std::nullopt;
  if (!v || *v < min || *v > max)
    doc.fail(n, std::string("'") + key + "' must be a whole number from " + std::to_string(min) + " to " +
                    std::to_string(max));
  return *v;
}

fs::path resolve_path(const fs::path& base, std::string p) {
  if (p.rfind("file:", 0) == 0) p = p.substr(5);
  fs::path path(p);
  if (path.is_relative()) path = base / path;
  return path.lexically_normal();
}

bool remote_uri(const std::string& p) {
  for (const char* s : {"azureml:", "https://", "http://", "wasbs://", "wasb://", "abfss://", "abfs://", "adl://"})
    if (p.rfind(s, 0) == 0) return true;
  return false;
}

// ---------------------------------------------------------------------------------------------
// compute

void read_compute(const yaml::Document& doc, Resource& r) {
  const YAML::Node& root = doc.root;
  check_keys(doc, root,
             {"$schema", "name", "type", "description", "size", "tier", "min_instances", "max_instances",
              "idle_time_before_scale_down", "identity", "tags", "location", "ssh_public_access_enabled",
              "enable_node_public_ip"},
             "an amlcompute YAML");
  std::string type = str::to_lower(doc.opt_string(root, "type").value_or("amlcompute"));
  if (type != "amlcompute")
    doc.fail(root["type"], "compute type '" + type + "' is not supported (supported: amlcompute)");
  std::string size = doc.opt_string(root, "size").value_or("Standard_DS3_v2");
  std::string near;
  if (!known_vm_size(size, &near))
    doc.fail(root["size"],
             "unknown compute size '" + size + "'" + (near.empty() ? "" : "; did you mean '" + near + "'?"));
  std::string tier = str::to_lower(doc.opt_string(root, "tier").value_or("dedicated"));
  if (tier != "dedicated" && tier != "low_priority") doc.fail(root["tier"], "tier must be dedicated or low_priority");
  int64_t min = integer(doc, root, "min_instances", 0, 0, 10000);
  int64_t max = integer(doc, root, "max_instances", 1, 1, 10000);
  if (min > max)
    doc.fail(root["min_instances"],
             "min_instances (" + std::to_string(min) + ") exceeds max_instances (" + std::to_string(max) + ")");
  int64_t idle = integer(doc, root, "idle_time_before_scale_down", 120, 0, 31 * 86400);

  json::Builder b(r.body.GetAllocator());
  json::Value props = b.obj();
  b.set(props, "computeType", "AmlCompute");
  if (auto d = doc.opt_string(root, "description")) b.set(props, "description", *d);
  json::Value inner = b.obj();
  b.set(inner, "vmSize", size);
  b.set(inner, "vmPriority", tier == "dedicated" ? "Dedicated" : "LowPriority");
  json::Value scale = b.obj();
  b.set(scale, "minNodeCount", min);
  b.set(scale, "maxNodeCount", max);
  b.set(scale, "nodeIdleTimeBeforeScaleDown", iso8601_duration(std::chrono::seconds(idle)));
  b.set(inner, "scaleSettings", std::move(scale));
  if (auto v = doc.opt_bool(root, "enable_node_public_ip")) b.set(inner, "enableNodePublicIp", *v);
  if (auto v = doc.opt_bool(root, "ssh_public_access_enabled"))
    b.set(inner, "remoteLoginPortPublicAccess", *v ? "Enabled" : "Disabled");
  b.set(props, "properties", std::move(inner));
  b.set(r.body, "properties", std::move(props));
  if (auto l = doc.opt_string(root, "location")) b.set(r.body, "location", *l);
  YAML::Node id = root["identity"];
  if (id && !id.IsNull()) {
    if (!id.IsMap()) doc.fail(id, "'identity' must be a mapping with 'type'");
    std::string t = str::to_lower(doc.get_string(id, "type"));
    json::Value o = b.obj();
    if (t == "system_assigned") {
      b.set(o, "type", "SystemAssigned");
    } else if (t == "user_assigned") {
      b.set(o, "type", "UserAssigned");
      YAML::Node ids = id["user_assigned_identities"];
      if (!ids || !ids.IsSequence() || ids.size() == 0)
        doc.fail(ids ? ids : id, "identity user_assigned needs 'user_assigned_identities' (a list of resource_id)");
      json::Value m = b.obj();
      for (const auto& e : ids) {
        if (!e.IsMap()) doc.fail(e, "each user-assigned identity is a mapping with 'resource_id'");
        b.set(m, doc.get_string(e, "resource_id"), b.obj());
      }
      b.set(o, "userAssignedIdentities", std::move(m));
    } else {
      doc.fail(id["type"], "identity.type must be system_assigned or user_assigned");
    }
    b.set(r.body, "identity", std::move(o));
  }
  b.set(r.body, "tags", string_map(doc, root, "tags", b));
}

// ---------------------------------------------------------------------------------------------
// datastores

// "${{env.NAME}}" (spaces allowed inside the braces) -> NAME.
std::optional<std::string> env_reference(const std::string& v) {
  static const std::regex kEnv(R"(^\$\{\{\s*env\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}$)");
  std::smatch m;
  if (std::regex_match(v, m, kEnv)) return m[1].str();
  return std::nullopt;
}

void read_datastore(const yaml::Document& doc, Resource& r, const Env& env, const LoadOptions& opts) {
  const YAML::Node& root = doc.root;
  std::string type = str::to_lower(doc.get_string(root, "type"));
  bool blob = type == "azure_blob";
  check_keys(doc, root,
             blob ? std::set<std::string>{"$schema", "name", "type", "description", "account_name", "container_name",
                                          "endpoint", "protocol", "credentials", "tags"}
                  : std::set<std::string>{"$schema", "name", "type", "description", "account_name", "filesystem",
                                          "endpoint", "protocol", "credentials", "tags"},
             "an " + type + " datastore YAML");
  json::Builder b(r.body.GetAllocator());
  json::Value props = b.obj();
  b.set(props, "datastoreType", blob ? "AzureBlob" : "AzureDataLakeGen2");
  b.set(props, "accountName", doc.get_string(root, "account_name"));
  if (blob)
    b.set(props, "containerName", doc.get_string(root, "container_name"));
  else
    b.set(props, "filesystem", doc.get_string(root, "filesystem"));
  b.set(props, "endpoint", doc.opt_string(root, "endpoint").value_or("core.windows.net"));
  b.set(props, "protocol", doc.opt_string(root, "protocol").value_or("https"));
  if (auto d = doc.opt_string(root, "description")) b.set(props, "description", *d);
  b.set(props, "tags", string_map(doc, root, "tags", b));

  json::Value cred = b.obj();
  YAML::Node c = root["credentials"];
  std::string env_names;  // part of the fingerprint: a change of variable is a change
  auto secret = [&](const char* key, const std::string& pointer) {
    YAML::Node n = c[key];
    std::string v = n.IsScalar() ? n.Scalar() : "";
    auto var = env_reference(v);
    if (!var)
      doc.fail(n, std::string("credentials.") + key +
                      ": a secret written in the YAML is refused (it would be committed with the file); write "
                      "${{env.VARIABLE}} and set VARIABLE in the environment, or leave 'credentials' out to use the "
                      "workspace's identity");
    if (opts.require_secrets && !env.nonempty(*var))
      doc.fail(n, std::string("credentials.") + key + ": environment variable " + *var + " is not set");
    r.secrets.push_back({pointer, *var, doc.at(n)});
    env_names += std::string(key) + "=" + *var + ";";
  };
  if (!c || c.IsNull()) {
    b.set(cred, "credentialsType", "None");
  } else {
    if (!c.IsMap()) doc.fail(c, "'credentials' must be a mapping");
    if (blob) {
      check_keys(doc, c, {"account_key", "sas_token"}, "azure_blob credentials");
      if (c["account_key"] && c["sas_token"]) doc.fail(c, "give account_key or sas_token, not both");
      json::Value secrets = b.obj();
      if (c["account_key"]) {
        b.set(cred, "credentialsType", "AccountKey");
        b.set(secrets, "secretsType", "AccountKey");
        secret("account_key", "/properties/credentials/secrets/key");
      } else if (c["sas_token"]) {
        b.set(cred, "credentialsType", "Sas");
        b.set(secrets, "secretsType", "Sas");
        secret("sas_token", "/properties/credentials/secrets/sasToken");
      } else {
        doc.fail(c, "credentials need account_key or sas_token (or leave 'credentials' out for identity access)");
      }
      b.set(cred, "secrets", std::move(secrets));
    } else {
      check_keys(doc, c, {"tenant_id", "client_id", "client_secret", "authority_url", "resource_url"},
                 "azure_data_lake_gen2 credentials");
      b.set(cred, "credentialsType", "ServicePrincipal");
      b.set(cred, "tenantId", doc.get_string(c, "tenant_id"));
      b.set(cred, "clientId", doc.get_string(c, "client_id"));
      if (auto v = doc.opt_string(c, "authority_url")) b.set(cred, "authorityUrl", *v);
      if (auto v = doc.opt_string(c, "resource_url")) b.set(cred, "resourceUrl", *v);
      if (!c["client_secret"]) doc.fail(c, "service principal credentials need client_secret: ${{env.VARIABLE}}");
      json::Value secrets = b.obj();
      b.set(secrets, "secretsType", "ServicePrincipal");
      b.set(cred, "secrets", std::move(secrets));
      secret("client_secret", "/properties/credentials/secrets/clientSecret");
    }
  }
  b.set(props, "credentials", std::move(cred));
  b.set(r.body, "properties", std::move(props));
  r.fingerprint = hash32(json::dump(r.body) + env_names);
}

// ---------------------------------------------------------------------------------------------
// data assets

void read_data(const yaml::Document& doc, Resource& r, const fs::path& base) {
  const YAML::Node& root = doc.root;
  check_keys(doc, root, {"$schema", "name", "version", "type", "path", "description", "tags", "properties"},
             "a data asset YAML");
  std::string type = str::to_lower(doc.opt_string(root, "type").value_or("uri_folder"));
  if (type != "uri_file" && type != "uri_folder" && type != "mltable")
    doc.fail(root["type"], "data type '" + type + "' is not supported (supported: uri_file, uri_folder, mltable)");
  YAML::Node pn = root["path"];
  std::string p = doc.get_string(root, "path");
  std::string content;
  if (remote_uri(p)) {
    if (p.rfind("azureml:", 0) == 0 && p.rfind("azureml://", 0) != 0)
      doc.fail(pn, "path '" + p + "' names an asset; a data asset's path is a file, a folder or a URI");
    content = "uri:" + p;
    json::Builder b(r.body.GetAllocator());
    json::Value props = b.obj();
    b.set(props, "dataUri", p);
    b.set(r.body, "properties", std::move(props));
  } else {
    fs::path local = resolve_path(base, p);
    std::error_code ec;
    if (!fs::exists(local, ec)) doc.fail(pn, "path " + local.string() + " does not exist");
    if (type == "uri_file" && !fs::is_regular_file(local, ec))
      doc.fail(pn, "path " + local.string() + " is not a file (type uri_file)");
    if (type != "uri_file" && !fs::is_directory(local, ec))
      doc.fail(pn, "path " + local.string() + " is not a folder (type " + type + ")");
    if (type == "mltable" && !fs::is_regular_file(local / "MLTable", ec))
      doc.fail(pn, "folder " + local.string() + " has no MLTable file (type mltable)");
    auto files = spec::collect_code_files(local);
    if (files.empty()) doc.fail(pn, "folder " + local.string() + " has no files");
    content = "local:" + spec::content_hash(files);
    r.local = local;
    r.body.SetObject();
  }
  json::Builder b(r.body.GetAllocator());
  if (!r.body.HasMember("properties")) b.set(r.body, "properties", b.obj());
  json::Value& props = r.body["properties"];
  b.set(props, "dataType", type);
  if (auto d = doc.opt_string(root, "description")) b.set(props, "description", *d);
  b.set(props, "tags", string_map(doc, root, "tags", b));
  b.set(props, "properties", string_map(doc, root, "properties", b));
  b.set(props, "isAnonymous", false);
  r.fingerprint = hash32(type + "\n" + content);
}

// ---------------------------------------------------------------------------------------------
// environments

void read_environment(const yaml::Document& doc, Resource& r, const fs::path& file) {
  check_keys(doc, doc.root,
             {"$schema", "name", "version", "image", "conda_file", "build", "description", "tags", "os_type",
              "inference_config"},
             "an environment YAML");
  if (doc.root["build"])
    doc.fail(doc.root["build"],
             "environments with a docker build context are not supported by amlops-setup: build the image in CI, "
             "push it to the workspace's container registry and give 'image' (with conda_file if needed)");
  spec::EnvironmentSpec env = spec::load_environment(file);
  json::Value& props = env.body["properties"];
  json::Builder b(env.body.GetAllocator());
  if (props.HasMember("tags")) props.EraseMember("tags");
  b.set(props, "tags", string_map(doc, doc.root, "tags", b));
  b.set(props, "isAnonymous", false);
  // What makes a version: everything but the description and tags.
  json::Document basis;
  basis.CopyFrom(props, basis.GetAllocator());
  basis.EraseMember("description");
  basis.EraseMember("tags");
  r.fingerprint = hash32(json::dump(basis));
  r.body.CopyFrom(env.body, r.body.GetAllocator());
}

// ---------------------------------------------------------------------------------------------
// components

void read_component(const yaml::Document& doc, Resource& r, const fs::path& base) {
  const YAML::Node& root = doc.root;
  check_keys(doc, root,
             {"$schema", "name", "version", "display_name", "type", "description", "tags", "is_deterministic", "inputs",
              "outputs", "code", "environment", "command", "resources", "distribution", "environment_variables",
              "additional_includes"},
             "a command component YAML");
  std::string type = str::to_lower(doc.opt_string(root, "type").value_or("command"));
  if (type != "command") doc.fail(root["type"], "component type '" + type + "' is not supported (supported: command)");
  if (!root["command"] || !root["command"].IsScalar()) doc.fail(root, "a command component needs 'command'");
  YAML::Node e = root["environment"];
  if (!e || !e.IsScalar() || e.Scalar().rfind("azureml:", 0) != 0)
    doc.fail(e ? e : root,
             "a component's environment must be azureml:<name>:<version> (declare the environment in its own YAML "
             "in the folder applied)");
  if (root["additional_includes"]) doc.fail(root["additional_includes"], "additional_includes is not supported");
  json::Builder b(r.body.GetAllocator());
  json::Value spec = spec::yaml_to_json(root, b.allocator());
  for (const char* k : {"$schema", "version", "description", "tags"})
    if (spec.HasMember(k)) spec.EraseMember(k);
  b.set(spec, "type", "command");
  std::string code_hash;
  if (YAML::Node c = root["code"]; c && !c.IsNull()) {
    std::string ref = yaml::scalar(c);
    if (ref.rfind("azureml:", 0) != 0) {
      fs::path local = resolve_path(base, ref);
      std::error_code ec;
      if (!fs::is_directory(local, ec)) doc.fail(c, "code folder " + local.string() + " does not exist");
      auto files = spec::collect_code_files(local);
      if (files.empty()) doc.fail(c, "code folder " + local.string() + " has no files");
      code_hash = spec::content_hash(files);
      r.local = local;
      spec.EraseMember("code");
    }
  }
  r.fingerprint = hash32(json::dump(spec) + "\ncode:" + code_hash);
  json::Value props = b.obj();
  b.set(props, "componentSpec", std::move(spec));
  if (auto d = doc.opt_string(root, "description")) b.set(props, "description", *d);
  b.set(props, "tags", string_map(doc, root, "tags", b));
  b.set(props, "isAnonymous", false);
  b.set(r.body, "properties", std::move(props));
}

// ---------------------------------------------------------------------------------------------
// schedules

std::string title(std::string s) {
  s = str::to_lower(s);
  if (!s.empty()) s[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(s[0])));
  return s;
}

void check_time(const yaml::Document& doc, const YAML::Node& n, const char* key) {
  static const std::regex kTime(R"(^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$)");
  if (!std::regex_match(yaml::scalar(n), kTime))
    doc.fail(n, std::string(key) + " '" + yaml::scalar(n) +
                    "' is not a date-time (e.g. 2026-01-31T02:00:00, in the trigger's time_zone)");
}

json::Value int_list(const yaml::Document& doc, const YAML::Node& n, const char* key, int lo, int hi,
                     json::Builder& b) {
  json::Value a = b.arr();
  YAML::Node l = n[key];
  if (!l || l.IsNull()) return a;
  if (!l.IsSequence()) doc.fail(l, std::string("schedule.") + key + " must be a list");
  for (const auto& v : l) {
    auto i = v.IsScalar() ? str::parse_int(v.Scalar()) : std::nullopt;
    if (!i || *i < lo || *i > hi)
      doc.fail(v, std::string("schedule.") + key + " values are whole numbers from " + std::to_string(lo) + " to " +
                      std::to_string(hi));
    b.push(a, json::Value(static_cast<int64_t>(*i)));
  }
  return a;
}

json::Value trigger(const yaml::Document& doc, const YAML::Node& t, json::Builder& b) {
  if (!t || !t.IsMap()) doc.fail(t ? t : doc.root, "a schedule needs a 'trigger' mapping with 'type'");
  std::string type = str::to_lower(doc.get_string(t, "type"));
  json::Value o = b.obj();
  if (type == "cron") {
    check_keys(doc, t, {"type", "expression", "start_time", "end_time", "time_zone"}, "a cron trigger");
    std::string expr = doc.get_string(t, "expression");
    if (auto err = cron_error(expr)) doc.fail(t["expression"], "cron expression '" + expr + "': " + *err);
    b.set(o, "triggerType", "Cron");
    b.set(o, "expression", expr);
  } else if (type == "recurrence") {
    check_keys(doc, t, {"type", "frequency", "interval", "schedule", "start_time", "end_time", "time_zone"},
               "a recurrence trigger");
    std::string f = str::to_lower(doc.get_string(t, "frequency"));
    static const std::set<std::string> kFreq = {"minute", "hour", "day", "week", "month"};
    if (!kFreq.count(f)) doc.fail(t["frequency"], "frequency must be minute, hour, day, week or month");
    b.set(o, "triggerType", "Recurrence");
    b.set(o, "frequency", title(f));
    b.set(o, "interval", integer(doc, t, "interval", 1, 1, 1000));
    if (YAML::Node s = t["schedule"]; s && !s.IsNull()) {
      if (!s.IsMap()) doc.fail(s, "'schedule' must be a mapping (hours, minutes, week_days, month_days)");
      check_keys(doc, s, {"hours", "minutes", "week_days", "month_days"}, "a recurrence schedule");
      if (f == "minute" || f == "hour") doc.fail(s, "'schedule' applies to frequency day, week or month");
      json::Value so = b.obj();
      b.set(so, "hours", int_list(doc, s, "hours", 0, 23, b));
      b.set(so, "minutes", int_list(doc, s, "minutes", 0, 59, b));
      json::Value days = b.arr();
      if (YAML::Node wd = s["week_days"]; wd && !wd.IsNull()) {
        if (!wd.IsSequence()) doc.fail(wd, "schedule.week_days must be a list");
        static const std::set<std::string> kDays = {"monday", "tuesday",  "wednesday", "thursday",
                                                    "friday", "saturday", "sunday"};
        for (const auto& d : wd) {
          std::string day = str::to_lower(yaml::scalar(d));
          if (!kDays.count(day)) doc.fail(d, "'" + yaml::scalar(d) + "' is not a week day (monday ... sunday)");
          b.push(days, title(day));
        }
      }
      b.set(so, "weekDays", std::move(days));
      json::Value md = int_list(doc, s, "month_days", 1, 31, b);
      if (!md.Empty()) b.set(so, "monthDays", std::move(md));
      b.set(o, "schedule", std::move(so));
    }
  } else {
    doc.fail(t["type"], "trigger type must be cron or recurrence");
  }
  if (YAML::Node s = t["start_time"]; s && !s.IsNull()) {
    check_time(doc, s, "start_time");
    b.set(o, "startTime", yaml::scalar(s));
  }
  if (YAML::Node s = t["end_time"]; s && !s.IsNull()) {
    check_time(doc, s, "end_time");
    b.set(o, "endTime", yaml::scalar(s));
  }
  b.set(o, "timeZone", doc.opt_string(t, "time_zone").value_or("UTC"));
  return o;
}

// A fingerprint of a job spec from local content only (code folders and input paths hashed, as
// their upload would name them), so that the plan needs no upload to compare.
std::string job_fingerprint(const spec::JobSpec& job) {
  std::string basis = json::dump(job.body);
  for (auto& u : job.uploads)
    basis += "\nupload:" + u.target.pointer + "=" + spec::content_hash(spec::collect_code_files(u.path));
  for (auto& e : job.environments) basis += "\nenv:" + e.target.pointer + "=" + json::dump(e.env.body);
  for (auto& l : job.labels) basis += "\nlabel:" + l.target.pointer + "=" + l.kind + "/" + l.name + "@" + l.label;
  for (auto& c : job.components) basis += "\ncomponent:" + c.step + "=" + json::dump(c.body);
  return hash32(basis);
}

// Compute names an ARM id or azureml:<name> refers to, for the existence check.
void collect_computes(const json::Value& v, std::vector<std::string>& out) {
  if (v.IsObject()) {
    for (auto& m : v.GetObject()) {
      std::string k = m.name.GetString();
      if ((k == "computeId" || k == "compute" || k == "default_compute") && m.value.IsString()) {
        std::string id = m.value.GetString();
        auto pos = id.rfind("/computes/");
        if (pos != std::string::npos) out.push_back(id.substr(pos + 10));
      } else {
        collect_computes(m.value, out);
      }
    }
  } else if (v.IsArray()) {
    for (auto& e : v.GetArray()) collect_computes(e, out);
  }
}

void read_schedule(const yaml::Document& doc, Resource& r, const fs::path& base, const LoadOptions& opts) {
  const YAML::Node& root = doc.root;
  check_keys(
      doc, root,
      {"$schema", "name", "display_name", "description", "tags", "properties", "is_enabled", "trigger", "create_job"},
      "a schedule YAML");
  json::Builder b(r.body.GetAllocator());
  json::Value props = b.obj();
  if (auto v = doc.opt_string(root, "display_name")) b.set(props, "displayName", *v);
  if (auto v = doc.opt_string(root, "description")) b.set(props, "description", *v);
  b.set(props, "tags", string_map(doc, root, "tags", b));
  b.set(props, "properties", string_map(doc, root, "properties", b));
  b.set(props, "isEnabled", doc.opt_bool(root, "is_enabled").value_or(true));
  b.set(props, "trigger", trigger(doc, root["trigger"], b));
  YAML::Node cj = root["create_job"];
  if (!cj || cj.IsNull())
    doc.fail(root, "a schedule needs 'create_job' (a job YAML file; other actions are not supported)");
  spec::LoadOptions jo;
  jo.workspace_id = opts.workspace_id;
  if (cj.IsScalar()) {
    std::string ref = cj.Scalar();
    if (ref.rfind("azureml:", 0) == 0)
      doc.fail(cj, "create_job must name a job YAML file (a job in the workspace is not supported)");
    fs::path p = resolve_path(base, ref);
    std::error_code ec;
    if (!fs::is_regular_file(p, ec)) doc.fail(cj, "create_job: job YAML " + p.string() + " not found");
    r.job = spec::load_job(p, jo);
  } else if (cj.IsMap()) {
    if (cj["job"]) doc.fail(cj["job"], "create_job.job is not supported: give the job YAML's path as create_job");
    YAML::Emitter em;
    em << cj;
    r.job = spec::load_job_text(em.c_str(), doc.file + " (create_job)", base, jo);
  } else {
    doc.fail(cj, "create_job must be a job YAML path or an inline job");
  }
  r.job_fingerprint = job_fingerprint(*r.job);
  collect_computes(r.job->body, r.computes);
  json::Value action = b.obj();
  b.set(action, "actionType", "CreateJob");
  b.set(props, "action", std::move(action));
  b.set(r.body, "properties", std::move(props));
  r.fingerprint = hash32(json::dump(r.body) + "\njob:" + r.job_fingerprint);
}

std::vector<fs::path> yaml_files(const fs::path& p) {
  std::vector<fs::path> out;
  std::error_code ec;
  if (fs::is_regular_file(p, ec)) return {p};
  if (!fs::is_directory(p, ec)) throw UsageError("-f " + p.string() + " does not exist");
  for (auto it = fs::recursive_directory_iterator(p, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (it->is_directory() && !name.empty() && name[0] == '.') {
      it.disable_recursion_pending();
      continue;
    }
    std::string ext = it->path().extension().string();
    if (it->is_regular_file() && (ext == ".yml" || ext == ".yaml")) out.push_back(it->path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

std::optional<Resource> load_file(const fs::path& file, const Env& env, const LoadOptions& opts) {
  yaml::LoadOptions yo;
  yo.unique_keys = true;
  yaml::Document doc = yaml::load_file(file, yo);
  auto kind = kind_of(doc);
  if (!kind) return std::nullopt;
  Resource r;
  r.kind = *kind;
  r.file = file.string();
  r.body.SetObject();
  r.name = name_of(doc, std::string("a ") + kind_name(*kind) + " YAML");
  r.where = doc.at(doc.root["name"]);
  if (versioned(*kind)) {
    if (YAML::Node v = doc.root["version"]; v && !v.IsNull()) {
      static const std::regex kVersion("^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$");
      if (!v.IsScalar() || !std::regex_match(v.Scalar(), kVersion)) doc.fail(v, "'version' must be a version label");
      r.version = v.Scalar();
    }
  }
  fs::path base = fs::absolute(file).parent_path();
  switch (*kind) {
    case Kind::compute: {
      read_compute(doc, r);
      json::Document basis;
      basis.CopyFrom(r.body, basis.GetAllocator());
      r.fingerprint = hash32(json::dump(basis));
      break;
    }
    case Kind::datastore:
      read_datastore(doc, r, env, opts);
      break;
    case Kind::data:
      read_data(doc, r, base);
      break;
    case Kind::environment:
      read_environment(doc, r, file);
      break;
    case Kind::component:
      read_component(doc, r, base);
      break;
    case Kind::schedule:
      read_schedule(doc, r, base, opts);
      break;
  }
  return r;
}

std::vector<Resource> load(const std::vector<fs::path>& paths, const Env& env, const LoadOptions& opts) {
  if (paths.empty()) throw UsageError("give the YAML files or folders to apply with -f PATH");
  std::vector<Resource> out;
  std::map<std::string, SourceLocation> seen;
  for (auto& p : paths) {
    for (auto& f : yaml_files(p)) {
      auto r = load_file(f, env, opts);
      if (!r) continue;
      std::string key = std::string(kind_name(r->kind)) + "/" + r->name;
      if (auto it = seen.find(key); it != seen.end())
        throw ConfigError(r->where, r->label() + " is declared twice (first at " + it->second.str() + ")");
      seen[key] = r->where;
      out.push_back(std::move(*r));
    }
  }
  std::stable_sort(out.begin(), out.end(), [](const Resource& a, const Resource& b) { return a.kind < b.kind; });
  return out;
}

std::string environment_workspace(const fs::path& config, const std::string& env) {
  yaml::Document doc = yaml::load_file(config);
  YAML::Node envs = doc.root.IsMap() ? doc.root["environments"] : YAML::Node();
  if (!envs || !envs.IsMap()) doc.fail(doc.root, "no 'environments:' section (needed by --env " + env + ")");
  YAML::Node e = envs[env];
  if (!e) doc.fail(envs, "environment '" + env + "' is not in 'environments:'");
  if (!e.IsMap()) doc.fail(e, "environment '" + env + "' must be a mapping with 'workspace'");
  return doc.get_string(e, "workspace");
}

}  // namespace amlops::setup
