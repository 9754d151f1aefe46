// Sweep sampling: the trials of a search space (the runner's step_sweep submits them).
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/json.hpp"

namespace amlops::local {

// One sampled point of a sweep: parameter -> value text.
using Trial = std::map<std::string, std::string>;
// Trials of a search space in REST form (["choice", [[...]]], ["uniform", [lo, hi]], ... or the
// YAML-like {type: choice, values: [...]}). Grid: the cartesian product in key order (choices
// only). Random: `count` seeded samples. Throws std::runtime_error on a bad space.
std::vector<Trial> sweep_trials(const json::Value& search_space, const std::string& algorithm, size_t count,
                                uint64_t seed);

}  // namespace amlops::local
