// The pure parts of a rollout: traffic steps, the record kept in an endpoint tag, health
// verdicts over scoring samples and the comparison of a response with an expected one.
#pragma once
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/json.hpp"

namespace amlops::deploy {

using Traffic = std::map<std::string, int>;  // deployment -> percent (absent = 0)

// Zero entries dropped, so that {blue:100, green:0} equals {blue:100}.
Traffic normalized(const Traffic& t);
int total(const Traffic& t);
std::string traffic_text(const Traffic& t);  // "blue=90,green=10"; "none" when empty
json::Value traffic_json(const Traffic& t, json::Allocator& a);
// An object of name -> number (properties.traffic); non-numbers are errors naming `what`.
Traffic traffic_of(const json::Value* v, const std::string& what);

// --steps "10,50,100": strictly increasing whole percents from 1 to 100 ending at 100.
// UsageError naming the flag otherwise.
std::vector<int> parse_steps(const std::string& text);

// The traffic with `target` at `percent` and the others scaled to share the rest in the
// proportions they have now (largest remainder, ties by name: the sum is exactly 100). When no
// other deployment has traffic, `target` takes 100.
Traffic shift(const Traffic& current, const std::string& target, int percent);

// What the endpoint tag `amlops.rollout` keeps: the deployment being rolled out, the traffic and
// mirror traffic before the rollout began, and where it got to.
struct RolloutRecord {
  std::string deployment;
  Traffic previous;
  Traffic previous_mirror;
  std::string state;   // in_progress | done | rolled_back
  std::string reason;  // why it rolled back (short)
};
inline constexpr const char* kRolloutTag = "amlops.rollout";
std::string record_text(const RolloutRecord& r);                     // compact JSON
std::optional<RolloutRecord> parse_record(const std::string& text);  // nullopt when not one

// One scoring request as measured by the client.
struct Sample {
  int status = 0;  // 0: no HTTP answer
  double ms = 0;
  std::string deployment;  // the azureml-model-deployment response header
  std::string error;       // transport error or a short body excerpt when not 200
};

struct Health {
  size_t requests = 0;
  size_t errors = 0;
  double error_rate = 0;
  double p50_ms = 0;
  double p95_ms = 0;
  std::map<std::string, size_t> by_deployment;
  bool ok = true;
  std::vector<std::string> reasons;  // each failed threshold, readable
};
struct Thresholds {
  double max_error_rate = 0;  // fraction of non-200 answers allowed
  std::optional<double> max_p95_ms;
};
// Nearest-rank percentile (p in [0,100]) of the values; 0 when empty.
double percentile(std::vector<double> values, double p);
Health evaluate(const std::vector<Sample>& samples, const Thresholds& t);

// Where `actual` departs from `expected`: every member of an expected object must be there and
// match (extra members are fine), arrays match element by element with the same length, numbers
// within 1e-6 (relative) and everything else exactly. nullopt when it matches; else
// "/predictions/0: expected 1, got 0".
std::optional<std::string> mismatch(const json::Value& expected, const json::Value& actual, const std::string& at = "");

// A number for messages: at most 4 significant digits ("0.05", "123.4").
std::string num(double v);

}  // namespace amlops::deploy
