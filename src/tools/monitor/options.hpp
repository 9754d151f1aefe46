// Command-line options of amlops-monitor shared by its subcommands: reading data and drift rules.
#pragma once
#include <string>

#include "cli/cli.hpp"
#include "monitor/config.hpp"
#include "stats/drift.hpp"
#include "stats/profile.hpp"
#include "stats/table.hpp"

namespace amlops::monitor {

// --delimiter, --type COL=TYPE (repeatable), --threads, --max-values.
void add_read_options(cli::Command& cmd);
stats::ReadOptions read_options(const cli::Command& cmd);
stats::ProfileOptions profile_options(const cli::Command& cmd);

// Drift options from the command line (--compat, --metrics, --columns, --method COL=M, ...).
void add_drift_options(cli::Command& cmd);
void apply_drift_options(const cli::Command& cmd, stats::DriftOptions& o);

// --quality-threshold [numerical.|categorical.]METRIC=X (repeatable) over `o`.
void add_quality_options(cli::Command& cmd);
void apply_quality_options(const cli::Command& cmd, stats::QualityOptions& o);
// --model NAME[:VERSION] and --target-deployment ENDPOINT[:DEPLOYMENT]: report headers.
void add_target_options(cli::Command& cmd);
void apply_target_options(const cli::Command& cmd, Target& t);

std::string bool_text(bool b);

}  // namespace amlops::monitor
