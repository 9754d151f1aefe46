// The request routes of amlops-local: a table per trust level (method + pattern -> handler).
#include "core/strings.hpp"
#include "local/app.hpp"
#include "local/endpoints.hpp"
#include "local/tokens.hpp"

namespace amlops::local {

namespace {

// 401 in ARM's shape with the challenge header.
net::ServerResponse unauthorized(const std::string& code, const std::string& message, const std::string& authority) {
  auto r = arm_error(401, code, message);
  r.header("WWW-Authenticate", "Bearer authorization_uri=\"" + authority +
                                   "\", error=\"invalid_token\", error_description=\"" + message + "\"");
  return r;
}

}  // namespace

void App::build_routes() {
  using Req = net::ServerRequest;
  // Unauthenticated: health, request log, discovery, the token endpoint, blob (SAS or Shared Key or bearer).
  // The blob account first: its containers may have any name, "oauth2" included.
  public_routes_.add("*", id_.account + "/{path*}",
                     [this](const Req& req, const RouteMatch& m) { return route_blob(req, *m.seg); });
  endpoints_->add_public_routes(public_routes_);  // scoring: key or token checked there
  public_routes_
      .add("*", "_amlops/health",
           [](const Req&, const RouteMatch&) { return net::ServerResponse::json(200, R"({"status":"ok"})"); })
      .add("*", "_amlops/requests",
           [this](const Req& req, const RouteMatch&) {
             size_t since = 0;
             if (auto s = req.param("since")) since = static_cast<size_t>(str::parse_int(*s).value_or(0));
             return net::ServerResponse::json(200, request_log_json(since));
           })
      .add("*", "discovery",
           [this](const Req&, const RouteMatch&) {
             json::Document d(rapidjson::kObjectType);
             json::Builder b(d.GetAllocator());
             for (const char* k : {"api", "catalog", "experimentation", "gallery", "history", "hyperdrive", "labeling",
                                   "modelmanagement", "pipelines"})
               b.set(d, k, base_url_);
             b.set(d, "studio", base_url_);
             return json_response(200, d);
           })
      .add("POST", "{tenant}/oauth2/v2.0/token",
           [this](const Req& req, const RouteMatch& m) { return route_token(req, m["tenant"], true); })
      .add("POST", "{tenant}/oauth2/token",
           [this](const Req& req, const RouteMatch& m) { return route_token(req, m["tenant"], false); });

  // Bearer token required.
  auto workspace = [this](const RouteMatch& m) {
    auto w = workspace_named(m["ws"]);
    if (m["sub"] != id_.subscription || !str::iequals(m["rg"], cfg_.resource_group) || !w)
      throw ArmError(404, "ResourceNotFound", "The workspace was not found.", "WorkspaceNotFound");
    return *w;
  };
  const std::string ws_path = "subscriptions/{sub}/resourceGroups/{rg}/providers/{provider}/workspaces/{ws}/{rest*}";
  routes_
      .add("*", "subscriptions/{rest*}", [this](const Req& req, const RouteMatch& m) { return route_arm(req, *m.seg); })
      .add("*", "mlflow/v1.0/" + ws_path,
           [this, workspace](const Req& req, const RouteMatch& m) {
             return route_mlflow(req, workspace(m), *m.seg, 10);
           })
      .add("*", "history/v1.0/" + ws_path,
           [this, workspace](const Req& req, const RouteMatch& m) {
             return route_history(req, workspace(m), *m.seg, 10);
           })
      .add("*", "registrymanagement/{version}/registries/{reg}/discovery", [this](const Req&, const RouteMatch& m) {
        const std::string& reg = m["reg"];
        if (!has_registry(reg)) throw ArmError(404, "UserError", "Registry " + reg + " not found.", "RegistryNotFound");
        json::Document d(rapidjson::kObjectType);
        json::Builder b(d.GetAllocator());
        b.set(d, "registryId", guid_from("registry:" + reg));
        b.set(d, "registryName", reg);
        b.set(d, "subscriptionId", id_.subscription);
        b.set(d, "resourceGroup", cfg_.resource_group);
        b.set(d, "primaryRegion", cfg_.location);
        b.set(d, "primaryRegionResourceProviderUri", base_url_);
        json::Value fq = b.arr();
        b.push(fq, base_url_);
        b.set(d, "registryFqdns", std::move(fq));
        return json_response(200, d);
      });
  arm_routes_ = arm_routes();
}

// Everything but the public routes needs a bearer token for ARM (management or ML audience).
std::optional<net::ServerResponse> App::bearer_failure(const net::ServerRequest& req) const {
  std::string authority = base_url_ + "/" + id_.tenant;
  auto auth = req.header("authorization");
  if (!auth)
    return unauthorized("AuthenticationFailed", "Authentication failed. The 'Authorization' header is missing.",
                        authority);
  if (auth->size() < 7 || !str::iequals(auth->substr(0, 7), "bearer "))
    return unauthorized("AuthenticationFailed",
                        "Authentication failed. The 'Authorization' header is provided in an invalid format.",
                        authority);
  std::string why = check_token(std::string(str::trim(auth->substr(7))), arm_audiences());
  if (why == "expired")
    return unauthorized("ExpiredAuthenticationToken",
                        "The access token expiry UTC time is earlier than current UTC time.", authority);
  if (!why.empty())
    return unauthorized("InvalidAuthenticationToken", "The access token is invalid: " + why + ".", authority);
  return std::nullopt;
}

std::optional<net::ServerResponse> App::reject_before_body(const net::ServerRequest& req) {
  auto seg = path_segments(req.target);
  if (!seg.empty() && seg[0] == id_.account) return blob_credentials_failure(req);
  if (public_routes_.find(req.method, seg).handler) return std::nullopt;
  return bearer_failure(req);
}

net::ServerResponse App::dispatch(const net::ServerRequest& req, const std::vector<std::string>& seg) {
  auto open = public_routes_.find(req.method, seg);
  if (open.handler) return (*open.handler)(req, open.match);

  if (auto failure = bearer_failure(req)) return *failure;

  auto found = routes_.find(req.method, seg);
  if (found.handler) return (*found.handler)(req, found.match);
  if (open.path_known || found.path_known)
    throw ArmError(405, "MethodNotAllowed", req.method + " is not supported on " + req.path + ".");
  throw ArmError(404, "NotFound", "No route for " + req.method + " " + req.path + ".");
}

}  // namespace amlops::local
