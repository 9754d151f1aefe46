// The pure decision: a candidate's and a champion's metrics and tags, the policy's rules, one
// row per rule with the reason. Fails closed: a missing metric, a NaN, an unreadable champion
// block the promotion.
#pragma once
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/json.hpp"
#include "promote/policy.hpp"

namespace amlops::promote {

// What the decision needs to know of one model version.
struct ModelFacts {
  std::string id;                         // "churn:7" (or a registry asset id)
  std::map<std::string, double> metrics;  // NaN kept as NaN (it must fail)
  std::map<std::string, std::string> tags;
  std::string job;  // producing job, when known
  std::string job_url;
};

struct RuleResult {
  std::string metric;  // metric or tag name
  std::optional<double> candidate, champion;
  std::string rule;  // "f1 maximize, improvement >= 0.005", "accuracy >= 0.85", "tag amlops.git_commit"
  bool passed = false;
  std::string reason;
};

struct Decision {
  bool promote = false;
  std::string candidate, champion;  // champion empty when there is none
  std::vector<RuleResult> rules;
  std::vector<std::string> reasons;
  [[nodiscard]] std::string summary() const;  // one line: "promote: 4/4 rules passed" / "block: ..."
};

// `champion_error`: the champion exists but could not be read (its reason blocks).
Decision decide(const Policy& policy, const ModelFacts& candidate, const std::optional<ModelFacts>& champion,
                const std::string& champion_error = {});

std::string format_number(double v);
json::Document decision_json(const Decision& d);
std::string decision_text(const Decision& d);
// Markdown body: verdict, rules table, candidate vs champion with links to the producing jobs.
std::string decision_markdown(const Decision& d, const ModelFacts& candidate,
                              const std::optional<ModelFacts>& champion);

}  // namespace amlops::promote
