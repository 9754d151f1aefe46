// The pid, lock and background-start logic of amlops-local (local/daemon.hpp), with real processes.
#include "local/daemon.hpp"

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <csignal>

#include "core/error.hpp"
#include "core/files.hpp"
#include "core/process.hpp"

using namespace amlops;
using namespace amlops::local;
namespace fs = std::filesystem;

namespace {

json::Document info_doc(int64_t pid, const std::string& url = "http://127.0.0.1:1234") {
  json::Document d(rapidjson::kObjectType);
  json::Builder b(d.GetAllocator());
  b.set(d, "pid", pid);
  b.set(d, "port", static_cast<int64_t>(1234));
  b.set(d, "url", url);
  return d;
}

process::Child spawn_sh(const std::string& script) {
  process::SpawnOptions so;
  so.new_process_group = true;
  return process::spawn({"/bin/sh", "-c", script}, so);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(daemon_control)

BOOST_AUTO_TEST_CASE(server_json_is_read_only_when_complete_and_written_owner_only) {
  files::TempDir dir("amlops-daemon");
  BOOST_TEST(!read_server_info(dir.path()));
  files::write_atomic(dir.path() / "server.json", R"({"pid": 12, "port": 3)");  // torn write
  BOOST_TEST(!read_server_info(dir.path()));
  files::write_atomic(dir.path() / "server.json", R"({"pid": 12, "url": "http://x"})");  // no port
  BOOST_TEST(!read_server_info(dir.path()));
  write_server_info(dir.path(), info_doc(42));
  auto i = read_server_info(dir.path());
  BOOST_REQUIRE(i);
  BOOST_TEST(i->pid == 42);
  BOOST_TEST(i->port == 1234);
  BOOST_TEST(i->url == "http://127.0.0.1:1234");
  struct stat st {};
  BOOST_REQUIRE(::stat((dir.path() / "server.json").c_str(), &st) == 0);
  BOOST_TEST((st.st_mode & 0777) == 0600u);
  remove_server_info(dir.path());
  BOOST_TEST(!fs::exists(dir.path() / "server.json"));
}

BOOST_AUTO_TEST_CASE(urls_bracket_ipv6_and_name_loopback_for_wildcards) {
  BOOST_TEST(server_url("127.0.0.1", 80) == "http://127.0.0.1:80");
  BOOST_TEST(server_url("::1", 8080) == "http://[::1]:8080");
  BOOST_TEST(server_url("fe80::1", 1) == "http://[fe80::1]:1");
  BOOST_TEST(server_url("0.0.0.0", 5) == "http://127.0.0.1:5");
  BOOST_TEST(server_url("::", 5) == "http://[::1]:5");
}

BOOST_AUTO_TEST_CASE(process_alive_is_false_for_zombies_and_reaped_children) {
  BOOST_TEST(process_alive(::getpid()));
  BOOST_TEST(!process_alive(0));
  BOOST_TEST(!process_alive(-1));
  auto c = spawn_sh("exit 0");
  pid_t pid = c.pid();
  // Not reaped yet: a zombie is not alive. Wait for the exit without reaping.
  siginfo_t si{};
  BOOST_REQUIRE(::waitid(P_PID, static_cast<id_t>(pid), &si, WEXITED | WNOWAIT) == 0);
  BOOST_TEST(!process_alive(pid));
  c.wait();
  BOOST_TEST(!process_alive(pid));
}

BOOST_AUTO_TEST_CASE(the_lock_admits_one_server_per_data_directory) {
  files::TempDir dir("amlops-daemon");
  BOOST_TEST(!server_lock_held(dir.path()));
  {
    ServerLock lock(dir.path());
    BOOST_TEST(server_lock_held(dir.path()));
    write_server_info(dir.path(), info_doc(::getpid()));
    try {
      ServerLock second(dir.path());
      BOOST_FAIL("a second lock was granted");
    } catch (const UsageError& e) {
      BOOST_TEST(std::string(e.what()).find("already running") != std::string::npos);
      BOOST_TEST(std::string(e.what()).find("http://127.0.0.1:1234") != std::string::npos);
    }
    auto r = running_server(dir.path());
    BOOST_REQUIRE(r);
    BOOST_TEST(r->pid == ::getpid());
  }
  // Lock released: server.json alone (stale, naming a live process) is no running server.
  BOOST_TEST(!server_lock_held(dir.path()));
  BOOST_TEST(!running_server(dir.path()));
  ServerLock again(dir.path());
  BOOST_TEST(server_lock_held(dir.path()));
}

BOOST_AUTO_TEST_CASE(a_stale_pid_is_no_running_server) {
  files::TempDir dir("amlops-daemon");
  auto c = spawn_sh("exit 0");
  pid_t pid = c.pid();
  c.wait();
  ServerLock lock(dir.path());
  write_server_info(dir.path(), info_doc(pid));
  BOOST_TEST(!running_server(dir.path()));
  BOOST_TEST(!stop_server(dir.path(), std::chrono::seconds(1)));
}

BOOST_AUTO_TEST_CASE(stop_terms_then_kills) {
  files::TempDir dir("amlops-daemon");
  ServerLock lock(dir.path());
  auto polite = spawn_sh("exec sleep 60");
  write_server_info(dir.path(), info_doc(polite.pid()));
  auto r = stop_server(dir.path(), std::chrono::seconds(30));
  BOOST_REQUIRE(r);
  BOOST_TEST(r->info.pid == polite.pid());
  BOOST_TEST(!r->killed);
  BOOST_TEST(polite.wait() == 128 + SIGTERM);

  fs::path armed = dir.path() / "armed";
  auto stubborn = spawn_sh("trap '' TERM; touch " + armed.string() + "; while :; do sleep 1; done");
  while (!fs::exists(armed)) ::usleep(10000);  // SIGTERM must come after the trap
  write_server_info(dir.path(), info_doc(stubborn.pid()));
  r = stop_server(dir.path(), std::chrono::milliseconds(300));
  BOOST_REQUIRE(r);
  BOOST_TEST(r->killed);
  BOOST_TEST(stubborn.wait() == 128 + SIGKILL);
  stubborn.signal_tree(SIGKILL);  // its sleep
}

BOOST_AUTO_TEST_CASE(start_daemon_waits_for_its_child_and_reports_a_failed_start) {
  files::TempDir dir("amlops-daemon");
  std::string data = dir.path().string();
  try {
    start_daemon({"/bin/sh", "-c", "echo cannot bind the port >&2; exit 3"}, dir.path(),
                 [](const ServerInfo&) { return true; });
    BOOST_FAIL("a failed start was not reported");
  } catch (const UsageError& e) {
    std::string m = e.what();
    BOOST_TEST(m.find("exited with code 3") != std::string::npos);
    BOOST_TEST(m.find("cannot bind the port") != std::string::npos);
  }
  // A server.json of another pid is not taken for the new server; the child's own is.
  write_server_info(dir.path(), info_doc(1));
  int asked = 0;
  auto info = start_daemon({"/bin/sh", "-c",
                            "sleep 0.2; printf '{\"pid\": %s, \"port\": 7, \"url\": \"http://127.0.0.1:7\"}' $$ > " +
                                data + "/server.json; exec sleep 60"},
                           dir.path(), [&](const ServerInfo& i) { return ++asked >= 2 && i.port == 7; });
  BOOST_TEST(info.port == 7);
  BOOST_TEST(info.pid != 1);
  BOOST_TEST(asked == 2);
  BOOST_TEST(process_alive(info.pid));
  ::kill(static_cast<pid_t>(-info.pid), SIGKILL);
}

BOOST_AUTO_TEST_SUITE_END()
