// The promotion policy: the `promotion:` and `environments:` sections of amlops.yml (or of a
// --policy file). Unknown keys, wrong types, an unknown goal and contradicting rules for one
// metric are ConfigError with file:line:col.
#pragma once
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/yaml.hpp"

namespace amlops::promote {

enum class Goal { maximize, minimize };

// How the champion is found in the target: a tag k=v, a fixed version, or an alias (the tag
// `alias=<name>`).
struct ChampionSelector {
  enum class Kind { tag, version, alias } kind = Kind::tag;
  std::string key = "stage";         // tag key (Kind::tag, Kind::alias)
  std::string value = "production";  // tag value, version, alias name
};

struct Primary {
  std::string metric;
  Goal goal = Goal::maximize;
  double min_improvement = 0;
};

struct Threshold {
  std::string metric;
  std::optional<double> min, max;
};

struct Policy {
  std::string model;  // may be empty: the candidate's name is used
  ChampionSelector champion;
  std::optional<Primary> primary;
  std::vector<Threshold> thresholds;  // one per metric (duplicates merged)
  std::vector<std::string> require_tags;
  bool promote_without_champion = true;  // on_no_champion: promote | block
  // `data:` data asset names that travel with the model: the versions its training job produced
  // are copied into the target environment's workspace and registered there (promotion.cpp).
  std::vector<std::string> data;
};

struct Environment {
  std::string name;
  std::string workspace;  // azureml://... or an ARM id
  std::string registry;   // empty: copy into the workspace
};

struct Config {
  Policy policy;
  std::map<std::string, Environment> environments;
  bool has_promotion = false;
};

// Reads `promotion:` and `environments:` of a YAML document (other sections are not looked at).
Config parse_config(const yaml::Document& doc);
Config load_config(const std::string& path);

std::string_view goal_name(Goal g);

}  // namespace amlops::promote
