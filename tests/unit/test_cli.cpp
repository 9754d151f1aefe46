// Shared command-line conventions: precedence of flags, CI inputs and AMLOPS_* variables.
#include <boost/test/unit_test.hpp>
#include <cstdlib>
#include <sstream>

#include "core/error.hpp"
#include "tools/common/cli.hpp"

using namespace amlops;

namespace {
struct Fixture {
  MapEnv env;
  std::ostringstream out, err, cmds;
  std::unique_ptr<ci::Host> host;
  Context make(const std::map<std::string, std::string>& vars) {
    env = MapEnv(vars);
    host = ci::detect(env, cmds);
    return Context{env, *host, system_clock(), out, err, "amlops-test"};
  }
};
// parse_environment reads the real process environment: set and clear around each case.
struct ScopedEnv {
  std::vector<std::string> names;
  explicit ScopedEnv(const std::map<std::string, std::string>& vars) {
    for (auto& [k, v] : vars) {
      ::setenv(k.c_str(), v.c_str(), 1);
      names.push_back(k);
    }
  }
  ~ScopedEnv() {
    for (auto& n : names) ::unsetenv(n.c_str());
  }
};
}  // namespace

BOOST_AUTO_TEST_SUITE(cli_conventions)

BOOST_AUTO_TEST_CASE(precedence_flag_input_env) {
  std::map<std::string, std::string> vars = {{"GITHUB_ACTIONS", "true"},
                                             {"INPUT_FAIL-ON", "warning"},
                                             {"AMLOPS_FAIL_ON", "never"},
                                             {"AMLOPS_CONFIG", "from-env.yml"}};
  ScopedEnv scoped(vars);
  Fixture f;
  auto ctx = f.make(vars);
  auto make_cmd = [&] {
    auto c = std::make_unique<cli::Command>(ctx, "check", "test");
    c->options()("fail-on", cli::po::value<std::string>()->default_value("error"), "")(
        "config", cli::po::value<std::string>()->default_value("amlops.yml"), "");
    return c;
  };
  auto c1 = make_cmd();
  BOOST_REQUIRE(c1->parse({"--fail-on", "error"}));
  BOOST_TEST(c1->str("fail-on") == "error");        // flag wins
  BOOST_TEST(c1->str("config") == "from-env.yml");  // AMLOPS_CONFIG
  auto c2 = make_cmd();
  BOOST_REQUIRE(c2->parse({}));
  BOOST_TEST(c2->str("fail-on") == "warning");  // CI input beats AMLOPS_*
}

BOOST_AUTO_TEST_CASE(terminal_ignores_inputs_and_defaults_apply) {
  std::map<std::string, std::string> vars = {{"INPUT_FAIL-ON", "warning"}};
  ScopedEnv scoped(vars);
  Fixture f;
  auto ctx = f.make(vars);
  cli::Command c(ctx, "check", "test");
  c.options()("fail-on", cli::po::value<std::string>()->default_value("error"), "");
  BOOST_REQUIRE(c.parse({}));
  BOOST_TEST(c.str("fail-on") == "error");
}

BOOST_AUTO_TEST_CASE(output_format_help_and_errors) {
  Fixture f;
  auto ctx = f.make({});
  cli::Command c(ctx, "show", "Shows a job.", "NAME");
  c.options()("name", cli::po::value<std::string>(), "job name");
  c.positional("name");
  BOOST_REQUIRE(c.parse({"job-1", "--output", "json"}));
  BOOST_TEST(c.str("name") == "job-1");
  BOOST_TEST((ctx.format == OutputFormat::json));
  cli::Command h(ctx, "show", "Shows a job.", "NAME");
  BOOST_TEST(!h.parse({"--help"}));
  BOOST_TEST(f.out.str().find("Usage: amlops-test show NAME [options]") != std::string::npos);
  cli::Command bad(ctx, "show", "x");
  BOOST_CHECK_THROW(bad.parse({"--nope"}), UsageError);
  cli::Command badfmt(ctx, "show", "x");
  BOOST_CHECK_THROW(badfmt.parse({"--output", "yaml"}), UsageError);
}

BOOST_AUTO_TEST_CASE(dispatch_commands) {
  Fixture f;
  auto ctx = f.make({});
  int ran = 0;
  std::vector<cli::Subcommand> cmds = {{"run", "runs", [&](Context&, const std::vector<std::string>& a) {
                                          ran = static_cast<int>(a.size());
                                          return 0;
                                        }}};
  BOOST_TEST(cli::dispatch(ctx, "tool", cmds, {"run", "x", "y"}) == 0);
  BOOST_TEST(ran == 2);
  BOOST_CHECK_THROW(cli::dispatch(ctx, "tool", cmds, {"walk"}), UsageError);
  BOOST_CHECK_THROW(cli::dispatch(ctx, "tool", cmds, {}), UsageError);
  BOOST_TEST(cli::dispatch(ctx, "tool", cmds, {"--version"}) == 0);
  BOOST_TEST(f.out.str().find("amlops-test 0.") == 0);
  BOOST_CHECK_THROW(cli::key_values({"a=1", "b"}, "tag"), UsageError);
  BOOST_TEST(cli::key_values({"a=1=2"}, "tag")[0].second == "1=2");
}

BOOST_AUTO_TEST_SUITE_END()
