#include "local/config.hpp"

#include <cstdlib>

#include "core/error.hpp"
#include "core/yaml.hpp"

namespace amlops::local {

namespace fs = std::filesystem;

namespace {
void load_storage(const yaml::Document& doc, const YAML::Node& node, Config& cfg) {
  if (!node.IsMap()) doc.fail(node, "storage: expected {blob_endpoint: URL, account: NAME, key: KEY | key_env: VAR}");
  ExternalStorage s;
  std::string key_env;
  for (auto f = node.begin(); f != node.end(); ++f) {
    auto key = yaml::scalar(f->first);
    if (key == "blob_endpoint")
      s.endpoint = yaml::scalar(f->second);
    else if (key == "account")
      s.account = yaml::scalar(f->second);
    else if (key == "key")
      s.key = yaml::scalar(f->second);
    else if (key == "key_env")
      key_env = yaml::scalar(f->second);
    else
      doc.fail(f->first, "storage: unknown key '" + key + "' (expected blob_endpoint, account, key, key_env)");
  }
  while (!s.endpoint.empty() && s.endpoint.back() == '/') s.endpoint.pop_back();
  if (s.endpoint.rfind("http://", 0) != 0 && s.endpoint.rfind("https://", 0) != 0)
    doc.fail(node, "storage: blob_endpoint must be an http:// or https:// URL");
  if (s.account.empty()) doc.fail(node, "storage: account is required");
  if (!key_env.empty()) {
    if (!s.key.empty()) doc.fail(node, "storage: give key or key_env, not both");
    const char* v = std::getenv(key_env.c_str());
    if (!v || !*v) doc.fail(node, "storage: key_env names " + key_env + ", which is not set");
    s.key = v;
  }
  if (s.key.empty()) doc.fail(node, "storage: key or key_env is required");
  cfg.storage = std::move(s);
}
}  // namespace

void load_config_file(const fs::path& file, Config& cfg) {
  auto doc = yaml::load_file(file);
  if (auto st = doc.root["storage"]) load_storage(doc, st, cfg);
  auto envs = doc.root["environments"];
  if (!envs) return;
  if (!envs.IsMap()) doc.fail(envs, "environments: expected a mapping of environment name -> {path, python}");
  for (auto it = envs.begin(); it != envs.end(); ++it) {
    EnvironmentMapping m;
    std::string name = yaml::scalar(it->first);
    auto v = it->second;
    if (v.IsScalar()) {
      m.python = yaml::scalar(v);
    } else if (v.IsMap()) {
      for (auto f = v.begin(); f != v.end(); ++f) {
        auto key = yaml::scalar(f->first);
        if (key == "path")
          m.path_prefix = yaml::scalar(f->second);
        else if (key == "python")
          m.python = yaml::scalar(f->second);
        else
          doc.fail(f->first, "environments." + name + ": unknown key '" + key + "' (expected path, python)");
      }
    } else {
      doc.fail(v, "environments." + name + ": expected {path: DIR, python: FILE}");
    }
    cfg.environments[name] = m;
  }
}

}  // namespace amlops::local
