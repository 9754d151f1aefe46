#define BOOST_TEST_MODULE azure
#include <boost/test/unit_test.hpp>

#include "azure/arm.hpp"
#include "azure/auth.hpp"
#include "azure/blob.hpp"
#include "core/error.hpp"
#include "core/files.hpp"
#include "core/hash.hpp"
#include "core/json.hpp"
#include "core/redact.hpp"
#include "core/strings.hpp"
#include "fake_transport.hpp"

using namespace amlops;
using test::respond;

namespace {

struct Fixture {
  FakeClock clock;
  std::shared_ptr<test::FakeTransport> transport = std::make_shared<test::FakeTransport>();
  std::unique_ptr<net::Client> http;
  Fixture() {
    net::ClientOptions o;
    o.clock = &clock;
    o.transport = transport;
    o.seed = 1;
    o.policy.base_delay = std::chrono::milliseconds(10);
    http = std::make_unique<net::Client>(o);
  }
  azure::ArmClient arm(azure::ArmOptions opts = {}) {
    opts.endpoint = "https://arm.test";
    return azure::ArmClient(
        *http, [] { return std::string("tok-123456"); }, clock, opts);
  }
};

}  // namespace

BOOST_AUTO_TEST_CASE(workspace_ref_forms) {
  auto a = azure::WorkspaceRef::parse("azureml://subscriptions/s1/resourcegroups/rg1/workspaces/w1");
  BOOST_TEST(a.arm_id() ==
             "/subscriptions/s1/resourceGroups/rg1/providers/Microsoft.MachineLearningServices/workspaces/w1");
  auto b = azure::WorkspaceRef::parse(a.arm_id());
  BOOST_TEST(b.name == "w1");
  BOOST_TEST(b.resource_group == "rg1");
  BOOST_CHECK_THROW(azure::WorkspaceRef::parse("azureml://subscriptions/s1/workspaces/w1"), UsageError);
}

BOOST_FIXTURE_TEST_CASE(api_version_added_to_relative_paths_only, Fixture) {
  azure::ArmOptions o;
  o.api_version = "2024-10-01";
  auto c = arm(o);
  BOOST_TEST(c.url("/subscriptions/x") == "https://arm.test/subscriptions/x?api-version=2024-10-01");
  BOOST_TEST(c.url("/a?b=1") == "https://arm.test/a?b=1&api-version=2024-10-01");
  BOOST_TEST(c.url("/a?api-version=1") == "https://arm.test/a?api-version=1");
  BOOST_TEST(c.url("https://other/next?$skip=2") == "https://other/next?$skip=2");
}

BOOST_FIXTURE_TEST_CASE(arm_error_is_code_message_and_correlation_id, Fixture) {
  // The live 400 body of azureml-rest.md §3.1.
  std::string body = R"({"error":{"code":"UserError","message":"Request is invalid and/or missing fields.",
    "details":[{"code":"RequestInvalid","message":"Could not find member 'assetVersion' on object of type 'UriFolderJobOutput'.","details":[],"additionalInfo":[]}],
    "additionalInfo":[{"type":"ComponentName","info":{"value":"managementfrontend"}},
                      {"type":"Correlation","info":{"value":{"operation":"9518a5aa","request":"2632b0bb"}}}]}})";
  transport->handler = [&](const net::Request&) { return respond(400, body, {{"x-ms-response-type", "error"}}); };
  auto c = arm();
  try {
    c.get("/jobs/x");
    BOOST_FAIL("no error");
  } catch (const HttpError& e) {
    std::string m = e.what();
    BOOST_TEST(m.find("UserError: Request is invalid and/or missing fields.") != std::string::npos);
    BOOST_TEST(m.find("RequestInvalid: Could not find member 'assetVersion'") != std::string::npos);
    BOOST_TEST(m.find("correlation id 9518a5aa") != std::string::npos);
    BOOST_TEST(e.code() == "UserError");
    BOOST_TEST(e.status() == 400);
    BOOST_TEST(static_cast<int>(e.exit_code()) == 4);
  }
}

BOOST_FIXTURE_TEST_CASE(lro_azure_async_operation, Fixture) {
  int polls = 0;
  transport->handler = [&](const net::Request& r) {
    if (r.method == "PUT")
      return respond(201, R"({"properties":{"provisioningState":"Creating"}})",
                     {{"Azure-AsyncOperation", "https://arm.test/ops/1?api-version=x&sig=abc"}, {"Retry-After", "7"}});
    if (r.url.find("/ops/1") != std::string::npos) {
      BOOST_TEST(r.url == "https://arm.test/ops/1?api-version=x&sig=abc");  // verbatim
      ++polls;
      return respond(200, polls < 3 ? R"({"status":"Updating"})" : R"({"status":"Succeeded"})");
    }
    return respond(200, R"({"name":"ep","properties":{"provisioningState":"Succeeded"}})");
  };
  auto c = arm();
  json::Document body(rapidjson::kObjectType);
  auto doc = c.put("/endpoints/ep", body);
  BOOST_TEST(json::get_string(doc, "/name") == "ep");
  BOOST_TEST(polls == 3);
  BOOST_TEST(clock.total_slept() >= std::chrono::seconds(7));  // Retry-After honoured
}

BOOST_FIXTURE_TEST_CASE(lro_location_and_failure, Fixture) {
  int polls = 0;
  transport->handler = [&](const net::Request& r) {
    if (r.method == "POST") return respond(202, "", {{"Location", "https://arm.test/results/9"}, {"Retry-After", "3"}});
    ++polls;
    return polls < 2 ? respond(202, "", {{"Retry-After", "3"}}) : respond(200, R"({"done":true})");
  };
  auto c = arm();
  auto doc = c.post("/jobs/j/cancel");
  BOOST_TEST(json::get_bool(doc, "/done"));
  BOOST_TEST(polls == 2);
  BOOST_TEST(clock.total_slept() >= std::chrono::seconds(6));

  transport->handler = [&](const net::Request& r) {
    if (r.method == "PUT") return respond(201, "{}", {{"Azure-AsyncOperation", "https://arm.test/ops/2"}});
    return respond(200, R"({"status":"Failed","error":{"code":"DeploymentFailed","message":"image pull failed"}})");
  };
  json::Document body(rapidjson::kObjectType);
  try {
    c.put("/x", body);
    BOOST_FAIL("no error");
  } catch (const HttpError& e) {
    BOOST_TEST(std::string(e.what()).find("DeploymentFailed: image pull failed") != std::string::npos);
  }
}

BOOST_FIXTURE_TEST_CASE(lro_timeout_is_exit_3, Fixture) {
  transport->handler = [&](const net::Request& r) {
    if (r.method == "PUT") return respond(201, "{}", {{"Azure-AsyncOperation", "https://arm.test/ops/3"}});
    return respond(200, R"({"status":"InProgress"})");
  };
  azure::ArmOptions o;
  o.lro_timeout = std::chrono::minutes(2);
  auto c = arm(o);
  json::Document body(rapidjson::kObjectType);
  BOOST_CHECK_THROW(c.put("/x", body), TimeoutError);
}

BOOST_FIXTURE_TEST_CASE(paging_follows_next_link, Fixture) {
  transport->handler = [&](const net::Request& r) {
    if (r.url.find("page=2") != std::string::npos)
      return respond(200, R"({"value":[{"n":3}],"nextLink":"https://arm.test/l?page=3"})");
    if (r.url.find("page=3") != std::string::npos) return respond(200, R"({"value":[{"n":4}]})");
    return respond(200, R"({"value":[{"n":1},{"n":2}],"nextLink":"https://arm.test/l?page=2"})");
  };
  auto c = arm();
  auto items = c.list("/l");
  BOOST_REQUIRE(items.size() == 4u);
  BOOST_TEST(json::get_int(items[3], "/n") == 4);
  BOOST_TEST(c.list("/l", 3).size() == 3u);
}

BOOST_AUTO_TEST_CASE(token_response_forms) {
  auto now = std::chrono::system_clock::time_point(std::chrono::seconds(1'000'000));
  auto a = azure::parse_token_response(R"({"access_token":"aaaa1","expires_in":3599})", now, "t");
  BOOST_TEST(unix_seconds(a.expires_on) == 1'000'000 + 3599);
  auto b = azure::parse_token_response(R"({"access_token":"aaaa2","expires_in":"86399","expires_on":"1700000000"})",
                                       now, "t");
  BOOST_TEST(unix_seconds(b.expires_on) == 1'000'000 + 86399);
  auto c = azure::parse_token_response(R"({"accessToken":"aaaa3","expires_on":1700000000})", now, "t");
  BOOST_TEST(unix_seconds(c.expires_on) == 1700000000);
  BOOST_TEST(redact::secrets("x aaaa3 y") == "x *** y");
  BOOST_CHECK_THROW(azure::parse_token_response(R"({"token_type":"Bearer"})", now, "t"), HttpError);
}

BOOST_FIXTURE_TEST_CASE(client_secret_request_and_cache, Fixture) {
  int issued = 0;
  transport->handler = [&](const net::Request& r) {
    BOOST_TEST(r.url == "https://login.test/tenant-1/oauth2/v2.0/token");
    BOOST_TEST(r.body.find("grant_type=client_credentials") != std::string::npos);
    BOOST_TEST(r.body.find("client_secret=s3cr3t-value") != std::string::npos);
    BOOST_TEST(r.body.find("scope=https%3A%2F%2F") != std::string::npos);
    BOOST_TEST(r.body.find(".azure.com%2F.default") != std::string::npos);
    ++issued;
    return respond(
        200, R"({"token_type":"Bearer","expires_in":3600,"access_token":"tok-)" + std::to_string(issued) + R"("})");
  };
  MapEnv env({{"AZURE_CLIENT_ID", "app"},
              {"AZURE_TENANT_ID", "tenant-1"},
              {"AZURE_CLIENT_SECRET", "s3cr3t-value"},
              {"AZURE_AUTHORITY_HOST", "https://login.test/"},
              {"PATH", "/nonexistent"}});
  auto cred = azure::make_credential(env, *http, clock);
  BOOST_TEST(cred->name() == "client-secret");
  azure::TokenCache cache(cred, clock);
  BOOST_TEST(cache.token(azure::kArmScope) == "tok-1");
  clock.advance(std::chrono::minutes(50));
  BOOST_TEST(cache.token(azure::kArmScope) == "tok-1");  // 10 min left > 5 min margin
  clock.advance(std::chrono::minutes(6));
  BOOST_TEST(cache.token(azure::kArmScope) == "tok-2");      // refreshed before expiry
  BOOST_TEST(cache.token(azure::kStorageScope) == "tok-3");  // per scope
  BOOST_TEST(redact::secrets("s3cr3t-value") == "***");
}

BOOST_FIXTURE_TEST_CASE(token_errors_are_config_errors, Fixture) {
  transport->handler = [&](const net::Request&) {
    return respond(
        401,
        R"({"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided.\nTrace ID: x"})");
  };
  MapEnv env({{"AZURE_CLIENT_ID", "app"},
              {"AZURE_TENANT_ID", "t"},
              {"AZURE_CLIENT_SECRET", "wrong-secret"},
              {"AZURE_AUTHORITY_HOST", "https://login.test"}});
  auto cred = azure::make_credential(env, *http, clock);
  try {
    cred->get_token(azure::kArmScope);
    BOOST_FAIL("no error");
  } catch (const ConfigError& e) {
    BOOST_TEST(std::string(e.what()).find("invalid_client: AADSTS7000215: Invalid client secret provided.") !=
               std::string::npos);
  }
  MapEnv none(std::map<std::string, std::string>{{"PATH", "/nonexistent"}});
  BOOST_CHECK_THROW(azure::make_credential(none, *http, clock), ConfigError);
}

BOOST_FIXTURE_TEST_CASE(federated_credential_asks_a_fresh_assertion_per_token, Fixture) {
  int assertions = 0;
  std::vector<std::string> seen;
  transport->handler = [&](const net::Request& r) {
    if (r.url.rfind("https://gh.test/token", 0) == 0) {
      BOOST_TEST(r.url.find("audience=api%3A%2F%2FAzureADTokenExchange") != std::string::npos);
      BOOST_TEST(str::to_lower(test::header_of(r, "Authorization")) == "bearer gh-request-token");
      ++assertions;
      return respond(200, R"({"count":1,"value":"jwt-)" + std::to_string(assertions) + R"("})");
    }
    auto pos = r.body.find("client_assertion=");
    BOOST_REQUIRE(pos != std::string::npos);
    seen.push_back(r.body.substr(pos + 17));
    BOOST_TEST(r.body.find("client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer") !=
               std::string::npos);
    return respond(200, R"({"expires_in":600,"access_token":"acc-)" + std::to_string(seen.size()) + R"("})");
  };
  MapEnv env({{"AZURE_CLIENT_ID", "app"},
              {"AZURE_TENANT_ID", "t"},
              {"ACTIONS_ID_TOKEN_REQUEST_URL", "https://gh.test/token?x=1"},
              {"ACTIONS_ID_TOKEN_REQUEST_TOKEN", "gh-request-token"},
              {"AZURE_AUTHORITY_HOST", "https://login.test"}});
  auto cred = azure::make_credential(env, *http, clock);
  BOOST_TEST(cred->name() == "github-oidc");
  cred->get_token(azure::kArmScope);
  cred->get_token(azure::kArmScope);
  BOOST_TEST(assertions == 2);
  BOOST_REQUIRE(seen.size() == 2u);
  BOOST_TEST(seen[0] == "jwt-1");
  BOOST_TEST(seen[1] == "jwt-2");
}

BOOST_FIXTURE_TEST_CASE(managed_identity_app_service_form, Fixture) {
  transport->handler = [&](const net::Request& r) {
    BOOST_TEST(
        r.url.find("https://mi.test/token?api-version=2019-08-01&resource=https%3A%2F%2Fmanagement.azure.com%2F") == 0);
    BOOST_TEST(test::header_of(r, "X-IDENTITY-HEADER") == "hdr-secret");
    return respond(
        200, R"({"access_token":"mi-token","expires_on":"2000000000","resource":"https://management.azure.com/"})");
  };
  MapEnv env(
      {{"IDENTITY_ENDPOINT", "https://mi.test/token"}, {"IDENTITY_HEADER", "hdr-secret"}, {"PATH", "/nonexistent"}});
  auto cred = azure::make_credential(env, *http, clock);
  auto t = cred->get_token(azure::kArmScope);
  BOOST_TEST(t.token == "mi-token");
  BOOST_TEST(unix_seconds(t.expires_on) == 2000000000);
}

BOOST_AUTO_TEST_CASE(shared_key_canonicalisation) {
  net::Headers h = {{"x-ms-version", "2021-08-06"},
                    {"x-ms-date", "Thu, 26 Nov 2026 04:12:39 GMT"},
                    {"Content-Type", "text/plain"},
                    {"x-ms-meta-Name", "  v "}};
  std::string s = azure::shared_key_string_to_sign(
      "PUT", "http://127.0.0.1:10000/devstoreaccount1/c/dir/a%20b.txt?comp=metadata&b=2", h, "devstoreaccount1", 5);
  std::string expected =
      "PUT\n\n\n5\n\ntext/plain\n\n\n\n\n\n\n"
      "x-ms-date:Thu, 26 Nov 2026 04:12:39 GMT\nx-ms-meta-name:v\nx-ms-version:2021-08-06\n"
      "/devstoreaccount1/devstoreaccount1/c/dir/a%20b.txt\nb:2\ncomp:metadata";
  BOOST_TEST(s == expected);
}

BOOST_FIXTURE_TEST_CASE(workload_identity_rereads_the_token_file, Fixture) {
  files::TempDir t;
  files::write_atomic(t.path() / "token", "jwt-file-1\n");
  std::vector<std::string> seen;
  transport->handler = [&](const net::Request& r) {
    auto pos = r.body.find("client_assertion=");
    seen.push_back(r.body.substr(pos + 17));
    return respond(200, R"({"expires_in":600,"access_token":"wi-token"})");
  };
  MapEnv env({{"AZURE_CLIENT_ID", "app"},
              {"AZURE_TENANT_ID", "t"},
              {"AZURE_FEDERATED_TOKEN_FILE", (t.path() / "token").string()},
              {"AZURE_AUTHORITY_HOST", "https://login.test"}});
  auto cred = azure::make_credential(env, *http, clock);
  BOOST_TEST(cred->name() == "workload-identity");
  cred->get_token(azure::kArmScope);
  files::write_atomic(t.path() / "token", "jwt-file-2\n");  // the kubelet rotates it
  cred->get_token(azure::kArmScope);
  BOOST_REQUIRE(seen.size() == 2u);
  BOOST_TEST(seen[0] == "jwt-file-1");
  BOOST_TEST(seen[1] == "jwt-file-2");
}

BOOST_FIXTURE_TEST_CASE(azure_devops_federation, Fixture) {
  int oidc = 0;
  transport->handler = [&](const net::Request& r) {
    if (r.url.rfind("https://dev.test/oidc", 0) == 0) {
      BOOST_TEST(r.method == "POST");
      BOOST_TEST(r.url.find("serviceConnectionId=conn-1") != std::string::npos);
      BOOST_TEST(str::to_lower(test::header_of(r, "Authorization")) == "bearer system-access-token");
      ++oidc;
      return respond(200, R"({"oidcToken":"ado-jwt-)" + std::to_string(oidc) + R"("})");
    }
    BOOST_TEST(r.body.find("client_assertion=ado-jwt-") != std::string::npos);
    return respond(200, R"({"expires_in":600,"access_token":"ado-token"})");
  };
  MapEnv env({{"AZURE_CLIENT_ID", "app"},
              {"AZURE_TENANT_ID", "t"},
              {"SYSTEM_OIDCREQUESTURI", "https://dev.test/oidc"},
              {"AZURESUBSCRIPTION_SERVICE_CONNECTION_ID", "conn-1"},
              {"SYSTEM_ACCESSTOKEN", "system-access-token"},
              {"AZURE_AUTHORITY_HOST", "https://login.test"}});
  auto cred = azure::make_credential(env, *http, clock);
  BOOST_TEST(cred->name() == "azure-devops-oidc");
  BOOST_TEST(cred->get_token(azure::kArmScope).token == "ado-token");
  cred->get_token(azure::kArmScope);
  BOOST_TEST(oidc == 2);
}

BOOST_FIXTURE_TEST_CASE(blob_bearer_auth_headers, Fixture) {
  std::vector<net::Request> seen;
  transport->handler = [&](const net::Request& r) {
    seen.push_back(r);
    return respond(201, "");
  };
  azure::BlobContainer c(*http, "https://acct.blob.core.windows.net/ctr",
                         azure::BlobAuth::with_bearer([] { return std::string("stor-tok"); }));
  c.put_blob("a/b c.txt", "data");
  BOOST_REQUIRE(seen.size() == 1u);
  BOOST_TEST(seen[0].url == "https://acct.blob.core.windows.net/ctr/a/b%20c.txt");
  BOOST_TEST(test::header_of(seen[0], "Authorization") == "Bearer stor-tok");
  BOOST_TEST(test::header_of(seen[0], "x-ms-version") == azure::kBlobApiVersion);
  BOOST_TEST(test::header_of(seen[0], "x-ms-blob-type") == "BlockBlob");
  // A SAS container URI: the SAS rides on every request, no Authorization header.
  auto s = azure::BlobContainer::from_sas_uri(*http, "https://acct.blob.core.windows.net/ctr?sv=2021&sig=abcd1234");
  s.put_blob("x", "y");
  BOOST_TEST(seen[1].url == "https://acct.blob.core.windows.net/ctr/x?sv=2021&sig=abcd1234");
  BOOST_TEST(test::header_of(seen[1], "Authorization").empty());
}

// List Blobs answers as the service writes them: XML entities, metadata, folder prefixes,
// paging by NextMarker; storage errors carry the XML <Code> and <Message>.
BOOST_FIXTURE_TEST_CASE(blob_list_pages_metadata_and_errors, Fixture) {
  std::vector<std::string> urls;
  transport->handler = [&](const net::Request& r) {
    urls.push_back(r.url);
    if (r.url.find("marker=") == std::string::npos)
      return respond(200, R"(<?xml version="1.0" encoding="utf-8"?>
<EnumerationResults ServiceEndpoint="http://127.0.0.1:10000/acct/" ContainerName="ctr">
  <Prefix>m/</Prefix>
  <Blobs>
    <Blob><Name>m/a &amp; b&lt;1&gt;.txt</Name><Properties><Content-Length>12</Content-Length></Properties>
      <Metadata><Upload_Status>completed</Upload_Status><name>x &quot;y&quot;</name></Metadata></Blob>
    <BlobPrefix><Name>m/sub/</Name></BlobPrefix>
    <Blob><Name><![CDATA[m/c.bin]]></Name><Properties><Content-Length>3000000000</Content-Length></Properties></Blob>
  </Blobs>
  <NextMarker>page 2/x</NextMarker>
</EnumerationResults>)");
    return respond(200, R"(<?xml version="1.0"?><EnumerationResults><Blobs><Blob><Name>m/d</Name>
      <Properties><Content-Length>0</Content-Length></Properties><Metadata/></Blob></Blobs><NextMarker/></EnumerationResults>)");
  };
  azure::BlobContainer c(*http, "http://127.0.0.1:10000/acct/ctr?sv=1&sig=s3cr3t");
  auto items = c.list("m/");
  BOOST_REQUIRE(items.size() == 3u);
  BOOST_TEST(items[0].name == "m/a & b<1>.txt");
  BOOST_TEST(items[0].size == 12u);
  BOOST_TEST(items[0].metadata["upload_status"] == "completed");
  BOOST_TEST(items[0].metadata["name"] == "x \"y\"");
  BOOST_TEST(items[1].name == "m/c.bin");
  BOOST_TEST(items[1].size == 3000000000ULL);
  BOOST_TEST(items[2].name == "m/d");
  BOOST_REQUIRE(urls.size() == 2u);
  BOOST_TEST(urls[1].find("marker=page%202%2Fx") != std::string::npos, urls[1]);
  BOOST_TEST(urls[1].find("http://127.0.0.1:10000/acct/ctr?") == 0u, urls[1]);

  transport->handler = [&](const net::Request&) {
    return respond(403, R"(<?xml version="1.0" encoding="utf-8"?><Error><Code>AuthenticationFailed</Code>)"
                        R"(<Message>Server failed to authenticate the request.
RequestId:1</Message></Error>)");
  };
  try {
    c.list();
    BOOST_FAIL("no error");
  } catch (const HttpError& e) {
    std::string m = e.what();
    BOOST_TEST(m.find("AuthenticationFailed: Server failed to authenticate the request.") != std::string::npos, m);
    BOOST_TEST(m.find("RequestId") == std::string::npos, m);
    BOOST_TEST(m.find("s3cr3t") == std::string::npos, m);
  }
  transport->handler = [&](const net::Request&) { return respond(200, "<EnumerationResults><Blobs>"); };
  BOOST_CHECK_THROW(c.list(), HttpError);
}

// Container URLs: host-style accounts, path-style emulators (IPv4, localhost, IPv6), a SAS in the query.
BOOST_FIXTURE_TEST_CASE(blob_container_urls, Fixture) {
  std::vector<net::Request> seen;
  transport->handler = [&](const net::Request& r) {
    seen.push_back(r);
    return respond(201, "");
  };
  const std::string key = hash::base64_encode("key");
  for (auto [url, account] : std::vector<std::pair<std::string, std::string>>{
           {"https://acct1.blob.core.windows.net/ctr/", "acct1"},
           {"http://127.0.0.1:10000/devstoreaccount1/ctr", "devstoreaccount1"},
           {"http://localhost:10000/acct2/ctr", "acct2"},
           {"http://[::1]:10000/acct3/ctr", "acct3"}}) {
    seen.clear();
    azure::BlobContainer c(*http, url, azure::BlobAuth::with_shared_key("", key));
    BOOST_TEST(c.url() == (url.back() == '/' ? url.substr(0, url.size() - 1) : url));
    c.put_blob("d/e.txt", "x");
    BOOST_REQUIRE(seen.size() == 1u);
    BOOST_TEST(test::header_of(seen[0], "Authorization").rfind("SharedKey " + account + ":", 0) == 0u,
               url << ": " << test::header_of(seen[0], "Authorization"));
  }
  BOOST_CHECK_THROW(azure::BlobContainer(*http, "not a url"), ConfigError);
}
