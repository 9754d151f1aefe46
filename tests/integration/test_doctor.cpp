// `amlops doctor` on each CI host: GitHub writes well-formed output and summary files, Azure
// Pipelines gets ##vso commands, and no secret is ever printed.
#include <boost/test/unit_test.hpp>

#include "core/files.hpp"
#include "core/process.hpp"
#include "core/strings.hpp"

using namespace amlops;

namespace {
const std::string kBin = std::string(AMLOPS_BIN_DIR) + "/amlops";

// PATH is an empty folder: no `az` (the Azure CLI credential) whatever this machine has installed.
std::map<std::string, std::string> base_env(const std::filesystem::path& home) {
  std::filesystem::create_directories(home / "empty-bin");
  return {{"PATH", (home / "empty-bin").string()}, {"HOME", home.string()}};
}

// Parses $GITHUB_OUTPUT's heredoc entries the way the runner does.
std::map<std::string, std::string> parse_outputs(const std::string& text) {
  std::map<std::string, std::string> out;
  auto lines = str::split(text, '\n');
  for (size_t i = 0; i < lines.size(); ++i) {
    auto pos = lines[i].find("<<");
    if (pos == std::string::npos) continue;
    std::string name = lines[i].substr(0, pos), delim = lines[i].substr(pos + 2);
    BOOST_REQUIRE(!name.empty() && !delim.empty());
    std::vector<std::string> value;
    size_t j = i + 1;
    for (; j < lines.size() && lines[j] != delim; ++j) value.push_back(lines[j]);
    BOOST_REQUIRE_MESSAGE(j < lines.size(), "matching delimiter not found for " << name);
    out[name] = str::join(value, "\n");
    i = j;
  }
  return out;
}
}  // namespace

BOOST_AUTO_TEST_SUITE(doctor)

BOOST_AUTO_TEST_CASE(github_actions_outputs_and_summary) {
  files::TempDir dir;
  auto env = base_env(dir.path());
  env["GITHUB_ACTIONS"] = "true";
  env["GITHUB_OUTPUT"] = (dir.path() / "output").string();
  env["GITHUB_STEP_SUMMARY"] = (dir.path() / "summary.md").string();
  env["GITHUB_SHA"] = "0123456789abcdef0123456789abcdef01234567";
  env["GITHUB_REPOSITORY"] = "acme/churn";
  env["GITHUB_RUN_ID"] = "99";
  env["AZURE_CLIENT_ID"] = "11111111-2222-3333-4444-555555555555";
  env["AZURE_TENANT_ID"] = "tenant-1";
  env["AZURE_CLIENT_SECRET"] = "very-secret-value-123";
  process::SpawnOptions opts;
  opts.env = env;
  opts.cwd = dir.path();
  auto r = process::run_capture({kBin, "doctor"}, opts);
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.err);
  auto outputs = parse_outputs(files::read(dir.path() / "output"));
  BOOST_TEST(outputs["host"] == "github");
  BOOST_TEST(outputs["credential"] == "client-secret");
  BOOST_TEST(outputs["commit"] == "0123456789abcdef0123456789abcdef01234567");
  std::string summary = files::read(dir.path() / "summary.md");
  // The section as amlops-report renders it: icon and title, the verdict, the table.
  BOOST_TEST(summary.find("### \u2139\uFE0F amlops doctor\n\n**amlops ") == 0, summary);
  BOOST_TEST(summary.find(" on github, credential client-secret**") != std::string::npos, summary);
  BOOST_TEST(summary.find("| CI host | github |") != std::string::npos);
  BOOST_TEST(r.out.find("https://github.com/acme/churn/actions/runs/99") != std::string::npos);
  for (const std::string& s : {r.out, r.err, summary, files::read(dir.path() / "output")}) {
    BOOST_TEST(s.find("very-secret-value-123") == std::string::npos);
  }
  BOOST_TEST(r.out.find("##vso[") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(azure_pipelines_prints_vso_commands) {
  files::TempDir dir;
  auto env = base_env(dir.path());
  env["TF_BUILD"] = "True";
  env["AGENT_TEMPDIRECTORY"] = dir.path().string();
  env["BUILD_SOURCEVERSION"] = "fedcba9876543210fedcba9876543210fedcba98";
  process::SpawnOptions opts;
  opts.env = env;
  opts.cwd = dir.path();
  auto r = process::run_capture({kBin, "doctor", "--output", "json"}, opts);
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.err);
  std::string all = r.out + r.err;
  BOOST_TEST(all.find("##vso[task.setvariable variable=host;isOutput=true]azure-pipelines") != std::string::npos);
  BOOST_TEST(all.find("##vso[task.setvariable variable=credential;isOutput=true]none") != std::string::npos);
  BOOST_TEST(all.find("##vso[task.setvariable variable=commit;isOutput=true]fedcba98") != std::string::npos);
  auto up = all.find("##vso[task.uploadsummary]");
  BOOST_REQUIRE(up != std::string::npos);
  std::string path = all.substr(up + 25, all.find('\n', up) - up - 25);
  BOOST_TEST(files::read(path).find("| CI host | azure-pipelines |") != std::string::npos);
  // stdout stays a clean JSON document: the commands went to stderr.
  BOOST_TEST(r.out.find("##vso") == std::string::npos);
  BOOST_TEST(r.out.front() == '{');
  BOOST_TEST(!std::filesystem::exists(dir.path() / "output"));
}

BOOST_AUTO_TEST_CASE(terminal_prints_no_host_commands) {
  files::TempDir dir;
  process::SpawnOptions opts;
  opts.env = base_env(dir.path());
  opts.cwd = dir.path();
  auto r = process::run_capture({kBin, "doctor"}, opts);
  BOOST_TEST(r.exit_code == 0);
  BOOST_TEST(r.out.find("CI host:      terminal") != std::string::npos);
  BOOST_TEST((r.out + r.err).find("::") == std::string::npos);
  BOOST_TEST((r.out + r.err).find("##vso") == std::string::npos);
  auto bad = process::run_capture({kBin, "doctor", "--bogus"}, opts);
  BOOST_TEST(bad.exit_code == 2);
  BOOST_TEST(bad.err.find("unrecognised option '--bogus'") != std::string::npos, bad.err);
}

BOOST_AUTO_TEST_SUITE_END()
