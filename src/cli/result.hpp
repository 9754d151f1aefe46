// A producing command's result as one report section, published the same way by every tool: on a
// CI host to the step summary (the section as amlops-report renders it: status icon and title,
// the one-line verdict in bold, then the body), and with `--markdown F` as a fragment file that
// `amlops-report comment|summary --fragment F` assembles. One fragment feeds both, so the summary
// and the pull-request comment always say the same thing.
#pragma once
#include <string>

#include "cli/cli.hpp"
#include "report/fragment.hpp"

namespace amlops::cli {

// Adds `--markdown F` (also the CI input `markdown` and AMLOPS_MARKDOWN, like every option).
void add_markdown_option(Command& cmd);

// Writes `f` to the step summary on a CI host (nothing on a terminal) and, when `markdown_path` is
// not empty, as a fragment file (atomically; ConfigError when it cannot be written). Secrets and
// token shapes are redacted from both. Call it before throwing CheckFailed, so that a failing
// check still reports.
void publish_result(Context& ctx, const report::Fragment& f, const std::string& markdown_path);
// The same, with the path from the command's --markdown (see add_markdown_option).
void publish_result(Context& ctx, const report::Fragment& f, const Command& cmd);

// "1 error", "2 errors", "0 warnings": for verdicts.
std::string count_of(size_t n, const std::string& singular, const std::string& plural = {});

}  // namespace amlops::cli
