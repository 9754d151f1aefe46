#include "local/config.hpp"

#include "core/error.hpp"
#include "core/yaml.hpp"

namespace amlops::local {

namespace fs = std::filesystem;

void load_config_file(const fs::path& file, Config& cfg) {
  auto doc = yaml::load_file(file);
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
