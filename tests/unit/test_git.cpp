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

// The clones CI makes, from a file:// URL: what the walk reads, what it counts as missing, and
// that it never fetches (the source stays reachable, so a fetch would succeed and show).
BOOST_AUTO_TEST_CASE(history_walk_on_partial_and_shallow_clones) {
  files::TempDir dir;
  auto src = dir.path() / "src";
  std::filesystem::create_directories(src);
  run_git(src, {"init", "-q"});
  for (int i = 0; i < 4; ++i) {
    files::write_atomic(src / "train.py", "print(" + std::to_string(i) + ")\n");
    files::write_atomic(src / ("f" + std::to_string(i) + ".txt"), "file " + std::to_string(i) + "\n");
    run_git(src, {"add", "."});
    run_git(src, {"commit", "-qm", "c" + std::to_string(i)});
  }
  run_git(src, {"config", "uploadpack.allowFilter", "true"});
  std::string url = "file://" + src.string();
  auto walk = [](const std::filesystem::path& root, size_t max_commits, size_t& present, size_t& missing) {
    present = missing = 0;
    git::HistoryOptions o;
    o.max_commits = max_commits;
    return git::Repo::open(root).walk_history(
        [&](const git::HistoryBlob& b) {
          if (!b.available) {
            ++missing;
            BOOST_TEST(b.size == 0u);
            return;
          }
          ++present;
          BOOST_TEST(b.load().size() == b.size);
        },
        o);
  };
  size_t present = 0, missing = 0;

  // Full: 4 commits, 8 distinct blobs (train.py x4, f0..f3), complete.
  auto cov = walk(src, 0, present, missing);
  BOOST_TEST(cov.commits == 4u);
  BOOST_TEST(present == 8u);
  BOOST_TEST(cov.complete());
  BOOST_TEST(!cov.shallow);
  BOOST_TEST(!cov.partial);
  cov = walk(src, 2, present, missing);
  BOOST_TEST(cov.commits == 2u);
  BOOST_TEST(cov.truncated);

  // Blobless: every commit walked; HEAD's 5 blobs (checked out) read, the 3 older train.py missing.
  run_git(dir.path(), {"clone", "-q", "--filter=blob:none", url, "blobless"});
  cov = walk(dir.path() / "blobless", 0, present, missing);
  BOOST_TEST(cov.partial);
  BOOST_TEST(cov.filter == "blob:none");
  BOOST_TEST(cov.commits == 4u);
  BOOST_TEST(present == 5u);
  BOOST_TEST(missing == 3u);
  BOOST_TEST(cov.missing_blobs == 3u);
  BOOST_TEST(!cov.complete());
  auto r = process::run_capture(
      {"git", "-C", (dir.path() / "blobless").string(), "rev-list", "--objects", "--all", "--missing=print"});
  BOOST_TEST(std::count(r.out.begin(), r.out.end(), '?') == 3);  // nothing fetched

  // Shallow, depth 2: two commits, the older one is the boundary and shows its whole tree.
  run_git(dir.path(), {"clone", "-q", "--depth", "2", url, "shallow"});
  cov = walk(dir.path() / "shallow", 0, present, missing);
  BOOST_TEST(cov.shallow);
  BOOST_TEST(cov.commits == 2u);
  BOOST_TEST(cov.boundary_commits == 1u);
  BOOST_TEST(present == 6u);  // c2's tree (train.py v2, f0..f2) + c3's train.py v3 and f3
  BOOST_TEST(missing == 0u);
  BOOST_TEST(!cov.complete());
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
