#include "tools/common/connection.hpp"

namespace amlops::cli {

void add_connection_options(Command& cmd) {
  cmd.options()("workspace", po::value<std::string>(),
                "azureml://subscriptions/S/resourcegroups/RG/workspaces/W or a workspace ARM id")(
      "arm-endpoint", po::value<std::string>()->default_value(azure::kDefaultArmEndpoint),
      "Azure Resource Manager endpoint")(
      "api-version", po::value<std::string>()->default_value(azure::kDefaultApiVersion), "ARM api-version")(
      "auth", po::value<std::string>(),
      "credential to use: client-secret, workload-identity, github-oidc, azure-devops-oidc, managed-identity, "
      "azure-cli (default: the first available)");
}

aml::ConnectOptions connection_options(Context& ctx, const Command& cmd) {
  aml::ConnectOptions o;
  o.workspace = cmd.str("workspace");
  o.arm_endpoint = cmd.str("arm-endpoint", azure::kDefaultArmEndpoint);
  o.api_version = cmd.str("api-version", azure::kDefaultApiVersion);
  o.auth = cmd.str("auth");
  o.user_agent = "amlops/" + ctx.tool;
  return o;
}

aml::Connection connect(Context& ctx, const Command& cmd) {
  return aml::connect(connection_options(ctx, cmd), ctx.env, ctx.clock);
}

}  // namespace amlops::cli
