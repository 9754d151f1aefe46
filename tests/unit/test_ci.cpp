// Both hosts' escaping, output files, input mangling and annotation formatting.
#include <boost/test/unit_test.hpp>
#include <sstream>

#include "ci/format.hpp"
#include "ci/host.hpp"
#include "core/files.hpp"
#include "core/redact.hpp"
#include "core/strings.hpp"

using namespace amlops;
using namespace amlops::ci;

BOOST_AUTO_TEST_SUITE(ci_format)

BOOST_AUTO_TEST_CASE(github_escaping) {
  struct Row {
    const char* in;
    const char* data;
    const char* prop;
  };
  const Row rows[] = {
      {"plain", "plain", "plain"},
      {"100%", "100%25", "100%25"},
      {"a\nb", "a%0Ab", "a%0Ab"},
      {"a\r\nb", "a%0D%0Ab", "a%0D%0Ab"},
      {"src/a.py:12,3", "src/a.py:12,3", "src/a.py%3A12%2C3"},
      {"%0A literal", "%250A literal", "%250A literal"},  // % first: no double meaning
      {"a;b]c", "a;b]c", "a;b]c"},
  };
  for (auto& r : rows) {
    BOOST_TEST(github::escape_data(r.in) == r.data, r.in);
    BOOST_TEST(github::escape_property(r.in) == r.prop, r.in);
  }
}

BOOST_AUTO_TEST_CASE(azure_escaping) {
  struct Row {
    const char* in;
    const char* data;
    const char* prop;
  };
  const Row rows[] = {
      {"plain", "plain", "plain"},        {"100%", "100%AZP25", "100%AZP25"}, {"a\nb", "a%0Ab", "a%0Ab"},
      {"a\r\nb", "a%0D%0Ab", "a%0D%0Ab"}, {"a;b]c", "a;b]c", "a%3Bb%5Dc"},    {"x:y,z", "x:y,z", "x:y,z"},
  };
  for (auto& r : rows) {
    BOOST_TEST(azure::escape_data(r.in) == r.data, r.in);
    BOOST_TEST(azure::escape_property(r.in) == r.prop, r.in);
  }
}

BOOST_AUTO_TEST_CASE(github_annotations) {
  Annotation a{Severity::error, "bad\nthing 50%", "src/train.py", 12, 3, 12, 20, "AML001", "AML001"};
  BOOST_TEST(github::annotation(a) ==
             "::error file=src/train.py,line=12,endLine=12,col=3,endColumn=20,title=AML001::bad%0Athing 50%25");
  // Columns are dropped across lines, and without a line (as the runner does).
  Annotation multi{Severity::warning, "m", "a.yml", 3, 2, 5, 4, "t,1", ""};
  BOOST_TEST(github::annotation(multi) == "::warning file=a.yml,line=3,endLine=5,title=t%2C1::m");
  Annotation noline{Severity::notice, "n", "a.yml", 0, 7, 0, 0, "", ""};
  BOOST_TEST(github::annotation(noline) == "::notice file=a.yml::n");
  Annotation backwards{Severity::error, "x", "f", 10, 0, 9, 0, "", ""};
  BOOST_TEST(github::annotation(backwards) == "::error file=f,line=10::x");
  Annotation huge{Severity::error, std::string(5000, 'x'), "", 0, 0, 0, 0, "", ""};
  BOOST_TEST(github::annotation(huge).size() == std::string("::error::").size() + 4096);
}

BOOST_AUTO_TEST_CASE(azure_logissue) {
  Annotation a{Severity::error, "bad; value]", "src/a b.py", 4, 2, 0, 0, "", "AML002"};
  BOOST_TEST(
      azure::logissue(a) ==
      "##vso[task.logissue type=error;sourcepath=src/a b.py;linenumber=4;columnnumber=2;code=AML002]bad; value]");
  Annotation n{Severity::notice, "note", "", 0, 0, 0, 0, "", ""};
  BOOST_TEST(azure::logissue(n) == "##vso[task.logissue type=warning]note");
  BOOST_TEST(azure::set_variable("status", "a\nb", true) ==
             "##vso[task.setvariable variable=status;isOutput=true]a%0Ab");
  BOOST_TEST(azure::set_secret("s3cr%t") == "##vso[task.setsecret]s3cr%AZP25t");
  BOOST_TEST(azure::complete("Failed", "job failed") == "##vso[task.complete result=Failed;]job failed");
}

BOOST_AUTO_TEST_CASE(github_output_entries) {
  BOOST_TEST(github::file_entry("name", "value", "ghadelimiter_X") == "name<<ghadelimiter_X\nvalue\nghadelimiter_X\n");
  BOOST_TEST(github::file_entry("m", "line1\nline2\n", "ghadelimiter_X") ==
             "m<<ghadelimiter_X\nline1\nline2\n\nghadelimiter_X\n");
  // A value that contains the delimiter gets another one.
  std::string e = github::file_entry("v", "x ghadelimiter_X y", "ghadelimiter_X");
  auto first_line = e.substr(0, e.find('\n'));
  BOOST_TEST(first_line != "v<<ghadelimiter_X");
  std::string delim = first_line.substr(3);
  BOOST_TEST(delim.rfind("ghadelimiter_", 0) == 0);
  BOOST_TEST(e == "v<<" + delim + "\nx ghadelimiter_X y\n" + delim + "\n");
  // Random delimiters differ between calls.
  BOOST_TEST(github::file_entry("a", "b") != github::file_entry("a", "b"));
}

BOOST_AUTO_TEST_CASE(input_names) {
  BOOST_TEST(input_env_name(Kind::github, "fail-on") == "INPUT_FAIL-ON");
  BOOST_TEST(input_env_name(Kind::github, "my input") == "INPUT_MY_INPUT");
  BOOST_TEST(input_env_name(Kind::github, "a.b") == "INPUT_A.B");
  BOOST_TEST(input_env_name(Kind::azure, "a.b") == "INPUT_A_B");
  BOOST_TEST(input_env_name(Kind::azure, "fail-on") == "INPUT_FAIL-ON");
  BOOST_TEST(input_env_name(Kind::azure, "my input") == "INPUT_MY_INPUT");
}

BOOST_AUTO_TEST_CASE(host_reads_inputs_with_both_spellings) {
  MapEnv env({{"GITHUB_ACTIONS", "true"}, {"INPUT_FAIL-ON", " warning "}, {"INPUT_OUTPUT_NAME", "model"}});
  std::ostringstream cmds;
  auto host = detect(env, cmds);
  BOOST_TEST(host->name() == "github");
  BOOST_TEST(host->input("fail-on").value() == "warning");
  BOOST_TEST(host->input("output-name").value() == "model");  // shells can only set INPUT_OUTPUT_NAME
  BOOST_TEST(!host->input("missing").has_value());
  MapEnv az({{"TF_BUILD", "True"}, {"INPUT_CONFIG_PATH", "x.yml"}});
  auto ahost = detect(az, cmds);
  BOOST_TEST(ahost->name() == "azure-pipelines");
  BOOST_TEST(ahost->input("config.path").value() == "x.yml");
  MapEnv term(std::map<std::string, std::string>{{"INPUT_FAIL-ON", "x"}});
  BOOST_TEST(!detect(term, cmds)->input("fail-on").has_value());
}

BOOST_AUTO_TEST_CASE(status_lines_only_on_an_interactive_terminal) {
  // A captured stream (a pipe, a CI log) never gets carriage-return redraws.
  std::ostringstream cmds;
  for (auto kind : {Kind::terminal, Kind::github, Kind::azure}) {
    MapEnv env(std::map<std::string, std::string>{{"AGENT_TEMPDIRECTORY", "/tmp"}});
    auto host = make_host(kind, env, cmds);
    host->status("job-1: Running 3.0s");
    host->status_clear();
  }
  BOOST_TEST(cmds.str().empty());
}

BOOST_AUTO_TEST_CASE(github_host_writes_files_and_caps_annotations) {
  files::TempDir dir;
  auto out = dir.path() / "output";
  auto summary = dir.path() / "summary";
  MapEnv env({{"GITHUB_ACTIONS", "true"},
              {"GITHUB_OUTPUT", out.string()},
              {"GITHUB_STEP_SUMMARY", summary.string()},
              {"GITHUB_REPOSITORY", "o/r"},
              {"GITHUB_RUN_ID", "42"}});
  std::ostringstream cmds;
  auto host = detect(env, cmds);
  host->set_output("status", "Completed");
  host->set_output("log", "a\nb");
  host->summary("# Title");
  host->summary("row");
  redact::add_secret("summary-secret-value");
  host->summary("uri https://a.blob/c/m?sv=1&sig=abcdef and summary-secret-value");
  redact::clear_for_tests();
  for (int i = 0; i < 12; ++i) host->annotate({Severity::error, "e" + std::to_string(i), "f", i + 1, 0, 0, 0, "", ""});
  host->annotate({Severity::warning, "w", "f", 1, 0, 0, 0, "", ""});
  host->mask("supersecret");
  std::string o = files::read(out);
  BOOST_TEST(o.find("status<<ghadelimiter_") == 0);
  BOOST_TEST(o.find("\nCompleted\nghadelimiter_") != std::string::npos);
  BOOST_TEST(o.find("\na\nb\nghadelimiter_") != std::string::npos);
  BOOST_TEST(files::read(summary) == "# Title\nrow\nuri https://a.blob/c/m?sv=1&sig=REDACTED and ***\n");
  std::string c = cmds.str();
  BOOST_TEST(c.find("::error file=f,line=10::e9") != std::string::npos);
  BOOST_TEST(c.find("e10") == std::string::npos);
  BOOST_TEST(c.find("::warning file=f,line=1::w") != std::string::npos);
  BOOST_TEST(c.find("::add-mask::supersecret") != std::string::npos);
  BOOST_TEST(host->annotations_dropped() == 2);
  BOOST_TEST(host->run_url().value() == "https://github.com/o/r/actions/runs/42");
}

BOOST_AUTO_TEST_SUITE_END()
