// Substitution of ${{...}} placeholders in a job's shell command line.
#pragma once
#include <functional>
#include <map>
#include <optional>
#include <string>

namespace amlops::local {

// A command whose placeholders became references to environment variables, and those variables.
struct Substituted {
  std::string command;
  std::map<std::string, std::string> env;  // name -> value; set them in the environment of /bin/sh -c
};

// Replaces ${{inputs.x}} / ${{outputs.y}} / ${{search_space.z}} in a /bin/sh command line. No value
// is ever written into the command: each placeholder becomes a reference to an environment variable
// (AMLOPS_<ref with every character outside [A-Za-z0-9_] as '_'>, made unique) holding the value,
// written for the shell context the placeholder sits in, so the shell expands it as data:
//   plain word, `${v:+...}` word, backquotes, $(...)  -> "${AMLOPS_inputs_x}"
//   inside "...", in an unquoted here-document body   -> ${AMLOPS_inputs_x}
//   inside '...'                                       -> '"${AMLOPS_inputs_x}"'
//   inside a # comment                                 -> ${AMLOPS_inputs_x} (never run)
//   inside $((...))                                    -> the value itself when it is an integer
// A placeholder that cannot be made safe throws std::runtime_error with the reason: inside $((...))
// with a value that is not an integer, or in a here-document whose delimiter is quoted (no expansion
// happens there). $[[ ... ]] blocks are kept when every reference inside resolves, dropped otherwise.
// Unknown references throw std::runtime_error naming the reference, except those for which `keep`
// returns true: they are left as written (and a $[[ ]] block holding one is left as a block), for a
// later substitution.
Substituted substitute_command(const std::string& command,
                               const std::function<std::optional<std::string>(const std::string&)>& lookup,
                               const std::function<bool(const std::string&)>& keep = {});

}  // namespace amlops::local
