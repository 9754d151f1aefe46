// amlops-local's setup resources: recurrence triggers (pure functions; cron is core/cron), computes,
// user datastores and schedules through App::handle (ARM semantics, LROs, errors), and
// schedules firing on the scheduler's clock.
#include "local/setup.hpp"

#include <boost/test/unit_test.hpp>

#include "core/files.hpp"
#include "core/json.hpp"
#include "core/strings.hpp"
#include "core/time.hpp"
#include "local/app.hpp"

using namespace amlops;
using namespace amlops::local;

namespace {

int64_t at(const std::string& iso) { return unix_seconds(parse_iso8601(iso)); }
std::string iso(int64_t secs) { return iso8601_utc(std::chrono::system_clock::time_point(std::chrono::seconds(secs))); }
}  // namespace

BOOST_AUTO_TEST_SUITE(recurrence)

BOOST_AUTO_TEST_CASE(next_times) {
  using F = Recurrence::Frequency;
  Recurrence r;
  r.start = at("2026-11-27T10:00:00Z");
  r.frequency = F::minute;
  r.interval = 5;
  BOOST_TEST(iso(next_recurrence(r, r.start - 1)) == "2026-11-27T10:00:00Z");  // the start fires
  BOOST_TEST(iso(next_recurrence(r, r.start)) == "2026-11-27T10:05:00Z");
  BOOST_TEST(iso(next_recurrence(r, at("2026-11-27T10:07:00Z"))) == "2026-11-27T10:10:00Z");
  r.frequency = F::hour;
  r.interval = 2;
  BOOST_TEST(iso(next_recurrence(r, at("2026-11-27T10:30:00Z"))) == "2026-11-27T12:00:00Z");
  r.minutes = {15, 45};
  BOOST_TEST(iso(next_recurrence(r, at("2026-11-27T10:30:00Z"))) == "2026-11-27T10:45:00Z");
  BOOST_TEST(iso(next_recurrence(r, at("2026-11-27T10:45:00Z"))) == "2026-11-27T12:15:00Z");
  // Daily at 06:30 and 18:30.
  r = Recurrence{};
  r.start = at("2026-11-27T10:00:00Z");
  r.frequency = F::day;
  r.hours = {6, 18};
  r.minutes = {30};
  BOOST_TEST(iso(next_recurrence(r, r.start)) == "2026-11-27T18:30:00Z");
  BOOST_TEST(iso(next_recurrence(r, at("2026-11-27T18:30:00Z"))) == "2026-11-28T06:30:00Z");
  r.interval = 3;
  BOOST_TEST(iso(next_recurrence(r, at("2026-11-27T18:30:00Z"))) == "2026-11-30T06:30:00Z");
  // Without a schedule: the start's time of day.
  r = Recurrence{};
  r.start = at("2026-11-27T10:20:00Z");
  r.frequency = F::day;
  BOOST_TEST(iso(next_recurrence(r, r.start)) == "2026-11-28T10:20:00Z");
  // Every other week on Monday and Wednesday at 09:00 (2026-11-27 is a Friday).
  r = Recurrence{};
  r.start = at("2026-11-27T10:00:00Z");
  r.frequency = F::week;
  r.interval = 2;
  r.week_days = {week_day_number("Monday"), week_day_number("wednesday")};
  r.hours = {9};
  r.minutes = {0};
  BOOST_TEST(iso(next_recurrence(r, r.start)) == "2026-12-07T09:00:00Z");  // the week after next
  BOOST_TEST(iso(next_recurrence(r, at("2026-12-07T09:00:00Z"))) == "2026-12-09T09:00:00Z");
  // Monthly on the 1st and 15th at 00:00.
  r = Recurrence{};
  r.start = at("2026-11-27T10:00:00Z");
  r.frequency = F::month;
  r.month_days = {1, 15};
  r.hours = {0};
  r.minutes = {0};
  BOOST_TEST(iso(next_recurrence(r, r.start)) == "2026-12-01T00:00:00Z");
  BOOST_TEST(iso(next_recurrence(r, at("2026-12-01T00:00:00Z"))) == "2026-12-15T00:00:00Z");
  BOOST_CHECK_THROW(parse_frequency("fortnight"), TriggerError);
  BOOST_CHECK_THROW(week_day_number("Mon"), TriggerError);
}

BOOST_AUTO_TEST_CASE(compute_names) {  // VM sizes: core/vm_sizes (tests/unit/test_vm_sizes.cpp)
  BOOST_TEST(compute_name("azureml:cpu") == "cpu");
  BOOST_TEST(compute_name("/subscriptions/s/resourceGroups/r/providers/P/workspaces/w/computes/gpu") == "gpu");
  BOOST_TEST(compute_name("cpu") == "cpu");
}

BOOST_AUTO_TEST_SUITE_END()

namespace {

struct SetupFixture {
  files::TempDir dir{"amlops-setup"};
  std::unique_ptr<App> app;
  std::string token;
  SetupFixture() {
    Config cfg;
    cfg.data_dir = dir.path();
    cfg.run_jobs = false;
    app = std::make_unique<App>(cfg);
    app->set_base_url("http://127.0.0.1:9");
    token = app->issue_token("test", std::chrono::minutes(5));
  }
  net::ServerResponse send(const std::string& method, const std::string& rel, const std::string& body = {},
                           const std::string& query = {}) {
    net::ServerRequest r;
    r.method = method;
    r.path = app->workspace_id("local") + rel;
    r.target = r.path + "?api-version=2025-12-01" + query;
    r.query.emplace("api-version", "2025-12-01");
    for (auto& part : str::split(query, '&')) {
      auto eq = part.find('=');
      if (!part.empty() && eq != std::string::npos)
        r.query.emplace(str::url_decode(part.substr(0, eq), true), str::url_decode(part.substr(eq + 1), true));
    }
    r.headers["authorization"] = "Bearer " + token;
    r.body = body;
    return app->handle(r);
  }
  net::ServerResponse debug(const std::string& method, const std::string& path, const std::string& body = {}) {
    net::ServerRequest r;
    r.method = method;
    r.path = r.target = path;
    r.body = body;
    return app->handle(r);
  }
  json::Document js(const net::ServerResponse& r) { return json::parse(r.body.empty() ? "null" : r.body); }
  std::string error_code(const net::ServerResponse& r) {
    return json::opt_string(js(r), "/error/details/0/code")
        .value_or(json::opt_string(js(r), "/error/code").value_or(""));
  }
  std::string header(const net::ServerResponse& r, const std::string& name) {
    for (auto& [k, v] : r.headers)
      if (str::iequals(k, name)) return v;
    return {};
  }
  int jobs_of_schedule(const std::string& sched) {
    auto list = js(send("GET", "/jobs", {}, "&properties=azureml.ScheduleName%3D" + sched));
    return static_cast<int>(list["value"].Size());
  }
};

const char* kCompute =
    R"({"location":"local","identity":{"type":"SystemAssigned"},"tags":{"amlops.managed":"true"},
        "properties":{"computeType":"AmlCompute","description":"training",
        "properties":{"vmSize":"Standard_D4s_v3","scaleSettings":{"minNodeCount":0,"maxNodeCount":2,
        "nodeIdleTimeBeforeScaleDown":"PT5M"}}}})";

std::string schedule(const std::string& trigger, bool enabled = true, const std::string& compute = "cpu-cluster") {
  return R"({"properties":{"isEnabled":)" + std::string(enabled ? "true" : "false") + R"(,"trigger":)" + trigger +
         R"(,"action":{"actionType":"CreateJob","jobDefinition":{"jobType":"Command","command":"echo hi",)" +
         R"("computeId":"azureml:)" + compute + R"(","experimentName":"nightly"}}}})";
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(setup_resources, SetupFixture)

BOOST_AUTO_TEST_CASE(compute_lifecycle_with_lro_semantics) {
  auto r = send("PUT", "/computes/train", kCompute);
  BOOST_TEST(r.status == 201);
  BOOST_TEST(header(r, "Azure-AsyncOperation").find("/mfeOperationsStatus/") != std::string::npos);
  BOOST_TEST(json::get_string(js(r), "/properties/provisioningState") == "Creating");
  // The operation ends (lro_delay 0) and GET shows the compute as Azure does.
  std::string op = header(r, "Azure-AsyncOperation");
  net::ServerRequest poll;
  poll.method = "GET";
  poll.target = op.substr(op.find("/subscriptions/"));
  poll.path = poll.target.substr(0, poll.target.find('?'));
  poll.query.emplace("api-version", "2025-12-01");
  poll.headers["authorization"] = "Bearer " + token;
  BOOST_TEST(json::get_string(js(app->handle(poll)), "/status") == "Succeeded");
  auto g = js(send("GET", "/computes/train"));
  BOOST_TEST(json::get_string(g, "/properties/provisioningState") == "Succeeded");
  BOOST_TEST(json::get_string(g, "/properties/computeType") == "AmlCompute");
  BOOST_TEST(json::get_string(g, "/properties/properties/vmSize") == "Standard_D4s_v3");
  BOOST_TEST(json::get_int(g, "/properties/properties/scaleSettings/maxNodeCount") == 2);
  BOOST_TEST(json::get_string(g, "/properties/properties/scaleSettings/nodeIdleTimeBeforeScaleDown") == "PT5M");
  BOOST_TEST(json::get_string(g, "/identity/type") == "SystemAssigned");
  BOOST_TEST(json::get_string(g, "/tags/amlops.managed") == "true");
  // Update: 200, and the scale settings change; PATCH changes them too.
  std::string bigger = str::replace_all(kCompute, "\"maxNodeCount\":2", "\"maxNodeCount\":3");
  BOOST_TEST(send("PUT", "/computes/train", bigger).status == 200);
  BOOST_TEST(json::get_int(js(send("GET", "/computes/train")), "/properties/properties/scaleSettings/maxNodeCount") ==
             3);
  BOOST_TEST(send("PATCH", "/computes/train", R"({"properties":{"scaleSettings":{"maxNodeCount":1}}})").status == 200);
  BOOST_TEST(json::get_int(js(send("GET", "/computes/train")), "/properties/properties/scaleSettings/maxNodeCount") ==
             1);
  BOOST_TEST(app->compute_max_nodes("local", "azureml:train").value_or(0) == 1);
  // List: the built-in cpu-cluster and this one.
  auto list = js(send("GET", "/computes"));
  BOOST_TEST(list["value"].Size() == 2u);
  // Delete: 202 + operation, then gone; a second delete is 204.
  r = send("DELETE", "/computes/train");
  BOOST_TEST(r.status == 202);
  BOOST_TEST(!header(r, "Location").empty());
  BOOST_TEST(send("GET", "/computes/train").status == 404);
  BOOST_TEST(send("DELETE", "/computes/train").status == 204);
}

BOOST_AUTO_TEST_CASE(compute_errors) {
  auto r = send("PUT", "/computes/big", str::replace_all(kCompute, "Standard_D4s_v3", "Standard_Huge_v9"));
  BOOST_TEST(r.status == 400);
  BOOST_TEST(error_code(r) == "InvalidVmSize");
  BOOST_TEST(r.body.find("'Standard_Huge_v9' is not a known Azure VM size") != std::string::npos);
  r = send("PUT", "/computes/bad", str::replace_all(kCompute, "\"minNodeCount\":0", "\"minNodeCount\":5"));
  BOOST_TEST(r.status == 400);
  BOOST_TEST(r.body.find("larger than maxNodeCount") != std::string::npos);
  r = send("PUT", "/computes/bad", str::replace_all(kCompute, "PT5M", "five minutes"));
  BOOST_TEST(r.status == 400);
  BOOST_TEST(r.body.find("nodeIdleTimeBeforeScaleDown") != std::string::npos);
  r = send("PUT", "/computes/bad", str::replace_all(kCompute, "AmlCompute", "Kubernetes"));
  BOOST_TEST(r.status == 400);
  BOOST_TEST(error_code(r) == "ComputeTypeNotSupported");
  BOOST_TEST(send("PUT", "/computes/train", kCompute).status == 201);
  r = send("PUT", "/computes/train", str::replace_all(kCompute, "Standard_D4s_v3", "Standard_E4s_v3"));
  BOOST_TEST(r.status == 400);
  BOOST_TEST(error_code(r) == "PropertyChangeNotAllowed");
  BOOST_TEST(send("GET", "/computes/nope").status == 404);
  BOOST_TEST(send("GET", "/computes").status == 200);
}

BOOST_AUTO_TEST_CASE(jobs_must_name_an_existing_compute) {
  auto r =
      send("PUT", "/jobs/j1", R"({"properties":{"jobType":"Command","command":"true","computeId":"azureml:gpu"}})");
  BOOST_TEST(r.status == 400);
  BOOST_TEST(error_code(r) == "ComputeNotFound");
  BOOST_TEST(r.body.find("Compute gpu not found") != std::string::npos);
  r = send("PUT", "/jobs/j2",
           R"({"properties":{"jobType":"Pipeline","settings":{"default_compute":"azureml:gpu"},"jobs":{}}})");
  BOOST_TEST(r.status == 400);
  // The built-in cpu-cluster exists in every workspace.
  BOOST_TEST(send("PUT", "/jobs/j3",
                  R"({"properties":{"jobType":"Command","command":"true","computeId":")" + app->workspace_id("local") +
                      R"(/computes/cpu-cluster"}})")
                 .status == 201);
  BOOST_TEST(send("PUT", "/jobs/j4", R"({"properties":{"jobType":"Command","command":"true"}})").status == 201);
}

BOOST_AUTO_TEST_CASE(datastores_keep_their_secrets) {
  const std::string blob =
      R"({"properties":{"datastoreType":"AzureBlob","accountName":"mystorage","containerName":"raw-data",
          "tags":{"amlops.managed":"true"},
          "credentials":{"credentialsType":"AccountKey","secrets":{"secretsType":"AccountKey","key":"c2VjcmV0LWtleQ=="}}}})";
  auto r = send("PUT", "/datastores/raw", blob);
  BOOST_TEST(r.status == 201);
  BOOST_TEST(r.body.find("c2VjcmV0LWtleQ") == std::string::npos);
  auto g = send("GET", "/datastores/raw");
  BOOST_TEST(g.status == 200);
  BOOST_TEST(g.body.find("c2VjcmV0LWtleQ") == std::string::npos);
  BOOST_TEST(json::get_string(js(g), "/properties/credentials/credentialsType") == "AccountKey");
  BOOST_TEST(json::get_string(js(g), "/properties/containerName") == "raw-data");
  auto list = send("GET", "/datastores");
  BOOST_TEST(js(list)["value"].Size() == 3u);
  BOOST_TEST(list.body.find("c2VjcmV0LWtleQ") == std::string::npos);
  auto sec = js(send("POST", "/datastores/raw/listSecrets"));
  BOOST_TEST(json::get_string(sec, "/secretsType") == "AccountKey");
  BOOST_TEST(json::get_string(sec, "/key") == "c2VjcmV0LWtleQ==");
  // The datastore resolves to its local container.
  auto res = app->resolve_uri("local", "azureml://datastores/raw/paths/churn/data.csv");
  BOOST_REQUIRE(res.loc);
  BOOST_TEST(res.loc->container == "raw-data");
  BOOST_TEST(res.loc->path == "churn/data.csv");
  // SAS and identity-based (None) data lake datastores.
  const std::string sas =
      R"({"properties":{"datastoreType":"AzureBlob","accountName":"a","containerName":"sas-data",
          "credentials":{"credentialsType":"Sas","secrets":{"secretsType":"Sas","sasToken":"sv=2024&sig=abc"}}}})";
  BOOST_TEST(send("PUT", "/datastores/viasas", sas).status == 201);
  BOOST_TEST(json::get_string(js(send("POST", "/datastores/viasas/listSecrets")), "/sasToken") == "sv=2024&sig=abc");
  const std::string lake =
      R"({"properties":{"datastoreType":"AzureDataLakeGen2","accountName":"a","filesystem":"lake",
          "credentials":{"credentialsType":"None"}}})";
  BOOST_TEST(send("PUT", "/datastores/lake", lake).status == 201);
  BOOST_TEST(send("PUT", "/datastores/lake", lake).status == 200);
  auto none = send("POST", "/datastores/lake/listSecrets");
  BOOST_TEST(none.status == 400);
  BOOST_TEST(error_code(none) == "NoSecrets");
  // Errors.
  BOOST_TEST(send("PUT", "/datastores/x", str::replace_all(blob, "AzureBlob", "AzureFile")).status == 400);
  BOOST_TEST(send("PUT", "/datastores/x", str::replace_all(blob, "raw-data", "Bad_Name")).status == 400);
  auto nokey = send("PUT", "/datastores/x", str::replace_all(blob, R"(,"key":"c2VjcmV0LWtleQ==")", ""));
  BOOST_TEST(nokey.status == 400);
  BOOST_TEST(nokey.body.find("secrets.key") != std::string::npos);
  BOOST_TEST(send("PUT", "/datastores/workspaceblobstore", blob).status == 400);
  // Delete.
  BOOST_TEST(send("DELETE", "/datastores/raw").status == 200);
  BOOST_TEST(send("GET", "/datastores/raw").status == 404);
  BOOST_TEST(send("DELETE", "/datastores/raw").status == 204);
}

BOOST_AUTO_TEST_CASE(schedule_fires_on_the_advanced_clock_and_stops_when_disabled) {
  // A cron schedule at one minute, five minutes ahead of the clock (real time cannot reach it
  // during the test), then every minute.
  int64_t now = at(json::get_string(js(debug("GET", "/_amlops/clock")), "/now"));
  int64_t when = (now / 60 + 5) * 60;
  auto tm = iso(when);  // 2026-11-27T10:05:00Z
  std::string expr = std::to_string(std::stoi(tm.substr(14, 2))) + " " + std::to_string(std::stoi(tm.substr(11, 2))) +
                     " " + std::to_string(std::stoi(tm.substr(8, 2))) + " " +
                     std::to_string(std::stoi(tm.substr(5, 2))) + " *";
  auto r = send("PUT", "/schedules/nightly", schedule(R"({"triggerType":"Cron","expression":")" + expr + R"("})"));
  BOOST_TEST(r.status == 201);
  BOOST_TEST(!header(r, "Azure-AsyncOperation").empty());
  auto g = js(send("GET", "/schedules/nightly"));
  BOOST_TEST(json::get_bool(g, "/properties/isEnabled"));
  BOOST_TEST(json::get_string(g, "/properties/trigger/timeZone") == "UTC");
  BOOST_TEST(json::get_string(g, "/properties/action/actionType") == "CreateJob");
  app->fire_schedules();
  BOOST_TEST(jobs_of_schedule("nightly") == 0);  // not yet
  BOOST_TEST(debug("POST", "/_amlops/clock", R"({"advance_seconds":60})").status == 200);
  BOOST_TEST(jobs_of_schedule("nightly") == 0);  // still not yet
  debug("POST", "/_amlops/clock", R"({"advance_seconds":)" + std::to_string(when - now) + "}");
  BOOST_TEST(jobs_of_schedule("nightly") == 1);
  // From now on every minute.
  BOOST_TEST(send("PUT", "/schedules/nightly", schedule(R"({"triggerType":"Cron","expression":"* * * * *"})")).status ==
             200);
  auto jobs = js(send("GET", "/jobs", {}, "&properties=azureml.ScheduleName%3Dnightly"));  // owns what `job` views
  auto job = jobs["value"][0].GetObject();
  BOOST_TEST(std::string(job["properties"]["properties"]["azureml.ScheduleName"].GetString()) == "nightly");
  BOOST_TEST(std::string(job["properties"]["experimentName"].GetString()) == "nightly");
  BOOST_TEST(std::string(job["name"].GetString()).rfind("nightly-", 0) == 0);
  // Missed trigger times are not made up: ten minutes later, one more job.
  debug("POST", "/_amlops/clock", R"({"advance_seconds":600})");
  BOOST_TEST(jobs_of_schedule("nightly") == 2);
  // Disabled: no more jobs; listed only with listViewType DisabledOnly/All.
  BOOST_TEST(
      send("PUT", "/schedules/nightly", schedule(R"({"triggerType":"Cron","expression":"* * * * *"})", false)).status ==
      200);
  debug("POST", "/_amlops/clock", R"({"advance_seconds":120})");
  BOOST_TEST(jobs_of_schedule("nightly") == 2);
  BOOST_TEST(js(send("GET", "/schedules"))["value"].Size() == 0u);
  BOOST_TEST(js(send("GET", "/schedules", {}, "&listViewType=All"))["value"].Size() == 1u);
  // Deleted: 202, then 404.
  BOOST_TEST(send("DELETE", "/schedules/nightly").status == 202);
  BOOST_TEST(send("GET", "/schedules/nightly").status == 404);
  BOOST_TEST(send("DELETE", "/schedules/nightly").status == 204);
}

BOOST_AUTO_TEST_CASE(recurrence_schedule_with_start_and_end) {
  auto now = json::get_string(js(debug("GET", "/_amlops/clock")), "/now");
  int64_t start = at(now) + 120;
  std::string trig = R"({"triggerType":"Recurrence","frequency":"Minute","interval":5,"startTime":")" + iso(start) +
                     R"(","endTime":")" + iso(start + 600) + R"(","timeZone":"UTC"})";
  BOOST_TEST(send("PUT", "/schedules/every5", schedule(trig)).status == 201);
  debug("POST", "/_amlops/clock", R"({"advance_seconds":60})");
  BOOST_TEST(jobs_of_schedule("every5") == 0);  // before the start
  debug("POST", "/_amlops/clock", R"({"advance_seconds":61})");
  BOOST_TEST(jobs_of_schedule("every5") == 1);  // the start
  debug("POST", "/_amlops/clock", R"({"advance_seconds":300})");
  BOOST_TEST(jobs_of_schedule("every5") == 2);
  debug("POST", "/_amlops/clock", R"({"advance_seconds":300})");
  BOOST_TEST(jobs_of_schedule("every5") == 3);  // start + 10 min = the end time
  debug("POST", "/_amlops/clock", R"({"advance_seconds":300})");
  BOOST_TEST(jobs_of_schedule("every5") == 3);  // past the end
}

BOOST_AUTO_TEST_CASE(schedule_errors) {
  auto bad = [&](const std::string& body, const std::string& text) {
    auto r = send("PUT", "/schedules/s", body);
    BOOST_TEST(r.status == 400, body);
    BOOST_TEST(r.body.find(text) != std::string::npos, r.body << " lacks " << text);
  };
  bad(schedule(R"({"triggerType":"Cron","expression":"61 * * * *"})"),
      "trigger.expression: minute field: 61 is outside 0-59.");
  bad(schedule(R"({"triggerType":"Cron","expression":"0 6 * *"})"),
      "trigger.expression: expected 5 fields (minute hour day-of-month month day-of-week), found 4.");
  bad(schedule(R"({"triggerType":"Recurrence","frequency":"Fortnight","interval":1})"), "trigger.frequency");
  bad(schedule(R"({"triggerType":"Recurrence","frequency":"Day","interval":0})"), "trigger.interval");
  bad(schedule(R"({"triggerType":"Recurrence","frequency":"Day","interval":1,"schedule":{"hours":[25]}})"),
      "trigger.schedule.hours");
  bad(schedule(R"({"triggerType":"Cron","expression":"0 6 * * *","timeZone":"Pacific Standard Time"})"), "UTC only");
  bad(schedule(R"({"triggerType":"Cron","expression":"0 6 * * *","startTime":"tomorrow"})"), "trigger.startTime");
  bad(schedule(R"({"triggerType":"Cron","expression":"0 6 * * *"})", true, "gpu"), "Compute gpu not found");
  bad(R"({"properties":{"trigger":{"triggerType":"Cron","expression":"0 6 * * *"},
        "action":{"actionType":"InvokeBatchEndpoint","endpointInvocationDefinition":{}}}})",
      "not supported by amlops-local");
  bad(R"({"properties":{"trigger":{"triggerType":"Cron","expression":"0 6 * * *"},
        "action":{"actionType":"CreateJob","jobDefinition":{"jobType":"AutoML"}}}})",
      "jobType must be Command, Pipeline or Sweep");
  BOOST_TEST(send("GET", "/schedules/s").status == 404);  // nothing was created
}

BOOST_AUTO_TEST_CASE(data_containers_and_versions_with_managed_tags) {
  // A container PUT alone creates it, with its own tags and dataType.
  auto r = send("PUT", "/data/churn-data",
                R"({"properties":{"dataType":"uri_file","description":"churn","tags":{"amlops.managed":"true"}}})");
  BOOST_TEST(r.status == 201);
  auto c = js(send("GET", "/data/churn-data"));
  BOOST_TEST(json::get_string(c, "/properties/dataType") == "uri_file");
  BOOST_TEST(json::get_string(c, "/properties/tags/amlops.managed") == "true");
  BOOST_TEST(json::get_string(c, "/properties/nextVersion") == "1");
  // Versions, listed by tag.
  for (const char* v : {"1", "2"}) {
    std::string body =
        R"({"properties":{"dataType":"uri_file","dataUri":"azureml://datastores/workspaceblobstore/paths/churn/v)" +
        std::string(v) + R"(/data.csv","tags":{"amlops.managed":"true","amlops.hash":"h)" + v + R"("}}})";
    BOOST_TEST(send("PUT", "/data/churn-data/versions/" + std::string(v), body).status == 201);
  }
  BOOST_TEST(
      send("PUT", "/data/other/versions/1",
           R"({"properties":{"dataType":"uri_folder","dataUri":"azureml://datastores/workspaceblobstore/paths/o/"}})")
          .status == 201);
  c = js(send("GET", "/data/churn-data"));
  BOOST_TEST(json::get_string(c, "/properties/latestVersion") == "2");
  BOOST_TEST(json::get_string(c, "/properties/description") == "churn");
  auto managed = js(send("GET", "/data/churn-data/versions", {}, "&tags=amlops.hash%3Dh2"));
  BOOST_TEST(managed["value"].Size() == 1u);
  auto all = js(send("GET", "/data"));
  BOOST_TEST(all["value"].Size() == 2u);
  auto tagged = js(send("GET", "/data", {}, "&tags=amlops.managed"));
  BOOST_REQUIRE(tagged["value"].Size() == 1u);
  BOOST_TEST(std::string(tagged["value"][0]["name"].GetString()) == "churn-data");
  // Updating the container keeps its versions.
  BOOST_TEST(send("PUT", "/data/churn-data", R"({"properties":{"dataType":"uri_file","description":"new"}})").status ==
             200);
  BOOST_TEST(json::get_string(js(send("GET", "/data/churn-data")), "/properties/latestVersion") == "2");
  // DELETE removes the container and its versions.
  BOOST_TEST(send("DELETE", "/data/churn-data").status == 200);
  BOOST_TEST(send("GET", "/data/churn-data").status == 404);
  BOOST_TEST(send("GET", "/data/churn-data/versions/1").status == 404);
  BOOST_TEST(send("DELETE", "/data/churn-data").status == 204);
  // Environment versions: PUT, GET, list by tag, DELETE.
  BOOST_TEST(send("PUT", "/environments/train-env/versions/3",
                  R"({"properties":{"image":"python:3.11","tags":{"amlops.managed":"true"}}})")
                 .status == 201);
  BOOST_TEST(js(send("GET", "/environments/train-env/versions", {}, "&tags=amlops.managed"))["value"].Size() == 1u);
  BOOST_TEST(send("DELETE", "/environments/train-env/versions/3").status == 200);
}

BOOST_AUTO_TEST_CASE(resources_survive_a_restart_and_the_built_in_compute_stays_deleted) {
  BOOST_TEST(send("PUT", "/computes/train", kCompute).status == 201);
  BOOST_TEST(send("PUT", "/schedules/weekly", schedule(R"({"triggerType":"Recurrence","frequency":"Week","interval":1,
                    "schedule":{"weekDays":["Monday"],"hours":[6],"minutes":[0]}})"))
                 .status == 201);
  BOOST_TEST(send("DELETE", "/computes/cpu-cluster").status == 202);
  // A new App on the same data folder: the records are back, the deleted built-in compute is not.
  Config cfg = app->config();
  app.reset();
  app = std::make_unique<App>(cfg);
  app->set_base_url("http://127.0.0.1:9");
  BOOST_TEST(send("GET", "/computes/train").status == 200);
  BOOST_TEST(send("GET", "/computes/cpu-cluster").status == 404);
  auto g = js(send("GET", "/schedules/weekly"));
  BOOST_TEST(json::get_string(g, "/properties/trigger/schedule/weekDays/0") == "Monday");
}

BOOST_AUTO_TEST_CASE(request_log_tells_reads_from_writes) {
  send("GET", "/computes");
  send("PUT", "/computes/c1", kCompute);
  auto log = json::parse(app->request_log_json(0));
  const auto& reqs = log["requests"];
  BOOST_REQUIRE(reqs.Size() >= 2u);
  BOOST_TEST(std::string(reqs[reqs.Size() - 2]["method"].GetString()) == "GET");
  BOOST_TEST(std::string(reqs[reqs.Size() - 1]["method"].GetString()) == "PUT");
  BOOST_TEST(std::string(reqs[reqs.Size() - 1]["path"].GetString()).find("/computes/c1") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
