// git metadata on a repository the test creates with the git CLI.
#include <boost/test/unit_test.hpp>

#include "core/files.hpp"
#include "core/process.hpp"
#include "git/repo.hpp"
#include "support/git_repo.hpp"

using namespace amlops;

namespace {
using amlops::testing::run_git;
}  // namespace

BOOST_AUTO_TEST_SUITE(git_metadata)

BOOST_AUTO_TEST_CASE(head_branch_remote_dirty_and_history) {
  files::TempDir dir;
  auto root = dir.path();
  run_git(root, {"init", "-q"});
  BOOST_TEST(!git::Repo::open(root).head_commit().has_value());  // empty repository
  files::write_atomic(root / "train.py", "print('v1')\n");
  files::write_atomic(root / ".gitignore", "data/\n");
  run_git(root, {"add", "."});
  run_git(root, {"commit", "-qm", "first"});
  files::write_atomic(root / "train.py", "print('v2')\n");
  files::write_atomic(root / "big.bin", std::string(1000, 'x'));
  run_git(root, {"add", "."});
  run_git(root, {"commit", "-qm", "second"});
  run_git(root, {"remote", "add", "origin", "https://user:ghp_token123@github.com/acme/churn.git"});

  auto r = git::Repo::discover(root);
  BOOST_REQUIRE(r.has_value());
  auto head = r->head_commit();
  BOOST_REQUIRE(head.has_value());
  BOOST_TEST(head->size() == 40u);
  BOOST_TEST(r->branch().value() == "main");
  BOOST_TEST(r->head_ref() == "refs/heads/main");
  BOOST_TEST(r->remote_url().value() == "https://github.com/acme/churn.git");
  BOOST_TEST(git::repository_slug(*r->remote_url()).value() == "acme/churn");
  BOOST_TEST(!r->dirty());
  files::write_atomic(root / "data" / "x.csv", "a\n");  // ignored: still clean
  BOOST_TEST(!r->dirty());
  BOOST_TEST(r->ignored("data/x.csv"));
  files::write_atomic(root / "new.py", "x\n");
  BOOST_TEST(r->dirty());
  auto tracked = r->tracked_files();
  BOOST_TEST(tracked.size() == 3u);

  std::vector<std::string> seen;
  r->walk_history([&](const git::HistoryBlob& b) {
    seen.push_back(b.commit->summary + ":" + b.path + ":" + std::to_string(b.size));
    if (b.path == "train.py" && b.commit->summary == "first") BOOST_TEST(b.load() == "print('v1')\n");
  });
  // Newest first; each blob once: second adds train.py v2 and big.bin; first adds .gitignore, train.py v1.
  BOOST_TEST(seen.size() == 4u);
  BOOST_TEST(std::count(seen.begin(), seen.end(), "second:big.bin:1000") == 1);
  BOOST_TEST(std::count(seen.begin(), seen.end(), "first:train.py:12") == 1);

  MapEnv env(std::map<std::string, std::string>{{"GITHUB_SHA", "ignored-when-checkout-knows"}});
  auto p = git::provenance(env, root, std::string("https://ci/run/1"));
  BOOST_TEST(p.commit.value() == *head);
  BOOST_TEST(p.dirty);
  BOOST_TEST(p.repository.value() == "https://github.com/acme/churn.git");
  BOOST_TEST(p.run_url.value() == "https://ci/run/1");
}

BOOST_AUTO_TEST_CASE(provenance_from_ci_variables_outside_a_checkout) {
  files::TempDir dir;
  MapEnv env({{"GITHUB_SHA", "abc123"}, {"GITHUB_REF", "refs/pull/7/merge"}, {"GITHUB_REPOSITORY", "acme/churn"}});
  auto p = git::provenance(env, dir.path(), std::nullopt);
  BOOST_TEST(p.commit.value() == "abc123");
  BOOST_TEST(p.ref.value() == "refs/pull/7/merge");
  BOOST_TEST(p.repository.value() == "https://github.com/acme/churn");
}

BOOST_AUTO_TEST_SUITE_END()
