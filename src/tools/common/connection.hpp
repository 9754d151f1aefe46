// The workspace connection flags of the tools that talk to a workspace (job, model):
// --workspace, --arm-endpoint, --api-version, --auth.
#pragma once
#include "aml/connect.hpp"
#include "tools/common/cli.hpp"

namespace amlops::cli {

void add_connection_options(Command& cmd);
aml::ConnectOptions connection_options(Context& ctx, const Command& cmd);
// connection_options + aml::connect.
aml::Connection connect(Context& ctx, const Command& cmd);

}  // namespace amlops::cli
