// Azure Resource Manager conventions: api-version on every relative path, bearer auth, ARM error
// bodies surfaced as `code: message` with the correlation id, nextLink paging, and both
// long-running-operation patterns (201 + Azure-AsyncOperation, 202 + Location).
#pragma once
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/json.hpp"
#include "core/time.hpp"
#include "net/http.hpp"

namespace amlops::azure {

inline constexpr const char* kDefaultArmEndpoint = "https://management.azure.com";
inline constexpr const char* kDefaultApiVersion = "2025-12-01";

// azureml://subscriptions/S/resourcegroups/RG/workspaces/W, or an ARM id of the workspace.
struct WorkspaceRef {
  std::string subscription, resource_group, name;
  [[nodiscard]] std::string arm_id()
      const;  // /subscriptions/S/resourceGroups/RG/providers/Microsoft.MachineLearningServices/workspaces/W
  static WorkspaceRef parse(const std::string& text);  // UsageError on anything else
};

struct ArmOptions {
  std::string endpoint = kDefaultArmEndpoint;
  std::string api_version = kDefaultApiVersion;
  Duration lro_timeout = std::chrono::minutes(30);
  Duration lro_poll = std::chrono::seconds(5);  // when the service gives no Retry-After
  Duration lro_poll_max = std::chrono::seconds(60);
  // Overrides the HTTP client's retry policy for every request (e.g. a short one for cleanup
  // after an interrupt); unset: the client's.
  std::optional<net::RetryPolicy> policy;
};

// ARM error body -> "code: message (details)"; empty when the body has none.
std::string arm_error_text(const std::string& body, std::string* code = nullptr);
// Throws HttpError "`what`: HTTP 400 code: message [correlation id X]".
[[noreturn]] void raise_arm_error(const net::Response& r, const std::string& what);

class ArmClient {
 public:
  using TokenFn = std::function<std::string()>;
  ArmClient(net::Client& http, TokenFn token, Clock& clock, ArmOptions opts = {});

  // `path` starting with "/" is relative to the endpoint and gets api-version unless it has one;
  // an absolute URL (nextLink, operation URLs, data-plane hosts) is used verbatim.
  [[nodiscard]] std::string url(const std::string& path) const;
  net::Response send(const std::string& method, const std::string& path, const std::string& body = {},
                     bool idempotent = true, const net::Headers& extra = {});

  json::Document get(const std::string& path);
  std::optional<json::Document> get_if_exists(const std::string& path);  // nullopt on 404
  // PUT/POST/DELETE, waiting for a long-running operation when the answer starts one. Returns
  // the final resource (GET of the original URL after an Azure-AsyncOperation, the Location
  // result otherwise), or an empty object when there is no body.
  json::Document put(const std::string& path, const json::Value& body);
  json::Document post(const std::string& path, const std::string& body = {}, bool idempotent = true);
  json::Document del(const std::string& path);
  // Follows nextLink until the end (or `max_items`), returning the items of every page.
  std::vector<json::Document> list(const std::string& path, size_t max_items = 0);

  // Waits for the operation that `first` (the answer to METHOD `path`) started.
  json::Document finish(const net::Response& first, const std::string& method, const std::string& path);

  [[nodiscard]] const ArmOptions& options() const { return opts_; }
  ArmOptions& options() { return opts_; }
  [[nodiscard]] Clock& clock() const { return clock_; }
  [[nodiscard]] std::string bearer() const { return token_(); }
  net::Client& http() { return http_; }

 private:
  net::Client& http_;
  TokenFn token_;
  Clock& clock_;
  ArmOptions opts_;
  Duration poll_delay(const net::Response& r) const;
};

}  // namespace amlops::azure
