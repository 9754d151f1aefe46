// The authenticated clients of one workspace: HTTP client, token cache (the credential chain),
// ARM client and the workspace.
#pragma once
#include <memory>
#include <string>

#include "azure/arm.hpp"
#include "azure/auth.hpp"
#include "azure/workspace.hpp"
#include "core/env.hpp"
#include "core/time.hpp"

namespace amlops::aml {

struct ConnectOptions {
  std::string workspace;  // azureml://subscriptions/S/resourcegroups/RG/workspaces/W or an ARM id
  std::string arm_endpoint = azure::kDefaultArmEndpoint;
  std::string api_version = azure::kDefaultApiVersion;
  std::string auth;        // a credential kind; empty: the first available
  std::string user_agent;  // "amlops/<tool>"
};

// UsageError when the workspace is missing or malformed.
azure::WorkspaceRef workspace_ref(const std::string& workspace);

struct Connection {
  std::unique_ptr<net::Client> http;
  std::shared_ptr<azure::TokenCache> tokens;
  std::unique_ptr<azure::ArmClient> arm;
  std::unique_ptr<azure::Workspace> ws;
};
// UsageError for an unknown credential kind. Makes no request.
Connection connect(const ConnectOptions& opts, const Env& env, Clock& clock);

}  // namespace amlops::aml
