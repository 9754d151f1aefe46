// Waiting for jobs on a fake clock: a 3-hour wait with 1-minute tokens and 5-minute OIDC
// assertions (a GitHub federated credential), timeouts and interrupts that cancel the job.
#include <boost/test/unit_test.hpp>
#include <csignal>
#include <sstream>

#include "../azure/fake_transport.hpp"
#include "aml/uri.hpp"
#include "aml/wait.hpp"
#include "azure/auth.hpp"
#include "core/error.hpp"
#include "core/signals.hpp"
#include "core/strings.hpp"

using namespace amlops;
using test::respond;

namespace {

struct FakeWorkspaceService {
  FakeClock clock;
  std::shared_ptr<test::FakeTransport> t = std::make_shared<test::FakeTransport>();
  std::unique_ptr<net::Client> http;
  std::shared_ptr<azure::TokenCache> tokens;
  std::unique_ptr<azure::ArmClient> arm;
  std::unique_ptr<azure::Workspace> ws;

  std::chrono::system_clock::time_point started = clock.wall();
  Duration run_for = std::chrono::hours(3);
  std::map<std::string, std::chrono::system_clock::time_point> assertion_expiry, token_expiry;
  int assertions = 0, tokens_issued = 0, violations = 0, cancels = 0, job_gets = 0;
  bool canceled = false;
  std::vector<std::string> problems;

  FakeWorkspaceService() {
    net::ClientOptions o;
    o.clock = &clock;
    o.transport = t;
    http = std::make_unique<net::Client>(o);
    MapEnv env({{"AZURE_CLIENT_ID", "app"},
                {"AZURE_TENANT_ID", "tenant"},
                {"AZURE_AUTHORITY_HOST", "https://login.test"},
                {"ACTIONS_ID_TOKEN_REQUEST_URL", "https://gh.test/idtoken?api-version=2.0"},
                {"ACTIONS_ID_TOKEN_REQUEST_TOKEN", "gh-req"}});
    tokens = std::make_shared<azure::TokenCache>(azure::make_credential(env, *http, clock), clock);
    auto tk = tokens;
    azure::ArmOptions ao;
    ao.endpoint = "https://arm.test";
    arm = std::make_unique<azure::ArmClient>(
        *http, [tk] { return tk->token(azure::kArmScope); }, clock, ao);
    ws = std::make_unique<azure::Workspace>(
        *arm, azure::WorkspaceRef::parse("azureml://subscriptions/s/resourcegroups/rg/workspaces/w"));
    t->handler = [this](const net::Request& r) { return route(r); };
  }

  net::Response route(const net::Request& r) {
    auto now = clock.wall();
    if (r.url.rfind("https://gh.test/idtoken", 0) == 0) {
      std::string jwt = "jwt-" + std::to_string(++assertions);
      assertion_expiry[jwt] = now + std::chrono::minutes(5);
      return respond(200, R"({"count":1,"value":")" + jwt + R"("})");
    }
    if (r.url.rfind("https://login.test/", 0) == 0) {
      auto pos = r.body.find("client_assertion=");
      std::string jwt = pos == std::string::npos ? "" : r.body.substr(pos + 17, r.body.find('&', pos) - pos - 17);
      auto it = assertion_expiry.find(jwt);
      if (it == assertion_expiry.end() || it->second <= now) {
        ++violations;
        problems.push_back("expired or unknown assertion " + jwt);
        return respond(
            400,
            R"({"error":"invalid_client","error_description":"AADSTS700024: Client assertion is not within its valid time range."})");
      }
      assertion_expiry.erase(it);  // single use: a replay is a violation too
      std::string tok = "tok-" + std::to_string(++tokens_issued);
      token_expiry[tok] = now + std::chrono::seconds(60);
      return respond(200, R"({"token_type":"Bearer","expires_in":60,"access_token":")" + tok + R"("})");
    }
    if (r.url == "https://disc.test/discovery")
      return respond(200, R"({"api":"https://api.test"})");  // unauthenticated
    if (r.url.rfind("https://arm.test/results/cancel", 0) == 0) return respond(200, "");
    // Every other request carries a bearer token that must not have expired.
    std::string auth = test::header_of(r, "Authorization");
    std::string tok = auth.rfind("Bearer ", 0) == 0 ? auth.substr(7) : "";
    auto it = token_expiry.find(tok);
    if (it == token_expiry.end() || it->second <= now) {
      ++violations;
      problems.push_back("expired token " + tok + " on " + r.url);
      return respond(401, R"({"error":{"code":"ExpiredAuthenticationToken","message":"expired"}})");
    }
    if (r.url.find("/cancel") != std::string::npos) {
      ++cancels;
      canceled = true;
      return respond(202, "", {{"Location", "https://arm.test/results/cancel"}});
    }
    if (r.url.rfind("https://arm.test/results/cancel", 0) == 0) return respond(200, "");
    if (r.url.find("/jobs/train-1") != std::string::npos) {
      ++job_gets;
      std::string status = canceled ? "Canceled" : (now - started >= run_for ? "Completed" : "Running");
      return respond(200, R"({"name":"train-1","properties":{"jobType":"Command","status":")" + status +
                              R"(","services":{"Studio":{"endpoint":"https://ml.azure.com/runs/train-1"}}}})");
    }
    if (r.url.find("/workspaces/w?") != std::string::npos)
      return respond(
          200,
          R"({"properties":{"discoveryUrl":"https://disc.test/discovery","mlFlowTrackingUri":"azureml://api.test/mlflow/v1.0/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/w"}})");
    if (r.url == "https://disc.test/discovery") return respond(200, R"({"api":"https://api.test"})");
    if (r.url.find("/mlflow/") != std::string::npos)
      return respond(
          200,
          R"({"run":{"info":{"run_id":"train-1"},"data":{"metrics":[{"key":"accuracy","value":0.91,"timestamp":1,"step":0}]}}})");
    if (r.url.find("/runs/train-1/details") != std::string::npos)
      return respond(
          200,
          R"({"runId":"train-1","startTimeUtc":"2026-01-01T00:00:00Z","endTimeUtc":"2026-01-01T03:00:05Z","logFiles":{}})");
    return respond(404, R"({"error":{"code":"NotFound","message":"no route"}})");
  }
};

struct Ctx {
  MapEnv env;
  std::ostringstream cmds, err;
  std::unique_ptr<ci::Host> host;
  std::unique_ptr<aml::Reporter> ctx;
  explicit Ctx(Clock& clock) {
    host = ci::make_host(ci::Kind::terminal, env, cmds);
    ctx = std::make_unique<aml::Reporter>(aml::Reporter{clock, *host, err});
  }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(wait)

BOOST_AUTO_TEST_CASE(three_hour_wait_refreshes_tokens_and_assertions) {
  FakeWorkspaceService svc;
  Ctx c(svc.clock);
  aml::WaitOptions w;
  w.poll_max = std::chrono::seconds(60);
  auto r = aml::wait_job(*c.ctx, *svc.ws, "train-1", w);
  BOOST_TEST(r.status == "Completed");
  BOOST_TEST(r.metrics["accuracy"] == 0.91);
  BOOST_TEST(r.duration_s == 3 * 3600 + 5);
  BOOST_TEST(svc.clock.total_slept() >= std::chrono::hours(3));
  BOOST_TEST(svc.violations == 0, str::join(svc.problems, "; "));
  // 1-minute tokens over 3 hours: many refreshes, each with its own fresh assertion.
  BOOST_TEST(svc.tokens_issued >= 180);
  BOOST_TEST(svc.assertions == svc.tokens_issued);
  BOOST_TEST(svc.job_gets >= 180);
  BOOST_TEST(svc.cancels == 0);
}

BOOST_AUTO_TEST_CASE(timeout_cancels_and_is_exit_3) {
  FakeWorkspaceService svc;
  Ctx c(svc.clock);
  aml::WaitOptions w;
  w.timeout = std::chrono::seconds(2);
  try {
    aml::wait_job(*c.ctx, *svc.ws, "train-1", w);
    BOOST_FAIL("no timeout");
  } catch (const TimeoutError& e) {
    BOOST_TEST(std::string(e.what()).find("did not finish within 2.0s; the job was canceled") != std::string::npos,
               e.what());
    BOOST_TEST(static_cast<int>(e.exit_code()) == 3);
  }
  BOOST_TEST(svc.cancels == 1);
  BOOST_TEST(svc.clock.total_slept() < std::chrono::seconds(10));

  FakeWorkspaceService svc2;
  Ctx c2(svc2.clock);
  w.cancel_on_timeout = false;
  BOOST_CHECK_THROW(aml::wait_job(*c2.ctx, *svc2.ws, "train-1", w), TimeoutError);
  BOOST_TEST(svc2.cancels == 0);
}

BOOST_AUTO_TEST_CASE(sigterm_cancels_the_job) {
  FakeWorkspaceService svc;
  Ctx c(svc.clock);
  signals::install();
  signals::reset_for_tests();
  int polls = 0;
  auto inner = svc.t->handler;
  svc.t->handler = [&](const net::Request& r) {
    if (r.url.find("/jobs/train-1?") != std::string::npos && ++polls == 3) std::raise(SIGTERM);
    return inner(r);
  };
  aml::WaitOptions w;
  try {
    aml::wait_job(*c.ctx, *svc.ws, "train-1", w);
    BOOST_FAIL("no interrupt");
  } catch (const InterruptedError& e) {
    BOOST_TEST(std::string(e.what()).find("SIGTERM") != std::string::npos);
    BOOST_TEST(static_cast<int>(e.exit_code()) == 130);
  }
  BOOST_TEST(svc.cancels == 1);
  signals::reset_for_tests();
}

BOOST_AUTO_TEST_CASE(signal_during_a_request_still_cancels) {
  FakeWorkspaceService svc;
  Ctx c(svc.clock);
  signals::install();
  signals::reset_for_tests();
  int polls = 0;
  auto inner = svc.t->handler;
  // The signal lands during a poll: the log request that follows is stopped by the client.
  svc.t->handler = [&](const net::Request& r) {
    if (r.url.find("/jobs/train-1?") != std::string::npos && ++polls == 2) std::raise(SIGINT);
    return inner(r);
  };
  aml::WaitOptions w;
  w.stream = true;
  BOOST_CHECK_THROW(aml::wait_job(*c.ctx, *svc.ws, "train-1", w), InterruptedError);
  BOOST_TEST(svc.cancels == 1);
  signals::reset_for_tests();
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_CASE(blob_relative_name_respects_folder_boundaries) {
  using aml::blob_relative_name;
  // A model URI ".../paths/models/v1" lists by the string prefix "models/v1", which also
  // returns "models/v10/..." and "models/v1.bak": those are not part of the model.
  BOOST_TEST(blob_relative_name("models/v1", "models/v1/model.pkl").value_or("-") == "model.pkl");
  BOOST_TEST(blob_relative_name("models/v1/", "models/v1/sub/a.txt").value_or("-") == "sub/a.txt");
  BOOST_TEST(!blob_relative_name("models/v1", "models/v10/model.pkl"));
  BOOST_TEST(!blob_relative_name("models/v1", "models/v1.bak"));
  BOOST_TEST(!blob_relative_name("models/v1/", "models/v10/model.pkl"));
  // A prefix naming one file.
  BOOST_TEST(blob_relative_name("LocalUpload/abc/model.pkl", "LocalUpload/abc/model.pkl").value_or("-") == "model.pkl");
  BOOST_TEST(!blob_relative_name("LocalUpload/abc/model.pkl", "LocalUpload/abc/model.pkl.sha"));
  // The whole container; folder marker blobs are skipped.
  BOOST_TEST(blob_relative_name("", "a/b.txt").value_or("-") == "a/b.txt");
  BOOST_TEST(!blob_relative_name("models/v1", "models/v1/"));
}
