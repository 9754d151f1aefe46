// Safe rollout of a managed online deployment: endpoint created when absent (its live traffic never
// touched), the deployment created or updated at 0 %, smoke-tested directly (header routing),
// optionally mirrored, then traffic shifted step by step with a soak and a health check after
// each step. Any failure restores the traffic recorded before the rollout exactly. The record
// lives in the endpoint tag `amlops.rollout`, so `rollback` can restore it later and a rollout
// that was interrupted resumes from it. A rollout that is already done changes nothing.
#pragma once
#include <rapidjson/schema.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "azure/workspace.hpp"
#include "core/time.hpp"
#include "deploy/endpoints.hpp"
#include "deploy/spec.hpp"
#include "deploy/traffic.hpp"

namespace amlops::deploy {

struct SmokeRequest {
  std::string file;
  std::string body;
  std::optional<json::Document> expect;  // what the answer must contain (see mismatch)
  std::string expect_file;
  std::shared_ptr<const rapidjson::SchemaDocument> schema;  // a JSON Schema the answer must satisfy
  std::string schema_file;
};

// Reads request files (each must exist; JSON is not required of a request), expectations (JSON,
// ConfigError with line:col otherwise; one for all requests, or one per request) and a JSON
// Schema (draft 4, as RapidJSON validates it) that every answer must satisfy.
std::vector<SmokeRequest> load_requests(const std::vector<std::string>& requests,
                                        const std::vector<std::string>& expects, const std::string& schema_file = {});

// Where `doc` fails the schema: "/predictions/0: fails 'type' (schema #/properties/...)";
// nullopt when it is valid.
std::optional<std::string> schema_violation(const rapidjson::SchemaDocument& schema, const json::Value& doc);

// Sends each request `count` times; a non-200 answer or an answer that does not match its
// expectation or schema is an error (the first ten described in `failures`); the error rate and
// p95 are judged against the thresholds.
struct SmokeResult {
  Health health;
  std::vector<std::string>
      failures;  // "request.json: HTTP 424: ..." / "request.json: ...: /predictions/0: expected 1, got 0"
  [[nodiscard]] bool ok() const { return health.ok; }
};
SmokeResult smoke(Scorer& scorer, const std::vector<SmokeRequest>& requests, const std::string& deployment, int count,
                  const Thresholds& t);

struct StepResult {
  int percent = 0;
  Traffic traffic;
  Health health;
  bool changed = false;  // a PUT was made for this step
  bool ok = true;
  std::string reason;
};

struct RolloutOptions {
  std::vector<int> steps{10, 50, 100};
  Duration soak = std::chrono::minutes(1);
  std::vector<SmokeRequest> requests;
  int count = 20;  // health requests through the endpoint after each step
  Thresholds thresholds;
  int mirror = 0;  // percent mirrored to the new deployment before the first step (0: none)
  bool delete_failed = false;
  bool cleanup = false;
  // Called after each step's health check with the scoring URI and secret; a non-empty answer is
  // a failure reason (the `--check` command, tests that observe the split).
  std::function<std::string(const StepResult&, const std::string& scoring_uri, const std::string& secret)> check;
  // Progress lines (stderr).
  std::function<void(const std::string&)> progress;
  // The secret is handed here before it is used (CI hosts mask it).
  std::function<void(const std::string&)> mask;
};

struct Outcome {
  enum class State { done, unchanged, rolled_back, failed } state = State::done;
  std::string endpoint, deployment, scoring_uri;
  std::string reason;  // why it rolled back / failed
  Traffic previous, final_traffic;
  std::optional<SmokeResult> smoke;
  std::vector<StepResult> steps;
  std::string log_tail;  // of the failed deployment
  bool deployment_updated = false;
  bool endpoint_created = false;
  bool deleted_failed = false;
  std::vector<std::string> cleaned;  // deployments deleted by --cleanup
  int puts = 0;                      // PUT requests made (endpoint and deployment)
};
const char* state_name(Outcome::State s);

// Writes the ids the deployment needs (code uploaded, environment created or resolved, the
// model from --model when given, the workspace's location) into its body.
void resolve_deployment(azure::Workspace& ws, DeploymentSpec& d, const std::string& model_override);

// A fingerprint of a deployment body (its amlops.* tags left out), kept in the tag amlops.spec.
std::string deployment_fingerprint(const json::Value& body);

Outcome rollout(Endpoints& eps, net::Client& http, Clock& clock, const EndpointSpec& e, DeploymentSpec& d,
                const RolloutOptions& o);

struct RollbackResult {
  bool changed = false;
  Traffic before, after;
  RolloutRecord record;
};
// Restores the traffic and mirror traffic recorded before the last rollout. UsageError when the
// endpoint has no record.
RollbackResult rollback(Endpoints& eps, const std::string& endpoint, const std::string& reason);

}  // namespace amlops::deploy
