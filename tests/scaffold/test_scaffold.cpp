#define BOOST_TEST_MODULE scaffold
#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <set>

#include "core/error.hpp"
#include "core/files.hpp"
#include "scaffold/scaffold.hpp"

using namespace amlops;
using namespace amlops::scaffold;
namespace fs = std::filesystem;

BOOST_AUTO_TEST_CASE(names_are_filled_in_yaml_resource_names_only) {
  const std::string yml =
      "name: churn-endpoint\nmodel: azureml:churn:1\nlabel: churned\npath: train/churn.csv\nproject: churn\n";
  BOOST_TEST(fill_names("endpoints/x.yml", yml, "fraud") ==
             "name: fraud-endpoint\nmodel: azureml:fraud:1\nlabel: churned\npath: train/churn.csv\nproject: fraud\n");
  BOOST_TEST(fill_names("src/train.py", yml, "fraud") == yml);  // code and data keep their words
  BOOST_TEST(fill_names("a.yml", "xchurn churn_y churn", "fraud") == "xchurn churn_y fraud");
  BOOST_TEST(fill_names("a.yml", yml, "churn") == yml);
}

BOOST_AUTO_TEST_CASE(project_names_follow_azure_rules) {
  for (const char* ok : {"churn", "fraud-2", "abc"}) BOOST_CHECK_NO_THROW(validate_name(ok));
  for (const char* bad : {"ab", "Fraud", "2fraud", "fraud_x", "fraud-", "a-name-that-is-far-too-long-for-it"}) {
    BOOST_CHECK_THROW(validate_name(bad), UsageError);
  }
}

BOOST_AUTO_TEST_CASE(hosts_choose_their_ci_files) {
  BOOST_TEST((parse_host("azure-devops") == Host::azure_devops));
  BOOST_CHECK_THROW(parse_host("gitlab"), UsageError);
  BOOST_TEST(wanted(".github/workflows/pr.yml", Host::github));
  BOOST_TEST(!wanted(".github/workflows/pr.yml", Host::azure_devops));
  BOOST_TEST(!wanted(".azure-pipelines/pr.yml", Host::github));
  BOOST_TEST(wanted(".azure-pipelines/pr.yml", Host::both));
  BOOST_TEST(wanted("amlops.yml", Host::azure_devops));
}

BOOST_AUTO_TEST_CASE(the_starter_is_built_in_without_local_leftovers) {
  std::set<std::string> paths;
  for (const auto& f : starter_files()) {
    paths.insert(std::string(f.path));
    BOOST_TEST(f.path.find("__pycache__") == std::string_view::npos);
    BOOST_TEST(f.path.find("outputs/") == std::string_view::npos);
  }
  for (const char* p : {"amlops.yml", "README.md", ".gitignore", "src/train.py", "data/train/churn.csv",
                        ".github/workflows/pr.yml", ".azure-pipelines/pr.yml"}) {
    BOOST_TEST(paths.count(p) == 1, p);
  }
}

BOOST_AUTO_TEST_CASE(existing_files_are_kept_unless_forced) {
  files::TempDir tmp("scaffold");
  fs::path dir = tmp.path() / "repo";
  std::vector<EmbeddedFile> f = {{"a.yml", "model: churn\n"},
                                 {".github/w.yml", "x\n"},
                                 {".azure-pipelines/p.yml", "y\n"},
                                 {"src/b.py", "print('churn')\n"}};
  Options o;
  o.dir = dir;
  o.name = "fraud";
  o.host = Host::azure_devops;
  Result r = write_starter(o, f);
  BOOST_TEST(r.count(Action::wrote) == 3);
  BOOST_TEST(files::read(dir / "a.yml") == "model: fraud\n");
  BOOST_TEST(!fs::exists(dir / ".github"));
  BOOST_TEST(files::read(dir / "src/b.py") == "print('churn')\n");

  r = write_starter(o, f);  // again: nothing to do
  BOOST_TEST(r.count(Action::unchanged) == 3);

  files::write_atomic(dir / "a.yml", "mine\n");
  r = write_starter(o, f);
  BOOST_TEST(r.count(Action::kept) == 1);
  BOOST_TEST(files::read(dir / "a.yml") == "mine\n");

  o.force = true;
  r = write_starter(o, f);
  BOOST_TEST(r.count(Action::overwrote) == 1);
  BOOST_TEST(files::read(dir / "a.yml") == "model: fraud\n");

  o.host = Host::github;
  r = write_starter(o, f);
  BOOST_TEST(r.count(Action::wrote) == 1);
  BOOST_TEST(files::read(dir / ".github/w.yml") == "x\n");
}

BOOST_AUTO_TEST_CASE(a_file_where_the_folder_should_be_is_refused) {
  files::TempDir tmp("scaffold");
  files::write_atomic(tmp.path() / "file", "x");
  Options o;
  o.dir = tmp.path() / "file";
  BOOST_CHECK_THROW(write_starter(o, {{"a.yml", "x"}}), ConfigError);
}

BOOST_AUTO_TEST_CASE(next_steps_name_what_each_host_needs) {
  std::string gh = next_steps(Host::github, "fraud");
  BOOST_TEST(gh.find("repo:OWNER/REPO:environment:production") != std::string::npos);
  BOOST_TEST(gh.find("AMLOPS_WORKSPACE") != std::string::npos);
  BOOST_TEST(gh.find("service connections") == std::string::npos);
  std::string ado = next_steps(Host::azure_devops, "fraud");
  BOOST_TEST(ado.find("workload identity federation") != std::string::npos);
  BOOST_TEST(ado.find("fraud-endpoint") != std::string::npos);
}
