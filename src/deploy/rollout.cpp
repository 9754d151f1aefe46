#include "deploy/rollout.hpp"

#include <rapidjson/stringbuffer.h>

#include <set>

#include "aml/submit.hpp"
#include "aml/upload.hpp"
#include "core/error.hpp"
#include "core/files.hpp"
#include "core/hash.hpp"
#include "core/log.hpp"
#include "core/signals.hpp"
#include "core/strings.hpp"
#include "spec/job.hpp"

namespace amlops::deploy {

const char* state_name(Outcome::State s) {
  switch (s) {
    case Outcome::State::done:
      return "done";
    case Outcome::State::unchanged:
      return "unchanged";
    case Outcome::State::rolled_back:
      return "rolled_back";
    case Outcome::State::failed:
      return "failed";
  }
  return "failed";
}

std::vector<SmokeRequest> load_requests(const std::vector<std::string>& requests,
                                        const std::vector<std::string>& expects, const std::string& schema_file) {
  std::shared_ptr<const rapidjson::SchemaDocument> schema;
  if (!schema_file.empty()) {
    if (!std::filesystem::is_regular_file(schema_file)) throw UsageError("--schema " + schema_file + " does not exist");
    json::Document sd = json::parse(files::read_bounded(schema_file, 16 * 1024 * 1024), schema_file);
    if (!sd.IsObject()) throw ConfigError(schema_file + ": a JSON Schema must be an object");
    schema = std::make_shared<const rapidjson::SchemaDocument>(sd);
  }
  if (!expects.empty() && expects.size() != 1 && expects.size() != requests.size())
    throw UsageError("--expect: give one expectation for every request, or one per --smoke-request/--request (" +
                     std::to_string(requests.size()) + " requests, " + std::to_string(expects.size()) +
                     " expectations)");
  std::vector<SmokeRequest> out;
  for (size_t i = 0; i < requests.size(); ++i) {
    SmokeRequest r;
    r.file = requests[i];
    if (!std::filesystem::is_regular_file(r.file)) throw UsageError("request file " + r.file + " does not exist");
    r.body = files::read_bounded(r.file, 16 * 1024 * 1024);
    if (!expects.empty()) {
      r.expect_file = expects.size() == 1 ? expects[0] : expects[i];
      if (!std::filesystem::is_regular_file(r.expect_file))
        throw UsageError("--expect " + r.expect_file + " does not exist");
      r.expect = json::parse(files::read_bounded(r.expect_file, 16 * 1024 * 1024), r.expect_file);
    }
    r.schema = schema;
    r.schema_file = schema_file;
    out.push_back(std::move(r));
  }
  return out;
}

std::optional<std::string> schema_violation(const rapidjson::SchemaDocument& schema, const json::Value& doc) {
  rapidjson::SchemaValidator v(schema);
  if (doc.Accept(v)) return std::nullopt;
  rapidjson::StringBuffer where, rule;
  v.GetInvalidDocumentPointer().StringifyUriFragment(where);
  v.GetInvalidSchemaPointer().StringifyUriFragment(rule);
  std::string at = where.GetString();
  at = at.size() > 1 ? at.substr(1) : "/";
  return at + ": fails '" + v.GetInvalidSchemaKeyword() + "' (schema " + rule.GetString() + ")";
}

SmokeResult smoke(Scorer& scorer, const std::vector<SmokeRequest>& requests, const std::string& deployment, int count,
                  const Thresholds& t) {
  SmokeResult res;
  std::vector<Sample> samples;
  for (int i = 0; i < std::max(count, 1); ++i) {
    for (auto& r : requests) {
      signals::check();
      std::string answer;
      Sample s = scorer.score(r.body, deployment, &answer);
      std::string failure;
      if (s.status != 200) {
        failure = s.status ? s.error : "no answer: " + s.error;
      } else if (r.expect || r.schema) {
        try {
          json::Document got = json::parse(answer, "answer to " + r.file);
          if (r.expect)
            if (auto m = mismatch(*r.expect, got)) failure = "answer does not match " + r.expect_file + ": " + *m;
          if (failure.empty() && r.schema)
            if (auto m = schema_violation(*r.schema, got))
              failure = "answer does not satisfy " + r.schema_file + ": " + *m;
        } catch (const ConfigError& e) {
          failure = "the answer is not JSON (" + std::string(e.what()) + ")";
        }
      }
      if (!failure.empty()) {
        if (s.status == 200) s.status = -1;  // a wrong answer counts as an error
        if (res.failures.size() < 10) res.failures.push_back(r.file + ": " + failure);
      }
      samples.push_back(s);
    }
  }
  res.health = evaluate(samples, t);
  return res;
}

std::string deployment_fingerprint(const json::Value& body) {
  json::Document copy;
  copy.CopyFrom(body, copy.GetAllocator());
  if (copy.HasMember("tags") && copy["tags"].IsObject()) {
    std::vector<std::string> ours;
    for (auto& m : std::as_const(copy["tags"]).GetObject())
      if (std::string(m.name.GetString()).rfind("amlops.", 0) == 0) ours.emplace_back(m.name.GetString());
    for (auto& k : ours) copy["tags"].RemoveMember(k.c_str());
  }
  return hash::sha256_hex(json::dump(copy)).substr(0, 32);
}

void resolve_deployment(azure::Workspace& ws, DeploymentSpec& d, const std::string& model_override) {
  json::Builder b(d.body.GetAllocator());
  json::Value& props = d.body["properties"];
  if (!model_override.empty()) {
    d.model = model_id(ws.id(), model_override);
    b.set(props, "model", d.model);
  }
  if (d.model.empty()) throw ConfigError(d.file + ": the deployment names no 'model' (add one, or give --model)");
  if (d.code_dir) {
    aml::UploadStats stats;
    d.code_id = aml::ensure_code(ws, *d.code_dir, stats);
    b.set(props["codeConfiguration"], "codeId", d.code_id);
  }
  if (d.environment_file) {
    spec::EnvironmentSpec env = spec::load_environment(*d.environment_file);
    b.set(props, "environmentId", ws.ensure_environment(env.name, env.version, env.body));
  } else if (d.environment.rfind("azureml:", 0) == 0) {
    std::string r = d.environment.substr(8);
    auto at = r.find('@');
    b.set(props, "environmentId", aml::resolve_label(ws, "environments", r.substr(0, at), r.substr(at + 1)));
  }
  if (auto loc = json::opt_string(ws.info(), "/location")) b.set(d.body, "location", *loc);
}

namespace {

class Rollout {
 public:
  Rollout(Endpoints& eps, net::Client& http, Clock& clock, const EndpointSpec& e, DeploymentSpec& d,
          const RolloutOptions& o)
      : eps_(eps), http_(http), clock_(clock), e_(e), d_(d), o_(o) {
    out_.endpoint = e.name;
    out_.deployment = d.name;
  }

  Outcome run() {
    try {
      return run_steps();
    } catch (const Error& e) {
      // A service error after retries, a timeout or an interrupt half-way: the traffic goes back
      // to what it was before the rollout when we changed it, then the error surfaces.
      if (record_written_ && traffic_of_endpoint(ep_) != record_.previous) {
        log::error("rollout of ", d_.name, " stopped (", e.what(), "): restoring traffic ",
                   traffic_text(record_.previous));
        try {
          signals::clear();
          put_traffic(record_.previous, record_.previous_mirror, "rolled_back", e.what());
        } catch (const std::exception& again) {
          log::error("could not restore the traffic (", again.what(), "); run: amlops-deploy rollback --endpoint ",
                     e_.name);
        }
      }
      throw;
    }
  }

  Outcome run_steps() {
    ensure_endpoint();
    read_record();
    if (!ensure_deployment()) return std::move(out_);
    if (failed_) return finish_failed();
    prepare_scorer();
    say("smoke test of " + d_.name + " (direct, azureml-model-deployment: " + d_.name + ")");
    out_.smoke = smoke(*scorer_, o_.requests, d_.name, 1, strict());
    if (!out_.smoke->ok()) return fail("smoke test failed: " + first_reason(*out_.smoke));
    if (o_.mirror > 0 && !mirror_phase()) return finish_failed();
    for (int step : steps()) {
      if (!traffic_step(step)) return finish_failed();
    }
    if (o_.cleanup) cleanup();
    out_.final_traffic = traffic_of_endpoint(ep_);
    out_.state = Outcome::State::done;
    return std::move(out_);
  }

 private:
  Endpoints& eps_;
  net::Client& http_;
  Clock& clock_;
  const EndpointSpec& e_;
  DeploymentSpec& d_;
  const RolloutOptions& o_;
  Outcome out_;
  json::Document ep_;
  RolloutRecord record_;
  bool record_written_ = false;
  bool failed_ = false;
  std::string secret_;
  std::optional<Scorer> scorer_;

  void say(const std::string& s) const {
    if (o_.progress) o_.progress(s);
  }

  // The smoke test allows no error whatever --max-error-rate says.
  Thresholds strict() const {
    Thresholds t = o_.thresholds;
    t.max_error_rate = 0;
    return t;
  }

  static std::string first_reason(const SmokeResult& s) {
    if (!s.failures.empty()) return s.failures.front();
    return s.health.reasons.empty() ? std::string("unknown") : s.health.reasons.front();
  }

  void ensure_endpoint() {
    auto ep = eps_.get(e_.name);
    if (ep) {
      ep_ = std::move(*ep);
      if (!e_.yaml_traffic.empty())
        say("endpoint " + e_.name + " exists: the traffic in " + e_.file + " is ignored (live traffic is " +
            traffic_text(traffic_of_endpoint(ep_)) + ")");
      return;
    }
    if (!e_.yaml_traffic.empty())
      say(e_.traffic_at.str() + ": the endpoint's traffic is set by the rollout steps, not from the YAML");
    json::Document body;
    body.SetObject();
    json::Builder b(body.GetAllocator());
    if (auto loc = json::opt_string(eps_.workspace().info(), "/location")) b.set(body, "location", *loc);
    if (!e_.identity_type.empty()) {
      json::Value id = b.obj();
      b.set(id, "type", e_.identity_type);
      b.set(body, "identity", std::move(id));
    }
    json::Value tags = b.obj();
    for (auto& [k, v] : e_.tags) b.set(tags, k, v);
    b.set(body, "tags", std::move(tags));
    json::Value props = b.obj();
    b.set(props, "authMode", auth_mode_rest(e_.auth));
    if (!e_.description.empty()) b.set(props, "description", e_.description);
    if (!e_.public_network_access.empty()) b.set(props, "publicNetworkAccess", e_.public_network_access);
    b.set(props, "traffic", b.obj());
    b.set(body, "properties", std::move(props));
    say("creating endpoint " + e_.name);
    ++out_.puts;
    ep_ = eps_.put(e_.name, body);
    out_.endpoint_created = true;
  }

  void read_record() {
    Traffic live = traffic_of_endpoint(ep_);
    auto tags = tags_of(ep_);
    std::optional<RolloutRecord> r;
    if (auto it = tags.find(kRolloutTag); it != tags.end()) r = parse_record(it->second);
    if (r && r->deployment == d_.name && r->state == "in_progress") {
      record_ = *r;
      record_written_ = true;
      say("resuming the rollout of " + d_.name +
          " recorded on the endpoint (traffic before it: " + traffic_text(r->previous) + ")");
    } else {
      record_.deployment = d_.name;
      record_.previous = live;
      record_.previous_mirror = mirror_of_endpoint(ep_);
    }
    out_.previous = record_.previous;
  }

  // false when there is nothing to do (the rollout is complete already).
  bool ensure_deployment() {
    std::string fp = deployment_fingerprint(d_.body);
    json::Builder b(d_.body.GetAllocator());
    if (!d_.body.HasMember("tags")) b.set(d_.body, "tags", b.obj());
    b.set(d_.body["tags"], "amlops.spec", fp);
    auto existing = eps_.get_deployment(e_.name, d_.name);
    Traffic live = traffic_of_endpoint(ep_);
    bool same = existing && json::opt_string(*existing, "/tags/amlops.spec").value_or("") == fp &&
                provisioning_state(*existing) == "Succeeded";
    if (same) {
      say("deployment " + d_.name + " is unchanged (same spec, Succeeded): not updated");
      if (live.count(d_.name) && live.at(d_.name) == 100 && mirror_of_endpoint(ep_).empty()) {
        out_.state = Outcome::State::unchanged;
        out_.final_traffic = live;
        out_.scoring_uri = json::opt_string(ep_, "/properties/scoringUri").value_or("");
        say("deployment " + d_.name + " already serves 100 % of " + e_.name + ": nothing to do");
        return false;
      }
      return true;
    }
    if (live.count(d_.name))
      throw UsageError("deployment " + d_.name + " serves " + std::to_string(live.at(d_.name)) + " % of endpoint " +
                       e_.name + "'s traffic: updating it in place would skip the smoke test and the canary steps; " +
                       "roll out the new version under another deployment name");
    say(std::string(existing ? "updating" : "creating") + " deployment " + d_.name + " at 0 % traffic");
    ++out_.puts;
    out_.deployment_updated = true;
    try {
      eps_.put_deployment(e_.name, d_.name, d_.body);
    } catch (const HttpError& e) {
      auto now = eps_.get_deployment(e_.name, d_.name);
      if (!now || provisioning_state(*now) != "Failed") throw;
      failed_ = true;
      out_.reason = "deployment " + d_.name + " failed to provision: " + e.what();
    }
    if (!failed_) {
      auto now = eps_.get_deployment(e_.name, d_.name);
      if (now && provisioning_state(*now) == "Failed") {
        failed_ = true;
        out_.reason = "deployment " + d_.name + " failed to provision";
      }
    }
    return true;
  }

  void prepare_scorer() {
    out_.scoring_uri = json::opt_string(ep_, "/properties/scoringUri").value_or("");
    if (out_.scoring_uri.empty()) {
      ep_ = eps_.require(e_.name);
      out_.scoring_uri = json::get_string(ep_, "/properties/scoringUri", "endpoint " + e_.name);
    }
    secret_ = eps_.secret(e_.name, ep_);
    if (o_.mask) o_.mask(secret_);
    scorer_.emplace(http_, out_.scoring_uri, secret_);
  }

  std::vector<int> steps() const {
    if (total(record_.previous) - (record_.previous.count(d_.name) ? record_.previous.at(d_.name) : 0) == 0) {
      if (o_.steps.size() > 1) say("no other deployment serves traffic: straight to 100 %");
      return {100};
    }
    return o_.steps;
  }

  void put_traffic(const Traffic& t, const Traffic& mirror, const std::string& state, const std::string& reason = {}) {
    record_.state = state;
    record_.reason = reason;
    ++out_.puts;
    ep_ = eps_.set_traffic(e_.name, ep_, t, mirror, {{kRolloutTag, record_text(record_)}});
    record_written_ = true;
  }

  void soak() {
    if (o_.soak.count() <= 0) return;
    say("soak " + format_duration(o_.soak));
    auto end = clock_.now() + o_.soak;
    while (clock_.now() < end) {
      signals::check();
      clock_.sleep(
          std::min<Duration>(std::chrono::seconds(1), std::chrono::duration_cast<Duration>(end - clock_.now())));
    }
  }

  // Health through the endpoint (no routing header) and the deployment still Succeeded.
  Health health(std::string& reason) {
    std::vector<Sample> samples;
    for (int i = 0; i < o_.count; ++i) {
      signals::check();
      auto& r = o_.requests[static_cast<size_t>(i) % o_.requests.size()];
      samples.push_back(scorer_->score(r.body));
    }
    Health h = evaluate(samples, o_.thresholds);
    if (!h.ok) reason = str::join(h.reasons, "; ");
    auto dep = eps_.get_deployment(e_.name, d_.name);
    std::string state = dep ? provisioning_state(*dep) : "deleted";
    if (state != "Succeeded") {
      h.ok = false;
      reason += std::string(reason.empty() ? "" : "; ") + "deployment " + d_.name + " is " + state;
    }
    return h;
  }

  bool mirror_phase() {
    Traffic live = traffic_of_endpoint(ep_);
    if (total(live) == 0) {
      say("no live traffic to mirror: mirror phase skipped");
      return true;
    }
    say("mirroring " + std::to_string(o_.mirror) + " % of live traffic to " + d_.name);
    put_traffic(live, {{d_.name, o_.mirror}}, "in_progress");
    soak();
    std::string reason;
    health(reason);  // the mirrored copies reach the new deployment; the answers come from live ones
    SmokeResult again = smoke(*scorer_, o_.requests, d_.name, 1, strict());
    if (!reason.empty() || !again.ok()) {
      out_.reason = "mirror phase: " + (reason.empty() ? first_reason(again) : reason);
      failed_ = true;
      return false;
    }
    return true;
  }

  bool traffic_step(int percent) {
    StepResult st;
    st.percent = percent;
    st.traffic = shift(record_.previous, d_.name, percent);
    Traffic live = traffic_of_endpoint(ep_);
    if (live == st.traffic && mirror_of_endpoint(ep_).empty()) {
      say("step " + std::to_string(percent) + " %: traffic is " + traffic_text(live) + " already");
    } else {
      say("step " + std::to_string(percent) + " %: traffic " + traffic_text(st.traffic));
      put_traffic(st.traffic, {}, percent == 100 ? "done" : "in_progress");
      st.changed = true;
    }
    soak();
    std::string reason;
    st.health = health(reason);
    if (reason.empty() && o_.check) reason = o_.check(st, out_.scoring_uri, secret_);
    st.ok = reason.empty();
    st.reason = reason;
    say("step " + std::to_string(percent) + " %: " + std::to_string(st.health.requests) + " requests, " +
        std::to_string(st.health.errors) + " errors, p95 " + num(st.health.p95_ms) + " ms" +
        (st.ok ? ": healthy" : ": " + reason));
    out_.steps.push_back(st);
    if (!st.ok) {
      out_.reason = "step " + std::to_string(percent) + " %: " + reason;
      failed_ = true;
      return false;
    }
    return true;
  }

  Outcome fail(const std::string& reason) {
    out_.reason = reason;
    failed_ = true;
    return finish_failed();
  }

  // Traffic restored exactly (when the rollout changed it), the log tail kept, the deployment kept
  // at 0 % or deleted.
  Outcome finish_failed() {
    say("rolling back: " + out_.reason);
    Traffic live = traffic_of_endpoint(ep_);
    if (record_written_ || live != record_.previous || mirror_of_endpoint(ep_) != record_.previous_mirror)
      put_traffic(record_.previous, record_.previous_mirror, "rolled_back", out_.reason);
    out_.final_traffic = traffic_of_endpoint(ep_);
    out_.log_tail = eps_.logs(e_.name, d_.name, 50);
    if (o_.delete_failed) {
      say("deleting deployment " + d_.name + " (--delete-failed)");
      eps_.delete_deployment(e_.name, d_.name);
      out_.deleted_failed = true;
    }
    out_.state = Outcome::State::rolled_back;
    return std::move(out_);
  }

  void cleanup() {
    Traffic live = traffic_of_endpoint(ep_);
    Traffic mirror = mirror_of_endpoint(ep_);
    for (auto& dep : eps_.deployments(e_.name)) {
      std::string name = json::opt_string(dep, "/name").value_or("");
      if (name.empty() || name == d_.name || live.count(name) || mirror.count(name)) continue;
      say("deleting deployment " + name + " (0 % traffic, --cleanup)");
      eps_.delete_deployment(e_.name, name);
      out_.cleaned.push_back(name);
    }
  }
};

}  // namespace

Outcome rollout(Endpoints& eps, net::Client& http, Clock& clock, const EndpointSpec& e, DeploymentSpec& d,
                const RolloutOptions& o) {
  if (o.requests.empty()) throw UsageError("a rollout needs at least one --smoke-request");
  return Rollout(eps, http, clock, e, d, o).run();
}

RollbackResult rollback(Endpoints& eps, const std::string& endpoint, const std::string& reason) {
  json::Document ep = eps.require(endpoint);
  auto tags = tags_of(ep);
  std::optional<RolloutRecord> r;
  if (auto it = tags.find(kRolloutTag); it != tags.end()) r = parse_record(it->second);
  if (!r)
    throw UsageError("endpoint " + endpoint + " has no rollout record (tag " + kRolloutTag +
                     "): nothing to roll back to");
  RollbackResult res;
  res.before = traffic_of_endpoint(ep);
  res.record = *r;
  if (res.before == r->previous && mirror_of_endpoint(ep) == r->previous_mirror) {
    res.after = res.before;
    return res;
  }
  std::set<std::string> present;
  for (auto& d : eps.deployments(endpoint)) present.insert(json::opt_string(d, "/name").value_or(""));
  std::vector<std::string> gone;
  for (auto& [name, w] : r->previous)
    if (!present.count(name)) gone.push_back(name);
  for (auto& [name, w] : r->previous_mirror)
    if (!present.count(name)) gone.push_back(name);
  if (!gone.empty())
    throw CheckFailed("cannot restore the traffic before the rollout of " + r->deployment + " (" +
                      traffic_text(r->previous) + "): deployment " + str::join(gone, ", ") +
                      " no longer exists (deleted by --cleanup?); set the traffic by hand");
  r->state = "rolled_back";
  r->reason = reason;
  json::Document after =
      eps.set_traffic(endpoint, ep, r->previous, r->previous_mirror, {{kRolloutTag, record_text(*r)}});
  res.after = traffic_of_endpoint(after);
  res.changed = true;
  res.record = *r;
  return res;
}

}  // namespace amlops::deploy
