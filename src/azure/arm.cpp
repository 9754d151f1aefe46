#include "azure/arm.hpp"

#include <algorithm>

#include "core/error.hpp"
#include "core/log.hpp"
#include "core/redact.hpp"
#include "core/signals.hpp"
#include "core/strings.hpp"
#include "net/retry.hpp"

namespace amlops::azure {

std::string WorkspaceRef::arm_id() const {
  return "/subscriptions/" + subscription + "/resourceGroups/" + resource_group +
         "/providers/Microsoft.MachineLearningServices/workspaces/" + name;
}

WorkspaceRef WorkspaceRef::parse(const std::string& text) {
  std::string t = text;
  if (t.rfind("azureml://", 0) == 0) t = t.substr(9);
  auto parts = str::split(t, '/');
  std::vector<std::string> p;
  for (auto& s : parts)
    if (!s.empty()) p.push_back(s);
  WorkspaceRef ref;
  for (size_t i = 0; i + 1 < p.size(); ++i) {
    std::string k = str::to_lower(p[i]);
    if (k == "subscriptions") ref.subscription = p[i + 1];
    if (k == "resourcegroups") ref.resource_group = p[i + 1];
    if (k == "workspaces") ref.name = p[i + 1];
  }
  if (ref.subscription.empty() || ref.resource_group.empty() || ref.name.empty())
    throw UsageError("workspace '" + text +
                     "' is not azureml://subscriptions/<sub>/resourcegroups/<rg>/workspaces/<ws> or a workspace ARM id "
                     "(set --workspace or AMLOPS_WORKSPACE)");
  return ref;
}

std::string arm_error_text(const std::string& body, std::string* code_out) {
  if (body.empty() || body.front() != '{') return {};
  try {
    auto doc = json::parse(body, "error body");
    const json::Value* err = json::find(doc, "/error");
    if (!err || !err->IsObject()) return {};
    std::string code = json::opt_string(*err, "/code").value_or("");
    std::string msg = json::opt_string(*err, "/message").value_or("");
    std::string text = code.empty() ? msg : code + ": " + msg;
    const json::Value* details = json::find(*err, "/details");
    if (details && details->IsArray()) {
      std::vector<std::string> d;
      for (auto& x : details->GetArray()) {
        std::string dc = json::opt_string(x, "/code").value_or(""), dm = json::opt_string(x, "/message").value_or("");
        if (!dm.empty() && dm != msg) d.push_back(dc.empty() ? dm : dc + ": " + dm);
      }
      if (!d.empty()) text += " (" + str::join(d, "; ") + ")";
    }
    if (code_out) *code_out = code;
    return text;
  } catch (const std::exception&) {
    return {};
  }
}

namespace {
std::string correlation(const net::Response& r) {
  if (auto c = r.header("x-ms-correlation-request-id")) return *c;
  try {
    if (!r.body.empty() && r.body.front() == '{') {
      auto doc = json::parse(r.body, "error body");
      const json::Value* info = json::find(doc, "/error/additionalInfo");
      if (info && info->IsArray())
        for (auto& i : info->GetArray())
          if (json::opt_string(i, "/type").value_or("") == "Correlation")
            if (auto op = json::opt_string(i, "/info/value/operation")) return *op;
    }
  } catch (const std::exception&) {
  }
  return r.header("x-ms-request-id").value_or("");
}
}  // namespace

void raise_arm_error(const net::Response& r, const std::string& what) {
  std::string code;
  std::string text = arm_error_text(r.body, &code);
  if (text.empty() && !r.body.empty()) text = r.body.substr(0, 300);
  std::string corr = correlation(r);
  std::string msg = what + ": HTTP " + std::to_string(r.status) + (text.empty() ? "" : " " + text);
  if (!corr.empty()) msg += " [correlation id " + corr + "]";
  throw HttpError(r.status, redact::text(msg), code, corr);
}

ArmClient::ArmClient(net::Client& http, TokenFn token, Clock& clock, ArmOptions opts)
    : http_(http), token_(std::move(token)), clock_(clock), opts_(std::move(opts)) {
  while (!opts_.endpoint.empty() && opts_.endpoint.back() == '/') opts_.endpoint.pop_back();
}

std::string ArmClient::url(const std::string& path) const {
  if (path.rfind("http://", 0) == 0 || path.rfind("https://", 0) == 0) return path;
  std::string u = opts_.endpoint + path;
  if (u.find("api-version=") == std::string::npos)
    u += (u.find('?') == std::string::npos ? "?" : "&") + std::string("api-version=") + opts_.api_version;
  return u;
}

net::Response ArmClient::send(const std::string& method, const std::string& path, const std::string& body,
                              bool idempotent, const net::Headers& extra) {
  net::Request req;
  req.method = method;
  req.url = url(path);
  req.idempotent = idempotent;
  req.headers.emplace_back("Authorization", "Bearer " + token_());
  req.headers.emplace_back("Accept", "application/json");
  if (!body.empty() || method == "PUT" || method == "POST" || method == "PATCH")
    req.headers.emplace_back("Content-Type", "application/json");
  for (auto& h : extra) req.headers.push_back(h);
  req.body = body;
  req.policy = opts_.policy;
  return http_.send(std::move(req));
}

json::Document ArmClient::get(const std::string& path) {
  auto r = send("GET", path);
  if (!r.ok()) raise_arm_error(r, "GET " + redact::url(path));
  return json::parse(r.body.empty() ? "{}" : r.body, "response of GET " + redact::url(path));
}

std::optional<json::Document> ArmClient::get_if_exists(const std::string& path) {
  auto r = send("GET", path);
  if (r.status == 404) return std::nullopt;
  if (!r.ok()) raise_arm_error(r, "GET " + redact::url(path));
  return json::parse(r.body.empty() ? "{}" : r.body, "response of GET " + redact::url(path));
}

json::Document ArmClient::put(const std::string& path, const json::Value& body) {
  auto r = send("PUT", path, json::dump(body));
  if (!r.ok()) raise_arm_error(r, "PUT " + redact::url(path));
  return finish(r, "PUT", path);
}

json::Document ArmClient::post(const std::string& path, const std::string& body, bool idempotent) {
  auto r = send("POST", path, body, idempotent);
  if (!r.ok()) raise_arm_error(r, "POST " + redact::url(path));
  return finish(r, "POST", path);
}

json::Document ArmClient::del(const std::string& path) {
  auto r = send("DELETE", path);
  if (r.status == 404) return json::parse("{}");
  if (!r.ok()) raise_arm_error(r, "DELETE " + redact::url(path));
  return finish(r, "DELETE", path);
}

Duration ArmClient::poll_delay(const net::Response& r) const {
  Duration d = opts_.lro_poll;
  if (auto ra = r.header("retry-after"))
    if (auto parsed = net::parse_retry_after(*ra, clock_.wall())) d = *parsed;
  return std::clamp(d, Duration(0), opts_.lro_poll_max);
}

json::Document ArmClient::finish(const net::Response& first, const std::string& method, const std::string& path) {
  auto deadline = clock_.now() + opts_.lro_timeout;
  auto parse_body = [&](const net::Response& r) {
    return json::parse(r.body.empty() ? "{}" : r.body, "response of " + method + " " + redact::url(path));
  };
  auto wait = [&](const net::Response& r) {
    if (clock_.now() >= deadline)
      throw TimeoutError(method + " " + redact::url(path) + ": the operation did not finish within " +
                         format_duration(opts_.lro_timeout));
    signals::check();
    clock_.sleep(poll_delay(r));
    signals::check();
  };
  auto async_op = first.header("azure-asyncoperation");
  auto location = first.header("location");
  if ((first.status == 201 || first.status == 202 || first.status == 200) && async_op && !async_op->empty()) {
    net::Response last = first;
    for (;;) {
      wait(last);
      last = send("GET", *async_op);
      if (!last.ok()) raise_arm_error(last, "GET operation status of " + method + " " + redact::url(path));
      auto st = json::parse(last.body, "operation status");
      std::string status = json::opt_string(st, "/status").value_or("");
      if (str::iequals(status, "Succeeded")) break;
      if (str::iequals(status, "Failed") || str::iequals(status, "Canceled") || str::iequals(status, "Cancelled")) {
        std::string code = json::opt_string(st, "/error/code").value_or(status);
        std::string msg = json::opt_string(st, "/error/message").value_or("the operation ended " + status);
        throw HttpError(200, method + " " + redact::url(path) + ": operation " + status + ": " + code + ": " + msg,
                        code, first.header("x-ms-correlation-request-id").value_or(""));
      }
      log::debug(method, " ", redact::url(path), ": operation ", status.empty() ? "running" : status);
    }
    if (method == "DELETE" || method == "POST") return json::parse("{}");
    return get(path);
  }
  if (first.status == 202 && location && !location->empty()) {
    net::Response last = first;
    for (;;) {
      wait(last);
      last = send("GET", *location);
      if (last.status == 202) continue;
      if (!last.ok()) raise_arm_error(last, "GET operation result of " + method + " " + redact::url(path));
      return parse_body(last);
    }
  }
  json::Document doc = parse_body(first);
  // A PUT answered 200/201 whose provisioningState is not terminal yet: poll the resource.
  if (method == "PUT") {
    for (;;) {
      std::string state = json::opt_string(doc, "/properties/provisioningState").value_or("Succeeded");
      if (str::iequals(state, "Succeeded")) break;
      if (str::iequals(state, "Failed") || str::iequals(state, "Canceled"))
        throw HttpError(first.status, "PUT " + redact::url(path) + ": provisioning " + state);
      wait(first);
      doc = get(path);
    }
  }
  return doc;
}

std::vector<json::Document> ArmClient::list(const std::string& path, size_t max_items) {
  std::vector<json::Document> out;
  std::string next = path;
  int pages = 0;
  while (!next.empty()) {
    json::Document page = get(next);
    ++pages;
    const json::Value* value = json::find(page, "/value");
    if (value && value->IsArray()) {
      for (auto& v : value->GetArray()) {
        json::Document d;
        d.CopyFrom(v, d.GetAllocator());
        out.push_back(std::move(d));
        if (max_items && out.size() >= max_items) return out;
      }
    }
    std::string link = json::opt_string(page, "/nextLink").value_or("");
    if (!link.empty() && link == next) break;
    next = link;
    if (pages > 10000) break;
  }
  return out;
}

}  // namespace amlops::azure
