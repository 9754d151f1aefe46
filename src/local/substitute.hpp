// Substitution of ${{...}} placeholders in a job's shell command line.
#pragma once
#include <functional>
#include <optional>
#include <string>

namespace amlops::local {

// Replaces ${{inputs.x}} / ${{outputs.y}} / ${{search_space.z}} in a shell command line with the
// value from `lookup`, shell-quoted as one word (a quoted placeholder "${{...}}" is replaced with
// its quotes). $[[ ... ]] blocks are kept when every reference inside resolves, dropped otherwise.
// Throws std::runtime_error naming an unknown reference.
std::string substitute_command(const std::string& command,
                               const std::function<std::optional<std::string>(const std::string&)>& lookup);

}  // namespace amlops::local
