#include "aml/connect.hpp"

#include "core/error.hpp"

namespace amlops::aml {

azure::WorkspaceRef workspace_ref(const std::string& workspace) {
  if (workspace.empty()) throw UsageError("--workspace is required (or AMLOPS_WORKSPACE / the CI input 'workspace')");
  return azure::WorkspaceRef::parse(workspace);
}

Connection connect(const ConnectOptions& opts, const Env& env, Clock& clock) {
  Connection c;
  azure::WorkspaceRef ref = workspace_ref(opts.workspace);
  std::optional<azure::CredentialKind> only;
  if (!opts.auth.empty()) {
    only = azure::parse_credential_kind(opts.auth);
    if (!only) throw UsageError("--auth: unknown credential '" + opts.auth + "'");
  }
  net::ClientOptions co;
  co.clock = &clock;
  if (!opts.user_agent.empty()) co.user_agent = opts.user_agent;
  c.http = std::make_unique<net::Client>(co);
  c.tokens = std::make_shared<azure::TokenCache>(azure::make_credential(env, *c.http, clock, only), clock);
  azure::ArmOptions ao;
  ao.endpoint = opts.arm_endpoint.empty() ? azure::kDefaultArmEndpoint : opts.arm_endpoint;
  ao.api_version = opts.api_version.empty() ? azure::kDefaultApiVersion : opts.api_version;
  auto tokens = c.tokens;
  c.arm = std::make_unique<azure::ArmClient>(
      *c.http, [tokens] { return tokens->token(azure::kArmScope); }, clock, ao);
  c.ws = std::make_unique<azure::Workspace>(*c.arm, ref);
  return c;
}

}  // namespace amlops::aml
