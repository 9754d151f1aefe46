// Pieces of amlops-lint on in-memory input (globs: tests/jobmodel/test_refs.cpp): argparse, notebooks, secrets,
// dependency pins, configuration errors, the SARIF writer.
#include <boost/test/unit_test.hpp>

#include "core/error.hpp"
#include "core/json.hpp"
#include "lint/internal.hpp"
#include "lint/lint.hpp"
#include "report/sarif.hpp"

using namespace amlops;
using namespace amlops::lint;

namespace {

std::vector<Finding> secrets(const std::string& text) {
  std::vector<Finding> out;
  detail::Sink sink{out, {}};
  detail::scan_secrets("f.txt", text, sink);
  return out;
}

std::string repeat_b64(size_t n, unsigned seed) {
  static const std::string a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string s;
  uint32_t x = seed;
  for (size_t i = 0; i < n; ++i) {
    x = x * 1103515245u + 12345u;
    s += a[(x >> 16) % a.size()];
  }
  return s;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(lint_units)

BOOST_AUTO_TEST_CASE(argparse_flags_multiline_required_and_abbreviations) {
  auto info = detail::scan_argparse(
      "import argparse\np = argparse.ArgumentParser()\n"
      "p.add_argument('-l', '--learning_rate', type=float)\n"
      "p.add_argument(\n    \"--data\",\n    required=True,\n    help='x (y)')\n"
      "p.add_argument('--max_depth', default=3)  # '--not-a-flag'\n"
      "args = p.parse_args()\n");
  BOOST_TEST(info.argparse);
  BOOST_TEST(!info.other_parser);
  BOOST_TEST(info.flags == (std::vector<std::string>{"-l", "--learning_rate", "--data", "--max_depth"}),
             boost::test_tools::per_element());
  BOOST_TEST(info.required == std::vector<std::string>{"--data"}, boost::test_tools::per_element());
  BOOST_TEST(info.accepts("--learning_rate"));
  BOOST_TEST(info.accepts("--learn"));  // argparse accepts unambiguous prefixes
  BOOST_TEST(!info.accepts("--learning_rte"));
  BOOST_TEST(info.known_args_line == 0);

  auto known = detail::scan_argparse(
      "import argparse\np=argparse.ArgumentParser(allow_abbrev=False)\n"
      "p.add_argument('--data')\na, rest = p.parse_known_args()\n");
  BOOST_TEST(known.known_args_line == 4);
  BOOST_TEST(!known.accepts("--dat"));

  // A parser handed to other code gets options this file does not show; a local helper is fine.
  BOOST_TEST(detail::scan_argparse("import argparse, deepspeed\nparser = argparse.ArgumentParser()\n"
                                   "parser.add_argument('--epochs')\nparser = deepspeed.add_config_arguments(parser)\n")
                 .other_parser);
  BOOST_TEST(!detail::scan_argparse("import argparse\ndef add_args(p):\n    p.add_argument('--x')\n"
                                    "parser = argparse.ArgumentParser()\nadd_args(parser)\nprint(parser)\n")
                  .other_parser);
  BOOST_TEST(detail::scan_argparse("import click\n@click.option('--x')\ndef main(x): pass\n").parses_arguments());
  BOOST_TEST(detail::scan_argparse("import sys\nlr = float(sys.argv[1])\n").parses_arguments());
  BOOST_TEST(!detail::scan_argparse("import pandas as pd\ndf = pd.read_csv('x.csv')\n").parses_arguments());
}

BOOST_AUTO_TEST_CASE(notebook_cells_map_to_raw_lines) {
  std::string nb =
      "{\n \"cells\": [\n  {\n   \"cell_type\": \"markdown\",\n   \"metadata\": {},\n   \"source\": [\"# Title\\n\", "
      "\"text\"]\n  },\n"                                                                  // lines 1-7
      "  {\n   \"cell_type\": \"code\",\n   \"metadata\": {},\n   \"outputs\": [],\n"      // 8-11
      "   \"source\": [\n    \"%pip install x\\n\",\n    \"p = '/home/ann/x.csv'\\n\",\n"  // 12-14
      "    \"print(p)\"\n   ]\n  }\n ],\n \"metadata\": {},\n \"nbformat\": 4,\n \"nbformat_minor\": 5\n}\n";
  auto code = detail::notebook_code(nb);
  BOOST_TEST_REQUIRE(code.has_value());
  BOOST_TEST(code->raw_line == (std::vector<int>{13, 14, 15}), boost::test_tools::per_element());
  std::vector<Finding> out;
  detail::Sink sink{out, {}};
  detail::Text raw(nb);
  detail::check_python_code("nb.ipynb", code->python, &code->raw_line, sink, &raw);
  BOOST_TEST_REQUIRE(out.size() == 1u);
  BOOST_TEST(out[0].rule == "CODE003");
  BOOST_TEST(out[0].line == 14);
  BOOST_TEST(out[0].col == 11);  // '/home/...' in the raw line `    "p = '/home/ann/x.csv'\n",`
  BOOST_TEST(!detail::notebook_code("not json").has_value());
}

BOOST_AUTO_TEST_CASE(secrets_are_found_redacted_and_azurite_is_allowed) {
  std::string key = repeat_b64(86, 7) + "==";
  auto f = secrets("conn = 'DefaultEndpointsProtocol=https;AccountName=a;AccountKey=" + key + "'\n");
  BOOST_TEST_REQUIRE(f.size() == 1u);
  BOOST_TEST(f[0].rule == "SEC001");
  BOOST_TEST(f[0].message.find(key) == std::string::npos);
  BOOST_TEST(f[0].message.find(key.substr(0, 12)) == std::string::npos);
  BOOST_TEST(f[0].col == 65);  // the value, after "AccountKey="

  std::string azurite =
      std::string("Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq") + "/K1SZFPTOtr/KBHBeksoGMGw==";
  BOOST_TEST(secrets("AccountName=devstoreaccount1;AccountKey=" + azurite + ";").empty());

  BOOST_TEST(
      secrets("url = 'https://a.blob.core.windows.net/c?sv=2022-11-02&sig=" + repeat_b64(44, 3) + "%3D'")[0].rule ==
      "SEC002");
  BOOST_TEST(secrets("s = \"Xy_8Q~" + std::string("aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3z") + "\"")[0].rule == "SEC003");
  BOOST_TEST(secrets(std::string("-----BEGIN RSA ") + "PRIVATE KEY-----\nMIIE\n")[0].rule == "SEC004");
  BOOST_TEST(secrets(std::string("aws = 'AKIA") + "Q3EGRZ7XJ2LMPWTN'")[0].rule == "SEC005");
  BOOST_TEST(secrets("token = 'hf_" + std::string("abcdefghijklmnopqrstuvwxyzABCDEFGH") + "'")[0].rule == "SEC005");
  BOOST_TEST(secrets("AZURE_CLIENT_SECRET = \"" + std::string("kL2mN4pQ6rS8tU0vW2xY4zA6bC8dE0fG2h") + "\"")[0].rule ==
             "SEC003");
  BOOST_TEST(secrets("client_secret: ${{ secrets.AZURE_CLIENT_SECRET }}").empty());
  BOOST_TEST(secrets("AZURE_OPENAI_API_KEY=" + std::string("3f9a0c2b7d4e4f1a9b8c6d5e2f1a0b9c"))[0].rule == "SEC005");
  // Placeholders and ordinary text are not secrets.
  BOOST_TEST(secrets("AccountKey=" + std::string(86, 'x') + "==").empty());
  BOOST_TEST(secrets("the key to success is sig=nothing").empty());
  BOOST_TEST(redact_value("abcdefghijklmnopqrstuvwxyz") == "abcd…(26 chars)");
}

struct PinCase {
  const char* line;
  bool unpinned;
};

BOOST_AUTO_TEST_CASE(requirement_pins_table) {
  const PinCase cases[] = {
      {"numpy==1.26.4", false},
      {"numpy", true},
      {"numpy>=1.2", true},
      {"numpy==1.*", true},
      {"# comment", false},
      {"-r base.txt", false},
      {"--index-url https://x", false},
      {"pkg @ git+https://github.com/a/b@3f2a9c1d", false},
      {"git+https://github.com/a/b@main#egg=b", true},
      {"numpy==1.26.4 ; python_version < '3.12'", false},
      {"./local/pkg", false},
      {"torch===2.3.0", false},
  };
  for (auto& c : cases) {
    std::vector<Finding> out;
    detail::Sink sink{out, {}};
    detail::check_requirements("requirements.txt", c.line, sink);
    BOOST_TEST_CONTEXT(c.line) { BOOST_TEST(out.empty() != c.unpinned); }
  }
}

BOOST_AUTO_TEST_CASE(unpinned_dependency_messages_never_show_url_credentials) {
  // A VCS requirement with a token in the URL (Azure DevOps PATs have no pattern of their own):
  // the REPO003/REPO004 message names the dependency without the credentials.
  const std::string pat = "s3cr3tAzureDevOpsPATvalue1234567890abcdefgh";
  std::vector<Finding> out;
  detail::Sink sink{out, {}};
  detail::check_requirements("requirements.txt",
                             "git+https://oauth2:" + pat +
                                 "@dev.azure.com/org/p/_git/pkg\n"
                                 "mypkg @ git+https://user:" +
                                 pat + "@github.com/org/mypkg.git\n",
                             sink);
  YAML::Node conda = YAML::Load("dependencies:\n  - pip:\n    - git+https://x:" + pat + "@github.com/o/r.git\n");
  detail::check_conda("env.yml", conda, sink);
  BOOST_REQUIRE_EQUAL(out.size(), 3u);
  for (auto& f : out) {
    BOOST_TEST_CONTEXT(f.message) {
      BOOST_TEST(f.message.find(pat) == std::string::npos);
      const bool names_host =
          f.message.find("github.com") != std::string::npos || f.message.find("dev.azure.com") != std::string::npos;
      BOOST_TEST(names_host);
    }
  }
}

struct RefCase {
  const char* uses;
  bool moving;
};

BOOST_AUTO_TEST_CASE(workflow_refs_table) {
  const RefCase cases[] = {
      {"actions/checkout@v4", false},
      {"actions/checkout@v4.1.7", false},
      {"actions/checkout@692973e3d937129bcbf40652eb9f2f61becf3332", false},
      {"actions/checkout@main", true},
      {"org/repo/.github/workflows/train.yml@master", true},
      {"dtolnay/rust-toolchain@stable", true},
      {"actions/checkout", true},
      {"./.github/actions/local", false},
      {"docker://alpine:3.20", false},
  };
  for (auto& c : cases) {
    std::string yaml =
        std::string("on: push\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    steps:\n      - uses: ") + c.uses + "\n";
    std::vector<Finding> out;
    detail::Sink sink{out, {}};
    YAML::Node root = YAML::Load(yaml);
    detail::Text text(yaml);
    BOOST_TEST(detail::check_github_workflow(".github/workflows/w.yml", root, text, sink));
    BOOST_TEST_CONTEXT(c.uses) {
      BOOST_TEST(out.size() == (c.moving ? 1u : 0u));
      if (!out.empty()) BOOST_TEST(out[0].line == 6);
    }
  }
}

BOOST_AUTO_TEST_CASE(config_errors_name_file_line_and_column) {
  Config c = parse_config(
      "lint:\n  disable: [AML004]\n  ignore:\n    - path: legacy/**\n      rules: [CODE003]\n"
      "  severity:\n    REPO001: error\n  max_file_size: 2MB\n  history: false\n",
      "amlops.yml");
  BOOST_TEST(c.disabled.count("AML004") == 1u);
  BOOST_TEST(c.ignore.size() == 1u);
  BOOST_TEST((c.severity.at("REPO001") == Level::error));
  BOOST_TEST(c.max_file_size == 2u * 1024 * 1024);
  BOOST_TEST(c.history.value() == false);
  BOOST_TEST(parse_config("other: 1\n", "amlops.yml").disabled.empty());

  auto fails = [](const std::string& yaml, const std::string& where) {
    try {
      parse_config(yaml, "amlops.yml");
    } catch (const ConfigError& e) {
      BOOST_TEST_CONTEXT(yaml) { BOOST_TEST(std::string(e.what()).find(where) != std::string::npos, e.what()); }
      return;
    }
    BOOST_ERROR("no error for " << yaml);
  };
  fails("lint:\n  disable: [NOPE01]\n", "amlops.yml:2:");
  fails("lint:\n  severity:\n    AML001: fatal\n", "amlops.yml:3:13");
  fails("lint:\n  max_file_size: lots\n", "amlops.yml:2:18");
  fails("lint:\n  unknown_key: 1\n", "amlops.yml:2:3");
  fails("lint: [\n", "amlops.yml:");
}

BOOST_AUTO_TEST_CASE(every_rule_has_id_description_and_help) {
  std::set<std::string> ids;
  for (auto& r : rules()) {
    BOOST_TEST(ids.insert(std::string(r.id)).second);
    BOOST_TEST(!r.description.empty());
    BOOST_TEST(r.help.size() > 20u);
    BOOST_TEST(find_rule(r.id) == &r);
  }
  BOOST_TEST(find_rule("NOPE") == nullptr);
}

BOOST_AUTO_TEST_CASE(sarif_has_what_code_scanning_requires) {
  report::sarif::Run run;
  run.tool_name = "amlops-lint";
  run.tool_version = "0.1.0";
  run.source_root = report::sarif::directory_uri("/w/repo dir");
  run.rules.push_back({"PIPE003",
                       "retired-runner-image",
                       "Retired image",
                       "",
                       "Use ubuntu-24.04",
                       "",
                       "error",
                       {"ml"},
                       "high",
                       {},
                       ""});
  report::sarif::Result res;
  res.rule_id = "PIPE003";
  res.message = "runner image 'ubuntu-20.04' is retired";
  res.uri = ".github/workflows/train.yml";
  res.region = {7, 14, 0, 26};
  res.partial_fingerprints["primaryLocationLineHash"] = "0123456789abcdef:1";
  res.fixes.push_back({"use ubuntu-24.04", res.uri, {{{7, 14, 7, 26}, "ubuntu-24.04"}}});
  run.results.push_back(res);
  auto doc = json::parse(report::sarif::write(run));
  BOOST_TEST(json::get_string(doc, "/version") == "2.1.0");
  BOOST_TEST(json::get_string(doc, "/runs/0/tool/driver/rules/0/help/text") == "Use ubuntu-24.04");
  BOOST_TEST(json::get_string(doc, "/runs/0/tool/driver/rules/0/fullDescription/text") == "Retired image");
  BOOST_TEST(json::get_string(doc, "/runs/0/results/0/locations/0/physicalLocation/artifactLocation/uri") ==
             ".github/workflows/train.yml");
  BOOST_TEST(json::get_int(doc, "/runs/0/results/0/locations/0/physicalLocation/region/startLine") == 7);
  BOOST_TEST(json::get_string(doc, "/runs/0/results/0/partialFingerprints/primaryLocationLineHash") ==
             "0123456789abcdef:1");
  BOOST_TEST(json::get_string(doc, "/runs/0/results/0/fixes/0/artifactChanges/0/replacements/0/insertedContent/text") ==
             "ubuntu-24.04");
  BOOST_TEST(json::get_string(doc, "/runs/0/originalUriBaseIds/%SRCROOT%/uri") == "file:///w/repo%20dir/");
  res.rule_id = "NOPE";
  run.results.push_back(res);
  BOOST_CHECK_THROW(report::sarif::write(run), std::invalid_argument);
}

// Notes about the run (history a clone does not have) go to the invocation, not to the results.
BOOST_AUTO_TEST_CASE(sarif_notifications_go_to_the_invocation) {
  report::sarif::Run run;
  run.tool_name = "amlops-lint";
  auto doc = json::parse(report::sarif::write(run));
  BOOST_TEST(!json::find(doc, "/runs/0/invocations"));  // none: no invocation written
  run.notifications.push_back({"history-shallow", "note", "history: shallow clone: scanned the 1 commit it has"});
  doc = json::parse(report::sarif::write(run));
  BOOST_TEST(json::get_bool(doc, "/runs/0/invocations/0/executionSuccessful"));
  BOOST_TEST(json::get_string(doc, "/runs/0/invocations/0/toolExecutionNotifications/0/descriptor/id") ==
             "history-shallow");
  BOOST_TEST(json::get_string(doc, "/runs/0/invocations/0/toolExecutionNotifications/0/level") == "note");
  BOOST_TEST(json::get_string(doc, "/runs/0/invocations/0/toolExecutionNotifications/0/message/text") ==
             "history: shallow clone: scanned the 1 commit it has");
  BOOST_TEST(json::find(doc, "/runs/0/results")->Size() == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
