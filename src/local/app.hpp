// amlops-local: the Azure ML workspace served on loopback. App::handle is a pure request ->
// response function (plus the store), so most tests call it without a socket; serve() wraps it
// in net::HttpServer. The job runner works on the same store from a background thread.
#pragma once
#include <atomic>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/json.hpp"
#include "local/config.hpp"
#include "local/faults.hpp"
#include "local/routes.hpp"
#include "local/store.hpp"
#include "net/server.hpp"

namespace amlops::local {

class Runner;
class Endpoints;

// A location in the local blob service.
struct BlobLocation {
  std::string container;
  std::string path;  // blob name or folder prefix, no leading '/', may be empty
};

// Result of resolving an azureml:// (or blob) URI.
struct Resolved {
  std::optional<BlobLocation> loc;
  std::string error;  // set when loc is empty
};

// An error answered in ARM's shape.
struct ArmError : std::runtime_error {
  ArmError(int status, std::string code, const std::string& message, std::string detail_code = {})
      : std::runtime_error(message), status(status), code(std::move(code)), detail_code(std::move(detail_code)) {}
  int status;
  std::string code;
  std::string detail_code;
};

// The decoded segments of a request target's path (an encoded '/' stays inside its segment).
std::vector<std::string> path_segments(const std::string& target);

class App {
 public:
  explicit App(Config cfg);
  ~App();
  App(const App&) = delete;
  App& operator=(const App&) = delete;

  // Where clients reach this server ("http://127.0.0.1:PORT"); set once the socket is bound.
  void set_base_url(std::string url);
  [[nodiscard]] const std::string& base_url() const { return base_url_; }

  net::ServerResponse handle(const net::ServerRequest& req);

  void start_runner();
  // Stops the runner; running jobs are killed and marked Failed with `reason`.
  void stop_runner(const std::string& reason);

  [[nodiscard]] const Identity& identity() const { return id_; }
  [[nodiscard]] const Config& config() const { return cfg_; }
  Store& store() { return *store_; }

  // Called with the request's headers before its body is read (net::ServerOptions::on_headers):
  // the answer for a request that cannot be authenticated whatever its body, else nullopt.
  // Blob requests need a SAS, Shared Key (both checked later, they sign headers) or a valid
  // storage bearer token; every other non-public route a valid ARM bearer token.
  std::optional<net::ServerResponse> reject_before_body(const net::ServerRequest& headers);

  // Bearer tokens (HS256 JWTs signed with the store's key).
  std::string issue_token(const std::string& subject, Duration lifetime,
                          const std::string& audience = "https://management.azure.com");
  // Empty when valid, else the reason ("expired" when expired). With `audiences`, `aud` must name one.
  std::string check_token(const std::string& token, const std::vector<std::string>& audiences = {}) const;

  // Names and paths.
  [[nodiscard]] std::string workspace_id(const std::string& ws) const;  // ARM id
  [[nodiscard]] std::string workspace_guid(const std::string& ws) const;
  [[nodiscard]] std::string blobstore_container(const std::string& ws) const;
  [[nodiscard]] std::string artifact_container(const std::string& ws) const;
  [[nodiscard]] std::string registry_container(const std::string& reg) const;
  [[nodiscard]] std::filesystem::path blob_root() const { return cfg_.data_dir / "blobs"; }
  [[nodiscard]] std::filesystem::path blob_path(const BlobLocation& loc) const;
  [[nodiscard]] std::string blob_url(const BlobLocation& loc) const;
  // A service SAS (sr=c for a container, sr=b for one blob) signed with the account key.
  [[nodiscard]] std::string make_sas(const std::string& container, const std::string& blob, const std::string& perms,
                                     Duration lifetime) const;
  [[nodiscard]] std::string mlflow_base(const std::string& ws) const;  // http(s)://.../mlflow/v1.0/...workspaces/ws
  [[nodiscard]] bool has_workspace(const std::string& ws) const;
  [[nodiscard]] bool has_registry(const std::string& reg) const;
  // The configured spelling of a workspace or registry name, which ARM matches case-insensitively
  // (the store, containers and job directories are keyed by it); nullopt when there is none.
  [[nodiscard]] std::optional<std::string> workspace_named(const std::string& ws) const;
  [[nodiscard]] std::optional<std::string> registry_named(const std::string& reg) const;
  // Resolves datastore, job output, data asset and blob URIs of workspace `ws`.
  Resolved resolve_uri(const std::string& ws, const std::string& uri, int depth = 0);
  [[nodiscard]] std::filesystem::path job_dir(const std::string& ws, const std::string& job) const;
  [[nodiscard]] BlobLocation job_log(const std::string& ws, const std::string& job) const;

  // MLflow run bookkeeping shared with the runner.
  int64_t ensure_experiment(const std::string& ws, const std::string& name);
  void create_run(const std::string& ws, const std::string& run_id, int64_t experiment_id, const std::string& run_name,
                  const std::string& status);
  void set_run_status(const std::string& ws, const std::string& run_id, const std::string& status, bool ended);
  std::optional<double> last_metric(const std::string& ws, const std::string& run_id, const std::string& key);

  // Appends to a blob of this server's store (creating it), as Append Block would: the data
  // collector's JSON Lines files.
  void append_blob(const BlobLocation& loc, const std::string& data, const std::string& content_type);
  // Computes, user datastores and schedules (computes.cpp, datastores.cpp, schedules.cpp).
  // The scheduler's clock: wall time plus the offset that POST /_amlops/clock advances (tests).
  [[nodiscard]] int64_t clock_ms() const;
  void advance_clock(int64_t ms) { clock_offset_ms_ += ms; }
  // Submits the job of every enabled schedule whose next trigger time has come (the runner's tick).
  void fire_schedules();
  // maxNodeCount of compute `name` (an ARM id or azureml:name is accepted); nullopt when it does not exist.
  std::optional<int> compute_max_nodes(const std::string& ws, const std::string& compute);
  // The compute a job runs on, lower-cased: its computeId, else its parent's default_compute or
  // computeId; "" for none (serverless).
  std::string job_compute(const std::string& ws, const std::string& body, const std::string& parent);
  // Throws ArmError(400) when a job body names a compute that does not exist.
  void check_job_computes(const std::string& ws, const json::Value& job_props);
  // The blob container of a datastore created by PUT; nullopt for an unknown one.
  std::optional<std::string> user_datastore_container(const std::string& ws, const std::string& name);

  // Request log (DATA/requests.jsonl) entries seen so far.
  [[nodiscard]] std::string request_log_json(size_t since) const;

 private:
  net::ServerResponse dispatch(const net::ServerRequest& req, const std::vector<std::string>& seg);
  [[nodiscard]] std::optional<net::ServerResponse> bearer_failure(const net::ServerRequest& req) const;
  [[nodiscard]] std::optional<net::ServerResponse> blob_credentials_failure(const net::ServerRequest& req) const;
  void build_routes();      // public_routes_, routes_ (routing.cpp)
  RouteTable arm_routes();  // below /subscriptions/S (arm.cpp)
  // computes/, datastores/ (PUT, DELETE), schedules/ below a workspace (computes.cpp, datastores.cpp, schedules.cpp).
  using WsOf = std::function<std::string(const RouteMatch&)>;
  void add_compute_routes(RouteTable& t, const std::string& ws_path, const WsOf& ws_of);
  void add_datastore_routes(RouteTable& t, const std::string& ws_path, const WsOf& ws_of);
  void add_schedule_routes(RouteTable& t, const std::string& ws_path, const WsOf& ws_of);
  void seed_computes();                                            // the built-in compute of each workspace
  net::ServerResponse route_clock(const net::ServerRequest& req);  // _amlops/clock (schedules.cpp)
  net::ServerResponse route_token(const net::ServerRequest& req, const std::string& tenant, bool v2);
  net::ServerResponse route_arm(const net::ServerRequest& req, const std::vector<std::string>& seg);
  net::ServerResponse workspace_resource(const std::string& ws);
  net::ServerResponse registry_resource(const std::string& reg);
  std::string datastore_resource(const std::string& ws, const std::string& name);  // 404 for an unknown one
  net::ServerResponse datastore_secrets(const net::ServerRequest& req, const std::string& ws, const std::string& name);
  net::ServerResponse route_assets(const net::ServerRequest& req, const std::string& scope, const std::string& kind,
                                   const std::vector<std::string>& rest, size_t i);
  // Asset containers (containers.cpp): their own description, tags and properties (PUT), deletion.
  net::ServerResponse list_containers(const net::ServerRequest& req, const std::string& scope, const std::string& kind,
                                      const std::string& type);
  net::ServerResponse route_container(const net::ServerRequest& req, const std::string& scope, const std::string& kind,
                                      const std::string& name, const std::string& type, const std::string& singular);
  net::ServerResponse route_jobs(const net::ServerRequest& req, const std::string& ws,
                                 const std::vector<std::string>& rest, size_t i);
  net::ServerResponse route_operation(const net::ServerRequest& req, const std::string& kind, const std::string& id);
  net::ServerResponse route_mlflow(const net::ServerRequest& req, const std::string& ws,
                                   const std::vector<std::string>& rest, size_t i);
  net::ServerResponse route_history(const net::ServerRequest& req, const std::string& ws,
                                    const std::vector<std::string>& rest, size_t i);
  net::ServerResponse route_blob(const net::ServerRequest& req, const std::vector<std::string>& seg);
  // Azure Monitor metrics of an online endpoint (or one deployment) from endpoint_requests (metrics.cpp).
  net::ServerResponse route_metrics(const net::ServerRequest& req, const std::string& ws, const std::string& endpoint,
                                    const std::string& deployment);

  std::string scope_id(const std::string& scope) const;  // ARM id of "ws/<name>" or "reg/<name>"
  json::Document render_job(const SqlRow& row);
  std::string render_asset_json(const std::string& body);
  std::string create_operation(const std::string& resource);
  net::ServerResponse lro_accepted(int status, const std::string& op_id, const std::string& body, bool async_header);
  void log_request(const net::ServerRequest& req, int status, const char* fault);
  std::string page_link(const net::ServerRequest& req, size_t next_skip) const;

  Config cfg_;
  Identity id_;
  std::unique_ptr<Store> store_;
  std::string base_url_ = "http://127.0.0.1:0";
  FaultInjector faults_;
  std::unique_ptr<Runner> runner_;
  // Online endpoints (endpoints.cpp); declared after the store, so stopped before it closes.
  std::unique_ptr<Endpoints> endpoints_;
  RouteTable public_routes_;  // no credential needed
  RouteTable routes_;         // bearer token required
  RouteTable arm_routes_;
  mutable std::mutex log_mu_;
  std::vector<std::string> request_log_;
  std::atomic<int64_t> clock_offset_ms_{0};

  friend class Runner;
  friend class Endpoints;
};

// Helpers shared by the route files.
net::ServerResponse arm_error(int status, const std::string& code, const std::string& message,
                              const std::string& detail_code = {});
net::ServerResponse json_response(int status, const json::Value& v);
bool valid_name(const std::string& name);
// A blob container name as Azure Storage allows it (3-63 of a-z, 0-9 and single dashes).
bool valid_container(const std::string& name);
int64_t now_ms();
// ARM's systemData, an ISO time of epoch milliseconds, and a request's JSON object body (ArmError 400 otherwise).
json::Value system_data(json::Builder& b, const std::string& created, const std::string& modified,
                        const std::string& who);
std::string ms_iso(int64_t ms);
json::Document parse_body(const net::ServerRequest& req);
void require_name(const std::string& what, const std::string& name);  // ArmError 400 InvalidName
// Tag/property filter "k1,k2=v": every listed key must be present (with the value when given).
bool matches_filter(const json::Value* map, const std::string& filter);
// A page of rendered items {"value":[...],"nextLink":...} ($skip/$skipToken/$top of the request).
net::ServerResponse paged(App& app, const net::ServerRequest& req, std::vector<std::string> items, int page_size,
                          const std::function<std::string(size_t)>& link);
std::string guid_from(const std::string& seed);
std::string new_guid();

}  // namespace amlops::local
