// Pure formatting of each host's commands and files. Tests compare these strings.
#pragma once
#include <filesystem>
#include <string>
#include <string_view>

#include "ci/host.hpp"

namespace amlops::ci {

namespace github {
// Message data: % \r \n. Properties additionally : and , (actions/toolkit command.ts).
std::string escape_data(std::string_view s);
std::string escape_property(std::string_view s);
// "::error file=F,line=L,col=C,endLine=..,endColumn=..,title=T::message"; invalid ranges dropped
// the way the runner drops them; message cut at 4096 characters.
std::string annotation(const Annotation& a);
// An entry for $GITHUB_OUTPUT / $GITHUB_ENV: "name<<DELIM\nvalue\nDELIM\n". The delimiter is
// "ghadelimiter_<random>" and is chosen again while the value contains it.
std::string file_entry(std::string_view name, std::string_view value, std::string delimiter = {});
std::string mask(std::string_view secret);
std::string group_begin(std::string_view title);
std::string group_end();
}  // namespace github

namespace azure {
// Message data: % as %AZP25, \r \n. Properties additionally ; and ] (azure-pipelines-task-lib).
std::string escape_data(std::string_view s);
std::string escape_property(std::string_view s);
// "##vso[task.logissue type=error;sourcepath=F;linenumber=L;columnnumber=C;code=ID]message"
std::string logissue(const Annotation& a);
std::string set_variable(std::string_view name, std::string_view value, bool is_output, bool is_secret = false);
std::string set_secret(std::string_view value);
std::string upload_summary(std::string_view path);
std::string group_begin(std::string_view title);
std::string group_end();
std::string complete(std::string_view result, std::string_view message);
}  // namespace azure

// The path of `file` for an annotation's file property: relative to the checkout root the host
// resolves it against (GITHUB_WORKSPACE, or BUILD_SOURCESDIRECTORY on Azure Pipelines), so that a
// file found from a subfolder (a repository checked out under a path, a tool run from a project
// folder) still links. A file outside the root, or without a root, stays as given.
std::string annotation_path(const Env& env, const std::filesystem::path& file);

// Env variable names under which each host passes input `name`. GitHub: spaces -> '_', upper,
// hyphens kept. Azure: '.' and spaces -> '_', upper. Both spellings (with '-' and with '_') are
// tried so that shells, which cannot read INPUT_FAIL-ON, can still set INPUT_FAIL_ON.
std::string input_env_name(Kind kind, std::string_view name);

}  // namespace amlops::ci
