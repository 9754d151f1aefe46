// amlops-setup without a workspace: the readers of every kind (the starter's YAML included), the
// validation errors with file:line:col (cron expressions: core/cron, tests/unit/test_cron.cpp), VM
// sizes and the field diff.
#define BOOST_TEST_MODULE setup
#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>

#include "core/env.hpp"
#include "core/error.hpp"
#include "core/json.hpp"
#include "core/strings.hpp"
#include "core/vm_sizes.hpp"
#include "setup/setup.hpp"

using namespace amlops;
using namespace amlops::setup;
namespace fs = std::filesystem;

namespace {

const char* kWs = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/w";

struct TempDir {
  fs::path path;
  TempDir() {
    path = fs::temp_directory_path() / ("amlops-setup-test-" + str::random_hex(6));
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  fs::path write(const std::string& rel, const std::string& text) const {
    fs::path p = path / rel;
    fs::create_directories(p.parent_path());
    std::ofstream(p) << text;
    return p;
  }
};

LoadOptions opts(bool secrets = false) {
  LoadOptions o;
  o.workspace_id = kWs;
  o.require_secrets = secrets;
  return o;
}

// The message of the ConfigError that loading `dir` raises ("(no error)" when none).
std::string load_error(const fs::path& dir, const Env& env = MapEnv(), bool secrets = false) {
  try {
    load({dir}, env, opts(secrets));
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(no error)";
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

const char* kJob = R"Y(type: command
command: python -c "print(1)"
environment: azureml:env:1
compute: azureml:cpu
)Y";

}  // namespace

BOOST_AUTO_TEST_CASE(starter_folder_reads_in_apply_order) {
  auto rs = load({fs::path(AMLOPS_SOURCE_DIR) / "templates" / "starter"}, MapEnv(), opts());
  std::vector<std::string> got;
  for (auto& r : rs) got.push_back(r.label());
  // Conda files, jobs and endpoints are not setup's kinds and are skipped.
  std::vector<std::string> want = {"data churn-train", "environment churn-score-env", "environment churn-train-env",
                                   "compute cpu-cluster", "schedule churn-retrain-weekly"};
  BOOST_TEST(got == want, boost::test_tools::per_element());
  const Resource& compute = rs[3];
  BOOST_TEST(json::get_string(compute.body, "/properties/properties/vmSize") == "Standard_DS3_v2");
  BOOST_TEST(json::get_int(compute.body, "/properties/properties/scaleSettings/maxNodeCount") == 4);
  BOOST_TEST(json::get_string(compute.body, "/properties/properties/scaleSettings/nodeIdleTimeBeforeScaleDown") ==
             "PT30M");
  const Resource& schedule = rs[4];
  BOOST_TEST(json::get_string(schedule.body, "/properties/trigger/triggerType") == "Recurrence");
  BOOST_TEST(json::get_string(schedule.body, "/properties/trigger/frequency") == "Week");
  BOOST_TEST(json::dump(*json::find(schedule.body, "/properties/trigger/schedule/weekDays")) == R"(["Monday"])");
  BOOST_TEST(schedule.job.has_value());
  BOOST_TEST(json::get_string(schedule.job->body, "/properties/jobType") == "Pipeline");
  BOOST_TEST(rs[0].local.has_value());
  BOOST_TEST(rs[0].version.value_or("") == "1");
}

BOOST_AUTO_TEST_CASE(content_decides_the_data_fingerprint_not_the_description) {
  TempDir d;
  d.write("data/f.csv", "a,b\n1,2\n");
  auto yml = d.write("data.yml", "name: x\ntype: uri_file\npath: data/f.csv\ndescription: one\n");
  auto a = load_file(yml, MapEnv(), opts());
  d.write("data.yml", "name: x\ntype: uri_file\npath: data/f.csv\ndescription: two\n");
  auto b = load_file(yml, MapEnv(), opts());
  BOOST_TEST(a->fingerprint == b->fingerprint);
  d.write("data/f.csv", "a,b\n1,3\n");
  auto c = load_file(yml, MapEnv(), opts());
  BOOST_TEST(a->fingerprint != c->fingerprint);
  // A datastore URI is registered as it is.
  d.write("data.yml", "name: x\ntype: uri_folder\npath: azureml://datastores/blob/paths/raw/\n");
  auto u = load_file(yml, MapEnv(), opts());
  BOOST_TEST(!u->local.has_value());
  BOOST_TEST(json::get_string(u->body, "/properties/dataUri") == "azureml://datastores/blob/paths/raw/");
}

BOOST_AUTO_TEST_CASE(datastore_credentials_come_from_the_environment_only) {
  TempDir d;
  d.write("ds.yml",
          "name: lake\ntype: azure_blob\naccount_name: acct\ncontainer_name: raw\ncredentials:\n"
          "  account_key: ${{env.LAKE_KEY}}\n");
  MapEnv env(std::map<std::string, std::string>{{"LAKE_KEY", "c2VjcmV0LWtleQ=="}});
  auto rs = load({d.path}, env, opts(true));
  BOOST_REQUIRE(rs.size() == 1u);
  BOOST_TEST(rs[0].secrets.size() == 1u);
  BOOST_TEST(rs[0].secrets[0].env_var == "LAKE_KEY");
  BOOST_TEST(!contains(json::dump(rs[0].body), "c2VjcmV0LWtleQ=="));  // the body holds no secret
  BOOST_TEST(json::get_string(rs[0].body, "/properties/credentials/credentialsType") == "AccountKey");
  // apply refuses to start without the variable, naming the line.
  BOOST_TEST(contains(load_error(d.path, MapEnv(), true),
                      "ds.yml:6:16: credentials.account_key: environment "
                      "variable LAKE_KEY is not set"));
  // No credentials: the workspace identity.
  d.write("ds.yml", "name: lake\ntype: azure_data_lake_gen2\naccount_name: acct\nfilesystem: raw\n");
  auto id = load({d.path}, MapEnv(), opts(true));
  BOOST_TEST(json::get_string(id[0].body, "/properties/credentials/credentialsType") == "None");
}

BOOST_AUTO_TEST_CASE(bad_inputs_name_file_line_col_and_never_echo_a_key) {
  TempDir d;
  const std::string key = "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo=";
  d.write("a/ds.yml",
          "name: lake\ntype: azure_blob\naccount_name: acct\ncontainer_name: raw\ncredentials:\n"
          "  account_key: " +
              key + "\n");
  std::string e = load_error(d.path / "a");
  BOOST_TEST(contains(e, "ds.yml:6:16: credentials.account_key: a secret written in the YAML is refused"), e);
  BOOST_TEST(!contains(e, key));
  d.write("b/c.yml", "name: c\ntype: amlcompute\nsize: Standard_DS3_v99\n");
  BOOST_TEST(contains(load_error(d.path / "b"), "c.yml:3:7: unknown compute size 'Standard_DS3_v99'"));
  d.write("c/c.yml", "name: c\ntype: amlcompute\nsize: Large\n");
  BOOST_TEST(contains(load_error(d.path / "c"), "c.yml:3:7: unknown compute size 'Large'"));
  d.write("d/s.yml", "name: s\ntrigger:\n  type: cron\n  expression: \"0 25 * * *\"\ncreate_job: job.yml\n");
  d.write("d/job.yml", kJob);
  BOOST_TEST(
      contains(load_error(d.path / "d"), "s.yml:4:15: cron expression '0 25 * * *': hour field: 25 is outside 0-23"));
  d.write("e/s.yml", "name: s\ntrigger:\n  type: cron\n  expression: \"0 2 * * *\"\ncreate_job: ../jobs/missing.yml\n");
  BOOST_TEST(contains(load_error(d.path / "e"), "s.yml:5:13: create_job: job YAML"));
  BOOST_TEST(contains(load_error(d.path / "e"), "missing.yml not found"));
  d.write("f/c.yml", "name: c\ntype: amlcompute\nmin_instances: 3\nmax_instances: 2\n");
  BOOST_TEST(contains(load_error(d.path / "f"), "c.yml:3:16: min_instances (3) exceeds max_instances (2)"));
  d.write("g/e.yml", "name: e\nimage: x\nbuild:\n  path: docker\n");
  BOOST_TEST(contains(load_error(d.path / "g"), "e.yml:4:3: environments with a docker build context"));
  d.write("h/a.yml", "name: c\ntype: amlcompute\n");
  d.write("h/b.yml", "name: c\ntype: amlcompute\nsize: Standard_D4s_v3\n");
  BOOST_TEST(contains(load_error(d.path / "h"), "b.yml:1:7: compute c is declared twice (first at "));
  d.write("i/c.yml", "name: c\ntype: amlcompute\nmax_instance: 2\n");
  BOOST_TEST(contains(load_error(d.path / "i"),
                      "c.yml:3:1: unknown key 'max_instance' in an amlcompute YAML; did you "
                      "mean 'max_instances'?"));
  d.write("j/s.yml", "name: s\ntrigger:\n  type: recurrence\n  frequency: fortnight\ncreate_job: job.yml\n");
  d.write("j/job.yml", kJob);
  BOOST_TEST(contains(load_error(d.path / "j"), "s.yml:4:14: frequency must be minute, hour, day, week or month"));
}

BOOST_AUTO_TEST_CASE(vm_sizes) {
  for (const char* s : {"Standard_DS3_v2", "STANDARD_NC6", "Standard_NC24ads_A100_v4", "Standard_D4s_v3",
                        "Standard_E64-16ds_v4", "Standard_F8s_v2", "Standard_ND96asr_v4"})
    BOOST_TEST(known_vm_size(s), s);
  std::string near;
  BOOST_TEST(!known_vm_size("Standard_DS3_v9", &near));
  BOOST_TEST(!known_vm_size("Standard_XYZ3", &near));
  BOOST_TEST(!known_vm_size("DS3_v2", &near));
  BOOST_TEST(near == "Standard_DS3_v2");
  // The client never refuses a size amlops-local serves.
  for (auto size : amlcompute_vm_sizes()) BOOST_TEST(known_vm_size(std::string(size)), size);
}

BOOST_AUTO_TEST_CASE(changed_fields_compare_by_meaning) {
  auto desired = json::parse(R"({"location":"x","tags":{"a":"1"},"properties":{"description":"d","properties":{
      "vmSize":"Standard_DS3_v2","scaleSettings":{"maxNodeCount":4,"minNodeCount":0,
      "nodeIdleTimeBeforeScaleDown":"PT1800S"}}}})");
  auto actual = json::parse(R"({"location":"x","tags":{"a":"1"},"properties":{"description":"d","createdOn":"t",
      "properties":{"vmSize":"STANDARD_DS3_V2","vmPriority":"Dedicated","scaleSettings":{"maxNodeCount":4.0,
      "minNodeCount":0,"nodeIdleTimeBeforeScaleDown":"PT30M"},"allocationState":"Steady"}}})");
  BOOST_TEST(changed_fields(desired, actual).empty());
  auto changed = json::parse(R"({"location":"x","tags":{"a":"1","b":"2"},"properties":{"description":"e",
      "properties":{"vmSize":"Standard_DS3_v2","scaleSettings":{"maxNodeCount":2,"minNodeCount":0,
      "nodeIdleTimeBeforeScaleDown":"PT30M"}}}})");
  std::vector<std::string> want = {"properties/description", "properties/properties/scaleSettings/maxNodeCount"};
  // Tags compare whole: one more tag in the workspace is a change of "tags".
  want.insert(want.begin(), "tags");
  BOOST_TEST(changed_fields(desired, changed) == want, boost::test_tools::per_element());
  // Absent in the workspace and empty in the desired body: no change.
  auto d2 = json::parse(R"({"properties":{"tags":{},"description":""}})");
  BOOST_TEST(changed_fields(d2, json::parse(R"({"properties":{}})")).empty());
  // A service may answer null (or leave out) what the desired body leaves empty; member by member
  // inside a recurrence schedule.
  auto sched = json::parse(R"({"properties":{"trigger":{"schedule":{"hours":[2],"minutes":[0],"weekDays":[]}}}})");
  BOOST_TEST(changed_fields(sched, json::parse(R"({"properties":{"trigger":{"schedule":{"hours":[2],"minutes":[0],
      "weekDays":null,"monthDays":null}}}})"))
                 .empty());
  BOOST_TEST(
      changed_fields(sched, json::parse(R"({"properties":{"trigger":{"schedule":{"hours":[3],"minutes":[0]}}}})")) ==
      std::vector<std::string>{"properties/trigger/schedule/hours"});
  BOOST_TEST(changed_fields(json::parse(R"({"properties":{"isEnabled":false}})"),
                            json::parse(R"({"properties":{"isEnabled":true}})")) ==
             std::vector<std::string>{"properties/isEnabled"});
}

BOOST_AUTO_TEST_CASE(env_picks_the_workspace_from_amlops_yml) {
  TempDir d;
  auto cfg = d.write("amlops.yml",
                     "environments:\n  dev:\n    workspace: azureml://subscriptions/s/resourcegroups/rg/"
                     "workspaces/dev\n");
  BOOST_TEST(environment_workspace(cfg, "dev") == "azureml://subscriptions/s/resourcegroups/rg/workspaces/dev");
  try {
    (void)environment_workspace(cfg, "prod");
    BOOST_FAIL("no error");
  } catch (const ConfigError& e) {
    BOOST_TEST(contains(e.what(), "amlops.yml:2:3: environment 'prod' is not in 'environments:'"), e.what());
  }
}

BOOST_AUTO_TEST_CASE(plan_renders_every_action) {
  Plan p;
  Change a;
  a.kind = Kind::compute;
  a.name = "cpu";
  a.action = Action::update;
  a.fields = {"properties/properties/scaleSettings/maxNodeCount"};
  Change b;
  b.kind = Kind::data;
  b.name = "d";
  b.version = "2";
  b.action = Action::create;
  p.changes = {b, a};
  std::string t = plan_text(p, false);
  BOOST_TEST(contains(t, "+ create    data d:2\n"), t);
  BOOST_TEST(contains(t, "~ update    compute cpu (properties/properties/scaleSettings/maxNodeCount)\n"), t);
  BOOST_TEST(contains(t, "Plan: 1 to create, 1 to update, 0 unchanged, 0 to delete."), t);
  auto j = plan_json(p, false);
  BOOST_TEST(json::get_int(j, "/summary/create") == 1);
  BOOST_TEST(json::get_string(j, "/changes/1/action") == "update");
}
