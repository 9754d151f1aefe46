// Pipeline jobs: the step graph of properties.jobs (pure) and the runner's stepping (pipeline.cpp).
#pragma once
#include <set>
#include <string>
#include <vector>

#include "core/json.hpp"

namespace amlops::local {

// The steps a pipeline step waits for: every ${{parent.jobs.<step>.outputs.<o>}} its inputs bind.
std::set<std::string> step_deps(const json::Value& step);

// An order in which the steps of properties.jobs can run: every step after the steps it binds,
// otherwise by name. Throws std::runtime_error naming a step name that is not allowed (it becomes
// part of a job name and of paths), a reference to an unknown step, or a cycle.
std::vector<std::string> pipeline_order(const json::Value& jobs);

}  // namespace amlops::local
