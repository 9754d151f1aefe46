// The shared workspace operations of src/aml against a fake service: azureml URIs, the next
// model version, the log cursor, repeat-safe PUTs of jobs and model versions, @latest labels.
#define BOOST_TEST_MODULE aml
#include <boost/test/unit_test.hpp>
#include <filesystem>

#include "../azure/fake_transport.hpp"
#include "aml/model.hpp"
#include "aml/submit.hpp"
#include "aml/uri.hpp"
#include "aml/wait.hpp"
#include "core/error.hpp"
#include "core/files.hpp"
#include "core/strings.hpp"

using namespace amlops;
using test::respond;
namespace fs = std::filesystem;

namespace {

const std::string kWs = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/w";

// A workspace client whose requests go to `handler`.
struct FakeWorkspace {
  FakeClock clock;
  std::shared_ptr<test::FakeTransport> t = std::make_shared<test::FakeTransport>();
  std::unique_ptr<net::Client> http;
  std::unique_ptr<azure::ArmClient> arm;
  std::unique_ptr<azure::Workspace> ws;
  FakeWorkspace() {
    net::ClientOptions o;
    o.clock = &clock;
    o.transport = t;
    http = std::make_unique<net::Client>(o);
    azure::ArmOptions ao;
    ao.endpoint = "https://arm.test";
    arm = std::make_unique<azure::ArmClient>(
        *http, [] { return std::string("tok"); }, clock, ao);
    ws = std::make_unique<azure::Workspace>(
        *arm, azure::WorkspaceRef::parse("azureml://subscriptions/s/resourcegroups/rg/workspaces/w"));
  }
  std::vector<net::Request> requests(const std::string& method, const std::string& has) {
    std::vector<net::Request> out;
    for (auto& r : t->snapshot())
      if (r.method == method && r.url.find(has) != std::string::npos) out.push_back(r);
    return out;
  }
};

bool has(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// The workspace already holds code version c:1 for any hash asked; every other request is a 404.
void code_found_by_hash(FakeWorkspace& f) {
  f.t->handler = [](const net::Request& r) {
    if (has(r.url, "/codes/") && has(r.url, "hash="))
      return respond(200, R"({"value":[{"id":")" + kWs + R"(/codes/c/versions/1"}]})");
    return respond(404, R"({"error":{"code":"NotFound","message":"no route"}})");
  };
}

}  // namespace

BOOST_AUTO_TEST_SUITE(uri)

BOOST_AUTO_TEST_CASE(name_version) {
  struct Row {
    std::string in, name, version;
  };
  for (auto& r : std::vector<Row>{{"fraud:3", "fraud", "3"},
                                  {"azureml:fraud:3", "fraud", "3"},
                                  {"my-model:1.2", "my-model", "1.2"},
                                  {"ns:model:7", "ns:model", "7"}}) {
    auto nv = aml::parse_name_version(r.in);
    BOOST_TEST(nv.name == r.name, r.in);
    BOOST_TEST(nv.version == r.version, r.in);
  }
  for (std::string bad : {"fraud", "fraud:", ":3", "azureml:", "azureml://jobs/j/outputs/m:1"})
    BOOST_CHECK_THROW(aml::parse_name_version(bad), UsageError);
}

BOOST_AUTO_TEST_CASE(datastore_uris) {
  struct Row {
    std::string in;
    bool ok;
    std::string datastore, path;
  };
  for (auto& r : std::vector<Row>{
           {"azureml://datastores/workspaceblobstore/paths/LocalUpload/abc/model", true, "workspaceblobstore",
            "LocalUpload/abc/model"},
           {"azureml://datastores/ds/paths/", true, "ds", ""},
           {"azureml://datastores/ds/paths//a/b.txt", true, "ds", "a/b.txt"},
           {"azureml://subscriptions/s/resourcegroups/rg/workspaces/w/datastores/ds/paths/x/y", true, "ds", "x/y"},
           {"azureml://subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/w/"
            "datastores/ds/paths/x",
            true, "ds", "x"},
           {"azureml://datastores/ds/x", false, "", ""},
           {"azureml://datastores//paths/x", false, "", ""},
           {"azureml://jobs/j/outputs/model", false, "", ""},
           {"https://acct.blob.core.windows.net/datastores/ds/paths/x", false, "", ""},
           {"azureml://registries/r/datastores/ds/paths/x", false, "", ""}}) {
    auto d = aml::parse_datastore_uri(r.in);
    BOOST_TEST(d.has_value() == r.ok, r.in);
    if (d && r.ok) {
      BOOST_TEST(d->datastore == r.datastore, r.in);
      BOOST_TEST(d->path == r.path, r.in);
    }
  }
  BOOST_TEST(aml::datastore_uri("ds", "a/b") == "azureml://datastores/ds/paths/a/b");
  auto back = aml::parse_datastore_uri(aml::datastore_uri("ds", "a/b"));
  BOOST_TEST((back && back->datastore == "ds" && back->path == "a/b"));
}

BOOST_AUTO_TEST_CASE(job_output_uris) {
  auto j = aml::parse_job_output_uri("azureml://jobs/train-1/outputs/model");
  BOOST_REQUIRE(j);
  BOOST_TEST(j->job == "train-1");
  BOOST_TEST(j->output == "model");
  BOOST_TEST(j->path.empty());
  j = aml::parse_job_output_uri("azureml://jobs/train-1/outputs/model/paths/sub/model.pkl");
  BOOST_REQUIRE(j);
  BOOST_TEST(j->path == "sub/model.pkl");
  for (std::string bad : {"azureml://jobs/train-1", "azureml://jobs/train-1/inputs/x", "azureml://jobs//outputs/m",
                          "azureml://jobs/j/outputs/m/files/x", "azureml://datastores/ds/paths/x"})
    BOOST_TEST(!aml::parse_job_output_uri(bad), bad);
  BOOST_TEST(aml::job_output_uri("j", "model") == "azureml://jobs/j/outputs/model");
}

BOOST_AUTO_TEST_CASE(label_refs) {
  auto l = aml::parse_label_ref("azureml:myenv@latest");
  BOOST_REQUIRE(l);
  BOOST_TEST(l->name == "myenv");
  BOOST_TEST(l->label == "latest");
  for (std::string no : {"azureml:myenv:1", "myenv@latest", "azureml:@latest", "azureml:myenv@",
                         "azureml://registries/r/environments/e/labels/latest", "azureml:/subscriptions/x@y"})
    BOOST_TEST(!aml::parse_label_ref(no), no);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_CASE(data_provenance_names_exact_versions) {
  auto body = json::parse(R"({"properties":{"jobType":"Command","inputs":{
      "train":{"jobInputType":"uri_file","uri":"azureml:churn-data:2"},
      "ref":{"jobInputType":"uri_folder","uri":"/subscriptions/s/resourceGroups/r/providers/Microsoft.MachineLearningServices/workspaces/w/data/ref-data/versions/7"},
      "reg":{"jobInputType":"mltable","uri":"azureml://registries/shared/data/census/versions/1"},
      "fresh":{"jobInputType":"uri_file","uri":"azureml:daily@latest"},
      "local":{"jobInputType":"uri_file","uri":"azureml://datastores/workspaceblobstore/paths/x.csv"},
      "lr":{"jobInputType":"literal","value":"0.1"}}}})");
  std::vector<std::string> asked;
  auto out = aml::data_provenance(body, [&](const std::string& name) {
    asked.push_back(name);
    return std::string("12");
  });
  BOOST_TEST(out.size() == 4u);
  BOOST_TEST(out["amlops.data.train"] == "churn-data:2");
  BOOST_TEST(out["amlops.data.ref"] == "ref-data:7");
  BOOST_TEST(out["amlops.data.reg"] == "census:1");
  BOOST_TEST(out["amlops.data.fresh"] == "daily:12");
  BOOST_TEST(asked == std::vector<std::string>{"daily"});
  // Written into the job's properties; @latest pinned to the version recorded.
  BOOST_TEST(json::get_string(body, "/properties/properties/amlops.data.train") == "churn-data:2");
  BOOST_TEST(json::get_string(body, "/properties/inputs/fresh/uri") == "azureml:daily:12");
  // Pipeline steps' own inputs.
  auto pipe = json::parse(R"({"properties":{"jobType":"Pipeline","jobs":{"prep":{"inputs":{
      "raw":{"job_input_type":"uri_file","uri":"azureml:raw:3"}}}}}})");
  BOOST_TEST(aml::data_provenance(pipe, nullptr)["amlops.data.prep.raw"] == "raw:3");
  auto bad = json::parse(R"({"properties":{"inputs":{"x":{"uri":"azureml:daily@stable"}}}})");
  BOOST_CHECK_THROW(aml::data_provenance(bad, nullptr), ConfigError);
}

BOOST_AUTO_TEST_CASE(next_version_table) {
  auto doc = [](const std::string& s) { return json::parse(s); };
  auto versions = [&](std::vector<std::string> names) {
    std::vector<json::Document> out;
    for (auto& n : names) out.push_back(doc(R"({"name":")" + n + R"("})"));
    return out;
  };
  BOOST_TEST(aml::next_version(nullptr, {}) == 1);  // a new model
  auto c = doc(R"({"properties":{"latestVersion":"4","nextVersion":"5"}})");
  BOOST_TEST(aml::next_version(&c, versions({"4", "3"})) == 5);
  // nextVersion missing: latestVersion + 1.
  c = doc(R"({"properties":{"latestVersion":"7"}})");
  BOOST_TEST(aml::next_version(&c, {}) == 8);
  // A stale container (a version made by another client): the versions win.
  c = doc(R"({"properties":{"nextVersion":"2"}})");
  BOOST_TEST(aml::next_version(&c, versions({"9", "1"})) == 10);
  // Non-numeric versions do not count.
  BOOST_TEST(aml::next_version(nullptr, versions({"v2", "1.5", "3"})) == 4);
  c = doc(R"({"properties":{"latestVersion":"candidate"}})");
  BOOST_TEST(aml::next_version(&c, versions({"candidate"})) == 1);
}

BOOST_AUTO_TEST_CASE(log_cursor_lines_offsets_and_ignored_ranges) {
  aml::LogCursor c;
  BOOST_TEST(c.offset("run/a") == 0u);
  auto l = c.feed("run/a", 200, "one\ntw");
  BOOST_TEST(l == std::vector<std::string>({"one"}), boost::test_tools::per_element());
  BOOST_TEST(c.offset("run/a") == 6u);
  // 206: only the new bytes; the unfinished line is completed.
  l = c.feed("run/a", 206, "o\nthree\n");
  BOOST_TEST(l == std::vector<std::string>({"two", "three"}), boost::test_tools::per_element());
  BOOST_TEST(c.offset("run/a") == 14u);
  // A server that ignores Range answers 200 with the whole file: what was read is skipped.
  l = c.feed("run/a", 200, "one\ntwo\nthree\nfour\nfi");
  BOOST_TEST(l == std::vector<std::string>({"four"}), boost::test_tools::per_element());
  BOOST_TEST(c.offset("run/a") == 21u);
  l = c.feed("run/a", 200, "one\ntwo\nthree\nfour\nfi");  // nothing new
  BOOST_TEST(l.empty());
  // Files are independent; their unfinished lines come out at the end.
  l = c.feed("run/b", 206, "x\ny");
  BOOST_TEST(l == std::vector<std::string>({"x"}), boost::test_tools::per_element());
  auto rest = c.flush();
  BOOST_TEST(rest == std::vector<std::string>({"fi", "y"}), boost::test_tools::per_element());
  BOOST_TEST(c.flush().empty());
  // Blank lines are lines too.
  BOOST_TEST(c.feed("run/c", 206, "a\n\n\nb") == std::vector<std::string>({"a", "", ""}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(run_errors) {
  auto err = [](const std::string& d) { return aml::run_error(json::parse(d)); };
  BOOST_TEST(err(R"({"error":{"error":{"code":"ServiceRestarted","message":"the server restarted"}}})") ==
             "ServiceRestarted: the server restarted");
  BOOST_TEST(err(R"({"error":{"code":"UserError","message":"boom"}})") == "UserError: boom");
  BOOST_TEST(err(R"({"error":{"error":{"message":"only a message"}}})") == "only a message");
  BOOST_TEST(err(R"({"error":{"error":{"code":"JobTimeout"}}})") == "JobTimeout");
  BOOST_TEST(err(R"({"runId":"x","status":"Completed"})").empty());
  BOOST_TEST(err(R"({"error":null})").empty());
}

BOOST_AUTO_TEST_CASE(streamed_log_names) {
  for (std::string yes :
       {"user_logs/std_log.txt", "user_logs/std_log_0.txt", "user_logs/std_log_process_0.txt",
        "azureml-logs/70_driver_log.txt", "logs/azureml/executionlogs.txt", "azureml-logs/hyperdrive.txt"})
    BOOST_TEST(aml::is_streamed_log(yes), yes);
  for (std::string no : {"user_logs/std_log_1.txt", "system_logs/lifecycler/execution-wrapper.txt", "outputs/x.txt"})
    BOOST_TEST(!aml::is_streamed_log(no), no);
}

// A PUT whose first attempt reached the service (503 after the job was created), retried and
// refused as a change of the job: the job carries our submission tag, so it is ours.
BOOST_AUTO_TEST_CASE(job_put_recovers_a_repeated_put) {
  FakeWorkspace f;
  std::string stored;
  int puts = 0;
  f.t->handler = [&](const net::Request& r) {
    if (r.method == "PUT" && has(r.url, "/jobs/train-1")) {
      if (++puts == 1) {
        stored = r.body;
        return respond(503, R"({"error":{"code":"ServiceUnavailable","message":"try again"}})");
      }
      return respond(400, R"({"error":{"code":"UserError","message":"A job with this name already exists."}})");
    }
    if (r.method == "GET" && has(r.url, "/jobs/train-1")) {
      auto d = json::parse(stored);
      json::Builder b(d.GetAllocator());
      b.set(d["properties"], "status", "Running");
      return respond(200, json::dump(d));
    }
    return respond(404, R"({"error":{"code":"NotFound","message":"no route"}})");
  };
  auto body = json::parse(R"({"properties":{"jobType":"Command","tags":{"k":"v"}}})");
  auto job = aml::put_job_repeat_safe(*f.ws, "train-1", body, "sub-1");
  BOOST_TEST(puts == 2);
  BOOST_TEST(aml::job_status(job) == "Running");
  BOOST_TEST(json::opt_string(job, "/properties/tags/amlops.submission").value_or("") == "sub-1");
  BOOST_TEST(json::opt_string(job, "/properties/tags/k").value_or("") == "v");

  // Another submission's job by that name: the refusal stands.
  puts = 1;
  stored = R"({"properties":{"jobType":"Command","tags":{"amlops.submission":"someone-else"}}})";
  auto body2 = json::parse(R"({"properties":{"jobType":"Command"}})");
  BOOST_CHECK_THROW(aml::put_job_repeat_safe(*f.ws, "train-1", body2, "sub-2"), HttpError);
}

// Registering the same source twice returns the existing version; a repeated version PUT that
// the service refuses is recovered when the version holds our source.
BOOST_AUTO_TEST_CASE(model_registration_is_repeat_safe) {
  FakeWorkspace f;
  std::map<std::string, std::string> versions;  // version -> body
  bool refuse_put = false;
  f.t->handler = [&](const net::Request& r) {
    std::string u = r.url;
    if (has(u, "/models/fraud/versions/") && r.method == "PUT") {
      std::string v = u.substr(u.find("/versions/") + 10);
      v = v.substr(0, v.find('?'));
      if (refuse_put) {
        if (!versions.count(v)) versions[v] = r.body;  // the first attempt landed
        return respond(409, R"({"error":{"code":"Conflict","message":"version exists"}})");
      }
      auto d = json::parse(r.body);
      json::Builder b(d.GetAllocator());
      b.set(d, "name", v);
      versions[v] = json::dump(d);
      return respond(200, versions[v]);
    }
    if (has(u, "/models/fraud/versions/") && r.method == "GET") {
      std::string v = u.substr(u.find("/versions/") + 10);
      v = v.substr(0, v.find('?'));
      if (!versions.count(v)) return respond(404, R"({"error":{"code":"NotFound","message":"no"}})");
      auto d = json::parse(versions[v]);
      json::Builder b(d.GetAllocator());
      b.set(d, "name", v);
      return respond(200, json::dump(d));
    }
    if (has(u, "/models/fraud/versions?")) {
      std::string items;
      for (auto& [v, body] : versions) {
        auto src = json::opt_string(json::parse(body), "/properties/properties/amlops.source").value_or("");
        if (has(u, "properties=") && !has(u, src)) continue;
        auto d = json::parse(body);
        json::Builder b(d.GetAllocator());
        b.set(d, "name", v);
        items += (items.empty() ? "" : ",") + json::dump(d);
      }
      return respond(200, R"({"value":[)" + items + "]}");
    }
    if (has(u, "/models/fraud?"))
      return versions.empty()
                 ? respond(404, R"({"error":{"code":"NotFound","message":"no"}})")
                 : respond(200, R"({"properties":{"latestVersion":")" + versions.rbegin()->first + R"("}})");
    return respond(404, R"({"error":{"code":"NotFound","message":"no route"}})");
  };
  aml::RegisterRequest req;
  req.name = "fraud";
  req.path = "azureml://datastores/ds/paths/models/a";
  req.tags = {{"stage", "candidate"}};
  int provenance_calls = 0;
  req.provenance = [&] {
    ++provenance_calls;
    return std::map<std::string, std::string>{{"amlops.git_commit", "abc"}};
  };
  auto r1 = aml::register_model(*f.ws, req);
  BOOST_TEST(!r1.existing);
  BOOST_TEST(r1.version_name == "1");
  BOOST_TEST(json::opt_string(r1.version, "/properties/tags/stage").value_or("") == "candidate");
  BOOST_TEST(json::opt_string(r1.version, "/properties/properties/amlops.git_commit").value_or("") == "abc");
  BOOST_TEST(provenance_calls == 1);
  auto r2 = aml::register_model(*f.ws, req);
  BOOST_TEST(r2.existing);
  BOOST_TEST(r2.version_name == "1");
  BOOST_TEST(f.requests("PUT", "/models/").size() == 1u);

  // Another source: the next version; its PUT is refused after landing, and recovered.
  req.path = "azureml://datastores/ds/paths/models/b";
  refuse_put = true;
  auto r3 = aml::register_model(*f.ws, req);
  BOOST_TEST(!r3.existing);
  BOOST_TEST(r3.version_name == "2");
  BOOST_TEST(json::opt_string(r3.version, "/properties/modelUri").value_or("") == req.path);
  // A refused PUT of a version that holds another source is an error.
  req.path = "azureml://datastores/ds/paths/models/c";
  req.version = "1";
  BOOST_CHECK_THROW(aml::register_model(*f.ws, req), HttpError);
}

// Listing: tag filters sent and checked again; no model -> no versions; a missing workspace -> its error.
BOOST_AUTO_TEST_CASE(model_list_filters_and_missing_workspace) {
  FakeWorkspace f;
  bool workspace_exists = true;
  f.t->handler = [&](const net::Request& r) {
    if (has(r.url, "/models/fraud/versions?")) {
      BOOST_TEST(has(r.url, "tags=stage%3Dprod%2Cowner"), r.url);
      // The service ignores the filter here: the client checks it.
      return respond(200, R"({"value":[{"name":"3","properties":{"tags":{"stage":"prod","owner":"a"}}},
        {"name":"2","properties":{"tags":{"stage":"candidate","owner":"a"}}},
        {"name":"1","properties":{"tags":{"stage":"prod"}}}]})");
    }
    if (has(r.url, "/models/")) return respond(404, R"({"error":{"code":"NotFound","message":"no model"}})");
    if (has(r.url, "/workspaces/w?"))
      return workspace_exists ? respond(200, R"({"properties":{}})")
                              : respond(404, R"({"error":{"code":"ResourceNotFound","message":"no workspace"}})");
    return respond(404, R"({"error":{"code":"NotFound","message":"no route"}})");
  };
  auto v = aml::list_models(*f.ws, "fraud", {"stage=prod", "owner"});
  BOOST_REQUIRE(v.size() == 1u);
  BOOST_TEST(json::opt_string(v[0], "/name").value_or("") == "3");
  BOOST_TEST(aml::list_models(*f.ws, "other").empty());
  workspace_exists = false;
  FakeWorkspace g;  // no cached workspace
  g.t->handler = f.t->handler;
  try {
    aml::list_models(*g.ws, "other");
    BOOST_FAIL("no error");
  } catch (const HttpError& e) {
    BOOST_TEST(e.status() == 404);
    BOOST_TEST(has(e.what(), "workspaces/w: HTTP 404"), e.what());
    BOOST_TEST(static_cast<int>(e.exit_code()) == 4);
  }
}

// environment: azureml:myenv@latest is sent as the newest version's id, looked up once.
BOOST_AUTO_TEST_CASE(latest_environment_is_resolved_before_submission) {
  FakeWorkspace f;
  f.t->handler = [&](const net::Request& r) {
    if (r.method == "GET" && has(r.url, "/environments/myenv/versions?")) {
      BOOST_TEST(has(r.url, "$orderBy=createdtime%20desc"), r.url);
      BOOST_TEST(has(r.url, "$top=1"), r.url);
      return respond(200, R"({"value":[{"id":")" + kWs + R"(/environments/myenv/versions/12","name":"12"}]})");
    }
    if (r.method == "GET" && has(r.url, "/environments/")) return respond(200, R"({"value":[]})");
    if (r.method == "PUT" && has(r.url, "/components/"))
      return respond(200, R"({"id":")" + kWs + R"(/components/azureml_anonymous/versions/c1"})");
    return respond(404, R"({"error":{"code":"NotFound","message":"no route"}})");
  };
  files::TempDir dir;
  spec::LoadOptions lo;
  lo.workspace_id = kWs;
  auto spec = spec::load_job_text("type: command\ncommand: echo hi\nenvironment: azureml:myenv@latest\n", "job.yml",
                                  dir.path(), lo);
  BOOST_REQUIRE(spec.labels.size() == 1u);
  aml::UploadStats stats;
  aml::resolve_assets(*f.ws, spec, stats);
  BOOST_TEST(json::opt_string(spec.body, "/properties/environmentId").value_or("") ==
             kWs + "/environments/myenv/versions/12");

  // Pipeline steps: the component spec gets "azureml:<id>"; one lookup for two steps.
  auto pipe = spec::load_job_text(
      "type: pipeline\njobs:\n"
      "  a:\n    type: command\n    command: echo a\n    environment: azureml:myenv@latest\n"
      "  b:\n    type: command\n    command: echo b\n    environment: azureml:myenv@latest\n",
      "pipe.yml", dir.path(), lo);
  size_t lookups = f.requests("GET", "/environments/myenv/versions?").size();
  aml::resolve_assets(*f.ws, pipe, stats);
  BOOST_TEST(f.requests("GET", "/environments/myenv/versions?").size() == lookups + 1);
  auto puts = f.requests("PUT", "/components/");
  BOOST_REQUIRE(puts.size() == 2u);
  for (auto& p : puts) {
    auto body = json::parse(p.body);
    BOOST_TEST(json::opt_string(body, "/properties/componentSpec/environment").value_or("") ==
               "azureml:" + kWs + "/environments/myenv/versions/12");
  }

  // No version, or a label other than latest: a configuration error (exit 2).
  auto none = spec::load_job_text("type: command\ncommand: echo\nenvironment: azureml:nope@latest\n", "job.yml",
                                  dir.path(), lo);
  try {
    aml::resolve_assets(*f.ws, none, stats);
    BOOST_FAIL("no error");
  } catch (const ConfigError& e) {
    BOOST_TEST(has(e.what(), "environment nope@latest: no version of nope"), e.what());
  }
  BOOST_CHECK_THROW(aml::resolve_label(*f.ws, "environments", "myenv", "prod"), ConfigError);
}

// --name of an existing job: taken unless it is the same spec (then nothing is submitted).
BOOST_AUTO_TEST_CASE(job_name_taken_unless_same_spec) {
  FakeWorkspace f;
  std::map<std::string, std::string> jobs;
  f.t->handler = [&](const net::Request& r) {
    auto pos = r.url.find("/jobs/");
    if (pos == std::string::npos) return respond(404, R"({"error":{"code":"NotFound","message":"no route"}})");
    std::string name = r.url.substr(pos + 6, r.url.find('?') - pos - 6);
    if (r.method == "PUT") {
      auto d = json::parse(r.body);
      json::Builder b(d.GetAllocator());
      b.set(d["properties"], "status", "NotStarted");
      jobs[name] = json::dump(d);
      return respond(201, jobs[name]);
    }
    if (!jobs.count(name)) return respond(404, R"({"error":{"code":"NotFound","message":"no job"}})");
    return respond(200, jobs[name]);
  };
  files::TempDir dir;
  spec::LoadOptions lo;
  lo.workspace_id = kWs;
  auto load = [&](const std::string& cmd) {
    return spec::load_job_text("type: command\ncommand: " + cmd + "\nenvironment: azureml:e:1\n", "job.yml", dir.path(),
                               lo);
  };
  aml::SubmitOptions o;
  o.name = "train-1";
  o.default_experiment = "exp";
  o.tags = {{"amlops.git_commit", "c1"}};
  auto a = load("python train.py");
  auto s1 = aml::submit_job(*f.ws, a, o);
  BOOST_TEST(!s1.existing);
  BOOST_TEST(f.requests("PUT", "/jobs/").size() == 1u);
  // The same spec (from another commit): the job is there, nothing is submitted.
  o.tags = {{"amlops.git_commit", "c2"}};
  auto b = load("python train.py");
  auto s2 = aml::submit_job(*f.ws, b, o);
  BOOST_TEST(s2.existing);
  BOOST_TEST(f.requests("PUT", "/jobs/").size() == 1u);
  // Another spec under that name: refused, exit 2.
  auto c = load("python train.py --lr 0.5");
  try {
    aml::submit_job(*f.ws, c, o);
    BOOST_FAIL("no error");
  } catch (const UsageError& e) {
    BOOST_TEST(has(e.what(), "job name 'train-1' is taken"), e.what());
    BOOST_TEST(static_cast<int>(e.exit_code()) == 2);
  }
  BOOST_TEST(f.requests("PUT", "/jobs/").size() == 1u);
  BOOST_TEST(aml::spec_fingerprint(a.body) == aml::spec_fingerprint(b.body));
  BOOST_TEST(aml::spec_fingerprint(a.body) != aml::spec_fingerprint(c.body));
}

// A symbolic link in a code folder that leads outside it: refused, naming the link, before any request.
BOOST_AUTO_TEST_CASE(code_links_outside_the_folder_are_refused) {
  FakeWorkspace f;
  code_found_by_hash(f);
  files::TempDir t;
  fs::create_directories(t.path() / "code" / "pkg");
  fs::create_directories(t.path() / "secrets");
  files::write_atomic(t.path() / "code" / "train.py", "print(1)\n");
  files::write_atomic(t.path() / "secrets" / "id_rsa", "PRIVATE\n");
  files::write_atomic(t.path() / "outside.txt", "x\n");
  // A link to a file inside the folder is fine.
  fs::create_symlink("../train.py", t.path() / "code" / "pkg" / "alias.py");
  aml::UploadStats stats;
  BOOST_TEST(aml::ensure_code(*f.ws, t.path() / "code", stats) == kWs + "/codes/c/versions/1");
  size_t before = f.t->snapshot().size();

  fs::create_symlink(t.path() / "outside.txt", t.path() / "code" / "pkg" / "data.txt");
  try {
    aml::ensure_code(*f.ws, t.path() / "code", stats);
    BOOST_FAIL("no error");
  } catch (const ConfigError& e) {
    BOOST_TEST(has(e.what(), (t.path() / "code" / "pkg" / "data.txt").string() + " is a symbolic link to "), e.what());
    BOOST_TEST(static_cast<int>(e.exit_code()) == 2);
  }
  fs::remove(t.path() / "code" / "pkg" / "data.txt");
  // A linked folder outside: the link is named, not the file inside it.
  fs::create_directory_symlink("../../secrets", t.path() / "code" / "pkg" / "keys");
  try {
    aml::ensure_code(*f.ws, t.path() / "code", stats);
    BOOST_FAIL("no error");
  } catch (const ConfigError& e) {
    BOOST_TEST(has(e.what(), (t.path() / "code" / "pkg" / "keys").string() + " is a symbolic link to ../../secrets"),
               e.what());
  }
  BOOST_TEST(f.t->snapshot().size() == before);
}

// An unchanged code folder: the second submit takes its hash from the hash cache and looks up the
// same hash; a changed file is hashed again and looked up under its new hash.
BOOST_AUTO_TEST_CASE(unchanged_code_hash_comes_from_the_cache) {
  FakeWorkspace f;
  code_found_by_hash(f);
  files::TempDir t;
  files::write_atomic(t.path() / "code" / "train.py", "print(1)\n");
  spec::HashCache cache{t.path() / "cache", std::chrono::nanoseconds(0)};
  aml::UploadStats stats;
  aml::ensure_code(*f.ws, t.path() / "code", stats, cache);
  BOOST_TEST(stats.hashes_cached == 0);
  aml::ensure_code(*f.ws, t.path() / "code", stats, cache);
  BOOST_TEST(stats.hashes_cached == 1);
  auto lookups = f.requests("GET", "hash=");
  BOOST_REQUIRE(lookups.size() == 2u);
  BOOST_TEST(lookups[0].url == lookups[1].url);
  files::write_atomic(t.path() / "code" / "train.py", "print(2)\n");
  aml::ensure_code(*f.ws, t.path() / "code", stats, cache);
  BOOST_TEST(stats.hashes_cached == 1);
  lookups = f.requests("GET", "hash=");
  BOOST_REQUIRE(lookups.size() == 3u);
  BOOST_TEST(lookups[2].url != lookups[1].url);
  BOOST_TEST(has(lookups[2].url, spec::content_hash(spec::collect_code_files(t.path() / "code"))));
}

BOOST_AUTO_TEST_CASE(generated_job_names) {
  auto n = aml::generate_job_name("jobs/Train Model.yml");
  BOOST_TEST(n.rfind("train_model_", 0) == 0u, n);
  BOOST_TEST(n.size() == std::string("train_model_").size() + 10);
  BOOST_TEST(aml::generate_job_name("jobs/Train Model.yml") != n);
  BOOST_TEST(aml::generate_job_name("").rfind("job_", 0) == 0u);
}
