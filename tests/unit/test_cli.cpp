// Shared command-line conventions: precedence of flags, CI inputs and AMLOPS_* variables.
#include <boost/test/unit_test.hpp>
#include <cstdlib>
#include <sstream>

#include "cli/cli.hpp"
#include "cli/completion.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "core/redact.hpp"
#include "core/strings.hpp"

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

struct DistanceCase {
  const char* a;
  const char* b;
  size_t distance;
};

BOOST_AUTO_TEST_CASE(edit_distance_table) {
  const DistanceCase cases[] = {
      {"", "", 0},    {"submit", "submit", 0}, {"submt", "submit", 1},  {"sumbit", "submit", 1},  // transposition
      {"", "job", 3}, {"jb", "job", 1},        {"cancle", "cancel", 1}, {"kitten", "sitting", 3}, {"logs", "show", 4},
  };
  for (auto& c : cases) {
    BOOST_TEST_CONTEXT(c.a << " / " << c.b) {
      BOOST_TEST(str::edit_distance(c.a, c.b) == c.distance);
      BOOST_TEST(str::edit_distance(c.b, c.a) == c.distance);
    }
  }
}

struct SuggestCase {
  const char* typed;
  const char* suggestion;  // nullptr: none
};

BOOST_AUTO_TEST_CASE(did_you_mean_table) {
  const std::vector<std::string> names = {"submit", "wait", "logs", "metrics", "show", "cancel"};
  const SuggestCase cases[] = {
      {"submt", "submit"},  {"sumbit", "submit"}, {"SUBMIT", "submit"},  {"sub", "submit"},  // unique prefix
      {"cancle", "cancel"}, {"wiat", "wait"},     {"metric", "metrics"}, {"s", nullptr},     // prefix of two
      {"deploy", nullptr},  {"xyz", nullptr},     {"", nullptr},
  };
  for (auto& c : cases) {
    BOOST_TEST_CONTEXT("'" << c.typed << "'") {
      auto got = cli::did_you_mean(c.typed, names);
      BOOST_TEST(got.has_value() == (c.suggestion != nullptr));
      if (got && c.suggestion) BOOST_TEST(*got == c.suggestion);
    }
  }
}

BOOST_AUTO_TEST_CASE(unknown_command_suggests_and_help_cmd_is_cmd_help) {
  Fixture f;
  auto ctx = f.make({});
  std::vector<cli::Subcommand> cmds = {{"submit", "submits", [](Context& c, const std::vector<std::string>& a) {
                                          cli::Command cmd(c, "submit", "Submits a job.", "-f FILE");
                                          cmd.options()("file,f", cli::po::value<std::string>(), "the job YAML");
                                          if (!cmd.parse(a)) return 0;
                                          return 7;
                                        }}};
  try {
    cli::dispatch(ctx, "tool", cmds, {"submt"});
    BOOST_FAIL("no error");
  } catch (const UsageError& e) {
    BOOST_TEST(std::string(e.what()) == "unknown command 'submt'; did you mean 'submit'?");
    BOOST_TEST((describe_error(e).code == ExitCode::usage));
  }
  try {
    cli::dispatch(ctx, "tool", cmds, {"deploy"});
    BOOST_FAIL("no error");
  } catch (const UsageError& e) {
    BOOST_TEST(std::string(e.what()) == "unknown command 'deploy' (commands: submit)");
  }
  // A mistyped option gets a suggestion too.
  try {
    cli::dispatch(ctx, "tool", cmds, {"submit", "--flie", "x"});
    BOOST_FAIL("no error");
  } catch (const UsageError& e) {
    BOOST_TEST(std::string(e.what()).find("did you mean '--file'?") != std::string::npos, e.what());
  }
  BOOST_TEST(cli::dispatch(ctx, "tool", cmds, {"submit", "-f", "x"}) == 7);
  // `help submit` prints what `submit --help` prints, exit codes included.
  BOOST_TEST(cli::dispatch(ctx, "tool", cmds, {"submit", "--help"}) == 0);
  std::string direct = f.out.str();
  f.out.str("");
  BOOST_TEST(cli::dispatch(ctx, "tool", cmds, {"help", "submit"}) == 0);
  BOOST_TEST(f.out.str() == direct);
  for (const char* code : {"Exit codes:", "  0    success", "  1    the checked thing failed", "  2    usage",
                           "  3    timed out", "  4    service or network error", "  130  interrupted"})
    BOOST_TEST(direct.find(code) != std::string::npos, code);
  f.out.str("");
  BOOST_TEST(cli::dispatch(ctx, "tool", cmds, {"--help"}) == 0);
  BOOST_TEST(f.out.str().find("  130  interrupted") != std::string::npos);
  BOOST_CHECK_THROW(cli::dispatch(ctx, "tool", cmds, {"help", "submt"}), UsageError);
}

BOOST_AUTO_TEST_CASE(repeated_verbose_counts) {
  Fixture f;
  auto ctx = f.make({});
  struct Case {
    std::vector<std::string> args;
    int count;
    log::Level level;
  };
  const Case cases[] = {
      {{}, 0, log::Level::info},
      {{"-v"}, 1, log::Level::debug},
      {{"-v", "-v"}, 2, log::Level::trace},
      {{"-vv"}, 2, log::Level::trace},
      {{"--verbose", "-v", "-v"}, 3, log::Level::trace},
      {{"-v", "-q"}, 1, log::Level::error},  // --quiet wins
  };
  for (auto& c : cases) {
    BOOST_TEST_CONTEXT(str::join(c.args, " ")) {
      log::set_level(log::Level::info);
      cli::Command cmd(ctx, "x", "x");
      BOOST_REQUIRE(cmd.parse(c.args));
      BOOST_TEST(cmd.get<int>("verbose") == c.count);
      BOOST_TEST((log::level() == c.level));
    }
  }
  log::set_level(log::Level::info);
  // From the environment: a count or a boolean.
  ScopedEnv scoped(std::map<std::string, std::string>{{"AMLOPS_VERBOSE", "2"}});
  cli::Command env_cmd(ctx, "x", "x");
  BOOST_REQUIRE(env_cmd.parse({}));
  BOOST_TEST(env_cmd.get<int>("verbose") == 2);
  log::set_level(log::Level::info);
}

BOOST_AUTO_TEST_CASE(describe_and_completion_scripts) {
  Fixture f;
  auto ctx = f.make({});
  auto sub = [](Context& c, const std::vector<std::string>& a) {
    cli::Command cmd(c, "submit", "Submits.");
    cmd.options()("file,f", cli::po::value<std::string>(), "the job YAML")("wait", cli::po::bool_switch(), "wait");
    if (!cmd.parse(a)) return 0;
    throw std::runtime_error("must not run while describing");
  };
  auto job = [&](Context& c, const std::vector<std::string>& a) {
    return cli::dispatch(c, "jobs", {{"submit", "submit a job", sub}, {"show", "show a job", sub}}, a);
  };
  auto root = [&](Context& c, const std::vector<std::string>& a) {
    return cli::dispatch(c, "umbrella", {{"job", "jobs", job}}, a);
  };
  cli::CommandSpec spec = cli::describe(ctx, "amlops", root);
  BOOST_TEST(ctx.describing == nullptr);
  BOOST_TEST(f.out.str().empty());
  BOOST_TEST_REQUIRE(spec.commands.size() == 1u);
  BOOST_TEST(spec.commands[0].name == "job");
  BOOST_TEST_REQUIRE(spec.commands[0].commands.size() == 2u);
  const cli::CommandSpec& submit = spec.commands[0].commands[0];
  BOOST_TEST(submit.name == "submit");
  BOOST_TEST(submit.summary == "submit a job");
  bool file = false, output = false;
  for (auto& o : submit.options) {
    if (o.long_name == "file") file = o.short_name == "f" && o.takes_value;
    if (o.long_name == "output") output = o.short_name == "o" && o.takes_value;
    if (o.long_name == "wait") BOOST_TEST(!o.takes_value);
  }
  BOOST_TEST(file);
  BOOST_TEST(output);
  std::string bash = cli::completion_script(spec, {"job"}, "bash");
  BOOST_TEST(bash.find("'job') echo 'submit show help' ;;") != std::string::npos, bash);
  BOOST_TEST(bash.find("'job submit') echo '--help -h --output -o --verbose -v --quiet -q --file -f --wait' ;;") !=
             std::string::npos);
  BOOST_TEST(bash.find("complete -o filenames -F _amlops amlops amlops-job") != std::string::npos);
  std::string zsh = cli::completion_script(spec, {"job"}, "zsh");
  BOOST_TEST(zsh.find("#compdef amlops amlops-job") == 0);
  BOOST_TEST(zsh.find("'submit:submit a job'") != std::string::npos);
  BOOST_CHECK_THROW(cli::completion_script(spec, {}, "fish"), UsageError);
}

namespace {
// Entries for tool_main (plain functions, as a binary's main passes).
std::string g_seen_tool;
bool g_prog_visible = true;
int record_tool(Context& c, const std::vector<std::string>&) {
  g_seen_tool = c.tool;
  g_prog_visible = std::getenv(kProgEnv) != nullptr;
  return 7;
}
int run_entry(Context& c, const std::vector<std::string>& a) {
  cli::Command cmd(c, "run", "Runs.");
  cmd.options()("file,f", cli::po::value<std::string>(), "input file")("dry-run", cli::po::bool_switch(), "plan only");
  if (!cmd.parse(a)) return 0;
  throw std::runtime_error("must not run while describing");
}
int tree_entry(Context& c, const std::vector<std::string>& a) {
  return cli::dispatch(c, "a tool", {{"run", "run it", run_entry}}, a);
}
bool message_has(const ConfigError& e, const std::string& part) {
  return std::string(e.what()).find(part) != std::string::npos;
}
}  // namespace

// `amlops x ...` execs amlops-x with AMLOPS_PROG="amlops x": usage and messages name "amlops x", and
// the variable is gone from the environment the tool's children inherit.
BOOST_AUTO_TEST_CASE(tool_main_takes_the_program_name_from_the_umbrella_and_drops_it) {
  char a0[] = "amlops-x";
  char* argv[] = {a0, nullptr};
  ::setenv(kProgEnv, "amlops x", 1);
  int rc = tool_main("amlops-x", 1, argv, record_tool);
  BOOST_TEST(rc == 7);
  BOOST_TEST(g_seen_tool == "amlops x");
  BOOST_TEST(!g_prog_visible);
  BOOST_TEST(std::getenv(kProgEnv) == nullptr);
  tool_main("amlops-x", 1, argv, record_tool);
  BOOST_TEST(g_seen_tool == "amlops-x");
  redact::clear_for_tests();  // tool_main's host listener dies with it
}

// The umbrella's completion describes each tool across processes: `amlops-x --amlops-describe`
// prints the tree that describe() collects in-process, and spec_from_json reads it back.
BOOST_AUTO_TEST_CASE(describe_protocol_round_trips_the_command_tree) {
  char a0[] = "amlops-x";
  char a1[] = "--amlops-describe";
  char* argv[] = {a0, a1, nullptr};
  std::ostringstream printed;
  std::streambuf* saved = std::cout.rdbuf(printed.rdbuf());
  int rc = tool_main("amlops-x", 2, argv, tree_entry);
  std::cout.rdbuf(saved);
  redact::clear_for_tests();
  BOOST_TEST(rc == 0);
  cli::CommandSpec spec = cli::spec_from_json(printed.str(), "amlops-x --amlops-describe");
  Fixture f;
  auto ctx = f.make({});
  cli::CommandSpec direct = cli::describe(ctx, "amlops-x", tree_entry);
  BOOST_TEST(cli::spec_to_json(spec) == cli::spec_to_json(direct));
  BOOST_TEST(spec.name == "amlops-x");
  BOOST_TEST(spec.summary == "a tool");
  BOOST_TEST_REQUIRE(spec.commands.size() == 1u);
  BOOST_TEST(spec.commands[0].name == "run");
  BOOST_TEST(spec.commands[0].summary == "run it");
  bool file = false, dry_run = false;
  for (auto& o : spec.commands[0].options) {
    if (o.long_name == "file") file = o.short_name == "f" && o.takes_value && o.help == "input file";
    if (o.long_name == "dry-run") dry_run = o.short_name.empty() && !o.takes_value;
  }
  BOOST_TEST(file);
  BOOST_TEST(dry_run);
  BOOST_TEST(cli::completion_script(spec, {"x"}, "bash") == cli::completion_script(direct, {"x"}, "bash"));

  // Anything else is a ConfigError naming the source and where.
  BOOST_CHECK_EXCEPTION(cli::spec_from_json("usage: ...", "amlops-x --amlops-describe"), ConfigError,
                        [](const ConfigError& e) { return message_has(e, "amlops-x --amlops-describe:1:"); });
  BOOST_CHECK_EXCEPTION(cli::spec_from_json(R"({"name": "x"})", "src"), ConfigError,
                        [](const ConfigError& e) { return message_has(e, "not an amlops describe document"); });
  BOOST_CHECK_EXCEPTION(
      cli::spec_from_json(R"({"amlops_describe": 1, "name": "x", "commands": [{"name": "a", "options": {}}]})", "src"),
      ConfigError, [](const ConfigError& e) { return message_has(e, "/commands/0/options: expected an array"); });
  BOOST_CHECK_EXCEPTION(
      cli::spec_from_json(R"({"amlops_describe": 1, "name": "x", "commands": [{"summary": "s"}]})", "src"), ConfigError,
      [](const ConfigError& e) { return message_has(e, "/commands/0/name"); });
}

BOOST_AUTO_TEST_SUITE_END()

// Results printed by emit() carry text from repositories and jobs: on a CI host none of it may
// act as a workflow command, and JSON stays a clean document.
BOOST_AUTO_TEST_CASE(emit_results_never_drive_the_ci_host) {
  const std::string hostile = "::add-mask::x\n  ::error file=a.py::boom\nsee ##vso[task.setvariable variable=X]evil\n";
  json::Document doc(rapidjson::kObjectType);
  json::Builder b(doc.GetAllocator());
  b.set(doc, "message", hostile);
  {  // GitHub, text: the hostile lines sit between stop-commands and its resume marker.
    Fixture f;
    auto ctx = f.make({{"GITHUB_ACTIONS", "true"}});
    ctx.emit(doc, [&](std::ostream& os) { os << hostile; });
    auto lines = str::split(f.out.str(), '\n');
    BOOST_REQUIRE(lines.size() >= 5);
    BOOST_TEST(lines[0].rfind("::stop-commands::", 0) == 0);
    std::string token = lines[0].substr(std::string("::stop-commands::").size());
    BOOST_TEST(token.size() == 32u);
    BOOST_TEST(lines[4] == "::" + token + "::");
    BOOST_TEST(f.out.str().find(hostile) != std::string::npos);
  }
  {  // GitHub, JSON: unchanged (no line of pretty JSON starts with "::").
    Fixture f;
    auto ctx = f.make({{"GITHUB_ACTIONS", "true"}});
    ctx.format = OutputFormat::json;
    ctx.emit(doc, [&](std::ostream& os) { os << hostile; });
    BOOST_TEST(f.out.str().find("stop-commands") == std::string::npos);
    json::Document back = json::parse(f.out.str());
    BOOST_TEST(json::opt_string(back, "/message").value_or("") == hostile);
  }
  {  // Azure Pipelines, text and JSON: no "##vso[" survives.
    for (auto fmt : {OutputFormat::text, OutputFormat::json}) {
      Fixture f;
      auto ctx = f.make({{"TF_BUILD", "True"}});
      ctx.format = fmt;
      ctx.emit(doc, [&](std::ostream& os) { os << hostile; });
      BOOST_TEST(f.out.str().find("##vso[") == std::string::npos);
      BOOST_TEST(f.out.str().find("vso[task.setvariable") != std::string::npos);
    }
  }
  {  // Terminal: as written.
    Fixture f;
    auto ctx = f.make({});
    ctx.emit(doc, [&](std::ostream& os) { os << hostile; });
    BOOST_TEST(f.out.str() == hostile);
  }
}
