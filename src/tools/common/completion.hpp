// Shell completion scripts generated from a described command tree (cli::describe): the umbrella's
// tools, their subcommands and options. The same script completes `amlops TOOL ...` and `amlops-TOOL ...`.
#pragma once
#include <string>
#include <vector>

#include "tools/common/cli.hpp"

namespace amlops::cli {

// `shell` is "bash" or "zsh" (else UsageError). `root.name` is the umbrella's program; each name in
// `tools` also completes as the program "<root.name>-<tool>".
std::string completion_script(const CommandSpec& root, const std::vector<std::string>& tools, const std::string& shell);

}  // namespace amlops::cli
