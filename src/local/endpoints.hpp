// Managed online endpoints of amlops-local: the ARM resources (onlineEndpoints, their
// deployments, keys, tokens, logs, skus), the deployments' instances (one inference host process
// each, src/local/inference.hpp) and the scoring route that routes by traffic, mirrors, checks keys
// and tokens, records every request (table endpoint_requests) and writes the data collector's files.
#pragma once
#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "core/json.hpp"
#include "local/routes.hpp"
#include "net/server.hpp"

namespace amlops::local {

class App;
struct Deployment;  // running state of one deployment (endpoints.cpp)

class Endpoints {
 public:
  explicit Endpoints(App& app);
  ~Endpoints();
  Endpoints(const Endpoints&) = delete;
  Endpoints& operator=(const Endpoints&) = delete;

  // ARM routes below a workspace (`ws_path` ends with workspaces/{name}; `ws_of` checks it).
  void add_arm_routes(RouteTable& t, const std::string& ws_path,
                      const std::function<std::string(const RouteMatch&)>& ws_of);
  // The scoring routes: /_endpoints/{ws}/{endpoint}/score and /swagger.json (own key/token auth).
  void add_public_routes(RouteTable& t);

  // Starts the deployments kept in the store and the supervisor (liveness, restarts, mirroring).
  void start();
  // Stops the supervisor and every instance process.
  void stop();

  // The endpoint's scoring URI (on this server).
  [[nodiscard]] std::string scoring_uri(const std::string& ws, const std::string& endpoint) const;

 private:
  net::ServerResponse endpoint_put(const net::ServerRequest& req, const std::string& ws, const std::string& name);
  net::ServerResponse endpoint_patch(const net::ServerRequest& req, const std::string& ws, const std::string& name);
  net::ServerResponse endpoint_delete(const std::string& ws, const std::string& name);
  net::ServerResponse endpoint_get(const std::string& ws, const std::string& name);
  net::ServerResponse endpoint_list(const net::ServerRequest& req, const std::string& ws);
  net::ServerResponse endpoint_keys(const std::string& ws, const std::string& name);
  net::ServerResponse endpoint_regenerate(const net::ServerRequest& req, const std::string& ws,
                                          const std::string& name);
  net::ServerResponse endpoint_token(const std::string& ws, const std::string& name);
  net::ServerResponse deployment_put(const net::ServerRequest& req, const std::string& ws, const std::string& ep,
                                     const std::string& name);
  net::ServerResponse deployment_patch(const net::ServerRequest& req, const std::string& ws, const std::string& ep,
                                       const std::string& name);
  net::ServerResponse deployment_delete(const std::string& ws, const std::string& ep, const std::string& name);
  net::ServerResponse deployment_get(const std::string& ws, const std::string& ep, const std::string& name);
  net::ServerResponse deployment_list(const net::ServerRequest& req, const std::string& ws, const std::string& ep);
  net::ServerResponse deployment_logs(const net::ServerRequest& req, const std::string& ws, const std::string& ep,
                                      const std::string& name);
  net::ServerResponse deployment_skus(const net::ServerRequest& req, const std::string& ws, const std::string& ep,
                                      const std::string& name);
  net::ServerResponse score(const net::ServerRequest& req, const std::string& ws, const std::string& ep);

  std::string render_endpoint(const std::string& ws, const std::string& name);  // throws 404
  std::string render_deployment(const std::string& ws, const std::string& ep, const std::string& name);
  // The resource's managed identity (as sent, with ids filled in).
  json::Value identity(json::Builder& b, const json::Value& body, const std::string& seed);
  void require_endpoint(const std::string& ws, const std::string& name);
  // An operation row that stays InProgress until finish_operation.
  std::string open_operation(const std::string& resource);
  void finish_operation(const std::string& id, const std::string& status, const std::string& error = {});
  net::ServerResponse accepted(int status, const std::string& op, const std::string& body, bool async_header);

  // Deployment lifecycle (a provisioning thread per change).
  void provision(const std::string& ws, const std::string& ep, const std::string& name, const std::string& op);
  void provision_thread(std::shared_ptr<Deployment> d, std::string op, uint64_t generation);
  std::shared_ptr<Deployment> deployment(const std::string& key);
  void stop_deployment(const std::string& key);
  void set_state(const std::string& ws, const std::string& ep, const std::string& name, const std::string& state);
  void supervise();
  void collect(const std::shared_ptr<Deployment>& d, size_t instance, const std::string& request_id,
               const std::string& request_body, const json::Value* envelope, const std::string& response_body);
  void record(const std::string& ws, const std::string& ep, const std::string& dep, int64_t at_ms, int status,
              double latency_ms);

  App& app_;
  std::mutex mu_;                                                   // deployments_
  std::map<std::string, std::shared_ptr<Deployment>> deployments_;  // "ws/ep/dep"
  std::thread supervisor_;
  std::atomic<bool> stopping_{false};
  std::mutex wake_mu_;
  std::condition_variable wake_cv_;
  struct Mirror {
    std::shared_ptr<Deployment> d;
    std::string body;
    std::map<std::string, std::string> headers;
  };
  std::deque<Mirror> mirrors_;  // under wake_mu_
  std::mutex rng_mu_;
  std::mt19937_64 rng_;
  std::mutex collect_mu_;
};

}  // namespace amlops::local
