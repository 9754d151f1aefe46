// The rollout state machine against a small in-memory ARM + scoring fake (a net::Transport, no
// sockets): first rollout, canary steps, smoke failure, provisioning failure, a failed health
// check restoring the traffic exactly, re-running a finished rollout (no PUT), rollback, and
// injected 503/429/resets on every request.
#include <boost/test/unit_test.hpp>
#include <random>

#include "azure/workspace.hpp"
#include "core/error.hpp"
#include "core/strings.hpp"
#include "deploy/rollout.hpp"

using namespace amlops;
using namespace amlops::deploy;

namespace {
const std::string kWs = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/w";
const std::string kArm = "https://arm.test";

json::Document copy_of(const json::Value& v) {
  json::Document d;
  d.CopyFrom(v, d.GetAllocator());
  return d;
}

class FakeAml : public net::Transport {
 public:
  std::map<std::string, json::Document> endpoints;    // name -> resource
  std::map<std::string, json::Document> deployments;  // "ep/name" -> resource
  std::vector<std::string> writes;                    // "PUT path" / "DELETE path"
  double fault_rate = 0;
  std::mt19937 rng{7};
  int faults = 0;
  unsigned route_counter = 0;

  net::AttemptResult perform(const net::Request& req, Duration, Duration, Duration) override {
    net::AttemptResult a;
    if (fault_rate > 0 && std::uniform_real_distribution<double>(0, 1)(rng) < fault_rate) {
      ++faults;
      if (faults % 3 == 0) {
        a.failure = net::Failure::reset;
        a.error = "connection reset";
        return a;
      }
      a.response.status = faults % 3 == 1 ? 503 : 429;
      a.response.headers.emplace_back("retry-after", "0");
      return a;
    }
    a.response = handle(req);
    return a;
  }

 private:
  static net::Response answer(int status, const std::string& body) {
    net::Response r;
    r.status = status;
    r.body = body;
    return r;
  }
  static net::Response not_found() { return answer(404, R"({"error":{"code":"NotFound","message":"not found"}})"); }

  net::Response handle(const net::Request& req) {
    if (req.url.rfind("https://score.test/", 0) == 0) return score(req);
    std::string path = req.url.substr(kArm.size());
    path = path.substr(0, path.find('?'));
    if (path == kWs && req.method == "GET") return answer(200, R"({"location":"westus","name":"w"})");
    std::string prefix = kWs + "/onlineEndpoints/";
    if (path.rfind(prefix, 0) != 0) return not_found();
    auto parts = str::split(path.substr(prefix.size()), '/');
    std::string ep = parts[0];
    if (req.method != "GET" && req.method != "POST") writes.push_back(req.method + " " + path.substr(kWs.size()));
    if (parts.size() == 1) {
      if (req.method == "GET") return endpoints.count(ep) ? answer(200, json::dump(endpoints[ep])) : not_found();
      if (req.method == "PUT") {
        json::Document d = json::parse(req.body);
        json::Builder b(d.GetAllocator());
        b.set(d, "name", ep);
        b.set(d["properties"], "scoringUri", "https://score.test/" + ep + "/score");
        b.set(d["properties"], "provisioningState", "Succeeded");
        endpoints[ep] = copy_of(d);
        return answer(200, json::dump(d));
      }
    }
    if (parts.size() == 2 && parts[1] == "deployments") {
      std::string list = R"({"value":[)";
      bool first = true;
      for (auto& [k, v] : deployments)
        if (k.rfind(ep + "/", 0) == 0) list += (first ? "" : ",") + json::dump(v), first = false;
      return answer(200, list + "]}");
    }
    if (parts.size() == 3 && parts[1] == "deployments") {
      std::string key = ep + "/" + parts[2];
      if (req.method == "GET") return deployments.count(key) ? answer(200, json::dump(deployments[key])) : not_found();
      if (req.method == "DELETE") {
        deployments.erase(key);
        return answer(200, "");
      }
      if (req.method == "PUT") {
        json::Document d = json::parse(req.body);
        json::Builder b(d.GetAllocator());
        b.set(d, "name", parts[2]);
        bool init_fails = json::opt_string(d, "/tags/fake").value_or("") == "init";
        b.set(d["properties"], "provisioningState", init_fails ? "Failed" : "Succeeded");
        deployments[key] = copy_of(d);
        return answer(200, json::dump(d));
      }
    }
    if (parts.size() == 2 && parts[1] == "listKeys")
      return answer(200, R"({"primaryKey":"pk-SECRET","secondaryKey":"sk"})");
    if (parts.size() == 4 && parts[3] == "getLogs")
      return answer(200, R"({"content":"starting\nTraceback (most recent call last):\nValueError: broken model"})");
    return not_found();
  }

  net::Response score(const net::Request& req) {
    std::string ep = str::split(req.url.substr(std::string("https://score.test/").size()), '/')[0];
    std::string auth;
    std::string target;
    for (auto& [k, v] : req.headers) {
      if (str::iequals(k, "authorization")) auth = v;
      if (str::iequals(k, "azureml-model-deployment")) target = v;
    }
    bool aad = json::opt_string(endpoints[ep], "/properties/authMode").value_or("") == "AADToken";
    if (auth != (aad ? "Bearer entra-ml-token" : "Bearer pk-SECRET")) return answer(401, "");
    if (target.empty()) {  // weighted routing, deterministic: a counter over 100 slots
      Traffic t = traffic_of_endpoint(endpoints[ep]);
      unsigned slot = route_counter++ % 100, acc = 0;
      for (auto& [name, w] : t) {
        acc += static_cast<unsigned>(w);
        if (slot < acc) {
          target = name;
          break;
        }
      }
      if (target.empty()) return answer(404, R"({"message":"no deployment with positive weight"})");
    }
    auto it = deployments.find(ep + "/" + target);
    if (it == deployments.end()) return answer(404, "");
    net::Response r;
    r.headers.emplace_back("azureml-model-deployment", target);
    if (json::opt_string(it->second, "/tags/fake").value_or("") == "raise") {
      r.status = 424;
      r.body = R"({"message":"An unexpected error occurred in scoring script."})";
      return r;
    }
    r.status = 200;
    r.body = R"({"predictions":[1],"probabilities":[0.75]})";
    return r;
  }
};

struct World {
  std::shared_ptr<FakeAml> fake = std::make_shared<FakeAml>();
  FakeClock clock;
  std::unique_ptr<net::Client> http;
  std::unique_ptr<azure::ArmClient> arm;
  std::unique_ptr<azure::Workspace> ws;
  std::unique_ptr<Endpoints> eps;
  EndpointSpec endpoint = load_endpoint_text("name: churn-ep\nauth_mode: key\n", "e.yml");

  World() {
    net::ClientOptions co;
    co.clock = &clock;
    co.seed = 1;
    co.transport = fake;
    co.policy.base_delay = std::chrono::milliseconds(10);
    http = std::make_unique<net::Client>(co);
    azure::ArmOptions ao;
    ao.endpoint = kArm;
    arm = std::make_unique<azure::ArmClient>(
        *http, [] { return std::string("arm-token"); }, clock, ao);
    ws = std::make_unique<azure::Workspace>(*arm, azure::WorkspaceRef::parse(kWs));
    eps = std::make_unique<Endpoints>(*ws, [] { return std::string("entra-ml-token"); });
  }

  static DeploymentSpec deployment(const std::string& name, const std::string& behaviour = "ok") {
    DeploymentSpec d = load_deployment_text("name: " + name +
                                                "\nendpoint_name: churn-ep\nmodel: azureml:churn:1\n"
                                                "instance_type: Standard_DS3_v2\ntags: {fake: " +
                                                behaviour + "}\n",
                                            name + ".yml", ".", kWs);
    return d;
  }

  RolloutOptions options(std::vector<int> steps = {10, 50, 100}) {
    RolloutOptions o;
    o.steps = std::move(steps);
    o.soak = std::chrono::seconds(30);
    o.count = 100;
    SmokeRequest r;
    r.file = "req.json";
    r.body = R"({"data":[{"tenure_months":3}]})";
    r.expect = json::parse(R"({"predictions":[1]})");
    r.expect_file = "expect.json";
    o.requests.push_back(std::move(r));
    return o;
  }

  Outcome roll(DeploymentSpec d, const RolloutOptions& o) { return rollout(*eps, *http, clock, endpoint, d, o); }
  Traffic traffic() { return traffic_of_endpoint(fake->endpoints.at("churn-ep")); }
  std::optional<RolloutRecord> record() {
    return parse_record(json::opt_string(fake->endpoints.at("churn-ep"), "/tags/amlops.rollout").value_or(""));
  }
};
}  // namespace

BOOST_AUTO_TEST_CASE(first_rollout_goes_to_100_and_a_rerun_changes_nothing) {
  World w;
  Outcome o = w.roll(World::deployment("blue"), w.options());
  BOOST_TEST(std::string(state_name(o.state)) == "done");
  BOOST_TEST(o.endpoint_created);
  BOOST_TEST(traffic_text(w.traffic()) == "blue=100");
  BOOST_TEST(o.steps.size() == 1u);  // nothing else served traffic: no canary to compare with
  BOOST_TEST(o.scoring_uri == "https://score.test/churn-ep/score");
  BOOST_TEST(w.record()->state == "done");
  w.fake->writes.clear();
  Outcome again = w.roll(World::deployment("blue"), w.options());
  BOOST_TEST(std::string(state_name(again.state)) == "unchanged");
  BOOST_TEST(w.fake->writes.empty());  // not one PUT or DELETE
  BOOST_TEST(again.puts == 0);
}

BOOST_AUTO_TEST_CASE(canary_steps_shift_traffic_and_observe_each_split) {
  World w;
  w.roll(World::deployment("blue"), w.options());
  std::vector<std::string> seen;
  RolloutOptions o = w.options();
  o.check = [&](const StepResult& st, const std::string& uri, const std::string& secret) {
    seen.push_back(traffic_text(st.traffic) + " green served " +
                   std::to_string(st.health.by_deployment.count("green") ? st.health.by_deployment.at("green") : 0));
    BOOST_TEST(uri == "https://score.test/churn-ep/score");
    BOOST_TEST(secret == "pk-SECRET");
    return std::string();
  };
  Outcome out = w.roll(World::deployment("green"), o);
  BOOST_TEST(std::string(state_name(out.state)) == "done");
  BOOST_TEST((seen == std::vector<std::string>{"blue=90,green=10 green served 10", "blue=50,green=50 green served 50",
                                               "green=100 green served 100"}));
  BOOST_TEST(traffic_text(w.traffic()) == "green=100");
  BOOST_TEST(traffic_text(out.previous) == "blue=100");
  BOOST_TEST(w.clock.total_slept() >= std::chrono::seconds(90));  // three soaks
  BOOST_TEST(w.fake->deployments.count("churn-ep/blue") == 1u);   // kept without --cleanup
  // rollback afterwards restores what was there before this rollout
  RollbackResult rb = rollback(*w.eps, "churn-ep", "test");
  BOOST_TEST(rb.changed);
  BOOST_TEST(traffic_text(w.traffic()) == "blue=100");
  BOOST_TEST(!rollback(*w.eps, "churn-ep", "test").changed);  // twice: nothing more
  // After --cleanup deleted the deployment the record names, rollback says so and changes nothing.
  w.roll(World::deployment("green"), w.options());
  w.fake->deployments.erase("churn-ep/blue");
  w.fake->writes.clear();
  BOOST_CHECK_EXCEPTION(rollback(*w.eps, "churn-ep", "test"), CheckFailed, [](const CheckFailed& e) {
    return std::string(e.what()).find("deployment blue no longer exists") != std::string::npos;
  });
  BOOST_TEST(w.fake->writes.empty());
  BOOST_TEST(traffic_text(w.traffic()) == "green=100");
}

BOOST_AUTO_TEST_CASE(smoke_failure_keeps_traffic_untouched) {
  World w;
  w.roll(World::deployment("blue"), w.options());
  w.fake->writes.clear();
  Outcome o = w.roll(World::deployment("green", "raise"), w.options());
  BOOST_TEST(std::string(state_name(o.state)) == "rolled_back");
  BOOST_TEST(o.reason.find("smoke test failed") != std::string::npos);
  BOOST_TEST(o.reason.find("HTTP 424") != std::string::npos);
  BOOST_TEST(traffic_text(w.traffic()) == "blue=100");
  BOOST_TEST(o.log_tail.find("ValueError: broken model") != std::string::npos);
  // the deployment PUT only: the endpoint was never written
  BOOST_TEST((w.fake->writes == std::vector<std::string>{"PUT /onlineEndpoints/churn-ep/deployments/green"}));
  BOOST_TEST(w.fake->deployments.count("churn-ep/green") == 1u);  // kept at 0 % for diagnosis
}

BOOST_AUTO_TEST_CASE(provisioning_failure_rolls_back_and_delete_failed_removes_it) {
  World w;
  w.roll(World::deployment("blue"), w.options());
  RolloutOptions o = w.options();
  o.delete_failed = true;
  Outcome out = w.roll(World::deployment("green", "init"), o);
  BOOST_TEST(std::string(state_name(out.state)) == "rolled_back");
  BOOST_TEST(out.reason.find("failed to provision") != std::string::npos);
  BOOST_TEST(!out.log_tail.empty());
  BOOST_TEST(out.deleted_failed);
  BOOST_TEST(w.fake->deployments.count("churn-ep/green") == 0u);
  BOOST_TEST(traffic_text(w.traffic()) == "blue=100");
}

BOOST_AUTO_TEST_CASE(failed_health_check_restores_traffic_exactly) {
  World w;
  w.roll(World::deployment("blue"), w.options());
  RolloutOptions stop_at_100 = w.options({30, 100});
  stop_at_100.check = [](const StepResult& st, const std::string&, const std::string&) {
    return st.percent == 100 ? std::string("stop") : std::string();
  };
  Outcome red = w.roll(World::deployment("red"), stop_at_100);
  BOOST_TEST(std::string(state_name(red.state)) == "rolled_back");
  BOOST_TEST(traffic_text(w.traffic()) == "blue=100");
  // A split set by hand before the next rollout: blue=70, red=30.
  json::Document& ep = w.fake->endpoints.at("churn-ep");
  ep["properties"]["traffic"] = json::Value(rapidjson::kObjectType);
  ep["properties"]["traffic"].AddMember("blue", 70, ep.GetAllocator());
  ep["properties"]["traffic"].AddMember("red", 30, ep.GetAllocator());
  std::vector<std::string> seen;
  RolloutOptions fail50 = w.options({10, 50, 100});
  fail50.check = [&](const StepResult& st, const std::string&, const std::string&) {
    seen.push_back(traffic_text(st.traffic));
    return st.percent == 50 ? std::string("error rate too high") : std::string();
  };
  Outcome o = w.roll(World::deployment("green"), fail50);
  BOOST_TEST(std::string(state_name(o.state)) == "rolled_back");
  BOOST_TEST((seen == std::vector<std::string>{"blue=63,green=10,red=27", "blue=35,green=50,red=15"}));
  BOOST_TEST(o.reason == "step 50 %: error rate too high");
  BOOST_TEST(traffic_text(w.traffic()) == "blue=70,red=30");
  BOOST_TEST(w.record()->state == "rolled_back");
  BOOST_TEST(!rollback(*w.eps, "churn-ep", "again").changed);  // already as before the rollout
}

BOOST_AUTO_TEST_CASE(a_live_deployment_is_never_updated_in_place) {
  World w;
  w.roll(World::deployment("blue"), w.options());
  w.fake->writes.clear();
  BOOST_CHECK_THROW(w.roll(World::deployment("blue", "changed"), w.options()), UsageError);
  BOOST_TEST(w.fake->writes.empty());
}

BOOST_AUTO_TEST_CASE(injected_faults_on_every_request_end_in_a_correct_state) {
  World w;
  w.fake->fault_rate = 0.2;
  Outcome first = w.roll(World::deployment("blue"), w.options());
  // The scoring requests are not retried (their errors are health data): with faults on them too,
  // the first rollout may roll back; the ARM state must then still be consistent.
  if (first.state == Outcome::State::done) {
    BOOST_TEST(traffic_text(w.traffic()) == "blue=100");
  } else {
    BOOST_TEST(std::string(state_name(first.state)) == "rolled_back");
    BOOST_TEST(w.traffic().empty());
  }
  BOOST_TEST(w.fake->faults > 0);
}

BOOST_AUTO_TEST_CASE(aad_token_endpoints_score_with_an_entra_token) {
  World w;
  w.endpoint = load_endpoint_text("name: churn-ep\nauth_mode: aad_token\n", "e.yml");
  Outcome o = w.roll(World::deployment("blue"), w.options());
  BOOST_TEST(std::string(state_name(o.state)) == "done");
  BOOST_TEST(json::get_string(w.fake->endpoints.at("churn-ep"), "/properties/authMode") == "AADToken");
  BOOST_TEST(o.smoke->health.errors == 0u);
}

BOOST_AUTO_TEST_CASE(answers_checked_against_a_json_schema) {
  json::Document sd = json::parse(R"({"type": "object", "required": ["predictions"],
    "properties": {"predictions": {"type": "array", "minItems": 1, "items": {"enum": [0, 1]}}}})");
  rapidjson::SchemaDocument schema(sd);
  BOOST_TEST(!schema_violation(schema, json::parse(R"({"predictions": [0, 1], "probabilities": [0.1, 0.9]})")));
  auto bad = schema_violation(schema, json::parse(R"({"predictions": [0, 2]})"));
  BOOST_REQUIRE(bad.has_value());
  BOOST_TEST(bad->rfind("/predictions/1: fails 'enum'", 0) == 0);
  bad = schema_violation(schema, json::parse(R"({"error": "x"})"));
  BOOST_REQUIRE(bad.has_value());
  BOOST_TEST(bad->find("fails 'required'") != std::string::npos);
}
