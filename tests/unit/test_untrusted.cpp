// Untrusted text through ci::UntrustedOutput must not run as a workflow command on either runner.
// The parsers below follow the runners' documented rules:
//   GitHub (actions/runner src/Runner.Common/ActionCommand.cs, src/Runner.Worker/ActionCommandManager.cs):
//     a line is split by ReadLine (\r, \n, \r\n); after trimming leading whitespace, "::name props::data"
//     with a registered name is a command (TryParseV2); otherwise the legacy "##[name props]data"
//     anywhere in the line (TryParse). "stop-commands" with data T stops all processing until a
//     command named T arrives.
//   Azure DevOps (azure-pipelines-agent Command.TryParse): "##vso[area.event props]data" anywhere in
//     a line; the log viewer renders "##[error]", "##[group]" etc. formatting commands.
#include <boost/test/unit_test.hpp>
#include <cctype>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "ci/format.hpp"
#include "ci/host.hpp"

using namespace amlops;
using namespace amlops::ci;

namespace {

std::vector<std::string> read_lines(const std::string& text) {
  std::vector<std::string> out;
  std::string cur;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '\r' || c == '\n') {
      out.push_back(cur);
      cur.clear();
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

struct Effect {
  std::string command;
  std::string data;
};

// The GitHub runner's view: commands that take effect (stop/resume markers excluded).
std::vector<Effect> github_effects(const std::string& log) {
  std::set<std::string> registered = {"error",    "warning",  "notice",      "debug",          "group",
                                      "endgroup", "add-mask", "set-output",  "set-env",        "save-state",
                                      "add-path", "echo",     "add-matcher", "remove-matcher", "stop-commands"};
  bool stopped = false;
  std::string token;
  std::vector<Effect> out;
  for (const std::string& raw : read_lines(log)) {
    std::string name, data;
    bool parsed = false;
    size_t start = 0;
    while (start < raw.size() && (raw[start] == ' ' || raw[start] == '\t')) ++start;
    std::string msg = raw.substr(start);
    if (msg.rfind("::", 0) == 0) {
      size_t end = msg.find("::", 2);
      if (end != std::string::npos) {
        std::string info = msg.substr(2, end - 2);
        name = info.substr(0, info.find(' '));
        data = msg.substr(end + 2);
        parsed = registered.count(lower(name)) > 0;
      }
    }
    if (!parsed) {
      size_t p = raw.find("##[");
      if (p != std::string::npos) {
        size_t rb = raw.find(']', p);
        if (rb != std::string::npos) {
          std::string info = raw.substr(p + 3, rb - p - 3);
          name = info.substr(0, info.find(' '));
          data = raw.substr(rb + 1);
          parsed = registered.count(lower(name)) > 0;
        }
      }
    }
    if (!parsed) continue;
    if (stopped) {
      if (!token.empty() && lower(name) == lower(token)) {
        registered.erase(lower(token));
        stopped = false;
        token.clear();
      }
      continue;
    }
    if (lower(name) == "stop-commands") {
      stopped = true;
      token = data;
      registered.insert(lower(token));
      continue;
    }
    out.push_back({lower(name), data});
  }
  return out;
}

// The Azure DevOps agent's and log viewer's view.
std::vector<Effect> azure_effects(const std::string& log) {
  std::vector<Effect> out;
  for (const std::string& line : read_lines(log)) {
    size_t p = line.find("##vso[");
    if (p != std::string::npos) {
      size_t rb = line.find(']', p);
      if (rb != std::string::npos) out.push_back({line.substr(p + 6, rb - p - 6), line.substr(rb + 1)});
      continue;
    }
    size_t q = line.find("##[");
    if (q != std::string::npos && line.find(']', q) != std::string::npos)
      out.push_back({line.substr(q + 3, line.find(']', q) - q - 3), line.substr(line.find(']', q) + 1)});
  }
  return out;
}

const std::vector<std::string> kHostile = {
    "::error file=x.py::boom",
    "::add-mask::x",
    "::set-output name=a::b",
    "##vso[task.setvariable variable=X]evil",
    "##[error]x",
    "  ::add-mask::indented",
    "\t::set-env name=PATH::/evil",
    " \t ##vso[task.complete result=Failed;]evil",
    "\t##[group]evil",
    "text before ##vso[task.setsecret]evil",
    "##[set-output name=legacy;]evil",
    "::stop-commands::nested",
    "::nested::",
    "line\r::add-mask::after-cr",
    "line\n##vso[task.prependpath]/evil",
    "::ERROR::upper",
    "##VSO[task.setvariable variable=Y]upper",
};

std::string run(Kind kind) {
  MapEnv env;
  std::ostringstream os;
  auto host = make_host(kind, env, os);
  {
    UntrustedOutput out(*host, os);
    for (auto& l : kHostile) out.line(l);
  }
  return os.str();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(ci_untrusted)

BOOST_AUTO_TEST_CASE(parsers_see_the_hostile_lines_as_commands_when_printed_plainly) {
  // The test's parsers are not blind: the same lines printed directly are commands.
  std::string plain;
  for (auto& l : kHostile) plain += l + "\n";
  BOOST_TEST(github_effects(plain).size() >= 8u);
  BOOST_TEST(azure_effects(plain).size() >= 7u);
}

BOOST_AUTO_TEST_CASE(github_runs_no_command_from_untrusted_text) {
  std::string log = run(Kind::github);
  BOOST_TEST(github_effects(log).empty(), log);
  // Every hostile line still reaches the log.
  for (auto& l : kHostile) BOOST_TEST(log.find(l) != std::string::npos, l);
}

BOOST_AUTO_TEST_CASE(github_token_is_fresh_and_unguessable) {
  std::string a = run(Kind::github), b = run(Kind::github);
  auto token = [](const std::string& log) {
    auto p = log.find("::stop-commands::");
    return log.substr(p + 17, log.find('\n', p) - p - 17);
  };
  BOOST_TEST(token(a).size() == 32u);
  BOOST_TEST(token(a) != token(b));
}

BOOST_AUTO_TEST_CASE(github_own_commands_inside_a_block_still_work) {
  MapEnv env;
  std::ostringstream os;
  auto host = make_host(Kind::github, env, os);
  {
    UntrustedOutput out(*host, os);
    out.line("::add-mask::from-the-job");
    host->mask("real-secret");
    out.line("::set-output name=a::b");
  }
  auto fx = github_effects(os.str());
  BOOST_TEST_REQUIRE(fx.size() == 1u, os.str());
  BOOST_TEST(fx[0].command == "add-mask");
  BOOST_TEST(fx[0].data == "real-secret");
  // And after the block, commands run again.
  host->mask("later");
  BOOST_TEST(github_effects(os.str()).size() == 2u);
}

BOOST_AUTO_TEST_CASE(azure_runs_no_command_from_untrusted_text) {
  std::string log = run(Kind::azure);
  BOOST_TEST(azure_effects(log).empty(), log);
  BOOST_TEST(log.find("task.setvariable variable=X]evil") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(azure_own_commands_inside_a_block_still_work) {
  MapEnv env;
  std::ostringstream os;
  auto host = make_host(Kind::azure, env, os);
  {
    UntrustedOutput out(*host, os);
    out.line("##vso[task.setsecret]from-the-job");
    host->mask("real-secret");
  }
  auto fx = azure_effects(os.str());
  BOOST_TEST_REQUIRE(fx.size() == 1u, os.str());
  BOOST_TEST(fx[0].data == "real-secret");
}

BOOST_AUTO_TEST_CASE(terminal_prints_unchanged) {
  std::string log = run(Kind::terminal);
  std::string plain;
  for (auto& l : kHostile) plain += l + "\n";
  BOOST_TEST(log == plain);
}

BOOST_AUTO_TEST_CASE(azure_neutralize_table) {
  BOOST_TEST(azure::neutralize("no commands ## here [x]") == "no commands ## here [x]");
  BOOST_TEST(azure::neutralize("##vso[x]") == "#\xE2\x80\x8B#vso[x]");
  BOOST_TEST(azure::neutralize("###[x]") == "##\xE2\x80\x8B#[x]");
  BOOST_TEST(azure::neutralize("##vs") == "##vs");
}

BOOST_AUTO_TEST_SUITE_END()
