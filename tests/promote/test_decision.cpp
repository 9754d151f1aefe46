// The pure decision of amlops-promote (goals, min_improvement, thresholds, NaN, missing metrics
// and tags, no champion) and the policy parser's configuration errors.
#define BOOST_TEST_MODULE promote
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <limits>

#include "core/error.hpp"
#include "promote/decision.hpp"
#include "promote/policy.hpp"
#include "promote/promotion.hpp"

using namespace amlops;
using namespace amlops::promote;

namespace {
const double kNaN = std::numeric_limits<double>::quiet_NaN();

Policy base_policy(Goal goal, double min_improvement) {
  Policy p;
  p.primary = Primary{"m", goal, min_improvement};
  return p;
}

ModelFacts facts(const std::string& id, std::optional<double> m) {
  ModelFacts f;
  f.id = id;
  if (m) f.metrics["m"] = *m;
  return f;
}

Config parse(const std::string& text) { return parse_config(yaml::load_string(text, "amlops.yml")); }

std::string config_error(const std::string& text) {
  try {
    parse(text);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(no error)";
}
}  // namespace

BOOST_AUTO_TEST_CASE(primary_rule_table) {
  struct Row {
    Goal goal;
    double min_improvement;
    std::optional<double> cand, champ;
    bool promote;
  };
  const Row rows[] = {
      {Goal::maximize, 0.0, 0.90, 0.85, true},         {Goal::maximize, 0.0, 0.80, 0.85, false},
      {Goal::maximize, 0.0, 0.85, 0.85, true},         {Goal::maximize, 0.005, 0.855, 0.85, true},
      {Goal::maximize, 0.005, 0.854, 0.85, false},     {Goal::maximize, 0.005, 0.905, 0.90, true},  // decimal rounding
      {Goal::minimize, 0.0, 0.30, 0.35, true},         {Goal::minimize, 0.0, 0.40, 0.35, false},
      {Goal::minimize, 0.01, 0.345, 0.35, false},      {Goal::minimize, 0.01, 0.34, 0.35, true},
      {Goal::maximize, 0.0, kNaN, 0.85, false},        {Goal::maximize, 0.0, 0.9, kNaN, false},
      {Goal::minimize, 0.0, std::nullopt, 0.3, false}, {Goal::minimize, 0.0, 0.3, std::nullopt, false},
      {Goal::maximize, 0.0, INFINITY, 0.85, false},
  };
  int i = 0;
  for (const Row& r : rows) {
    BOOST_TEST_CONTEXT("row " << i++) {
      Decision d = decide(base_policy(r.goal, r.min_improvement), facts("c:2", r.cand), facts("c:1", r.champ));
      BOOST_TEST(d.promote == r.promote);
      BOOST_TEST(d.rules.size() == 1u);
      BOOST_TEST(d.rules[0].passed == r.promote);
      BOOST_TEST(!d.rules[0].reason.empty());
      BOOST_TEST(d.reasons.size() == 1u);
    }
  }
}

BOOST_AUTO_TEST_CASE(no_champion_follows_on_no_champion) {
  Policy p = base_policy(Goal::maximize, 0);
  BOOST_TEST(decide(p, facts("c:1", 0.5), std::nullopt).promote);
  p.promote_without_champion = false;
  Decision d = decide(p, facts("c:1", 0.5), std::nullopt);
  BOOST_TEST(!d.promote);
  BOOST_TEST(d.reasons[0].find("on_no_champion: block") != std::string::npos);
  // Without a primary rule, a missing champion still blocks under `block`.
  Policy q;
  q.require_tags = {"t"};
  q.promote_without_champion = false;
  ModelFacts c = facts("c:1", 0.5);
  c.tags["t"] = "x";
  BOOST_TEST(!decide(q, c, std::nullopt).promote);
  // The candidate's own metric is still required when there is no champion.
  p.promote_without_champion = true;
  BOOST_TEST(!decide(p, facts("c:1", std::nullopt), std::nullopt).promote);
}

BOOST_AUTO_TEST_CASE(unreadable_champion_blocks) {
  Policy p = base_policy(Goal::maximize, 0);
  Decision d = decide(p, facts("c:2", 0.99), std::nullopt, "c:7 not found in registry shared");
  BOOST_TEST(!d.promote);
  BOOST_TEST(d.reasons[0].find("c:7 not found") != std::string::npos);
  Policy q;
  q.thresholds.push_back({"m", 0.1, std::nullopt});
  BOOST_TEST(!decide(q, facts("c:2", 0.99), std::nullopt, "HTTP 500").promote);
}

BOOST_AUTO_TEST_CASE(threshold_table) {
  struct Row {
    std::optional<double> min, max, value;
    bool passed;
  };
  const Row rows[] = {
      {0.85, std::nullopt, 0.86, true},
      {0.85, std::nullopt, 0.85, true},
      {0.85, std::nullopt, 0.849, false},
      {std::nullopt, 0.45, 0.45, true},
      {std::nullopt, 0.45, 0.46, false},
      {0.1, 0.2, 0.15, true},
      {0.1, 0.2, 0.25, false},
      {0.1, 0.2, 0.05, false},
      {0.1, std::nullopt, kNaN, false},
      {std::nullopt, 0.45, kNaN, false},
      {0.1, std::nullopt, std::nullopt, false},
  };
  int i = 0;
  for (const Row& r : rows) {
    BOOST_TEST_CONTEXT("row " << i++) {
      Policy p;
      p.thresholds.push_back({"m", r.min, r.max});
      Decision d = decide(p, facts("c:2", r.value), facts("c:1", 0.5));
      BOOST_TEST(d.promote == r.passed);
      BOOST_TEST(d.rules.at(0).passed == r.passed);
    }
  }
}

BOOST_AUTO_TEST_CASE(every_rule_is_a_row_and_fails_are_reasons) {
  Policy p = base_policy(Goal::maximize, 0.005);
  p.thresholds.push_back({"accuracy", 0.85, std::nullopt});
  p.thresholds.push_back({"log_loss", std::nullopt, 0.45});
  p.require_tags = {"amlops.git_commit"};
  ModelFacts c = facts("churn:2", 0.9);
  c.metrics["log_loss"] = 0.5;
  ModelFacts h = facts("churn:1", 0.8);
  Decision d = decide(p, c, h);
  BOOST_TEST(!d.promote);
  BOOST_TEST(d.rules.size() == 4u);
  BOOST_TEST(d.rules[0].passed);
  BOOST_TEST(d.reasons.size() == 3u);  // accuracy missing, log_loss too high, tag missing
  BOOST_TEST(d.reasons[0].find("has no metric 'accuracy'") != std::string::npos);
  BOOST_TEST(d.reasons[1].find("above the maximum") != std::string::npos);
  BOOST_TEST(d.reasons[2].find("has no tag 'amlops.git_commit'") != std::string::npos);
  auto j = decision_json(d);
  BOOST_TEST(json::get_string(j, "/decision") == "block");
  BOOST_TEST(j["rules"].Size() == 4u);
  BOOST_TEST(j["rules"][1]["candidate"].IsNull());
  BOOST_TEST(decision_markdown(d, c, h).find(R"(| log\_loss | 0.5 | - | log\_loss \<= 0.45 | **fail** |)") !=
             std::string::npos);
}

BOOST_AUTO_TEST_CASE(markdown_links_both_producing_jobs) {
  Policy p = base_policy(Goal::maximize, 0);
  ModelFacts c = facts("churn:2", 0.9), h = facts("churn:1", 0.8);
  c.job = "train-2";
  c.job_url = "https://ml.azure.com/runs/train-2";
  h.job = "train-1";
  std::string md = decision_markdown(decide(p, c, h), c, h);
  BOOST_TEST(
      md.find("| candidate | `churn:2` | [job train-2](https://ml.azure.com/runs/train-2) |") != std::string::npos, md);
  BOOST_TEST(md.find("| champion | `churn:1` | job `train-1` |") != std::string::npos, md);
}

BOOST_AUTO_TEST_CASE(a_policy_without_rules_blocks) {
  Policy p;
  BOOST_TEST(!decide(p, facts("c:1", 1.0), facts("c:0", 0.0)).promote);
}

BOOST_AUTO_TEST_CASE(policy_parses) {
  Config c = parse(R"(
monitor: {anything: 1}
promotion:
  model: churn
  champion: {tag: stage=production}
  primary: {metric: f1, goal: maximize, min_improvement: 0.005}
  thresholds:
    - {metric: accuracy, min: 0.85}
    - {metric: log_loss, max: 0.45}
    - {metric: accuracy, max: 0.999}
  require_tags: [amlops.git_commit]
  on_no_champion: block
  data: [churn-reference, azureml:churn-baseline]
environments:
  dev:  {workspace: azureml://subscriptions/S/resourcegroups/RG/workspaces/dev}
  prod: {workspace: azureml://subscriptions/S/resourcegroups/RG/workspaces/prod, registry: shared, endpoint: e}
)");
  BOOST_TEST(c.has_promotion);
  BOOST_TEST(c.policy.model == "churn");
  BOOST_TEST(c.policy.champion.key == "stage");
  BOOST_TEST(c.policy.champion.value == "production");
  BOOST_TEST(c.policy.primary->metric == "f1");
  BOOST_TEST(c.policy.primary->min_improvement == 0.005);
  BOOST_TEST(c.policy.thresholds.size() == 2u);  // accuracy merged
  BOOST_TEST(*c.policy.thresholds[0].max == 0.999);
  BOOST_TEST(!c.policy.promote_without_champion);
  BOOST_TEST((c.policy.data == std::vector<std::string>{"churn-reference", "churn-baseline"}));
  BOOST_TEST(c.environments.at("prod").registry == "shared");
  BOOST_TEST(Scope::of_environment(c.environments.at("prod")).base ==
             "/subscriptions/S/resourceGroups/RG/providers/Microsoft.MachineLearningServices/registries/shared");
  Config v = parse("promotion: {champion: {version: 7}, primary: {metric: f1, goal: minimize}}");
  BOOST_TEST((v.policy.champion.kind == ChampionSelector::Kind::version));
  BOOST_TEST(v.policy.champion.value == "7");
  BOOST_TEST(champion_tag(v.policy).first == "stage");
}

BOOST_AUTO_TEST_CASE(policy_errors_have_locations) {
  struct Row {
    const char* text;
    const char* expect;
  };
  const Row rows[] = {
      {"promotion:\n  modle: churn\n", "amlops.yml:2:3: unknown key 'promotion.modle'"},
      {"promotion:\n  primary: {metric: f1, goal: upward}\n", "amlops.yml:2:"},
      {"promotion:\n  primary: {metric: f1, goal: upward}\n", "unknown goal 'upward'"},
      {"promotion:\n  primary: {metric: f1}\n", "needs a goal"},
      {"promotion:\n  thresholds:\n    - {metric: a, min: x}\n", "'min' must be a number"},
      {"promotion:\n  thresholds:\n    - {metric: a, min: 0.5}\n    - {metric: a, min: 0.6}\n",
       "amlops.yml:4:7: metric 'a' is named twice with contradicting bounds"},
      {"promotion:\n  thresholds:\n    - {metric: a, min: 0.5}\n    - {metric: a, max: 0.4}\n", "can never pass"},
      {"promotion:\n  thresholds:\n    - {metric: a}\n", "needs min and/or max"},
      {"promotion:\n  thresholds: {metric: a}\n", "must be a list"},
      {"promotion:\n  require_tags: amlops.git_commit\n", "must be a list"},
      {"promotion:\n  on_no_champion: maybe\n", "on_no_champion must be promote or block"},
      {"promotion:\n  champion: {tag: stage}\n", "KEY=VALUE"},
      {"promotion:\n  champion: {tag: a=b, version: 3}\n", "exactly one"},
      {"promotion:\n  primary: {metric: f1, goal: maximize, min_improvement: -1}\n", "must be >= 0"},
      {"environments:\n  prod: {registry: shared}\n", "workspace must be a non-empty string"},
      {"promotion:\n  data: churn-reference\n", "amlops.yml:2:9: 'promotion.data' must be a list of data asset names"},
      {"promotion:\n  data: [churn-reference@latest]\n",
       "amlops.yml:2:10: promotion.data entries must be data asset names"},
      {"promotion:\n  data: [\"churn-reference:3\"]\n", "no version or label"},
      {"promotion:\n  data:\n    - {name: x}\n", "amlops.yml:3:7: promotion.data entries"},
      {"promotion:\n  data: [a, b, a]\n", "amlops.yml:2:16: data asset 'a' is listed twice"},
  };
  for (const Row& r : rows) {
    BOOST_TEST_CONTEXT(r.text) {
      std::string e = config_error(r.text);
      BOOST_TEST(e.find(r.expect) != std::string::npos, e);
    }
  }
}

BOOST_AUTO_TEST_CASE(model_refs) {
  BOOST_TEST(ModelRef::parse("churn:7").version == "7");
  BOOST_TEST(ModelRef::parse("azureml:churn:7").name == "churn");
  BOOST_CHECK_THROW(ModelRef::parse("churn"), UsageError);
  BOOST_CHECK_THROW(ModelRef::parse("churn:"), UsageError);
}
