// YAML documents are untrusted input: bounded in size and alias expansion, linear to build,
// and a parse or a read from a FIFO ends with exit 130 on SIGINT.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <chrono>
#include <csignal>
#include <string>
#include <thread>

#include "core/error.hpp"
#include "core/files.hpp"
#include "core/signals.hpp"
#include "core/strings.hpp"
#include "core/yaml.hpp"

using namespace amlops;

namespace {

std::string config_error(const std::string& text, const yaml::LoadOptions& opts = {}) {
  try {
    (void)yaml::load_string(text, "f.yml", opts);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(no error)";
}

// "Billion laughs": 9 levels of 10 aliases each, 10^9 nodes once expanded.
std::string alias_bomb() {
  std::string t = "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n";
  for (int i = 1; i <= 9; ++i) {
    std::string p = "*a" + std::to_string(i - 1);
    t += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [" + p;
    for (int k = 1; k < 10; ++k) t += ", " + p;
    t += "]\n";
  }
  return t;
}

// Runs fn in a child process and returns its exit status (or -signal), killing it after 20 s
// so that a regression hangs no test run.
template <typename Fn>
int in_child(Fn fn) {
  pid_t pid = ::fork();
  if (pid == 0) {
    int code = 0;
    try {
      fn();
    } catch (const std::exception& e) {
      code = static_cast<int>(describe_error(e).code);
    }
    ::_exit(code);
  }
  return pid;
}

int wait_bounded(pid_t pid) {
  int status = 0;
  for (int i = 0; i < 2000; ++i) {
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ::kill(pid, SIGKILL);
  ::waitpid(pid, &status, 0);
  return -1000;  // hung
}

}  // namespace

BOOST_AUTO_TEST_SUITE(yaml_limits)

BOOST_AUTO_TEST_CASE(alias_bomb_fails_with_location) {
  std::string msg = config_error(alias_bomb());
  BOOST_TEST(msg.find("f.yml:") == 0u, msg);
  BOOST_TEST(msg.find("aliases expand this document by more than 1000000 nodes") != std::string::npos, msg);
}

BOOST_AUTO_TEST_CASE(modest_aliases_are_fine) {
  auto d = yaml::load_string("base: &b {image: x, conda: y}\ndev: *b\nprod: *b\n", "f.yml");
  BOOST_TEST(d.root["prod"]["image"].Scalar() == "x");
}

BOOST_AUTO_TEST_CASE(recursive_alias_is_an_error) {
  std::string msg = config_error("a: &x\n  - *x\n");
  BOOST_TEST(msg.find("f.yml:2:5") == 0u, msg);
  BOOST_TEST(msg.find("refers to a node that contains it") != std::string::npos, msg);
}

BOOST_AUTO_TEST_CASE(document_size_is_capped) {
  yaml::LoadOptions o;
  o.max_bytes = 1000;
  std::string msg = config_error("k: " + std::string(2000, 'x') + "\n", o);
  BOOST_TEST(msg.find("larger than 1000 bytes") != std::string::npos, msg);
  BOOST_TEST(yaml::kMaxDocumentBytes == 16u * 1024 * 1024);
  files::TempDir dir;
  files::write_atomic(dir.path() / "big.yml", "k: " + std::string(2000, 'x') + "\n");
  try {
    (void)yaml::load_file(dir.path() / "big.yml", o);
    BOOST_FAIL("no error");
  } catch (const ConfigError& e) {
    BOOST_TEST(std::string(e.what()).find("larger than 1000 bytes") != std::string::npos, e.what());
  }
}

BOOST_AUTO_TEST_CASE(duplicate_keys_when_asked) {
  yaml::LoadOptions o;
  o.unique_keys = true;
  std::string msg = config_error("a: 1\nb:\n  c: 1\n  c: 2\n", o);
  BOOST_TEST(msg.find("f.yml:4:3") == 0u, msg);
  BOOST_TEST(msg.find("duplicate key 'c'") != std::string::npos, msg);
  BOOST_TEST(config_error("a: 1\nb: {a: 1}\n", o) == "(no error)");
}

BOOST_AUTO_TEST_CASE(unclosed_quote_is_a_syntax_error) {
  std::string msg = config_error("command: \"python train.py\nenvironment: azureml:e:1\n");
  BOOST_TEST(msg.find("f.yml:1:10") == 0u, msg);
  BOOST_TEST(msg.find("YAML syntax error") != std::string::npos, msg);
  BOOST_TEST(config_error("a: 'it''s'\nb: \"q \\\" q\"\nc: \"multi\n  line\"\n") == "(no error)");
}

BOOST_AUTO_TEST_CASE(forty_thousand_keys_parse) {
  std::string t = "tags:\n";
  for (int i = 0; i < 40000; ++i) t += "  k" + std::to_string(i) + ": v" + std::to_string(i) + "\n";
  yaml::LoadOptions o;
  o.unique_keys = true;
  auto d = yaml::load_string(t, "f.yml", o);
  BOOST_TEST(d.root["tags"].size() == 40000u);
  BOOST_TEST(d.root["tags"]["k39999"].Scalar() == "v39999");
}

BOOST_AUTO_TEST_CASE(sigint_during_parse_exits_130) {
  std::string big;
  for (int i = 0; i < 100000; ++i) big += "k" + std::to_string(i) + ": v\n";
  pid_t pid = in_child([&] {
    signals::install();
    ::raise(SIGINT);  // arrives before the parse: the parse must honour it
    (void)yaml::load_string(big, "big.yml");
  });
  BOOST_TEST(wait_bounded(pid) == 130);
}

BOOST_AUTO_TEST_CASE(sigint_while_reading_a_fifo_exits_130) {
  files::TempDir dir;
  auto fifo = dir.path() / "job.yml";
  BOOST_TEST_REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  int p[2];
  BOOST_TEST_REQUIRE(::pipe(p) == 0);
  pid_t pid = in_child([&] {
    signals::install();
    char c = 'r';
    if (::write(p[1], &c, 1) != 1) ::_exit(99);
    (void)yaml::load_file(fifo);  // no writer ever opens the FIFO
  });
  char c = 0;
  BOOST_TEST_REQUIRE(::read(p[0], &c, 1) == 1);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  ::kill(pid, SIGINT);
  BOOST_TEST(wait_bounded(pid) == 130);
  ::close(p[0]);
  ::close(p[1]);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_CASE(did_you_mean) {
  BOOST_TEST(str::edit_distance("jbos", "jobs") == 1u);
  BOOST_TEST(str::edit_distance("limts", "limits") == 1u);
  BOOST_TEST(str::edit_distance("", "abc") == 3u);
  BOOST_TEST(str::closest("enviroment", {"environment", "environment_variables"}) == "environment");
  BOOST_TEST(str::closest("xyz", {"environment", "code"}).empty());
}
