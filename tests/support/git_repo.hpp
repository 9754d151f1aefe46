// Test helper: runs the git CLI in a repository a test builds (fixed identity, no signing, main
// as the default branch), failing the test with git's message when a command fails.
#pragma once
#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <string>
#include <vector>

#include "core/process.hpp"

namespace amlops::testing {

inline void run_git(const std::filesystem::path& dir, std::vector<std::string> args) {
  std::vector<std::string> argv = {"git",
                                   "-C",
                                   dir.string(),
                                   "-c",
                                   "user.name=T",
                                   "-c",
                                   "user.email=t@example.com",
                                   "-c",
                                   "init.defaultBranch=main",
                                   "-c",
                                   "commit.gpgsign=false"};
  argv.insert(argv.end(), args.begin(), args.end());
  auto r = process::run_capture(argv);
  BOOST_REQUIRE_MESSAGE(r.exit_code == 0, "git " << args.front() << ": " << r.err);
}

}  // namespace amlops::testing
