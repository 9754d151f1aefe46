// Command-line options of amlops-monitor shared by its subcommands: reading data and drift rules.
#pragma once
#include <string>

#include "stats/drift.hpp"
#include "stats/profile.hpp"
#include "stats/table.hpp"
#include "tools/common/cli.hpp"

namespace amlops::monitor {

// --delimiter, --type COL=TYPE (repeatable), --threads, --max-values.
void add_read_options(cli::Command& cmd);
stats::ReadOptions read_options(const cli::Command& cmd);
stats::ProfileOptions profile_options(const cli::Command& cmd);

// Drift options from the command line (--compat, --metrics, --columns, --method COL=M, ...).
void add_drift_options(cli::Command& cmd);
void apply_drift_options(const cli::Command& cmd, stats::DriftOptions& o);

std::string bool_text(bool b);

}  // namespace amlops::monitor
