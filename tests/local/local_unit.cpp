#define BOOST_TEST_MODULE local
#include <sys/stat.h>

#include <boost/test/unit_test.hpp>
#include <pugixml.hpp>

#include "core/error.hpp"
#include "core/files.hpp"
#include "core/hash.hpp"
#include "core/json.hpp"
#include "core/process.hpp"
#include "core/strings.hpp"
#include "local/app.hpp"
#include "local/faults.hpp"
#include "local/runner.hpp"
#include "local/store.hpp"

using namespace amlops;
using namespace amlops::local;

BOOST_AUTO_TEST_SUITE(faults)

BOOST_AUTO_TEST_CASE(parses_rates) {
  auto s = parse_faults("429=0.1,503=0.05,reset=0.02,slow=0.05");
  BOOST_TEST(s.r429 == 0.1);
  BOOST_TEST(s.r503 == 0.05);
  BOOST_TEST(s.reset == 0.02);
  BOOST_TEST(s.slow == 0.05);
  BOOST_TEST(!parse_faults("").any());
  BOOST_CHECK_THROW(parse_faults("500=0.1"), UsageError);
  BOOST_CHECK_THROW(parse_faults("429=2"), UsageError);
  BOOST_CHECK_THROW(parse_faults("429"), UsageError);
  BOOST_CHECK_THROW(parse_faults("429=0.6,503=0.6"), UsageError);
}

BOOST_AUTO_TEST_CASE(seeded_and_close_to_the_rates) {
  FaultSpec s = parse_faults("429=0.2,reset=0.1");
  FaultInjector a(s, 42), b(s, 42);
  int n429 = 0, nreset = 0;
  for (int i = 0; i < 10000; ++i) {
    auto k = a.draw();
    BOOST_REQUIRE(k == b.draw());
    n429 += k == FaultKind::too_many;
    nreset += k == FaultKind::reset;
  }
  BOOST_TEST(n429 > 1800);
  BOOST_TEST(n429 < 2200);
  BOOST_TEST(nreset > 850);
  BOOST_TEST(nreset < 1150);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(command_substitution)

std::optional<std::string> lookup(const std::string& ref) {
  if (ref == "inputs.lr") return "0.01";
  if (ref == "inputs.evil") return "x'; rm -rf / #$(id)";
  if (ref == "outputs.model") return "/data/out dir";
  return std::nullopt;
}

BOOST_AUTO_TEST_CASE(values_are_environment_references) {
  auto s = substitute_command("python train.py --lr ${{inputs.lr}} --out ${{outputs.model}}", lookup);
  BOOST_TEST(s.command == "python train.py --lr \"${AMLOPS_inputs_lr}\" --out \"${AMLOPS_outputs_model}\"");
  BOOST_TEST(s.env.at("AMLOPS_inputs_lr") == "0.01");
  BOOST_TEST(s.env.at("AMLOPS_outputs_model") == "/data/out dir");
  // Inside "..." the reference is bare, inside '...' the quote is closed around it.
  BOOST_TEST(substitute_command("echo \"${{ inputs.evil }}\"", lookup).command == "echo \"${AMLOPS_inputs_evil}\"");
  BOOST_TEST(substitute_command("echo '${{inputs.lr}}'", lookup).command == "echo ''\"${AMLOPS_inputs_lr}\"''");
  auto none = substitute_command("no placeholders $HOME", lookup);
  BOOST_TEST(none.command == "no placeholders $HOME");
  BOOST_TEST(none.env.empty());
  // References whose names would clash get distinct variables.
  auto both = substitute_command("a ${{inputs.a_b}} ${{inputs.a.b}} ${{inputs.a_b}}",
                                 [](const std::string& r) { return std::optional<std::string>(r); });
  BOOST_TEST(both.command == "a \"${AMLOPS_inputs_a_b}\" \"${AMLOPS_inputs_a_b_2}\" \"${AMLOPS_inputs_a_b}\"");
  BOOST_TEST(both.env.at("AMLOPS_inputs_a_b_2") == "inputs.a.b");
}

namespace {

// Runs `command` (with ${{inputs.v}} = `value`, ${{inputs.lr}} = 0.01, ${{inputs.n}} = `n`) under
// `shell` in an empty directory and returns its stdout; fails the test when the command fails or
// when any payload in the value ran (every payload creates the file `pwned`).
std::string run_substituted(const std::string& shell, const std::string& command, const std::string& value,
                            const std::string& n = "41") {
  auto s = substitute_command(command, [&](const std::string& ref) -> std::optional<std::string> {
    if (ref == "inputs.v") return value;
    if (ref == "inputs.lr") return std::string("0.01");
    if (ref == "inputs.n") return n;
    if (ref == "outputs.model") return std::string("/data/out dir");
    return std::nullopt;
  });
  files::TempDir dir("amlops-subst");
  process::SpawnOptions so;
  so.cwd = dir.path();
  so.capture = true;
  so.env_add = s.env;
  auto r = process::run_capture({shell, "-c", s.command}, so);
  BOOST_TEST_INFO("shell " << shell << ", command: " << command << "\n-> " << s.command);
  BOOST_TEST(r.exit_code == 0);
  BOOST_TEST(!std::filesystem::exists(dir.path() / "pwned"));
  return r.out;
}

std::vector<std::string> shells() {
  std::vector<std::string> v = {"/bin/sh"};  // dash on Debian; what amlops-local runs
  if (std::filesystem::exists("/bin/bash")) v.push_back("/bin/bash");
  return v;
}

// Values that run `touch pwned` if any part of them is ever read as shell code.
const std::vector<std::string> kPayloads = {
    "$(touch pwned)",        "`touch pwned`",
    "x; touch pwned",        "x && touch pwned",
    "x' ; touch pwned; '",   "x\" ; touch pwned; \"",
    "x\ntouch pwned",        "x\nEOF\ntouch pwned\nEOF",
    "} $(touch pwned) {",    "a[$(touch pwned)]",
    "x)) $(touch pwned) ((", "'\"$(touch pwned)`touch pwned`\\' ; touch pwned #",
};

}  // namespace

// Every position a placeholder can take in a command: the value arrives intact where the shell
// would see it as data, and no payload in it ever runs, under dash and bash.
BOOST_AUTO_TEST_CASE(no_value_runs_in_any_position) {
  struct Case {
    std::string command, expect;  // expect: stdout with V standing for the value
  };
  std::vector<Case> cases = {
      {"printf '%s\\n' ${{inputs.v}}", "V\n"},
      {"printf '%s\\n' --x=${{inputs.v}}", "--x=V\n"},
      {"printf '%s\\n' \"${{inputs.v}}\"", "V\n"},
      {"printf '%s\\n' \"a ${{inputs.v}} b\"", "a V b\n"},
      {"printf '%s\\n' \"a \\\" ${{inputs.v}}\"", "a \" V\n"},
      {"printf '%s\\n' 'a ${{inputs.v}} b'", "a V b\n"},
      {"printf '%s\\n' '${{inputs.v}}'", "V\n"},
      // A comment holding an apostrophe (or a quote) before the placeholder.
      {"# don't split this\nprintf '%s\\n' ${{inputs.v}}", "V\n"},
      {"echo start # it's \"odd\nprintf '%s\\n' ${{inputs.v}}", "start\nV\n"},
      // A placeholder inside a comment, with a value holding newlines.
      {"echo start # ${{inputs.v}}\necho end", "start\nend\n"},
      // Here-documents, unquoted delimiter (<<EOF, <<-EOF, two on one line).
      {"cat <<EOF\nv=${{inputs.v}}\nEOF\necho after", "v=V\nafter\n"},
      {"cat <<-EOF\n\tv=${{inputs.v}} it's\n\tEOF\necho after", "v=V it's\nafter\n"},
      {"cat <<A; cat <<B\n${{inputs.v}}\nA\n'${{inputs.v}}'\nB", "V\n'V'\n"},
      {"cat <<EOF\n$(printf '%s' ${{inputs.v}})\nEOF", "V\n"},
      // Parameter expansion words, quoted or not.
      {"printf '%s\\n' ${PATH:+${{inputs.v}}}", "V\n"},
      {"printf '%s\\n' \"${PATH:+${{inputs.v}}}\"", "V\n"},
      {"printf '%s\\n' \"${NOPE:-x${{inputs.v}}}\"", "xV\n"},
      // Command substitution and backquotes.
      {"printf '%s\\n' \"$(printf '%s' ${{inputs.v}})\"", "V\n"},
      {"printf '%s\\n' \"`printf '%s' ${{inputs.v}}`\"", "V\n"},
      {"printf '%s\\n' $(printf '%s' \"${{inputs.v}}\" | wc -c)", "LEN\n"},
      // Optional blocks.
      {"printf '%s\\n' \"lr=${{inputs.lr}}$[[ v=${{inputs.v}}]]\"", "lr=0.01 v=V\n"},
      {"printf '%s\\n' $[[--v ${{inputs.v}}]] $[[--w ${{inputs.w}}]] end", "--v\nV\nend\n"},
      // Integers in arithmetic.
      {"echo $((1+${{inputs.n}}))", "42\n"},
  };
  for (auto& sh : shells())
    for (auto& value : kPayloads)
      for (auto& c : cases) {
        std::string expect = c.expect;
        for (size_t p = expect.find('V'); p != std::string::npos; p = expect.find('V', p + value.size()))
          expect.replace(p, 1, value);
        if (auto p = expect.find("LEN"); p != std::string::npos) expect.replace(p, 3, std::to_string(value.size()));
        BOOST_TEST(run_substituted(sh, c.command, value) == expect, "command: " << c.command << " value: " << value);
      }
}

BOOST_AUTO_TEST_CASE(arithmetic_takes_integers_only) {
  for (auto& sh : shells()) {
    BOOST_TEST(run_substituted(sh, "echo $((1+${{inputs.n}}))", "", "-1") == "0\n");
    BOOST_TEST(run_substituted(sh, "echo $(( (2*${{inputs.n}}) ))", "", "21") == "42\n");
  }
  for (auto& value : kPayloads)
    for (const char* command : {"echo $((1+${{inputs.v}}))", "echo $((1+${PATH:+${{inputs.v}}}))",
                                "echo \"$(( $(echo 1) + ${{inputs.v}} ))\""})
      BOOST_CHECK_EXCEPTION(
          run_substituted("/bin/sh", command, value), std::runtime_error, [](const std::runtime_error& e) {
            return std::string(e.what()).find("${{inputs.v}} is used inside $((...))") != std::string::npos;
          });
}

BOOST_AUTO_TEST_CASE(quoted_heredoc_placeholders_are_refused) {
  for (const char* command :
       {"cat <<'EOF'\n${{inputs.lr}}\nEOF", "cat <<\"EOF\"\n${{inputs.lr}}\nEOF", "cat <<\\EOF\n${{inputs.lr}}\nEOF"})
    BOOST_CHECK_EXCEPTION(substitute_command(command, lookup), std::runtime_error, [](const std::runtime_error& e) {
      return std::string(e.what()).find("here-document whose delimiter is quoted") != std::string::npos;
    });
  // After the quoted here-document ends, placeholders work again.
  BOOST_TEST(run_substituted("/bin/sh", "cat <<'EOF'\n$x it's\nEOF\nprintf '%s\\n' ${{inputs.v}}", "$(touch pwned)") ==
             "$x it's\n$(touch pwned)\n");
}

BOOST_AUTO_TEST_CASE(values_with_nul_are_refused) {
  BOOST_CHECK_THROW(
      substitute_command("echo ${{inputs.v}}",
                         [](const std::string&) { return std::optional<std::string>(std::string("a\0b", 3)); }),
      std::runtime_error);
}

BOOST_AUTO_TEST_CASE(optional_blocks_and_unknown_references) {
  BOOST_TEST(substitute_command("run $[[--lr ${{inputs.lr}}]] $[[--x ${{inputs.x}}]] end", lookup).command ==
             "run --lr \"${AMLOPS_inputs_lr}\"  end");
  BOOST_CHECK_EXCEPTION(
      substitute_command("run ${{inputs.x}}", lookup), std::runtime_error,
      [](const std::runtime_error& e) { return std::string(e.what()).find("inputs.x") != std::string::npos; });
}

// A sweep substitutes search_space only: other placeholders, and blocks holding them, stay for the
// trial's own substitution, whatever quotes surround them.
BOOST_AUTO_TEST_CASE(kept_references_are_left_as_written) {
  auto s = substitute_command(
      "train '${{search_space.lr}}' \"${{inputs.x}}\" $[[--y ${{inputs.y}} ${{search_space.lr}}]] "
      "$[[${{search_space.z}}]]",
      [](const std::string& ref) -> std::optional<std::string> {
        if (ref == "search_space.lr") return std::string("0.1");
        return std::nullopt;
      },
      [](const std::string& ref) { return ref.rfind("search_space.", 0) != 0; });
  BOOST_TEST(s.command ==
             "train ''\"${AMLOPS_search_space_lr}\"'' \"${{inputs.x}}\" $[[--y ${{inputs.y}} "
             "\"${AMLOPS_search_space_lr}\"]] ");
  BOOST_TEST(s.env.size() == 1u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(sweep_sampling)

BOOST_AUTO_TEST_CASE(grid_is_the_cartesian_product_in_key_order) {
  auto space = json::parse(R"({"lr":["choice",[[0.1,0.2]]],"batch":{"type":"choice","values":[16,32,64]}})");
  auto t = sweep_trials(space, "Grid", 100, 1);
  BOOST_REQUIRE_EQUAL(t.size(), 6U);
  BOOST_TEST(t[0].at("batch") == "16");
  BOOST_TEST(t[0].at("lr") == "0.1");
  BOOST_TEST(t[1].at("lr") == "0.2");
  BOOST_TEST(t[5].at("batch") == "64");
  BOOST_TEST(sweep_trials(space, "grid", 4, 1).size() == 4U);
  auto bad = json::parse(R"({"lr":["uniform",[0,1]]})");
  BOOST_CHECK_THROW(sweep_trials(bad, "Grid", 10, 1), std::runtime_error);
  BOOST_CHECK_THROW(sweep_trials(json::parse(R"({"lr":["gamma",[1]]})"), "Random", 10, 1), std::runtime_error);
}

BOOST_AUTO_TEST_CASE(random_is_seeded_and_in_range) {
  auto space = json::parse(
      R"({"lr":["loguniform",[-6,-1]],"n":["randint",[5]],"act":["choice",[["relu","tanh"]]],"u":{"type":"uniform","min_value":2,"max_value":3}})");
  auto a = sweep_trials(space, "Random", 50, 7);
  auto b = sweep_trials(space, "Random", 50, 7);
  BOOST_REQUIRE_EQUAL(a.size(), 50U);
  for (size_t i = 0; i < a.size(); ++i) {
    BOOST_TEST(a[i] == b[i]);
    double lr = std::stod(a[i].at("lr"));
    BOOST_TEST(lr >= std::exp(-6.0));
    BOOST_TEST(lr <= std::exp(-1.0));
    int n = std::stoi(a[i].at("n"));
    BOOST_TEST((n >= 0 && n < 5));
    BOOST_TEST((a[i].at("act") == "relu" || a[i].at("act") == "tanh"));
    double u = std::stod(a[i].at("u"));
    BOOST_TEST((u >= 2 && u <= 3));
  }
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(store)

BOOST_AUTO_TEST_CASE(wal_settings_and_transactions) {
  files::TempDir dir("amlops-store");
  std::string secret;
  {
    Store s(dir.path());
    BOOST_TEST(s.query("PRAGMA journal_mode")[0].str(0) == "wal");
    secret = s.setting_or("k", [] { return std::string("v1"); });
    BOOST_TEST(s.setting_or("k", [] { return std::string("v2"); }) == "v1");
    BOOST_CHECK_THROW(s.transaction([&] {
      s.exec("INSERT INTO settings(key, value) VALUES('a', 'b')");
      throw std::runtime_error("abort");
    }),
                      std::runtime_error);
    BOOST_TEST(!s.setting("a").has_value());
  }
  Store again(dir.path());
  BOOST_TEST(again.setting("k").value() == secret);
}

BOOST_AUTO_TEST_SUITE_END()

namespace {

struct Fixture {
  files::TempDir dir{"amlops-router"};
  std::unique_ptr<App> app;
  std::string token;
  Fixture() {
    Config cfg;
    cfg.data_dir = dir.path();
    cfg.run_jobs = false;
    cfg.page_size = 2;
    app = std::make_unique<App>(cfg);
    app->set_base_url("http://127.0.0.1:9");
    token = app->issue_token("test", std::chrono::minutes(5));
  }
  net::ServerResponse send(const std::string& method, const std::string& target, const std::string& body = {},
                           std::map<std::string, std::string> headers = {}, bool auth = true) {
    net::ServerRequest r;
    r.method = method;
    r.target = target;
    auto q = target.find('?');
    r.path = str::url_decode(target.substr(0, q));
    if (q != std::string::npos)
      for (auto& part : str::split(target.substr(q + 1), '&')) {
        auto eq = part.find('=');
        r.query.emplace(str::url_decode(part.substr(0, eq), true),
                        eq == std::string::npos ? "" : str::url_decode(part.substr(eq + 1), true));
      }
    r.headers = std::move(headers);
    if (auth && !r.headers.count("authorization")) r.headers["authorization"] = "Bearer " + token;
    r.body = body;
    return app->handle(r);
  }
  std::string ws() const { return app->workspace_id("local"); }
  std::string mlflow(const std::string& ep) const {
    return "/mlflow/v1.0/subscriptions/" + app->identity().subscription +
           "/resourceGroups/amlops-local/providers/Microsoft.MachineLearningServices/workspaces/local/api/2.0/mlflow/" +
           ep;
  }
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(router, Fixture)

BOOST_AUTO_TEST_CASE(token_endpoint) {
  const auto& id = app->identity();
  std::string form = "grant_type=client_credentials&client_id=" + id.client_id +
                     "&client_secret=" + str::url_encode(id.client_secret) +
                     "&scope=" + str::url_encode("https://management.azure.com/.default");
  auto r = send("POST", "/" + id.tenant + "/oauth2/v2.0/token", form, {}, false);
  BOOST_REQUIRE_EQUAL(r.status, 200);
  auto d = json::parse(r.body);
  BOOST_TEST(json::get_int(d, "/expires_in") == 3600);
  BOOST_TEST(app->check_token(json::get_string(d, "/access_token")).empty());
  r = send("POST", "/" + id.tenant + "/oauth2/v2.0/token", "grant_type=password&client_id=x", {}, false);
  BOOST_TEST(r.status == 400);
  BOOST_TEST(r.body.find("unsupported_grant_type") != std::string::npos);
  r = send("POST", "/" + id.tenant + "/oauth2/v2.0/token", str::replace_all(form, "%2F.default", ""), {}, false);
  BOOST_TEST(r.status == 400);
  // v1 endpoint with resource=
  r = send("POST", "/" + id.tenant + "/oauth2/token",
           "grant_type=client_credentials&client_id=" + id.client_id + "&client_secret=" +
               str::url_encode(id.client_secret) + "&resource=https%3A%2F%2Fmanagement.azure.com%2F",
           {}, false);
  BOOST_TEST(r.status == 200);
  BOOST_TEST(r.body.find("\"expires_on\"") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(bearer_required_with_arm_error_body) {
  auto r = send("GET", ws() + "?api-version=2025-12-01", {}, {}, false);
  BOOST_TEST(r.status == 401);
  auto d = json::parse(r.body);
  BOOST_TEST(json::get_string(d, "/error/code") == "AuthenticationFailed");
  r = send("GET", ws() + "?api-version=2025-12-01", {},
           {{"authorization", "Bearer " + app->issue_token("x", std::chrono::seconds(-5))}});
  BOOST_TEST(json::get_string(json::parse(r.body), "/error/code") == "ExpiredAuthenticationToken");
  // Discovery and health need none.
  BOOST_TEST(send("GET", "/discovery", {}, {}, false).status == 200);
  BOOST_TEST(json::get_string(json::parse(send("GET", "/discovery", {}, {}, false).body), "/api") ==
             "http://127.0.0.1:9");
}

BOOST_AUTO_TEST_CASE(tokens_are_refused_outside_their_audience) {
  const auto& id = app->identity();
  auto token_for = [&](const std::string& scope) {
    std::string form = "grant_type=client_credentials&client_id=" + id.client_id +
                       "&client_secret=" + str::url_encode(id.client_secret) + "&scope=" + str::url_encode(scope);
    auto r = send("POST", "/" + id.tenant + "/oauth2/v2.0/token", form, {}, false);
    BOOST_REQUIRE_EQUAL(r.status, 200);
    return json::get_string(json::parse(r.body), "/access_token");
  };
  std::string storage = token_for("https://storage.azure.com/.default");
  std::string arm = token_for("https://management.azure.com/.default");
  std::string other = token_for("api://some-other-app/.default");
  auto arm_status = [&](const std::string& t) {
    auto r = send("GET", ws() + "?api-version=2025-12-01", {}, {{"authorization", "Bearer " + t}});
    if (r.status == 401)
      BOOST_TEST(json::get_string(json::parse(r.body), "/error/code") == "InvalidAuthenticationToken");
    return r.status;
  };
  BOOST_TEST(arm_status(arm) == 200);
  BOOST_TEST(arm_status(storage) == 401);
  BOOST_TEST(arm_status(other) == 401);
  BOOST_TEST(
      send("GET", mlflow("experiments/get-by-name?experiment_name=x"), {}, {{"authorization", "Bearer " + storage}})
          .status == 401);
  std::string blob = "/" + id.account + "/" + app->blobstore_container("local") + "?restype=container&comp=list";
  auto blob_status = [&](const std::string& t) {
    return send("GET", blob, {}, {{"authorization", "Bearer " + t}, {"x-ms-version", "2021-08-06"}}, false).status;
  };
  BOOST_TEST(blob_status(storage) == 200);
  BOOST_TEST(blob_status(arm) == 401);
  BOOST_TEST(blob_status(other) == 401);
}

BOOST_AUTO_TEST_CASE(an_unsigned_client_assertion_is_refused) {
  const auto& id = app->identity();
  int64_t now = unix_seconds(std::chrono::system_clock::now());
  std::string payload = hash::base64url_encode(R"({"aud":"api://AzureADTokenExchange","sub":"repo:o/r","exp":)" +
                                               std::to_string(now + 300) + "}");
  auto status = [&](const std::string& header, const std::string& signature) {
    std::string assertion = hash::base64url_encode(header) + "." + payload + "." + signature;
    std::string form =
        "grant_type=client_credentials&client_id=" + id.client_id +
        "&client_assertion_type=" + str::url_encode("urn:ietf:params:oauth:client-assertion-type:jwt-bearer") +
        "&client_assertion=" + assertion + "&scope=" + str::url_encode("https://management.azure.com/.default");
    return send("POST", "/" + id.tenant + "/oauth2/v2.0/token", form, {}, false).status;
  };
  BOOST_TEST(status(R"({"alg":"RS256","typ":"JWT"})", "c2ln") == 200);
  BOOST_TEST(status(R"({"alg":"none","typ":"JWT"})", "") == 400);
  BOOST_TEST(status(R"({"alg":"None","typ":"JWT"})", "c2ln") == 400);
  BOOST_TEST(status(R"({"alg":"RS256","typ":"JWT"})", "") == 400);
  BOOST_TEST(status(R"({"typ":"JWT"})", "c2ln") == 400);
}

BOOST_AUTO_TEST_CASE(the_data_folder_and_the_store_are_owner_only) {
  files::TempDir tmp("amlops-perm");
  auto mode = [](const std::filesystem::path& p) {
    struct stat st {};
    BOOST_REQUIRE(::stat(p.c_str(), &st) == 0);
    return st.st_mode & 0777;
  };
  Config cfg;
  cfg.data_dir = tmp.path() / "fresh" / "data";
  cfg.run_jobs = false;
  { App fresh(cfg); }
  BOOST_TEST(mode(cfg.data_dir) == 0700u);
  BOOST_TEST(mode(cfg.data_dir / "amlops-local.db") == 0600u);
  // A data folder left readable by an older version is tightened on start.
  std::filesystem::permissions(cfg.data_dir, std::filesystem::perms::all);
  std::filesystem::permissions(cfg.data_dir / "amlops-local.db", std::filesystem::perms::owner_read |
                                                                     std::filesystem::perms::owner_write |
                                                                     std::filesystem::perms::others_read);
  { App again(cfg); }
  BOOST_TEST(mode(cfg.data_dir) == 0700u);
  BOOST_TEST(mode(cfg.data_dir / "amlops-local.db") == 0600u);
}

BOOST_AUTO_TEST_CASE(arm_route_table_answers_in_arms_shape) {
  const std::string v = "?api-version=2025-12-01";
  auto code = [&](const std::string& method, const std::string& path) {
    auto r = send(method, path + v, method == "GET" ? "" : "{}");
    return std::make_pair(r.status, json::get_string(json::parse(r.body), "/error/code"));
  };
  using P = std::pair<int, std::string>;
  BOOST_TEST((code("PUT", ws()) == P{405, "MethodNotAllowed"}));
  BOOST_TEST((code("DELETE", ws() + "/datastores/workspaceblobstore") == P{400, "UserError"}));
  BOOST_TEST((code("PATCH", ws() + "/datastores/workspaceblobstore") == P{405, "MethodNotAllowed"}));
  BOOST_TEST((code("GET", ws() + "/datastores/other") == P{404, "UserError"}));
  BOOST_TEST((code("POST", ws() + "/datastores/other/listSecrets") == P{404, "UserError"}));
  BOOST_TEST((code("GET", ws() + "/computes/cpu") == P{404, "NotFound"}));
  std::string sub = "/subscriptions/" + app->identity().subscription;
  BOOST_TEST((code("GET", sub + "/resourceGroups/other/providers/Microsoft.MachineLearningServices/workspaces/local") ==
              P{404, "ResourceGroupNotFound"}));
  BOOST_TEST(
      (code("GET",
            sub + "/resourceGroups/amlops-local/providers/Microsoft.MachineLearningServices/workspaces/nope/jobs") ==
       P{404, "ResourceNotFound"}));
  BOOST_TEST((code("GET", "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/amlops-local") ==
              P{404, "SubscriptionNotFound"}));
  // Path literals match case-insensitively, as in ARM.
  auto r = send("GET", str::replace_all(ws(), "/resourceGroups/", "/RESOURCEGROUPS/") + "/DataStores" + v);
  BOOST_TEST(r.status == 200);
  BOOST_TEST(json::parse(r.body)["value"].Size() == 2U);
}

BOOST_AUTO_TEST_CASE(workspace_points_back_at_the_server) {
  auto r = send("GET", ws() + "?api-version=2024-10-01");
  BOOST_REQUIRE_EQUAL(r.status, 200);
  auto d = json::parse(r.body);
  BOOST_TEST(json::get_string(d, "/properties/discoveryUrl") == "http://127.0.0.1:9/discovery");
  BOOST_TEST(json::get_string(d, "/properties/mlFlowTrackingUri")
                 .rfind("azureml://127.0.0.1:9/mlflow/v1.0/subscriptions/", 0) == 0);
  BOOST_TEST(send("GET", ws() + "?api-version=2022-05-01").status == 400);
  BOOST_TEST(send("GET", ws() + "?api-version=2026-01-01").status == 400);
  BOOST_TEST(send("GET", ws() + "?api-version=2024-01-01-preview").status == 200);
  BOOST_TEST(send("GET", str::replace_all(ws(), "/local", "/other") + "?api-version=2025-12-01").status == 404);
}

BOOST_AUTO_TEST_CASE(code_hash_lookup_and_paging) {
  std::string body =
      R"({"properties":{"codeUri":"http://127.0.0.1:9/amlopslocal/c/src","properties":{"hash_sha256":"abc","hash_version":"202208"}}})";
  BOOST_TEST(send("PUT", ws() + "/codes/one/versions/1?api-version=2025-12-01", body).status == 201);
  BOOST_TEST(send("PUT", ws() + "/codes/one/versions/1?api-version=2025-12-01", body).status == 200);
  auto r = send("GET", ws() + "/codes/another-name/versions?api-version=2023-04-01&hash=abc&hashVersion=202208");
  auto d = json::parse(r.body);
  BOOST_REQUIRE_EQUAL(d["value"].Size(), 1U);
  BOOST_TEST(json::get_string(d, "/value/0/id") == ws() + "/codes/one/versions/1");
  d = json::parse(send("GET", ws() + "/codes/x/versions?api-version=2023-04-01&hash=zzz").body);
  BOOST_TEST(d["value"].Size() == 0U);
  for (int i = 2; i <= 5; ++i)
    send("PUT", ws() + "/codes/one/versions/" + std::to_string(i) + "?api-version=2025-12-01", body);
  d = json::parse(send("GET", ws() + "/codes/one/versions?api-version=2025-12-01&%24orderBy=version%20asc").body);
  BOOST_REQUIRE_EQUAL(d["value"].Size(), 2U);
  BOOST_TEST(json::get_string(d, "/value/0/name") == "1");
  std::string next = json::get_string(d, "/nextLink");
  BOOST_TEST(next.find("$skip=2") != std::string::npos);
  BOOST_TEST(next.find("orderBy") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(job_put_get_update_and_cancel) {
  std::string body = R"({"properties":{"jobType":"Command","command":"echo hi","tags":{"a":"1"}}})";
  auto r = send("PUT", ws() + "/jobs/j1?api-version=2025-01-01-preview", body);
  BOOST_REQUIRE_EQUAL(r.status, 201);
  auto d = json::parse(r.body);
  BOOST_TEST(json::get_string(d, "/properties/status") == "NotStarted");
  BOOST_TEST(json::get_string(d, "/properties/outputs/default/uri") ==
             "azureml://datastores/workspaceartifactstore/ExperimentRun/dcid.j1");
  r = send("PUT", ws() + "/jobs/j1?api-version=2025-12-01",
           R"({"properties":{"jobType":"Command","command":"echo hi","tags":{"a":"2"}}})");
  BOOST_TEST(r.status == 200);
  BOOST_TEST(json::get_string(json::parse(r.body), "/properties/tags/a") == "2");
  BOOST_TEST(send("PUT", ws() + "/jobs/j2?api-version=2025-12-01", R"({"properties":{"jobType":"AutoML"}})").status ==
             400);
  BOOST_TEST(send("PUT", ws() + "/jobs/j2?api-version=2025-12-01", "not json").status == 400);
  r = send("POST", ws() + "/jobs/j1/cancel?api-version=2025-12-01");
  BOOST_TEST(r.status == 202);
  d = json::parse(send("GET", ws() + "/jobs/j1?api-version=2025-12-01").body);
  BOOST_TEST(json::get_string(d, "/properties/status") == "CancelRequested");
  BOOST_TEST(send("GET", ws() + "/jobs/nope?api-version=2025-12-01").status == 404);
}

BOOST_AUTO_TEST_CASE(blob_sas_shared_key_range_and_list) {
  std::string c = app->blobstore_container("local");
  std::string sas = app->make_sas(c, "", "racwdl", std::chrono::minutes(5));
  std::string base = "/" + app->identity().account + "/" + c;
  BOOST_TEST(send("PUT", base + "/dir/a.txt?" + sas, "0123456789",
                  {{"x-ms-blob-type", "BlockBlob"}, {"x-ms-meta-k", "v"}}, false)
                 .status == 201);
  BOOST_TEST(send("PUT", base + "/dir/sub/b.txt?" + sas, "b", {{"x-ms-blob-type", "BlockBlob"}}, false).status == 201);
  auto r = send("GET", base + "/dir/a.txt?" + sas, {}, {{"range", "bytes=2-4"}}, false);
  BOOST_TEST(r.status == 206);
  BOOST_TEST(r.file_offset == 2U);
  BOOST_TEST(r.file_length.value() == 3U);
  BOOST_TEST(send("GET", base + "/dir/a.txt?" + sas, {}, {{"range", "bytes=20-"}}, false).status == 416);
  // Positions beyond 64 bits are past the end (416), or clamp to it; never an internal error.
  BOOST_TEST(send("GET", base + "/dir/a.txt?" + sas, {}, {{"range", "bytes=99999999999999999999-"}}, false).status ==
             416);
  r = send("GET", base + "/dir/a.txt?" + sas, {}, {{"x-ms-range", "bytes=7-99999999999999999999"}}, false);
  BOOST_TEST(r.status == 206);
  BOOST_TEST(r.file_offset == 7U);
  BOOST_TEST(r.file_length.value() == 3U);
  r = send("GET", base + "/dir/a.txt?" + sas, {}, {{"range", "bytes=-99999999999999999999"}}, false);
  BOOST_TEST(r.status == 206);
  BOOST_TEST(r.file_length.value() == 10U);
  r = send("GET", base + "?restype=container&comp=list&delimiter=/&prefix=dir/&include=metadata&" + sas, {}, {}, false);
  BOOST_TEST(r.body.find("<Name>dir/a.txt</Name>") != std::string::npos);
  BOOST_TEST(r.body.find("<BlobPrefix><Name>dir/sub/</Name></BlobPrefix>") != std::string::npos);
  BOOST_TEST(r.body.find("<k>v</k>") != std::string::npos);
  // A read-only blob SAS cannot write, and another blob is out of its scope.
  std::string ro = app->make_sas(c, "dir/a.txt", "r", std::chrono::minutes(5));
  BOOST_TEST(send("GET", base + "/dir/a.txt?" + ro, {}, {}, false).status == 200);
  BOOST_TEST(send("PUT", base + "/dir/a.txt?" + ro, "x", {{"x-ms-blob-type", "BlockBlob"}}, false).status == 403);
  BOOST_TEST(send("GET", base + "/dir/sub/b.txt?" + ro, {}, {}, false).status == 403);
  // Shared Key over the canonical string.
  std::string date = http_date(std::chrono::system_clock::now());
  std::string to_sign = "GET\n\n\n\n\n\n\n\n\n\n\n\nx-ms-date:" + date + "\nx-ms-version:2021-08-06\n/" +
                        app->identity().account + base + "/dir/a.txt";
  std::string sig = hash::base64_encode(hash::hmac_sha256(hash::base64_decode(app->identity().account_key), to_sign));
  r = send("GET", base + "/dir/a.txt", {},
           {{"x-ms-date", date}, {"x-ms-version", "2021-08-06"}, {"authorization", "SharedKey amlopslocal:" + sig}},
           false);
  BOOST_TEST(r.status == 200);
  r = send("GET", base + "/dir/a.txt", {},
           {{"x-ms-date", date}, {"x-ms-version", "2021-08-06"}, {"authorization", "SharedKey amlopslocal:AAAA"}},
           false);
  BOOST_TEST(r.status == 403);
  BOOST_TEST(send("GET", base + "/dir/a.txt", {}, {}, false).status == 401);
  // Names that climb out are refused.
  BOOST_TEST(send("PUT", base + "/..%2F..%2Fx?" + sas, "x", {{"x-ms-blob-type", "BlockBlob"}}, false).status == 400);
  BOOST_TEST(send("PUT", base + "/a/../../x?" + sas, "x", {{"x-ms-blob-type", "BlockBlob"}}, false).status == 400);
}

BOOST_AUTO_TEST_CASE(blob_xml_lists_any_name_and_block_lists_are_parsed_as_xml) {
  std::string c = app->blobstore_container("local");
  std::string sas = app->make_sas(c, "", "racwdl", std::chrono::minutes(5));
  std::string base = "/" + app->identity().account + "/" + c;
  // A name with XML's special characters comes back intact from a real XML parser.
  std::string odd = "q&a <1> \"x\" 'y'.txt";
  BOOST_TEST(send("PUT", base + "/" + str::url_encode(odd) + "?" + sas, "z", {{"x-ms-blob-type", "BlockBlob"}}, false)
                 .status == 201);
  auto r = send("GET", base + "?restype=container&comp=list&" + sas, {}, {}, false);
  BOOST_REQUIRE(r.status == 200);
  pugi::xml_document doc;
  BOOST_REQUIRE(doc.load_string(r.body.c_str()));
  std::vector<std::string> names;
  for (auto b : doc.child("EnumerationResults").child("Blobs").children("Blob")) names.push_back(b.child_value("Name"));
  BOOST_TEST(names == std::vector<std::string>{odd}, boost::test_tools::per_element());
  BOOST_TEST(doc.child("EnumerationResults").attribute("ContainerName").value() == c);
  // Put Block List: committed in the listed order; ids are trimmed; malformed XML is refused.
  std::string id1 = hash::base64_encode("block-1"), id2 = hash::base64_encode("block-2");
  BOOST_TEST(send("PUT", base + "/blocks.txt?comp=block&blockid=" + str::url_encode(id1) + "&" + sas, "one ", {}, false)
                 .status == 201);
  BOOST_TEST(send("PUT", base + "/blocks.txt?comp=block&blockid=" + str::url_encode(id2) + "&" + sas, "two", {}, false)
                 .status == 201);
  r = send("PUT", base + "/blocks.txt?comp=blocklist&" + sas, "<BlockList><Latest>" + id1 + "</Latest>", {}, false);
  BOOST_TEST(r.status == 400);
  BOOST_TEST(r.body.find("InvalidXmlDocument") != std::string::npos);
  r = send("PUT", base + "/blocks.txt?comp=blocklist&" + sas, "<Other><Latest>" + id1 + "</Latest></Other>", {}, false);
  BOOST_TEST(r.status == 400);
  r = send("PUT", base + "/blocks.txt?comp=blocklist&" + sas,
           "<?xml version=\"1.0\" encoding=\"utf-8\"?><BlockList><Latest> " + id2 + " </Latest><Uncommitted>" + id1 +
               "</Uncommitted></BlockList>",
           {}, false);
  BOOST_TEST(r.status == 201);
  r = send("GET", base + "/blocks.txt?" + sas, {}, {}, false);
  BOOST_TEST(r.status == 200);
  BOOST_REQUIRE(r.file);
  BOOST_TEST(files::read(*r.file) == "twoone ");
  // A container may be called "oauth2": the blob account owns its paths, not the token route.
  std::string osas = app->make_sas("oauth2", "", "racwdl", std::chrono::minutes(5));
  std::string obase = "/" + app->identity().account + "/oauth2";
  BOOST_TEST(send("PUT", obase + "?restype=container&" + osas, {}, {}, false).status == 201);
  BOOST_TEST(send("PUT", obase + "/token?" + osas, "t", {{"x-ms-blob-type", "BlockBlob"}}, false).status == 201);
  auto post = send("POST", obase + "/token?" + osas, "", {}, false);  // a blob answer, not a token endpoint
  BOOST_TEST(post.body.rfind("<?xml", 0) == 0);
  BOOST_TEST(send("GET", obase + "/token?" + osas, {}, {}, false).status == 200);
  // Errors are XML too.
  r = send("GET", base + "/missing.txt?" + sas, {}, {}, false);
  BOOST_TEST(r.status == 404);
  BOOST_REQUIRE(doc.load_string(r.body.c_str()));
  BOOST_TEST(std::string(doc.child("Error").child_value("Code")) == "BlobNotFound");
}

BOOST_AUTO_TEST_CASE(uris_cannot_name_a_container_outside_the_blob_store) {
  // A blob URL's container segment would otherwise climb out of DATA/blobs (to the database).
  std::string db = "/" + app->identity().account + "/../amlops-local.db";
  for (auto uri : {"http://127.0.0.1:1" + db, "https://127.0.0.1:1" + db,
                   "http://127.0.0.1:1/" + app->identity().account + "/./jobs"}) {
    auto res = app->resolve_uri("local", uri);
    BOOST_TEST_INFO(uri);
    BOOST_TEST(!res.loc.has_value());
  }
  std::string ok = "http://127.0.0.1:1/" + app->identity().account + "/" + app->blobstore_container("local") + "/a/b";
  auto res = app->resolve_uri("local", ok);
  BOOST_REQUIRE(res.loc.has_value());
  BOOST_TEST(res.loc->path == "a/b");
}

BOOST_AUTO_TEST_CASE(workspace_names_match_case_insensitively_and_name_one_workspace) {
  // ARM names are case-insensitive: a job put under .../workspaces/LOCAL is the workspace 'local''s job.
  std::string upper = str::replace_all(ws(), "/workspaces/local", "/workspaces/LOCAL");
  BOOST_TEST(send("PUT", upper + "/jobs/cased?api-version=2025-12-01",
                  R"({"properties":{"jobType":"Command","command":"echo hi"}})")
                 .status == 201);
  auto r = send("GET", ws() + "/jobs/cased?api-version=2025-12-01");
  BOOST_TEST(r.status == 200);
  BOOST_TEST(json::get_string(json::parse(r.body), "/id") == ws() + "/jobs/cased");
  r = send("POST", str::replace_all(mlflow("experiments/create"), "/workspaces/local/", "/workspaces/Local/"),
           R"({"name":"cased"})");
  BOOST_TEST(r.status == 200);
  BOOST_TEST(send("GET", mlflow("experiments/get-by-name?experiment_name=cased")).status == 200);
}

BOOST_AUTO_TEST_CASE(mlflow_rest) {
  auto r = send("POST", mlflow("experiments/create"), R"({"name":"e1"})");
  BOOST_REQUIRE_EQUAL(r.status, 200);
  std::string exp = json::get_string(json::parse(r.body), "/experiment_id");
  BOOST_TEST(send("POST", mlflow("experiments/create"), R"({"name":"e1"})").status == 400);
  BOOST_TEST(send("GET", mlflow("experiments/get-by-name?experiment_name=nope")).status == 404);
  r = send("POST", mlflow("runs/create"), R"({"experiment_id":")" + exp + R"(","run_name":"r","start_time":1})");
  BOOST_REQUIRE_EQUAL(r.status, 200);
  std::string run = json::get_string(json::parse(r.body), "/run/info/run_id");
  for (int i = 0; i < 5; ++i)
    BOOST_TEST(send("POST", mlflow("runs/log-metric"),
                    R"({"run_id":")" + run + R"(","key":"loss","value":)" + std::to_string(i) +
                        R"(,"timestamp":1,"step":)" + std::to_string(i) + "}")
                   .status == 200);
  BOOST_TEST(
      send("POST", mlflow("runs/log-parameter"), R"({"run_id":")" + run + R"(","key":"lr","value":"0.1"})").status ==
      200);
  BOOST_TEST(
      send("POST", mlflow("runs/log-parameter"), R"({"run_id":")" + run + R"(","key":"lr","value":"0.2"})").status ==
      400);
  BOOST_TEST(
      send("POST", mlflow("runs/log-metric"), R"({"run_id":")" + run + R"(","key":"loss","value":"abc"})").status ==
      400);
  r = send("GET", mlflow("metrics/get-history?run_id=" + run + "&metric_key=loss&max_results=2"));
  auto d = json::parse(r.body);
  BOOST_TEST(d["metrics"].Size() == 2U);
  BOOST_TEST(json::get_string(d, "/next_page_token") == "2");
  d = json::parse(send("GET", mlflow("runs/get?run_id=" + run)).body);
  BOOST_TEST(json::get_number(d, "/run/data/metrics/0/value") == 4.0);
  r = send("POST", mlflow("runs/update"), R"({"run_id":")" + run + R"(","status":"FINISHED","end_time":5})");
  BOOST_TEST(json::get_string(json::parse(r.body), "/run_info/status") == "FINISHED");
  BOOST_TEST(send("GET", mlflow("runs/get?run_id=missing")).status == 404);
}

BOOST_AUTO_TEST_CASE(request_log_records_every_request) {
  send("GET", ws() + "?api-version=2025-12-01");
  send("GET", "/nowhere", {}, {}, false);
  auto d = json::parse(app->request_log_json(0));
  BOOST_REQUIRE_EQUAL(d["requests"].Size(), 2U);
  BOOST_TEST(json::get_string(d, "/requests/0/method") == "GET");
  BOOST_TEST(json::get_int(d, "/requests/0/status") == 200);
  BOOST_TEST(json::get_int(d, "/requests/1/status") == 401);
  BOOST_TEST(files::read(dir.path() / "requests.jsonl").find("\"path\":\"/nowhere\"") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
