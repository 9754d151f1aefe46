// core: errors and exit codes, YAML/JSON locations, durations, redaction, processes, files.
#include <boost/test/unit_test.hpp>
#include <csignal>
#include <thread>

#include "core/error.hpp"
#include "core/files.hpp"
#include "core/hash.hpp"
#include "core/json.hpp"
#include "core/log.hpp"
#include "core/process.hpp"
#include "core/redact.hpp"
#include "core/signals.hpp"
#include "core/strings.hpp"
#include "core/time.hpp"
#include "core/yaml.hpp"

using namespace amlops;
using namespace std::chrono_literals;

BOOST_AUTO_TEST_SUITE(core)

BOOST_AUTO_TEST_CASE(exit_codes) {
  struct Row {
    std::function<void()> thrower;
    int code;
    const char* prefix;
  };
  const Row rows[] = {
      {[] { throw UsageError("--name is required"); }, 2, "usage: --name is required"},
      {[] {
         throw ConfigError({"job.yml", 3, 5}, "bad");
       },
       2, "job.yml:3:5: bad"},
      {[] { throw HttpError(503, "GET x: HTTP 503", "ServiceUnavailable", "corr-1"); }, 4,
       "GET x: HTTP 503 (correlation id corr-1)"},
      {[] { throw HttpError(409, "PUT x: Conflict [correlation id corr-2]", "Conflict", "corr-2"); }, 4,
       "PUT x: Conflict [correlation id corr-2]"},  // not twice
      {[] { throw GitError("no repo"); }, 2, "git: no repo"},
      {[] { throw TimeoutError("job x after 2s"); }, 3, "timed out: job x after 2s"},
      {[] { throw InterruptedError(); }, 130, "interrupted"},
      {[] { throw CheckFailed("job x Failed"); }, 1, "job x Failed"},
      {[] { throw std::runtime_error("boom"); }, 4, "internal error: boom"},
  };
  for (auto& r : rows) {
    try {
      r.thrower();
      BOOST_FAIL("no throw");
    } catch (const std::exception& e) {
      auto rep = describe_error(e);
      BOOST_TEST(static_cast<int>(rep.code) == r.code);
      BOOST_TEST(rep.message == r.prefix);
    }
  }
}

BOOST_AUTO_TEST_CASE(yaml_syntax_errors_have_line_and_column) {
  try {
    yaml::load_string("a: 1\nb: [1, 2\nc: 3\n", "job.yml");
    BOOST_FAIL("no throw");
  } catch (const ConfigError& e) {
    BOOST_REQUIRE(e.location().has_value());
    BOOST_TEST(e.location()->file == "job.yml");
    BOOST_TEST(e.location()->line >= 2);
    BOOST_TEST(e.location()->col >= 1);
    BOOST_TEST(std::string(e.what()).rfind("job.yml:" + std::to_string(e.location()->line) + ":", 0) == 0);
  }
  try {
    yaml::load_string("key: value\n  bad indent: x\n", "f.yml");
    BOOST_FAIL("no throw");
  } catch (const ConfigError& e) {
    BOOST_TEST(e.location()->line == 2);
  }
}

BOOST_AUTO_TEST_CASE(yaml_node_locations) {
  auto doc = yaml::load_string("type: command\ninputs:\n  lr:\n    type: number\n    default: abc\n", "job.yml");
  auto lr = doc.root["inputs"]["lr"];
  BOOST_TEST(doc.at(lr["default"]).str() == "job.yml:5:14");
  try {
    (void)doc.opt_number(lr, "default");
    BOOST_FAIL("no throw");
  } catch (const ConfigError& e) {
    BOOST_TEST(std::string(e.what()) == "job.yml:5:14: 'default' must be a number, got 'abc'");
  }
  BOOST_TEST(doc.get_string(doc.root, "type") == "command");
  BOOST_CHECK_THROW((void)doc.get_string(doc.root, "code"), ConfigError);
}

BOOST_AUTO_TEST_CASE(json_errors_name_the_pointer) {
  auto d = json::parse(R"({"properties":{"status":"Running","n":3,"arr":[{"x":true}]}})", "job.json");
  BOOST_TEST(json::get_string(d, "/properties/status") == "Running");
  BOOST_TEST(json::get_int(d, "/properties/n") == 3);
  BOOST_TEST(json::get_bool(d, "/properties/arr/0/x") == true);
  try {
    (void)json::get_string(d, "/properties/n", "job.json");
    BOOST_FAIL("no throw");
  } catch (const ConfigError& e) {
    BOOST_TEST(std::string(e.what()) == "job.json: /properties/n: expected a string");
  }
  try {
    (void)json::get_string(d, "/properties/missing", "job.json");
    BOOST_FAIL("no throw");
  } catch (const ConfigError& e) {
    BOOST_TEST(std::string(e.what()) == "job.json: /properties/missing: missing (expected a string)");
  }
  try {
    json::parse("{\n  \"a\": 1,\n  \"b\" 2\n}", "x.json");
    BOOST_FAIL("no throw");
  } catch (const ConfigError& e) {
    BOOST_TEST(e.location()->line == 3);
    BOOST_TEST(e.location()->col == 7);
  }
}

BOOST_AUTO_TEST_CASE(json_numbers_below_the_double_range_are_refused) {
  // RapidJSON 1.1.0 reads out of bounds on these (found by fuzz_config); they must be errors.
  for (const char* bad :
       {"0.7777777777777777777e-330", "[1, 0.0000000000000000000000000000000000000000000000000000000000001e-300]",
        "{\"a\": 1e-400}"}) {
    BOOST_CHECK_THROW(json::parse(bad, "x.json"), ConfigError);
  }
  try {
    json::parse("{\n \"v\": 12e-999}", "m.json");
    BOOST_FAIL("no throw");
  } catch (const ConfigError& e) {
    BOOST_TEST(std::string(e.what()) == "m.json:2:7: JSON parse error: number below the range of a double (12e-999)");
  }
  // Ordinary and extreme-but-valid numbers, and number-like text in strings, still parse.
  auto d =
      json::parse(R"({"a":[0.1,-2.5e-300,1e-320,1.7976931348623157e308,0,-0.0],"s":"1e-999","t":"\"0.1e-999"})", "ok");
  BOOST_TEST(json::get_number(d, "/a/0") == 0.1);
  BOOST_TEST(json::get_string(d, "/s") == "1e-999");
  BOOST_TEST(json::get_string(d, "/t") == "\"0.1e-999");
}

BOOST_AUTO_TEST_CASE(durations) {
  struct Row {
    const char* text;
    int64_t ms;
  };
  const Row rows[] = {{"90s", 90000}, {"15m", 900000},      {"2h", 7200000}, {"1h30m", 5400000},
                      {"500ms", 500}, {"1d", 86400000},     {"45", 45000},   {"PT1H30M", 5400000},
                      {"PT2S", 2000}, {"P1DT2H", 93600000}, {"PT0.5S", 500}, {"pt10m", 600000},
                      {" 2s ", 2000}, {"1.5h", 5400000}};
  for (auto& r : rows) BOOST_TEST(parse_duration(r.text).count() == r.ms, r.text);
  for (const char* bad : {"", "abc", "10x", "PT", "P1H", "s5", "1h-2m"}) {
    BOOST_CHECK_THROW(parse_duration(bad), ConfigError);
  }
  BOOST_TEST(iso8601_duration(5400000ms) == "PT1H30M");
  BOOST_TEST(iso8601_duration(2000ms) == "PT2S");
  BOOST_TEST(format_duration(3723000ms) == "1h02m03s");
  BOOST_TEST(format_duration(4200ms) == "4.2s");
}

BOOST_AUTO_TEST_CASE(timestamps) {
  auto t = parse_iso8601("2026-11-26T04:12:39.250Z");
  BOOST_TEST(iso8601_utc(t, true) == "2026-11-26T04:12:39.250Z");
  BOOST_TEST(iso8601_utc(parse_iso8601("2026-11-26T05:12:39+01:00")) == "2026-11-26T04:12:39Z");
  BOOST_TEST(http_date(parse_http_date("Thu, 26 Nov 2026 04:12:39 GMT")) == "Thu, 26 Nov 2026 04:12:39 GMT");
  BOOST_CHECK_THROW(parse_iso8601("yesterday"), ConfigError);
}

BOOST_AUTO_TEST_CASE(redaction) {
  redact::clear_for_tests();
  BOOST_TEST(redact::url("https://acct.blob.core.windows.net/c/b?sv=2021&sig=abc%2Fdef&se=x") ==
             "https://acct.blob.core.windows.net/c/b?sv=2021&sig=REDACTED&se=x");
  BOOST_TEST(redact::url("https://h/x?key=k1&code=c&a=1#frag") == "https://h/x?key=REDACTED&code=REDACTED&a=1#frag");
  BOOST_TEST(redact::url("https://user:pass@github.com/o/r.git") == "https://github.com/o/r.git");
  BOOST_TEST(redact::url("https://h/p") == "https://h/p");
  BOOST_TEST(redact::header("Authorization", "Bearer abc") == "REDACTED");
  BOOST_TEST(redact::header("x-ms-blob-type", "BlockBlob") == "BlockBlob");
  BOOST_TEST(redact::text("Authorization: Bearer eyJ0eXAi.abc.def") == "Authorization: Bearer REDACTED");
  BOOST_TEST(redact::text("DefaultEndpointsProtocol=https;AccountName=a;AccountKey=Zm9vYmFy==;EndpointSuffix=x") ==
             "DefaultEndpointsProtocol=https;AccountName=a;AccountKey=REDACTED;EndpointSuffix=x");
  BOOST_TEST(redact::text("PUT https://a/b?sv=1&sig=SECRET&x=2 -> 201") ==
             "PUT https://a/b?sv=1&sig=REDACTED&x=2 -> 201");
  std::vector<std::string> masked;
  redact::on_secret([&](const std::string& s) { masked.push_back(s); });
  redact::add_secret("tok-123456");
  redact::add_secret("tok-123456");  // once
  redact::add_secret("ab");          // too short to mask
  BOOST_TEST(masked.size() == 1u);
  BOOST_TEST(redact::secrets("token tok-123456 end") == "token *** end");
  // The logger never prints a registered secret.
  std::string captured;
  log::set_sink([&](log::Level, const std::string& m) { captured += m; });
  log::info("using tok-123456 now");
  log::reset_sink();
  BOOST_TEST(captured == "using *** now");
  redact::clear_for_tests();
}

BOOST_AUTO_TEST_CASE(spawn_passes_argv_without_a_shell) {
  auto r = process::run_capture({"/bin/echo", "a; rm -rf /", "$(id)", "'q'"});
  BOOST_TEST(r.exit_code == 0);
  BOOST_TEST(r.out == "a; rm -rf / $(id) 'q'\n");
  process::SpawnOptions shell_opts;
  shell_opts.use_shell = true;
  auto sh = process::run_capture({"echo $((1+2))"}, shell_opts);
  BOOST_TEST(sh.out == "3\n");
  auto fail = process::run_capture({"/bin/sh", "-c", "echo err >&2; exit 7"});
  BOOST_TEST(fail.exit_code == 7);
  BOOST_TEST(fail.err == "err\n");
  BOOST_CHECK_THROW(process::run_capture({"definitely-not-a-command-xyz"}), UsageError);
}

BOOST_AUTO_TEST_CASE(spawn_env_cwd_and_timeout_kill_tree) {
  files::TempDir dir;
  process::SpawnOptions opts;
  opts.cwd = dir.path();
  opts.env_add = {{"AMLOPS_T", "v1"}};
  auto r = process::run_capture({"/bin/sh", "-c", "pwd; echo $AMLOPS_T"}, opts);
  BOOST_TEST(r.out == dir.path().string() + "\nv1\n");
  // A grandchild in the same group dies with the tree on timeout.
  auto pidfile = dir.path() / "pid";
  auto t0 = std::chrono::steady_clock::now();
  auto slow = process::run_capture({"/bin/sh", "-c", "sleep 30 & echo $! > " + pidfile.string() + "; wait"}, {}, 300ms);
  BOOST_TEST(slow.timed_out);
  BOOST_TEST((std::chrono::steady_clock::now() - t0 < 10s));
  auto grandchild = std::stoi(files::read(pidfile));
  std::this_thread::sleep_for(100ms);
  // Gone, or a zombie waiting for init to reap it: either way no longer running.
  bool running = false;
  if (::kill(grandchild, 0) == 0) {
    std::string stat = files::read("/proc/" + std::to_string(grandchild) + "/stat");
    running = stat.find(") Z") == std::string::npos;
  }
  BOOST_TEST(!running);
}

BOOST_AUTO_TEST_CASE(signals_are_forwarded_to_child_groups) {
  signals::install();
  process::SpawnOptions opts;
  opts.forward_signals = true;
  auto child = process::spawn({"/bin/sleep", "30"}, opts);
  BOOST_TEST(!signals::interrupted());
  ::raise(SIGTERM);  // our handler records it and forwards it to the child's group
  BOOST_TEST(signals::interrupted());
  BOOST_TEST(signals::last_signal() == SIGTERM);
  BOOST_TEST(child.wait() == 128 + SIGTERM);
  BOOST_CHECK_THROW(signals::check(), InterruptedError);
  signals::reset_for_tests();
  BOOST_CHECK_NO_THROW(signals::check());
}

BOOST_AUTO_TEST_CASE(files_and_paths) {
  files::TempDir dir;
  auto p = dir.path() / "sub" / "f.txt";
  files::write_atomic(p, "one");
  files::write_atomic(p, "two");
  BOOST_TEST(files::read(p) == "two");
  BOOST_CHECK_THROW(files::read(dir.path() / "missing"), ConfigError);
  BOOST_TEST(files::is_within("/data/blobs", "a/b.txt"));
  BOOST_TEST(!files::is_within("/data/blobs", "../x"));
  BOOST_TEST(!files::is_within("/data/blobs", "a/../../x"));
  BOOST_TEST(!files::is_within("/data/blobs", "/etc/passwd"));
  BOOST_TEST(files::is_safe_relative("models/m/1"));
  BOOST_TEST(!files::is_safe_relative("../x"));
  BOOST_TEST(!files::is_safe_relative("a/../../x"));
  BOOST_TEST(!files::is_safe_relative("/abs"));
  BOOST_TEST(!files::is_safe_relative(""));
}

BOOST_AUTO_TEST_CASE(hashes_and_encodings) {
  BOOST_TEST(hash::sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  BOOST_TEST(hash::base64_encode("hello") == "aGVsbG8=");
  BOOST_TEST(hash::base64_decode("aGVsbG8=") == "hello");
  BOOST_TEST(hash::base64_decode("aGk=") == "hi");
  BOOST_TEST(hash::base64url_encode("\xfb\xff") == "-_8");
  BOOST_TEST(hash::base64url_decode("-_8") == "\xfb\xff");
  // RFC 4231 test case 2
  BOOST_TEST(hash::to_hex(hash::hmac_sha256("Jefe", "what do ya want for nothing?")) ==
             "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  BOOST_CHECK_THROW(hash::base64_decode("abc"), ConfigError);
}

BOOST_AUTO_TEST_CASE(strings) {
  BOOST_TEST(str::url_encode("a b/c~") == "a%20b%2Fc~");
  BOOST_TEST(str::url_decode("a%20b%2fc+d") == "a b/c+d");
  BOOST_TEST(str::url_decode("a+b", true) == "a b");
  BOOST_TEST(str::url_decode("100%") == "100%");
  BOOST_TEST(str::shell_quote("it's") == "'it'\\''s'");
  BOOST_TEST(str::parse_double("1e-3").value() == 1e-3);
  BOOST_TEST(!str::parse_double("1.2.3").has_value());
  BOOST_TEST(str::parse_int("-42").value() == -42);
  BOOST_TEST(!str::parse_int("42x").has_value());
}

BOOST_AUTO_TEST_SUITE_END()
