#include "promote/policy.hpp"

#include <algorithm>
#include <cmath>
#include <set>

#include "core/strings.hpp"
#include "promote/decision.hpp"

namespace amlops::promote {
namespace {

void only_keys(const yaml::Document& d, const YAML::Node& m, const std::string& where,
               const std::set<std::string>& known) {
  for (const auto& it : m) {
    std::string key = yaml::scalar(it.first);
    if (!known.count(key)) {
      std::string list;
      for (auto& k : known) list += (list.empty() ? "" : ", ") + k;
      d.fail(it.first, "unknown key '" + where + key + "' (expected " + list + ")");
    }
  }
}

void require_map(const yaml::Document& d, const YAML::Node& n, const std::string& what) {
  if (!n.IsMap()) d.fail(n, "'" + what + "' must be a map");
}

std::string scalar_of(const yaml::Document& d, const YAML::Node& m, const std::string& key, const std::string& what) {
  const YAML::Node n = m[key];
  if (!n.IsDefined()) d.fail(m, what + " must be a non-empty string");
  if (!n.IsScalar() || yaml::scalar(n).empty()) d.fail(n, what + " must be a non-empty string");
  return yaml::scalar(n);
}

ChampionSelector parse_champion(const yaml::Document& d, const YAML::Node& n) {
  require_map(d, n, "promotion.champion");
  only_keys(d, n, "promotion.champion.", {"tag", "version", "alias"});
  if (n.size() != 1) d.fail(n, "'promotion.champion' needs exactly one of tag, version, alias");
  ChampionSelector s;
  if (n["tag"]) {
    std::string t = scalar_of(d, n, "tag", "champion.tag");
    auto kv = str::split_key_value(t);
    if (!kv || kv->first.empty() || kv->second.empty())
      d.fail(n["tag"], "champion.tag must be KEY=VALUE, got '" + t + "'");
    s.kind = ChampionSelector::Kind::tag;
    s.key = kv->first;
    s.value = kv->second;
  } else if (n["version"]) {
    s.kind = ChampionSelector::Kind::version;
    s.key.clear();
    s.value = scalar_of(d, n, "version", "champion.version");
  } else {
    s.kind = ChampionSelector::Kind::alias;
    s.key = "alias";
    s.value = scalar_of(d, n, "alias", "champion.alias");
  }
  return s;
}

double finite(const yaml::Document& d, const YAML::Node& m, const std::string& key) {
  auto v = d.opt_number(m, key);
  if (!std::isfinite(*v)) d.fail(m[key], "'" + key + "' must be a finite number");
  return *v;
}

Primary parse_primary(const yaml::Document& d, const YAML::Node& n) {
  require_map(d, n, "promotion.primary");
  only_keys(d, n, "promotion.primary.", {"metric", "goal", "min_improvement"});
  Primary p;
  p.metric = scalar_of(d, n, "metric", "primary.metric");
  if (n["goal"]) {
    std::string g = scalar_of(d, n, "goal", "primary.goal");
    if (g == "maximize" || g == "max")
      p.goal = Goal::maximize;
    else if (g == "minimize" || g == "min")
      p.goal = Goal::minimize;
    else
      d.fail(n["goal"], "unknown goal '" + g + "' (expected maximize or minimize)");
  } else {
    d.fail(n, "'promotion.primary' needs a goal (maximize or minimize)");
  }
  if (n["min_improvement"]) {
    p.min_improvement = finite(d, n, "min_improvement");
    if (p.min_improvement < 0) d.fail(n["min_improvement"], "min_improvement must be >= 0");
  }
  return p;
}

void parse_thresholds(const yaml::Document& d, const YAML::Node& n, Policy& p) {
  if (!n.IsSequence()) d.fail(n, "'promotion.thresholds' must be a list of {metric, min, max}");
  std::map<std::string, size_t> seen;
  for (const auto& t : n) {
    require_map(d, t, "promotion.thresholds[]");
    only_keys(d, t, "promotion.thresholds[].", {"metric", "min", "max"});
    Threshold th;
    th.metric = scalar_of(d, t, "metric", "threshold metric");
    if (t["min"]) th.min = finite(d, t, "min");
    if (t["max"]) th.max = finite(d, t, "max");
    if (!th.min && !th.max) d.fail(t, "threshold for '" + th.metric + "' needs min and/or max");
    auto it = seen.find(th.metric);
    if (it != seen.end()) {
      Threshold& prev = p.thresholds[it->second];
      if ((th.min && prev.min && *th.min != *prev.min) || (th.max && prev.max && *th.max != *prev.max))
        d.fail(t, "metric '" + th.metric + "' is named twice with contradicting bounds");
      if (th.min) prev.min = th.min;
      if (th.max) prev.max = th.max;
      th = prev;
    } else {
      seen[th.metric] = p.thresholds.size();
      p.thresholds.push_back(th);
    }
    if (th.min && th.max && *th.min > *th.max)
      d.fail(t, "metric '" + th.metric + "': min " + format_number(*th.min) + " > max " + format_number(*th.max) +
                    " can never pass");
  }
  // A primary metric whose goal contradicts its only threshold (maximize with just a max, ...)
  // is allowed: a ceiling on a maximized metric is a legitimate sanity check.
}

}  // namespace

std::string_view goal_name(Goal g) { return g == Goal::maximize ? "maximize" : "minimize"; }

Config parse_config(const yaml::Document& d) {
  Config c;
  const YAML::Node& root = d.root;
  if (!root.IsDefined() || root.IsNull()) return c;
  if (!root.IsMap()) d.fail(root, "expected a map at the top of the file");
  if (const YAML::Node m = root["promotion"]; m.IsDefined() && !m.IsNull()) {
    c.has_promotion = true;
    require_map(d, m, "promotion");
    only_keys(d, m, "promotion.",
              {"model", "champion", "primary", "thresholds", "require_tags", "on_no_champion", "data"});
    Policy& p = c.policy;
    if (m["model"]) p.model = scalar_of(d, m, "model", "promotion.model");
    if (m["champion"]) p.champion = parse_champion(d, m["champion"]);
    if (m["primary"]) p.primary = parse_primary(d, m["primary"]);
    if (m["thresholds"]) parse_thresholds(d, m["thresholds"], p);
    if (const YAML::Node rt = m["require_tags"]; rt.IsDefined()) {
      if (!rt.IsSequence()) d.fail(rt, "'promotion.require_tags' must be a list of tag names");
      for (const auto& t : rt) {
        if (!t.IsScalar() || yaml::scalar(t).empty()) d.fail(t, "require_tags entries must be tag names");
        p.require_tags.push_back(yaml::scalar(t));
      }
    }
    if (const YAML::Node da = m["data"]; da.IsDefined()) {
      if (!da.IsSequence()) d.fail(da, "'promotion.data' must be a list of data asset names, e.g. [churn-reference]");
      for (const auto& t : da) {
        std::string n = t.IsScalar() ? yaml::scalar(t) : std::string();
        if (n.rfind("azureml:", 0) == 0) n = n.substr(8);
        if (n.empty() || n.find_first_of(":@/ ") != std::string::npos)
          d.fail(t,
                 "promotion.data entries must be data asset names (no version or label: the training job's "
                 "version is taken), got '" +
                     (t.IsScalar() ? yaml::scalar(t) : std::string("a non-scalar")) + "'");
        if (std::find(p.data.begin(), p.data.end(), n) != p.data.end())
          d.fail(t, "data asset '" + n + "' is listed twice in promotion.data");
        p.data.push_back(n);
      }
    }
    if (m["on_no_champion"]) {
      std::string v = scalar_of(d, m, "on_no_champion", "promotion.on_no_champion");
      if (v == "promote")
        p.promote_without_champion = true;
      else if (v == "block")
        p.promote_without_champion = false;
      else
        d.fail(m["on_no_champion"], "on_no_champion must be promote or block, got '" + v + "'");
    }
    if (p.primary) {
      for (auto& th : p.thresholds)
        if (th.metric == p.primary->metric && th.min && th.max && *th.min == *th.max)
          d.fail(m["thresholds"], "metric '" + th.metric + "' is pinned to one value and also the primary metric");
    }
  }
  if (const YAML::Node e = root["environments"]; e.IsDefined() && !e.IsNull()) {
    require_map(d, e, "environments");
    for (const auto& it : e) {
      std::string name = yaml::scalar(it.first);
      const YAML::Node& v = it.second;
      require_map(d, v, "environments." + name);
      // Other tools read more keys of an environment (endpoints, computes): only ours are checked.
      Environment env;
      env.name = name;
      env.workspace = scalar_of(d, v, "workspace", "environments." + name + ".workspace");
      if (v["registry"]) env.registry = scalar_of(d, v, "registry", "environments." + name + ".registry");
      c.environments[name] = env;
    }
  }
  return c;
}

Config load_config(const std::string& path) { return parse_config(yaml::load_file(path)); }

}  // namespace amlops::promote
