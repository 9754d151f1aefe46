// Unit tests of the pieces app.cpp and runner.cpp were split into: the route table, tokens,
// configuration, the pipeline graph, sweep seeds and the interpreter shims.
#include <unistd.h>

#include <boost/test/unit_test.hpp>

#include "core/error.hpp"
#include "core/files.hpp"
#include "core/hash.hpp"
#include "core/process.hpp"
#include "core/strings.hpp"
#include "local/config.hpp"
#include "local/pipeline.hpp"
#include "local/routes.hpp"
#include "local/shims.hpp"
#include "local/sweep.hpp"
#include "local/tokens.hpp"

using namespace amlops;
using namespace amlops::local;
namespace fs = std::filesystem;

namespace {

std::vector<std::string> segs(const std::string& path) {
  std::vector<std::string> out;
  for (auto& s : str::split(path, '/'))
    if (!s.empty()) out.push_back(s);
  return out;
}

net::ServerResponse named(const std::string& name) {
  net::ServerResponse r;
  r.body = name;
  return r;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(route_table)

BOOST_AUTO_TEST_CASE(patterns_capture_segments_and_the_rest) {
  auto m = RouteTable::match("subscriptions/{sub}/resourceGroups/{rg}/{rest*}",
                             segs("/subscriptions/S1/RESOURCEGROUPS/rg/providers/x/workspaces/w"));
  BOOST_REQUIRE(m);
  BOOST_TEST(m->params.at("sub") == "S1");
  BOOST_TEST(m->params.at("rg") == "rg");
  BOOST_TEST(m->rest == (std::vector<std::string>{"providers", "x", "workspaces", "w"}));
  // The rest may be empty; fixed patterns match exactly as many segments.
  auto seg = segs("/subscriptions/S1/resourceGroups/rg");
  BOOST_TEST(RouteTable::match("subscriptions/{sub}/resourceGroups/{rg}/{rest*}", seg)->rest.empty());
  BOOST_TEST(!RouteTable::match("subscriptions/{sub}", seg));
  BOOST_TEST(!RouteTable::match("subscriptions/{sub}/resourceGroups/{rg}/x", seg));
  BOOST_TEST(!RouteTable::match("subscriptions/{sub}/groups/{rg}", seg));
  BOOST_CHECK_THROW(RouteTable::match("a/{rest*}/b", segs("a/b")), std::logic_error);
}

BOOST_AUTO_TEST_CASE(first_match_wins_and_methods_are_told_apart) {
  RouteTable t;
  net::ServerRequest req;
  t.add("POST", "{tenant}/oauth2/token", [](auto&, auto& m) { return named("token " + m["tenant"]); })
      .add("GET", "items/special", [](auto&, auto&) { return named("special"); })
      .add("PUT", "items/special", [](auto&, auto&) { return named("put special"); })
      .add("*", "items/{id}", [](auto&, auto& m) { return named("item " + m["id"]); });
  auto f = t.find("POST", segs("/t1/oauth2/token"));
  BOOST_REQUIRE(f.handler);
  BOOST_TEST((*f.handler)(req, f.match).body == "token t1");
  f = t.find("GET", segs("/t1/oauth2/token"));
  BOOST_TEST(!f.handler);
  BOOST_TEST(f.path_known);  // 405, not 404
  f = t.find("GET", segs("/items/special"));
  BOOST_TEST((*f.handler)(req, f.match).body == "special");
  f = t.find("PUT", segs("/items/special"));  // same pattern, another method
  BOOST_TEST((*f.handler)(req, f.match).body == "put special");
  f = t.find("DELETE", segs("/items/special"));  // the specific route owns its path: 405, not the broader one
  BOOST_TEST(!f.handler);
  BOOST_TEST(f.path_known);
  f = t.find("DELETE", segs("/items/other"));
  BOOST_TEST((*f.handler)(req, f.match).body == "item other");
  f = t.find("GET", segs("/nothing/here"));
  BOOST_TEST(!f.handler);
  BOOST_TEST(!f.path_known);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(jwt)

json::Document claims(int64_t exp, const std::string& aud, std::optional<int64_t> nbf = std::nullopt) {
  json::Document p(rapidjson::kObjectType);
  json::Builder b(p.GetAllocator());
  b.set(p, "aud", aud);
  b.set(p, "exp", exp);
  if (nbf) b.set(p, "nbf", *nbf);
  b.set(p, "sub", "me");
  return p;
}

BOOST_AUTO_TEST_CASE(sign_and_verify) {
  const int64_t now = 1'800'000'000;
  std::string t = jwt_sign_hs256("key", claims(now + 60, "https://management.azure.com"), "kid1");
  auto c = jwt_verify_hs256("key", t, now);
  BOOST_TEST(static_cast<bool>(c));
  BOOST_TEST(json::opt_string(c.payload, "/sub").value() == "me");
  auto parts = jwt_decode(t);
  BOOST_TEST(json::opt_string(parts.header, "/alg").value() == "HS256");
  BOOST_TEST(json::opt_string(parts.header, "/kid").value() == "kid1");
  BOOST_TEST((jwt_verify_hs256("key", t, now, arm_audiences()).error == JwtError::none));
  BOOST_TEST((jwt_verify_hs256("key", t, now, {"https://management.azure.com/"}).error == JwtError::none));
}

BOOST_AUTO_TEST_CASE(every_way_a_token_is_refused) {
  const int64_t now = 1'800'000'000;
  std::string good = jwt_sign_hs256("key", claims(now + 60, "https://storage.azure.com"), "");
  auto dot1 = good.find('.');
  auto dot2 = good.rfind('.');
  BOOST_TEST((jwt_verify_hs256("other-key", good, now).error == JwtError::bad_signature));
  // Another payload under the old signature.
  std::string forged = good.substr(0, dot1 + 1) +
                       hash::base64url_encode(json::dump(claims(now + 9999, "https://storage.azure.com"))) +
                       good.substr(dot2);
  BOOST_TEST((jwt_verify_hs256("key", forged, now).error == JwtError::bad_signature));
  // A truncated or lengthened signature.
  BOOST_TEST((jwt_verify_hs256("key", good.substr(0, good.size() - 1), now).error == JwtError::bad_signature));
  BOOST_TEST((jwt_verify_hs256("key", good + "A", now).error == JwtError::bad_signature));
  // alg none, unsigned.
  std::string none = hash::base64url_encode(R"({"alg":"none","typ":"JWT"})") + "." +
                     hash::base64url_encode(json::dump(claims(now + 60, "x"))) + ".";
  BOOST_TEST((jwt_verify_hs256("key", none, now).error == JwtError::bad_algorithm));
  BOOST_TEST((jwt_verify_hs256("key", good, now + 60).error == JwtError::expired));
  BOOST_TEST(jwt_verify_hs256("key", good, now + 60).reason == "expired");
  std::string early = jwt_sign_hs256("key", claims(now + 600, "a", now + 300), "");
  BOOST_TEST((jwt_verify_hs256("key", early, now).error == JwtError::not_yet_valid));
  BOOST_TEST((jwt_verify_hs256("key", good, now, arm_audiences()).error == JwtError::wrong_audience));
  BOOST_TEST((jwt_verify_hs256("key", good, now, storage_audiences()).error == JwtError::none));
  for (std::string bad : {"", "a.b", "a.b.c.d", "!!!.e30.x", "e30.bm90LWpzb24.x"})
    BOOST_TEST((jwt_verify_hs256("key", bad, now).error == JwtError::malformed), bad);
  BOOST_CHECK_THROW(jwt_decode("not-a-jwt"), std::runtime_error);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(local_config)

BOOST_AUTO_TEST_CASE(environments_and_errors_with_file_line_col) {
  files::TempDir dir("amlops-local-config");
  auto file = dir.path() / "config.yml";
  files::write_atomic(file,
                      "environments:\n  a: /usr/bin/python3\n  b:\n    path: /opt/b/bin\n    python: /opt/b/python\n");
  Config cfg;
  load_config_file(file, cfg);
  BOOST_TEST(cfg.environments.at("a").python == "/usr/bin/python3");
  BOOST_TEST(cfg.environments.at("b").path_prefix == "/opt/b/bin");
  BOOST_TEST(cfg.environments.at("b").python == "/opt/b/python");

  auto message = [&](const std::string& text) {
    files::write_atomic(file, text);
    Config c;
    try {
      load_config_file(file, c);
    } catch (const ConfigError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  std::string m = message("environments:\n  e:\n    interpreter: /usr/bin/python3\n");
  BOOST_TEST(m.find("config.yml:3:5") != std::string::npos, m);
  BOOST_TEST(m.find("unknown key 'interpreter'") != std::string::npos, m);
  m = message("environments: [a, b]\n");
  BOOST_TEST(m.find("config.yml:1:15") != std::string::npos, m);
  m = message("environments:\n  e: [1]\n");
  BOOST_TEST(m.find("config.yml:2:6") != std::string::npos, m);
  m = message("environments:\n  e: {path: [x\n");
  BOOST_TEST(m.find("config.yml:") != std::string::npos, m);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(pipeline_graph)

BOOST_AUTO_TEST_CASE(steps_run_after_the_steps_they_bind) {
  auto jobs = json::parse(R"({
    "train": {"inputs": {"data": "${{parent.jobs.prep.outputs.clean}}",
                         "feats": {"path": "${{ parent.jobs.features.outputs.f }}"}}},
    "a_report": {"inputs": {"m": {"value": "${{parent.jobs.train.outputs.model}}"}}},
    "prep": {"inputs": {"raw": "${{parent.inputs.raw}}"}},
    "features": {"inputs": {"d": "${{parent.jobs.prep.outputs.clean}}"}},
    "z_lint": {}
  })");
  BOOST_TEST(step_deps(jobs["train"]) == (std::set<std::string>{"features", "prep"}));
  BOOST_TEST(step_deps(jobs["prep"]).empty());
  auto order = pipeline_order(jobs);
  BOOST_TEST(order == (std::vector<std::string>{"prep", "features", "train", "a_report", "z_lint"}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(cycles_unknown_steps_and_bad_names_are_refused) {
  auto message = [](const char* text) {
    try {
      pipeline_order(json::parse(text));
    } catch (const std::runtime_error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  BOOST_TEST(message(R"({"a": {"inputs": {"x": "${{parent.jobs.b.outputs.o}}"}},
                         "b": {"inputs": {"x": "${{parent.jobs.a.outputs.o}}"}}})")
                 .find("cycle") != std::string::npos);
  BOOST_TEST(message(R"({"a": {"inputs": {"x": "${{parent.jobs.a.outputs.o}}"}}})").find("cycle") != std::string::npos);
  BOOST_TEST(message(R"({"a": {"inputs": {"x": "${{parent.jobs.ghost.outputs.o}}"}}})").find("unknown step 'ghost'") !=
             std::string::npos);
  BOOST_TEST(message(R"({"..": {}})").find("not allowed") != std::string::npos);
  BOOST_TEST(message(R"({"a/b": {}})").find("not allowed") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(sweep_seed)

BOOST_AUTO_TEST_CASE(the_seed_decides_the_samples) {
  auto space = json::parse(R"({"lr":["uniform",[0,1]],"act":["choice",[["a","b","c","d"]]]})");
  auto a = sweep_trials(space, "Random", 20, 1);
  BOOST_TEST((a == sweep_trials(space, "random", 20, 1)));
  BOOST_TEST((a != sweep_trials(space, "Random", 20, 2)));
  // A shorter run is a prefix of a longer one with the same seed (count does not reshuffle).
  auto first = sweep_trials(space, "Random", 5, 1);
  BOOST_TEST((std::vector<Trial>(a.begin(), a.begin() + 5) == first));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(python_shims)

BOOST_AUTO_TEST_CASE(default_shims_point_at_python3_on_path) {
  files::TempDir dir("amlops-shims");
  fs::path host = dir.path() / "host";
  fs::create_directories(host);
  fs::create_symlink("/bin/true", host / "python3");
  fs::path shims = dir.path() / "shims";
  std::string path = job_path(shims, nullptr, host.string() + ":/usr/bin");
  BOOST_TEST(path == shims.string() + ":" + host.string() + ":/usr/bin");
  BOOST_TEST(fs::read_symlink(shims / "python") == host / "python3");
  BOOST_TEST(fs::read_symlink(shims / "python3") == host / "python3");
  for (const char* pip : {"pip", "pip3"}) {
    BOOST_TEST(::access((shims / pip).c_str(), X_OK) == 0);
    BOOST_TEST(files::read(shims / pip).find((host / "python3").string() + "' -m pip \"$@\"") != std::string::npos);
  }
  BOOST_TEST(find_in_path("python", path).value() == shims / "python");
  BOOST_TEST(!find_in_path("python", host.string()));
}

BOOST_AUTO_TEST_CASE(the_environment_mapping_decides) {
  files::TempDir dir("amlops-shims");
  fs::path shims = dir.path() / "shims";
  EnvironmentMapping mapped{"/opt/env/bin", "/opt/py/bin/python3.11"};
  BOOST_TEST(job_path(shims, &mapped, "/usr/bin") == shims.string() + ":/opt/env/bin:/usr/bin");
  BOOST_TEST(fs::read_symlink(shims / "python") == "/opt/py/bin/python3.11");
  BOOST_TEST(files::read(shims / "pip").find("/opt/py/bin/python3.11") != std::string::npos);
  // Only a prefix (a venv): its own python comes first, the shims follow for what it lacks.
  fs::path venv = dir.path() / "venv";
  fs::create_directories(venv);
  fs::create_symlink("/bin/true", venv / "python3");
  EnvironmentMapping prefix_only{venv.string(), ""};
  BOOST_TEST(job_path(shims, &prefix_only, "/usr/bin") == venv.string() + ":" + shims.string() + ":/usr/bin");
  BOOST_TEST(fs::read_symlink(shims / "python") == venv / "python3");
  // No python3 anywhere: no shims, PATH unchanged.
  fs::path none = dir.path() / "none";
  fs::path empty = dir.path() / "empty";
  fs::create_directories(empty);
  BOOST_TEST(job_path(none, nullptr, empty.string()) == empty.string());
  BOOST_TEST(!fs::exists(none));
}

BOOST_AUTO_TEST_SUITE_END()
